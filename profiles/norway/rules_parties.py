"""Patients and people under the Norwegian profile (HIS 1169; PROFILE.md §2-§4).

- patientId (SubmissionSet, DocumentEntry, Folder) is a national person number under a
  Norwegian assigning authority - fødselsnummer .4.1, D-nummer .4.2, FH-nummer .4.3 by default
  (`norway.patient_authorities`) - with valid check digits (`norway.check_digit_scheme`) and,
  unless `norway.allow_synthetic`, no synthetic test person. Anything else is a patient no
  Norwegian registry can know: XDSUnknownPatientId.
- sourcePatientId follows the same rule (a metadata error); with no PIX in national sharing a
  sourcePatientId under the patientId's own authority must be the same number
  (XDSPatientIdDoesNotMatch).
- authorInstitution: XON identified by organisasjonsnummer (.4.101, mod 11) or RESH-id
  (.4.102) in XON.6/XON.10; an author naming institutions names its legal entity by orgnr.
- authorPerson and legalAuthenticator: XCN with an HPR-nummer (.4.4) in XCN.1/XCN.9.
- authorPerson / authorInstitution R2 (as IHE) unless `norway.optionality` makes them R.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from ..errors import ErrorCode, Issue
from ..hl7v2 import CX, XCN, XON
from ..ihe.common import authored_objects, metadata_issue, patient_objects
from ..model import Author, Submission
from ..rules import ValidationContext, rule
from .codesets import strip_oid_urn
from .identifiers import (
    HPR_OID,
    ORGNR_OID,
    RESH_OID,
    check_person_id,
    validate_hpr_number,
    validate_organization_number,
    validate_resh_id,
)
from .options import NorwayOptions, options_for

PATIENT_EXAMPLE = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
ORGNR_EXAMPLE = "Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880"
RESH_EXAMPLE = "Lab.med. avdeling^^^^^&2.16.578.1.12.4.1.4.102&ISO^^^^4211607"
HPR_EXAMPLE = "565505933^Lege^Kari^^^^^^&2.16.578.1.12.4.1.4.4&ISO"


# --- patients -----------------------------------------------------------------------------------

def authorities_text(options: NorwayOptions) -> str:
    """`fødselsnummer (2.16.578.1.12.4.1.4.1), D-nummer (...) or FH-nummer (...)`."""
    names = [f"{' or '.join(sorted(kinds))} ({oid})" for oid, kinds in options.patient_authorities.items()]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


@lru_cache(maxsize=1024)
def person_id_problem(value: str, options: NorwayOptions) -> str | None:
    """Why a CX is not a valid Norwegian person number under an accepted authority, or None
    (cached: one submission names its patient on every object)."""
    cx = CX.parse(value)
    oid = strip_oid_urn(cx.assigning_authority.universal_id)
    if oid not in options.patient_authorities:
        return (f"assigning authority {oid or '(none)'} is not a Norwegian person identifier domain; "
                f"use {authorities_text(options)}, e.g. {PATIENT_EXAMPLE}")
    check = check_person_id(cx.id_number, oid, scheme=options.scheme, allow_synthetic=options.allow_synthetic,
                            authorities=options.patient_authorities)
    if check.reason is None:
        return None
    return f"{check.reason}; give a valid number assigned by {oid}"


@rule("norway.patient-id", profile_only=True)
def patient_id(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """patientId: a valid national person number under an accepted authority (XDSUnknownPatientId)."""
    options = options_for(context)
    for obj in patient_objects(submission):
        if obj.patient_id and (problem := person_id_problem(obj.patient_id, options)):
            yield metadata_issue(context, obj, f"patientId {obj.patient_id!r}: {problem}",
                                 code=ErrorCode.UNKNOWN_PATIENT_ID)


@rule("norway.source-patient-id", profile_only=True)
def source_patient_id(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """sourcePatientId: a valid national person number too (no local ids: no PIX in national sharing)."""
    options = options_for(context)
    for entry in submission.document_entries:
        value = entry.source_patient_id
        if value and (problem := person_id_problem(value, options)):
            yield metadata_issue(context, entry, f"sourcePatientId {value!r}: {problem}")


@rule("norway.source-patient-id.matches-patient-id", profile_only=True)
def source_matches_patient(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """Under one assigning authority sourcePatientId and patientId are the same number. Different
    authorities (a D-nummer later replaced by a fødselsnummer) are not compared, nor ids the two
    rules above already refuse."""
    options = options_for(context)
    for entry in submission.document_entries:
        if not (entry.patient_id and entry.source_patient_id):
            continue
        if person_id_problem(entry.patient_id, options) or person_id_problem(entry.source_patient_id, options):
            continue
        patient, source = CX.parse(entry.patient_id), CX.parse(entry.source_patient_id)
        same_authority = strip_oid_urn(patient.assigning_authority.universal_id) == strip_oid_urn(
            source.assigning_authority.universal_id)
        if same_authority and patient.id_number != source.id_number:
            yield metadata_issue(
                context, entry,
                f"sourcePatientId {entry.source_patient_id!r} and patientId {entry.patient_id!r} are different "
                "persons under one assigning authority; with no PIX both carry the patient's own national number",
                code=ErrorCode.PATIENT_ID_DOES_NOT_MATCH,
            )


# --- authors and legal authenticator ---------------------------------------------------------

def _authors(submission: Submission) -> Iterator[tuple[object, int, Author]]:
    for obj in authored_objects(submission):
        for index, author in enumerate(obj.authors, start=1):
            yield obj, index, author


def institution_problem(value: str) -> tuple[str | None, bool]:
    """(why the XON is not a Norwegian institution or None, whether it names a valid orgnr)."""
    xon = XON.parse(value)
    oid = strip_oid_urn(xon.assigning_authority.universal_id)
    if oid == ORGNR_OID:
        reason = validate_organization_number(xon.identifier)
        return (None, True) if reason is None else (f"XON.10 {xon.identifier!r}: {reason}", False)
    if oid == RESH_OID:
        reason = validate_resh_id(xon.identifier)
        return (None, False) if reason is None else (f"XON.10 {xon.identifier!r}: {reason}", False)
    return (f"is identified by {oid or 'no assigning authority'} (XON.6); use organisasjonsnummer "
            f"({ORGNR_OID}), e.g. {ORGNR_EXAMPLE}, and optionally RESH-id ({RESH_OID}), e.g. {RESH_EXAMPLE}",
            False)


@rule("norway.author-institution", profile_only=True)
def author_institution(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """authorInstitution: XON by orgnr (.4.101, mod 11) or RESH-id (.4.102); one is the legal entity by orgnr."""
    for obj, index, author in _authors(submission):
        has_orgnr, all_valid = False, True
        for value in author.institutions:
            problem, is_orgnr = institution_problem(value)
            has_orgnr, all_valid = has_orgnr or is_orgnr, all_valid and problem is None
            if problem:
                yield metadata_issue(context, obj, f"author {index} authorInstitution {value!r} {_verb(problem)}")
        if author.institutions and all_valid and not has_orgnr:
            yield metadata_issue(
                context, obj,
                f"author {index} authorInstitution names only departments (RESH); add the legal entity by "
                f"organisasjonsnummer ({ORGNR_OID}), e.g. {ORGNR_EXAMPLE}",
            )


def _verb(problem: str) -> str:
    return problem if problem.startswith("is ") else f"has {problem}"


def hpr_problem(value: str) -> str | None:
    """Why an XCN does not identify a person by HPR-nummer, or None."""
    xcn = XCN.parse(value)
    oid = strip_oid_urn(xcn.assigning_authority.universal_id)
    if oid != HPR_OID:
        return (f"is not identified by HPR-nummer: XCN.9 is {oid or 'empty'}, expected &{HPR_OID}&ISO "
                f"with the number in XCN.1, e.g. {HPR_EXAMPLE}")
    if reason := validate_hpr_number(xcn.id_number):
        return f"has XCN.1 {xcn.id_number!r}: {reason}"
    return None


@rule("norway.author-person", profile_only=True)
def author_person(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """authorPerson: XCN with an HPR-nummer (.4.4)."""
    for obj, index, author in _authors(submission):
        if author.person and (problem := hpr_problem(author.person)):
            yield metadata_issue(context, obj, f"author {index} authorPerson {author.person!r} {problem}")


@rule("norway.legal-authenticator", profile_only=True)
def legal_authenticator(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """legalAuthenticator: XCN with an HPR-nummer (.4.4)."""
    for entry in submission.document_entries:
        if entry.legal_authenticator and (problem := hpr_problem(entry.legal_authenticator)):
            yield metadata_issue(context, entry, f"legalAuthenticator {entry.legal_authenticator!r} {problem}")


@rule("norway.author-required-parts", profile_only=True)
def author_required_parts(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """authorPerson / authorInstitution made R by `norway.optionality` (default R2: no issue)."""
    required = options_for(context).required_author_parts
    if not required:
        return
    for obj, index, author in _authors(submission):
        given = {"authorPerson": bool(author.person), "authorInstitution": bool(author.institutions)}
        for part in sorted(required):
            if not given[part]:
                yield metadata_issue(context, obj, f"author {index} has no {part}, which this node requires (R)")


RULES = (
    patient_id, source_patient_id, source_matches_patient, author_institution, author_person,
    legal_authenticator, author_required_parts,
)  # fmt: skip
