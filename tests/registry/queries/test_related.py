"""GetAll, GetSubmissionSetAndContents, GetFolderAndContents, GetFoldersForDocument,
GetRelatedDocuments (ITI TF-2 3.18.4.1.2.3.7.4, .10-.13): following Associations, with the
document filters (format, confidentiality, entry type) and association status."""
from __future__ import annotations

import pytest

from profiles.errors import ErrorCode
from tests.registry.store.builders import OTHER_PATIENT, PATIENT, association, document, folder

from . import scenario
from .scenario import APND, RPLC, SIGNS, XFRM
from .support import APPROVED, DEPRECATED, ON_DEMAND, STABLE, Slots, q, ql

DE = "$XDSDocumentEntry"
SCHEME = "2.16.578.1.12.4.1.1.9602"


@pytest.fixture
def world(reg):
    return scenario.build(reg)


def ok(answer) -> list[str]:
    assert answer.ok, answer.codes
    return answer.ids


def c(value: str) -> str:
    return f"{value}^^{SCHEME}"


# --- GetAll -------------------------------------------------------------------------------------

def get_all(reg, return_type="LeafClass", patient=None, options=None, **params):
    statuses = {DE + "Status": ql(APPROVED, DEPRECATED), "$XDSSubmissionSetStatus": ql(APPROVED),
                "$XDSFolderStatus": ql(APPROVED)}
    return reg.ask("GetAll", return_type, options=options,
                   **{"$patientId": q(patient or PATIENT), **statuses, **params})


def test_get_all(reg, world):
    w = world
    answer = get_all(reg)
    assert ok(answer) == [w.ss1.id, w.ss2.id, w.a.id, w.b.id, w.c.id, w.f.id,
                          w.fa.id, w.ss1_a.id, w.ss1_b.id, w.ss1_f.id, w.ss1_fa.id, w.ss2_c.id, w.rplc.id]
    assert answer.tags == ["RegistryPackage"] * 2 + ["ExtrinsicObject"] * 3 + ["RegistryPackage"] + \
        ["Association"] * 7
    assert ok(get_all(reg, patient=OTHER_PATIENT)) == [w.ss3.id, w.x.id, w.ss3_x.id]
    assert ok(get_all(reg, patient="nobody^^^&1.2&ISO")) == []


def test_get_all_statuses_each_kind(reg, world):
    w = world
    approved_documents = get_all(reg, "ObjectRef", **{DE + "Status": ql(APPROVED)})
    # A (Deprecated) is out, the Associations touching it stay when they touch a returned object
    assert ok(approved_documents) == [w.ss1.id, w.ss2.id, w.b.id, w.c.id, w.f.id,
                                      w.fa.id, w.ss1_a.id, w.ss1_b.id, w.ss1_f.id, w.ss1_fa.id, w.ss2_c.id,
                                      w.rplc.id]
    no_sets = get_all(reg, "ObjectRef", **{"$XDSSubmissionSetStatus": ql(DEPRECATED)})
    assert w.ss1.id not in ok(no_sets) and w.a.id in no_sets.ids
    no_folders = get_all(reg, "ObjectRef", **{"$XDSFolderStatus": ql(DEPRECATED)})
    assert w.f.id not in ok(no_folders)


def test_get_all_document_filters(reg, world):
    w = world
    on_demand = document(object_type=ON_DEMAND, hash=None, size=None)
    reg.submit(on_demand)
    ids = ok(get_all(reg, "ObjectRef", **{DE + "FormatCode": ql(c("fmt-b"))}))
    assert [i for i in ids if i in (w.a.id, w.b.id, w.c.id, on_demand.id)] == [w.b.id]
    ids = ok(get_all(reg, "ObjectRef", **{DE + "ConfidentialityCode": Slots(ql(c("N"), c("R")))}))
    assert [i for i in ids if i in (w.a.id, w.b.id, w.c.id)] == [w.a.id, w.b.id]
    assert on_demand.id not in ok(get_all(reg, "ObjectRef"))
    ids = ok(get_all(reg, "ObjectRef", **{DE + "Type": ql(ON_DEMAND)}))
    assert [i for i in ids if i in (w.a.id, w.b.id, w.c.id, on_demand.id)] == [on_demand.id]


def test_get_all_too_many(reg, world):
    answer = get_all(reg, options={"result_limit": 6})
    assert answer.codes == [ErrorCode.TOO_MANY_RESULTS] and answer.ids == []
    assert ok(get_all(reg, "ObjectRef", options={"result_limit": 13})) != []


# --- GetSubmissionSetAndContents ---------------------------------------------------------------

SS = "$XDSSubmissionSet"


