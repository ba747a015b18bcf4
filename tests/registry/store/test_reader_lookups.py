"""Lookups added for the stored queries: objects by logical id of any kind, associations by id."""
from __future__ import annotations

from profiles.vocabulary import AssociationType
from registry.store import (
    ObjectKind, find_by_lids, get_associations, store_submission, write_transaction,
)

from .builders import APPROVED, association, document, folder, stored, with_submission_set


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
