"""MTOM/XOP both ways: split an XOP package into root XML and streamed attachments, resolve
xop:Include references, and write an XOP package whose attachments stream from iterables.

Owns XOP 1.0 (W3C Recommendation 2005, §3 xop:Include, §4 the MIME packaging), SOAP MTOM
(W3C Recommendation 2005, §3 the HTTP serialization), RFC 2387 (multipart/related and its
`type`/`start`/`start-info` parameters) and RFC 2392 (`cid:` URLs vs. Content-ID values).

Attachment sinks: `sink_factory(content_id, content_type)` returns an object with
`write(bytes)`; optional methods are called when present:
  - `close_part()`  the part arrived completely (e.g. a blob writer finalises its hash),
  - `discard()`     the message as a whole failed; drop what was written,
  - `open()`        a fresh readable file over the content (else the sink itself is rewound),
  - `close()`       release resources once the exchange is over.
"""
from __future__ import annotations

import base64
import binascii
import io
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote, unquote

from lxml import etree

from soap.mime import (
    CHUNK_SIZE,
    MtomError,
    MultipartReader,
    close_delimiter,
    new_boundary,
    parse_media_type,
    part_head,
    quote_param,
)
from soap.xml import DEFAULT_MAX_XML_BYTES, XOP_NS

__all__ = [
    "Attachment", "MtomError", "MtomMessage", "OutgoingAttachment", "MultipartBody", "XopMap",
    "parse_multipart", "build_multipart", "resolve_xop", "content_of", "include_element",
    "cid_url", "normalize_content_id", "new_content_id", "spooled_sink", "default_sink_factory",
]

XOP_INCLUDE = f"{{{XOP_NS}}}Include"
XOP_MEDIA_TYPE = "application/xop+xml"
SOAP_MEDIA_TYPE = "application/soap+xml"
SPOOL_MAX_BYTES = 1024 * 1024
# Memory one message's default sinks may hold: past this many spooled parts, parts go
# straight to disk, so a message of thousands of small parts cannot fill memory.
SPOOLED_PARTS_PER_MESSAGE = 16
MAX_PARTS = 10_000

SinkFactory = Callable[[str, str], Any]
RootHook = Callable[[bytes], "SinkFactory | None"]


def spooled_sink(_content_id: str, _content_type: str) -> BinaryIO:
    """Memory up to 1 MiB, then a temporary file."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)


def default_sink_factory(spooled_parts: int = SPOOLED_PARTS_PER_MESSAGE) -> SinkFactory:
    """Sinks for one message: the first `spooled_parts` are spooled, the rest temporary files."""
    left = spooled_parts

    def factory(content_id: str, content_type: str) -> BinaryIO:
        nonlocal left
        left -= 1
        return spooled_sink(content_id, content_type) if left >= 0 else tempfile.TemporaryFile()

    return factory


@dataclass(eq=False)
class Attachment:
    """One received MIME part (or decoded inline base64); `handle` is the sink it went to."""

    content_id: str | None
    content_type: str
    handle: Any
    size: int

    def open(self) -> BinaryIO:
        if callable(getattr(self.handle, "open", None)):
            return self.handle.open()
        self.handle.seek(0)
        return self.handle

    def read_bytes(self) -> bytes:
        return self.open().read()

    def close(self) -> None:
        if callable(getattr(self.handle, "close", None)):
            self.handle.close()


@dataclass
class MtomMessage:
    """A split XOP package: the root part's bytes and the other parts by content-id."""

    root: bytes
    root_content_type: str
    root_content_id: str | None
    attachments: dict[str, Attachment]


# ---------------------------------------------------------------- content-ids (RFC 2392)


def normalize_content_id(value: str) -> str:
    """'<a@b>' (Content-ID header) and 'cid:a%40b' (URL) both become 'a@b'."""
    value = value.strip()
    if value[:4].lower() == "cid:":
        return unquote(value[4:])
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1].strip()
    return value


def cid_url(content_id: str) -> str:
    """The `cid:` URL of a content-id: characters not allowed in a URL are %-escaped."""
    return "cid:" + quote(normalize_content_id(content_id), safe="!$&'()*+,;=:@-._~")


def new_content_id() -> str:
    return f"{uuid.uuid4().hex}@localhost"


def include_element(content_id: str) -> etree._Element:
    """An `xop:Include` element referring to the part with this content-id."""
    element = etree.Element(XOP_INCLUDE, nsmap={"xop": XOP_NS})
    element.set("href", cid_url(content_id))
    return element


