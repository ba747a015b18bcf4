"""The metadata `xdsno publish` sends: one complete ITI-41 submission for files from disk.

One SubmissionSet with a DocumentEntry per file and a HasMember (SubmissionSetStatus Original)
each (ITI TF-3 4.1, 4.2.3). Everything a person does not give gets a sensible default for the
profile the node runs (ITI TF-3 Table 4.3.1-3 "R" attributes; PROFILE.md §4 for `norway`):

| attribute | ihe default | norway default |
|---|---|---|
| classCode | 34133-9 Summary of episode note (LOINC) | A00-1 Epikriser og sammenfatninger (9602) |
| typeCode | 34133-9 (LOINC) | A03-2 Epikrise (9602) |
| formatCode | urn:ihe:iti:xds:2017:mimeTypeSufficient | urn:no:ehelse:document:pdf/image/text by mimeType |
| confidentialityCode | N (HL7 v3 Confidentiality) | N Normal (9603) |
| healthcareFacilityTypeCode | 22232009 Hospital (SNOMED CT) | 86.101 Alminnelige somatiske sykehus (1303) |
| practiceSettingCode | 394802001 General medicine (SNOMED CT) | S03 Indremedisin (8655) |
| languageCode | en-US | nb-NO |
| contentTypeCode | the classCode | the classCode |

title: the file name; mimeType: from the file name; creationTime and submissionTime: now (UTC);
sourcePatientId: the patient; uniqueIds: fresh `2.25.<UUID>` OIDs; sourceId: a `2.25` OID
stable for this machine. A coded value on the command line is `code^codingScheme[^display]`.
"""
from __future__ import annotations

import mimetypes
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from profiles.model import Association, Author, Code, DocumentEntry, LocalizedString, Submission, SubmissionSet
from profiles.vocabulary import AssociationType, SubmissionSetStatus

LOINC = "2.16.840.1.113883.6.1"
SNOMED = "2.16.840.1.113883.6.96"
HL7_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
FORMAT_CODES = "1.3.6.1.4.1.19376.1.2.3"
VOLVEN = "2.16.578.1.12.4.1.1."
MIME_TYPE_SUFFICIENT = "urn:ihe:iti:xds:2017:mimeTypeSufficient"

DEFAULTS = {
    "ihe": {
        "class_code": "34133-9^" + LOINC + "^Summary of episode note",
        "type_code": "34133-9^" + LOINC + "^Summary of episode note",
        "confidentiality_codes": ["N^" + HL7_CONFIDENTIALITY + "^normal"],
        "facility_code": "22232009^" + SNOMED + "^Hospital",
        "practice_setting_code": "394802001^" + SNOMED + "^General medicine",
        "language": "en-US",
    },
    "norway": {
        "class_code": "A00-1^" + VOLVEN + "9602^Epikriser og sammenfatninger",
        "type_code": "A03-2^" + VOLVEN + "9602^Epikrise",
        "confidentiality_codes": ["N^" + VOLVEN + "9603^Normal"],
        "facility_code": "86.101^" + VOLVEN + "1303^Alminnelige somatiske sykehus",
        "practice_setting_code": "S03^" + VOLVEN + "8655^Indremedisin",
        "language": "nb-NO",
    },
}

#: every metadata key a person may give (command line or --metadata JSON)
KEYS = (
    "title", "comments", "mime_type", "class_code", "type_code", "format_code", "confidentiality_codes",
    "event_codes", "facility_code", "practice_setting_code", "content_type_code", "language",
    "author_person", "author_institutions", "author_roles", "author_specialties", "legal_authenticator",
    "source_id", "source_patient_id", "source_patient_info", "creation_time", "service_start_time",
    "service_stop_time", "submission_title",
)
LIST_KEYS = frozenset({"confidentiality_codes", "event_codes", "author_institutions", "author_roles",
                       "author_specialties", "source_patient_info"})


class MetadataError(ValueError):
    """A value given for the metadata cannot be used; the message names it."""


@dataclass(frozen=True)
class PublishedFile:
    """One file to publish: where it is, its DocumentEntry id and its uniqueId."""

    path: Path
    entry_id: str
    unique_id: str = field(default_factory=lambda: new_oid())


def new_oid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def machine_source_id() -> str:
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_DNS, 'xdsno-source.' + socket.gethostname()).int}"


def parse_code(text: str, what: str) -> Code:
    """`code^codingScheme[^display]` as a Code."""
    parts = text.split("^")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise MetadataError(f"{what}: {text!r} is not code^codingScheme[^display]")
    return Code(code=parts[0], scheme=parts[1], display_name=parts[2] if len(parts) == 3 else parts[0])


def effective_values(profile: str, given: dict) -> dict:
    """The profile's defaults overridden by what was given (None and empty lists ignored)."""
    values = dict(DEFAULTS.get(profile, DEFAULTS["ihe"]))
    values.update({key: value for key, value in given.items() if value not in (None, [], ())})
    unknown = sorted(set(values) - set(KEYS))
    if unknown:
        raise MetadataError(f"unknown metadata key(s): {', '.join(unknown)}; known: {', '.join(KEYS)}")
    return values


def build_submission(files: list[PublishedFile], patient_id: str, profile: str, given: dict,
                     *, now: datetime | None = None) -> Submission:
    """The ITI-41 submission for `files` of `patient_id`."""
    values = effective_values(profile, given)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d%H%M%S")
    class_code = parse_code(values["class_code"], "class code")
    authors = _authors(values)
    entries = tuple(_entry(f, patient_id, profile, values, authors, stamp) for f in files)
    submission_set = SubmissionSet(
        id="SubmissionSet01", unique_id=new_oid(), source_id=values.get("source_id") or machine_source_id(),
        patient_id=patient_id, submission_time=stamp,
        name=_strings(values.get("submission_title")),
        content_type_code=parse_code(values["content_type_code"], "content type code")
        if values.get("content_type_code") else class_code,
        authors=authors,
    )
    associations = tuple(
        Association(id=f"HasMember{n:02d}", association_type=AssociationType.HAS_MEMBER, source=submission_set.id,
                    target=entry.id, submission_set_status=SubmissionSetStatus.ORIGINAL)
        for n, entry in enumerate(entries, 1))
    return Submission(document_entries=entries, submission_sets=(submission_set,), associations=associations)


def mime_type_of(path: Path, given: str | None) -> str:
    return given or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _entry(file: PublishedFile, patient_id: str, profile: str, values: dict, authors: tuple[Author, ...],
           stamp: str) -> DocumentEntry:
    mime_type = mime_type_of(file.path, values.get("mime_type"))
    return DocumentEntry(
        id=file.entry_id, unique_id=file.unique_id, mime_type=mime_type,
        name=_strings(values.get("title") or file.path.name), description=_strings(values.get("comments")),
        patient_id=patient_id, source_patient_id=values.get("source_patient_id") or patient_id,
        source_patient_info=tuple(values.get("source_patient_info") or ()),
        class_code=parse_code(values["class_code"], "class code"),
        type_code=parse_code(values["type_code"], "type code"),
        format_code=_format_code(values.get("format_code"), profile, mime_type),
        healthcare_facility_type_code=parse_code(values["facility_code"], "facility code"),
        practice_setting_code=parse_code(values["practice_setting_code"], "practice setting code"),
        confidentiality_codes=tuple(parse_code(c, "confidentiality code") for c in values["confidentiality_codes"]),
        event_codes=tuple(parse_code(c, "event code") for c in values.get("event_codes") or ()),
        authors=authors, creation_time=values.get("creation_time") or stamp,
        service_start_time=values.get("service_start_time"), service_stop_time=values.get("service_stop_time"),
        language_code=values["language"], legal_authenticator=values.get("legal_authenticator"),
    )


def _format_code(given: str | None, profile: str, mime_type: str) -> Code:
    if given:
        return parse_code(given, "format code")
    value = MIME_TYPE_SUFFICIENT
    if profile == "norway":
        kind = {"application/pdf": "pdf"}.get(mime_type) or {"image": "image", "text": "text"}.get(
            mime_type.split("/")[0])
        value = f"urn:no:ehelse:document:{kind}" if kind else MIME_TYPE_SUFFICIENT
    return Code(code=value, scheme=FORMAT_CODES, display_name=value)


def _authors(values: dict) -> tuple[Author, ...]:
    person, institutions = values.get("author_person"), tuple(values.get("author_institutions") or ())
    if not person and not institutions:
        return ()
    return (Author(person=person, institutions=institutions, roles=tuple(values.get("author_roles") or ()),
                   specialties=tuple(values.get("author_specialties") or ())),)


def _strings(text: str | None) -> tuple[LocalizedString, ...]:
    return (LocalizedString(text),) if text else ()
