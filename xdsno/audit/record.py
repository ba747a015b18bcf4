"""`AuditRecord`: one audited event, shaped after IHE Basic Audit Log Patterns (BALP).

What BALP's AuditEvent (FHIR R4) and the DICOM audit message (PS3.15 A.5) both say about an
event, kept as plain data so the local store, the syslog message (RFC 5424) and the FHIR
AuditEvent are all written from one record:

- the event: transaction (ITI-18, ITI-41, …, or an admin event), its DICOM event id, action
  code (C R U D E), time and outcome (0 success, 4 minor, 8 serious, 12 major failure);
- the agents: the requesting system (address, TLS client subject, wsa:From/ReplyTo), the human
  user from the XUA assertion (BALP SAMLaccessTokenUse.Comprehensive: name, HPR, role,
  organisation, point of care, department, purpose of use), this node (audit source,
  destination endpoint);
- the entities: patients, documents (uniqueId, repository, community), submission set, stored
  query (id and parameters), the access policy's verdict (denial, break-the-glass override).

Records are immutable; `to_dict`/`from_dict` are their JSON form in the store.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any


class Outcome(IntEnum):
    """DICOM EventOutcomeIndicator / FHIR R4 AuditEvent.outcome."""

    SUCCESS = 0
    MINOR_FAILURE = 4
    SERIOUS_FAILURE = 8
    MAJOR_FAILURE = 12


@dataclass(frozen=True)
class Coded:
    """A code with its system and display (DICOM csd-code/codeSystemName/originalText)."""

    code: str
    system: str = ""
    display: str = ""


@dataclass(frozen=True)
class EventType:
    """What happened: transaction id and name, DICOM EventID, EventActionCode, and the
    EventTypeCode when it is not the transaction itself (a Security Alert's alert type)."""

    transaction: str
    name: str
    event_id: Coded
    action: str
    type_code: Coded | None = None


@dataclass(frozen=True)
class AuditUser:
    """The human requestor as the XUA assertion names them (PROFILE.md §6).

    `subject` is the SAML NameID, which may be the user's national id: it belongs to the
    security audit trail only, never to the citizen's access log."""

    subject: str = ""
    issuer: str = ""
    assertion_id: str = ""
    name: str = ""
    hpr: str = ""
    role: Coded | None = None
    organization: str = ""
    organization_id: str = ""
    point_of_care: str = ""
    point_of_care_name: str = ""
    department: str = ""
    department_name: str = ""
    purpose_of_use: Coded | None = None
    home_community_id: str = ""
    consent: tuple[str, ...] = ()
    resource_id: str = ""


@dataclass(frozen=True)
class Requestor:
    """The requesting system: network address, TLS client certificate subject, wsa:From/ReplyTo."""

    address: str = ""
    tls_subject: str = ""
    endpoint: str = ""


@dataclass(frozen=True)
class DocumentRef:
    """A document of the event; `returned` says whether it went back to the requestor."""

    unique_id: str
    repository_unique_id: str = ""
    home_community_id: str = ""
    patient_id: str = ""
    returned: bool | None = None


@dataclass(frozen=True)
class QueryRef:
    """A stored query (ITI-18/38): its id, name, parameters and the AdhocQuery as sent."""

    id: str
    name: str = ""
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()
    home_community_id: str = ""
    text: str = ""


@dataclass(frozen=True)
class PolicyNote:
    """The access policy's decision for this request (xdsno.policy): a denial, a
    break-the-glass/consent override, how many documents it left out."""

    denied: bool = False
    reason: str = ""
    rule: str = ""
    override: bool = False
    hidden: int = 0
    override_reason: str = ""
    overridden_documents: tuple[str, ...] = ()
    hidden_documents: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditRecord:
    """One audited event; see the module docstring."""

    event: EventType
    outcome: Outcome
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    recorded: str = field(default_factory=lambda: now_iso())
    outcome_description: str = ""
    actor: str = ""
    wsa_action: str = ""
    message_id: str = ""
    requestor: Requestor = field(default_factory=Requestor)
    destination: str = ""
    source_id: str = ""
    site_id: str = ""
    user: AuditUser | None = None
    patients: tuple[str, ...] = ()
    documents: tuple[DocumentRef, ...] = ()
    submission_set: str = ""
    query: QueryRef | None = None
    home_community_id: str = ""
    policy: PolicyNote | None = None
    #: a request this node sent (an Initiating Gateway's ITI-38/39 to a community), audited as
    #: the Document Consumer side; `requestor` is then the Source and `destination` the other end
    outbound: bool = False

    @property
    def override(self) -> bool:
        return bool(self.policy and self.policy.override)

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["outcome"] = int(self.outcome)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRecord:
        return _build(cls, data)


def now_iso() -> str:
    """The current UTC time as RFC 3339 with microseconds (sorts as text)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- to_dict / from_dict: plain JSON data (dataclasses.asdict deep-copies and is ~10x slower)

_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is tuple or kind is list:
        return [_plain(item) for item in value]
    try:
        names = _FIELD_NAMES[kind]
    except KeyError:
        names = _FIELD_NAMES[kind] = (tuple(f.name for f in dataclasses.fields(kind))
                                      if dataclasses.is_dataclass(kind) else None)
    if names is None:
        return value
    return {name: _plain(getattr(value, name)) for name in names}


_NESTED = {
    "event": EventType, "event_id": Coded, "type_code": Coded, "requestor": Requestor, "user": AuditUser,
    "role": Coded, "purpose_of_use": Coded, "query": QueryRef, "policy": PolicyNote,
}


def _build(kind: type, data: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        if f.name not in data:
            continue
        values[f.name] = _value(f.name, data[f.name])
    if kind is AuditRecord:
        values["outcome"] = Outcome(int(values["outcome"]))
    return kind(**values)


def _value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _NESTED:
        return _build(_NESTED[name], value)
    if name == "documents":
        return tuple(_build(DocumentRef, item) for item in value)
    if name == "params":
        return tuple((param, tuple(values)) for param, values in value)
    if isinstance(value, list):
        return tuple(value)
    return value
