"""Registry-assigned identifiers of a Register Document Set-b submission (ITI TF-3 4.2.3.2.7,
4.2.3.3.5, 4.2.3.4.4 entryUUID, symbolic or UUID; 4.2.3.2.32 logicalID; ebRIM 3.0
RegistryObject id/lid and VersionInfo).

- A symbolic id (not `urn:uuid:`) names an object only within its message: the registry
  replaces it by a new `urn:uuid:` (UUID version 4) and rewrites every Association's
  sourceObject/targetObject that used it.
- A `urn:uuid:` id is kept as given; it must not name an object the registry already holds
  (`registry.checks.entry_uuids_new` answers XDSRegistryMetadataError for that).
- logicalID: in ITI-42 lid equals id (ITI TF-3 4.2.3.2.32; only ITI-57 makes versions that
  share a lid), so every new object gets lid = its final id. A replacement (RPLC, XFRM_RPLC)
  is therefore a new logical document too, related to the original by the association.
- version: every new object is version 1 (VersionInfo versionName "1").
- Classifications and ExternalIdentifiers with symbolic ids get ids derived from their
  object's new entryUUID (`profiles.ebrim.derived_id`, by blanking them), so the stored
  metadata holds no symbolic id at all.
"""
from __future__ import annotations

import uuid
from dataclasses import fields, is_dataclass, replace
from functools import cache
from typing import Callable, Mapping

from profiles.model import (
    Association, Author, Code, ExtraClassification, ExtraExternalIdentifier, RegistryObject,
    Submission,
)

UUID_PREFIX = "urn:uuid:"
INITIAL_VERSION = "1"
#: the parts of an object that carry ids of their own
_ID_CARRIERS = (Code, Author, ExtraClassification, ExtraExternalIdentifier)
_NODE_CLASSIFICATION = "node_classification_id"


def new_entry_uuid() -> str:
    """A fresh entryUUID: `urn:uuid:` and a random (version 4) UUID."""
    return f"{UUID_PREFIX}{uuid.uuid4()}"


def is_symbolic(identifier: str) -> bool:
    return not identifier.startswith(UUID_PREFIX)


def supplied_entry_uuids(submission: Submission) -> list[str]:
    """The `urn:uuid:` ids the submitter gave its own objects (they must be new to the registry)."""
    return [obj.id for obj in submission.objects() if obj.id and not is_symbolic(obj.id)]


def id_map(submission: Submission, make_uuid: Callable[[], str] = new_entry_uuid) -> dict[str, str]:
    """Symbolic id → new entryUUID, for every object of the submission with a symbolic id."""
    return {obj.id: make_uuid() for obj in submission.objects() if is_symbolic(obj.id)}


def assign_ids(submission: Submission,
               make_uuid: Callable[[], str] = new_entry_uuid) -> tuple[Submission, dict[str, str]]:
    """The submission as the registry stores it: final ids, lids and versions; and the id map.

    Association ends naming objects outside the submission (existing `urn:uuid:` entries) are
    left as they are.
    """
    mapping = id_map(submission, make_uuid)

    def final(obj: RegistryObject) -> RegistryObject:
        return _with_final_ids(obj, mapping)

    assigned = submission.with_changes(
        document_entries=tuple(final(e) for e in submission.document_entries),
        submission_sets=tuple(final(s) for s in submission.submission_sets),
        folders=tuple(final(f) for f in submission.folders),
        associations=tuple(final(a) for a in submission.associations),
    )
    return assigned, mapping


def _with_final_ids(obj: RegistryObject, mapping: Mapping[str, str]) -> RegistryObject:
    entry_uuid = mapping.get(obj.id, obj.id)
    changes: dict[str, object] = {"id": entry_uuid, "lid": entry_uuid, "version_name": INITIAL_VERSION}
    if isinstance(obj, Association):
        changes["source"] = mapping.get(obj.source, obj.source)
        changes["target"] = mapping.get(obj.target, obj.target)
    if getattr(obj, _NODE_CLASSIFICATION, "") and is_symbolic(getattr(obj, _NODE_CLASSIFICATION)):
        changes[_NODE_CLASSIFICATION] = ""
    for name in _field_names(type(obj)):
        value = getattr(obj, name)
        if value.__class__ is tuple or isinstance(value, _ID_CARRIERS):
            blanked = _blank_symbolic_ids(value)
            if blanked is not value:
                changes[name] = blanked
    return obj.with_changes(**changes)


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in fields(cls))


def _blank_symbolic_ids(value):
    """`value` with symbolic ids of Codes, Authors and extra classifications/identifiers blanked
    (the encoder then derives a UUID from the object's entryUUID); `value` itself when unchanged."""
    if isinstance(value, tuple):
        items = tuple(_blank_symbolic_ids(item) for item in value)
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, _ID_CARRIERS) and is_dataclass(value) and value.id and is_symbolic(value.id):
        return replace(value, id="")
    return value
