"""Many writers and readers at once on one store instance (the repository serves requests on
threads; one store object is shared)."""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

MiB = 1024 * 1024


def write_then_read(store, size: int) -> tuple[str, str, str]:
    data = os.urandom(size)
    writer = store.writer("concurrent/")
    for start in range(0, size, 64 * 1024):
        writer.write(data[start:start + 64 * 1024])
    writer.close_part()
    with store.open(writer.key) as reader:
        back = hashlib.sha1(b"".join(reader)).hexdigest()
    return writer.key, writer.sha1, back


def test_concurrent_writers_and_readers(store):
    # Two of them pass 8 MiB, so S3 multipart uploads run side by side with PutObjects.
    sizes = [100_000 * n for n in range(1, 15)] + [9 * MiB, 10 * MiB]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda size: write_then_read(store, size), sizes))
    keys = {key for key, _, _ in results}
    assert len(keys) == len(sizes)
    for key, written, read in results:
        assert written == read
        assert store.exists(key)
        store.delete(key)
