"""Registry-state checks of Register Document Set-b (ITI TF-2 3.42.4.1.3 expected actions;
ITI TF-3 4.2.2 associations, 4.2.2.2 document relationships; error codes of ITI TF-3
Table 4.2.4.1-2): what a submission is judged on besides its own content.

Each check is a small function `(submission, state) -> Iterable[Issue]`, like a profile rule,
run by `run_checks` inside the registry's write transaction (so the registry cannot change
between check and insert). They see the submission as sent (symbolic ids, before
`registry.ids.assign_ids`), so every issue names objects the way the submitter did.

| check                         | error code                                               |
|-------------------------------|----------------------------------------------------------|
| entry_uuids_new               | XDSRegistryMetadataError (a given urn:uuid id is taken)  |
| unique_ids_in_registry        | XDSDuplicateUniqueIdInRegistry; for a DocumentEntry      |
|                               | resubmitted under its uniqueId: XDSNonIdenticalHash,     |
|                               | XDSNonIdenticalSize                                      |
| patients_known                | XDSUnknownPatientId                                      |
| references_exist              | XDSRegistryMetadataError (unresolved sourceObject/target)|
| referenced_kinds              | XDSRegistryMetadataError                                 |
| referenced_documents_approved | XDSRegistryDeprecatedDocumentError                       |
| referenced_patients_match     | XDSPatientIdDoesNotMatch                                 |
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Iterator, NamedTuple

from sqlalchemy import Connection, bindparam, select

from profiles.errors import ErrorCode, Issue
from profiles.hl7v2 import CX
from profiles.model import Association, DocumentEntry, Folder, Submission, SubmissionSet
from profiles.vocabulary import (
    DOCUMENT_RELATIONSHIPS, AssociationType, AvailabilityStatus, ObjectType,
)
from registry.ids import supplied_entry_uuids
from registry.patients import canonical_patient_id, known_among
from registry.store import ObjectKind, ObjectSummary, get_by_uuids
from registry.store.reader import CHUNK
from registry.store.schema import document_entry, registry_object

_RELATIONSHIPS = DOCUMENT_RELATIONSHIPS | {AssociationType.IS_SNAPSHOT_OF}
_KIND_NAMES = {ObjectKind.DOCUMENT_ENTRY: "DocumentEntry", ObjectKind.SUBMISSION_SET: "SubmissionSet",
               ObjectKind.FOLDER: "Folder", ObjectKind.ASSOCIATION: "Association"}
_KINDS = {DocumentEntry: ObjectKind.DOCUMENT_ENTRY, SubmissionSet: ObjectKind.SUBMISSION_SET,
          Folder: ObjectKind.FOLDER, Association: ObjectKind.ASSOCIATION}
#: what a HasMember may link (ITI TF-3 4.2.2.1): source kind -> allowed target kinds
_MEMBERS = {ObjectKind.SUBMISSION_SET: {ObjectKind.DOCUMENT_ENTRY, ObjectKind.FOLDER, ObjectKind.ASSOCIATION},
            ObjectKind.FOLDER: {ObjectKind.DOCUMENT_ENTRY}}


@dataclass(frozen=True)
class RegistryPolicy:
    """The deployment's choices the checks apply (DESIGN.md §7)."""

    #: assigning-authority OIDs accepted in patient ids; empty accepts any authority
    patient_domains: tuple[str, ...] = ()
    #: accept only patients fed to the registry (registry.patients)
    known_patients_only: bool = False


class UniqueIdUse(NamedTuple):
    """A stored object carrying a uniqueId: what `unique_ids_in_registry` compares."""

    unique_id: str
    kind: ObjectKind
    hash: str | None
    size: int | None


#: built once (SQLAlchemy finds its compiled form by cache key); only the columns the check reads
_UNIQUE_ID_USES = (
    select(registry_object.c.unique_id, registry_object.c.kind, document_entry.c.hash, document_entry.c.size)
    .select_from(registry_object.outerjoin(document_entry,
                                           document_entry.c.entry_uuid == registry_object.c.entry_uuid))
    .where(registry_object.c.unique_id.in_(bindparam("unique_ids", expanding=True)))
    .order_by(registry_object.c.submission_id, registry_object.c.position))


