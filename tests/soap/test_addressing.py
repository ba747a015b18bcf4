"""WS-Addressing: reading request headers, writing reply headers, addressing faults."""
import pytest
from lxml import etree

from soap import faults
from soap.addressing import (
    ANONYMOUS,
    Addressing,
    read_addressing,
    reply_headers,
    request_headers,
    response_action,
)
from soap.envelope import read_envelope
from soap.faults import SoapFault
from soap.xml import SOAP12_NS, WSA_NS, parse_xml

from .support import envelope_text

WSA = f"{{{WSA_NS}}}"


def header_of(header_xml: str):
    header, _ = read_envelope(parse_xml(envelope_text(header_xml)))
    return header


def test_reads_all_properties():
    header = header_of(
        "<wsa:Action env:mustUnderstand='1'> urn:a </wsa:Action>"
        "<wsa:MessageID>urn:uuid:m</wsa:MessageID><wsa:To>http://x/y</wsa:To>"
        "<wsa:ReplyTo><wsa:Address>http://r</wsa:Address></wsa:ReplyTo>"
        "<wsa:FaultTo><wsa:Address>http://f</wsa:Address></wsa:FaultTo>"
        "<wsa:RelatesTo RelationshipType='urn:other'>urn:o</wsa:RelatesTo>"
        "<wsa:RelatesTo>urn:uuid:r</wsa:RelatesTo><!-- a comment --><x:Other xmlns:x='urn:x'/>"
    )
    assert read_addressing(header) == Addressing(
        action="urn:a", message_id="urn:uuid:m", to="http://x/y", reply_to="http://r",
        fault_to="http://f", relates_to="urn:uuid:r",
    )
    assert not read_addressing(header).reply_is_anonymous


def test_missing_action_is_message_addressing_header_required():
    for header in (None, header_of("<wsa:MessageID>urn:uuid:m</wsa:MessageID>")):
        with pytest.raises(SoapFault) as caught:
            read_addressing(header)
        fault = caught.value
        assert fault.code == "Sender"
        assert fault.subcode == faults.MESSAGE_ADDRESSING_HEADER_REQUIRED
        assert fault.action == "http://www.w3.org/2005/08/addressing/fault"
        assert fault.detail[0].text == "wsa:Action"
    assert read_addressing(None, require_action=False) == Addressing()


@pytest.mark.parametrize("header_xml,subcodes", [
    ("<wsa:Action>a</wsa:Action><wsa:Action>b</wsa:Action>",
     (faults.INVALID_ADDRESSING_HEADER, faults.INVALID_CARDINALITY)),
    ("<wsa:Action>  </wsa:Action>", (faults.INVALID_ADDRESSING_HEADER,)),
    ("<wsa:Action>a</wsa:Action><wsa:ReplyTo/>", (faults.INVALID_ADDRESSING_HEADER,)),
])
def test_invalid_headers(header_xml, subcodes):
    with pytest.raises(SoapFault) as caught:
        read_addressing(header_of(header_xml))
    assert caught.value.code == "Sender" and caught.value.subcodes == subcodes


def test_response_action_convention():
    assert response_action("urn:ihe:iti:2007:RegistryStoredQuery") == (
        "urn:ihe:iti:2007:RegistryStoredQueryResponse"
    )


def test_reply_headers_relate_to_the_request():
    request = Addressing(action="urn:a", message_id="urn:uuid:req", reply_to=ANONYMOUS)
    blocks = {block.tag: block for block in reply_headers(request, "urn:aResponse")}
    assert blocks[WSA + "Action"].text == "urn:aResponse"
    assert blocks[WSA + "Action"].get(f"{{{SOAP12_NS}}}mustUnderstand") == "1"
    assert blocks[WSA + "RelatesTo"].text == "urn:uuid:req"
    assert blocks[WSA + "To"].text == ANONYMOUS
    assert blocks[WSA + "MessageID"].text.startswith("urn:uuid:")
    assert blocks[WSA + "MessageID"].text != "urn:uuid:req"


def test_reply_headers_without_a_readable_request():
    tags = [block.tag for block in reply_headers(None, "urn:fault")]
    assert WSA + "RelatesTo" not in tags and WSA + "Action" in tags
    tags = [block.tag for block in reply_headers(Addressing(action="a"), "urn:r")]
    assert WSA + "RelatesTo" not in tags


def test_request_headers_round_trip():
    header = etree.Element(f"{{{SOAP12_NS}}}Header")
    header.extend(request_headers("urn:a", to="http://host/svc", message_id="urn:uuid:x"))
    assert read_addressing(parse_xml(etree.tostring(header))) == Addressing(
        action="urn:a", message_id="urn:uuid:x", to="http://host/svc", reply_to=ANONYMOUS,
    )
    fresh = read_addressing(header_of("".join(
        etree.tostring(block, encoding="unicode") for block in request_headers("urn:a")
    )))
    assert fresh.message_id.startswith("urn:uuid:") and fresh.to is None
