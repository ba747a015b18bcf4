"""The admin tokens file: SHA-256 hashes of the bearer tokens (RFC 6750) that open the node's
administrative endpoints (xdsno.admin_auth), and making a new token (`xdsno admin token`).

One token per line, as the hex SHA-256 of the token text and an optional label saying whose it
is (shown in the audit record of each call made with it):

    # xdsno admin tokens: SHA-256 of the token, then a label
    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ops laptop (Kari)

Blank lines and lines starting with `#` are ignored. The tokens themselves are never stored: a
leaked file opens nothing. A presented token is hashed and compared with every stored hash in
constant time (`hmac.compare_digest`, no early exit). The file is read again when it changes
(its size, mtime or inode), so a token added or removed takes effect without a restart; a file
that has become unreadable or malformed opens nothing until it is fixed (logged).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("xdsno.admin")

#: random bytes in a new token (256 bits), sent as URL-safe base64 (RFC 6750 b64token)
TOKEN_BYTES = 32
MAX_LABEL = 200
_HASH = re.compile(r"^[0-9a-f]{64}$")
_HEADER = "# xdsno admin tokens: SHA-256 of the token, then a label (xdsno admin token)\n"


class TokenFileError(ValueError):
    """The tokens file cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class StoredToken:
    sha256: str
    label: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_tokens(text: str, source: str = "admin_tokens_file") -> tuple[StoredToken, ...]:
    """The tokens of a file's text; TokenFileError naming the first malformed line."""
    tokens = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, _, label = line.partition(" ")
        if not _HASH.match(digest.lower()):
            raise TokenFileError(f"{source} line {number}: expected the 64 hex digits of a SHA-256 hash, "
                                 "then an optional label")
        tokens.append(StoredToken(digest.lower(), label.strip()))
    return tuple(tokens)


def check_label(label: str) -> str:
    label = label.strip()
    if len(label) > MAX_LABEL or any(not char.isprintable() for char in label):
        raise TokenFileError(f"a token label is printable text of at most {MAX_LABEL} characters")
    return label


def add_token(path: Path, label: str) -> str:
    """A new random token; its hash and `label` appended to the file (created 0600 when missing)."""
    label = check_label(label)
    if path.exists():
        parse_tokens(path.read_text(encoding="utf-8"), str(path))  # never append to a broken file
    token = secrets.token_urlsafe(TOKEN_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        if handle.tell() == 0:
            handle.write(_HEADER)
        handle.write(f"{token_hash(token)} {label}".rstrip() + "\n")
    return token


class TokenFile:
    """The tokens of one file, read again whenever the file changes."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        # at start a missing or malformed file stops the node (TokenFileError)
        self._version, self._tokens = self._load()

    def match(self, token: str) -> StoredToken | None:
        """The stored token `token` is, or None; every hash is compared, in constant time each."""
        digest = token_hash(token).encode()
        found = None
        for stored in self.tokens():
            if hmac.compare_digest(digest, stored.sha256.encode()):
                found = stored
        return found

    def tokens(self) -> tuple[StoredToken, ...]:
        with self._lock:
            if self._stat() != self._version:
                try:
                    self._version, self._tokens = self._load()
                except TokenFileError as exc:
                    log.error("%s; no admin token is accepted until it is fixed", exc)
                    self._version, self._tokens = self._stat(), ()
            return self._tokens

    def _load(self) -> tuple[tuple | None, tuple[StoredToken, ...]]:
        version = self._stat()
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenFileError(f"admin_tokens_file {self.path} cannot be read ({exc}); "
                                 "`xdsno admin token` creates it with a first token") from None
        return version, parse_tokens(text, f"admin_tokens_file {self.path}")

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino
