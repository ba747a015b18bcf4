"""SoapRouter called as a WSGI application, in-process."""
import logging

import pytest
from lxml import etree

from soap import faults
from soap.addressing import ANONYMOUS, WSA
from soap.envelope import ENV
from soap.faults import SoapFault
from soap.mtom import OutgoingAttachment, include_element
from soap.router import SoapRequest, SoapResponse, SoapRouter
from soap.xml import SOAP11_NS, WSA_NS

from .support import (
    ECHO,
    NS,
    RecordingSink,
    action_header,
    call_wsgi,
    envelope_text,
    fault_code,
    fault_reason,
    fault_subcode,
    payload,
    request_bytes,
)
from .test_xml import BILLION_LAUGHS, XXE_FILE

SOAP = "application/soap+xml; charset=utf-8"
STORE = "urn:test:Store"
FAIL = "urn:test:Fail"
CRASH = "urn:test:Crash"


def echo(request: SoapRequest) -> SoapResponse:
    return SoapResponse(request.body)


def store(request: SoapRequest) -> SoapResponse:
    """Answers with each attachment's size, and sends every attachment back."""
    answer = etree.Element(f"{{{NS}}}Stored")
    back = []
    for cid, attachment in sorted(request.attachments.items()):
        etree.SubElement(answer, f"{{{NS}}}Part", id=cid, size=str(attachment.size))
        back.append(OutgoingAttachment("back-" + cid, attachment.content_type,
                                       iter(lambda f=attachment.open(): f.read(1000), b"")))
    for element in request.body.iter(f"{{{NS}}}Inline"):
        etree.SubElement(answer, f"{{{NS}}}Decoded").text = request.content_of(element).read_bytes().decode()
    return SoapResponse(answer, attachments=back)


def fail(request):
    raise SoapFault("Receiver", "store is down", subcode="{urn:test}Down")


def crash(request):
    raise RuntimeError("secret internal detail")


@pytest.fixture
def router():
    router = SoapRouter()
    router.register(ECHO, echo)
    router.register(STORE, store, response_action="urn:test:Stored")
    router.register(FAIL, fail)
    router.register(CRASH, crash)
    return router


def header_value(message, name):
    return message.header.findtext(WSA + name)


def test_plain_request_plain_reply(router):
    content_type, body = request_bytes(ECHO, payload(text="ping"), message_id="urn:uuid:req-1")
    result = call_wsgi(router, body, content_type)
    assert result.status == 200 and result.content_type == SOAP
    assert int(result.headers["content-length"]) == len(result.body)
    message = result.message()
    assert not message.is_mtom
    assert message.body.tag == f"{{{NS}}}Ping" and message.body.text == "ping"
    assert header_value(message, "Action") == ECHO + "Response"
    assert header_value(message, "RelatesTo") == "urn:uuid:req-1"
    assert header_value(message, "To") == ANONYMOUS
    assert header_value(message, "MessageID").startswith("urn:uuid:")


def test_mtom_request_gets_mtom_reply_even_without_attachments(router):
    content_type, body = request_bytes(ECHO, mtom=True)
    result = call_wsgi(router, body, content_type)
    assert result.status == 200 and result.content_type.startswith("multipart/related")
    message = result.message()
    assert message.is_mtom and message.attachments == {}
    assert message.body.text == "hello"


def test_mtom_attachments_in_and_out_streamed(router):
    data = b"\r\n--boundary?\r\n" * 5000
    body_element = payload("Docs", None)
    body_element.append(include_element("one@x"))
    content_type, body = request_bytes(STORE, body_element, attachments=[
        OutgoingAttachment.from_bytes("one@x", data, "application/pdf"),
        OutgoingAttachment.from_bytes("two@x", b""),
    ])
    result = call_wsgi(router, body, content_type)
    assert result.status == 200
    assert "content-length" not in result.headers  # sizes of streamed parts are unknown
    assert result.chunks > 70  # the reply was not joined into one piece
    message = result.message()
    assert header_value(message, "Action") == "urn:test:Stored"
    sizes = {part.get("id"): part.get("size") for part in message.body}
    assert sizes == {"one@x": str(len(data)), "two@x": "0"}
    assert message.attachments["back-one@x"].read_bytes() == data
    assert message.attachments["back-one@x"].content_type == "application/pdf"