def test_get_submission_set_and_contents(reg, world):
    w = world
    answer = reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(w.ss1.id)})
    assert ok(answer) == [w.ss1.id, w.a.id, w.b.id, w.f.id, w.ss1_a.id, w.ss1_b.id, w.ss1_f.id, w.ss1_fa.id,
                          w.fa.id]
    by_uid = reg.ask("GetSubmissionSetAndContents", "ObjectRef", **{SS + "UniqueId": q(w.ss2.unique_id)})
    assert ok(by_uid) == [w.ss2.id, w.c.id, w.ss2_c.id]  # the RPLC is not a member of SS2
    unknown = reg.ask("GetSubmissionSetAndContents", **{SS + "UniqueId": q("1.2.3.4.5")})
    assert ok(unknown) == []
    not_a_set = reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(w.f.id)})
    assert ok(not_a_set) == []


def test_submission_set_contents_filtered_by_format_drop_what_hangs_on_the_dropped(reg, world):
    w = world
    answer = reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(w.ss1.id),
                                                       DE + "FormatCode": ql(c("fmt-b"))})
    # A is out: so are F HasMember A and SS1's HasMember to that association
    assert ok(answer) == [w.ss1.id, w.b.id, w.f.id, w.ss1_b.id, w.ss1_f.id]


def test_submission_set_contents_filtered_by_confidentiality(reg, world):
    w = world
    answer = reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(w.ss1.id),
                                                       DE + "ConfidentialityCode": ql(c("N"))})
    assert ok(answer) == [w.ss1.id, w.a.id, w.f.id, w.ss1_a.id, w.ss1_f.id, w.ss1_fa.id, w.fa.id]
    both = reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(w.ss1.id),
                                                     DE + "ConfidentialityCode": Slots(ql(c("N")), ql(c("R")))})
    assert ok(both) == [w.ss1.id, w.f.id, w.ss1_f.id]


def test_submission_set_contents_entry_type(reg):
    stable, on_demand = document(), document(object_type=ON_DEMAND, hash=None, size=None)
    stored = reg.submit(stable, on_demand)
    ss, ss_stable, ss_on_demand = stored[0], stored[3], stored[4]
    assert ok(reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(ss.id)})) == [
        ss.id, stable.id, ss_stable.id]
    assert ok(reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(ss.id),
                                                        DE + "Type": ql(ON_DEMAND)})) == [
        ss.id, on_demand.id, ss_on_demand.id]
    assert ok(reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(ss.id),
                                                        DE + "Type": ql(STABLE, ON_DEMAND)})) == [
        ss.id, stable.id, on_demand.id, ss_stable.id, ss_on_demand.id]


def test_submission_set_with_a_member_of_another_patient(reg):
    mine, theirs = document(), document(patient_id=OTHER_PATIENT)
    stored = reg.submit(mine, theirs)
    leaf = reg.ask("GetSubmissionSetAndContents", **{SS + "EntryUUID": q(stored[0].id)})
    assert leaf.codes == [ErrorCode.RESULT_NOT_SINGLE_PATIENT]
    assert len(ok(reg.ask("GetSubmissionSetAndContents", "ObjectRef", **{SS + "EntryUUID": q(stored[0].id)}))) == 5


# --- GetFolderAndContents ---------------------------------------------------------------------

FOL = "$XDSFolder"


def test_get_folder_and_contents(reg, world):
    w = world
    answer = reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(w.f.id)})
    assert ok(answer) == [w.a.id, w.f.id, w.fa.id]
    assert answer.tags == ["ExtrinsicObject", "RegistryPackage", "Association"]
    assert ok(reg.ask("GetFolderAndContents", "ObjectRef", **{FOL + "UniqueId": q(w.f.unique_id)})) == [
        w.a.id, w.f.id, w.fa.id]
    assert ok(reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(w.f.id),
                                                 DE + "FormatCode": ql(c("fmt-b"))})) == [w.f.id]
    assert ok(reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(w.f.id),
                                                 DE + "ConfidentialityCode": ql(c("N"))})) == [
        w.a.id, w.f.id, w.fa.id]
    assert ok(reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(w.ss1.id)})) == []


def test_an_empty_folder_is_answered_alone(reg):
    empty = folder()
    reg.submit(empty)
    assert ok(reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(empty.id)})) == [empty.id]


def test_folder_contents_entry_type_and_association_status(reg):
    fld, stable, on_demand = folder(), document(), document(object_type=ON_DEMAND, hash=None, size=None)
    to_stable, to_on_demand = association(fld.id, stable.id), association(fld.id, on_demand.id)
    gone = document()
    removed = association(fld.id, gone.id, status=DEPRECATED)
    reg.submit(fld, stable, on_demand, gone, to_stable, to_on_demand, removed)
    assert ok(reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(fld.id)})) == [
        stable.id, fld.id, to_stable.id]
    assert ok(reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(fld.id), DE + "Type": ql(ON_DEMAND)})) == [
        on_demand.id, fld.id, to_on_demand.id]
    assert ok(reg.ask("GetFolderAndContents", **{FOL + "EntryUUID": q(fld.id),
                                                 "$XDSAssociationStatus": ql(DEPRECATED)})) == [
        gone.id, fld.id, removed.id]


