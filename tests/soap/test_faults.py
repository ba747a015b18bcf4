"""SoapFault: the env:Fault element, HTTP status and WS-Addressing fault action."""
import pytest
from lxml import etree

from soap import faults
from soap.faults import SoapFault
from soap.xml import SOAP12_NS, WSA_NS, XML_NS, parse_xml

from .support import fault_code, fault_reason, fault_subcode

ENV = f"{{{SOAP12_NS}}}"


def reparse(element):
    # Serialize and parse again, so prefixes must really be declared.
    return parse_xml(etree.tostring(element))


def test_sender_fault_element():
    fault = reparse(SoapFault("Sender", "bad input").to_element())
    assert fault.tag == ENV + "Fault"
    assert fault_code(fault) == "env:Sender"
    assert fault.find(f"{ENV}Code/{ENV}Subcode") is None
    text = fault.find(f"{ENV}Reason/{ENV}Text")
    assert text.text == "bad input" and text.get(f"{{{XML_NS}}}lang") == "en"
    assert fault.find(ENV + "Detail") is None


@pytest.mark.parametrize("subcode", [faults.ACTION_NOT_SUPPORTED, "wsa:ActionNotSupported"])
def test_subcode_prefix_is_declared(subcode):
    fault = reparse(SoapFault("Sender", "x", subcode=subcode).to_element())
    assert fault_subcode(fault) == f"{{{WSA_NS}}}ActionNotSupported"
    assert fault.find(f"{ENV}Code/{ENV}Subcode/{ENV}Value").text == "wsa:ActionNotSupported"


def test_foreign_namespace_subcode_and_chain():
    fault = SoapFault("Receiver", "x", subcode=["{urn:a}Outer", "{urn:b}Inner"])
    element = reparse(fault.to_element())
    outer = element.find(f"{ENV}Code/{ENV}Subcode/{ENV}Value")
    inner = element.find(f"{ENV}Code/{ENV}Subcode/{ENV}Subcode/{ENV}Value")
    assert outer.nsmap[outer.text.split(":")[0]] == "urn:a"
    assert inner.nsmap[inner.text.split(":")[0]] == "urn:b"
    assert SoapFault.from_element(element).subcodes == ("{urn:a}Outer", "{urn:b}Inner")


@pytest.mark.parametrize("code,status", [
    ("Sender", 400), ("Receiver", 500), ("MustUnderstand", 500), ("VersionMismatch", 500),
])
def test_http_status_follows_soap12_http_binding(code, status):
    assert SoapFault(code, "x").http_status == status


def test_fault_actions():
    assert SoapFault("Sender", "x").action == "http://www.w3.org/2005/08/addressing/soap/fault"
    wsa = SoapFault("Sender", "x", subcode=faults.MESSAGE_ADDRESSING_HEADER_REQUIRED)
    assert wsa.action == "http://www.w3.org/2005/08/addressing/fault"
    assert SoapFault("Sender", "x", subcode="{urn:x}Other").action.endswith("/soap/fault")


def test_invalid_code_and_unknown_prefix_are_programming_errors():
    with pytest.raises(ValueError):
        SoapFault("Client", "SOAP 1.1 code")
    with pytest.raises(ValueError):
        SoapFault("Sender", "x", subcode="foo:Bar")


def test_detail_is_copied_and_round_trips():
    detail = etree.Element("{urn:d}Info")
    detail.text = "why"
    fault = SoapFault("Sender", "with detail", subcode="wsa:InvalidAddressingHeader", detail=detail)
    first, second = fault.to_element(), fault.to_element()
    assert first.find(f"{ENV}Detail/{{urn:d}}Info").text == "why"
    assert second.find(f"{ENV}Detail/{{urn:d}}Info").text == "why"
    back = SoapFault.from_element(reparse(first))
    assert back.code == "Sender" and back.reason == "with detail"
    assert back.subcode == faults.INVALID_ADDRESSING_HEADER
    assert back.detail[0].text == "why"


def test_from_element_prefers_english_reason_and_tolerates_junk():
    xml = f"""<e:Fault xmlns:e="{SOAP12_NS}"><e:Code><e:Value>e:Receiver</e:Value></e:Code>
      <e:Reason><e:Text xml:lang="nb">Feil</e:Text><e:Text xml:lang="en-US">Error</e:Text></e:Reason>
      </e:Fault>""".encode()
    fault = SoapFault.from_element(parse_xml(xml))
    assert fault.code == "Receiver" and fault.reason == "Error"
    junk = SoapFault.from_element(parse_xml(f'<e:Fault xmlns:e="{SOAP12_NS}"/>'.encode()))
    assert junk.code == "Receiver" and junk.reason == ""
    assert fault_reason(SoapFault("Sender", "æøå").to_element()) == "æøå"
