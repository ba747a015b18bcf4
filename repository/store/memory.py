"""In-memory blob store: a fake for unit tests of the repository service. It holds every blob
whole in memory, so it is never for production; otherwise it behaves like the real stores
(same keys, errors, hashing and writer states)."""
from __future__ import annotations

import io
import threading

from repository.store.base import BlobNotFound, ReaderBase, WriterBase, check_key, new_key

__all__ = ["MemoryBlobStore"]


class MemoryBlobStore:
    """Blobs as bytes in a dict; `blobs` is readable for assertions in tests."""

    def __init__(self):
        self.blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def writer(self, prefix: str = "") -> _MemoryWriter:
        return _MemoryWriter(self, new_key(prefix))

    def open(self, key: str) -> _MemoryReader:
        with self._lock:
            data = self.blobs.get(check_key(key))
        if data is None:
            raise BlobNotFound(key)
        return _MemoryReader(key, data)

    def delete(self, key: str) -> None:
        with self._lock:
            self.blobs.pop(check_key(key), None)

    def exists(self, key: str) -> bool:
        with self._lock:
            return check_key(key) in self.blobs

    def describe(self) -> str:
        return f"memory ({len(self.blobs)} blobs)"

    def _put(self, key: str, data: bytes) -> None:
        with self._lock:
            self.blobs[key] = data


class _MemoryWriter(WriterBase):
    def __init__(self, store: MemoryBlobStore, key: str):
        super().__init__(store, key)
        self._buffer = io.BytesIO()

    def _write(self, chunk: bytes) -> None:
        self._buffer.write(chunk)

    def _complete(self) -> None:
        self._store._put(self.key, self._buffer.getvalue())
        self._buffer = io.BytesIO()

    def _abort(self) -> None:
        self._buffer = io.BytesIO()


class _MemoryReader(ReaderBase):
    def __init__(self, key: str, data: bytes):
        super().__init__(key, len(data))
        self._stream = io.BytesIO(data)

    def _read(self, size: int) -> bytes:
        return self._stream.read(size)

    def _release(self) -> None:
        self._stream.close()