# ---------------------------------------------------------------- reading


def parse_multipart(
    stream: BinaryIO,
    content_type: str,
    sink_factory: SinkFactory | None = None,
    *,
    max_root_bytes: int = DEFAULT_MAX_XML_BYTES,
    on_root: RootHook | None = None,
    chunk_size: int = CHUNK_SIZE,
    max_parts: int = MAX_PARTS,
) -> MtomMessage:
    """Split the XOP package read from `stream` (RFC 2387 multipart/related).

    The root part is the one named by `start`, else the first. Other parts are streamed chunk
    by chunk into sinks from `sink_factory` (default: a fresh `default_sink_factory()`).
    `on_root(root_bytes)` runs as soon as the root part is complete and may return the sink
    factory for the parts after it: this is how a caller picks sinks by SOAP action before
    any document byte is written.
    """
    _, params = parse_media_type(content_type)
    start = normalize_content_id(params["start"]) if params.get("start") else None
    factory = sink_factory or default_sink_factory()
    attachments: dict[str, Attachment] = {}
    root: tuple[bytes, str, str | None] | None = None
    try:
        reader = MultipartReader(stream, params.get("boundary", ""), chunk_size=chunk_size)
        for count, part in enumerate(reader.parts(), 1):
            if count > max_parts:
                raise MtomError(f"more than {max_parts} MIME parts")
            cid = normalize_content_id(part.headers.get("content-id", ""))
            ptype = part.headers.get("content-type", "application/octet-stream")
            if root is None and (cid == start if start else True):
                root = (part.read_bytes(max_root_bytes), ptype, cid or None)
                _check_root_type(ptype)
                if on_root is not None:
                    factory = on_root(root[0]) or factory
                continue
            if not cid:
                raise MtomError("MIME part without Content-ID")
            if cid in attachments or cid == (root and root[2]):
                raise MtomError(f"duplicate Content-ID <{cid}>")
            attachments[cid] = _receive(part, cid, ptype, factory)
    except BaseException:
        _discard_all(attachments.values())
        raise
    if root is None:
        _discard_all(attachments.values())
        raise MtomError(f"root part <{start}> not found" if start else "multipart has no parts")
    return MtomMessage(root[0], root[1], root[2], attachments)


def _check_root_type(content_type: str) -> None:
    mime, _ = parse_media_type(content_type)
    if mime != XOP_MEDIA_TYPE:
        raise MtomError(f"root part must be {XOP_MEDIA_TYPE}, not {mime or 'untyped'}")


def _receive(part, cid: str, content_type: str, factory: SinkFactory) -> Attachment:
    sink = factory(cid, content_type)
    attachment = Attachment(cid, content_type, sink, 0)
    write = sink.write

    def counted(data: bytes) -> None:
        attachment.size += len(data)
        write(data)

    try:
        part.stream_to(counted)
    except BaseException:
        _discard_all([attachment])
        raise
    if callable(getattr(sink, "close_part", None)):
        sink.close_part()
    return attachment


def _discard_all(attachments: Iterable[Attachment]) -> None:
    for attachment in attachments:
        handle = attachment.handle
        drop = getattr(handle, "discard", None) or getattr(handle, "close", None)
        if callable(drop):
            drop()


# ---------------------------------------------------------------- XOP resolution


class XopMap:
    """Which element's content is which attachment, after XOP resolution.

    Keys are the parents of xop:Include elements (e.g. an XDS `Document` element), which is
    where the content would sit inline; `content_of` also serves inline base64 content.
    """

    def __init__(self, by_element: dict[etree._Element, Attachment] | None = None):
        self._by_element = by_element or {}

    def __len__(self) -> int:
        return len(self._by_element)

    def __contains__(self, element: etree._Element) -> bool:
        return element in self._by_element

    def items(self):
        return self._by_element.items()

    def attachment_for(self, element: etree._Element) -> Attachment | None:
        return self._by_element.get(element)

    def content_of(self, element: etree._Element) -> Attachment:
        attachment = self._by_element.get(element)
        return attachment if attachment is not None else content_of(element)


def resolve_xop(root: etree._Element, attachments: dict[str, Attachment]) -> XopMap:
    """Map each xop:Include's parent to its attachment; unresolvable references are errors."""
    found: dict[etree._Element, Attachment] = {}
    for include in root.iter(XOP_INCLUDE):
        href = (include.get("href") or "").strip()
        if href[:4].lower() != "cid:":
            raise MtomError(f"xop:Include href must be a cid: URL, not {href!r}")
        attachment = attachments.get(normalize_content_id(href)) or attachments.get(href[4:])
        if attachment is None:
            raise MtomError(f"xop:Include {href} refers to no MIME part")
        parent = include.getparent()
        if parent is None or parent in found:
            raise MtomError(f"xop:Include {href} must be the only content of its element")
        found[parent] = attachment
    return XopMap(found)


