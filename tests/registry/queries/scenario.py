"""A small registry history for the Get* and related queries:

    SS1 (patient P): DocumentEntries A and B, Folder F, F HasMember A (FA);
                     HasMember SS1→A, SS1→B, SS1→F, SS1→FA
    SS2 (patient P): DocumentEntry C replacing A (RPLC C→A; A Deprecated), HasMember SS2→C
    SS3 (patient Q): DocumentEntry X of another patient, HasMember SS3→X
"""
from __future__ import annotations

from dataclasses import dataclass

from profiles.vocabulary import AssociationType
from tests.registry.store.builders import (
    OTHER_PATIENT, association, code, document, folder, submission_set, with_submission_set,
)

from .support import Registry

RPLC = AssociationType.REPLACE.value
APND = AssociationType.APPEND.value
XFRM = AssociationType.TRANSFORM.value
SIGNS = AssociationType.SIGNS.value
HAS_MEMBER = AssociationType.HAS_MEMBER.value


@dataclass
class World:
    ss1: object
    a: object
    b: object
    f: object
    fa: object
    ss1_a: object
    ss1_b: object
    ss1_f: object
    ss1_fa: object
    ss2: object
    c: object
    rplc: object
    ss2_c: object
    ss3: object
    x: object
    ss3_x: object


def members(stored: list) -> list:
    """The HasMember associations with_submission_set added, in order."""
    return [o for o in stored if getattr(o, "association_type", None) == HAS_MEMBER and o.source == stored[0].id]


def build(reg: Registry) -> World:
    a = document(format_code=code("fmt-a"), confidentiality_codes=(code("N"),))
    b = document(format_code=code("fmt-b"), confidentiality_codes=(code("R"),))
    f = folder()
    fa = association(f.id, a.id)
    ss1 = submission_set()
    first = reg.submit(a, b, f, fa, ss=ss1)
    ss1_a, ss1_b, ss1_f, ss1_fa = members(first)[:4]
    c = document()
    rplc = association(c.id, a.id, RPLC)
    ss2 = submission_set()
    second = reg.store(*with_submission_set(c, ss=ss2), rplc)
    reg.deprecate(a.id)
    x = document(patient_id=OTHER_PATIENT)
    ss3 = submission_set(patient_id=OTHER_PATIENT)
    third = reg.submit(x, ss=ss3)
    return World(ss1, a, b, f, fa, ss1_a, ss1_b, ss1_f, ss1_fa, ss2, c, rplc, members(second)[0],
                 ss3, x, members(third)[0])
