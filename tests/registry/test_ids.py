"""registry.ids: symbolic ids become urn:uuid entryUUIDs, ends rewritten, lid and version set."""
import uuid

from profiles.ebrim import canonical_bytes
from profiles.ihe.common import is_uuid_urn
from profiles.model import Author, Code, ExtraClassification
from profiles.vocabulary import AssociationType
from registry.ids import assign_ids, id_map, is_symbolic, new_entry_uuid, supplied_entry_uuids
from tests.profiles import samples

GIVEN = "urn:uuid:0f6a5c55-3b8e-4f7e-9a3a-6f0e1d2c3b4a"


def test_new_entry_uuid_is_a_random_uuid_urn():
    first, second = new_entry_uuid(), new_entry_uuid()
    assert is_uuid_urn(first) and first != second
    assert uuid.UUID(first[9:]).version == 4


def test_every_symbolic_object_id_gets_a_new_uuid():
    submission = samples.submission()
    assigned, mapping = assign_ids(submission)
    assert set(mapping) == {obj.id for obj in submission.objects()}
    assert len(set(mapping.values())) == len(mapping)
    assert all(is_uuid_urn(obj.id) for obj in assigned.objects())


def test_association_ends_follow_their_objects():
    assigned, mapping = assign_ids(samples.submission())
    ids = {obj.id for obj in assigned.objects()}
    for association in assigned.associations:
        assert association.source in ids and association.target in ids
    folder_doc = next(a for a in assigned.associations if a.id == mapping[samples.FOLDER_MEMBERSHIP])
    assert (folder_doc.source, folder_doc.target) == (mapping[samples.FOLDER], mapping[samples.DOCUMENT_1])


def test_uuid_ids_are_kept_and_references_to_existing_objects_untouched():
    submission = samples.submission(
        doc=lambda d: d.with_changes(id=GIVEN),
        associations=lambda a: tuple(x.with_changes(target=GIVEN) if x.target == samples.DOCUMENT_1 else x for x in a)
        + (samples.relationship("Rpl", AssociationType.REPLACE, GIVEN, samples.EXISTING_DOCUMENT),))
    assigned, mapping = assign_ids(submission)
    assert GIVEN not in mapping
    assert assigned.document_entries[0].id == GIVEN
    replace = next(a for a in assigned.associations if a.association_type == AssociationType.REPLACE)
    assert (replace.source, replace.target) == (GIVEN, samples.EXISTING_DOCUMENT)
    assert supplied_entry_uuids(submission) == [GIVEN]


def test_lid_is_the_entry_uuid_and_version_is_one():
    assigned, _ = assign_ids(samples.submission())
    for obj in assigned.objects():
        assert obj.lid == obj.id
        assert obj.version_name == "1"


def test_symbolic_classification_ids_are_blanked_uuid_ones_kept():
    kept = "urn:uuid:1e2d3c4b-5a69-4788-97a6-b5c4d3e2f100"
    submission = samples.submission(
        doc=lambda d: d.with_changes(class_code=Code("Consult", "scheme", "Consult", id="cl01"),
                                     type_code=Code("34108-1", "LOINC", "Note", id=kept),
                                     authors=(Author(person="^Smitty", id="author01"),),
                                     extra_classifications=(ExtraClassification("urn:uuid:x", "n", id="ex01"),)),
        submission_set=lambda s: s.with_changes(node_classification_id="ssNode"))
    assigned, _ = assign_ids(submission)
    entry = assigned.document_entries[0]
    assert entry.class_code.id == "" and entry.type_code.id == kept
    assert entry.authors[0].id == "" and entry.extra_classifications[0].id == ""
    assert assigned.submission_sets[0].node_classification_id == ""


def test_stored_bytes_hold_no_symbolic_id():
    submission = samples.submission(doc=lambda d: d.with_changes(class_code=Code("C", "s", "C", id="cl01")))
    assigned, _ = assign_ids(submission)
    stored = b"".join(canonical_bytes(obj) for obj in assigned.objects())
    for symbolic in ("cl01", samples.SUBMISSION_SET, samples.DOCUMENT_1, samples.FOLDER, "SsDoc01"):
        assert f'"{symbolic}"'.encode() not in stored


def test_id_map_uses_the_given_uuid_maker():
    counter = iter(range(100))
    mapping = id_map(samples.submission(), lambda: f"urn:uuid:00000000-0000-4000-8000-{next(counter):012d}")
    assert mapping[samples.DOCUMENT_1] == "urn:uuid:00000000-0000-4000-8000-000000000000"


def test_is_symbolic():
    assert is_symbolic("Document01") and not is_symbolic(GIVEN)
