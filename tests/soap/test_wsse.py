"""soap.wsse (WS-Security header block and fault subcodes) and the router's before-dispatch hooks."""
from __future__ import annotations

import pytest
from lxml import etree

from soap import faults, wsse
from soap.faults import SoapFault
from soap.router import SoapRequest, SoapResponse, SoapRouter
from soap.xml import SOAP12_NS

from .support import ECHO, call_wsgi, fault_code, fault_reason, fault_subcode, payload, request_bytes

SOAP = "application/soap+xml; charset=utf-8"


def security(role: str | None = None, must_understand: bool = True) -> etree._Element:
    block = etree.Element(wsse.SECURITY, nsmap={"wsse": wsse.WSSE_NS})
    if must_understand:
        block.set(f"{{{SOAP12_NS}}}mustUnderstand", "true")
    if role:
        block.set(f"{{{SOAP12_NS}}}role", role)
    return block


def header_with(*blocks: etree._Element) -> etree._Element:
    header = etree.Element(f"{{{SOAP12_NS}}}Header")
    header.extend(blocks)
    return header


def test_security_header_is_the_block_for_this_node():
    mine = security()
    other_role = security(role="urn:test:some-intermediary")
    assert wsse.security_header(header_with(other_role, mine)) is mine
    assert wsse.security_header(header_with(security(role=SOAP12_NS + "/role/next"))) is not None
    assert wsse.security_header(header_with(other_role)) is None
    assert wsse.security_header(None) is None


def test_two_security_blocks_for_this_node_are_invalid_security():
    with pytest.raises(SoapFault) as caught:
        wsse.security_header(header_with(security(), security(role=SOAP12_NS + "/role/ultimateReceiver")))
    assert (caught.value.code, caught.value.subcode) == (faults.SENDER, wsse.INVALID_SECURITY)


def test_security_fault_is_a_sender_fault_with_the_wsse_prefix_on_the_wire():
    fault = wsse.security_fault(wsse.FAILED_AUTHENTICATION, "who are you")
    assert fault.http_status == 400
    value = fault.to_element().find(f"{{{SOAP12_NS}}}Code/{{{SOAP12_NS}}}Subcode/{{{SOAP12_NS}}}Value")
    assert value.text == "wsse:FailedAuthentication" and value.nsmap["wsse"] == wsse.WSSE_NS
    with pytest.raises(ValueError):
        wsse.security_fault("{urn:x}Other", "no")


# --- SoapRouter before-dispatch hooks -------------------------------------------------------


def echo_environ(request: SoapRequest) -> SoapResponse:
    answer = payload("Seen", request.environ.get("test.user", "nobody"))
    return SoapResponse(answer)


def test_hooks_run_in_order_before_the_handler_and_can_pass_values_in_the_environ():
    calls = []

    def first(request):
        calls.append("first")
        request.environ["test.user"] = "kari"

    router = SoapRouter(before_dispatch=[first])
    router.add_before_dispatch(lambda request: calls.append("second"))
    router.register(ECHO, echo_environ)
    result = call_wsgi(router, request_bytes()[1], SOAP)
    assert result.status == 200 and calls == ["first", "second"]
    assert result.message().body.text == "kari"


def test_a_hook_raising_a_fault_refuses_the_request_before_the_handler():
    def refuse(request):
        raise wsse.security_fault(wsse.INVALID_SECURITY, "no token")

    handled = []
    router = SoapRouter(before_dispatch=[refuse])
    router.register(ECHO, lambda request: handled.append(1) or echo_environ(request))
    result = call_wsgi(router, request_bytes()[1], SOAP)
    fault = result.fault()
    assert result.status == 400 and not handled
    assert (fault_code(fault), fault_subcode(fault), fault_reason(fault)) == (
        "env:Sender", wsse.INVALID_SECURITY, "no token")


def test_hooks_do_not_run_for_an_unknown_action():
    ran = []
    router = SoapRouter(before_dispatch=[ran.append])
    result = call_wsgi(router, request_bytes("urn:test:Unknown")[1], SOAP)
    assert result.status == 400 and not ran


def test_understood_security_header_passes_must_understand():
    router = SoapRouter()
    router.register(ECHO, echo_environ)
    content_type, body = request_bytes(extra_headers=[security()])
    assert fault_code(call_wsgi(router, body, content_type).fault()) == "env:MustUnderstand"
    router.understand(wsse.SECURITY)
    content_type, body = request_bytes(extra_headers=[security()])
    assert call_wsgi(router, body, content_type).status == 200
