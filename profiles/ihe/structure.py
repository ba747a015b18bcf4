"""The shape of a submission (ITI TF-3 4.1.3 and 4.2.1): exactly one SubmissionSet, every
RegistryPackage classified as SubmissionSet or Folder, every DocumentEntry and Folder a member
of the SubmissionSet, ids and uniqueIds unique within the message (ITI TF-3 Table 4.2.4.1-2
XDSRegistryDuplicateUniqueIdInMessage / XDSRepositoryDuplicateUniqueIdInMessage), and, in
ITI-41, one document part per DocumentEntry and one DocumentEntry per document part (ITI TF-2b
3.41.4.1.3: XDSMissingDocument, XDSMissingDocumentMetadata).

Query responses are lists of objects, not submissions: the submission rules skip them.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterator

from ..errors import ErrorCode, Issue
from ..model import Submission
from ..rules import ValidationContext, rule
from ..vocabulary import FolderScheme, SubmissionSetScheme
from .common import members_of_submission_set, metadata_issue


@rule("submission.single-submission-set")
def single_submission_set(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    if not context.transaction.is_submission:
        return
    count = len(submission.submission_sets)
    if count != 1:
        ids = ", ".join(s.id for s in submission.submission_sets) or "none"
        yield metadata_issue(context, None, f"a submission has exactly one SubmissionSet, found {count} ({ids})")


@rule("submission.registry-packages-classified")
def registry_packages_classified(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """A RegistryPackage is classified as SubmissionSet or as Folder (ITI TF-3 4.2.5.1)."""
    for package_id in submission.unclassified_packages:
        yield Issue(
            context.metadata_error,
            f"RegistryPackage {package_id}: classified neither as SubmissionSet ({SubmissionSetScheme.NODE}) "
            f"nor as Folder ({FolderScheme.NODE})",
            location=package_id,
        )


@rule("ids.unique-in-message")
def ids_unique(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """Two objects of one message never share an id (entryUUID or symbolic id)."""
    counts = Counter(obj.id for obj in submission.objects() if obj.id)
    for object_id, count in counts.items():
        if count > 1:
            yield Issue(context.metadata_error, f"id {object_id!r} is used by {count} objects", location=object_id)


@rule("unique-id.unique-in-message")
def unique_ids_unique(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """No two DocumentEntries, Folders or SubmissionSets of one submission share a uniqueId. A
    query response may: the versions of one DocumentEntry share it (Metadata Update,
    logicalID/version), so it is not checked there."""
    if not context.transaction.is_submission:
        return
    owners: dict[str, list[str]] = {}
    for obj in (*submission.submission_sets, *submission.document_entries, *submission.folders):
        if obj.unique_id:
            owners.setdefault(obj.unique_id, []).append(obj.id)
    for unique_id, ids in owners.items():
        if len(ids) > 1:
            yield Issue(
                context.duplicate_unique_id_error,
                f"uniqueId {unique_id!r} is used by {len(ids)} objects in this message: {', '.join(ids)}",
                location=unique_id,
            )


@rule("submission-set.members")
def submission_set_members(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """Every DocumentEntry and Folder submitted is the target of a HasMember association from the
    SubmissionSet (ITI TF-3 4.1.3, 4.2.2.1.1)."""
    if not context.transaction.is_submission or submission.submission_set is None:
        return
    members = members_of_submission_set(submission)
    for obj in (*submission.document_entries, *submission.folders):
        if obj.id not in members:
            yield metadata_issue(
                context, obj,
                f"is not a member of SubmissionSet {submission.submission_set.id} (no HasMember association to it)",
            )


@rule("documents.document-for-each-entry")
def document_for_each_entry(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """ITI-41: each DocumentEntry has a document part with its id."""
    if not context.transaction.carries_documents:
        return
    for entry in submission.document_entries:
        if entry.id not in context.documents_attached:
            yield metadata_issue(
                context, entry, "has no document in the request (no Document element with this id)",
                code=ErrorCode.MISSING_DOCUMENT,
            )


@rule("documents.entry-for-each-document")
def entry_for_each_document(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """ITI-41: each document part is described by a DocumentEntry with its id."""
    if not context.transaction.carries_documents:
        return
    entry_ids = {entry.id for entry in submission.document_entries}
    for document_id in sorted(context.documents_attached - entry_ids):
        yield Issue(
            ErrorCode.MISSING_DOCUMENT_METADATA,
            f"Document {document_id}: no DocumentEntry (ExtrinsicObject) has this id",
            location=document_id,
        )


RULES = (single_submission_set, registry_packages_classified, ids_unique, unique_ids_unique, submission_set_members)
DOCUMENT_RULES = (document_for_each_entry, entry_for_each_document)
