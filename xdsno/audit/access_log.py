"""The citizen's access log (innsynslogg): who saw which of a patient's documents, when and why.

PROFILE.md §6: the source logs every access for the citizen — who (name and organisation,
never the user's national id), saw what, when, why. One entry per audited access to the
patient (ITI-18/38/51 queries, ITI-43/39 retrieves, refused ones included), read from the local
audit store:

    {"time", "transaction", "access": "query"|"retrieve", "outcome": "success"|"partial"|"denied"|"failed",
     "user": {"name", "role", "organization", "organization_number", "point_of_care", "department"},
     "purpose", "override", "override_reason", "documents": [uniqueId, ...], "community"}

An emergency or consent override (break the glass) is shown as such, with its reason.

Only names and organisation numbers are shown; the SAML NameID, HPR number and assertion are
not. Every text shown is scrubbed of anything shaped like a Norwegian person number
(11 digits, fødselsnummer or D-nummer): an issuer that puts the national id in the name
attribute does not leak it here.
"""
from __future__ import annotations

import re
from typing import Any

from .events import ACCESS_TRANSACTIONS
from .record import AuditRecord, AuditUser, Outcome
from .store import AuditStore

#: 11 digits, optionally `DDMMYY IIIKK` with a space, not part of a longer number
PERSON_NUMBER = re.compile(r"(?<!\d)\d{6}[ -]?\d{5}(?!\d)")
_REDACTED = "[fjernet]"
_RETRIEVES = frozenset({"ITI-43", "ITI-39"})


def access_log(store: AuditStore, patient: str, *, since: str | None = None, until: str | None = None,
               limit: int = 10000) -> list[dict[str, Any]]:
    """The patient's access log, oldest first. A gateway's outbound requests (`outbound`) are
    left out: they are the same access as the consumer's request that caused them."""
    records = store.records(patient=patient, since=since, until=until, transactions=ACCESS_TRANSACTIONS,
                            limit=limit)
    return [access_entry(record, patient) for record in records if not record.outbound]


def access_entry(record: AuditRecord, patient: str) -> dict[str, Any]:
    user = record.user
    return {
        "time": record.recorded,
        "transaction": record.event.transaction,
        "access": "retrieve" if record.event.transaction in _RETRIEVES else "query",
        "outcome": _outcome(record),
        "user": _user(user),
        "purpose": _purpose(user),
        "override": record.override,
        "override_reason": scrub(record.policy.override_reason) if record.override else "",
        "documents": [d.unique_id for d in record.documents
                      if d.returned is not False and d.patient_id in ("", patient)],
        "community": record.home_community_id,
    }


def scrub(text: str) -> str:
    """`text` with every person-number-shaped run of digits replaced."""
    return PERSON_NUMBER.sub(_REDACTED, text or "")


def _user(user: AuditUser | None) -> dict[str, str]:
    if user is None:
        return {"name": "ukjent (ingen brukerattest)"}
    shown = {
        "name": user.name,
        "role": (user.role.display or user.role.code) if user.role else "",
        "organization": user.organization,
        "organization_number": user.organization_id,
        "point_of_care": user.point_of_care_name,
        "department": user.department_name or user.department,
    }
    return {key: scrub(value) for key, value in shown.items() if value}


def _purpose(user: AuditUser | None) -> str:
    if user is None or user.purpose_of_use is None:
        return ""
    return scrub(user.purpose_of_use.display or user.purpose_of_use.code)


def _outcome(record: AuditRecord) -> str:
    if record.policy is not None and record.policy.denied:
        return "denied"
    if record.outcome is Outcome.SUCCESS:
        return "success"
    return "partial" if record.outcome is Outcome.MINOR_FAILURE else "failed"
