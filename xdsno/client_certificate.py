"""Which node is calling: the verified TLS client certificate in the WSGI environ (ATNA, ITI-19).

gunicorn hands the application the connection's TLS socket as `environ["gunicorn.socket"]`;
`ClientCertificateMiddleware` reads the peer certificate from it — present only when the
handshake verified it against `tls_ca_file` (ITI TF-2 3.19) — and sets, for access control and
the ATNA audit record of the calling node:

- `xdsno.client_certificate`: a `ClientCertificate` (subject, issuer, serial, common name,
  SHA-256 fingerprint), or None;
- the mod_ssl names `SSL_CLIENT_VERIFY` (`SUCCESS` or `NONE`), `SSL_CLIENT_S_DN`,
  `SSL_CLIENT_I_DN`, `SSL_CLIENT_M_SERIAL` (distinguished names as RFC 4514 strings), and
  `HTTPS=on`.

A client cannot forge these keys (its headers arrive as `HTTP_*`); values a server may have
put there are removed first. With `tls_client_auth = "optional"` the handshake lets a client
without a certificate through, and this middleware answers it 403 on every path except
`/health` (a load balancer's probe); with "required" such a client never gets past the
handshake, and with "none" no certificate is asked for.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

ENVIRON_KEY = "xdsno.client_certificate"
OPEN_PATHS = ("/health",)
_SERVER_KEYS = ("SSL_CLIENT_VERIFY", "SSL_CLIENT_S_DN", "SSL_CLIENT_I_DN", "SSL_CLIENT_M_SERIAL")


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """The verified certificate a calling node presented."""

    subject: str
    issuer: str
    serial: str
    common_name: str
    sha256: str


class ClientCertificateMiddleware:
    """Puts the verified client certificate into the environ; refuses certificate-less callers
    outside OPEN_PATHS when `require` (tls_client_auth optional or required)."""

    def __init__(self, app: Callable, *, require: bool, open_paths: Iterable[str] = OPEN_PATHS):
        self._app = app
        self._require = require
        self._open_paths = tuple(open_paths)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        certificate = peer_certificate(environ.get("gunicorn.socket"))
        describe(environ, certificate)
        if certificate is None and self._require and not self._is_open(environ.get("PATH_INFO") or ""):
            return _forbidden(start_response)
        return self._app(environ, start_response)

    def _is_open(self, path: str) -> bool:
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self._open_paths)


def peer_certificate(sock: Any) -> ClientCertificate | None:
    """The certificate the TLS peer presented (verified by the handshake), or None."""
    getpeercert = getattr(sock, "getpeercert", None)
    if getpeercert is None:
        return None
    der = getpeercert(binary_form=True)
    return _parsed(der) if der else None


def describe(environ: dict[str, Any], certificate: ClientCertificate | None) -> None:
    """Set the environ keys of the module docstring for `certificate`."""
    for key in _SERVER_KEYS:
        environ.pop(key, None)
    environ[ENVIRON_KEY] = certificate
    environ["HTTPS"] = "on"
    environ["SSL_CLIENT_VERIFY"] = "SUCCESS" if certificate else "NONE"
    if certificate:
        environ["SSL_CLIENT_S_DN"] = certificate.subject
        environ["SSL_CLIENT_I_DN"] = certificate.issuer
        environ["SSL_CLIENT_M_SERIAL"] = certificate.serial


@functools.lru_cache(maxsize=256)
def _parsed(der: bytes) -> ClientCertificate:
    # a node reconnects with the same certificate: parse each one once
    cert = x509.load_der_x509_certificate(der)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return ClientCertificate(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "X"),
        common_name=str(names[0].value) if names else "",
        sha256=hashlib.sha256(der).hexdigest(),
    )


def _forbidden(start_response: Callable) -> Iterable[bytes]:
    body = b"Forbidden: this node requires a client certificate (ATNA secure node, ITI-19)\n"
    start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8"),
                                     ("Content-Length", str(len(body)))])
    return [body]