def unique_id_uses(conn: Connection, unique_ids: Iterable[str]) -> list[UniqueIdUse]:
    """Stored objects of any kind carrying one of `unique_ids`, in insert order."""
    wanted = list(dict.fromkeys(unique_ids))
    rows = [row for start in range(0, len(wanted), CHUNK)
            for row in conn.execute(_UNIQUE_ID_USES, {"unique_ids": wanted[start:start + CHUNK]})]
    return [UniqueIdUse(unique_id, ObjectKind(kind), hash_value, size) for unique_id, kind, hash_value, size in rows]


class RegistryState:
    """The registry as the checks see it: one connection, lookups made once and shared."""

    def __init__(self, conn: Connection, submission: Submission, policy: RegistryPolicy):
        self.conn = conn
        self.policy = policy
        self.objects = submission.by_id()
        self.supplied = supplied_entry_uuids(submission)

    @cached_property
    def stored(self) -> dict[str, ObjectSummary]:
        """Stored objects among the submitter's `urn:uuid:` ids and the association ends outside
        the submission, by entryUUID: one lookup for `entry_uuids_new` and `referenced`."""
        return {s.entry_uuid: s for s in get_by_uuids(self.conn, [*self.supplied, *self.external_ends])}

    @cached_property
    def referenced(self) -> dict[str, ObjectSummary]:
        """Stored objects named by association ends outside the submission, by entryUUID."""
        return {uuid: stored for uuid in self.external_ends if (stored := self.stored.get(uuid)) is not None}

    @cached_property
    def external_ends(self) -> list[str]:
        ends = (end for a in self.objects.values() if isinstance(a, Association) for end in (a.source, a.target))
        return list(dict.fromkeys(end for end in ends if end and end not in self.objects))

    def kind_of(self, entry_id: str) -> ObjectKind | None:
        """Kind of an object of the submission or of a referenced stored one (None: unknown)."""
        if (obj := self.objects.get(entry_id)) is not None:
            return _KINDS[type(obj)]
        stored = self.referenced.get(entry_id)
        return stored.kind if stored else None

    def patient_of(self, entry_id: str) -> str | None:
        obj = self.objects.get(entry_id)
        if obj is not None:
            return getattr(obj, "patient_id", None)
        stored = self.referenced.get(entry_id)
        return stored.patient_id if stored else None


Check = Callable[[Submission, RegistryState], Iterable[Issue]]


def _issue(code: ErrorCode, obj, text: str) -> Issue:
    label = f"{type(obj).__name__} {obj.id}" if obj is not None else "submission"
    return Issue(code, f"{label}: {text}", location=obj.id if obj is not None else "")


def _ends(association: Association) -> Iterator[tuple[str, str]]:
    yield "sourceObject", association.source
    yield "targetObject", association.target


def entry_uuids_new(submission: Submission, state: RegistryState) -> Iterator[Issue]:
    """A `urn:uuid:` entryUUID the submitter gave a new object is not already in the registry
    (ITI TF-3 4.2.3.2.7: entryUUIDs are unique across the registry)."""
    taken = {uuid: stored for uuid in state.supplied if (stored := state.stored.get(uuid)) is not None}
    for obj in submission.objects():
        if (stored := taken.get(obj.id)) is not None:
            yield _issue(ErrorCode.REGISTRY_METADATA_ERROR, obj,
                         f"entryUUID {obj.id} already names a {_KIND_NAMES[stored.kind]} in the registry; "
                         "a new object needs a new entryUUID (or a symbolic id)")


