"""Synthetic Norwegian patients and documents for the federation on one machine.

Patients are synthetic test persons in Skatteetaten's Test-Norge style (birth month + 80),
with check digits computed by `profiles.norway.identifiers`, so no real person's number is
ever used; the nodes accept them with `allow_synthetic_persons` (PROFILE.md §3). Documents
follow the Norwegian metadata profile (PROFILE.md §4): Volven 9602 class/type codes, 9603
confidentiality, 1303 facility type, 8655 practice setting, HPR authors at an orgnr legal
entity and a RESH department, `nb-NO`, text documents (`urn:no:ehelse:document:text`).

`provide_and_register_request(enterprise, patient, specs)` builds one ITI-41 body whose
xdsb:Document elements are xop:Includes, and the MTOM attachments they name (ITI TF-2 3.41.5).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from profiles.ebrim import encode_provide_and_register
from profiles.model import Association, Author, Code, DocumentEntry, LocalizedString, Submission, SubmissionSet
from profiles.norway.identifiers import CLASSIC, FNR_OID, validate_fnr
from profiles.vocabulary import AssociationType, SubmissionSetStatus
from soap.mtom import OutgoingAttachment, include_element, new_content_id

VOLVEN = "2.16.578.1.12.4.1.1."
UUID_ROOT = "2.25"  # OIDs from UUIDs (ITI TF-3 4.2.3.2.26 allows 2.25.<uuid as integer>)


@dataclass(frozen=True)
class Enterprise:
    """One health enterprise: its community, repository and the institution authoring there."""

    key: str
    name: str
    community_oid: str
    legal_entity: str  # XON with orgnr
    department: str  # XON with RESH-id
    author_person: str  # XCN with HPR number

    @property
    def home_community_id(self) -> str:
        return f"urn:oid:{self.community_oid}"

    @property
    def repository_unique_id(self) -> str:
        return f"{self.community_oid}.1"

    @property
    def source_id(self) -> str:
        return f"{self.community_oid}.2"


def _xon(name: str, oid: str, number: str) -> str:
    return f"{name}^^^^^&{oid}&ISO^^^^{number}"


def _hpr(number: str, family: str, given: str) -> str:
    return f"{number}^{family}^{given}^^^^^^&2.16.578.1.12.4.1.4.4&ISO"


# Organisation and HPR numbers below are made up for the demonstration (orgnr with a valid
# mod-11 check digit); they name no real unit or person.
ENTERPRISES = (
    Enterprise("nord", "Helse Nord", "2.16.578.1.12.4.1.7.1.101",
               _xon("Syntetisk sykehus Nord HF", "2.16.578.1.12.4.1.4.101", "999999905"),
               _xon("Medisinsk avdeling", "2.16.578.1.12.4.1.4.102", "9100001"),
               _hpr("9100101", "Lege", "Kari")),
    Enterprise("vest", "Helse Vest", "2.16.578.1.12.4.1.7.1.102",
               _xon("Syntetisk sykehus Vest HF", "2.16.578.1.12.4.1.4.101", "999999913"),
               _xon("Lungeavdeling", "2.16.578.1.12.4.1.4.102", "9100002"),
               _hpr("9100102", "Lege", "Per")),
    Enterprise("sorost", "Helse Sør-Øst", "2.16.578.1.12.4.1.7.1.103",
               _xon("Syntetisk sykehus Sør-Øst HF", "2.16.578.1.12.4.1.4.101", "999999921"),
               _xon("Hjerteavdeling", "2.16.578.1.12.4.1.4.102", "9100003"),
               _hpr("9100103", "Lege", "Ingrid")),
)


@dataclass(frozen=True)
class Patient:
    fnr: str
    family: str
    given: str
    birth_date: str  # YYYYMMDD
    sex: str

    @property
    def patient_id(self) -> str:
        return f"{self.fnr}^^^&{FNR_OID}&ISO"


def synthetic_fnr(day: int, month: int, year: int, individual: int) -> str:
    """A synthetic fødselsnummer (month + 80) with classic check digits."""
    first_nine = f"{day:02d}{month + 80:02d}{year % 100:02d}{individual:03d}"
    for candidate in range(individual, individual + 50):
        first_nine = f"{day:02d}{month + 80:02d}{year % 100:02d}{candidate:03d}"
        digits = CLASSIC.check_digits(first_nine)
        if digits:
            number = first_nine + digits[0]
            assert validate_fnr(number, scheme=CLASSIC, allow_synthetic=True) is None, number
            return number
    raise ValueError(f"no valid check digits near individnummer {individual}")


PATIENTS = (
    Patient(synthetic_fnr(13, 11, 1969, 2), "Nordmann", "Kari", "19691113", "F"),
    Patient(synthetic_fnr(2, 4, 1954, 41), "Hansen", "Ola", "19540402", "M"),
    Patient(synthetic_fnr(24, 12, 1987, 113), "Berg", "Sigrid", "19871224", "F"),
)


@dataclass(frozen=True)
class DocumentSpec:
    """What one synthetic document is: its Volven class and type, title and text."""

    class_code: tuple[str, str]
    type_code: tuple[str, str]
    title: str
    text: str


EPIKRISE = DocumentSpec(("A00-1", "Epikriser og sammenfatninger"), ("A03-2", "Epikrise"), "Epikrise",
                        "Innlagt for observasjon. Utskrevet i god allmenntilstand. Kontroll hos fastlege.")
POLIKLINISK = DocumentSpec(("A00-1", "Epikriser og sammenfatninger"), ("A13-2", "Poliklinisk epikrise"),
                           "Poliklinisk epikrise", "Vurdert poliklinisk. Ingen videre oppfølging i spesialisthelsetjenesten.")
NOTAT = DocumentSpec(("B00-1", "Kontinuerlig/løpende journal"), ("B02-2", "Journalnotat"), "Journalnotat",
                     "Samtale med pasient og pårørende om videre behandlingsplan.")
LUNGE = DocumentSpec(("D00-1", "Organfunksjon"), ("D02-2", "Lunge"), "Spirometri",
                     "Spirometri: FEV1 og FVC innenfor normalområdet.")

#: which documents each enterprise holds for each patient (by PATIENTS index)
HOLDINGS: dict[str, dict[int, tuple[DocumentSpec, ...]]] = {
    "nord": {0: (EPIKRISE, NOTAT), 1: (POLIKLINISK,)},
    "vest": {0: (LUNGE,), 2: (EPIKRISE,)},
    "sorost": {0: (POLIKLINISK,), 1: (EPIKRISE, NOTAT), 2: (NOTAT,)},
}


def new_oid() -> str:
    return f"{UUID_ROOT}.{uuid.uuid4().int}"


def _code(list_id: str, pair: tuple[str, str]) -> Code:
    return Code(code=pair[0], scheme=VOLVEN + list_id, display_name=pair[1])


def _author(enterprise: Enterprise) -> Author:
    return Author(
        person=enterprise.author_person,
        institutions=(enterprise.legal_entity, enterprise.department),
        roles=("3^Behandlingsansvarlig lege^^^&2.16.578.1.12.4.1.1.9034&ISO",),
        specialties=("1^Allmennmedisin^^^&2.16.578.1.12.4.1.1.7426&ISO",),
    )


def document_text(enterprise: Enterprise, patient: Patient, spec: DocumentSpec) -> bytes:
    return (f"{spec.title}\n{enterprise.name}, {enterprise.department.split('^')[0]}\n"
            f"Pasient: {patient.given} {patient.family} ({patient.fnr}), syntetisk testperson\n\n"
            f"{spec.text}\n").encode("utf-8")


def document_entry(entry_id: str, enterprise: Enterprise, patient: Patient, spec: DocumentSpec,
                   now: str) -> DocumentEntry:
    return DocumentEntry(
        id=entry_id,
        name=(LocalizedString(f"{spec.title} – {enterprise.name}", lang="nb-NO"),),
        mime_type="text/plain",
        unique_id=new_oid(),
        patient_id=patient.patient_id,
        source_patient_id=patient.patient_id,
        source_patient_info=(f"PID-3|{patient.patient_id}", f"PID-5|{patient.family}^{patient.given}",
                             f"PID-7|{patient.birth_date}", f"PID-8|{patient.sex}"),
        class_code=_code("9602", spec.class_code),
        type_code=_code("9602", spec.type_code),
        format_code=Code(code="urn:no:ehelse:document:text", scheme="1.3.6.1.4.1.19376.1.2.3",
                         display_name="urn:no:ehelse:document:text"),
        healthcare_facility_type_code=_code("1303", ("86.101", "Alminnelige somatiske sykehus")),
        practice_setting_code=_code("8655", ("S03", "Indremedisin")),
        confidentiality_codes=(_code("9603", ("N", "Normal")),),
        authors=(_author(enterprise),),
        creation_time=now,
        service_start_time=now[:12],
        language_code="nb-NO",
        legal_authenticator=enterprise.author_person,
    )


def submission_for(enterprise: Enterprise, patient: Patient,
                   specs: tuple[DocumentSpec, ...]) -> tuple[Submission, list[tuple[str, bytes]]]:
    """One SubmissionSet with a DocumentEntry per spec, and the documents' bytes by entry id."""
    now = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    entries = [document_entry(f"Document{n:02d}", enterprise, patient, spec, now) for n, spec in enumerate(specs, 1)]
    submission_set = SubmissionSet(
        id="SubmissionSet01",
        name=(LocalizedString(f"Dokumenter fra {enterprise.name}", lang="nb-NO"),),
        unique_id=new_oid(),
        source_id=enterprise.source_id,
        patient_id=patient.patient_id,
        submission_time=now,
        content_type_code=_code("9602", specs[0].class_code),
        authors=(_author(enterprise),),
    )
    associations = tuple(
        Association(id=f"HasMember{n:02d}", association_type=AssociationType.HAS_MEMBER, source=submission_set.id,
                    target=entry.id, submission_set_status=SubmissionSetStatus.ORIGINAL)
        for n, entry in enumerate(entries, 1))
    documents = [(entry.id, document_text(enterprise, patient, spec)) for entry, spec in zip(entries, specs)]
    return Submission(document_entries=tuple(entries), submission_sets=(submission_set,),
                      associations=associations), documents


def provide_and_register_request(enterprise: Enterprise, patient: Patient, specs: tuple[DocumentSpec, ...],
                                 ) -> tuple[etree._Element, list[OutgoingAttachment], Submission]:
    """The ITI-41 body, the MTOM attachments its xop:Includes name, and the submission."""
    submission, documents = submission_for(enterprise, patient, specs)
    attachments = [OutgoingAttachment.from_bytes(new_content_id(), data, "text/plain") for _, data in documents]
    contents = [(entry_id, include_element(part.content_id)) for (entry_id, _), part in zip(documents, attachments)]
    return encode_provide_and_register(submission, contents), attachments, submission
