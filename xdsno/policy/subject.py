"""`Subject`: who asks, as the access policy sees it, read from the verified XUA assertion
(xdsno.xua `Assertion`, put in the request's environ under "xdsno.xua"; PROFILE.md §6).

Health personnel carry an HPR number (urn:oasis:names:tc:xspa:1.0:subject:npi, HelseID);
a citizen (Helsenorge) carries none. Patient ids are compared as CX id + assigning authority
OID (`patient_key`), so `13116900216^^^&2.16.578.1.12.4.1.4.1&ISO` written with other empty
components is the same patient.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from profiles.hl7v2 import CX

#: the key of the verified assertion in the WSGI environ (xdsno.xua.enforcement.ENVIRON_KEY)
ASSERTION_KEY = "xdsno.xua"


class SubjectKind(StrEnum):
    PERSONNEL = "personnel"
    CITIZEN = "citizen"


@dataclass(frozen=True, slots=True)
class Subject:
    """The requester's attributes the policy judges by (plain data; all optional but kind)."""

    kind: SubjectKind
    user_name: str | None = None
    hpr_number: str | None = None
    role: str | None = None
    role_system: str | None = None
    organisation: str | None = None
    point_of_care: str | None = None
    department: str | None = None
    purpose: str | None = None
    patient_id: str | None = None
    home_community_id: str | None = None
    acp: tuple[str, ...] = ()

    @property
    def is_personnel(self) -> bool:
        return self.kind is SubjectKind.PERSONNEL

    @property
    def organisations(self) -> frozenset[str]:
        """The organisation numbers the subject acts for: legal entity and point of care."""
        return frozenset(o for o in (self.organisation, self.point_of_care) if o)


def subject_of(environ: Mapping[str, Any]) -> Subject | None:
    """The Subject of the verified assertion in `environ`, None without one."""
    assertion = environ.get(ASSERTION_KEY)
    return None if assertion is None else from_assertion(assertion)


def from_assertion(assertion: Any) -> Subject:
    """A Subject from an xdsno.xua `Assertion` (read by its attribute properties)."""
    hpr = _text(assertion.hpr_number)
    role, purpose = assertion.role, assertion.purpose_of_use
    return Subject(
        kind=SubjectKind.PERSONNEL if hpr else SubjectKind.CITIZEN,
        user_name=_text(assertion.user_name), hpr_number=hpr,
        role=_text(role.code) if role else None, role_system=_text(role.code_system) if role else None,
        organisation=_text(assertion.organization_id), point_of_care=_text(assertion.point_of_care),
        department=_text(assertion.department), purpose=_text(purpose.code) if purpose else None,
        patient_id=_text(assertion.patient_id), home_community_id=_text(assertion.home_community_id),
        acp=tuple(a.strip() for a in assertion.acp if a and a.strip()),
    )


def _text(value: str | None) -> str | None:
    return value.strip() or None if value else None


def patient_key(cx: str | None) -> tuple[str, str] | None:
    """(id number, assigning authority OID) of a CX patient id; None when it has no id."""
    if not cx:
        return None
    parsed = CX.parse(cx.strip())
    return (parsed.id_number, parsed.assigning_authority.universal_id) if parsed.id_number else None


__all__ = ["ASSERTION_KEY", "Subject", "SubjectKind", "from_assertion", "patient_key", "subject_of"]
