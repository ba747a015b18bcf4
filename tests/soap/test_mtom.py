"""MTOM/XOP: splitting packages into streamed attachments, XOP references, writing packages."""
import hashlib
import io
import tracemalloc

import pytest
from lxml import etree

from soap.mtom import (
    Attachment,
    MtomError,
    OutgoingAttachment,
    XopMap,
    build_multipart,
    cid_url,
    content_of,
    include_element,
    normalize_content_id,
    parse_multipart,
    resolve_xop,
)
from soap.xml import parse_xml

from .support import ChunkStream, RecordingSink

ROOT = b"<?xml version='1.0' encoding='UTF-8'?><r/>"
TRICKY = b"\r\n--MIMEBoundary\r\n--\r\n\r\n\x00\xff--" * 100


def package(attachments, root=ROOT, **kwargs):
    content_type, body = build_multipart(root, attachments, **kwargs)
    return content_type, b"".join(body)


def test_round_trip_with_binary_content_and_ids_needing_quotes():
    outgoing = [
        OutgoingAttachment.from_bytes("doc1@example.org", TRICKY, "application/pdf"),
        OutgoingAttachment("a b/c%d@x", "text/plain", iter([b"par", b"ts", b""]), None),
        OutgoingAttachment.from_bytes("empty@x", b""),
    ]
    content_type, body = package(outgoing)
    message = parse_multipart(io.BytesIO(body), content_type)
    assert message.root == ROOT
    assert message.root_content_type.startswith("application/xop+xml")
    assert set(message.attachments) == {"doc1@example.org", "a b/c%d@x", "empty@x"}
    doc = message.attachments["doc1@example.org"]
    assert (doc.read_bytes(), doc.size, doc.content_type) == (TRICKY, len(TRICKY), "application/pdf")
    assert message.attachments["a b/c%d@x"].read_bytes() == b"parts"
    assert message.attachments["empty@x"].size == 0


def test_content_type_parameters_of_the_package():
    content_type, body = build_multipart(ROOT, [], root_content_id="<root@x>", action="urn:a")
    assert content_type.startswith("multipart/related; boundary=\"")
    for expected in ('type="application/xop+xml"', 'start="<root@x>"',
                     'start-info="application/soap+xml"', 'action="urn:a"'):
        assert expected in content_type
    text = b"".join(body)
    assert b'Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"' in text
    assert b"Content-ID: <root@x>" in text


def test_content_length_is_exact_when_sizes_are_known():
    sized = [OutgoingAttachment.from_bytes("a@x", TRICKY), OutgoingAttachment("b@x", "x/y", [b"12"], 2)]
    _, body = build_multipart(ROOT, sized)
    assert body.content_length == len(b"".join(body))
    _, body = build_multipart(ROOT, [OutgoingAttachment("c@x", "x/y", [b"1"])])
    assert body.content_length is None


def test_declared_size_mismatch_aborts_the_stream():
    _, body = build_multipart(ROOT, [OutgoingAttachment("a@x", "x/y", [b"123"], 4)])
    with pytest.raises(MtomError, match="gave 3 bytes, declared 4"):
        b"".join(body)


def test_closing_the_body_closes_an_abandoned_chunk_source():
    closed = []

    def blob():
        try:
            yield b"first"
            yield b"second"
        finally:
            closed.append(True)

    _, body = build_multipart(ROOT, [OutgoingAttachment("a@x", "x/y", blob())])
    next(body), next(body), next(body)  # root, part head, first chunk
    body.close()
    assert closed == [True]


def test_root_named_by_start_may_come_last():
    content_type, body = package([OutgoingAttachment.from_bytes("a@x", b"A")], root_content_id="r@x")
    # Move the root part after the attachment: swap the two parts on the wire.
    boundary = content_type.split('boundary="')[1].split('"')[0].encode()
    parts = body.split(b"--" + boundary)
    swapped = b"--" + boundary + parts[2].rstrip(b"\r\n") + b"\r\n--" + boundary + parts[1] + b"--" + boundary + parts[3]
    seen = []
    message = parse_multipart(io.BytesIO(swapped), content_type, on_root=lambda root: seen.append(root))
    assert message.root == ROOT and message.root_content_id == "r@x" and seen == [ROOT]
    assert message.attachments["a@x"].read_bytes() == b"A"


