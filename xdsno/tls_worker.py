"""The gunicorn worker of a TLS node: gthread, plus one audit record per refused TLS connection
(IHE ITI TF-2 3.19.6 / 3.20: a node authentication failure is audited).

A client refused at the handshake (certificate of an unknown CA, expired or revoked, none when
one is required, TLS below 1.2, plain HTTP on the TLS port) never reaches the WSGI app, so the
app's audit (xdsno.audit.capture) cannot see it. gunicorn's gthread worker wraps the accepted
socket and completes the handshake in `ThreadWorker.handle` (TConn.init); an `ssl.SSLError`
from there goes to `handle_error(req=None, …)`, which logs it and tries to answer 403. This
worker records a Security Alert there (xdsno.audit.node_authentication) before gunicorn's own
handling, through the process's audit recorder and outbox (xdsno.audit.setup, the same one
the app built after the fork), so it is shipped to syslog/FHIR like every other record.

What is not audited: a peer that closes or resets the connection before or during the
handshake (a port scan, a TCP health probe, a client giving up) — gunicorn sees SSL_ERROR_EOF
or ECONNRESET there and never calls `handle_error`. An SSLError after the handshake finished
(the socket reports a TLS version) is a broken connection, not a refused node, and is not
audited either.
"""
from __future__ import annotations

import logging
import ssl
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from .audit.node_authentication import handshake_error, refused_connection
from .audit.setup import audit_recorder
from .settings import Settings

log = logging.getLogger("xdsno.tls")


class NodeAuthenticationAuditingWorker(ThreadWorker):
    """gthread worker auditing each refused TLS handshake; `worker_class(settings)` binds it."""

    settings: Settings

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if req is None and refused_handshake(client, exc):
            self.audit_refusal(peer_address(addr), handshake_error(exc))
        super().handle_error(req, client, addr, exc)

    def audit_refusal(self, address: str, error: str) -> None:
        log.info("TLS connection from %s refused: %s", address, error)
        try:
            recorder = audit_recorder(self.settings)
        except Exception:
            log.exception("audit: the refused TLS connection from %s could not be recorded", address)
            return
        recorder.record(refused_connection(address, error, recorder.node))


def worker_class(settings: Settings) -> type[NodeAuthenticationAuditingWorker]:
    """The worker class for gunicorn's `worker_class`, recording into `settings`' audit."""
    return type("NodeAuthenticationAuditingWorker", (NodeAuthenticationAuditingWorker,), {"settings": settings})


def refused_handshake(client: Any, exc: BaseException) -> bool:
    """An SSLError on a connection whose handshake never finished (no TLS version agreed)."""
    if not isinstance(exc, ssl.SSLError):
        return False
    version = getattr(client, "version", None)
    return version is None or version() is None


def peer_address(addr: Any) -> str:
    """The peer's IP address (gunicorn's client address: (host, port), or a unix socket path)."""
    if isinstance(addr, (tuple, list)) and addr:
        return str(addr[0])
    return str(addr or "")
