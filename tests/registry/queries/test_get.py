"""GetDocuments, GetFolders, GetAssociations, GetDocumentsAndAssociations, GetSubmissionSets
(ITI TF-2 3.18.4.1.2.3.7.5-.9): naming by entryUUID, uniqueId and logical id, every status,
association status, XDSResultNotSinglePatient."""
from __future__ import annotations

import pytest

from profiles.errors import ErrorCode
from tests.registry.store.builders import association, document, folder

from . import scenario
from .support import APPROVED, DEPRECATED, q, ql

DE = "$XDSDocumentEntry"
FOL = "$XDSFolder"


@pytest.fixture
def world(reg):
    return scenario.build(reg)


def ok(answer) -> list[str]:
    assert answer.ok, answer.codes
    return answer.ids


# --- GetDocuments --------------------------------------------------------------------------------

def test_get_documents_by_entry_uuid_any_status_only_documents(reg, world):
    w = world
    ids = ql(w.c.id, w.a.id, w.f.id, w.ss1.id, "urn:uuid:00000000-0000-0000-0000-000000000000")
    answer = reg.ask("GetDocuments", **{DE + "EntryUUID": ids})
    assert ok(answer) == [w.a.id, w.c.id] and answer.tags == ["ExtrinsicObject"] * 2
    statuses = [o.get("status") for o in answer.element.find("{*}RegistryObjectList")]
    assert statuses == [DEPRECATED, APPROVED]  # the stored XML follows the status change


def test_get_documents_by_unique_id(reg, world):
    w = world
    assert ok(reg.ask("GetDocuments", **{DE + "UniqueId": ql(w.b.unique_id)})) == [w.b.id]
    assert ok(reg.ask("GetDocuments", **{DE + "UniqueId": ql(w.b.unique_id, w.c.unique_id, "1.2.3")})) == [
        w.b.id, w.c.id]
    assert ok(reg.ask("GetDocuments", **{DE + "UniqueId": ql(w.f.unique_id)})) == []


def test_get_documents_by_unique_id_and_logical_id_give_every_version(reg):
    first = document()
    second = document(lid=first.id, version_name="2", unique_id=first.unique_id)
    reg.submit(first)
    reg.submit(second)
    assert ok(reg.ask("GetDocuments", **{DE + "UniqueId": ql(first.unique_id)})) == [first.id, second.id]
    assert ok(reg.ask("GetDocuments", **{DE + "LogicalID": ql(first.id), "$MetadataLevel": "2"})) == [
        first.id, second.id]


def test_get_documents_object_refs(reg, world):
    answer = reg.ask("GetDocuments", "ObjectRef", **{DE + "EntryUUID": ql(world.b.id)})
    assert ok(answer) == [world.b.id] and answer.tags == ["ObjectRef"]


def test_get_documents_of_two_patients(reg, world):
    both = {DE + "EntryUUID": ql(world.b.id, world.x.id)}
    leaf = reg.ask("GetDocuments", **both)
    assert leaf.codes == [ErrorCode.RESULT_NOT_SINGLE_PATIENT] and leaf.ids == []
    assert leaf.status.name == "FAILURE"
    assert ok(reg.ask("GetDocuments", "ObjectRef", **both)) == [world.b.id, world.x.id]


def test_get_documents_too_many(reg, world):
    answer = reg.ask("GetDocuments", options={"result_limit": 1}, **{DE + "EntryUUID": ql(world.b.id, world.c.id)})
    assert answer.codes == [ErrorCode.TOO_MANY_RESULTS] and answer.ids == []


# --- GetFolders ------------------------------------------------------------------------------------

def test_get_folders(reg, world):
    w = world
    other = folder(patient_id=w.x.patient_id)
    reg.submit(other)
    assert ok(reg.ask("GetFolders", **{FOL + "EntryUUID": ql(w.f.id, w.a.id)})) == [w.f.id]
    assert ok(reg.ask("GetFolders", **{FOL + "UniqueId": ql(w.f.unique_id)})) == [w.f.id]
    assert ok(reg.ask("GetFolders", **{FOL + "LogicalID": ql(w.f.id)})) == [w.f.id]
    assert ok(reg.ask("GetFolders", **{FOL + "UniqueId": ql(w.a.unique_id)})) == []
    two = {FOL + "EntryUUID": ql(w.f.id, other.id)}
    assert reg.ask("GetFolders", **two).codes == [ErrorCode.RESULT_NOT_SINGLE_PATIENT]
    assert ok(reg.ask("GetFolders", "ObjectRef", **two)) == [w.f.id, other.id]


# --- GetAssociations ---------------------------------------------------------------------------

