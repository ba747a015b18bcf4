"""`SoapRouter`: a WSGI application dispatching SOAP 1.2 requests to handlers by wsa:Action.

Owns the request pipeline of the SOAP 1.2 HTTP binding (SOAP 1.2 Part 2 §7: POST only,
media types, fault → HTTP status) and WS-Addressing 1.0 dispatch. Every request takes the
same passes in the same order:

  1. method must be POST (else 405);
  2. Content-Type: application/soap+xml, or multipart/related; type="application/xop+xml"
     (MTOM); text/xml (SOAP 1.1) → VersionMismatch; anything else → 415 + Sender fault;
  3. MTOM split: attachments stream into sinks; once the root part is in, the sink factory
     registered for its wsa:Action is used for the parts that follow;
  4. hardened parse of the root part, envelope structure;
  5. XOP resolution;
  6. WS-Addressing headers (wsa:Action required);
  7. mustUnderstand check (WS-Addressing headers plus `understood` are understood);
  8. dispatch on wsa:Action (unknown → wsa:ActionNotSupported);
  9. the before-dispatch hooks, in the order added: each may look at the SoapRequest, put
     what it learnt into `request.environ`, or raise a SoapFault (e.g. a WS-Security layer);
 10. handler(SoapRequest) → SoapResponse, answered plain or MTOM as the request came; its
     `spliced` stand-ins written as their pre-serialised bytes (soap.splice).

A SoapFault from any pass is answered as an env:Fault; XmlRejected and MtomError become
Sender faults; any other exception a Receiver fault whose traceback goes only to the log.

For the layers around it (an audit trail, access logs), the router leaves the exchange in the
WSGI environ: the wsa:Action once read (`soap.action`), the SoapRequest dispatched
(`soap.request`), the handler's SoapResponse (`soap.response`), the SoapFault answered
(`soap.fault`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from soap import faults
from soap.addressing import (
    ADDRESSING_HEADERS,
    WSA,
    Addressing,
    action_not_supported,
    read_addressing,
    reply_headers,
    response_action as default_response_action,
)
from soap.envelope import ENV, check_must_understand
from soap.faults import SoapFault
from soap.message import IncomingMessage, OutgoingMessage, is_mtom_content_type, read_message, write_message
from soap.mtom import Attachment, MtomError, OutgoingAttachment, SinkFactory, XopMap
from soap.splice import Spliced
from soap.xml import DEFAULT_MAX_XML_BYTES, XmlRejected

log = logging.getLogger(__name__)

_ACTION_PATH = f"{ENV}Header/{WSA}Action"
#: environ keys of the exchange, for the layers around the router (module docstring)
ENVIRON_ACTION = "soap.action"
ENVIRON_REQUEST = "soap.request"
ENVIRON_RESPONSE = "soap.response"
ENVIRON_FAULT = "soap.fault"
_REASONS = {200: "OK", 400: "Bad Request", 405: "Method Not Allowed",
            415: "Unsupported Media Type", 500: "Internal Server Error"}


@dataclass(frozen=True, eq=False)
class SoapRequest:
    """What a handler gets: the body's payload element plus everything around it."""

    action: str
    addressing: Addressing
    header: etree._Element | None
    body: etree._Element
    attachments: Mapping[str, Attachment]
    xop: XopMap
    is_mtom: bool
    environ: dict[str, Any]

    def content_of(self, element: etree._Element) -> Attachment:
        """The content of `element`, whether sent as an XOP attachment or as inline base64."""
        return self.xop.content_of(element)

    def attachment_for(self, element: etree._Element) -> Attachment | None:
        return self.xop.attachment_for(element)


@dataclass(eq=False)
class SoapResponse:
    """What a handler returns; `action` overrides the registered response action.

    `spliced` maps stand-in elements of `body` to the pre-serialised bytes written in their
    place (soap.splice); `body` keeps the stand-ins for the layers reading it afterwards.
    """

    body: etree._Element
    attachments: Sequence[OutgoingAttachment] = ()
    action: str | None = None
    extra_headers: Sequence[etree._Element] = field(default_factory=tuple)
    spliced: Spliced = field(default_factory=dict)


Handler = Callable[[SoapRequest], SoapResponse]
#: Runs before the handler; returns nothing, raises a SoapFault to refuse the request.
BeforeDispatch = Callable[[SoapRequest], None]


@dataclass(frozen=True)
class _Route:
    handler: Handler
    response_action: str
    sink_factory: SinkFactory | None


