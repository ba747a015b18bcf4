"""`DocumentFacts`: what the access policy judges a DocumentEntry by (PROFILE.md §4).

- confidentiality codes (9603 / HL7), classCode and typeCode (Volven 9602), compared by code;
- the organisation numbers of its authors' institutions: XON values whose assigning authority
  is Enhetsregisteret (2.16.578.1.12.4.1.4.101), e.g.
  `Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880` → 983974880;
- its patient, uniqueId, entryUUID and the times a time window may judge.
"""
from __future__ import annotations

from dataclasses import dataclass

from profiles.hl7v2 import XON
from profiles.model import DocumentEntry

ORGNR_OID = "2.16.578.1.12.4.1.4.101"


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    entry_uuid: str
    unique_id: str | None
    patient_id: str | None
    confidentiality_codes: tuple[str, ...] = ()
    class_code: str | None = None
    type_code: str | None = None
    author_organisations: frozenset[str] = frozenset()
    creation_time: str | None = None
    service_start_time: str | None = None

    @classmethod
    def of(cls, entry: DocumentEntry) -> DocumentFacts:
        return cls(
            entry_uuid=entry.id, unique_id=entry.unique_id, patient_id=entry.patient_id,
            confidentiality_codes=tuple(code.code for code in entry.confidentiality_codes),
            class_code=entry.class_code.code if entry.class_code else None,
            type_code=entry.type_code.code if entry.type_code else None,
            author_organisations=frozenset(orgnr for author in entry.authors for institution in author.institutions
                                           if (orgnr := organisation_number(institution))),
            creation_time=entry.creation_time, service_start_time=entry.service_start_time,
        )

    def time(self, attribute: str) -> str | None:
        """creationTime or serviceStartTime (HL7 DTM)."""
        return self.creation_time if attribute == "creationTime" else self.service_start_time


def organisation_number(xon: str) -> str | None:
    """The orgnr of an XON identified in Enhetsregisteret, else None."""
    parsed = XON.parse(xon)
    if parsed.assigning_authority.universal_id == ORGNR_OID and parsed.identifier:
        return parsed.identifier.strip()
    return None


__all__ = ["ORGNR_OID", "DocumentFacts", "organisation_number"]