def unique_ids_in_registry(submission: Submission, state: RegistryState) -> Iterator[Issue]:
    """uniqueIds are new to the registry (ITI TF-2 3.42.4.1.3; ITI TF-3 Table 4.2.4.1-2).

    A SubmissionSet's or Folder's uniqueId already used by any object, or a DocumentEntry's
    used by a SubmissionSet or Folder: XDSDuplicateUniqueIdInRegistry. A DocumentEntry whose
    uniqueId an existing DocumentEntry carries is the same document registered again, which
    is allowed when it is the same content: a different hash answers XDSNonIdenticalHash, a
    different size XDSNonIdenticalSize.
    """
    carriers = [obj for obj in (*submission.document_entries, *submission.submission_sets, *submission.folders)
                if obj.unique_id]
    found: dict[str, list[UniqueIdUse]] = {}
    for stored in unique_id_uses(state.conn, [obj.unique_id for obj in carriers]):
        found.setdefault(stored.unique_id, []).append(stored)
    for obj in carriers:
        existing = found.get(obj.unique_id)
        if not existing:
            continue
        if isinstance(obj, DocumentEntry) and all(s.kind is ObjectKind.DOCUMENT_ENTRY for s in existing):
            yield from _same_document(obj, existing)
        else:
            kinds = sorted({_KIND_NAMES[s.kind] for s in existing})
            yield _issue(ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY, obj,
                         f"uniqueId {obj.unique_id} is already used by a {' and a '.join(kinds)} in the registry")


def _same_document(entry: DocumentEntry, existing: list[UniqueIdUse]) -> Iterator[Issue]:
    hash_value = (entry.hash or "").lower()
    if any((stored.hash or "") != hash_value for stored in existing):
        yield _issue(ErrorCode.NON_IDENTICAL_HASH, entry,
                     f"uniqueId {entry.unique_id} is registered with hash {existing[0].hash}; "
                     f"this submission gives hash {entry.hash}")
    size = int(entry.size) if entry.size and entry.size.isdigit() else None
    if any(stored.size != size for stored in existing):
        yield _issue(ErrorCode.NON_IDENTICAL_SIZE, entry,
                     f"uniqueId {entry.unique_id} is registered with size {existing[0].size}; "
                     f"this submission gives size {entry.size}")


def patients_known(submission: Submission, state: RegistryState) -> Iterator[Issue]:
    """Every patientId belongs to a configured patient identifier domain and, when the registry
    accepts only fed patients, has been fed to it (ITI TF-2 3.42.4.1.3, DESIGN.md §7)."""
    first_use: dict[str, object] = {}
    for obj in (*submission.submission_sets, *submission.document_entries, *submission.folders):
        if obj.patient_id:
            first_use.setdefault(canonical_patient_id(obj.patient_id), obj)
    domains = state.policy.patient_domains
    known = known_among(state.conn, first_use) if state.policy.known_patients_only else set(first_use)
    for patient, obj in first_use.items():
        authority = CX.parse(patient).assigning_authority.universal_id
        if domains and authority not in domains:
            yield _issue(ErrorCode.UNKNOWN_PATIENT_ID, obj,
                         f"patientId {patient}: assigning authority {authority or '(none)'} is not a patient "
                         f"identifier domain of this registry ({', '.join(domains)})")
        elif patient not in known:
            yield _issue(ErrorCode.UNKNOWN_PATIENT_ID, obj,
                         f"patientId {patient} is not known to this registry (no patient identity feed for it)")


def references_exist(submission: Submission, state: RegistryState) -> Iterator[Issue]:
    """An association end outside the submission names an object the registry holds
    (ITI TF-3 4.2.2; XDSRegistryMetadataError, the metadata code of ITI-42)."""
    for association in submission.associations:
        for end, value in _ends(association):
            if value and value not in state.objects and value not in state.referenced:
                yield _issue(ErrorCode.REGISTRY_METADATA_ERROR, association,
                             f"{end} {value} names no object in this submission or in the registry")


def referenced_kinds(submission: Submission, state: RegistryState) -> Iterator[Issue]:
    """Existing objects are referenced as what they are: a document relationship targets a
    DocumentEntry (IsSnapshotOf an On-Demand one, ITI TF-3 4.2.2.2.6); a HasMember links a
    SubmissionSet of this submission or an existing Folder to an allowed member (4.2.2.1)."""
    for association in submission.associations:
        stored_source = state.referenced.get(association.source)
        stored_target = state.referenced.get(association.target)
        if association.association_type in _RELATIONSHIPS and stored_target is not None:
            yield from _relationship_target(association, stored_target)
        elif association.association_type == AssociationType.HAS_MEMBER and (stored_source or stored_target):
            yield from _has_member_kinds(association, state, stored_source)


