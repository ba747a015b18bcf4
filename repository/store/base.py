"""The blob store interface the Document Repository keeps document bytes behind, and the parts
every store shares: keys, errors, the hashing writer skeleton and the streaming reader skeleton.

A document is never held whole in memory: a `BlobWriter` takes it chunk by chunk (computing
SHA-1 and size while writing) and a `BlobReader` gives it back chunk by chunk.

A `BlobWriter` is also an MTOM attachment sink (soap/mtom.py): the parser calls `write(chunk)`
per chunk, `close_part()` when the part is complete, `discard()` when the message fails, and
later `Attachment.open()` → `writer.open()` (a fresh `BlobReader` over the stored blob) and
`Attachment.close()` → `writer.close()`. So a repository's sink factory can simply be
`lambda content_id, content_type: store.writer()`; after parsing, each attachment's `handle`
is the writer with `key`, `sha1` and `size` final.
"""
from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

__all__ = [
    "CHUNK_SIZE", "BlobStore", "BlobWriter", "BlobReader", "BlobNotFound", "BlobStoreError",
    "WriterBase", "ReaderBase", "new_key", "check_key",
]

CHUNK_SIZE = 64 * 1024
MAX_KEY_LENGTH = 512
# Path segments of letters, digits, '_' and '-': safe as S3 object names and as file paths
# (no '.', so no '..' and no clash with the filesystem store's '.blob' files).
_KEY = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
log = logging.getLogger(__name__)


class BlobStoreError(Exception):
    """The store cannot do its work: configuration, connection, credentials or permissions."""


class BlobNotFound(LookupError):
    """No blob is stored under `key`."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no blob stored under key {self.key!r}"


def check_key(key: str) -> str:
    """`key` itself when it is a valid blob key, else ValueError."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(f"invalid blob key {key!r}: '/'-separated segments of [A-Za-z0-9_-]")
    return key


def new_key(prefix: str = "") -> str:
    """A fresh unique key: `prefix` followed by a uuid4 in hex (e.g. '2024/' or 'doc-')."""
    return check_key(prefix + uuid.uuid4().hex)


@runtime_checkable
class BlobReader(Protocol):
    """One stored blob, read as a stream. Close it (or use `with`) to release the connection."""

    key: str
    size: int

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]: ...
    def read(self, size: int = -1) -> bytes: ...
    def close(self) -> None: ...
    def __iter__(self) -> Iterator[bytes]: ...
    def __enter__(self) -> BlobReader: ...
    def __exit__(self, *exc_info) -> None: ...


@runtime_checkable
class BlobWriter(Protocol):
    """A new blob being written under `key`; `sha1` (lowercase hex, None until then) and `size`
    final after `close_part()`. Used with `with`, it completes on success and discards on an exception."""

    key: str
    size: int
    sha1: str | None

    def write(self, chunk: bytes) -> None: ...
    def close_part(self) -> None: ...
    def discard(self) -> None: ...
    def open(self) -> BlobReader: ...
    def close(self) -> None: ...
    def __enter__(self) -> BlobWriter: ...
    def __exit__(self, *exc_info) -> None: ...


@runtime_checkable
class BlobStore(Protocol):
    """Where document bytes live. Implementations are safe to share between threads."""

    def writer(self, prefix: str = "") -> BlobWriter: ...
    def open(self, key: str) -> BlobReader: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def describe(self) -> str: ...


class WriterBase:
    """Hashing, sizing and the writing → complete | discarded state machine of a writer.

    Subclasses implement `_write(chunk)`, `_complete()` (make the blob visible), `_abort()`
    (drop an unfinished blob) and `_remove()` (delete a completed blob); `_abort()` and
    `_remove()` may be called again after they failed, and must then finish the job.
    """

    def __init__(self, store: BlobStore, key: str):
        self.key = key
        self.size = 0
        self.sha1: str | None = None
        self._store = store
        self._hash = hashlib.sha1()
        self._state = "writing"

    @property
    def completed(self) -> bool:
        return self._state == "complete"

    def write(self, chunk: bytes) -> None:
        if self._state != "writing":
            raise ValueError(f"blob {self.key} is {self._state}; no more writes")
        if chunk:
            self._hash.update(chunk)
            self.size += len(chunk)
            self._write(chunk)

    def close_part(self) -> None:
        """Finish the blob; on failure it is discarded and the error raised."""
        if self._state == "complete":
            return
        if self._state != "writing":
            raise ValueError(f"blob {self.key} is {self._state}; cannot complete it")
        try:
            self._complete()
        except BaseException:
            self.discard()
            raise
        self._state = "complete"
        self.sha1 = self._hash.hexdigest()

    def discard(self) -> None:
        """Drop what was written, whether or not the blob was completed. Idempotent.

        Runs on error paths, so a store failure here is logged, not raised: it must not hide
        the error that caused the discard. The store's `janitor` (when it has one) tries the
        removal again later, so a blob or upload is not left behind for good when the store
        was down at the time (see repository.store.janitor).
        """
        state, self._state = self._state, "discarded"
        removal = {"writing": self._abort, "complete": self._remove}.get(state)
        if removal is None:
            return
        try:
            removal()
        except BlobStoreError as exc:
            janitor = getattr(self._store, "janitor", None)
            log.warning("could not discard blob %s: %s%s", self.key, exc,
                        "; retrying in the background" if janitor is not None else "")
            if janitor is not None:
                janitor.retry(f"blob {self.key}", removal)

    def open(self) -> BlobReader:
        """A fresh reader over the completed blob (what soap's Attachment.open() returns)."""
        if self._state != "complete":
            raise ValueError(f"blob {self.key} is {self._state}; only a complete blob is readable")
        return self._store.open(self.key)

    def close(self) -> None:
        """Release the writer: a complete blob stays, an unfinished one is discarded."""
        if self._state == "writing":
            self.discard()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close_part()
        else:
            self.discard()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key} {self._state} {self.size} bytes>"

    def _write(self, chunk: bytes) -> None:
        raise NotImplementedError

    def _complete(self) -> None:
        raise NotImplementedError

    def _abort(self) -> None:
        raise NotImplementedError

    def _remove(self) -> None:
        self._store.delete(self.key)


class ReaderBase:
    """A blob read as a stream on top of `_read(n)` (up to n bytes, b'' at the end) and
    `_release()`; also a minimal readable file (`read`) and an iterable of chunks that closes
    itself when exhausted, so it can be an MTOM OutgoingAttachment's `chunks` directly."""

    def __init__(self, key: str, size: int):
        self.key = key
        self.size = size
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        if self.closed:
            raise ValueError(f"reader of blob {self.key} is closed")
        if size is not None and size >= 0:
            return self._read(size)
        pieces = []
        while piece := self._read(CHUNK_SIZE):
            pieces.append(piece)
        return b"".join(pieces)

    def readable(self) -> bool:
        return True

    def iter_chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        try:
            while chunk := self._read(chunk_size):
                yield chunk
        finally:
            self.close()

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key} {self.size} bytes>"

    def _read(self, size: int) -> bytes:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError
