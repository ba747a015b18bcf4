"""Where each model field lives in ebRIM 3.0 (ITI TF-3 4.2.3.2, 4.2.3.3, 4.2.3.4, 4.2.2).

One table per object kind names the slots, the coded classifications, the author scheme, the
external identifiers, the limitedMetadata node and the node classification of a
RegistryPackage. The decoder (`ebrim_decode`) and the encoder (`ebrim_encode`) both read these
tables, so a field cannot be written in one place and read from another.

The order of every tuple is the canonical encoding order:

- slots: case-insensitive alphabetical order of their wire names;
- classifications: the node classification (RegistryPackage), authors, then the coded
  classifications in the order listed here, then limitedMetadata;
- external identifiers: alphabetical order of their model field.

Anything the model does not name follows, in model (= document) order.
"""
from __future__ import annotations

import uuid
from hashlib import sha1
from dataclasses import dataclass

from .vocabulary import DocumentEntryScheme, FolderScheme, SlotName, SubmissionSetScheme


@dataclass(frozen=True, slots=True)
class SlotField:
    """A rim:Slot held in model field `attr`; `multi` fields are tuples of every value."""

    name: str
    attr: str
    multi: bool = False


@dataclass(frozen=True, slots=True)
class CodeField:
    """A coded Classification (nodeRepresentation + codingScheme + Name) in field `attr`."""

    scheme: str
    attr: str
    label: str
    multi: bool = False


@dataclass(frozen=True, slots=True)
class ExternalIdField:
    """An ExternalIdentifier whose value is held in field `attr`."""

    scheme: str
    attr: str


@dataclass(frozen=True, slots=True)
class Layout:
    """The ebRIM placement of every named field of one object kind."""

    slots: tuple[SlotField, ...] = ()
    codes: tuple[CodeField, ...] = ()
    author_scheme: str | None = None
    external_ids: tuple[ExternalIdField, ...] = ()
    limited_metadata: str | None = None
    node: str | None = None

    def slot(self, name: str) -> SlotField | None:
        return next((spec for spec in self.slots if spec.name == name), None)

    def code(self, scheme: str | None) -> CodeField | None:
        return next((spec for spec in self.codes if spec.scheme == scheme), None)

    def external_id(self, scheme: str | None) -> ExternalIdField | None:
        return next((spec for spec in self.external_ids if spec.scheme == scheme), None)

    @property
    def slot_names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.slots)

    @property
    def reserved_schemes(self) -> frozenset[str]:
        """Every classification scheme/node and identification scheme this layout maps."""
        schemes = {spec.scheme for spec in self.codes}
        schemes |= {spec.scheme for spec in self.external_ids}
        schemes |= {s for s in (self.author_scheme, self.limited_metadata, self.node) if s}
        return frozenset(schemes)


DOCUMENT_ENTRY = Layout(
    slots=(
        SlotField(SlotName.CREATION_TIME, "creation_time"),
        SlotField(SlotName.DOCUMENT_AVAILABILITY, "document_availability"),
        SlotField(SlotName.HASH, "hash"),
        SlotField(SlotName.LANGUAGE_CODE, "language_code"),
        SlotField(SlotName.LEGAL_AUTHENTICATOR, "legal_authenticator"),
        SlotField(SlotName.REPOSITORY_UNIQUE_ID, "repository_unique_id"),
        SlotField(SlotName.SERVICE_START_TIME, "service_start_time"),
        SlotField(SlotName.SERVICE_STOP_TIME, "service_stop_time"),
        SlotField(SlotName.SIZE, "size"),
        SlotField(SlotName.SOURCE_PATIENT_ID, "source_patient_id"),
        SlotField(SlotName.SOURCE_PATIENT_INFO, "source_patient_info", multi=True),
        SlotField(SlotName.URI, "uri"),
        SlotField(SlotName.REFERENCE_ID_LIST, "reference_ids", multi=True),
    ),
    codes=(
        CodeField(DocumentEntryScheme.CLASS_CODE, "class_code", "classCode"),
        CodeField(DocumentEntryScheme.CONFIDENTIALITY_CODE, "confidentiality_codes", "confidentialityCode",
                  multi=True),
        CodeField(DocumentEntryScheme.EVENT_CODE, "event_codes", "eventCodeList", multi=True),
        CodeField(DocumentEntryScheme.FORMAT_CODE, "format_code", "formatCode"),
        CodeField(DocumentEntryScheme.HEALTHCARE_FACILITY_TYPE_CODE, "healthcare_facility_type_code",
                  "healthcareFacilityTypeCode"),
        CodeField(DocumentEntryScheme.PRACTICE_SETTING_CODE, "practice_setting_code", "practiceSettingCode"),
        CodeField(DocumentEntryScheme.TYPE_CODE, "type_code", "typeCode"),
    ),
    author_scheme=DocumentEntryScheme.AUTHOR,
    external_ids=(
        ExternalIdField(DocumentEntryScheme.PATIENT_ID, "patient_id"),
        ExternalIdField(DocumentEntryScheme.UNIQUE_ID, "unique_id"),
    ),
    limited_metadata=DocumentEntryScheme.LIMITED_METADATA,
)