# --- GetFoldersForDocument --------------------------------------------------------------------

def test_get_folders_for_document(reg, world):
    w = world
    second = folder()
    reg.submit(second, association(second.id, w.a.id))
    assert ok(reg.ask("GetFoldersForDocument", **{DE + "EntryUUID": q(w.a.id)})) == [w.f.id, second.id]
    assert ok(reg.ask("GetFoldersForDocument", "ObjectRef", **{DE + "UniqueId": q(w.a.unique_id)})) == [
        w.f.id, second.id]
    assert ok(reg.ask("GetFoldersForDocument", **{DE + "EntryUUID": q(w.b.id)})) == []
    # a SubmissionSet's HasMember to the document does not make it a folder
    assert ok(reg.ask("GetFoldersForDocument", **{DE + "EntryUUID": q(w.c.id)})) == []


# --- GetRelatedDocuments ----------------------------------------------------------------------

def related(reg, document_id, types, return_type="LeafClass", **params):
    return reg.ask("GetRelatedDocuments", return_type,
                   **{DE + "EntryUUID": q(document_id), "$AssociationTypes": ql(*types), **params})


def test_get_related_documents_both_directions(reg, world):
    w = world
    forward = related(reg, w.c.id, [RPLC])
    assert ok(forward) == [w.c.id, w.a.id, w.rplc.id]
    assert forward.tags == ["ExtrinsicObject", "ExtrinsicObject", "Association"]
    assert ok(related(reg, w.a.id, [RPLC])) == [w.a.id, w.c.id, w.rplc.id]
    assert ok(related(reg, w.a.id, [APND, XFRM])) == []
    assert ok(related(reg, w.b.id, [RPLC, APND])) == []
    by_uid = reg.ask("GetRelatedDocuments", "ObjectRef", **{DE + "UniqueId": q(w.c.unique_id),
                                                            "$AssociationTypes": ql(RPLC)})
    assert ok(by_uid) == [w.c.id, w.a.id, w.rplc.id]


def test_related_documents_of_several_types(reg, world):
    w = world
    appendix, signature, transform = document(), document(), document()
    apnd = association(appendix.id, w.c.id, APND)
    signs = association(signature.id, w.c.id, SIGNS)
    xfrm = association(transform.id, w.c.id, XFRM)
    reg.store(*scenario.with_submission_set(appendix, signature, transform), apnd, signs, xfrm)
    assert ok(related(reg, w.c.id, [RPLC, APND, SIGNS, XFRM], "ObjectRef")) == [
        w.c.id, w.a.id, appendix.id, signature.id, transform.id, w.rplc.id, apnd.id, signs.id, xfrm.id]
    assert ok(related(reg, w.c.id, [SIGNS], "ObjectRef")) == [w.c.id, signature.id, signs.id]
    assert ok(related(reg, w.c.id, ["XFRM", "signs"], "ObjectRef")) == [  # short forms
        w.c.id, signature.id, transform.id, signs.id, xfrm.id]
    # HasMember is no document relationship: the SubmissionSet at its other end is not returned
    assert ok(related(reg, w.c.id, [scenario.HAS_MEMBER])) == []


def test_related_documents_entry_type(reg, world):
    w = world
    snapshot_source = document(object_type=ON_DEMAND, hash=None, size=None)
    xfrm = association(w.b.id, snapshot_source.id, XFRM)
    reg.store(*scenario.with_submission_set(snapshot_source), xfrm)
    assert ok(related(reg, w.b.id, [XFRM])) == []
    assert ok(related(reg, w.b.id, [XFRM], **{DE + "Type": ql(ON_DEMAND)})) == [
        w.b.id, snapshot_source.id, xfrm.id]


def test_related_documents_of_another_patient(reg, world):
    w = world
    link = association(w.x.id, w.b.id, APND)
    reg.store(link)
    assert related(reg, w.b.id, [APND]).codes == [ErrorCode.RESULT_NOT_SINGLE_PATIENT]
    assert ok(related(reg, w.b.id, [APND], "ObjectRef")) == [w.b.id, w.x.id, link.id]


def test_related_documents_association_status(reg, world):
    w = world
    old = document()
    link = association(old.id, w.b.id, APND, status=DEPRECATED)
    reg.store(*scenario.with_submission_set(old), link)
    assert ok(related(reg, w.b.id, [APND])) == []
    assert ok(related(reg, w.b.id, [APND], **{"$XDSAssociationStatus": ql(DEPRECATED)})) == [
        w.b.id, old.id, link.id]


def test_missing_association_types(reg, world):
    answer = reg.ask("GetRelatedDocuments", **{DE + "EntryUUID": q(world.c.id)})
    assert answer.codes == [ErrorCode.STORED_QUERY_MISSING_PARAM]

