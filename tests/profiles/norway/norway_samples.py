"""One complete, valid NORWEGIAN submission: tests/profiles/samples.py with the values of
PROFILE.md §4, for tests that change exactly one thing.

The patient is PROFILE.md's synthetic example fødselsnummer 13116900216 (.4.1); documents are
an Epikrise (classCode A00-1, typeCode A03-2), confidentiality N from 9603 (Document02: HL7 N),
facility 86.101 (1303), practice setting S03 Indremedisin (8655), PDF format
(urn:no:ehelse:document:pdf), language nb-NO; authors are HPR-identified health personnel at an
orgnr-identified legal entity and a RESH-identified department.

    norway_samples.submission(doc=lambda d: d.with_changes(language_code="sv-SE"))
"""
from __future__ import annotations

from typing import Callable

from profiles.model import Author, Code, Submission
from profiles.norway.codesets import load_code_sets
from profiles.rules import Transaction, ValidationContext
from tests.profiles import samples

FNR = "13116900216"
PATIENT_ID = f"{FNR}^^^&2.16.578.1.12.4.1.4.1&ISO"
#: a valid D-nummer (day + 40; check digits computed with the published weights)
DNR_PATIENT_ID = "53116900048^^^&2.16.578.1.12.4.1.4.2&ISO"
ORGNR_INSTITUTION = "Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880"
RESH_INSTITUTION = "Lab.med. avdeling^^^^^&2.16.578.1.12.4.1.4.102&ISO^^^^4211607"
HPR_PERSON = "565505933^Lege^Kari^^^^^^&2.16.578.1.12.4.1.4.4&ISO"
OTHER_HPR_PERSON = "9144889^Sykepleier^Ola^^^^^^&2.16.578.1.12.4.1.4.4&ISO"

VOLVEN = "2.16.578.1.12.4.1.1."
HL7_CONFIDENTIALITY = "2.16.840.1.113883.5.25"
FORMAT_SCHEME = load_code_sets()["formatcode"].oid


def volven(list_id: str, value: str, display: str) -> Code:
    return Code(code=value, scheme=VOLVEN + list_id, display_name=display)


CLASS_CODE = volven("9602", "A00-1", "Epikriser og sammenfatninger")
TYPE_CODE = volven("9602", "A03-2", "Epikrise")
CONFIDENTIALITY = volven("9603", "N", "Normal")
HL7_NORMAL = Code(code="N", scheme=HL7_CONFIDENTIALITY, display_name="normal")
FACILITY_TYPE = volven("1303", "86.101", "Alminnelige somatiske sykehus")
PRACTICE_SETTING = volven("8655", "S03", "Indremedisin")
FORMAT_CODE = Code(code="urn:no:ehelse:document:pdf", scheme=FORMAT_SCHEME,
                   display_name="urn:no:ehelse:document:pdf")


def author(person: str = HPR_PERSON) -> Author:
    return Author(
        person=person,
        institutions=(ORGNR_INSTITUTION, RESH_INSTITUTION),
        roles=("3^Behandlingsansvarlig lege^^^&2.16.578.1.12.4.1.1.9034&ISO",),
        specialties=("1^Allmennmedisin^^^&2.16.578.1.12.4.1.1.7426&ISO",),
        telecommunications=("^^Internet^kari.lege@example.org",),
    )


def norwegian_entry(entry, confidentiality: Code = CONFIDENTIALITY):
    """A samples DocumentEntry with the Norwegian values."""
    return entry.with_changes(
        mime_type="application/pdf",
        patient_id=PATIENT_ID,
        source_patient_id=PATIENT_ID,
        source_patient_info=(f"PID-3|{PATIENT_ID}", "PID-5|Nordmann^Kari", "PID-7|19691113", "PID-8|F"),
        class_code=CLASS_CODE,
        type_code=TYPE_CODE,
        format_code=FORMAT_CODE,
        healthcare_facility_type_code=FACILITY_TYPE,
        practice_setting_code=PRACTICE_SETTING,
        confidentiality_codes=(confidentiality,),
        event_codes=(),
        authors=(author(),),
        language_code="nb-NO",
        legal_authenticator=HPR_PERSON,
    )


def _then(change: Callable | None):
    return (lambda value: value) if change is None else change


def submission(*, doc: Callable | None = None, doc2: Callable | None = None,
               submission_set: Callable | None = None, folder: Callable | None = None,
               associations: Callable | None = None, then: Callable | None = None) -> Submission:
    """The valid Norwegian sample; each keyword changes that part as in samples.submission."""
    return samples.submission(
        doc=lambda d: _then(doc)(norwegian_entry(d)),
        doc2=lambda d: _then(doc2)(norwegian_entry(d, HL7_NORMAL)),
        submission_set=lambda s: _then(submission_set)(
            s.with_changes(patient_id=PATIENT_ID, authors=(author(OTHER_HPR_PERSON),))),
        folder=lambda f: _then(folder)(f.with_changes(patient_id=PATIENT_ID)),
        associations=associations,
        then=then,
    )


def register(**changes) -> ValidationContext:
    """The ITI-42 context (default Norwegian options: no extras)."""
    return ValidationContext(Transaction.REGISTER).with_changes(**changes)


def provide_and_register(*, strict: bool = True, **parts) -> tuple[Submission, ValidationContext]:
    """The ITI-41 submission (no hash, size, repositoryUniqueId) and its context."""
    built = submission(**parts)
    built = built.with_changes(document_entries=tuple(samples.source_metadata(e) for e in built.document_entries))
    attached = frozenset(e.id for e in built.document_entries)
    return built, ValidationContext(Transaction.PROVIDE_AND_REGISTER, documents_attached=attached, strict=strict)


# --- turning an IHE submission Norwegian (tests on the IHE example messages) -----------------

def norwegian_author(author: Author, person: str = HPR_PERSON) -> Author:
    """The same author identified the Norwegian way: HPR person, orgnr and RESH institutions."""
    return Author(person=person, institutions=(ORGNR_INSTITUTION, RESH_INSTITUTION), roles=author.roles,
                  specialties=author.specialties, telecommunications=author.telecommunications, id=author.id,
                  extra_slots=author.extra_slots)


def with_norwegian_values(submission: Submission) -> Submission:
    """Every field the Norwegian profile judges, changed to the sample's values (nothing else)."""
    entries = tuple(
        e.with_changes(patient_id=PATIENT_ID, source_patient_id=PATIENT_ID, class_code=CLASS_CODE,
                       type_code=TYPE_CODE, format_code=FORMAT_CODE, healthcare_facility_type_code=FACILITY_TYPE,
                       practice_setting_code=PRACTICE_SETTING, confidentiality_codes=(CONFIDENTIALITY,),
                       authors=tuple(norwegian_author(a) for a in e.authors))
        for e in submission.document_entries)
    sets = tuple(s.with_changes(patient_id=PATIENT_ID, authors=tuple(norwegian_author(a, OTHER_HPR_PERSON)
                                                                      for a in s.authors))
                 for s in submission.submission_sets)
    folders = tuple(f.with_changes(patient_id=PATIENT_ID) for f in submission.folders)
    return submission.with_changes(document_entries=entries, submission_sets=sets, folders=folders)
