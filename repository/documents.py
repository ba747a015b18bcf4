"""Document content arriving with ITI-41 (ITI TF-2 3.41.4.1.2), written to the blob store as it
arrives and hashed (SHA-1) and sized on the way (DESIGN.md §3).

`IncomingDocument` is the MTOM attachment sink the ITI-41 route registers: each MIME part
streams into a fresh `BlobWriter` while the request is still being read, so no document is
ever held whole in memory. A document that is not kept is deleted from the store:
`discard()` (the message failed while being read) or `close()` (the exchange is over and
nobody called `keep()`, e.g. a part no xdsb:Document refers to, or a failed submission).
When the store fails while a part arrives (e.g. the S3 server is down), the part is dropped,
the rest of it is read and ignored, and `failure` says why: the submission is then answered
with XDSRepositoryError instead of breaking off the request.

Content that did not come through such a sink — inline base64 in xdsb:Document (XOP's
unoptimized form), or an attachment in another sink — is copied into the store in chunks by
`store_base64` / `store_stream`.
"""
from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from .store import BlobStoreError

log = logging.getLogger(__name__)

#: characters of base64 text decoded at a time (a multiple of 4)
BASE64_CHUNK = 1024 * 1024
COPY_CHUNK = 256 * 1024


class InvalidContent(ValueError):
    """An xdsb:Document whose inline content is not base64."""


class IncomingDocument:
    """One document's bytes on their way into the blob store (an MTOM sink, soap.mtom)."""

    def __init__(self, store):
        self._writer = store.writer()
        self._complete = False
        self._kept = False
        self._dropped = False
        #: the store's error when it could not take the document (nothing of it stays stored)
        self.failure: BlobStoreError | None = None

    @property
    def key(self) -> str:
        return self._writer.key

    @property
    def sha1(self) -> str:
        """Hex SHA-1 of the content; final once the part is complete."""
        return self._writer.sha1.lower()

    @property
    def size(self) -> int:
        return self._writer.size

    @property
    def complete(self) -> bool:
        return self._complete and not self._dropped

    def write(self, chunk: bytes) -> None:
        if self.failure is None:
            try:
                self._writer.write(chunk)
            except BlobStoreError as exc:
                self._fail(exc)

    def close_part(self) -> None:
        if self.failure is None:
            try:
                self._writer.close_part()
            except BlobStoreError as exc:
                self._fail(exc)
            else:
                self._complete = True

    def _fail(self, exc: BlobStoreError) -> None:
        log.error("blob store failed while storing document blob %s: %s", self._writer.key, exc)
        self.failure = exc
        self.drop()

    def open(self):
        """A fresh reader over the complete blob (soap.mtom Attachment.open)."""
        return self._writer.open()

    def keep(self) -> None:
        """The submission succeeded: the blob stays after the exchange."""
        self._kept = True

    def discard(self) -> None:
        self.drop()

    def close(self) -> None:
        if not self._kept:
            self.drop()

    def drop(self) -> None:
        """Remove what was written (idempotent; store errors are logged, never raised)."""
        if self._dropped or self._kept:
            return
        self._dropped = True
        try:
            self._writer.discard()  # removes a completed blob too
        except Exception:
            log.exception("could not remove blob %s of a failed submission", self._writer.key)


def store_base64(store, element: etree._Element) -> IncomingDocument:
    """The inline base64 content of `element` decoded chunk by chunk into a new blob."""
    if len(element):
        raise InvalidContent("the content must be base64 text or one xop:Include")
    document = IncomingDocument(store)
    try:
        for data in _base64_chunks(element.text or ""):
            document.write(data)
        document.close_part()
    except BaseException:
        document.drop()
        raise
    return document


def store_stream(store, stream: BinaryIO) -> IncomingDocument:
    """The bytes of `stream` copied into a new blob."""
    document = IncomingDocument(store)
    try:
        while data := stream.read(COPY_CHUNK):
            document.write(data)
        document.close_part()
    except BaseException:
        document.drop()
        raise
    return document


def _base64_chunks(text: str) -> Iterator[bytes]:
    carry = ""
    for start in range(0, len(text), BASE64_CHUNK):
        piece = carry + "".join(text[start:start + BASE64_CHUNK].split())
        cut = len(piece) - len(piece) % 4
        carry = piece[cut:]
        if cut:
            yield _decode(piece[:cut])
    if carry:
        raise InvalidContent(f"base64 content ends with {len(carry)} stray character(s)")


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidContent(f"not valid base64: {exc}") from None
