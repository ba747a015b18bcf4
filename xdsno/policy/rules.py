"""The rules of the access policy, one small function each (PROFILE.md §5, §6).

Request rules — `(policy, subject, ...) -> reason | None`; a reason refuses the whole request:
- purpose-of-use: the assertion's purpose is one the subject's kind may state (personnel
  TREAT/ETREAT/COC/BTG, citizens ISO 14265 code 13: "tjenstlig behov" is attested by purpose);
- role: health personnel hold an allowed Volven 9060 role;
- patient-required: the assertion names the patient (resource-id);
- patient-match: the query names no patient other than the assertion's.

Document rules — `(context, document) -> Outcome`: HIDE, SHOW, or OVERRIDE (shown only because
an emergency or consent override lifted the rule; the decision is then marked override):
- patient-match: a document of another patient than the assertion's is hidden;
- time-window: kjernejournalforskriften windows (PROFILE.md §5) where enabled;
- confidentiality: personnel do not see NORS unless overridden (ACP .5/.7, purpose BTG/ETREAT);
  citizens do not see NORU, NORN_*, V (no override);
- patient-block: the patient's blocks against this professional or organisation (sperring),
  lifted by the emergency override (purpose BTG or ACP .7).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from profiles.hl7v2 import DTM

from .blocks import Block
from .config import Policy
from .facts import DocumentFacts
from .subject import Subject, patient_key

ROLE_CODE_SYSTEM = "2.16.578.1.12.4.1.1.9060"


# --- request rules ----------------------------------------------------------------------

def purpose_of_use(policy: Policy, subject: Subject) -> str | None:
    allowed = policy.personnel_purposes if subject.is_personnel else policy.citizen_purposes
    if subject.purpose in allowed:
        return None
    return (f"purpose of use {subject.purpose or '(none)'} is not allowed for {subject.kind} "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})")


def role(policy: Policy, subject: Subject, role_codes: frozenset[str]) -> str | None:
    if not subject.is_personnel:
        return None
    if not subject.role:
        return "the assertion states no role (Volven 9060)"
    if subject.role_system and subject.role_system != ROLE_CODE_SYSTEM:
        return f"role code system {subject.role_system} is not Volven 9060 ({ROLE_CODE_SYSTEM})"
    allowed = role_codes if "*" in policy.personnel_roles else policy.personnel_roles
    return None if subject.role in allowed else f"role {subject.role} may not access documents here"


def patient_required(policy: Policy, subject: Subject) -> str | None:
    if policy.patient_required and not patient_key(subject.patient_id):
        return "the assertion names no patient (resource-id)"
    return None


def patient_match(subject: Subject, patient_ids: Sequence[str]) -> str | None:
    own = patient_key(subject.patient_id)
    if own is None:
        return None
    if any(patient_key(patient) != own for patient in patient_ids):
        return "the query names a patient other than the assertion's patient (resource-id)"
    return None


# --- document rules ---------------------------------------------------------------------

class Outcome(Enum):
    SHOW = "show"
    HIDE = "hide"
    OVERRIDE = "override"


@dataclass(frozen=True, slots=True)
class DocumentContext:
    """What the document rules need besides the document."""

    policy: Policy
    subject: Subject
    channel: str
    now: datetime
    blocks: Sequence[Block] = ()


DocumentRule = Callable[[DocumentContext, DocumentFacts], Outcome]


def document_patient(context: DocumentContext, document: DocumentFacts) -> Outcome:
    own = patient_key(context.subject.patient_id)
    return Outcome.HIDE if own is not None and patient_key(document.patient_id) != own else Outcome.SHOW


def time_window(context: DocumentContext, document: DocumentFacts) -> Outcome:
    policy = context.policy
    if not policy.time_windows_enabled or context.channel not in policy.time_window_channels:
        return Outcome.SHOW
    window = next((w for w in policy.time_windows if w.matches(document.class_code, document.type_code)), None)
    when = _instant(document.time(policy.time_attribute))
    if window is None or window.years is None or when is None:
        return Outcome.SHOW
    return Outcome.HIDE if when < _years_before(context.now, window.years) else Outcome.SHOW


def confidentiality(context: DocumentContext, document: DocumentFacts) -> Outcome:
    subject, policy = context.subject, context.policy
    hidden = policy.personnel_hidden if subject.is_personnel else policy.citizen_hidden
    if not any(_code_matches(code, hidden) for code in document.confidentiality_codes):
        return Outcome.SHOW
    if subject.is_personnel and override_for(subject, policy.confidentiality_purposes, policy.confidentiality_acp):
        return Outcome.OVERRIDE
    return Outcome.HIDE


def patient_block(context: DocumentContext, document: DocumentFacts) -> Outcome:
    own = patient_key(document.patient_id)
    if not any(patient_key(b.patient_id) == own and b.applies_to(context.subject) and b.covers(document)
               for b in context.blocks):
        return Outcome.SHOW
    policy = context.policy
    return Outcome.OVERRIDE if override_for(context.subject, policy.blocks_purposes, policy.blocks_acp) \
        else Outcome.HIDE


#: the document rules by name, in the order they are judged
DOCUMENT_RULES: tuple[tuple[str, DocumentRule], ...] = (
    ("patient-match", document_patient),
    ("time-window", time_window),
    ("confidentiality", confidentiality),
    ("patient-block", patient_block),
)


def override_for(subject: Subject, purposes: frozenset[str], acp: frozenset[str]) -> str | None:
    """The purpose or ACP that lifts a rule for `subject`, named; None when none does."""
    if subject.purpose in purposes:
        return f"purpose of use {subject.purpose}"
    consent = next((value for value in subject.acp if value in acp), None)
    return f"access consent policy {consent}" if consent else None


def _code_matches(code: str, patterns: Sequence[str]) -> bool:
    return any(code == p or (p.endswith("*") and code.startswith(p[:-1])) for p in patterns)


def _instant(dtm: str | None) -> datetime | None:
    try:
        return DTM.parse(dtm).lower_bound() if dtm else None
    except ValueError:
        return None


def _years_before(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


__all__ = [
    "DOCUMENT_RULES", "ROLE_CODE_SYSTEM", "DocumentContext", "Outcome", "confidentiality", "document_patient",
    "override_for", "patient_block", "patient_match", "patient_required", "purpose_of_use", "role",
    "time_window",
]