def _relationship_target(association: Association, target: ObjectSummary) -> Iterator[Issue]:
    short = association.association_type.rsplit(":", 1)[-1]
    if target.kind is not ObjectKind.DOCUMENT_ENTRY:
        yield _issue(ErrorCode.REGISTRY_METADATA_ERROR, association,
                     f"{short} targetObject {target.entry_uuid} is a {_KIND_NAMES[target.kind]}, not a DocumentEntry")
    elif (association.association_type == AssociationType.IS_SNAPSHOT_OF
          and target.object_type != ObjectType.ON_DEMAND_DOCUMENT):
        yield _issue(ErrorCode.REGISTRY_METADATA_ERROR, association,
                     f"IsSnapshotOf targetObject {target.entry_uuid} is not an On-Demand DocumentEntry")


def _has_member_kinds(association: Association, state: RegistryState,
                      stored_source: ObjectSummary | None) -> Iterator[Issue]:
    source_kind, target_kind = state.kind_of(association.source), state.kind_of(association.target)
    if source_kind is None or target_kind is None:
        return  # unresolved: references_exist reports it
    if stored_source is not None and source_kind is not ObjectKind.FOLDER:
        yield _issue(ErrorCode.REGISTRY_METADATA_ERROR, association,
                     f"HasMember sourceObject {association.source} is an existing {_KIND_NAMES[source_kind]}; "
                     "only an existing Folder can gain members")
    elif target_kind not in _MEMBERS.get(source_kind, set()):
        yield _issue(ErrorCode.REGISTRY_METADATA_ERROR, association,
                     f"HasMember from {_KIND_NAMES[source_kind]} {association.source} to "
                     f"{_KIND_NAMES[target_kind]} {association.target} is not allowed")


def referenced_documents_approved(submission: Submission, state: RegistryState) -> Iterator[Issue]:
    """No association of a submission references a deprecated DocumentEntry: a replaced
    document can be neither replaced, appended, transformed, signed nor filed again
    (ITI TF-3 4.2.2.2, Table 4.2.4.1-2 XDSRegistryDeprecatedDocumentError)."""
    for association in submission.associations:
        for end, value in _ends(association):
            stored = state.referenced.get(value)
            if (stored is not None and stored.kind is ObjectKind.DOCUMENT_ENTRY
                    and stored.status != AvailabilityStatus.APPROVED):
                yield _issue(ErrorCode.REGISTRY_DEPRECATED_DOCUMENT_ERROR, association,
                             f"{end} {value} is a DocumentEntry with status {stored.status.rsplit(':', 1)[-1]}; "
                             "only an Approved DocumentEntry may be referenced")


def referenced_patients_match(submission: Submission, state: RegistryState) -> Iterator[Issue]:
    """An association linking a new object to an existing one links the same patient: the
    original of a relationship, a document filed by reference, a Folder gaining a member
    (ITI TF-2 3.42.4.1.3; XDSPatientIdDoesNotMatch)."""
    for association in submission.associations:
        if association.source in state.objects and association.target in state.objects:
            continue  # within the submission: the profile's patient-id.single-patient rule
        source, target = state.patient_of(association.source), state.patient_of(association.target)
        if source and target and canonical_patient_id(source) != canonical_patient_id(target):
            yield _issue(ErrorCode.PATIENT_ID_DOES_NOT_MATCH, association,
                         f"links {association.source} of patient {source} to {association.target} "
                         f"of patient {target}; both ends must be the same patient")


CHECKS: tuple[Check, ...] = (
    entry_uuids_new, unique_ids_in_registry, patients_known, references_exist, referenced_kinds,
    referenced_documents_approved, referenced_patients_match,
)


def run_checks(conn: Connection, submission: Submission, policy: RegistryPolicy,
               checks: Iterable[Check] = CHECKS) -> list[Issue]:
    """Every issue of every check, in check order (all of them, not just the first)."""
    state = RegistryState(conn, submission, policy)
    return [issue for check in checks for issue in check(submission, state)]
