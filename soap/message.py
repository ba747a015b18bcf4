"""One SOAP message on the HTTP wire, read or written; shared by the router and the client.

Owns the SOAP 1.2 HTTP binding's media types (SOAP 1.2 Part 2 §7.1.4, RFC 3902
application/soap+xml; SOAP MTOM §4.3 multipart/related + application/xop+xml) and the fixed
first passes every inbound message takes: MTOM split → hardened parse of the root part →
envelope → XOP resolution. Reading addressing and dispatching are the caller's passes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from soap import faults
from soap.envelope import build_envelope, read_envelope, version_mismatch
from soap.faults import SoapFault
from soap.mime import CHUNK_SIZE, parse_media_type, quote_param
from soap.splice import Spliced
from soap.mtom import (
    Attachment,
    OutgoingAttachment,
    SinkFactory,
    XopMap,
    build_multipart,
    parse_multipart,
    resolve_xop,
)
from soap.xml import DEFAULT_MAX_XML_BYTES, SOAP11_NS, XmlRejected, parse_xml

SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"

# Chooses the attachment sink factory from the parsed root element (None: the default).
SinkChooser = Callable[[etree._Element], "SinkFactory | None"]


class UnsupportedMediaType(SoapFault):
    """The HTTP Content-Type is no SOAP 1.2 message at all (HTTP 415)."""

    def __init__(self, content_type: str | None):
        super().__init__(
            faults.SENDER,
            f"Unsupported Content-Type {content_type or '(none)'}: expected "
            "application/soap+xml or multipart/related; type=\"application/xop+xml\"",
        )

    @property
    def http_status(self) -> int:
        return 415


def is_mtom_content_type(content_type: str | None) -> bool:
    """True for an MTOM message, False for a plain SOAP 1.2 one; faults for anything else."""
    mime, params = parse_media_type(content_type)
    if mime == "application/soap+xml":
        return False
    if mime == "multipart/related":
        kind = params.get("type", "").strip().lower()
        if kind == "application/xop+xml":
            if "text/xml" in params.get("start-info", "").lower():
                raise _soap11()
            return True
        if kind == "text/xml":  # SOAP 1.1 with attachments
            raise _soap11()
    if mime == "text/xml":
        raise _soap11()
    raise UnsupportedMediaType(content_type)


def _soap11() -> SoapFault:
    return version_mismatch(f"{{{SOAP11_NS}}}Envelope")


@dataclass(eq=False)
class IncomingMessage:
    """A received SOAP message after the structural passes."""

    root: etree._Element
    header: etree._Element | None
    body: etree._Element
    attachments: dict[str, Attachment] = field(default_factory=dict)
    xop: XopMap = field(default_factory=XopMap)
    is_mtom: bool = False

    def close(self) -> None:
        for attachment in self.attachments.values():
            attachment.close()


def read_message(
    stream: BinaryIO,
    content_type: str | None,
    *,
    is_mtom: bool | None = None,
    max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
    content_length: int | None = None,
    sink_factory: SinkFactory | None = None,
    choose_sink: SinkChooser | None = None,
) -> IncomingMessage:
    """Read one message from `stream`; raises SoapFault, XmlRejected or MtomError.

    `is_mtom` may pass on what `is_mtom_content_type` already said about `content_type`.
    """
    if is_mtom is None:
        is_mtom = is_mtom_content_type(content_type)
    if content_length is not None:
        stream = BoundedReader(stream, content_length)
    attachments: dict[str, Attachment] = {}
    if is_mtom:
        parsed: list[etree._Element] = []

        def on_root(data: bytes) -> SinkFactory | None:
            parsed.append(parse_xml(data, max_bytes=max_xml_bytes))
            return choose_sink(parsed[0]) if choose_sink else None

        package = parse_multipart(
            stream, content_type or "", sink_factory,
            max_root_bytes=max_xml_bytes, on_root=on_root,
        )
        root, attachments = parsed[0], package.attachments
    else:
        root = parse_xml(read_limited(stream, max_xml_bytes, content_length), max_bytes=max_xml_bytes)
    try:
        header, body = read_envelope(root)
        xop = resolve_xop(root, attachments)
    except BaseException:
        for attachment in attachments.values():
            attachment.close()
        raise
    return IncomingMessage(root, header, body, attachments, xop, is_mtom)


def read_limited(stream: BinaryIO, limit: int, content_length: int | None = None) -> bytes:
    """Read a whole plain body, refusing (without reading on) one larger than `limit`."""
    if content_length is not None and content_length > limit:
        raise XmlRejected(f"XML document exceeds {limit} bytes")
    pieces: list[bytes] = []
    total = 0
    while data := stream.read(CHUNK_SIZE):
        total += len(data)
        if total > limit:
            raise XmlRejected(f"XML document exceeds {limit} bytes")
        pieces.append(data)
    return b"".join(pieces)


class BoundedReader:
    """A reader that ends after `length` bytes (WSGI forbids reading past CONTENT_LENGTH)."""

    def __init__(self, stream: BinaryIO, length: int):
        self._stream = stream
        self._left = max(length, 0)

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size is None or size < 0 or size > self._left:
            size = self._left
        data = self._stream.read(size)
        self._left -= len(data)
        return data


@dataclass
class OutgoingMessage:
    """A message ready for HTTP: its Content-Type, body chunks and length when known."""

    content_type: str
    body: Iterable[bytes]
    content_length: int | None


def write_message(
    header_blocks: Iterable[etree._Element],
    body: etree._Element,
    *,
    mtom: bool = False,
    attachments: Sequence[OutgoingAttachment] = (),
    action: str | None = None,
    spliced: Spliced | None = None,
) -> OutgoingMessage:
    """Serialize an envelope; MTOM when asked for or when there are attachments to carry.
    `spliced`: stand-ins in `body` written as pre-serialised bytes (soap.splice)."""
    envelope = build_envelope(header_blocks, body, spliced)
    if not mtom and not attachments:
        content_type = SOAP_CONTENT_TYPE
        if action:
            content_type += f"; action={quote_param(action)}"
        return OutgoingMessage(content_type, [envelope], len(envelope))
    content_type, chunks = build_multipart(envelope, list(attachments), action=action)
    return OutgoingMessage(content_type, chunks, chunks.content_length)
