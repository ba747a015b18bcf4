"""One complete, valid XDS submission as the model, for tests that change exactly one thing.

The submission: SubmissionSet01 with two DocumentEntries (Document01, Document02) and Folder01,
HasMember associations from the SubmissionSet to each (SubmissionSetStatus Original for the
documents), Document01 filed in Folder01 (FolderDoc01) and that membership itself a member of
the SubmissionSet. Codes and the patient are in the style of the IHE Connectathon / NIST test
data. Every object is a frozen dataclass, so a test changes one thing with `with_changes`:

    samples.submission(doc=lambda d: d.with_changes(creation_time="2005122"))
    samples.submission(then=lambda s: s.with_changes(folders=()))

`register()` gives the ITI-42 context, `provide_and_register()` the ITI-41 submission (no hash,
size or repositoryUniqueId: the repository sets them) with its context, and
`as_registry_metadata()` the same objects as a registry answers them (urn:uuid ids, status).
"""
from __future__ import annotations

import uuid
from typing import Callable

from profiles.model import (
    Association,
    Author,
    Code,
    DocumentEntry,
    Folder,
    LocalizedString,
    Submission,
    SubmissionSet,
)
from profiles.rules import Transaction, ValidationContext
from profiles.vocabulary import AssociationType, AvailabilityStatus, SubmissionSetStatus

PATIENT_ID = "ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO"
OTHER_PATIENT_ID = "ST-2000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO"
SOURCE_PATIENT_ID = "89765a87b^^^&3.4.5&ISO"
SOURCE_ID = "1.3.6.1.4.1.21367.2009.1.2.1"
REPOSITORY_UNIQUE_ID = "1.3.6.1.4.1.21367.2010.1.2.1125"
EXISTING_DOCUMENT = "urn:uuid:9b1a4b7f-6a3e-4f0e-8c2d-1f2e3d4c5b6a"

SUBMISSION_SET = "SubmissionSet01"
DOCUMENT_1 = "Document01"
DOCUMENT_2 = "Document02"
FOLDER = "Folder01"
FOLDER_MEMBERSHIP = "FolderDoc01"

Change = Callable[[object], object]


def code(value: str, scheme: str, display: str | None = None) -> Code:
    return Code(code=value, scheme=scheme, display_name=display if display is not None else value)


def author(person: str = "^Smitty^Gerald^^^") -> Author:
    return Author(
        person=person,
        institutions=("Cleveland Clinic", "Parma Community^^^^^^^^^1.3.6.1.4.1.21367.2005.3.7"),
        roles=("Attending",),
        specialties=("Orthopedic",),
        telecommunications=("^^Internet^gerald.smitty@example.org",),
    )


def make_document_entry(entry_id: str = DOCUMENT_1, unique_id: str = "1.3.6.1.4.1.21367.2005.3.99.1.1000",
                   **changes) -> DocumentEntry:
    entry = DocumentEntry(
        id=entry_id,
        name=(LocalizedString("Physical"),),
        description=(LocalizedString("Annual physical"),),
        mime_type="text/xml",
        unique_id=unique_id,
        patient_id=PATIENT_ID,
        source_patient_id=SOURCE_PATIENT_ID,
        source_patient_info=("PID-3|pid1^^^&1.2.3&ISO", "PID-5|Doe^John^^^", "PID-7|19560527", "PID-8|M"),
        class_code=code("Consult", "Connect-a-thon classCodes"),
        type_code=code("34108-1", "LOINC", "Outpatient Note"),
        format_code=code("urn:ihe:pcc:xphr:2007", "Connect-a-thon formatCodes", "Personal Health Records"),
        healthcare_facility_type_code=code("Outpatient", "Connect-a-thon healthcareFacilityTypeCodes"),
        practice_setting_code=code("General Medicine", "Connect-a-thon practiceSettingCodes"),
        confidentiality_codes=(code("1.3.6.1.4.1.21367.2006.7.101", "Connect-a-thon confidentialityCodes",
                                    "Clinical-Staff"),),
        event_codes=(code("T-D4909", "SNOMED", "Kidney"),),
        authors=(author(),),
        creation_time="20051224",
        service_start_time="200412230800",
        service_stop_time="200412230801",
        language_code="en-us",
        legal_authenticator="^Welby^Marcus^^^Dr^MD",
        hash="4cf4f82d78b5e2aac35c31bca8cb79fe6bd6a41e",
        size="36",
        repository_unique_id=REPOSITORY_UNIQUE_ID,
    )
    return entry.with_changes(**changes)


