"""What the IHE rule modules share: naming objects in a codeContext, building issues, and the
identifier syntaxes of ITI TF-3 4.2.3 (entryUUID as `urn:uuid:` or symbolic, OIDs).
"""
from __future__ import annotations

import re
from typing import Iterator, TypeVar

from ..errors import ErrorCode, Issue
from ..model import Association, DocumentEntry, Folder, RegistryObjectBase, Submission, SubmissionSet
from ..rules import ValidationContext
from ..vocabulary import AssociationType

KIND_NAMES: dict[type, str] = {
    DocumentEntry: "DocumentEntry",
    SubmissionSet: "SubmissionSet",
    Folder: "Folder",
    Association: "Association",
}

_UUID_URN = re.compile(r"urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

#: How a SubmissionSet takes objects in: HasMember, and SubmitAssociation for a new association (ITI-57).
_MEMBERSHIP = frozenset({AssociationType.HAS_MEMBER, AssociationType.SUBMIT_ASSOCIATION})

T = TypeVar("T", bound=RegistryObjectBase)


def label(obj: RegistryObjectBase) -> str:
    """`DocumentEntry Document01`: how a codeContext names the object."""
    return f"{KIND_NAMES.get(type(obj), type(obj).__name__)} {obj.id or '(no id)'}"


def metadata_issue(context: ValidationContext, obj: RegistryObjectBase | None, text: str,
                   code: ErrorCode | None = None) -> Issue:
    """An issue about `obj` (or the whole submission when None); the code defaults to the
    metadata error of the actor that validates (context.metadata_error)."""
    if obj is None:
        return Issue(code or context.metadata_error, text)
    return Issue(code or context.metadata_error, f"{label(obj)}: {text}", location=obj.id)


def objects_of(submission: Submission, kind: type[T]) -> tuple[T, ...]:
    """The submission's objects of one kind."""
    if kind is DocumentEntry:
        return submission.document_entries  # type: ignore[return-value]
    if kind is SubmissionSet:
        return submission.submission_sets  # type: ignore[return-value]
    if kind is Folder:
        return submission.folders  # type: ignore[return-value]
    if kind is Association:
        return submission.associations  # type: ignore[return-value]
    raise TypeError(f"not an XDS object kind: {kind!r}")


def authored_objects(submission: Submission) -> Iterator[DocumentEntry | SubmissionSet]:
    """Objects that carry author classifications."""
    yield from submission.document_entries
    yield from submission.submission_sets


def patient_objects(submission: Submission) -> Iterator[DocumentEntry | SubmissionSet | Folder]:
    """Objects that carry a patientId."""
    yield from submission.submission_sets
    yield from submission.document_entries
    yield from submission.folders


def is_uuid_urn(text: str) -> bool:
    """`urn:uuid:` followed by an RFC 4122 UUID in its textual form."""
    return _UUID_URN.fullmatch(text) is not None


def is_symbolic(text: str) -> bool:
    """A symbolic id names an object only within one submission (ITI TF-3 4.2.3.2.7 entryUUID)."""
    return not text.startswith("urn:uuid:")


def present(value: object) -> bool:
    """True when an attribute has a value: None, "", () and False count as absent."""
    return value is not None and value != "" and value != () and value is not False


def members_of_submission_set(submission: Submission) -> set[str]:
    """Ids the SubmissionSet claims: targets of its HasMember (and, in ITI-57, SubmitAssociation)."""
    submission_set = submission.submission_set
    if submission_set is None:
        return set()
    return {
        a.target for a in submission.associations
        if a.association_type in _MEMBERSHIP and a.source == submission_set.id
    }  # fmt: skip