def test_plain_request_with_inline_base64(router):
    body_element = payload("Docs", None)
    etree.SubElement(body_element, f"{{{NS}}}Inline").text = "aGVsbG8="
    content_type, body = request_bytes(STORE, body_element)
    result = call_wsgi(router, body, content_type)
    assert result.status == 200 and result.content_type == SOAP
    assert result.message().body.findtext(f"{{{NS}}}Decoded") == "hello"


def test_response_overrides_and_extra_headers():
    router = SoapRouter()
    extra = etree.Element("{urn:h}Trace")
    extra.text = "t-1"
    router.register(ECHO, lambda request: SoapResponse(request.body, action="urn:custom", extra_headers=[extra]))
    content_type, body = request_bytes(ECHO)
    message = call_wsgi(router, body, content_type).message()
    assert header_value(message, "Action") == "urn:custom"
    assert message.header.findtext("{urn:h}Trace") == "t-1"


def test_registration_rules(router):
    with pytest.raises(ValueError):
        router.register(ECHO, echo)
    assert {ECHO, STORE, FAIL, CRASH} == router.actions


def test_request_without_content_length_is_read_to_the_end(router):
    content_type, body = request_bytes(ECHO, mtom=True)
    assert call_wsgi(router, body, content_type, content_length=False).status == 200


# ---------------------------------------------------------------- faults


def assert_fault(result, status, code, subcode=None, reason=None):
    assert result.status == status, result.body[:500]
    fault = result.fault()
    assert fault_code(fault) == f"env:{code}"
    if subcode:
        assert fault_subcode(fault) == subcode
    if reason:
        assert reason in fault_reason(fault)
    return fault


def test_get_is_method_not_allowed(router):
    result = call_wsgi(router, b"", None, method="GET")
    assert result.status == 405 and result.headers["allow"] == "POST"


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain", "multipart/related; boundary=x"])
def test_wrong_content_type_is_415_with_sender_fault(router, content_type):
    _, body = request_bytes()
    result = call_wsgi(router, body, content_type)
    assert_fault(result, 415, "Sender", reason="Unsupported Content-Type")
    assert result.content_type == SOAP


@pytest.mark.parametrize("content_type", [
    "text/xml; charset=utf-8",
    'multipart/related; boundary=x; type="text/xml"',
    'multipart/related; boundary=x; type="application/xop+xml"; start-info="text/xml"',
])
def test_soap11_media_types_are_version_mismatch(router, content_type):
    body = f"<s:Envelope xmlns:s='{SOAP11_NS}'><s:Body/></s:Envelope>".encode()
    result = call_wsgi(router, body, content_type)
    assert_fault(result, 500, "VersionMismatch", reason="SOAP 1.1")
    assert result.message().header.find(ENV + "Upgrade") is not None


def test_soap11_envelope_as_soap12_media_type_is_version_mismatch(router):
    body = f"<s:Envelope xmlns:s='{SOAP11_NS}'><s:Body><p/></s:Body></s:Envelope>".encode()
    assert_fault(call_wsgi(router, body, SOAP), 500, "VersionMismatch")


@pytest.mark.parametrize("body,reason", [
    (b"", "empty"),
    (BILLION_LAUGHS, "DTD"),
    (XXE_FILE, "DTD"),
    (b"<!DOCTYPE e><e/>", "DTD"),
    (b"<unclosed>", "not well-formed"),
])
def test_hostile_or_broken_xml_is_a_sender_fault(router, body, reason):
    result = call_wsgi(router, body, SOAP)
    assert_fault(result, 400, "Sender", reason=reason)
    assert b"root:" not in result.body


def test_hostile_xml_in_an_mtom_root_part(router):
    content_type = 'multipart/related; boundary=b; type="application/xop+xml"'
    body = (b"--b\r\nContent-Type: application/xop+xml\r\n\r\n" + BILLION_LAUGHS + b"\r\n--b--")
    assert_fault(call_wsgi(router, body, content_type), 400, "Sender", reason="DTD")


