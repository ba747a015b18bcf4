"""A blob writer is an MTOM attachment sink as soap/mtom.py calls it: document parts stream
into the store while the message is parsed, and a failed message leaves no blob behind."""
from __future__ import annotations

import hashlib
import io
import os

import pytest

from soap.mtom import MtomError, OutgoingAttachment, build_multipart, parse_multipart

ROOT = b'<?xml version="1.0"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"/>'


def message(*parts: bytes) -> tuple[str, bytes]:
    attachments = [OutgoingAttachment.from_bytes(f"doc{i}@example", data) for i, data in enumerate(parts)]
    content_type, body = build_multipart(ROOT, attachments)
    return content_type, b"".join(body)


def test_parts_stream_into_the_store(store):
    documents = [os.urandom(300_000), b"", b"small"]
    content_type, body = message(*documents)
    parsed = parse_multipart(io.BytesIO(body), content_type, lambda cid, ctype: store.writer("mtom/"),
                             chunk_size=8192)
    for number, data in enumerate(documents):
        attachment = parsed.attachments[f"doc{number}@example"]
        writer = attachment.handle
        assert (attachment.size, writer.size) == (len(data), len(data))
        assert writer.sha1 == hashlib.sha1(data).hexdigest()
        assert writer.key.startswith("mtom/") and store.exists(writer.key)
        assert attachment.read_bytes() == data  # Attachment.open() → writer.open()
        attachment.close()
        assert store.exists(writer.key)


def test_a_failed_message_discards_every_blob_written(store):
    content_type, body = message(os.urandom(100_000), os.urandom(100_000))
    writers = []

    def sink(cid, ctype):
        writers.append(store.writer())
        return writers[-1]

    truncated = body[: len(body) - 70_000]  # second part never ends
    with pytest.raises(MtomError):
        parse_multipart(io.BytesIO(truncated), content_type, sink)
    assert len(writers) == 2
    assert not any(store.exists(writer.key) for writer in writers)
