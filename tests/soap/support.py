"""Helpers for the soap tests: build requests, call a WSGI app in-process, read the answer."""
from __future__ import annotations

import io
from dataclasses import dataclass
from wsgiref.util import setup_testing_defaults

from lxml import etree

from soap.addressing import request_headers
from soap.envelope import ENV
from soap.message import read_message, write_message
from soap.mtom import OutgoingAttachment
from soap.xml import SOAP12_NS, WSA_NS

NS = "urn:test:soap"
ECHO = "urn:test:Echo"


def payload(tag: str = "Ping", text: str | None = "hello") -> etree._Element:
    element = etree.Element(f"{{{NS}}}{tag}", nsmap={"t": NS})
    element.text = text
    return element


def request_bytes(
    action: str | None = ECHO,
    body: etree._Element | None = None,
    *,
    message_id: str = "urn:uuid:00000000-0000-0000-0000-000000000001",
    attachments: list[OutgoingAttachment] = (),
    mtom: bool = False,
    extra_headers: list[etree._Element] = (),
) -> tuple[str, bytes]:
    """(Content-Type, body bytes) of a request as SoapClient would send it."""
    blocks = request_headers(action or "unused", message_id=message_id)
    if not action:
        blocks = [block for block in blocks if block.tag != f"{{{WSA_NS}}}Action"]
    blocks.extend(extra_headers)
    out = write_message(blocks, body if body is not None else payload(), mtom=mtom, attachments=attachments)
    return out.content_type, b"".join(out.body)


def envelope_text(header: str = "", body: str = "<t:Ping xmlns:t='urn:test:soap'/>") -> bytes:
    """A hand-written SOAP 1.2 envelope, for cases the writers would never produce."""
    head = f"<env:Header>{header}</env:Header>" if header is not None else ""
    return (
        f"<env:Envelope xmlns:env='{SOAP12_NS}' xmlns:wsa='{WSA_NS}'>{head}"
        f"<env:Body>{body}</env:Body></env:Envelope>"
    ).encode()


def action_header(action: str = ECHO, message_id: str = "urn:uuid:1") -> str:
    return f"<wsa:Action>{action}</wsa:Action><wsa:MessageID>{message_id}</wsa:MessageID>"


@dataclass
class WsgiResult:
    status: int
    headers: dict[str, str]
    body: bytes
    chunks: int

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def message(self):
        return read_message(io.BytesIO(self.body), self.content_type)

    def fault(self) -> etree._Element:
        body = self.message().body
        assert body.tag == ENV + "Fault", etree.tostring(body)
        return body


def call_wsgi(app, body: bytes, content_type: str | None, *, method: str = "POST",
              path: str = "/", content_length: bool = True) -> WsgiResult:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ["REQUEST_METHOD"] = method
    environ["PATH_INFO"] = path
    environ["wsgi.input"] = io.BytesIO(body)
    if content_type is not None:
        environ["CONTENT_TYPE"] = content_type
    if content_length:
        environ["CONTENT_LENGTH"] = str(len(body))
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = int(status.split()[0])
        seen["headers"] = {name.lower(): value for name, value in headers}

    iterable = app(environ, start_response)
    try:
        chunks = list(iterable)
    finally:
        if hasattr(iterable, "close"):
            iterable.close()
    return WsgiResult(seen["status"], seen["headers"], b"".join(chunks), len(chunks))


def fault_code(fault: etree._Element) -> str:
    return fault.findtext(f"{ENV}Code/{ENV}Value")


def fault_subcode(fault: etree._Element) -> str | None:
    value = fault.find(f"{ENV}Code/{ENV}Subcode/{ENV}Value")
    if value is None:
        return None
    prefix, _, local = value.text.partition(":")
    return f"{{{value.nsmap[prefix]}}}{local}"


def fault_reason(fault: etree._Element) -> str:
    return fault.findtext(f"{ENV}Reason/{ENV}Text")


class RecordingSink:
    """A sink that keeps only a hash-like running total and the sizes of its write calls."""

    def __init__(self, content_id: str = "", content_type: str = ""):
        self.content_id = content_id
        self.writes: list[int] = []
        self.data = io.BytesIO()
        self.closed_part = False
        self.discarded = False

    def write(self, data: bytes) -> None:
        self.writes.append(len(data))
        self.data.write(data)

    def close_part(self) -> None:
        self.closed_part = True

    def discard(self) -> None:
        self.discarded = True

    def open(self):
        return io.BytesIO(self.data.getvalue())


class ChunkStream:
    """A `.read(n)` stream over an iterator of chunks, so a test never holds the whole body."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        while not self._pending:
            self._pending = next(self._chunks, None)
            if self._pending is None:
                self._pending = b""
                return b""
        if size is None or size < 0:
            size = len(self._pending)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data
