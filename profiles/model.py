"""The XDS metadata model (ITI TF-3 4.1 and 4.2.3): frozen dataclasses, no XML.

Attribute values keep their wire text (HL7v2 strings, DTM times, hash, size) so that nothing
is lost between decode and encode; the rules parse and judge them. Slots, classifications
and external identifiers this model does not name are kept in `extra_*` fields so national
extensions survive a round trip. `Submission` is a RegistryObjectList: what one
SubmitObjectsRequest carries, or what one query answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator

from .vocabulary import AssociationType, AvailabilityStatus, ObjectType


@dataclass(frozen=True, slots=True)
class LocalizedString:
    """One rim:LocalizedString of a Name or Description."""

    value: str
    lang: str | None = None
    charset: str | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    """A rim:Slot this model does not name, kept as it came."""

    name: str
    values: tuple[str, ...] = ()
    slot_type: str | None = None


@dataclass(frozen=True, slots=True)
class Code:
    """A coded value: Classification nodeRepresentation, codingScheme slot and display Name."""

    code: str
    scheme: str
    display_name: str = ""
    #: classification id as sent (kept so re-encoding is stable); generated when empty
    id: str = ""


@dataclass(frozen=True, slots=True)
class Author:
    """One author Classification (ITI TF-3 4.2.3.1.4): HL7v2 wire text of each value."""

    person: str | None = None
    institutions: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    telecommunications: tuple[str, ...] = ()
    id: str = ""
    extra_slots: tuple[Slot, ...] = ()


@dataclass(frozen=True, slots=True)
class ExtraClassification:
    """A Classification on an object that the model does not name."""

    scheme: str | None
    node_representation: str | None = None
    classification_node: str | None = None
    name: tuple[LocalizedString, ...] = ()
    slots: tuple[Slot, ...] = ()
    id: str = ""


@dataclass(frozen=True, slots=True)
class ExtraExternalIdentifier:
    """An ExternalIdentifier on an object that the model does not name."""

    scheme: str
    value: str
    name: tuple[LocalizedString, ...] = ()
    id: str = ""


@dataclass(frozen=True, slots=True)
class RegistryObjectBase:
    """What every XDS object shares (ebRIM 3.0 RegistryObject)."""

    id: str
    lid: str | None = None
    home: str | None = None
    status: str | None = None
    version_name: str | None = None
    name: tuple[LocalizedString, ...] = ()
    description: tuple[LocalizedString, ...] = ()
    extra_slots: tuple[Slot, ...] = ()
    extra_classifications: tuple[ExtraClassification, ...] = ()
    extra_external_ids: tuple[ExtraExternalIdentifier, ...] = ()

    @property
    def title(self) -> str | None:
        return self.name[0].value if self.name else None

    @property
    def comments(self) -> str | None:
        return self.description[0].value if self.description else None

    def with_changes(self, **changes):
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class DocumentEntry(RegistryObjectBase):
    """XDSDocumentEntry (ITI TF-3 4.2.3.2)."""

    object_type: str = ObjectType.STABLE_DOCUMENT
    mime_type: str | None = None
    unique_id: str | None = None
    patient_id: str | None = None
    source_patient_id: str | None = None
    source_patient_info: tuple[str, ...] = ()
    class_code: Code | None = None
    type_code: Code | None = None
    format_code: Code | None = None
    healthcare_facility_type_code: Code | None = None
    practice_setting_code: Code | None = None
    confidentiality_codes: tuple[Code, ...] = ()
    event_codes: tuple[Code, ...] = ()
    authors: tuple[Author, ...] = ()
    creation_time: str | None = None
    service_start_time: str | None = None
    service_stop_time: str | None = None
    language_code: str | None = None
    legal_authenticator: str | None = None
    hash: str | None = None
    size: str | None = None
    repository_unique_id: str | None = None
    uri: str | None = None
    document_availability: str | None = None
    reference_ids: tuple[str, ...] = ()
    limited_metadata: bool = False

    @property
    def is_stable(self) -> bool:
        return self.object_type == ObjectType.STABLE_DOCUMENT


@dataclass(frozen=True, slots=True)
class SubmissionSet(RegistryObjectBase):
    """XDSSubmissionSet (ITI TF-3 4.2.3.3)."""

    unique_id: str | None = None
    source_id: str | None = None
    patient_id: str | None = None
    submission_time: str | None = None
    content_type_code: Code | None = None
    authors: tuple[Author, ...] = ()
    intended_recipients: tuple[str, ...] = ()
    limited_metadata: bool = False
    #: id of the Classification that marks the package as a SubmissionSet
    node_classification_id: str = ""


@dataclass(frozen=True, slots=True)
class Folder(RegistryObjectBase):
    """XDSFolder (ITI TF-3 4.2.3.4)."""

    unique_id: str | None = None
    patient_id: str | None = None
    codes: tuple[Code, ...] = ()
    last_update_time: str | None = None
    limited_metadata: bool = False
    node_classification_id: str = ""


@dataclass(frozen=True, slots=True)
class Association(RegistryObjectBase):
    """Association (ITI TF-3 4.2.2): HasMember and the document relationships."""

    association_type: str = AssociationType.HAS_MEMBER
    source: str = ""
    target: str = ""
    submission_set_status: str | None = None
    previous_version: str | None = None
    original_status: str | None = None
    new_status: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """rim:ObjectRef: a reference to an object not carried in the list."""

    id: str
    home: str | None = None


RegistryObject = DocumentEntry | SubmissionSet | Folder | Association


@dataclass(frozen=True, slots=True)
class Submission:
    """A RegistryObjectList: what a SubmitObjectsRequest carries or a query returns."""

    document_entries: tuple[DocumentEntry, ...] = ()
    submission_sets: tuple[SubmissionSet, ...] = ()
    folders: tuple[Folder, ...] = ()
    associations: tuple[Association, ...] = ()
    object_refs: tuple[ObjectRef, ...] = ()
    #: ids of RegistryPackages that could be told neither SubmissionSet nor Folder
    unclassified_packages: tuple[str, ...] = field(default=())

    def objects(self) -> Iterator[RegistryObject]:
        yield from self.document_entries
        yield from self.submission_sets
        yield from self.folders
        yield from self.associations

    def by_id(self) -> dict[str, RegistryObject]:
        return {obj.id: obj for obj in self.objects()}

    @property
    def submission_set(self) -> SubmissionSet | None:
        return self.submission_sets[0] if self.submission_sets else None

    def with_changes(self, **changes) -> "Submission":
        return replace(self, **changes)


def is_approved(obj: RegistryObjectBase) -> bool:
    return obj.status == AvailabilityStatus.APPROVED