SUBMISSION_SET = Layout(
    slots=(
        SlotField(SlotName.INTENDED_RECIPIENT, "intended_recipients", multi=True),
        SlotField(SlotName.SUBMISSION_TIME, "submission_time"),
    ),
    codes=(CodeField(SubmissionSetScheme.CONTENT_TYPE_CODE, "content_type_code", "contentTypeCode"),),
    author_scheme=SubmissionSetScheme.AUTHOR,
    external_ids=(
        ExternalIdField(SubmissionSetScheme.PATIENT_ID, "patient_id"),
        ExternalIdField(SubmissionSetScheme.SOURCE_ID, "source_id"),
        ExternalIdField(SubmissionSetScheme.UNIQUE_ID, "unique_id"),
    ),
    limited_metadata=SubmissionSetScheme.LIMITED_METADATA,
    node=SubmissionSetScheme.NODE,
)

FOLDER = Layout(
    slots=(SlotField(SlotName.LAST_UPDATE_TIME, "last_update_time"),),
    codes=(CodeField(FolderScheme.CODE_LIST, "codes", "codeList", multi=True),),
    external_ids=(
        ExternalIdField(FolderScheme.PATIENT_ID, "patient_id"),
        ExternalIdField(FolderScheme.UNIQUE_ID, "unique_id"),
    ),
    limited_metadata=FolderScheme.LIMITED_METADATA,
    node=FolderScheme.NODE,
)

ASSOCIATION = Layout(
    slots=(
        SlotField(SlotName.NEW_STATUS, "new_status"),
        SlotField(SlotName.ORIGINAL_STATUS, "original_status"),
        SlotField(SlotName.PREVIOUS_VERSION, "previous_version"),
        SlotField(SlotName.SUBMISSION_SET_STATUS, "submission_set_status"),
    ),
)

#: Author slots (ITI TF-3 4.2.3.1.4) and the Author field holding each; authorPerson is single.
AUTHOR_SLOTS = (
    SlotField(SlotName.AUTHOR_PERSON, "person"),
    SlotField(SlotName.AUTHOR_INSTITUTION, "institutions", multi=True),
    SlotField(SlotName.AUTHOR_ROLE, "roles", multi=True),
    SlotField(SlotName.AUTHOR_SPECIALTY, "specialties", multi=True),
    SlotField(SlotName.AUTHOR_TELECOMMUNICATION, "telecommunications", multi=True),
)
AUTHOR_SLOT_NAMES = frozenset(spec.name for spec in AUTHOR_SLOTS)
AUTHOR = Layout(slots=AUTHOR_SLOTS)

# --- deterministic ids of generated Classifications and ExternalIdentifiers ---------------

_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:xdsno:ebrim:generated-id")
_ID_NAMESPACE_BYTES = _ID_NAMESPACE.bytes


def derived_id(object_id: str, key: str) -> str:
    """The id given to a Classification/ExternalIdentifier of `object_id` whose model id is empty.

    `key` says which one it is (see the `*_key` functions), so the same object always encodes
    to the same bytes and no two generated ids of one object collide. The value is
    `uuid.uuid5(_ID_NAMESPACE, object_id + '|' + key)` (RFC 9562 5.5: SHA-1 of namespace and
    name, version 5, variant 10xx), computed without building a UUID object: every stored
    object needs several and the decoder compares against them too.
    """
    digest = bytearray(sha1(_ID_NAMESPACE_BYTES + f"{object_id}|{key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"urn:uuid:{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def code_key(scheme: str, index: int) -> str:
    return f"code|{scheme}|{index}"


def author_key(scheme: str, index: int) -> str:
    return f"author|{scheme}|{index}"


def node_key(node: str) -> str:
    return f"node|{node}"


def limited_metadata_key(node: str) -> str:
    return f"limited|{node}"


def external_id_key(scheme: str) -> str:
    return f"external-id|{scheme}"


def extra_classification_key(index: int) -> str:
    return f"extra-classification|{index}"


def extra_external_id_key(index: int) -> str:
    return f"extra-external-id|{index}"
