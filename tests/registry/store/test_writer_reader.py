"""Storing submissions and reading them back: round trip, lookups, status, atomicity."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from profiles.model import Author
from profiles.vocabulary import AssociationType
from registry.store import (
    ObjectKind, associations_touching, documents_by_lid, find_by_unique_ids, get_by_uuids,
    patient_ids_of, set_status, store_submission, write_transaction, xml_of,
)
from registry.store.schema import author_value, metadata, object_code, reference_id, registry_object
from registry.store.writer import with_root_status

from .builders import (
    APPROVED, DEPRECATED, OTHER_PATIENT, PATIENT, association, code, document, dummy_xml, folder,
    stored, submission_set, with_submission_set,
)


def _store(engine, objects):
    with write_transaction(engine) as conn:
        return store_submission(conn, stored(*objects))


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_round_trip_of_a_submission(store):
    doc = document(event_codes=(code("E1"), code("E2")), reference_ids=("ref-1^^^&1.2&ISO",),
                   authors=(Author(person="^Hansen^Kari", institutions=("Sykehus^^^^^^^^^1.2",),
                                   roles=("lege",), specialties=("kir",)),))
    fld = folder()
    objects = with_submission_set(doc, fld)
    _store(store, objects)
    with store.connect() as conn:
        summaries = get_by_uuids(conn, [o.id for o in reversed(objects)] + ["urn:uuid:unknown"])
        assert [s.entry_uuid for s in summaries] == [o.id for o in objects]
        by_id = {s.entry_uuid: s for s in summaries}
        d = by_id[doc.id]
        assert (d.kind, d.lid, d.status, d.version, d.unique_id, d.patient_id) == (
            ObjectKind.DOCUMENT_ENTRY, doc.id, APPROVED, 1, doc.unique_id, PATIENT)
        assert (d.hash, d.size, d.repository_unique_id, d.object_type) == (
            doc.hash.lower(), 3654, "1.2.3.4", doc.object_type)
        assert by_id[fld.id].kind == ObjectKind.FOLDER and by_id[fld.id].hash is None
        assert by_id[objects[-1].id].kind == ObjectKind.ASSOCIATION
        assert xml_of(conn, [o.id for o in reversed(objects)]) == [(o.id, dummy_xml(o)) for o in objects]
        assert patient_ids_of(conn, [doc.id, fld.id, objects[-1].id]) == {
            doc.id: PATIENT, fld.id: PATIENT, objects[-1].id: None}
    assert _count(store, object_code) == 2 + 1 + 1  # events, confidentiality, folder code
    assert _count(store, author_value) == 4 + 1  # document author values, submission set person
    assert _count(store, reference_id) == 1


def test_one_statement_per_table_however_many_objects(store):
    docs = [document(event_codes=(code("E1"), code("E2"))) for _ in range(40)]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(store, "before_cursor_execute", listener)
    try:
        _store(store, with_submission_set(*docs))
    finally:
        event.remove(store, "before_cursor_execute", listener)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    # submission_log, registry_object, document_entry, submission_set, association,
    # object_code, author_value
    assert len(inserts) == 7
    assert _count(store, registry_object) == 1 + 40 + 40


def test_unique_id_lookups(store):
    doc, ss, fld = document(), submission_set(), folder()
    _store(store, with_submission_set(doc, fld, ss=ss))
    with store.connect() as conn:
        found = find_by_unique_ids(conn, ObjectKind.DOCUMENT_ENTRY, [doc.unique_id, ss.unique_id, "2.25.1"])
        assert [s.entry_uuid for s in found] == [doc.id]
        found = find_by_unique_ids(conn, None, [doc.unique_id, ss.unique_id, fld.unique_id])
        assert {s.entry_uuid for s in found} == {doc.id, ss.id, fld.id}
        assert find_by_unique_ids(conn, ObjectKind.FOLDER, []) == []


def test_documents_by_lid_gives_every_version(store):
    first = document(version_name="1")
    second = document(lid=first.id, unique_id=first.unique_id, version_name="2")
    other = document()
    _store(store, with_submission_set(second, other))
    _store(store, with_submission_set(first))
    with store.connect() as conn:
        versions = documents_by_lid(conn, [first.id])
        assert [(v.entry_uuid, v.version) for v in versions] == [(first.id, 1), (second.id, 2)]


def test_associations_touching_source_or_target(store):
    old, new, signer = document(), document(), document()
    rplc = association(new.id, old.id, AssociationType.REPLACE.value)
    signs = association(signer.id, new.id, AssociationType.SIGNS.value)
    objects = with_submission_set(old, new, signer)
    _store(store, objects + [rplc, signs])
    with store.connect() as conn:
        touching = associations_touching(conn, [new.id])
        assert [a.entry_uuid for a in touching] == [objects[5].id, rplc.id, signs.id]
        assert [(a.source, a.target) for a in touching][1:] == [(new.id, old.id), (signer.id, new.id)]
        only = associations_touching(conn, [new.id, old.id], types=[AssociationType.REPLACE.value])
        assert [(a.entry_uuid, a.type, a.status) for a in only] == [
            (rplc.id, AssociationType.REPLACE.value, APPROVED)]
        assert associations_touching(conn, [new.id], statuses=[DEPRECATED]) == []
        members = associations_touching(conn, [objects[0].id], types=[AssociationType.HAS_MEMBER.value])
        assert {a.target for a in members} == {old.id, new.id, signer.id}
        assert {a.submission_set_status for a in members} == {"Original"}


def test_replacement_deprecates_in_the_same_transaction(store):
    old = document()
    _store(store, with_submission_set(old))
    new = document()
    with write_transaction(store) as conn:
        rplc = association(new.id, old.id, AssociationType.REPLACE.value)
        store_submission(conn, stored(*with_submission_set(new), rplc))
        assert set_status(conn, [old.id, "urn:uuid:missing"], DEPRECATED) == 1
    with store.connect() as conn:
        assert [s.status for s in get_by_uuids(conn, [old.id, new.id])] == [DEPRECATED, APPROVED]
        [(_, xml)] = xml_of(conn, [old.id])
        assert f'status="{DEPRECATED}"'.encode() in xml and APPROVED.encode() not in xml


def test_set_status_takes_re_encoded_xml(store):
    doc = document()
    _store(store, with_submission_set(doc))
    with write_transaction(store) as conn:
        assert set_status(conn, [doc.id], DEPRECATED, xml={doc.id: b"<re-encoded/>"}) == 1
    with store.connect() as conn:
        assert xml_of(conn, [doc.id]) == [(doc.id, b"<re-encoded/>")]
        assert set_status(conn, [], DEPRECATED) == 0


def test_root_status_rewrite_touches_only_the_root_element():
    xml = b'<?xml version="1.0"?><a id="x" status=\'old\'><b status="old"/></a>'
    assert with_root_status(xml, "new") == (
        b'<?xml version="1.0"?><a id="x" status=\'new\'><b status="old"/></a>')
    assert with_root_status(b'<a id="x"/>', "new") == b'<a id="x" status="new"/>'
    assert with_root_status(b'<a objectStatus="k">', "new") == b'<a objectStatus="k" status="new">'


def test_a_failed_submission_leaves_nothing_behind(store):
    existing = document()
    _store(store, with_submission_set(existing))
    before = {name: _count(store, table) for name, table in metadata.tables.items()}
    objects = with_submission_set(document(event_codes=(code("E"),)), folder())
    with pytest.raises(IntegrityError):
        with write_transaction(store) as conn:
            set_status(conn, [existing.id], DEPRECATED)
            # the same entryUUID twice: the registry_object batch fails
            store_submission(conn, stored(*objects, document(id=objects[1].id)))
    assert {name: _count(store, table) for name, table in metadata.tables.items()} == before
    with store.connect() as conn:
        assert get_by_uuids(conn, [existing.id])[0].status == APPROVED


def test_an_error_after_the_insert_rolls_it_back(store):
    with pytest.raises(RuntimeError):
        with write_transaction(store) as conn:
            store_submission(conn, stored(*with_submission_set(document())))
            raise RuntimeError("a later check failed")
    assert _count(store, registry_object) == 0


def test_an_object_without_status_is_refused(store):
    with pytest.raises(ValueError):
        with write_transaction(store) as conn:
            store_submission(conn, stored(document(status=None)))
    assert _count(store, registry_object) == 0


def test_concurrent_writers_are_serialised(store):
    errors: list[BaseException] = []

    def submit(patient: str) -> None:
        try:
            for _ in range(5):
                with write_transaction(store) as conn:
                    docs = [document(patient_id=patient) for _ in range(3)]
                    store_submission(conn, stored(*with_submission_set(*docs)))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(p,)) for p in (PATIENT, OTHER_PATIENT) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(store, registry_object) == 4 * 5 * (1 + 3 + 3)


def test_long_id_lists_are_split_and_keep_insert_order(store, monkeypatch):
    monkeypatch.setattr("registry.store.reader.CHUNK", 2)
    docs = [document() for _ in range(5)]
    objects = with_submission_set(*docs)
    _store(store, objects)
    ids = [o.id for o in reversed(objects)]
    with store.connect() as conn:
        assert [s.entry_uuid for s in get_by_uuids(conn, ids)] == [o.id for o in objects]
        assert [uuid for uuid, _ in xml_of(conn, ids)] == [o.id for o in objects]
        assert len(patient_ids_of(conn, ids)) == len(objects)
        found = find_by_unique_ids(conn, ObjectKind.DOCUMENT_ENTRY, [d.unique_id for d in docs])
        assert [s.entry_uuid for s in found] == [d.id for d in docs]
        touching = associations_touching(conn, [d.id for d in docs] + [objects[0].id])
        assert [a.entry_uuid for a in touching] == [o.id for o in objects[6:]]
