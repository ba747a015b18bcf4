"""Audit records as syslog messages (RFC 5424) over TCP or TLS (RFC 5425), IHE ITI-20.

Message (RFC 5424 §6; ITI TF-2 3.20.4.1.2; DICOM PS3.15 A.6/A.7):

    <85>1 2025-03-01T10:00:00.123456Z node.example xdsno 4711 IHE+RFC-3881
        [origin software="xdsno" swVersion="0.1.0"][xdsno@32473 id="…" event="ITI-18" outcome="0"]
        BOM <AuditMessage>…</AuditMessage>

- PRI: facility 10 (security/authorization) × 8 + severity 5 (notice) for a success, 4
  (warning) for a failure;
- MSGID `IHE+RFC-3881` with the DICOM audit message (xdsno.audit.dicom) as MSG, or
  `IHE+BALP` with the BALP FHIR AuditEvent JSON (`audit_syslog_format = "balp"`);
- STRUCTURED-DATA: the IANA `origin` element and a private element with the record's id (so a
  receiver can drop the duplicate of a record re-sent after a lost connection), its event and
  outcome. 32473 is the example enterprise number of RFC 5612, kept until the project has its own;
- MSG: UTF-8 with the BOM (RFC 5424 §6.4).

Framing: octet counting, `MSG-LEN SP SYSLOG-MSG` (RFC 5425 §4.3, RFC 6587 §3.4.1), on a
plain TCP connection or on TLS (RFC 5425; the node's outbound TLS context: server verified,
client certificate presented, ITI-19). The connection is kept open between batches; before
each batch it is checked for an end-of-stream from the receiver, so a batch is never written
into a connection the receiver already closed (syslog has no acknowledgement: what the
kernel accepted counts as sent).
"""
from __future__ import annotations

import os
import select
import socket
import ssl
from collections.abc import Callable, Sequence

from . import dicom, fhir
from .record import AuditRecord, Outcome

FACILITY_SECURITY = 10
SEVERITY_NOTICE = 5
SEVERITY_WARNING = 4
BOM = b"\xef\xbb\xbf"
SD_ID = "xdsno@32473"
MSGIDS = {"dicom": "IHE+RFC-3881", "balp": "IHE+BALP"}
NILVALUE = "-"


class SyslogFormat:
    """Writes one record as an RFC 5424 message (bytes, without framing)."""

    def __init__(self, *, payload: str = "dicom", hostname: str | None = None, app_name: str = "xdsno",
                 version: str = ""):
        if payload not in MSGIDS:
            raise ValueError(f"syslog payload {payload!r} is not one of {', '.join(MSGIDS)}")
        self.payload = payload
        self.hostname = _printable(hostname or socket.getfqdn(), 255)
        self.app_name = _printable(app_name, 48)
        self.version = version

    def __call__(self, record: AuditRecord) -> bytes:
        header = " ".join((
            f"<{priority(record.outcome)}>1", record.recorded, self.hostname, self.app_name,
            str(os.getpid()), MSGIDS[self.payload], self.structured_data(record),
        ))
        return header.encode("utf-8") + b" " + BOM + self.msg(record)

    def structured_data(self, record: AuditRecord) -> str:
        origin = sd_element("origin", [("software", "xdsno"), ("swVersion", self.version)] if self.version
                            else [("software", "xdsno")])
        own = sd_element(SD_ID, [("id", record.id), ("event", record.event.transaction),
                                 ("outcome", str(int(record.outcome)))])
        return origin + own

    def msg(self, record: AuditRecord) -> bytes:
        if self.payload == "balp":
            return fhir.audit_event_json(record).encode("utf-8")
        return dicom.audit_message_bytes(record)


def priority(outcome: Outcome) -> int:
    """PRI value: facility 10, severity notice (success) or warning (any failure)."""
    severity = SEVERITY_NOTICE if outcome is Outcome.SUCCESS else SEVERITY_WARNING
    return FACILITY_SECURITY * 8 + severity


def sd_element(sd_id: str, params: Sequence[tuple[str, str]]) -> str:
    """`[SD-ID name="value" ...]` with `"`, `\\` and `]` escaped (RFC 5424 §6.3.3)."""
    parts = [sd_id] + [f'{name}="{_escape(value)}"' for name, value in params]
    return "[" + " ".join(parts) + "]"


def frame(message: bytes) -> bytes:
    """Octet-counting framing: the message length in decimal, a space, the message."""
    return str(len(message)).encode("ascii") + b" " + message


def read_frames(data: bytes) -> tuple[list[bytes], bytes]:
    """Split octet-counted frames off `data`: (complete messages, the incomplete rest)."""
    messages = []
    while True:
        length_text, space, rest = data.partition(b" ")
        if not space or not length_text.isdigit():
            return messages, data
        length = int(length_text)
        if len(rest) < length:
            return messages, data
        messages.append(rest[:length])
        data = rest[length:]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _printable(text: str, limit: int) -> str:
    cleaned = "".join(ch for ch in text if 33 <= ord(ch) <= 126)[:limit]
    return cleaned or NILVALUE


class SyslogSender:
    """Delivers records to one syslog receiver over TCP or TLS (RFC 5425)."""

    def __init__(self, host: str, port: int, *, formatter: Callable[[AuditRecord], bytes] | None = None,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = 10.0):
        self.name = "syslog"
        self.host, self.port = host, port
        self.formatter = formatter or SyslogFormat()
        self.ssl_context = ssl_context
        self.timeout = timeout
        self._sock: socket.socket | None = None

    def send(self, records: Sequence[AuditRecord]) -> None:
        """Write every record (one frame each); raises OSError when the receiver is not there."""
        data = b"".join(frame(self.formatter(record)) for record in records)
        sock = self._connection()
        try:
            sock.sendall(data)
        except OSError:
            self.close()
            raise

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _connection(self) -> socket.socket:
        if self._sock is not None and not _still_open(self._sock):
            self.close()
        if self._sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            if self.ssl_context is not None:
                try:
                    sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
                except (OSError, ssl.SSLError):
                    sock.close()
                    raise
            self._sock = sock
        return self._sock


def _still_open(sock: socket.socket) -> bool:
    """False when the receiver has closed (or reset) the connection; it never sends data."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    if not readable:
        return True
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(sock.recv(4096))  # b"": end of stream
    except (ssl.SSLWantReadError, BlockingIOError):
        return True  # TLS records that carry no data (e.g. a TLS 1.3 session ticket)
    except OSError:
        return False
    finally:
        sock.settimeout(timeout)
