"""Associations in a submission (ITI TF-3 4.2.2: 4.2.2.1 HasMember with the SubmissionSetStatus
slot, folder membership; 4.2.2.2 document relationships RPLC, XFRM, APND, XFRM_RPLC, signs and
IsSnapshotOf; ebRIM 3.0 sourceObject/targetObject).

Only what the message itself shows is judged here. Whether a `urn:uuid:` id names an object
the registry holds, and of which kind, is a registry-state check (registry/checks).
"""
from __future__ import annotations

from typing import Iterator

from ..errors import Issue
from ..model import Association, DocumentEntry, Folder, Submission, SubmissionSet
from ..rules import Transaction, ValidationContext, rule
from ..vocabulary import DOCUMENT_RELATIONSHIPS, AssociationType, SubmissionSetStatus
from .common import KIND_NAMES, is_uuid_urn, members_of_submission_set, metadata_issue

#: Associations only an Update Document Set may carry (ITI TF-3 4.2.2, ITI-57).
_UPDATE_ONLY = frozenset({AssociationType.UPDATE_AVAILABILITY_STATUS, AssociationType.SUBMIT_ASSOCIATION})
#: Associations whose source is a new DocumentEntry of this submission.
_NEW_DOCUMENT_SOURCE = DOCUMENT_RELATIONSHIPS | {AssociationType.IS_SNAPSHOT_OF}
#: ... and whose target is a DocumentEntry already in the registry.
_EXISTING_DOCUMENT_TARGET = _NEW_DOCUMENT_SOURCE - {AssociationType.SIGNS}
_KNOWN_TYPES = frozenset(t.value for t in AssociationType)


def _short(association_type: str) -> str:
    return association_type.rsplit(":", 1)[-1]


