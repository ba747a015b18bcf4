"""Patient blocks (sperring, PROFILE.md §6: citizens may block information for named health
personnel): what a patient has blocked, for whom, stored in the registry's database.

A block names the patient and at least one of
- WHAT is blocked: one document (`document_unique_id`), every document authored at one
  organisation (`author_organisation`: an orgnr in the DocumentEntry's authorInstitution), or,
  when neither is given, every document of the patient;
- WHOM it is blocked for: one health professional (`hpr_number`, the HPR number in the XUA
  assertion), one organisation (`organisation`: the orgnr of the assertion's legal entity or
  point of care), or, when neither is given, all health personnel.

So "everything for Dr X" is {hpr_number}, "this document" is {document_unique_id}, "all from
Sykehuset Y" is {author_organisation}. Blocks never apply to the citizen (the patient sees
their own record); the emergency override (purpose BTG or ACP .7) lifts them, and the
Decision says so (xdsno.policy.pdp). Table `patient_block`, created when missing; patient ids
are stored canonical (registry.patients) so every spelling of a patient finds its blocks.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, Engine, Index, Integer, MetaData, String, Table, delete, select

from xdsno.tables import create_missing_tables

from profiles.hl7v2 import CX
from registry.patients import canonical_patient_id

from .facts import DocumentFacts
from .subject import Subject

_CHUNK = 500
_DIGITS = re.compile(r"\d{1,20}")
#: Enhetsregisteret organisation numbers have nine digits
_ORGNR = re.compile(r"\d{9}")

metadata = MetaData()

patient_block = Table(
    "patient_block", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String, nullable=False),
    Column("document_unique_id", String),
    Column("author_organisation", String(20)),
    Column("hpr_number", String(20)),
    Column("organisation", String(20)),
    Column("note", String(1000), nullable=False, default=""),
    Column("created_at", String(14), nullable=False),
    Index("ix_patient_block_patient", "patient_id"),
)


class BlockError(ValueError):
    """A block cannot be stored as given; the message names every problem."""


@dataclass(frozen=True, slots=True)
class Block:
    """One stored block (see the module docstring); `id` 0 before it is stored."""

    patient_id: str
    document_unique_id: str | None = None
    author_organisation: str | None = None
    hpr_number: str | None = None
    organisation: str | None = None
    note: str = ""
    id: int = 0
    created_at: str = ""

    def applies_to(self, subject: Subject) -> bool:
        """Whether the block is against this subject (health personnel only)."""
        if not subject.is_personnel:
            return False
        if self.hpr_number:
            return subject.hpr_number == self.hpr_number
        if self.organisation:
            return self.organisation in subject.organisations
        return True

    def covers(self, document: DocumentFacts) -> bool:
        """Whether the block names this document (its patient is checked by the caller)."""
        if self.document_unique_id:
            return document.unique_id == self.document_unique_id
        if self.author_organisation:
            return self.author_organisation in document.author_organisations
        return True

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_block(values: Mapping[str, Any]) -> Block:
    """A Block from JSON-like values, checked; BlockError names every problem."""
    known = {f.name for f in fields(Block)} - {"id", "created_at"}
    problems = [f"unknown field {name!r}" for name in values if name not in known and name != "patient"]
    data = {name: values.get(name) for name in known}
    data["patient_id"] = values.get("patient_id") or values.get("patient")
    problems += _problems(data)
    if problems:
        raise BlockError("; ".join(problems))
    text = {name: (value.strip() or None) if isinstance(value, str) else value for name, value in data.items()}
    return Block(patient_id=canonical_patient_id(text["patient_id"]), note=text["note"] or "",
                 **{name: text[name] for name in ("document_unique_id", "author_organisation", "hpr_number",
                                                  "organisation")})


def _problems(data: dict[str, Any]) -> list[str]:
    problems = [f"{name} must be a string" for name, value in data.items()
                if value is not None and not isinstance(value, str)]
    if problems:
        return problems
    given = {name for name, value in data.items() if value and value.strip()}
    patient = data["patient_id"]
    if "patient_id" not in given:
        problems.append("patient (CX id^^^&OID&ISO) is required")
    elif found := CX.parse(patient.strip()).xds_problems():
        problems.append(f"patient {patient!r} is not an XDS patient id: {', '.join(found)}")
    if {"document_unique_id", "author_organisation"} <= given:
        problems.append("name either document_unique_id or author_organisation, not both")
    if {"hpr_number", "organisation"} <= given:
        problems.append("name either hpr_number or organisation, not both")
    if not given & {"document_unique_id", "author_organisation", "hpr_number", "organisation"}:
        problems.append("a block names a document_unique_id, an author_organisation, an hpr_number "
                        "or an organisation")
    for name in ("author_organisation", "organisation"):
        if name in given and not _ORGNR.fullmatch(data[name].strip()):
            problems.append(f"{name} must be a nine-digit organisation number")
    if "hpr_number" in given and not _DIGITS.fullmatch(data["hpr_number"].strip()):
        problems.append("hpr_number must be digits")
    return problems


class BlockStore:
    """The `patient_block` table on an SQLAlchemy engine; safe to share between threads."""

    def __init__(self, engine: Engine, *, create: bool = True):
        self.engine = engine
        if create:
            create_table(engine)

    def add(self, block: Block) -> Block:
        now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        row = {**block.as_dict(), "created_at": now}
        row.pop("id")
        with self.engine.begin() as conn:
            new_id = conn.execute(patient_block.insert().values(**row)).inserted_primary_key[0]
        return Block(**{**row, "id": new_id})

    def for_patients(self, patient_ids: Iterable[str]) -> list[Block]:
        """Every block of these patients (any spelling), oldest first."""
        wanted = sorted({canonical_patient_id(p) for p in patient_ids if p})
        found: list[Block] = []
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                query = select(patient_block).where(patient_block.c.patient_id.in_(wanted[start:start + _CHUNK]))
                found += [_block(row) for row in conn.execute(query)]
        return sorted(found, key=lambda block: block.id)

    def get(self, block_id: int) -> Block | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(patient_block).where(patient_block.c.id == block_id)).first()
        return None if row is None else _block(row)

    def remove(self, block_id: int) -> Block | None:
        """Remove a block; the removed block, or None when there was none with that id."""
        with self.engine.begin() as conn:
            row = conn.execute(select(patient_block).where(patient_block.c.id == block_id)).first()
            if row is not None:
                conn.execute(delete(patient_block).where(patient_block.c.id == block_id))
        return None if row is None else _block(row)


def create_table(engine: Engine) -> None:
    """Create `patient_block` when missing (several workers may start at once)."""
    create_missing_tables(engine, metadata)


def _block(row) -> Block:
    return Block(row.patient_id, row.document_unique_id, row.author_organisation, row.hpr_number,
                 row.organisation, row.note or "", row.id, row.created_at)


__all__ = ["Block", "BlockError", "BlockStore", "create_table", "new_block", "patient_block"]