def make_submission_set(**changes) -> SubmissionSet:
    return SubmissionSet(
        id=SUBMISSION_SET,
        name=(LocalizedString("Test submission"),),
        unique_id="1.3.6.1.4.1.21367.2005.3.99.1.1010",
        source_id=SOURCE_ID,
        patient_id=PATIENT_ID,
        submission_time="20041225235050",
        content_type_code=code("Initial evaluation", "Connect-a-thon contentTypeCodes"),
        authors=(author("^Dopplemeyer^Sherry^^^"),),
    ).with_changes(**changes)


def make_folder(**changes) -> Folder:
    return Folder(
        id=FOLDER,
        name=(LocalizedString("Referrals for ST-1000"),),
        unique_id="1.3.6.1.4.1.21367.2005.3.99.1.1020",
        patient_id=PATIENT_ID,
        codes=(code("Referrals", "Connect-a-thon folderCodeList"),),
    ).with_changes(**changes)


def has_member(association_id: str, source: str, target: str, status: str | None = None) -> Association:
    return Association(id=association_id, association_type=AssociationType.HAS_MEMBER, source=source,
                       target=target, submission_set_status=status)


def relationship(association_id: str, kind: AssociationType, source: str = DOCUMENT_1,
                 target: str = EXISTING_DOCUMENT) -> Association:
    """A document relationship (RPLC, APND, ...) from a new DocumentEntry to an existing one."""
    return Association(id=association_id, association_type=kind, source=source, target=target)


def make_associations() -> tuple[Association, ...]:
    original = SubmissionSetStatus.ORIGINAL
    return (
        has_member("SsDoc01", SUBMISSION_SET, DOCUMENT_1, original),
        has_member("SsDoc02", SUBMISSION_SET, DOCUMENT_2, original),
        has_member("SsFolder01", SUBMISSION_SET, FOLDER),
        has_member(FOLDER_MEMBERSHIP, FOLDER, DOCUMENT_1),
        has_member("SsFolderDoc01", SUBMISSION_SET, FOLDER_MEMBERSHIP),
    )


def _apply(change: Callable | None, value):
    return value if change is None else change(value)


def submission(*, doc: Callable | None = None, doc2: Callable | None = None,
               submission_set: Callable | None = None, folder: Callable | None = None,
               associations: Callable | None = None, then: Callable | None = None) -> Submission:
    """The valid sample; each keyword is a function changing that part (`then`: the whole)."""
    built = Submission(
        document_entries=(
            _apply(doc, make_document_entry()),
            _apply(doc2, make_document_entry(DOCUMENT_2, "1.3.6.1.4.1.21367.2005.3.99.1.1001")),
        ),
        submission_sets=(_apply(submission_set, make_submission_set()),),
        folders=(_apply(folder, make_folder()),),
        associations=_apply(associations, make_associations()),
    )
    return _apply(then, built)


def _default_submission() -> Submission:
    return submission()


def register(**changes) -> ValidationContext:
    """The ITI-42 context."""
    return ValidationContext(Transaction.REGISTER).with_changes(**changes)


def source_metadata(entry: DocumentEntry) -> DocumentEntry:
    """What a Document Source sends in ITI-41: the repository adds hash, size, repositoryUniqueId."""
    return entry.with_changes(hash=None, size=None, repository_unique_id=None)


def provide_and_register(*, doc: Callable | None = None, doc2: Callable | None = None,
                         documents: frozenset[str] | None = None, strict: bool = True,
                         **parts) -> tuple[Submission, ValidationContext]:
    """The ITI-41 sample and its context; `documents` overrides which document parts came along."""
    built = submission(
        doc=lambda d: _apply(doc, source_metadata(d)),
        doc2=lambda d: _apply(doc2, source_metadata(d)),
        **parts,
    )
    attached = documents if documents is not None else frozenset(e.id for e in built.document_entries)
    return built, ValidationContext(Transaction.PROVIDE_AND_REGISTER, documents_attached=attached, strict=strict)


def entry_uuid(symbolic_id: str) -> str:
    """The urn:uuid a registry would have given the object with this symbolic id (stable)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'xdsno-sample:' + symbolic_id)}"


def as_registry_metadata(submission: Submission | None = None) -> Submission:
    """The submission as registry metadata (a query response): urn:uuid ids, Approved status."""
    submission = submission if submission is not None else _default_submission()
    approved = AvailabilityStatus.APPROVED

    def stored(obj):
        return obj.with_changes(id=entry_uuid(obj.id), status=approved)

    return submission.with_changes(
        document_entries=tuple(stored(e) for e in submission.document_entries),
        submission_sets=tuple(stored(s) for s in submission.submission_sets),
        folders=tuple(stored(f).with_changes(last_update_time="20041225235050") for f in submission.folders),
        associations=tuple(
            stored(a).with_changes(source=entry_uuid(a.source), target=entry_uuid(a.target))
            for a in submission.associations
        ),
    )
