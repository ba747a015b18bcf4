"""The streaming multipart reader and media-type parameters."""
import io

import pytest

from soap.mime import Base64Decoder, MtomError, MultipartReader, parse_media_type


@pytest.mark.parametrize("value,expected", [
    ("application/soap+xml", ("application/soap+xml", {})),
    ("Application/SOAP+XML; Charset=UTF-8; action=\"urn:a;b\"",
     ("application/soap+xml", {"charset": "UTF-8", "action": "urn:a;b"})),
    ('multipart/related;boundary=abc;type="application/xop+xml";start="<r@x>";start-info="application/soap+xml"',
     ("multipart/related", {"boundary": "abc", "type": "application/xop+xml", "start": "<r@x>",
                            "start-info": "application/soap+xml"})),
    ('multipart/related; boundary="a\\"b"; junk; type = text/xml ',
     ("multipart/related", {"boundary": 'a"b', "type": "text/xml"})),
    ('x/y; q="unterminated', ("x/y", {"q": "unterminated"})),
    ("", ("", {})),
    (None, ("", {})),
])
def test_parse_media_type(value, expected):
    assert parse_media_type(value) == expected


class Trickle(io.BytesIO):
    """Hands out at most `step` bytes per read, as a slow network would."""

    def __init__(self, data: bytes, step: int):
        super().__init__(data)
        self.step = step

    def read(self, size=-1):
        return super().read(min(self.step, size) if size and size > 0 else self.step)


def read_all(data: bytes, boundary: str = "b1", step: int = 1 << 16):
    reader = MultipartReader(Trickle(data, step), boundary, chunk_size=step)
    parts = []
    for part in reader.parts():
        parts.append((part.headers, part.read_bytes(1 << 20)))
    return parts


MESSAGE = (
    b"preamble text\r\n--b1\r\nContent-ID: <one>\r\nX-Folded: a\r\n  b\r\n\r\nfirst"
    b"\r\n--b1   \r\n\r\nsecond has no headers\r\n--b1\r\nContent-Type: x/y\r\n\r\n"
    b"\r\n--b1--\r\nepilogue is ignored"
)


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 1 << 16])
def test_reader_with_any_chunking(step):
    parts = read_all(MESSAGE, step=step)
    assert parts == [
        ({"content-id": "<one>", "x-folded": "a b"}, b"first"),
        ({}, b"second has no headers"),
        ({"content-type": "x/y"}, b""),
    ]


def test_boundary_at_the_very_start_and_lookalikes_in_content():
    body = b"--b1 without CRLF before it\r\n-- b1\r\n--b\r\n\r\n-b1--b1\r\n-\r\n--\r\n"
    data = b"--b1\r\n\r\n" + body + b"\r\n--b1--"
    assert read_all(data, step=5) == [({}, body)]


def test_unread_parts_are_skipped():
    reader = MultipartReader(io.BytesIO(MESSAGE), "b1")
    assert [part.headers.get("content-type") for part in reader.parts()] == [None, None, "x/y"]


@pytest.mark.parametrize("data,reason", [
    (b"no boundary anywhere", "boundary not found"),
    (b"--b1\r\nContent-ID: <a>\r\n\r\nbody without end", "truncated"),
    (b"--b1\r\nContent-ID: <a>", "truncated in part headers"),
    (b"--b1", "truncated after a boundary"),
    (b"--b1\r\n\r\nx\r\n--b1", "truncated after a boundary"),
    (b"--b1 junk\r\n\r\nx\r\n--b1--", "malformed multipart boundary line"),
    (b"--b1\r\nno colon here\r\n\r\nx\r\n--b1--", "malformed multipart part header"),
    (b"--b1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\nx\r\n--b1--", "headers too large"),
    (b"--b1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx\r\n--b1--", "unsupported"),
])
def test_malformed_streams(data, reason):
    with pytest.raises(MtomError, match=reason):
        read_all(data, step=4096)


def test_missing_boundary_parameter():
    with pytest.raises(MtomError, match="no boundary"):
        MultipartReader(io.BytesIO(b""), "")


def test_part_size_limit():
    with pytest.raises(MtomError, match="exceeds 3 bytes"):
        for part in MultipartReader(io.BytesIO(b"--b\r\n\r\n1234\r\n--b--"), "b").parts():
            part.read_bytes(3)


def test_base64_transfer_encoding():
    data = (b"--b\r\nContent-Transfer-Encoding: BASE64\r\n\r\n"
            b"AAEC\r\nAwQF\r\n Bgc=\r\n--b--")
    assert read_all(data, "b", step=3)[0][1] == bytes(range(8))
    bad = b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\nAAE\r\n--b--"
    with pytest.raises(MtomError, match="truncated final quantum"):
        read_all(bad, "b")
    with pytest.raises(MtomError, match="invalid base64"):
        read_all(b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\nA*==\r\n--b--", "b")


def test_base64_decoder_pieces():
    out = []
    decoder = Base64Decoder(out.append)
    for piece in (b"aGVs", b"bG8g\r", b"\nd2", b"9y", b"bGQ", b"="):
        decoder.write(piece)
    decoder.finish()
    assert b"".join(out) == b"hello world"
