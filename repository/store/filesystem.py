"""Blob store in a local folder: the default when no S3 server is configured.

Layout: key `[prefix/]name` lives at `root/[prefix/]name[:2]/name.blob` (the two-character
fan-out keeps folders small). A writer writes to `name.<random>.part` in the same folder and,
on `close_part()`, fsyncs it and renames it into place atomically (then fsyncs the folder), so
a reader never sees a half-written blob and a crash leaves at most a stray `.part` file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from repository.store.base import BlobNotFound, BlobStoreError, ReaderBase, WriterBase, check_key, new_key

__all__ = ["FilesystemBlobStore"]

BLOB_SUFFIX = ".blob"
PART_SUFFIX = ".part"


class FilesystemBlobStore:
    """Blobs as files under `root` (created when missing). `fsync=False` trades durability
    for speed, e.g. in throwaway test stores."""

    def __init__(self, root: Path | str, *, fsync: bool = True):
        self.root = Path(root)
        self.fsync = fsync
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobStoreError(f"cannot create blob folder {self.root}: {exc.strerror}") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise BlobStoreError(f"blob folder {self.root} is not writable by this process")

    def path_of(self, key: str) -> Path:
        """The file that holds the blob `key`."""
        *prefix, name = check_key(key).split("/")
        return self.root.joinpath(*prefix, name[:2], name + BLOB_SUFFIX)

    def writer(self, prefix: str = "") -> _FileWriter:
        return _FileWriter(self, new_key(prefix))

    def open(self, key: str) -> _FileReader:
        try:
            handle = open(self.path_of(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as exc:
            raise BlobStoreError(f"cannot read blob {key} in {self.root}: {exc.strerror}") from None
        return _FileReader(key, handle)

    def delete(self, key: str) -> None:
        try:
            self.path_of(key).unlink(missing_ok=True)
        except OSError as exc:
            raise BlobStoreError(f"cannot delete blob {key} in {self.root}: {exc.strerror}") from None

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def describe(self) -> str:
        return f"filesystem {self.root}"

    def __repr__(self) -> str:
        return f"FilesystemBlobStore({str(self.root)!r})"


class _FileWriter(WriterBase):
    """Writes to a `.part` file beside the final path; atomic rename on completion."""

    def __init__(self, store: FilesystemBlobStore, key: str):
        super().__init__(store, key)
        self._final = store.path_of(key)
        self._fsync = store.fsync
        try:
            self._final.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(
                dir=self._final.parent, prefix=self._final.stem + ".", suffix=PART_SUFFIX
            )
        except OSError as exc:
            raise BlobStoreError(f"cannot write in {self._final.parent}: {exc.strerror}") from None
        self._temp = Path(temp)
        self._file = os.fdopen(fd, "wb")

    def _write(self, chunk: bytes) -> None:
        try:
            self._file.write(chunk)
        except OSError as exc:
            raise BlobStoreError(f"cannot write blob {self.key}: {exc.strerror}") from exc

    def _complete(self) -> None:
        try:
            self._publish()
        except OSError as exc:
            raise BlobStoreError(f"cannot store blob {self.key}: {exc.strerror}") from exc

    def _publish(self) -> None:
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp, self._final)
        if self._fsync:
            _fsync_folder(self._final.parent)

    def _abort(self) -> None:
        self._file.close()
        self._temp.unlink(missing_ok=True)
        # Completion may fail after the rename (the folder fsync); the key is this writer's own.
        self._final.unlink(missing_ok=True)


class _FileReader(ReaderBase):
    """Streams one blob file."""

    def __init__(self, key: str, handle):
        super().__init__(key, os.fstat(handle.fileno()).st_size)
        self._handle = handle

    def _read(self, size: int) -> bytes:
        return self._handle.read(size)

    def _release(self) -> None:
        self._handle.close()


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX: the directory entry lives in the folder)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