class SoapRouter:
    """WSGI application: register handlers by wsa:Action, mount it where the service lives."""

    def __init__(
        self,
        *,
        max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
        understood: Iterable[str] = (),
        sink_factory: SinkFactory | None = None,
        before_dispatch: Iterable[BeforeDispatch] = (),
    ):
        self.max_xml_bytes = max_xml_bytes
        self._understood = frozenset(ADDRESSING_HEADERS | set(understood))
        self._default_sink = sink_factory
        self._routes: dict[str, _Route] = {}
        self._before_dispatch: tuple[BeforeDispatch, ...] = tuple(before_dispatch)

    def register(
        self,
        action: str,
        handler: Handler,
        *,
        response_action: str | None = None,
        sink_factory: SinkFactory | None = None,
    ) -> None:
        if action in self._routes:
            raise ValueError(f"action already registered: {action}")
        self._routes[action] = _Route(
            handler, response_action or default_response_action(action), sink_factory
        )

    def understand(self, *qnames: str) -> None:
        """Declare header blocks (Clark QNames) some layer processes, e.g. wsse:Security."""
        self._understood = self._understood | frozenset(qnames)

    def add_before_dispatch(self, hook: BeforeDispatch) -> None:
        """Run `hook(request)` before every handler, after the hooks added before it."""
        self._before_dispatch = (*self._before_dispatch, hook)

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self._routes)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            body = b"SOAP endpoint: use POST\n"
            start_response("405 Method Not Allowed", [
                ("Allow", "POST"), ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ])
            return [body]
        status, out, message = self._answer(environ)
        headers = [("Content-Type", out.content_type)]
        if out.content_length is not None:
            headers.append(("Content-Length", str(out.content_length)))
        start_response(f"{status} {_REASONS.get(status, '')}".rstrip(), headers)
        if message is None or not message.attachments:
            return out.body
        return _ResponseBody(out.body, message)

    def _answer(self, environ) -> tuple[int, OutgoingMessage, IncomingMessage | None]:
        exchange = _Exchange()
        try:
            exchange.is_mtom = is_mtom_content_type(environ.get("CONTENT_TYPE"))
            return 200, self._process(environ, exchange), exchange.message
        except Exception as exc:  # every failure is answered as a SOAP fault
            fault = environ[ENVIRON_FAULT] = _as_fault(exc, exchange)
            return fault.http_status, _fault_message(fault, exchange), exchange.message

    def _process(self, environ, exchange: _Exchange) -> OutgoingMessage:
        exchange.message = message = read_message(
            environ["wsgi.input"], environ.get("CONTENT_TYPE"),
            is_mtom=exchange.is_mtom,
            max_xml_bytes=self.max_xml_bytes,
            content_length=_content_length(environ),
            sink_factory=self._default_sink,
            choose_sink=self._sink_for,
        )
        exchange.addressing = addressing = read_addressing(message.header)
        environ[ENVIRON_ACTION] = addressing.action
        check_must_understand(message.header, self._understood)
        route = self._routes.get(addressing.action)
        if route is None:
            raise action_not_supported(addressing.action)
        request = SoapRequest(
            addressing.action, addressing, message.header, message.body,
            message.attachments, message.xop, exchange.is_mtom, environ,
        )
        environ[ENVIRON_REQUEST] = request
        for hook in self._before_dispatch:
            hook(request)
        response = environ[ENVIRON_RESPONSE] = route.handler(request)
        blocks = reply_headers(addressing, response.action or route.response_action)
        blocks.extend(response.extra_headers)
        return write_message(blocks, response.body, mtom=exchange.is_mtom, attachments=response.attachments,
                             spliced=response.spliced)

    def _sink_for(self, root: etree._Element) -> SinkFactory | None:
        # An early look at wsa:Action, only to choose where attachments go; the full
        # addressing pass still runs in its turn.
        action = root.findtext(_ACTION_PATH)
        route = self._routes.get(action.strip()) if action else None
        return route.sink_factory if route else None


@dataclass
class _Exchange:
    """What is known of a request so far, for answering a fault at any pass."""

    is_mtom: bool = False
    message: IncomingMessage | None = None
    addressing: Addressing | None = None


def _as_fault(exc: Exception, exchange: _Exchange) -> SoapFault:
    if isinstance(exc, SoapFault):
        log.debug("SOAP fault %s: %s", exc.code, exc.reason)
        return exc
    if isinstance(exc, (XmlRejected, MtomError)):
        log.debug("rejected request: %s", exc.reason)
        return SoapFault(faults.SENDER, exc.reason)
    action = exchange.addressing.action if exchange.addressing else "(unknown)"
    log.exception("unhandled error answering SOAP action %s", action)
    return SoapFault(faults.RECEIVER, "Internal error while processing the request")


def _fault_message(fault: SoapFault, exchange: _Exchange) -> OutgoingMessage:
    # An MTOM requester gets its fault in MTOM too: some stacks (WCF) refuse anything else.
    blocks = reply_headers(exchange.addressing, fault.action)
    blocks.extend(fault.header_blocks)
    return write_message(blocks, fault.to_element(), mtom=exchange.is_mtom)


def _content_length(environ) -> int | None:
    try:
        return int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


class _ResponseBody:
    """WSGI response iterable that streams the reply and then releases the request's parts."""

    def __init__(self, body: Iterable[bytes], message: IncomingMessage):
        self._body = body
        self._message = message

    def __iter__(self):
        return iter(self._body)

    def close(self) -> None:
        try:
            if callable(getattr(self._body, "close", None)):
                self._body.close()
        finally:
            self._message.close()
