"""`SoapClient`: send one SOAP 1.2 request over HTTP(S) and read the reply, plain or MTOM.

Owns the requesting side of the SOAP 1.2 HTTP binding (SOAP 1.2 Part 2 §7.4) with
WS-Addressing 1.0 request headers (SOAP Binding §3). Requests are written and replies read by
the same code the router uses (soap.message), so both ends speak exactly one wire format;
attachments stream out from their iterables and stream in to spooled files.
"""
from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import httpx
from lxml import etree

from soap.addressing import Addressing, new_message_id, read_addressing, request_headers
from soap.envelope import ENV
from soap.faults import SoapFault
from soap.message import UnsupportedMediaType, read_message, write_message
from soap.mtom import Attachment, MtomError, OutgoingAttachment, SinkFactory, XopMap
from soap.xml import DEFAULT_MAX_XML_BYTES, XmlRejected


class SoapTransportError(Exception):
    """No SOAP reply came back: connection failure, timeout, or a non-SOAP HTTP answer."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


@dataclass(eq=False)
class SoapReply:
    status_code: int
    addressing: Addressing
    header: etree._Element | None
    body: etree._Element
    attachments: dict[str, Attachment]
    xop: XopMap
    is_mtom: bool
    request_message_id: str
    fault: SoapFault | None = field(default=None)

    def raise_for_fault(self) -> SoapReply:
        if self.fault is not None:
            raise self.fault
        return self

    def content_of(self, element: etree._Element) -> Attachment:
        return self.xop.content_of(element)

    def close(self) -> None:
        for attachment in self.attachments.values():
            attachment.close()


class SoapClient:
    """One endpoint; reuses connections (keep-alive) through its httpx.Client."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        verify: bool | str | ssl.SSLContext = True,
        cert: str | tuple[str, str] | None = None,
        http_client: httpx.Client | None = None,
        max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
        sink_factory: SinkFactory | None = None,
    ):
        self.url = url
        self.max_xml_bytes = max_xml_bytes
        self._sink_factory = sink_factory
        self._owns_client = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, verify=verify, cert=cert)

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> SoapClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def call(
        self,
        action: str,
        body_element: etree._Element,
        *,
        attachments: Sequence[OutgoingAttachment] | None = None,
        mtom: bool = False,
        headers: Iterable[etree._Element] | None = None,
        to: str | None = None,
    ) -> SoapReply:
        """Send `body_element` (moved into the request envelope) and read the reply.

        `headers` are extra SOAP header blocks (e.g. wsse:Security). A fault reply is
        returned with `.fault` set; call `raise_for_fault()` to raise it.
        """
        message_id = new_message_id()
        blocks = request_headers(action, to=to or self.url, message_id=message_id)
        blocks.extend(headers or ())
        out = write_message(blocks, body_element, mtom=mtom, attachments=attachments or (), action=action)
        http_headers = {"Content-Type": out.content_type}
        if out.content_length is not None:
            http_headers["Content-Length"] = str(out.content_length)
        content = out.body[0] if isinstance(out.body, list) and len(out.body) == 1 else out.body
        try:
            with self._http.stream("POST", self.url, content=content, headers=http_headers) as response:
                return self._read_reply(response, message_id)
        except httpx.HTTPError as exc:
            raise SoapTransportError(f"{type(exc).__name__}: {exc}") from exc

    def _read_reply(self, response: httpx.Response, message_id: str) -> SoapReply:
        content_type = response.headers.get("content-type")
        try:
            message = read_message(
                _IteratorReader(response.iter_bytes()), content_type,
                max_xml_bytes=self.max_xml_bytes, sink_factory=self._sink_factory,
            )
        except UnsupportedMediaType:
            raise SoapTransportError(
                f"HTTP {response.status_code} with non-SOAP Content-Type {content_type}",
                status_code=response.status_code,
            ) from None
        except (XmlRejected, MtomError, SoapFault) as exc:
            raise SoapTransportError(
                f"HTTP {response.status_code}: unreadable SOAP reply: {exc}",
                status_code=response.status_code,
            ) from exc
        fault = SoapFault.from_element(message.body) if message.body.tag == ENV + "Fault" else None
        try:
            addressing = read_addressing(message.header, require_action=False)
        except SoapFault:
            addressing = Addressing()
        return SoapReply(
            response.status_code, addressing, message.header, message.body,
            message.attachments, message.xop, message.is_mtom, message_id, fault,
        )


class _IteratorReader:
    """A `.read(n)` view over an iterator of byte chunks (the streamed HTTP response)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            data, self._pending = self._pending + b"".join(self._chunks), b""
            return data
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._pending = chunk
        data, self._pending = self._pending[:size], self._pending[size:]
        return data
