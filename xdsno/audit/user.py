"""The audited user, read from the verified XUA assertion the XUA layer leaves in the environ.

BALP SAMLaccessTokenUse.Comprehensive (and its Norwegian refinement) maps the assertion's ID,
Issuer and Subject.NameID and its attributes (subject-id, npi, role, organization(-id),
child-organization, facility, purpose of use, homeCommunityId, acp, resource-id) onto the
user agent; `audit_user` takes them from `xdsno.xua.Assertion` (PROFILE.md §6). It reads the
assertion by attribute name only, so the audit does not depend on how it was verified.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .record import AuditUser, Coded

#: where xdsno.xua puts the verified Assertion (xdsno.xua.enforcement.ENVIRON_KEY)
XUA_ENVIRON_KEY = "xdsno.xua"


def audit_user(environ: Mapping[str, Any]) -> AuditUser | None:
    """The user of this request, or None when no assertion was verified."""
    assertion = environ.get(XUA_ENVIRON_KEY)
    if assertion is None:
        return None
    return AuditUser(
        subject=_text(assertion, "subject"),
        issuer=_text(assertion, "issuer"),
        assertion_id=_text(assertion, "id"),
        name=_text(assertion, "user_name"),
        hpr=_text(assertion, "hpr_number"),
        role=_coded(getattr(assertion, "role", None)),
        organization=_text(assertion, "organization"),
        organization_id=_text(assertion, "organization_id"),
        point_of_care=_text(assertion, "point_of_care"),
        point_of_care_name=_text(assertion, "point_of_care_name"),
        department=_text(assertion, "department"),
        department_name=_text(assertion, "department_name"),
        purpose_of_use=_coded(getattr(assertion, "purpose_of_use", None)),
        home_community_id=_text(assertion, "home_community_id"),
        consent=tuple(getattr(assertion, "acp", ()) or ()),
        resource_id=_text(assertion, "patient_id"),
    )


def _text(assertion: Any, name: str) -> str:
    value = getattr(assertion, name, None)
    return str(value) if value else ""


def _coded(value: Any) -> Coded | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Coded(value)
    return Coded(getattr(value, "code", "") or "", getattr(value, "code_system", "") or "",
                 getattr(value, "display", "") or "")
