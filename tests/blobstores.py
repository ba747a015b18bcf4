"""Fresh, empty blob stores for tests: a folder, an in-memory fake, or a new bucket on the S3
server of `XDSNO_TEST_S3_ENDPOINT` (emptied and removed afterwards).

    with fresh_blob_store("s3") as store:       # skips when no S3 server is configured
        writer = store.writer()

    def test_something(blob_store): ...         # runs once per kind (fixture below)

.ci/run starts s3rver (scripts/ci/s3.sh) and sets XDSNO_TEST_S3_ENDPOINT=127.0.0.1:PORT; the
credentials default to s3rver's (S3RVER/S3RVER), XDSNO_TEST_S3_ACCESS_KEY / _SECRET_KEY /
_REGION / _SECURE override them for another server.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from repository.store import BlobStore, open_blob_store

ENV = "XDSNO_TEST_S3_ENDPOINT"
KINDS = ("filesystem", "s3", "memory")


def s3_settings() -> dict | None:
    """Keyword arguments of S3BlobStore (without bucket) for the test server, or None."""
    endpoint = os.environ.get(ENV, "")
    if not endpoint:
        return None
    return {
        "endpoint": endpoint,
        "access_key": os.environ.get("XDSNO_TEST_S3_ACCESS_KEY", "S3RVER"),
        "secret_key": os.environ.get("XDSNO_TEST_S3_SECRET_KEY", "S3RVER"),
        "region": os.environ.get("XDSNO_TEST_S3_REGION", "us-east-1"),
        "secure": os.environ.get("XDSNO_TEST_S3_SECURE", "") in ("1", "true"),
    }


def new_bucket_name() -> str:
    return f"xdsno-test-{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def fresh_blob_store(kind: str, directory: Path | None = None, **options) -> Iterator[BlobStore]:
    """A new, empty store of `kind`; filesystem in `directory` (a temporary folder when None);
    s3 skips the test when XDSNO_TEST_S3_ENDPOINT is unset. `options` go to the store."""
    if kind == "filesystem":
        owned = directory is None
        folder = Path(tempfile.mkdtemp(prefix="xdsno-blobs-")) if owned else directory
        try:
            yield open_blob_store("filesystem", root=folder)
        finally:
            if owned:
                shutil.rmtree(folder, ignore_errors=True)
    elif kind == "s3":
        settings = s3_settings()
        if settings is None:
            pytest.skip(f"{ENV} is not set")
        from repository.store.s3 import S3BlobStore
        store = S3BlobStore(bucket=new_bucket_name(), **settings, **options)
        try:
            yield store
        finally:
            remove_bucket(store)
    elif kind == "memory":
        yield open_blob_store("memory")
    else:
        raise ValueError(f"unknown blob store kind {kind!r}; known: {', '.join(KINDS)}")


def remove_bucket(store) -> None:
    """Best effort: abort open uploads, delete every object, delete the bucket."""
    client, bucket = store.client, store.bucket
    with contextlib.suppress(Exception):
        for upload in client._list_multipart_uploads(bucket).uploads:
            client._abort_multipart_upload(bucket, upload.object_name, upload.upload_id)
    with contextlib.suppress(Exception):
        for obj in client.list_objects(bucket, recursive=True):
            client.remove_object(bucket, obj.object_name)
        client.remove_bucket(bucket)


@pytest.fixture(params=KINDS)
def blob_store(request) -> Iterator[BlobStore]:
    """A fresh blob store, once per kind; S3 is skipped without XDSNO_TEST_S3_ENDPOINT."""
    with fresh_blob_store(request.param) as store:
        yield store
