"""A 48 MiB blob written in 64 KiB chunks and read back streaming: memory stays bounded (the
S3 store holds at most one 8 MiB part), and on S3 it goes up as a multipart upload."""
from __future__ import annotations

import hashlib
import time
import tracemalloc

import pytest

MiB = 1024 * 1024
BLOB_SIZE = 48 * MiB
CHUNK = 64 * 1024


def chunks(count: int = BLOB_SIZE // CHUNK):
    """Deterministic, incompressible 64 KiB chunks, made one at a time."""
    for number in range(count):
        yield hashlib.shake_128(number.to_bytes(8, "big")).digest(CHUNK)


def memory_limit(store) -> int:
    """At most one part in memory for S3; a few chunks for the others."""
    return store.part_size + 2 * MiB if hasattr(store, "part_size") else 2 * MiB


@pytest.fixture
def big_store(store, monkeypatch):
    if type(store).__name__ == "MemoryBlobStore":
        pytest.skip("the in-memory fake holds blobs whole by design")
    parts = []
    if hasattr(store, "client"):
        upload_part = store.client._upload_part

        def counted(*args):
            parts.append(len(args[2]))
            return upload_part(*args)

        monkeypatch.setattr(store.client, "_upload_part", counted)
    store.uploaded_parts = parts
    yield store
    del store.uploaded_parts


def test_large_blob_streams_both_ways_in_bounded_memory(big_store):
    store = big_store
    expected = hashlib.sha1()
    tracemalloc.start()
    try:
        started = time.perf_counter()
        writer = store.writer()
        for chunk in chunks():
            expected.update(chunk)
            writer.write(chunk)
        writer.close_part()
        written = time.perf_counter()
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        actual, size = hashlib.sha1(), 0
        with store.open(writer.key) as reader:
            assert reader.size == BLOB_SIZE
            for chunk in reader.iter_chunks():
                actual.update(chunk)
                size += len(chunk)
        read = time.perf_counter()
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\n{store.describe()}: write {BLOB_SIZE / MiB / (written - started):.0f} MiB/s "
          f"(peak {write_peak / MiB:.1f} MiB), read {BLOB_SIZE / MiB / (read - written):.0f} MiB/s "
          f"(peak {read_peak / MiB:.1f} MiB)")
    assert (writer.size, size) == (BLOB_SIZE, BLOB_SIZE)
    assert writer.sha1 == expected.hexdigest() == actual.hexdigest()
    assert write_peak < memory_limit(store) and read_peak < memory_limit(store)
    if hasattr(store, "client"):
        assert store.uploaded_parts == [store.part_size] * (BLOB_SIZE // store.part_size)
    store.delete(writer.key)
