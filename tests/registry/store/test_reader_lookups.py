"""Lookups added for the stored queries: objects by logical id of any kind, associations by id."""
from __future__ import annotations

from profiles.vocabulary import AssociationType
from registry.store import (
    DocumentCriteria, ObjectKind, document_uuids, documents_with_xml, find_by_lids, get_associations,
    store_submission, stored_xml, write_transaction,
)
from registry.store.reader import BOUND_PATIENTS

from .builders import (
    APPROVED, OTHER_PATIENT, PATIENT, association, document, folder, stored, with_submission_set,
)


def _store(engine, objects) -> None:
    with write_transaction(engine) as conn:
        store_submission(conn, stored(*objects))


def test_find_by_lids_gives_every_version_of_the_kind_asked(store):
    first = folder()
    second = folder(lid=first.id, version_name="2", unique_id=first.unique_id)
    doc = document(lid=first.id)  # same lid, other kind: not a folder version
    _store(store, with_submission_set(first))
    _store(store, with_submission_set(second, doc))
    with store.connect() as conn:
        found = find_by_lids(conn, ObjectKind.FOLDER, [first.id, "urn:uuid:unknown"])
        assert [(s.entry_uuid, s.version) for s in found] == [(first.id, 1), (second.id, 2)]
        assert [s.entry_uuid for s in find_by_lids(conn, ObjectKind.DOCUMENT_ENTRY, [first.id])] == [doc.id]
        assert find_by_lids(conn, ObjectKind.FOLDER, []) == []


def test_get_associations_by_entry_uuid_in_insert_order(store):
    a, b = document(), document()
    rplc = association(b.id, a.id, AssociationType.REPLACE.value)
    objects = with_submission_set(a, b) + [rplc]
    _store(store, objects)
    members = [o for o in objects if getattr(o, "association_type", None) == AssociationType.HAS_MEMBER]
    with store.connect() as conn:
        found = get_associations(conn, [rplc.id, members[0].id, a.id, "urn:uuid:unknown"])
    assert [f.entry_uuid for f in found] == [members[0].id, rplc.id]
    assert (found[1].type, found[1].source, found[1].target, found[1].status) == (
        AssociationType.REPLACE.value, b.id, a.id, APPROVED)
    assert found[0].submission_set_status == "Original"


def test_stored_xml_names_each_object_by_its_indexed_columns(store):
    doc = document(repository_unique_id="1.2.3.9", home="urn:oid:7")
    objects = with_submission_set(doc)
    _store(store, objects)
    with store.connect() as conn:
        found = stored_xml(conn, [objects[2].id, doc.id, "urn:uuid:unknown", objects[0].id])
    assert [(f.entry_uuid, f.kind) for f in found] == [
        (objects[0].id, ObjectKind.SUBMISSION_SET), (doc.id, ObjectKind.DOCUMENT_ENTRY),
        (objects[2].id, ObjectKind.ASSOCIATION)]
    assert (found[1].xml, found[1].unique_id, found[1].patient_id, found[1].home, found[1].repository_unique_id) == (
        stored(doc)[0].xml, doc.unique_id, PATIENT, "urn:oid:7", "1.2.3.9")
    assert found[0].repository_unique_id is None and found[2].patient_id is None


def test_document_selects_differing_only_in_patients_answer_each_patient(store):
    mine, theirs = document(), document(patient_id=OTHER_PATIENT)
    _store(store, with_submission_set(mine))
    _store(store, with_submission_set(theirs))
    with store.connect() as conn:
        many = [f"{n}^^^&1.2.3&ISO" for n in range(BOUND_PATIENTS)]
        for patients, expected in (([PATIENT], [mine]), ([OTHER_PATIENT], [theirs]),
                                   ([OTHER_PATIENT, PATIENT, PATIENT], [mine, theirs]), (None, [mine, theirs]),
                                   ([*many, OTHER_PATIENT], [theirs])):
            criteria = DocumentCriteria(patient_ids=patients, statuses=(APPROVED,), limit=5)
            assert [d.entry_uuid for d in documents_with_xml(conn, criteria)] == [d.id for d in expected]
            assert document_uuids(conn, criteria) == [d.id for d in expected]
        # criteria holding lists cannot key the statement cache: built for the call instead
        listed = DocumentCriteria(patient_ids=[PATIENT], statuses=[APPROVED])
        assert [d.xml for d in documents_with_xml(conn, listed)] == [stored(mine)[0].xml]
