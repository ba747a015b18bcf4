"""The audit record of a TLS connection this node refused: ITI-19 Authenticate Node failed
(IHE ITI TF-2 3.19.6; ITI TF-2 3.20 trigger event "node authentication failure").

`refused_connection(address, error, node)` is a Security Alert (DICOM PS3.15 A.5.3.11, EventID
110113, EventTypeCode 110126 Node Authentication, action E) with outcome 4 (minor failure:
the connection was refused, the mitigation worked), the peer's address as the source (the
performing node) and this node as destination (the reporting one), and the TLS error as the
outcome description, e.g. "certificate verify failed: unable to get local issuer certificate".
It names no patient, so the citizen's access log never shows it.

`handshake_error(exc)` is that description: OpenSSL's message without the "[SSL: CODE] "
prefix and the "(_ssl.c:N)" suffix.
"""
from __future__ import annotations

import re
import ssl

from .capture import NodeIdentity
from .events import NODE_AUTHENTICATION_FAILURE
from .record import AuditRecord, Outcome, Requestor

_OPENSSL_DECORATION = re.compile(r"^\[SSL: [A-Z0-9_]+\] |\s*\(_ssl\.c:\d+\)$")


def refused_connection(address: str, error: str, node: NodeIdentity) -> AuditRecord:
    """The Security Alert of one TLS connection from `address` refused with `error`."""
    return AuditRecord(
        event=NODE_AUTHENTICATION_FAILURE, outcome=Outcome.MINOR_FAILURE, outcome_description=error,
        actor="tls", requestor=Requestor(address=address), destination=node.base_url,
        source_id=node.source_id, site_id=node.site_id,
    )


def handshake_error(exc: ssl.SSLError) -> str:
    """What OpenSSL says went wrong, e.g. "peer did not return a certificate"."""
    text = _OPENSSL_DECORATION.sub("", str(exc.args[1] if len(exc.args) > 1 else exc)).strip()
    return text or exc.reason or type(exc).__name__
