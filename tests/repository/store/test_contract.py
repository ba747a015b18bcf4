"""The BlobStore contract, on every store: round trips, hashing, writer states, keys."""
from __future__ import annotations

import hashlib
import os
import random

import pytest

from repository.store import BlobNotFound, BlobReader, BlobStore, BlobWriter
from tests.repository.store.conftest import read_blob, write_blob

MiB = 1024 * 1024
SIZES = [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 1_000_003]
# Around the S3 store's 8 MiB part: one PutObject, then multipart with a 1-byte last part,
# then exactly two full parts.
PART_SIZES = [8 * MiB - 1, 8 * MiB, 8 * MiB + 1, 16 * MiB]


def test_store_and_writer_satisfy_the_protocols(store):
    writer = store.writer()
    assert isinstance(store, BlobStore) and isinstance(writer, BlobWriter)
    writer.close_part()
    with store.open(writer.key) as reader:
        assert isinstance(reader, BlobReader)
    store.delete(writer.key)
    assert store.describe()


@pytest.mark.parametrize("size", SIZES + PART_SIZES)
def test_round_trip_is_byte_identical_with_hashlib_sha1_and_size(store, size):
    data = os.urandom(size)
    writer = write_blob(store, data)
    assert writer.size == size
    assert writer.sha1 == hashlib.sha1(data).hexdigest()
    with store.open(writer.key) as reader:
        assert reader.size == size
        assert b"".join(reader.iter_chunks()) == data
    store.delete(writer.key)


def test_uneven_chunks_give_the_same_blob(store):
    data = os.urandom(300_000)
    rng = random.Random(7)
    writer, at = store.writer(), 0
    while at < len(data):
        step = rng.choice([0, 1, 13, 4096, 65536, 100_000])
        writer.write(data[at:at + step])
        at += step
    writer.close_part()
    assert read_blob(store, writer.key) == data
    assert writer.sha1 == hashlib.sha1(data).hexdigest()


def test_reader_chunks_are_bounded_and_read_works_like_a_file(store):
    data = os.urandom(200_000)
    key = write_blob(store, data).key
    with store.open(key) as reader:
        chunks = list(reader.iter_chunks(10_000))
    assert max(map(len, chunks)) <= 10_000 and b"".join(chunks) == data
    with store.open(key) as reader:
        assert reader.read(5) == data[:5]
        assert reader.read() == data[5:]
        assert reader.read() == b""


def test_iterating_a_reader_closes_it_at_the_end(store):
    key = write_blob(store, b"abc").key
    reader = store.open(key)
    assert b"".join(reader) == b"abc"
    assert reader.closed
    with pytest.raises(ValueError):
        reader.read()


def test_sha1_is_none_until_close_part_and_final_after(store):
    writer = store.writer()
    writer.write(b"hello")
    assert writer.sha1 is None and writer.size == 5
    writer.close_part()
    writer.close_part()  # idempotent
    assert writer.sha1 == hashlib.sha1(b"hello").hexdigest()
    with pytest.raises(ValueError):
        writer.write(b"more")


def test_writer_open_reads_the_completed_blob_back(store):
    writer = store.writer()
    with pytest.raises(ValueError):
        writer.open()
    writer.write(b"payload")
    writer.close_part()
    with writer.open() as reader:
        assert reader.read() == b"payload"


def test_with_block_completes_on_success_and_discards_on_error(store):
    with store.writer() as kept:
        kept.write(b"kept")
    assert store.exists(kept.key) and kept.sha1
    with pytest.raises(RuntimeError):
        with store.writer() as dropped:
            dropped.write(b"dropped")
            raise RuntimeError("message failed")
    assert not store.exists(dropped.key)


def test_discard_before_completion_leaves_nothing(store):
    writer = store.writer()
    writer.write(os.urandom(100_000))
    writer.discard()
    writer.discard()  # idempotent
    assert not store.exists(writer.key)
    with pytest.raises(ValueError):
        writer.write(b"x")
    with pytest.raises(ValueError):
        writer.close_part()


def test_discard_after_completion_removes_the_blob(store):
    writer = write_blob(store, b"stored then discarded")
    assert store.exists(writer.key)
    writer.discard()
    writer.discard()
    assert not store.exists(writer.key)


def test_close_keeps_a_complete_blob_and_discards_an_unfinished_one(store):
    complete = write_blob(store, b"complete")
    complete.close()
    unfinished = store.writer()
    unfinished.write(b"unfinished")
    unfinished.close()
    assert store.exists(complete.key) and not store.exists(unfinished.key)


def test_delete_is_idempotent(store):
    key = write_blob(store, b"x").key
    store.delete(key)
    store.delete(key)
    store.delete("never-written")
    assert not store.exists(key)


def test_open_of_a_missing_key_raises_blob_not_found(store):
    key = store.writer().key  # a valid key never completed
    with pytest.raises(BlobNotFound) as caught:
        store.open(key)
    assert caught.value.key == key and key in str(caught.value)


def test_exists(store):
    writer = store.writer()
    writer.write(b"x")
    assert not store.exists(writer.key)
    writer.close_part()
    assert store.exists(writer.key)


def test_keys_are_fresh_and_take_a_prefix(store):
    keys = {store.writer().key for _ in range(100)}
    assert len(keys) == 100
    writer = write_blob(store, b"dated", prefix="2024/05/")
    assert writer.key.startswith("2024/05/")
    assert read_blob(store, writer.key) == b"dated"


@pytest.mark.parametrize("key", ["", "../etc/passwd", "a/../b", "a//b", "/a", "a/", "a.blob", "a b"])
def test_invalid_keys_are_refused(store, key):
    for operation in (store.open, store.exists, store.delete):
        with pytest.raises(ValueError):
            operation(key)
    with pytest.raises(ValueError):
        store.writer(prefix=key + ".")
