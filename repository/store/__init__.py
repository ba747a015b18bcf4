"""Blob stores: where the Document Repository keeps document bytes, behind one interface
(`base.BlobStore`): a local folder (`filesystem`), an S3 bucket (`s3`), and an in-memory fake
for unit tests (`memory`). `open_blob_store` is what the composition root calls with plain
values from the settings (blob_store, effective_blob_dir, s3_*).
"""
from __future__ import annotations

from pathlib import Path

from repository.store.base import (
    CHUNK_SIZE, BlobNotFound, BlobReader, BlobStore, BlobStoreError, BlobWriter, check_key, new_key,
)

__all__ = [
    "CHUNK_SIZE", "BlobNotFound", "BlobReader", "BlobStore", "BlobStoreError", "BlobWriter",
    "KINDS", "check_key", "new_key", "open_blob_store",
]

KINDS = ("filesystem", "s3", "memory")


def open_blob_store(kind: str, *, root: Path | str | None = None, endpoint: str | None = None,
                    bucket: str | None = None, access_key: str | None = None,
                    secret_key: str | None = None, secure: bool = True,
                    region: str | None = None) -> BlobStore:
    """The blob store of `kind` ("filesystem" needs `root`; "s3" needs `endpoint` and `bucket`
    and connects at once, creating the bucket when missing). Raises BlobStoreError when the
    settings are incomplete or the store is unusable."""
    if kind == "filesystem":
        if not root:
            raise BlobStoreError("the filesystem blob store needs a folder (blob_dir or data_dir)")
        from repository.store.filesystem import FilesystemBlobStore
        return FilesystemBlobStore(Path(root))
    if kind == "s3":
        if not endpoint or not bucket:
            raise BlobStoreError("the s3 blob store needs s3_endpoint (host:port) and s3_bucket")
        from repository.store.s3 import S3BlobStore
        return S3BlobStore(endpoint, bucket, access_key, secret_key, secure=secure, region=region)
    if kind == "memory":
        from repository.store.memory import MemoryBlobStore
        return MemoryBlobStore()
    raise BlobStoreError(f"unknown blob store {kind!r}; known: {', '.join(KINDS)}")
