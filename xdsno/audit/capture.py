"""The one capture point: WSGI wrappers that leave exactly one audit record per request.

`AuditedEndpoint` wraps an actor's SoapRouter. The router leaves the exchange in the environ
(`soap.action`, `soap.request`, `soap.response`, `soap.fault`: soap.router); after the router has answered,
the wrapper builds the record from them — the transaction from wsa:Action, the outcome from
the fault or the response status, the entities from the message bodies
(xdsno.audit.extract), the user from the XUA assertion (`xdsno.xua`), the requesting system
from REMOTE_ADDR, the TLS client certificate subject (SSL_CLIENT_S_DN) and wsa:ReplyTo.

Anything below the router may add to the record through `environ["xdsno.audit"]`, a dict
created per request (NOTES_KEY):
- `"patients"`: patient ids (CX) and `"documents"`: document uniqueIds the request concerned;
- `"decision"`: the access policy's decision (xdsno.policy `Decision`, or a dict with the same
  names: allowed/denied, reason, rule, override, hidden, and optionally override_reason,
  overridden_documents, hidden_documents) — a denial makes the outcome a serious failure, an
  override (break the glass, consent) is flagged with the documents it showed.

`AuditedAdmin` wraps the administrative JSON calls (known patients, patient blocks, the audit
log itself): the method and path, the patients named in the JSON body or `?patient=`, the HTTP
status as outcome. A failure to store a record is logged and never fails the request.
"""
from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from registry.store.removal import REMOVED_KEY, Removed
from soap.router import ENVIRON_ACTION, ENVIRON_FAULT, ENVIRON_REQUEST, ENVIRON_RESPONSE

from .events import admin_event, soap_event
from .extract import MessageFacts, is_failure, is_partial, message_facts
from .record import AuditRecord, DocumentRef, Outcome, PolicyNote, Requestor
from .store import AuditStore
from .user import audit_user

log = logging.getLogger("xdsno.audit")

NOTES_KEY = "xdsno.audit"
#: environ key of the PendingRecords of a SOAP request (records of the requests it caused)
PENDING_KEY = "xdsno.audit.pending"
MAX_ADMIN_BODY = 4 * 1024 * 1024
_RETRIEVES = ("ITI-43", "ITI-39", "ITI-86")


@dataclass(frozen=True)
class NodeIdentity:
    """This node as audit records name it: audit source id, enterprise site (home community)."""

    source_id: str
    site_id: str
    base_url: str


class AuditRecorder:
    """Stores records (one short transaction each) and tells the shipper there is work."""

    def __init__(self, store: AuditStore, node: NodeIdentity, *, destinations: Sequence[str] = (),
                 on_append: Callable[[], None] | None = None):
        self.store = store
        self.node = node
        self.destinations = tuple(destinations)
        self._on_append = on_append

    def record(self, record: AuditRecord) -> None:
        self.record_all([record])

    def record_all(self, records: list[AuditRecord]) -> None:
        """Store the records in one transaction (a request's own and those of the requests it sent)."""
        try:
            self.store.append_all(records, self.destinations)
        except Exception:
            log.exception("audit records %s could not be stored",
                          ", ".join(f"{r.id} ({r.event.transaction})" for r in records))
            return
        if self._on_append is not None:
            self._on_append()


