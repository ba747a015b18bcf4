"""What an X-Service Provider trusts (IHE ITI-40 XUA): issuers and their certificates,
accepted audiences, clock skew, and the clock; plus `XuaError`, the reason an assertion is refused.

An issuer is named as in the assertion's `saml:Issuer`; each maps to the certificate(s) whose
keys may sign its assertions (more than one during a key rollover). The certificate is trusted
as configured, out of band — there is no chain building from the KeyInfo an assertion carries.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509

from .names import HELSEID_AUDIENCE

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


class XuaError(Exception):
    """An assertion is refused; `subcode` is the WS-Security 1.1 §12 fault subcode (soap.wsse)."""

    def __init__(self, subcode: str, reason: str):
        super().__init__(reason)
        self.subcode = subcode
        self.reason = reason


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class XuaConfig:
    """Trust settings of the assertion verifier (`verify_assertion`)."""

    trusted_issuers: Mapping[str, tuple[x509.Certificate, ...]]
    audiences: frozenset[str] = frozenset({HELSEID_AUDIENCE})
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    now: Callable[[], datetime] = field(default=utc_now)

    def __post_init__(self) -> None:
        if not self.audiences:
            raise ValueError("XuaConfig needs at least one accepted audience")
        if self.clock_skew < timedelta(0):
            raise ValueError("clock_skew must not be negative")
        object.__setattr__(self, "trusted_issuers",
                           {issuer: tuple(certs) for issuer, certs in self.trusted_issuers.items()})
        object.__setattr__(self, "audiences", frozenset(self.audiences))


def load_certificates(path: str | Path) -> tuple[x509.Certificate, ...]:
    """Every certificate of a PEM file (or the one of a DER file); ValueError when there is none."""
    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        certs = tuple(x509.load_pem_x509_certificates(data))
    else:
        certs = (x509.load_der_x509_certificate(data),)
    if not certs:
        raise ValueError(f"{path} holds no certificate")
    return certs


def issuer_certificates(entries: Iterable[str]) -> dict[str, tuple[x509.Certificate, ...]]:
    """`ISSUER=FILE` entries (the last `=` splits) → issuer → certificates; an issuer may repeat."""
    trusted: dict[str, tuple[x509.Certificate, ...]] = {}
    for entry in entries:
        issuer, sep, path = (part.strip() for part in entry.rpartition("="))
        if not sep or not issuer or not path:
            raise ValueError(f"{entry!r} is not ISSUER=CERTIFICATE_FILE")
        try:
            certs = load_certificates(path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"certificate of issuer {issuer!r}: {exc}") from None
        trusted[issuer] = trusted.get(issuer, ()) + certs
    return trusted
