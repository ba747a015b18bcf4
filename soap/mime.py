"""Streaming MIME multipart reader and writer primitives under MTOM.

Owns the wire grammar of RFC 2046 §5.1 (boundary delimiters, part headers, preamble and
epilogue), media-type parameters (RFC 2045 §5.1) and the base64 transfer encoding
(RFC 2045 §6.8). The reader never holds more than one read chunk plus one delimiter in memory:
part bodies are handed to a `write` callable piece by piece as they arrive.
"""
from __future__ import annotations

import binascii
import uuid
from collections.abc import Callable, Iterator
from typing import BinaryIO

CHUNK_SIZE = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024
CRLF = b"\r\n"


class MtomError(ValueError):
    """The MIME multipart / XOP package is malformed or incomplete."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_media_type(value: str | None) -> tuple[str, dict[str, str]]:
    """Split a Content-Type value into (lower-case type/subtype, {lower-case name: value})."""
    if not value:
        return "", {}
    mime, _, rest = value.partition(";")
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        eq = rest.find("=", i)
        if eq < 0:
            break
        # A parameter without '=' (junk) before this one is skipped.
        name = rest[i:eq].rpartition(";")[2].strip(" \t").lower()
        i = eq + 1
        while i < n and rest[i] in " \t":
            i += 1
        if i < n and rest[i] == '"':
            text, i = _quoted_string(rest, i + 1)
        else:
            end = rest.find(";", i)
            end = n if end < 0 else end
            text, i = rest[i:end].strip(), end
        semicolon = rest.find(";", i)
        i = n if semicolon < 0 else semicolon + 1
        if name:
            params[name] = text
    return mime.strip().lower(), params


def _quoted_string(text: str, i: int) -> tuple[str, int]:
    out = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), i  # unterminated: take what is there


def quote_param(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_boundary() -> str:
    return f"MIMEBoundary_{uuid.uuid4().hex}"


class MultipartReader:
    """Pull parser over a file-like stream: `parts()` yields `Part`s in wire order."""

    def __init__(
        self,
        stream: BinaryIO,
        boundary: str,
        *,
        chunk_size: int = CHUNK_SIZE,
        max_header_bytes: int = MAX_HEADER_BYTES,
    ):
        if not boundary:
            raise MtomError("multipart Content-Type has no boundary")
        self._stream = stream
        self._chunk_size = chunk_size
        self._max_header_bytes = max_header_bytes
        self._delimiter = b"\r\n--" + boundary.encode("latin-1")
        # A leading CRLF lets a boundary at the very start match like every later one.
        self._buf = CRLF

    def parts(self) -> Iterator[Part]:
        self._skip_preamble()
        while self._next_part_follows():
            part = Part(self, self._read_headers())
            yield part
            if not part.consumed:
                part.stream_to(_discard)

    def _fill(self) -> bool:
        data = self._stream.read(self._chunk_size)
        if not data:
            return False
        self._buf += data
        return True

    def _skip_preamble(self) -> None:
        keep = len(self._delimiter) - 1
        while (at := self._buf.find(self._delimiter)) < 0:
            self._buf = self._buf[-keep:]
            if not self._fill():
                raise MtomError("multipart boundary not found in the message")
        self._buf = self._buf[at + len(self._delimiter):]

    def _next_part_follows(self) -> bool:
        """After a delimiter: '--' closes the multipart, else padding and CRLF open a part."""
        while len(self._buf) < 2 or (self._buf[:2] != b"--" and CRLF not in self._buf):
            if len(self._buf) > self._max_header_bytes:
                raise MtomError("malformed multipart boundary line")
            if not self._fill():
                raise MtomError("multipart stream truncated after a boundary")
        if self._buf[:2] == b"--":
            return False
        end = self._buf.find(CRLF)
        if self._buf[:end].strip(b" \t"):
            raise MtomError("malformed multipart boundary line")
        self._buf = self._buf[end + 2:]
        return True

    def _read_headers(self) -> dict[str, str]:
        while not self._buf.startswith(CRLF) and (end := self._buf.find(b"\r\n\r\n")) < 0:
            if len(self._buf) > self._max_header_bytes:
                raise MtomError("multipart part headers too large")
            if not self._fill():
                raise MtomError("multipart stream truncated in part headers")
        if self._buf.startswith(CRLF):
            self._buf = self._buf[2:]
            return {}
        if end > self._max_header_bytes:
            raise MtomError("multipart part headers too large")
        block, self._buf = self._buf[:end], self._buf[end + 4:]
        return _parse_headers(block)

    def _read_body(self, write: Callable[[bytes], object]) -> None:
        delimiter = self._delimiter
        keep = len(delimiter) - 1
        while (at := self._buf.find(delimiter)) < 0:
            # Everything but a possible delimiter prefix at the end is body for sure.
            safe = len(self._buf) - keep
            if safe > 0:
                write(self._buf[:safe])
                self._buf = self._buf[safe:]
            if not self._fill():
                raise MtomError("multipart stream truncated: no closing boundary")
        if at:
            write(self._buf[:at])
        self._buf = self._buf[at + len(delimiter):]


def _discard(_data: bytes) -> None:
    pass


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = None
    for line in block.decode("latin-1").split("\r\n"):
        if line[:1] in (" ", "\t") and last:
            headers[last] += " " + line.strip()  # folded continuation line
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise MtomError(f"malformed multipart part header: {line[:80]!r}")
        last = name.strip().lower()
        headers[last] = value.strip()
    return headers


class Part:
    """One body part; read it once with `stream_to` or `read_bytes` before the next part."""

    def __init__(self, reader: MultipartReader, headers: dict[str, str]):
        self._reader = reader
        self.headers = headers
        self.consumed = False

    def stream_to(self, write: Callable[[bytes], object]) -> None:
        self.consumed = True
        encoding = self.headers.get("content-transfer-encoding", "binary").strip().lower()
        if encoding in ("binary", "8bit", "7bit", ""):
            self._reader._read_body(write)
        elif encoding == "base64":
            decoder = Base64Decoder(write)
            self._reader._read_body(decoder.write)
            decoder.finish()
        else:
            raise MtomError(f"unsupported Content-Transfer-Encoding: {encoding}")

    def read_bytes(self, limit: int) -> bytes:
        pieces: list[bytes] = []
        total = 0

        def collect(data: bytes) -> None:
            nonlocal total
            total += len(data)
            if total > limit:
                raise MtomError(f"MIME part exceeds {limit} bytes")
            pieces.append(data)

        self.stream_to(collect)
        return b"".join(pieces)


class Base64Decoder:
    """Decodes base64 arriving in arbitrary pieces (line breaks anywhere) into `write`."""

    def __init__(self, write: Callable[[bytes], object]):
        self._write = write
        self._pending = b""

    def write(self, data: bytes) -> None:
        data = self._pending + b"".join(data.split())
        whole = len(data) - len(data) % 4
        self._pending = data[whole:]
        if whole:
            self._write(_b64decode(data[:whole]))

    def finish(self) -> None:
        if self._pending:
            raise MtomError("base64 part has a truncated final quantum")


def _b64decode(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error as exc:
        raise MtomError(f"invalid base64 in MIME part: {exc}") from None


def part_head(boundary: str, headers: list[tuple[str, str]], *, first: bool) -> bytes:
    """The delimiter line and header block that open a part (RFC 2046 §5.1.1)."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    lead = "" if first else "\r\n"
    return f"{lead}--{boundary}\r\n{lines}\r\n".encode("latin-1")


def close_delimiter(boundary: str) -> bytes:
    return f"\r\n--{boundary}--\r\n".encode("latin-1")