def test_oversize_xml_is_refused():
    router = SoapRouter(max_xml_bytes=2000)
    router.register(ECHO, echo)
    big = payload(text="x" * 3000)
    for mtom in (False, True):
        content_type, body = request_bytes(ECHO, big if not mtom else payload(text="x" * 3000), mtom=mtom)
        assert_fault(call_wsgi(router, body, content_type), 400, "Sender", reason="exceeds 2000 bytes")
    content_type, body = request_bytes(ECHO)
    assert call_wsgi(router, body, content_type).status == 200


def test_truncated_mtom_stream(router):
    content_type, body = request_bytes(STORE, attachments=[OutgoingAttachment.from_bytes("a@x", b"A" * 5000)])
    result = call_wsgi(router, body[:-100], content_type)
    assert_fault(result, 400, "Sender", reason="truncated")
    assert result.content_type.startswith("multipart/related")  # an MTOM requester hears MTOM


def test_mtom_root_part_missing(router):
    content_type, body = request_bytes(STORE, attachments=[OutgoingAttachment.from_bytes("a@x", b"A")])
    content_type = content_type.replace('start="<', 'start="<absent-')
    assert_fault(call_wsgi(router, body, content_type), 400, "Sender", reason="not found")


def test_unresolved_xop_include(router):
    body_element = payload("Docs", None)
    body_element.append(include_element("nowhere@x"))
    content_type, body = request_bytes(STORE, body_element, mtom=True)
    assert_fault(call_wsgi(router, body, content_type), 400, "Sender", reason="refers to no MIME part")


def test_unknown_action_is_action_not_supported(router):
    content_type, body = request_bytes("urn:test:Nobody", message_id="urn:uuid:req-9")
    result = call_wsgi(router, body, content_type)
    assert_fault(result, 400, "Sender", f"{{{WSA_NS}}}ActionNotSupported", "urn:test:Nobody")
    message = result.message()
    assert header_value(message, "Action") == "http://www.w3.org/2005/08/addressing/fault"
    assert header_value(message, "RelatesTo") == "urn:uuid:req-9"
    assert message.body.findtext(f"{ENV}Detail/{WSA}ProblemAction/{WSA}Action") == "urn:test:Nobody"


def test_missing_action(router):
    content_type, body = request_bytes(None)
    result = call_wsgi(router, body, content_type)
    assert_fault(result, 400, "Sender", faults.MESSAGE_ADDRESSING_HEADER_REQUIRED)


def test_must_understand_header_not_understood(router):
    security = "<s:Security xmlns:s='urn:test:sec' env:mustUnderstand='true'/>"
    body = envelope_text(action_header() + security)
    result = call_wsgi(router, body, SOAP)
    assert_fault(result, 500, "MustUnderstand", reason="{urn:test:sec}Security")
    blocks = result.message().header.findall(ENV + "NotUnderstood")
    assert [block.get("qname").split(":")[1] for block in blocks] == ["Security"]
    router.understand("{urn:test:sec}Security")
    assert call_wsgi(router, body, SOAP).status == 200


def test_understood_headers_given_at_construction():
    router = SoapRouter(understood=["{urn:test:sec}Security"])
    router.register(ECHO, echo)
    body = envelope_text(action_header() + "<s:Security xmlns:s='urn:test:sec' env:mustUnderstand='1'/>")
    assert call_wsgi(router, body, SOAP).status == 200


def test_handler_soap_fault(router):
    content_type, body = request_bytes(FAIL)
    assert_fault(call_wsgi(router, body, content_type), 500, "Receiver", "{urn:test}Down", "store is down")


def test_unexpected_exception_is_a_generic_receiver_fault(router, caplog):
    content_type, body = request_bytes(CRASH)
    with caplog.at_level(logging.ERROR, logger="soap.router"):
        result = call_wsgi(router, body, content_type)
    assert_fault(result, 500, "Receiver", reason="Internal error")
    assert b"secret" not in result.body and b"Traceback" not in result.body
    assert "secret internal detail" in caplog.text


