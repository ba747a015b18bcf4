"""Patients known to the Document Registry (ITI TF-2 3.42.4.1.3: the registry accepts metadata
only for patient ids it knows; ITI TF-3 Table 4.2.4.1-2 XDSUnknownPatientId).

Patients are fed by the admin HTTP call (`registry.admin`), the `xdsno patients` command and,
later, the Patient Identity Feed (ITI-8 / ITI-104). Each is stored once, as its canonical CX
text (`id^^^&OID&ISO`), so the same patient written two ways is one row. Whether unknown
patients are refused is the deployment's choice (`known_patients_only`); the check itself is
`registry.checks.patients_known`.

The caller owns the transaction: `add_patients` inside `write_transaction(engine)`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import Connection, select

from profiles.hl7v2 import CX
from registry.store.reader import CHUNK
from registry.store.schema import known_patient


class PatientIdError(ValueError):
    """Some patient ids are not XDS patient ids (CX with CX.1 and CX.4 `&OID&ISO` only)."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        super().__init__("; ".join(f"{cx!r}: {', '.join(found)}" for cx, found in problems.items()))


def canonical_patient_id(cx: str) -> str:
    """The one text a patient id is stored and compared as (trailing separators dropped)."""
    return CX.parse(cx.strip()).format()


def parse_patient_ids(cx_list: Iterable[str]) -> list[str]:
    """Canonical ids in the given order, without repeats; PatientIdError names every bad one."""
    canonical: list[str] = []
    problems: dict[str, list[str]] = {}
    for cx in cx_list:
        found = CX.parse(cx.strip()).xds_problems() if isinstance(cx, str) else ["not a string"]
        if found:
            problems[str(cx)] = found
        else:
            canonical.append(canonical_patient_id(cx))
    if problems:
        raise PatientIdError(problems)
    return list(dict.fromkeys(canonical))


def add_patients(conn: Connection, cx_list: Iterable[str]) -> list[str]:
    """Record patients as known; returns the canonical ids that were new. Idempotent.

    Raises PatientIdError (and records nothing) when any id is not an XDS patient id.
    """
    wanted = parse_patient_ids(cx_list)
    new = [cx for cx in wanted if cx not in known_among(conn, wanted)]
    if new:
        now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        conn.execute(known_patient.insert(), [{"patient_id": cx, "added_at": now} for cx in new])
    return new


def known_among(conn: Connection, cx_list: Iterable[str]) -> set[str]:
    """The canonical ids among `cx_list` (canonical already) that the registry knows."""
    ids = list(dict.fromkeys(cx_list))
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        found.update(conn.execute(select(known_patient.c.patient_id)
                                  .where(known_patient.c.patient_id.in_(chunk))).scalars())
    return found


def is_known(conn: Connection, cx: str) -> bool:
    """Whether the patient `cx` (any spelling of it) has been fed to the registry."""
    return bool(known_among(conn, [canonical_patient_id(cx)]))


def known_patients(conn: Connection) -> list[str]:
    """Every known patient, canonical ids in sorted order."""
    query = select(known_patient.c.patient_id).order_by(known_patient.c.patient_id)
    return list(conn.execute(query).scalars())
