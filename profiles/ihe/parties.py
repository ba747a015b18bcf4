"""Patients and people in XDS metadata: patientId, sourcePatientId, sourcePatientInfo, author and
legalAuthenticator (ITI TF-3 4.2.3.1.4 author, 4.2.3.2.14 legalAuthenticator, 4.2.3.2.16
patientId, 4.2.3.2.22 sourcePatientId, 4.2.3.2.23 sourcePatientInfo; the HL7 v2 types of
Table 4.2.3.1.7-2: CX, XCN, XON, XTN).

`patient-id.single-patient` answers XDSPatientIdDoesNotMatch (ITI TF-2b 3.42.4.1.3: every
DocumentEntry and Folder of a submission shares the SubmissionSet's patientId).
"""
from __future__ import annotations

import re
from typing import Iterator

from ..errors import ErrorCode, Issue
from ..hl7v2 import CX, XCN, XON, XTN
from ..model import Submission
from ..rules import ValidationContext, rule
from .common import authored_objects, metadata_issue, patient_objects

_SOURCE_PATIENT_INFO = re.compile(r"PID-[0-9]+\|.*", re.DOTALL)


def canonical_patient_id(value: str) -> str:
    """The same patient written two ways (e.g. trailing `^`) compares equal."""
    return CX.parse(value).format()


@rule("patient-id.format")
def patient_id_format(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """patientId: CX with only CX.1 (id) and CX.4 (`&OID&ISO`) (ITI TF-3 4.2.3.2.16)."""
    for obj in patient_objects(submission):
        if obj.patient_id is not None and (problems := CX.parse(obj.patient_id).xds_problems()):
            yield metadata_issue(
                context, obj, f"patientId {obj.patient_id!r} is not an XDS CX (id^^^&OID&ISO): {'; '.join(problems)}"
            )


@rule("patient-id.single-patient")
def single_patient(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """Every DocumentEntry and Folder has the SubmissionSet's patientId. Not asked of a query
    response: a merged XCA response carries each community's own id of the patient."""
    if not context.transaction.is_submission:
        return
    reference = submission.submission_set
    if reference is None or not reference.patient_id:
        reference = next((obj for obj in patient_objects(submission) if obj.patient_id), None)
    if reference is None:
        return
    expected = canonical_patient_id(reference.patient_id or "")
    for obj in patient_objects(submission):
        if obj is reference or not obj.patient_id:
            continue
        if canonical_patient_id(obj.patient_id) != expected:
            yield metadata_issue(
                context, obj,
                f"patientId {obj.patient_id!r} differs from {reference.patient_id!r} of "
                f"{type(reference).__name__} {reference.id}; a submission is about one patient",
                code=ErrorCode.PATIENT_ID_DOES_NOT_MATCH,
            )


@rule("document-entry.source-patient-id")
def source_patient_id(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """sourcePatientId: CX with an id (CX.1) and an assigning authority (CX.4)."""
    for entry in submission.document_entries:
        if entry.source_patient_id is None:
            continue
        cx = CX.parse(entry.source_patient_id)
        missing = []
        if not cx.id_number:
            missing.append("CX.1 (id)")
        if cx.assigning_authority.is_empty:
            missing.append("CX.4 (assigning authority)")
        if missing:
            yield metadata_issue(
                context, entry,
                f"sourcePatientId {entry.source_patient_id!r} is not a CX id^^^authority: missing {', '.join(missing)}",
            )


@rule("document-entry.source-patient-info")
def source_patient_info(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """sourcePatientInfo: each value is `PID-<field>|<value>` (ITI TF-3 4.2.3.2.23)."""
    for entry in submission.document_entries:
        for value in entry.source_patient_info:
            if not _SOURCE_PATIENT_INFO.fullmatch(value):
                yield metadata_issue(context, entry, f"sourcePatientInfo {value!r} is not PID-<n>|<value>")


@rule("document-entry.legal-authenticator")
def legal_authenticator(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """legalAuthenticator: an XCN with a name or an id (ITI TF-3 4.2.3.2.14)."""
    for entry in submission.document_entries:
        if entry.legal_authenticator is not None and (problems := XCN.parse(entry.legal_authenticator).xds_problems()):
            yield metadata_issue(
                context, entry, f"legalAuthenticator {entry.legal_authenticator!r} is not an XCN: {'; '.join(problems)}"
            )


def _authors(submission: Submission):
    for obj in authored_objects(submission):
        for index, author in enumerate(obj.authors, start=1):
            yield obj, index, author


@rule("author.sub-attributes")
def author_sub_attributes(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """An author names at least an authorPerson, an authorInstitution or an
    authorTelecommunication (ITI TF-3 4.2.3.1.4)."""
    for obj, index, author in _authors(submission):
        if not (author.person or author.institutions or author.telecommunications):
            yield metadata_issue(
                context, obj,
                f"author {index} has none of authorPerson, authorInstitution, authorTelecommunication",
            )


@rule("author.person")
def author_person(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """authorPerson: an XCN with a name or an id; XCN.9 as `&OID&ISO` when given."""
    for obj, index, author in _authors(submission):
        if author.person and (problems := XCN.parse(author.person).xds_problems()):
            yield metadata_issue(
                context, obj, f"author {index} authorPerson {author.person!r} is not an XCN: {'; '.join(problems)}"
            )


@rule("author.institution")
def author_institution(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """authorInstitution: XON with an organization name; XON.10 an OID unless XON.6 is given."""
    for obj, index, author in _authors(submission):
        for value in author.institutions:
            if problems := XON.parse(value).xds_problems():
                yield metadata_issue(
                    context, obj, f"author {index} authorInstitution {value!r} is not an XON: {'; '.join(problems)}"
                )


@rule("author.telecommunication")
def author_telecommunication(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """authorTelecommunication: XTN with an equipment type and an address or number."""
    for obj, index, author in _authors(submission):
        for value in author.telecommunications:
            if problems := XTN.parse(value).xds_problems():
                yield metadata_issue(
                    context, obj,
                    f"author {index} authorTelecommunication {value!r} is not an XTN: {'; '.join(problems)}",
                )


RULES = (
    patient_id_format, single_patient, source_patient_id, source_patient_info, legal_authenticator,
    author_sub_attributes, author_person, author_institution, author_telecommunication,
)  # fmt: skip