@rule("association.type")
def association_type(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """associationType is one of ITI TF-3 4.2.2 (full URN); update-only types only in ITI-57."""
    for association in submission.associations:
        kind = association.association_type
        if kind not in _KNOWN_TYPES:
            yield metadata_issue(
                context, association, f"associationType {kind!r} is not an XDS association type (ITI TF-3 4.2.2)"
            )
        elif kind in _UPDATE_ONLY and context.transaction is not Transaction.UPDATE:
            yield metadata_issue(
                context, association, f"associationType {_short(kind)} is only allowed in ITI-57 (Update Document Set)"
            )


@rule("association.references-resolve")
def references_resolve(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """sourceObject and targetObject name an object of this message, or an existing object by
    its `urn:uuid:` entryUUID; a symbolic id means nothing outside its message."""
    known = {obj.id for obj in submission.objects()} | {ref.id for ref in submission.object_refs}
    for association in submission.associations:
        for end, value in (("sourceObject", association.source), ("targetObject", association.target)):
            if not value:
                yield metadata_issue(context, association, f"{end} is missing")
            elif value not in known and not is_uuid_urn(value):
                yield metadata_issue(
                    context, association,
                    f"{end} {value!r} names no object in this submission and is not a urn:uuid: of an existing one",
                )


def _kind(obj: object) -> str:
    return KIND_NAMES.get(type(obj), type(obj).__name__)


@rule("association.has-member-shape")
def has_member_shape(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """HasMember runs from a SubmissionSet (to a DocumentEntry, Folder or Association) or from a
    Folder (to a DocumentEntry); a SubmissionSet is never a member (ITI TF-3 4.2.2.1)."""
    objects = submission.by_id()
    allowed = {SubmissionSet: (DocumentEntry, Folder, Association), Folder: (DocumentEntry,)}
    for association in submission.associations:
        if association.association_type != AssociationType.HAS_MEMBER:
            continue
        source, target = objects.get(association.source), objects.get(association.target)
        if isinstance(target, SubmissionSet):
            yield metadata_issue(
                context, association, f"HasMember target {target.id} is a SubmissionSet; it cannot be a member"
            )
        elif source is not None and type(source) not in allowed:
            yield metadata_issue(
                context, association,
                f"HasMember source {source.id} is a {_kind(source)}; only a SubmissionSet or a Folder has members",
            )
        elif source is not None and target is not None and not isinstance(target, allowed[type(source)]):
            yield metadata_issue(
                context, association,
                f"HasMember from {_kind(source)} {source.id} to {_kind(target)} {target.id} is not allowed",
            )


@rule("association.submission-set-status")
def submission_set_status(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """A HasMember from the SubmissionSet to a DocumentEntry carries SubmissionSetStatus: Original
    for a DocumentEntry of this submission, Reference for one already in the registry
    (ITI TF-3 4.2.2.1.1)."""
    if not context.transaction.is_submission:
        return
    objects = submission.by_id()
    allowed = {s.value for s in SubmissionSetStatus}
    for association in submission.associations:
        source = objects.get(association.source)
        if association.association_type != AssociationType.HAS_MEMBER or not isinstance(source, SubmissionSet):
            continue
        status, target = association.submission_set_status, objects.get(association.target)
        if status is not None and status not in allowed:
            yield metadata_issue(context, association, f"SubmissionSetStatus {status!r} is not Original or Reference")
        elif isinstance(target, DocumentEntry) and status != SubmissionSetStatus.ORIGINAL:
            found = "missing" if status is None else repr(status)
            yield metadata_issue(
                context, association,
                f"SubmissionSetStatus is {found}; a HasMember to DocumentEntry {target.id} "
                "of this submission needs 'Original'",
            )
        elif target is None and status == SubmissionSetStatus.ORIGINAL:
            yield metadata_issue(
                context, association,
                f"SubmissionSetStatus 'Original' but target {association.target} is not in this submission; "
                "use 'Reference'",
            )


@rule("association.folder-membership-in-submission-set")
def folder_membership_in_submission_set(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """A HasMember from a Folder to a DocumentEntry is itself a member of the SubmissionSet
    (ITI TF-3 4.2.2.1: folder membership is recorded by the submission that makes it)."""
    submission_set = submission.submission_set
    if not context.transaction.is_submission or submission_set is None:
        return
    members = members_of_submission_set(submission)
    for association in submission.associations:
        if (association.association_type == AssociationType.HAS_MEMBER and association.source != submission_set.id
                and association.id not in members):
            yield metadata_issue(
                context, association,
                f"HasMember from {association.source} to {association.target} is not a member of "
                f"SubmissionSet {submission_set.id} (no HasMember from the SubmissionSet to this association)",
            )


@rule("association.relationship-source")
def relationship_source(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """The source of RPLC, XFRM, APND, XFRM_RPLC, signs and IsSnapshotOf is a DocumentEntry of
    this submission (ITI TF-3 4.2.2.2); ITI-57 may also relate two existing DocumentEntries."""
    if not context.transaction.is_submission:
        return
    entries = {entry.id for entry in submission.document_entries}
    others = {obj.id for obj in submission.objects()} - entries
    for association in submission.associations:
        source = association.source
        if context.transaction is Transaction.UPDATE and is_uuid_urn(source) and source not in others:
            continue
        if association.association_type in _NEW_DOCUMENT_SOURCE and source not in entries:
            yield metadata_issue(
                context, association,
                f"{_short(association.association_type)} source {association.source!r} "
                "is not a DocumentEntry of this submission",
            )


@rule("association.relationship-target")
def relationship_target(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """RPLC, XFRM, APND, XFRM_RPLC and IsSnapshotOf point at a DocumentEntry the registry already
    holds, never at an object of the same submission (ITI TF-3 4.2.2.2)."""
    if not context.transaction.is_submission:
        return
    objects = submission.by_id()
    for association in submission.associations:
        if association.association_type in _EXISTING_DOCUMENT_TARGET and association.target in objects:
            yield metadata_issue(
                context, association,
                f"{_short(association.association_type)} target {association.target!r} is an object of this "
                "submission; it must be an existing DocumentEntry",
            )


RULES = (
    association_type, references_resolve, has_member_shape, submission_set_status,
    folder_membership_in_submission_set, relationship_source, relationship_target,
)  # fmt: skip