def content_of(element: etree._Element) -> Attachment:
    """Inline base64 content (XOP's unoptimized form) as an in-memory Attachment."""
    if any(child.tag == XOP_INCLUDE for child in element):
        raise MtomError("element holds an xop:Include that was not resolved")
    text = "".join(element.itertext()).encode("ascii", "replace")
    try:
        data = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MtomError(f"element content is not valid base64: {exc}") from None
    return Attachment(None, "application/octet-stream", io.BytesIO(data), len(data))


# ---------------------------------------------------------------- writing


@dataclass(frozen=True)
class OutgoingAttachment:
    """A part to send: its bytes come from `chunks` when the body is iterated, not before."""

    content_id: str
    content_type: str
    chunks: Iterable[bytes]
    size: int | None = None

    @classmethod
    def from_bytes(cls, content_id: str, data: bytes, content_type: str = "application/octet-stream"):
        return cls(content_id, content_type, (bytes(data),), len(data))


class MultipartBody:
    """The XOP package as an iterator of byte chunks; `content_length` when knowable."""

    def __init__(self, pieces: Iterator[bytes], content_length: int | None, close: Callable[[], None]):
        self._pieces = pieces
        self.content_length = content_length
        self._close = close

    def __iter__(self) -> MultipartBody:
        return self

    def __next__(self) -> bytes:
        return next(self._pieces)

    def close(self) -> None:
        self._close()


def build_multipart(
    root_xml: bytes,
    attachments: Sequence[OutgoingAttachment] = (),
    *,
    boundary: str | None = None,
    root_content_id: str | None = None,
    action: str | None = None,
) -> tuple[str, MultipartBody]:
    """Return (Content-Type, body) of an MTOM message: root part first, then each attachment."""
    boundary = boundary or new_boundary()
    root_cid = normalize_content_id(root_content_id or new_content_id())
    content_type = (
        f"multipart/related; boundary={quote_param(boundary)}; type=\"{XOP_MEDIA_TYPE}\"; "
        f"start=\"<{root_cid}>\"; start-info=\"{SOAP_MEDIA_TYPE}\""
    )
    if action:
        content_type += f"; action={quote_param(action)}"
    root_head = part_head(boundary, [
        ("Content-Type", f'{XOP_MEDIA_TYPE}; charset=UTF-8; type="{SOAP_MEDIA_TYPE}"'),
        ("Content-Transfer-Encoding", "binary"),
        ("Content-ID", f"<{root_cid}>"),
    ], first=True)
    heads = [_attachment_head(boundary, attachment) for attachment in attachments]
    tail = close_delimiter(boundary)
    length = None
    if all(attachment.size is not None for attachment in attachments):
        length = len(root_head) + len(root_xml) + len(tail) + sum(
            len(head) + attachment.size for head, attachment in zip(heads, attachments)
        )
    pieces = _pieces(root_head + root_xml, heads, attachments, tail)
    return content_type, MultipartBody(pieces, length, pieces.close)


def _attachment_head(boundary: str, attachment: OutgoingAttachment) -> bytes:
    return part_head(boundary, [
        ("Content-Type", attachment.content_type),
        ("Content-Transfer-Encoding", "binary"),
        ("Content-ID", f"<{normalize_content_id(attachment.content_id)}>"),
    ], first=False)


def _pieces(first: bytes, heads: list[bytes], attachments, tail: bytes) -> Iterator[bytes]:
    yield first
    for head, attachment in zip(heads, attachments):
        yield head
        chunks = attachment.chunks
        if isinstance(chunks, (bytes, bytearray, memoryview)):
            chunks = (bytes(chunks),)
        sent = 0
        try:
            for chunk in chunks:
                if chunk:
                    sent += len(chunk)
                    yield bytes(chunk)
        finally:
            if callable(getattr(chunks, "close", None)):
                chunks.close()  # e.g. a blob-store stream abandoned mid-way
        if attachment.size is not None and sent != attachment.size:
            # The declared Content-Length would now be wrong; abort rather than corrupt.
            raise MtomError(
                f"attachment <{attachment.content_id}> gave {sent} bytes, declared {attachment.size}"
            )
    yield tail