class PendingRecords:
    """Records of the requests an endpoint's request caused (xdsno.audit.outbound), kept to be
    stored with the request's own record; once that is stored (`close`), `add` refuses and the
    caller stores its record alone (an answer that came after the request was answered)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._records: list[AuditRecord] | None = []

    def add(self, record: AuditRecord) -> bool:
        with self._lock:
            if self._records is None:
                return False
            self._records.append(record)
            return True

    def close(self) -> list[AuditRecord]:
        with self._lock:
            records, self._records = self._records or [], None
            return records


class AuditedEndpoint:
    """WSGI wrapper of one SOAP endpoint (an actor's SoapRouter)."""

    def __init__(self, app, recorder: AuditRecorder, *, actor: str, path: str):
        self.app = app
        self.recorder = recorder
        self.actor = actor
        self.url = recorder.node.base_url + path

    def __getattr__(self, name: str) -> Any:  # the router's `actions` etc. stay reachable
        return getattr(self.app, name)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":  # no SOAP transaction: nothing to audit
            return self.app(environ, start_response)
        environ[NOTES_KEY] = {}
        environ[PENDING_KEY] = pending = PendingRecords()
        status: list[int] = []
        try:
            result = self.app(environ, _capturing(start_response, status))
        except BaseException:
            self.recorder.record_all([*pending.close(), self.soap_record(environ, 500)])
            raise
        self.recorder.record_all([*pending.close(), self.soap_record(environ, status[0] if status else 500)])
        return result

    def soap_record(self, environ: dict[str, Any], http_status: int) -> AuditRecord:
        request = environ.get(ENVIRON_REQUEST)
        response = environ.get(ENVIRON_RESPONSE)
        notes = environ.get(NOTES_KEY) or {}
        action = environ.get(ENVIRON_ACTION)
        event = soap_event(action)
        facts = message_facts(getattr(request, "body", None), getattr(response, "body", None))
        _add_notes(facts, notes)
        _add_removed(facts, environ.get(REMOVED_KEY))
        if event.transaction in _RETRIEVES:
            resolve_patients(self.recorder.store, facts)
        policy = policy_note(notes.get("decision"))
        outcome, description = soap_outcome(http_status, environ.get(ENVIRON_FAULT), facts, policy)
        addressing = getattr(request, "addressing", None)
        return AuditRecord(
            event=event, outcome=outcome, outcome_description=description, actor=self.actor,
            wsa_action=action or "",
            message_id=getattr(addressing, "message_id", "") or "",
            requestor=requestor(environ, getattr(addressing, "reply_to", "") or ""),
            destination=self.url, source_id=self.recorder.node.source_id, site_id=self.recorder.node.site_id,
            user=audit_user(environ), patients=tuple(facts.patients), documents=tuple(facts.documents),
            submission_set=facts.submission_set, query=facts.query,
            home_community_id=home_community(facts, self.recorder.node.site_id), policy=policy,
        )


class AuditedAdmin:
    """WSGI wrapper of an administrative JSON call (`resource`: patients, blocks, audit, …)."""

    def __init__(self, app, recorder: AuditRecorder, *, resource: str, path: str):
        self.app = app
        self.recorder = recorder
        self.resource = resource
        self.url = recorder.node.base_url + path

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        environ[NOTES_KEY] = notes = {}
        patients = _query_patients(environ) + _body_patients(environ)
        status: list[int] = []
        try:
            result = self.app(environ, _capturing(start_response, status))
        except BaseException:
            self.recorder.record(self.admin_record(environ, 500, patients, notes))
            raise
        self.recorder.record(self.admin_record(environ, status[0] if status else 500, patients, notes))
        return result

    def admin_record(self, environ: dict[str, Any], http_status: int, patients: list[str],
                     notes: dict[str, Any]) -> AuditRecord:
        method = environ.get("REQUEST_METHOD", "GET")
        event = admin_event(self.resource, method)
        named = list(dict.fromkeys(patients + [str(p) for p in notes.get("patients", ())]))
        return AuditRecord(
            event=event, outcome=http_outcome(http_status), outcome_description=f"HTTP {http_status}",
            actor="admin", requestor=requestor(environ, ""), destination=self.url + environ.get("PATH_INFO", ""),
            source_id=self.recorder.node.source_id, site_id=self.recorder.node.site_id,
            user=audit_user(environ), patients=tuple(named), policy=policy_note(notes.get("decision")),
        )


def resolve_patients(store: AuditStore, facts: MessageFacts) -> None:
    """ITI-43/39/86 name documents only: their patients come from what the store has seen."""
    try:
        known = store.patients_of(d.unique_id for d in facts.documents)
    except Exception:
        log.exception("audit: patients of retrieved documents could not be looked up")
        return
    facts.documents = [_with_patient(d, known.get(d.unique_id, "")) for d in facts.documents]
    for document in facts.documents:
        facts.add_patient(document.patient_id)


def requestor(environ: dict[str, Any], reply_to: str) -> Requestor:
    return Requestor(address=environ.get("REMOTE_ADDR", "") or "",
                     tls_subject=environ.get("SSL_CLIENT_S_DN", "") or "", endpoint=reply_to)


def soap_outcome(http_status: int, fault: Any, facts: MessageFacts,
                 policy: PolicyNote | None) -> tuple[Outcome, str]:
    """Outcome and its description: a fault, a denial, the response status, else success."""
    if fault is not None:
        code = getattr(fault, "code", "")
        reason = f"SOAP fault {code}: {getattr(fault, 'reason', '')}"
        return (Outcome.SERIOUS_FAILURE if code == "Sender" else Outcome.MAJOR_FAILURE), reason
    if http_status >= 400:
        return Outcome.MAJOR_FAILURE, f"HTTP {http_status}"
    if policy is not None and policy.denied:
        return Outcome.SERIOUS_FAILURE, f"denied by access policy: {policy.reason or policy.rule}"
    if is_failure(facts.status):
        return Outcome.SERIOUS_FAILURE, facts.error or "Failure"
    if is_partial(facts.status):
        return Outcome.MINOR_FAILURE, facts.error or "PartialSuccess"
    return Outcome.SUCCESS, ""


def http_outcome(status: int) -> Outcome:
    if status < 400:
        return Outcome.SUCCESS
    return Outcome.SERIOUS_FAILURE if status < 500 else Outcome.MAJOR_FAILURE


def policy_note(decision: Any) -> PolicyNote | None:
    """The access policy's decision as the record keeps it (an object or a dict, by name)."""
    if decision is None:
        return None

    def get(name: str, default: Any = None) -> Any:
        if isinstance(decision, dict):
            return decision.get(name, default)
        return getattr(decision, name, default)

    denied = get("denied")
    if denied is None:
        denied = not get("allowed", True)
    return PolicyNote(denied=bool(denied), reason=str(get("reason", "") or ""), rule=str(get("rule", "") or ""),
                      override=bool(get("override", False)), hidden=int(get("hidden", 0) or 0),
                      override_reason=str(get("override_reason", "") or ""),
                      overridden_documents=tuple(map(str, get("overridden_documents", ()) or ())),
                      hidden_documents=tuple(map(str, get("hidden_documents", ()) or ())))


def _capturing(start_response: Callable, status: list[int]) -> Callable:
    def capture(status_line: str, headers, exc_info=None):
        status.append(int(status_line.split(" ", 1)[0]))
        return start_response(status_line, headers, exc_info) if exc_info else start_response(status_line, headers)

    return capture


def _add_notes(facts: MessageFacts, notes: dict[str, Any]) -> None:
    for patient in notes.get("patients", ()):
        facts.add_patient(str(patient))
    known = {d.unique_id for d in facts.documents}
    for unique_id in notes.get("documents", ()):
        if unique_id not in known:
            facts.documents.append(DocumentRef(str(unique_id)))


def _add_removed(facts: MessageFacts, removed: Removed | None) -> None:
    """ITI-62: the patients and DocumentEntries the registry removed (RMD audit)."""
    if removed is None:
        return
    for patient in removed.patient_ids:
        facts.add_patient(patient)
    facts.documents.extend(DocumentRef(unique_id) for unique_id in removed.document_unique_ids)


def _with_patient(document: DocumentRef, patient: str) -> DocumentRef:
    if document.patient_id or not patient:
        return document
    return DocumentRef(document.unique_id, document.repository_unique_id, document.home_community_id,
                       patient, document.returned)


def home_community(facts: MessageFacts, site_id: str) -> str:
    if facts.query is not None and facts.query.home_community_id:
        return facts.query.home_community_id
    for document in facts.documents:
        if document.home_community_id:
            return document.home_community_id
    return site_id


def _query_patients(environ: dict[str, Any]) -> list[str]:
    return parse_qs(environ.get("QUERY_STRING", "")).get("patient", [])


def _body_patients(environ: dict[str, Any]) -> list[str]:
    """Patients named by a JSON body (`patients` list or `patient`); the body is kept for the app."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return []
    if length <= 0 or length > MAX_ADMIN_BODY:
        return []
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return []
    if not isinstance(document, dict):
        return []
    named = document.get("patients", [])
    named = named if isinstance(named, list) else []
    if isinstance(document.get("patient"), str):
        named = [document["patient"], *named]
    return [p for p in named if isinstance(p, str)]