def test_get_associations_source_or_target(reg, world):
    """In the order stored: SS1's objects are ss1, a, b, f, fa, ss1_a, ss1_b, ss1_f, ss1_fa."""
    w = world
    assert ok(reg.ask("GetAssociations", **{"$uuid": ql(w.a.id)})) == [w.fa.id, w.ss1_a.id, w.rplc.id]
    assert ok(reg.ask("GetAssociations", **{"$uuid": ql(w.c.id, w.f.id)})) == [
        w.fa.id, w.ss1_f.id, w.ss2_c.id, w.rplc.id]
    assert ok(reg.ask("GetAssociations", **{"$uuid": ql(w.fa.id)})) == [w.ss1_fa.id]
    assert ok(reg.ask("GetAssociations", **{"$uuid": ql("urn:uuid:00000000-0000-0000-0000-000000000000")})) == []
    answer = reg.ask("GetAssociations", "ObjectRef", **{"$uuid": ql(w.b.id)})
    assert ok(answer) == [w.ss1_b.id] and answer.tags == ["ObjectRef"]


def test_association_status_defaults_to_approved(reg, world):
    w = world
    old = association(w.b.id, w.c.id, scenario.APND, status=DEPRECATED)
    reg.store(old)
    assert ok(reg.ask("GetAssociations", **{"$uuid": ql(w.b.id)})) == [w.ss1_b.id]
    assert ok(reg.ask("GetAssociations", **{"$uuid": ql(w.b.id), "$XDSAssociationStatus": ql(DEPRECATED)})) == [
        old.id]
    assert ok(reg.ask("GetAssociations", **{"$uuid": ql(w.b.id),
                                            "$XDSAssociationStatus": ql(APPROVED, DEPRECATED)})) == [
        w.ss1_b.id, old.id]


# --- GetDocumentsAndAssociations ------------------------------------------------------------------

def test_get_documents_and_associations(reg, world):
    w = world
    answer = reg.ask("GetDocumentsAndAssociations", **{DE + "EntryUUID": ql(w.a.id, w.b.id)})
    assert ok(answer) == [w.a.id, w.b.id, w.fa.id, w.ss1_a.id, w.ss1_b.id, w.rplc.id]
    assert answer.tags == ["ExtrinsicObject"] * 2 + ["Association"] * 4
    by_uid = reg.ask("GetDocumentsAndAssociations", **{DE + "UniqueId": ql(w.c.unique_id)})
    assert ok(by_uid) == [w.c.id, w.ss2_c.id, w.rplc.id]
    assert ok(reg.ask("GetDocumentsAndAssociations", **{DE + "EntryUUID": ql(w.f.id)})) == []
    two = {DE + "EntryUUID": ql(w.b.id, w.x.id)}
    assert reg.ask("GetDocumentsAndAssociations", **two).codes == [ErrorCode.RESULT_NOT_SINGLE_PATIENT]
    assert ok(reg.ask("GetDocumentsAndAssociations", "ObjectRef", **two)) == [
        w.b.id, w.x.id, w.ss1_b.id, w.ss3_x.id]


# --- GetSubmissionSets -------------------------------------------------------------------------

def test_get_submission_sets(reg, world):
    w = world
    answer = reg.ask("GetSubmissionSets", **{"$uuid": ql(w.a.id, w.c.id)})
    assert ok(answer) == [w.ss1.id, w.ss2.id, w.ss1_a.id, w.ss2_c.id]
    assert answer.tags == ["RegistryPackage"] * 2 + ["Association"] * 2
    assert ok(reg.ask("GetSubmissionSets", **{"$uuid": ql(w.f.id)})) == [w.ss1.id, w.ss1_f.id]
    assert ok(reg.ask("GetSubmissionSets", **{"$uuid": ql(w.ss1.id)})) == []
    two = {"$uuid": ql(w.b.id, w.x.id)}
    assert reg.ask("GetSubmissionSets", **two).codes == [ErrorCode.RESULT_NOT_SINGLE_PATIENT]
    assert ok(reg.ask("GetSubmissionSets", "ObjectRef", **two)) == [w.ss1.id, w.ss3.id, w.ss1_b.id, w.ss3_x.id]


def test_get_submission_sets_follows_only_submission_set_membership(reg, world):
    w = world
    # A is also a member of Folder F: F is not a SubmissionSet, so only SS1 comes back
    assert ok(reg.ask("GetSubmissionSets", **{"$uuid": ql(w.a.id)})) == [w.ss1.id, w.ss1_a.id]


# --- home ---------------------------------------------------------------------------------------

def test_home_community_id_on_every_object_when_configured(reg, world):
    home = "urn:oid:1.2.3.4"
    leaf = reg.ask("GetDocumentsAndAssociations", options={"home_community_id": home},
                   **{DE + "EntryUUID": ql(world.b.id)})
    assert leaf.homes == [home, home] and ok(leaf) == [world.b.id, world.ss1_b.id]
    refs = reg.ask("GetDocuments", "ObjectRef", options={"home_community_id": home},
                   **{DE + "EntryUUID": ql(world.b.id)})
    assert refs.homes == [home]
    plain = reg.ask("GetDocuments", "ObjectRef", home=home, **{DE + "EntryUUID": q(world.b.id)})
    assert plain.homes == [None]  # the request's home is routing data, not an answer setting
