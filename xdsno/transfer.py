"""Moving document bytes between disk and the wire for the `xdsno publish/retrieve` commands:
file chunks for an MTOM part (hashed on the way), a sink writing a received part straight to
disk, and a plain-text progress bar on stderr (no dependency)."""
from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CHUNK = 256 * 1024
#: below this, `--progress auto` shows no bar
LARGE = 4 * 1024 * 1024
_BAR = 30


class Progress:
    """`[#####-----]  42%  12.0/28.6 MiB` redrawn on stderr; silent when not wanted."""

    def __init__(self, total: int | None, mode: str = "auto", stream=None):
        self.stream = stream or sys.stderr
        self.total = total
        self.done_bytes = 0
        self._shown = mode == "always" or (mode == "auto" and _is_terminal(self.stream)
                                           and (total is None or total >= LARGE))
        self._last = 0.0
        self._drawn = False

    def advance(self, count: int) -> None:
        self.done_bytes += count
        now = time.monotonic()
        if self._shown and (now - self._last >= 0.1 or self.done_bytes == self.total):
            self._last = now
            self._draw()

    def done(self) -> None:
        if self._shown and self._drawn:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _draw(self) -> None:
        mib = self.done_bytes / 1048576
        if self.total:
            filled = int(_BAR * self.done_bytes / self.total)
            text = (f"\r[{'#' * filled}{'-' * (_BAR - filled)}] {100 * self.done_bytes // self.total:3d}%  "
                    f"{mib:.1f}/{self.total / 1048576:.1f} MiB")
        else:
            text = f"\r{mib:.1f} MiB"
        self.stream.write(text)
        self.stream.flush()
        self._drawn = True


def _is_terminal(stream) -> bool:
    return callable(getattr(stream, "isatty", None)) and stream.isatty()


def file_chunks(path: Path, digest, progress: Progress) -> Iterator[bytes]:
    """The file's bytes chunk by chunk, opened only when the request body reaches it."""
    with path.open("rb") as handle:
        while data := handle.read(CHUNK):
            digest.update(data)
            progress.advance(len(data))
            yield data


class FileSink:
    """An MTOM sink writing one received part to `<out>.part`, hashing it on the way."""

    def __init__(self, out: Path, progress: Progress):
        self.out = out
        self.part = out.with_name(out.name + f".{os.getpid()}-{id(self)}.part")
        self._handle = self.part.open("wb")
        self._digest = hashlib.sha1()
        self._progress = progress
        self.size = 0

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self._digest.update(data)
        self.size += len(data)
        self._progress.advance(len(data))

    def close_part(self) -> None:
        self._handle.close()
        self._progress.done()

    def open(self):
        return self.part.open("rb")

    def discard(self) -> None:
        self._handle.close()
        self.part.unlink(missing_ok=True)

    def close(self) -> None:
        self._handle.close()

    @property
    def sha1(self) -> str:
        return self._digest.hexdigest()

    @staticmethod
    def save(content, out: Path) -> tuple[int, str]:
        """Put an attachment at `out`: a FileSink is renamed into place, else copied in chunks."""
        handle = content.handle
        if isinstance(handle, FileSink):
            handle.close()
            os.replace(handle.part, out)
            return handle.size, handle.sha1
        digest, size = hashlib.sha1(), 0
        with content.open() as source, out.open("wb") as target:
            while data := source.read(CHUNK):
                digest.update(data)
                size += len(data)
                target.write(data)
        return size, digest.hexdigest()
