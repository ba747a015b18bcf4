"""Hypothesis strategies for the XDS metadata model (profiles.model), for round-trip tests.

Values are what the ebRIM codec can carry and the IHE schemas accept: text without XML-invalid
characters and within the schema lengths, URIs where rim.xsd wants anyURI, xml:lang from a
list of language tags. Extra slots, classifications and external identifiers never use a
name or scheme the model maps itself (that would decode into the named field, as it should),
and association types are never the legacy short names (those decode to the full URN).

Ids of classifications/authors/node classifications are either empty (the encoder derives
them) or explicit.
"""
from __future__ import annotations

from hypothesis import strategies as st

from profiles.model import (
    Association,
    Author,
    Code,
    DocumentEntry,
    ExtraClassification,
    ExtraExternalIdentifier,
    Folder,
    LocalizedString,
    ObjectRef,
    Slot,
    Submission,
    SubmissionSet,
)
from profiles.vocabulary import AssociationType, AvailabilityStatus, ObjectType

#: Text that XML 1.0 can carry: no control characters, surrogates or non-characters.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn")),
    max_size=24,
)
short_text = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cn")), max_size=16)
token = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,11}", fullmatch=True)

uuid_urn = st.uuids().map(lambda u: f"urn:uuid:{u}")
symbolic_id = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,15}", fullmatch=True)
object_id = st.one_of(uuid_urn, symbolic_id)
#: "" means: let the encoder derive it
child_id = st.one_of(st.just(""), uuid_urn, symbolic_id)
oid = st.lists(st.integers(min_value=0, max_value=99999), min_size=2, max_size=6).map(
    lambda parts: ".".join(map(str, parts))
)


def optional(strategy):
    return st.one_of(st.none(), strategy)


def tuples(strategy, max_size: int = 3):
    return st.lists(strategy, max_size=max_size).map(tuple)


localized_string = st.builds(
    LocalizedString,
    value=text,
    lang=optional(st.sampled_from(["en-US", "nb-NO", "nn", "en"])),
    charset=optional(st.just("UTF-8")),
)
international_string = tuples(localized_string, max_size=2)

#: slot names no object kind maps, so they always stay extra slots
extra_slot_name = token.map(lambda t: f"urn:example:slot:{t}")


def extra_slots(max_size: int = 3):
    slot = st.builds(
        Slot,
        name=extra_slot_name,
        values=tuples(text),
        slot_type=optional(st.just("urn:oasis:names:tc:ebxml-regrep:DataType:String")),
    )
    return st.lists(slot, max_size=max_size, unique_by=lambda s: s.name).map(tuple)


code = st.builds(Code, code=text, scheme=text, display_name=text, id=child_id)

author = st.builds(
    Author,
    person=optional(text),
    institutions=tuples(text),
    roles=tuples(text),
    specialties=tuples(text),
    telecommunications=tuples(text),
    id=child_id,
    extra_slots=extra_slots(2),
)

extra_classification = st.builds(
    ExtraClassification,
    scheme=optional(uuid_urn),
    node_representation=optional(text),
    classification_node=optional(uuid_urn),
    name=international_string,
    slots=extra_slots(2),
    id=child_id,
)

extra_external_identifier = st.builds(
    ExtraExternalIdentifier,
    scheme=uuid_urn,
    value=text,
    name=international_string,
    id=child_id,
)

status = optional(st.sampled_from([s.value for s in AvailabilityStatus]))


def _base_fields() -> dict:
    """Strategies of the RegistryObject fields every kind shares."""
    return dict(
        id=object_id,
        lid=optional(object_id),
        home=optional(oid.map(lambda o: f"urn:oid:{o}")),
        status=status,
        version_name=optional(short_text),
        name=international_string,
        description=international_string,
        extra_slots=extra_slots(),
        extra_classifications=tuples(extra_classification, 2),
        extra_external_ids=tuples(extra_external_identifier, 2),
    )


document_entry = st.builds(
    DocumentEntry,
    **_base_fields(),
    object_type=st.sampled_from([ObjectType.STABLE_DOCUMENT.value, ObjectType.ON_DEMAND_DOCUMENT.value]),
    mime_type=optional(st.sampled_from(["text/xml", "application/pdf", "application/fhir+json"])),
    unique_id=optional(oid),
    patient_id=optional(text),
    source_patient_id=optional(text),
    source_patient_info=tuples(text),
    class_code=optional(code),
    type_code=optional(code),
    format_code=optional(code),
    healthcare_facility_type_code=optional(code),
    practice_setting_code=optional(code),
    confidentiality_codes=tuples(code),
    event_codes=tuples(code),
    authors=tuples(author),
    creation_time=optional(text),
    service_start_time=optional(text),
    service_stop_time=optional(text),
    language_code=optional(text),
    legal_authenticator=optional(text),
    hash=optional(text),
    size=optional(text),
    repository_unique_id=optional(oid),
    uri=optional(text),
    document_availability=optional(text),
    reference_ids=tuples(text),
    limited_metadata=st.booleans(),
)

submission_set = st.builds(
    SubmissionSet,
    **_base_fields(),
    unique_id=optional(oid),
    source_id=optional(oid),
    patient_id=optional(text),
    submission_time=optional(text),
    content_type_code=optional(code),
    authors=tuples(author),
    intended_recipients=tuples(text),
    limited_metadata=st.booleans(),
    node_classification_id=child_id,
)

folder = st.builds(
    Folder,
    **_base_fields(),
    unique_id=optional(oid),
    patient_id=optional(text),
    codes=tuples(code),
    last_update_time=optional(text),
    limited_metadata=st.booleans(),
    node_classification_id=child_id,
)

association_type = st.one_of(
    st.sampled_from([t.value for t in AssociationType]),
    token.map(lambda t: f"urn:example:AssociationType:{t}"),
)

association = st.builds(
    Association,
    **_base_fields(),
    association_type=association_type,
    source=object_id,
    target=object_id,
    submission_set_status=optional(st.sampled_from(["Original", "Reference"])),
    previous_version=optional(st.integers(min_value=1, max_value=99).map(str)),
    original_status=status,
    new_status=status,
)

object_ref = st.builds(ObjectRef, id=uuid_urn, home=optional(oid.map(lambda o: f"urn:oid:{o}")))

registry_object = st.one_of(document_entry, submission_set, folder, association)

submission = st.builds(
    Submission,
    document_entries=tuples(document_entry, 2),
    submission_sets=tuples(submission_set, 1),
    folders=tuples(folder, 2),
    associations=tuples(association, 3),
    object_refs=tuples(object_ref, 2),
)
