"""Property: whatever attachments build_multipart writes, parse_multipart reads back exactly."""
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soap.mtom import OutgoingAttachment, build_multipart, cid_url, normalize_content_id, parse_multipart

# Bytes rich in what a multipart parser can trip over: CR, LF, dashes, boundary-ish text.
tricky = st.lists(
    st.one_of(st.binary(max_size=300), st.sampled_from([b"\r\n", b"--", b"\r\n--", b"MIMEBoundary_", b"\r"])),
    max_size=60,
).map(b"".join)

content_ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789.-_%/ +=æ", min_size=1, max_size=20,
).map(lambda local: f"{local.strip() or 'x'}@example.org")


class RandomReads(io.BytesIO):
    def __init__(self, data, sizes):
        super().__init__(data)
        self._sizes = sizes
        self._turn = 0

    def read(self, size=-1):
        step = self._sizes[self._turn % len(self._sizes)]
        self._turn += 1
        return super().read(step if size is None or size < 0 else min(step, size))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    attachments=st.lists(st.tuples(content_ids, tricky, st.integers(1, 500)), max_size=5,
                         unique_by=lambda item: item[0]),
    read_sizes=st.lists(st.integers(1, 5000), min_size=1, max_size=8),
    chunk_size=st.integers(1, 70_000),
    sized=st.booleans(),
)
def test_build_then_parse_round_trips(attachments, read_sizes, chunk_size, sized):
    outgoing = [
        OutgoingAttachment(cid, "application/octet-stream",
                           [data[i:i + step] for i in range(0, len(data), step)],
                           len(data) if sized else None)
        for cid, data, step in attachments
    ]
    root = b"<?xml version='1.0'?><r/>"
    content_type, body = build_multipart(root, outgoing)
    wire = b"".join(body)
    if sized:
        assert body.content_length == len(wire)
    message = parse_multipart(RandomReads(wire, read_sizes), content_type, chunk_size=chunk_size)
    assert message.root == root
    assert {cid: a.read_bytes() for cid, a in message.attachments.items()} == {
        cid: data for cid, data, _ in attachments
    }
    for cid, _, _ in attachments:
        assert normalize_content_id(cid_url(cid)) == cid
