"""SOAP 1.2 envelope structure, mustUnderstand, and writing envelopes."""
from pathlib import Path

import pytest
from lxml import etree

from soap.addressing import ADDRESSING_HEADERS, read_addressing
from soap.envelope import ENV, build_envelope, check_must_understand, read_envelope
from soap.faults import SoapFault
from soap.xml import SOAP11_NS, SOAP12_NS, parse_xml

from .support import envelope_text, payload

EXAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "ihe" / "examples"


def test_reads_header_and_payload():
    header, body = read_envelope(parse_xml(envelope_text("<wsa:Action>a</wsa:Action>")))
    assert header.tag == ENV + "Header" and body.tag == "{urn:test:soap}Ping"
    header, body = read_envelope(parse_xml(envelope_text(None, " <!--c--> <t:P xmlns:t='urn:t'/> ")))
    assert header is None and body.tag == "{urn:t}P"


@pytest.mark.parametrize("xml,code", [
    (f"<s:Envelope xmlns:s='{SOAP11_NS}'><s:Body><p/></s:Body></s:Envelope>", "VersionMismatch"),
    ("<Envelope><Body><p/></Body></Envelope>", "VersionMismatch"),
    (f"<e:Body xmlns:e='{SOAP12_NS}'><p/></e:Body>", "VersionMismatch"),
    (f"<e:Envelope xmlns:e='{SOAP12_NS}'/>", "Sender"),
    (f"<e:Envelope xmlns:e='{SOAP12_NS}'><e:Header/></e:Envelope>", "Sender"),
    (f"<e:Envelope xmlns:e='{SOAP12_NS}'><e:Body/></e:Envelope>", "Sender"),
    (f"<e:Envelope xmlns:e='{SOAP12_NS}'><e:Body> </e:Body></e:Envelope>", "Sender"),
    (f"<e:Envelope xmlns:e='{SOAP12_NS}'><e:Body><a/><b/></e:Body></e:Envelope>", "Sender"),
    (f"<e:Envelope xmlns:e='{SOAP12_NS}'><e:Body><a/></e:Body><x/></e:Envelope>", "Sender"),
    (f"<e:Envelope xmlns:e='{SOAP12_NS}'><x/><e:Body><a/></e:Body></e:Envelope>", "Sender"),
])
def test_structural_faults(xml, code):
    with pytest.raises(SoapFault) as caught:
        read_envelope(parse_xml(xml.encode()))
    assert caught.value.code == code


def test_version_mismatch_carries_upgrade_header():
    with pytest.raises(SoapFault) as caught:
        read_envelope(parse_xml(f"<s:Envelope xmlns:s='{SOAP11_NS}'/>".encode()))
    assert "SOAP 1.1" in caught.value.reason
    (upgrade,) = caught.value.header_blocks
    supported = parse_xml(etree.tostring(upgrade)).find(ENV + "SupportedEnvelope")
    prefix, _, local = supported.get("qname").partition(":")
    assert supported.nsmap[prefix] == SOAP12_NS and local == "Envelope"


def header_of(blocks: str):
    return read_envelope(parse_xml(envelope_text(blocks)))[0]


def test_must_understand_names_every_missed_block():
    header = header_of(
        "<wsa:Action env:mustUnderstand='true'>a</wsa:Action>"
        "<s:Security xmlns:s='urn:sec' env:mustUnderstand='1'/>"
        "<o:Other xmlns:o='urn:other' env:mustUnderstand='true'/>"
        "<o:Optional xmlns:o='urn:other' env:mustUnderstand='false'/>"
        "<o:Optional2 xmlns:o='urn:other'/>"
        f"<o:ForNobody xmlns:o='urn:other' env:mustUnderstand='1' env:role='{SOAP12_NS}/role/none'/>"
        "<o:ForOther xmlns:o='urn:other' env:mustUnderstand='1' env:role='urn:some:role'/>"
        f"<o:ForNext xmlns:o='urn:other' env:mustUnderstand='1' env:role='{SOAP12_NS}/role/next'/>"
    )
    with pytest.raises(SoapFault) as caught:
        check_must_understand(header, ADDRESSING_HEADERS)
    fault = caught.value
    assert fault.code == "MustUnderstand" and fault.http_status == 500
    assert "{urn:sec}Security" in fault.reason and "{urn:other}Other" in fault.reason
    assert "ForNobody" not in fault.reason and "ForOther" not in fault.reason
    assert "ForNext" in fault.reason
    names = []
    for block in fault.header_blocks:
        block = parse_xml(etree.tostring(block))
        assert block.tag == ENV + "NotUnderstood"
        prefix, _, local = block.get("qname").partition(":")
        names.append(f"{{{block.nsmap[prefix]}}}{local}")
    assert names == ["{urn:sec}Security", "{urn:other}Other", "{urn:other}ForNext"]
    check_must_understand(header, ADDRESSING_HEADERS | {
        "{urn:sec}Security", "{urn:other}Other", "{urn:other}ForNext"})
    check_must_understand(None, frozenset())


def test_build_envelope_moves_blocks_and_declares_utf8():
    data = build_envelope([etree.Element("{urn:h}H")], payload(text="ø"))
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    header, body = read_envelope(parse_xml(data))
    assert header[0].tag == "{urn:h}H" and body.text == "ø"
    header, body = read_envelope(parse_xml(build_envelope([], payload())))
    assert header is None


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="shared IHE examples not present")
def test_ihe_example_requests_read_cleanly():
    files = sorted(EXAMPLES.glob("*/*Request_SOAP.xml"))
    assert files
    for path in files:
        header, body = read_envelope(parse_xml(path.read_bytes()))
        addressing = read_addressing(header)
        assert addressing.action.startswith("urn:ihe:iti:"), path.name
        check_must_understand(header, ADDRESSING_HEADERS)
        assert isinstance(body.tag, str)
