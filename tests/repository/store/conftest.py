"""Every contract test runs on each blob store: a folder, the in-memory fake and, when
XDSNO_TEST_S3_ENDPOINT is set (.ci/run starts s3rver), S3 in a bucket of its own per test
module."""
from __future__ import annotations

import pytest

from tests.blobstores import KINDS, fresh_blob_store


@pytest.fixture(scope="module", params=KINDS)
def store(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("blobs") if request.param == "filesystem" else None
    with fresh_blob_store(request.param, directory) as store:
        yield store


def write_blob(store, data: bytes, chunk_size: int = 64 * 1024, prefix: str = ""):
    """A completed writer holding `data`, written in chunks of `chunk_size`."""
    writer = store.writer(prefix)
    for start in range(0, len(data), chunk_size):
        writer.write(data[start:start + chunk_size])
    writer.close_part()
    return writer


def read_blob(store, key: str) -> bytes:
    with store.open(key) as reader:
        return b"".join(reader.iter_chunks())
