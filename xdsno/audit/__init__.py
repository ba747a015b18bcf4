"""ATNA audit of every transaction (IHE Basic Audit Log Patterns) and the citizen's access log.

PROFILE.md §6: every ITI transaction produces an audit record carrying the SAML user,
organisation, purpose of use and patient; the citizen's innsynslogg shows who saw what, when
and why. Modules:

- record: `AuditRecord` (BALP-shaped plain data) and its parts;
- events: wsa:Action / admin call → transaction, DICOM EventID, action code;
- extract: patients, documents, query, status read from the SOAP bodies;
- user: the user from the verified XUA assertion;
- capture: the WSGI wrappers — one record per SOAP request and per admin call;
- store: the local store and outbox (SQLAlchemy);
- shipper: the background delivery thread (retries with backoff, nothing lost on restart);
- syslog (RFC 5424 message, RFC 5425 TLS / octet counting), dicom (DICOM PS3.15 A.5 audit
  message), fhir (BALP FHIR AuditEvent, POST to an audit repository): the destinations;
- access_log, http: the innsynslogg and `GET /admin/audit`, `GET /innsynslogg`;
- setup: building all of it from the settings (composition root).
"""
from .capture import NOTES_KEY, AuditedAdmin, AuditedEndpoint, AuditRecorder
from .record import AuditRecord, AuditUser, Coded, DocumentRef, EventType, Outcome, PolicyNote, QueryRef
from .store import AuditStore

__all__ = [
    "NOTES_KEY", "AuditRecord", "AuditRecorder", "AuditStore", "AuditUser", "AuditedAdmin", "AuditedEndpoint",
    "Coded", "DocumentRef", "EventType", "Outcome", "PolicyNote", "QueryRef",
]