# ---------------------------------------------------------------- attachment sinks


def test_registered_sink_receives_a_large_part_in_many_writes():
    sinks = []

    def sink_factory(content_id, content_type):
        sinks.append(RecordingSink(content_id, content_type))
        return sinks[-1]

    router = SoapRouter()
    router.register(STORE, store, sink_factory=sink_factory)
    size = 5 * 1024 * 1024
    chunk = bytes(range(256)) * 256

    content_type, body = request_bytes(STORE, attachments=[
        OutgoingAttachment("big@x", "application/octet-stream", (chunk for _ in range(size // len(chunk))), size),
    ])
    result = call_wsgi(router, body, content_type)
    assert result.status == 200
    (sink,) = sinks
    assert sink.closed_part and sum(sink.writes) == size
    assert len(sink.writes) >= 50 and max(sink.writes) <= 64 * 1024
    assert result.message().attachments["back-big@x"].size == size


def test_default_sinks_are_closed_after_the_response():
    handles = []

    def keep(request):
        handles.extend(attachment.handle for attachment in request.attachments.values())
        return SoapResponse(payload())

    router = SoapRouter()
    router.register(STORE, keep)
    content_type, body = request_bytes(STORE, attachments=[OutgoingAttachment.from_bytes("a@x", b"A")])
    assert call_wsgi(router, body, content_type).status == 200
    assert handles and all(handle.closed for handle in handles)


def test_wire_sample_in_the_style_of_axis2_and_cxf(router):
    """Leading CRLF, unquoted boundary, lower-case part headers, XML declaration in the root
    part, a start parameter, an action parameter and a percent-encoded cid: reference."""
    boundary = "MIMEBoundary_4b7d1e1a2c3f"
    content_type = (
        f"multipart/related; boundary={boundary}; type=\"application/xop+xml\"; "
        "start=\"<0.urn:uuid:AB12@apache.org>\"; start-info=\"application/soap+xml\"; "
        f"action=\"{STORE}\""
    )
    root = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        f"<soapenv:Envelope xmlns:soapenv=\"http://www.w3.org/2003/05/soap-envelope\">"
        f"<soapenv:Header xmlns:wsa=\"http://www.w3.org/2005/08/addressing\">"
        f"<wsa:To>http://localhost/svc</wsa:To><wsa:MessageID>urn:uuid:CD34</wsa:MessageID>"
        f"<wsa:Action soapenv:mustUnderstand=\"true\">{STORE}</wsa:Action></soapenv:Header>"
        f"<soapenv:Body><t:Docs xmlns:t=\"{NS}\"><t:Document id=\"d1\"><xop:Include "
        "xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:1.urn%3Auuid%3AEF56%40apache.org\"/>"
        "</t:Document></t:Docs></soapenv:Body></soapenv:Envelope>"
    ).encode()
    document = b"%PDF-1.4\r\n--" + bytes(range(256)) + b"\r\n"
    body = (
        f"\r\n--{boundary}\r\ncontent-type: application/xop+xml; charset=UTF-8; "
        f"type=\"application/soap+xml\"; action=\"{STORE}\"\r\ncontent-transfer-encoding: binary\r\n"
        "content-id: <0.urn:uuid:AB12@apache.org>\r\n\r\n"
    ).encode() + root + (
        f"\r\n--{boundary}\r\ncontent-type: application/pdf\r\ncontent-transfer-encoding: binary\r\n"
        "content-id: <1.urn:uuid:EF56@apache.org>\r\n\r\n"
    ).encode() + document + f"\r\n--{boundary}--\r\n".encode()
    result = call_wsgi(router, body, content_type)
    assert result.status == 200, result.body[:400]
    message = result.message()
    assert message.is_mtom
    assert message.header.findtext(WSA + "RelatesTo") == "urn:uuid:CD34"
    assert message.body[0].get("id") == "1.urn:uuid:EF56@apache.org"
    assert message.attachments["back-1.urn:uuid:EF56@apache.org"].read_bytes() == document
