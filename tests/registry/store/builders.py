"""Model objects for store tests, built directly (no codec): dummy XML carries id and status."""
from __future__ import annotations

import uuid

from profiles.model import Association, Author, Code, DocumentEntry, Folder, SubmissionSet
from profiles.vocabulary import AssociationType, AvailabilityStatus, ObjectType
from registry.store import StoredObject

APPROVED = AvailabilityStatus.APPROVED.value
DEPRECATED = AvailabilityStatus.DEPRECATED.value
PATIENT = "12345678901^^^&2.16.578.1.12.4.1.4.1&ISO"
OTHER_PATIENT = "98765432109^^^&2.16.578.1.12.4.1.4.1&ISO"


def new_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def code(value: str, scheme: str = "2.16.578.1.12.4.1.1.9602") -> Code:
    return Code(value, scheme, value)


def document(**changes) -> DocumentEntry:
    entry_uuid = changes.pop("id", None) or new_uuid()
    fields = dict(
        id=entry_uuid, lid=entry_uuid, status=APPROVED, version_name="1",
        unique_id=f"2.25.{uuid.uuid4().int}", patient_id=PATIENT, mime_type="text/xml",
        class_code=code("A00-1"), type_code=code("A03-1"),
        format_code=code("urn:ihe:iti:xds:2017:mimeTypeSufficient", "1.3.6.1.4.1.19376.1.2.3"),
        healthcare_facility_type_code=code("86.211"), practice_setting_code=code("ALL"),
        confidentiality_codes=(code("N", "2.16.840.1.113883.5.25"),),
        event_codes=(), authors=(Author(person="^Hansen^Kari^^^Dr"),),
        creation_time="20240105103000", service_start_time="20240105", service_stop_time=None,
        hash="DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", size="3654",
        repository_unique_id="1.2.3.4", object_type=ObjectType.STABLE_DOCUMENT.value,
    )
    fields.update(changes)
    return DocumentEntry(**fields)


def submission_set(**changes) -> SubmissionSet:
    entry_uuid = changes.pop("id", None) or new_uuid()
    fields = dict(
        id=entry_uuid, lid=entry_uuid, status=APPROVED, unique_id=f"2.25.{uuid.uuid4().int}",
        source_id="1.2.3", patient_id=PATIENT, submission_time="20240105120000",
        content_type_code=code("content"), authors=(Author(person="^Berg^Ola"),),
    )
    fields.update(changes)
    return SubmissionSet(**fields)


def folder(**changes) -> Folder:
    entry_uuid = changes.pop("id", None) or new_uuid()
    fields = dict(id=entry_uuid, lid=entry_uuid, status=APPROVED, unique_id=f"2.25.{uuid.uuid4().int}",
                  patient_id=PATIENT, codes=(code("folder-code"),), last_update_time="20240105120000")
    fields.update(changes)
    return Folder(**fields)


def association(source: str, target: str, kind: str = AssociationType.HAS_MEMBER.value,
                **changes) -> Association:
    entry_uuid = changes.pop("id", None) or new_uuid()
    fields = dict(id=entry_uuid, lid=entry_uuid, status=APPROVED, association_type=kind,
                  source=source, target=target,
                  submission_set_status="Original" if kind == AssociationType.HAS_MEMBER else None)
    fields.update(changes)
    return Association(**fields)


def dummy_xml(obj) -> bytes:
    tag = type(obj).__name__
    return (f'<?xml version="1.0"?><rim:{tag} xmlns:rim="urn:x" id="{obj.id}" '
            f'status="{obj.status}"><rim:Name/></rim:{tag}>').encode()


def stored(*objects) -> list[StoredObject]:
    return [StoredObject(obj, dummy_xml(obj)) for obj in objects]


def with_submission_set(*objects, ss=None):
    """A SubmissionSet, the objects and a HasMember from the set to each of them."""
    patient = getattr(objects[0], "patient_id", PATIENT) if objects else PATIENT
    ss = ss or submission_set(patient_id=patient)
    members = [association(ss.id, obj.id) for obj in objects]
    return [ss, *objects, *members]