def test_on_root_chooses_the_sink_of_later_parts():
    sinks = []

    def factory(content_id, content_type):
        sinks.append(RecordingSink(content_id, content_type))
        return sinks[-1]

    content_type, body = package([OutgoingAttachment.from_bytes("a@x", b"hello")])
    message = parse_multipart(io.BytesIO(body), content_type, on_root=lambda root: factory)
    attachment = message.attachments["a@x"]
    assert attachment.handle is sinks[0] and sinks[0].closed_part
    assert attachment.read_bytes() == b"hello" and attachment.size == 5


def raw_package(*parts, start=None, boundary="bb"):
    content_type = f'multipart/related; boundary={boundary}; type="application/xop+xml"'
    if start:
        content_type += f'; start="{start}"'
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return content_type, body + b"--" + boundary.encode() + b"--\r\n"


ROOT_PART = b"Content-Type: application/xop+xml; type=\"application/soap+xml\"\r\nContent-ID: <root>\r\n\r\n<r/>"


def part(cid, data=b"x"):
    return b"Content-ID: <" + cid + b">\r\n\r\n" + data


@pytest.mark.parametrize("parts,start,reason", [
    ((ROOT_PART, part(b"a")), "<absent@x>", "root part <absent@x> not found"),
    ((b"Content-Type: text/xml\r\n\r\n<r/>", part(b"a")), None, r"root part must be application/xop\+xml, not text/xml"),
    ((ROOT_PART, part(b"a"), part(b"a")), None, "duplicate Content-ID <a>"),
    ((ROOT_PART, part(b"root")), None, "duplicate Content-ID <root>"),
    ((ROOT_PART, b"Content-Type: x/y\r\n\r\ndata"), None, "without Content-ID"),
])
def test_malformed_packages(parts, start, reason):
    sinks = []

    def factory(content_id, content_type):
        sinks.append(RecordingSink())
        return sinks[-1]

    content_type, body = raw_package(*parts, start=start)
    with pytest.raises(MtomError, match=reason):
        parse_multipart(io.BytesIO(body), content_type, factory)
    assert all(sink.discarded for sink in sinks)


def test_truncated_stream_discards_what_was_written():
    sinks = []
    content_type, body = package([OutgoingAttachment.from_bytes("a@x", b"A" * 1000),
                                  OutgoingAttachment.from_bytes("b@x", b"B" * 1000)])

    def factory(content_id, content_type):
        sinks.append(RecordingSink())
        return sinks[-1]

    with pytest.raises(MtomError, match="truncated"):
        parse_multipart(io.BytesIO(body[:-60]), content_type, factory)
    assert len(sinks) == 2 and all(sink.discarded for sink in sinks)


def test_missing_boundary_and_empty_package():
    with pytest.raises(MtomError, match="no boundary"):
        parse_multipart(io.BytesIO(b"--x\r\n\r\n<r/>\r\n--x--"), 'multipart/related; type="application/xop+xml"')
    with pytest.raises(MtomError, match="no parts"):
        parse_multipart(io.BytesIO(b"--x--\r\n"), "multipart/related; boundary=x")


def test_root_part_limit_and_part_count_limit():
    content_type, body = package([OutgoingAttachment.from_bytes("a@x", b"A")])
    with pytest.raises(MtomError, match="exceeds 10 bytes"):
        parse_multipart(io.BytesIO(body), content_type, max_root_bytes=10)
    with pytest.raises(MtomError, match="more than 1 MIME parts"):
        parse_multipart(io.BytesIO(body), content_type, max_parts=1)


def test_several_megabytes_stream_through_the_sink_in_chunks():
    size = 6 * 1024 * 1024 + 12345
    piece = (bytes(range(256)) + b"\r\n--") * 256  # 66 KiB, CRLF and dashes throughout
    expected = hashlib.sha1()

    def chunks():
        sent = 0
        while sent < size:
            chunk = piece[: min(len(piece), size - sent)]
            expected.update(chunk)
            sent += len(chunk)
            yield chunk

    class HashingSink:
        def __init__(self, *_):
            self.hash, self.writes, self.closed = hashlib.sha1(), [], False

        def write(self, data):
            self.writes.append(len(data))
            self.hash.update(data)

        def close_part(self):
            self.closed = True

    content_type, body = build_multipart(ROOT, [OutgoingAttachment("big@x", "application/pdf", chunks(), size)])
    tracemalloc.start()
    try:
        message = parse_multipart(ChunkStream(body), content_type, HashingSink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sink = message.attachments["big@x"].handle
    assert sink.closed and message.attachments["big@x"].size == size
    assert sink.hash.digest() == expected.digest()
    assert len(sink.writes) > 50 and max(sink.writes) <= 64 * 1024 < size
    assert peak < 2 * 1024 * 1024, f"peak memory {peak} bytes for a {size}-byte part"


# ---------------------------------------------------------------- content-ids and XOP


@pytest.mark.parametrize("value,expected", [
    ("<abc@x>", "abc@x"), (" <abc@x> ", "abc@x"), ("cid:abc%40x", "abc@x"), ("CID:abc@x", "abc@x"),
    ("cid:a%20b%2Fc%25d@x", "a b/c%d@x"), ("abc@x", "abc@x"),
])
def test_normalize_content_id(value, expected):
    assert normalize_content_id(value) == expected


def test_cid_url_escapes_what_a_url_cannot_hold():
    assert cid_url("abc@x") == "cid:abc@x"
    assert cid_url("<a b/c%d@x>") == "cid:a%20b%2Fc%25d@x"
    assert normalize_content_id(cid_url("ø<>\"@x")) == "ø<>\"@x"


def xop_document(*hrefs):
    root = etree.Element("{urn:t}Docs")
    for href in hrefs:
        document = etree.SubElement(root, "{urn:t}Document")
        include = include_element("unused@x")
        include.set("href", href)
        document.append(include)
    return parse_xml(etree.tostring(root))


def attachment(content_id, data=b"data"):
    return Attachment(content_id, "x/y", io.BytesIO(data), len(data))


def test_resolve_maps_the_parent_of_each_include():
    root = xop_document("cid:abc%40x", "cid:plain@x", "cid:raw%40x")
    attachments = {"abc@x": attachment("abc@x", b"1"), "plain@x": attachment("plain@x", b"2"),
                   "raw%40x": attachment("raw%40x", b"3")}  # a sender that %-encodes its header
    xop = resolve_xop(root, attachments)
    documents = root.findall("{urn:t}Document")
    assert len(xop) == 3 and documents[0] in xop
    assert [xop.attachment_for(d).read_bytes() for d in documents] == [b"1", b"2", b"3"]
    assert xop.content_of(documents[1]) is attachments["plain@x"]
    assert xop.attachment_for(root) is None


@pytest.mark.parametrize("hrefs,reason", [
    (("cid:absent@x",), "refers to no MIME part"),
    (("http://x/y",), "must be a cid: URL"),
    (("",), "must be a cid: URL"),
])
def test_unresolvable_includes(hrefs, reason):
    with pytest.raises(MtomError, match=reason):
        resolve_xop(xop_document(*hrefs), {"abc@x": attachment("abc@x")})


def test_two_includes_in_one_element_are_refused():
    root = xop_document("cid:a@x")
    root[0].append(include_element("a@x"))
    with pytest.raises(MtomError, match="only content"):
        resolve_xop(root, {"a@x": attachment("a@x")})


def test_inline_base64_is_served_like_an_attachment():
    element = etree.fromstring(b"<Document>aGVs\n bG8=</Document>")
    inline = content_of(element)
    assert inline.read_bytes() == b"hello" and inline.size == 5 and inline.content_id is None
    assert XopMap().content_of(element).read_bytes() == b"hello"
    assert content_of(etree.fromstring(b"<Document/>")).read_bytes() == b""
    with pytest.raises(MtomError, match="not valid base64"):
        content_of(etree.fromstring(b"<Document>not base64!</Document>"))
    with pytest.raises(MtomError, match="not resolved"):
        content_of(xop_document("cid:a@x")[0])


def test_include_element():
    include = include_element("<a b@x>")
    assert include.tag == "{http://www.w3.org/2004/08/xop/include}Include"
    assert include.get("href") == "cid:a%20b@x"


def test_default_sinks_spool_only_a_bounded_number_of_parts():
    outgoing = [OutgoingAttachment.from_bytes(f"p{i}@x", b"%d" % i) for i in range(20)]
    content_type, body = package(outgoing)
    message = parse_multipart(io.BytesIO(body), content_type)
    kinds = [type(message.attachments[f"p{i}@x"].handle).__name__ for i in range(20)]
    assert kinds[:16] == ["SpooledTemporaryFile"] * 16
    assert "SpooledTemporaryFile" not in kinds[16:]
    assert [message.attachments[f"p{i}@x"].read_bytes() for i in range(20)] == [b"%d" % i for i in range(20)]
    for attachment in message.attachments.values():
        attachment.close()
