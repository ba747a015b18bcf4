"""registry.service.remove_metadata: ITI-62 Remove Metadata (RMD 3.62.4.1.3) without SOAP, on
SQLite and PostgreSQL. Each rule: a removal that is accepted, the change that breaks it and
the exact error. A Failure removes nothing: every rejecting test compares the row counts of
every table before and after.

The sample submission (tests.profiles.samples) holds, by symbolic id:
    SubmissionSet01, Document01, Document02, Folder01 and the HasMembers
    SsDoc01 (SS→Doc01), SsDoc02 (SS→Doc02), SsFolder01 (SS→Folder), FolderDoc01 (Folder→Doc01),
    SsFolderDoc01 (SS→FolderDoc01)
each given a urn:uuid id here, so the tests name them as a Document Administrator would.
"""
import uuid

import pytest
from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.errors import ErrorCode, Status
from profiles.model import Submission
from profiles.responses import read_registry_response
from profiles.vocabulary import LCM, RIM
from registry.removal import DELETE_ALL
from tests.profiles import samples
from tests.profiles.xml_support import assert_valid

from .queries.support import q, ql, read_answer, request
from .support import (  # noqa: F401  (fixtures)
    codes, database_url, fresh_submission, register_ok, registry_engine, relationship_submission, row_counts,
    service,
)

APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
ALL = ("SubmissionSet01", "Document01", "Document02", "Folder01",
       "SsDoc01", "SsDoc02", "SsFolder01", "FolderDoc01", "SsFolderDoc01")
DOC2_AND_MEMBERSHIP = ("Document02", "SsDoc02")


def with_uuids(submission: Submission) -> tuple[Submission, dict[str, str]]:
    """`submission` with every symbolic id replaced by a new urn:uuid, and the mapping."""
    ids = {obj.id: f"urn:uuid:{uuid.uuid4()}" for obj in submission.objects()}

    def renamed(objects):
        return tuple(o.with_changes(id=ids[o.id]) for o in objects)

    associations = tuple(a.with_changes(id=ids[a.id], source=ids.get(a.source, a.source),
                                        target=ids.get(a.target, a.target)) for a in submission.associations)
    return submission.with_changes(document_entries=renamed(submission.document_entries),
                                   submission_sets=renamed(submission.submission_sets),
                                   folders=renamed(submission.folders), associations=associations), ids


class Stored(dict):
    """symbolic id → urn:uuid of the registered sample; `.submission` is what was registered."""

    submission: Submission


@pytest.fixture
def stored(service) -> Stored:
    submission, ids = with_uuids(fresh_submission())
    register_ok(service, submission)
    found = Stored(ids)
    found.submission = submission
    return found


def remove_request(*ids: str, **attributes) -> etree._Element:
    root = etree.Element(f"{{{LCM}}}RemoveObjectsRequest", nsmap={"lcm": LCM, "rim": RIM}, **attributes)
    refs = etree.SubElement(root, f"{{{RIM}}}ObjectRefList")
    for entry_uuid in ids:
        etree.SubElement(refs, f"{{{RIM}}}ObjectRef", id=entry_uuid)
    return root


def remove(service, *ids: str, **attributes):
    body = remove_request(*ids, **attributes)
    assert_valid(body, "lcm")
    response = service.remove_metadata(body)
    assert_valid(response, "rs")
    return read_registry_response(response)


def errors(issues) -> list[tuple[str, str]]:
    return [(str(issue.code), issue.location) for issue in issues if issue.is_error]


def refused_unchanged(service, engine, *ids: str) -> list[tuple[str, str]]:
    """Remove `ids`, expect Failure and every table as it was; the (code, location) errors."""
    before = row_counts(engine)
    status, issues = remove(service, *ids)
    assert status is Status.FAILURE
    assert row_counts(engine) == before
    return errors(issues)


# --- a whole submission, and every row of it -------------------------------------------------

def test_removing_a_whole_submission_leaves_no_row_of_it(service, registry_engine, stored):
    assert remove(service, *(stored[name] for name in ALL)) == (Status.SUCCESS, [])
    left = {table: count for table, count in row_counts(registry_engine).items() if count}
    assert left == {"schema_version": 1}


def test_another_submission_keeps_every_row(service, registry_engine, stored):
    alone = row_counts(registry_engine)
    register_ok(service, with_uuids(fresh_submission())[0])
    both = row_counts(registry_engine)
    assert remove(service, *(stored[name] for name in ALL)) == (Status.SUCCESS, [])
    assert row_counts(registry_engine) == {t: both[t] - alone[t] + (t == "schema_version") for t in both}


def test_removed_objects_are_no_longer_found(service, stored):
    find = request("GetAll", "ObjectRef", **{"$patientId": q(samples.PATIENT_ID),
                                             "$XDSDocumentEntryStatus": ql(APPROVED),
                                             "$XDSSubmissionSetStatus": ql(APPROVED),
                                             "$XDSFolderStatus": ql(APPROVED)})
    assert set(stored.values()) <= set(read_answer(service.query(find)).ids)
    assert remove(service, *(stored[name] for name in DOC2_AND_MEMBERSHIP)) == (Status.SUCCESS, [])
    left = set(read_answer(service.query(find)).ids)
    assert stored["Document02"] not in left and stored["SsDoc02"] not in left
    assert {stored[n] for n in ALL if n not in DOC2_AND_MEMBERSHIP} <= left


# --- UnresolvedReferenceException ------------------------------------------------------------

def test_an_unknown_object_is_an_unresolved_reference_and_nothing_is_removed(service, registry_engine, stored):
    unknown = f"urn:uuid:{uuid.uuid4()}"
    found = refused_unchanged(service, registry_engine, *(stored[n] for n in DOC2_AND_MEMBERSHIP), unknown)
    assert found == [(ErrorCode.UNRESOLVED_REFERENCE, unknown)]


def test_a_symbolic_id_is_not_an_object_of_the_registry(service, registry_engine, stored):
    assert refused_unchanged(service, registry_engine, "Document02") == [(ErrorCode.UNRESOLVED_REFERENCE,
                                                                          "Document02")]


# --- ReferencesExistException: nothing may be left pointing at a removed object ---------------

def test_a_document_still_member_of_its_submission_set_cannot_be_removed(service, registry_engine, stored):
    found = refused_unchanged(service, registry_engine, stored["Document02"])
    assert found == [(ErrorCode.REFERENCES_EXIST, stored["Document02"])]


def test_a_submission_set_with_its_members_left_behind_cannot_be_removed(service, registry_engine, stored):
    found = refused_unchanged(service, registry_engine, stored["SubmissionSet01"])
    # SsDoc01, SsDoc02, SsFolder01, SsFolderDoc01 all start at it
    assert found == [(ErrorCode.REFERENCES_EXIST, stored["SubmissionSet01"])] * 4


def test_a_folder_membership_still_member_of_the_submission_set_cannot_be_removed(service, registry_engine,
                                                                                   stored):
    found = refused_unchanged(service, registry_engine, stored["FolderDoc01"])
    assert found == [(ErrorCode.REFERENCES_EXIST, stored["FolderDoc01"])]
    # removed together with the HasMember pointing at it, it goes
    assert remove(service, stored["FolderDoc01"], stored["SsFolderDoc01"]) == (Status.SUCCESS, [])


def test_a_replaced_document_cannot_be_removed_while_its_replacement_points_at_it(service, registry_engine,
                                                                                  stored):
    replacement = register_ok(service, relationship_submission("urn:ihe:iti:2007:AssociationType:RPLC",
                                                               stored["Document02"]))
    assert replacement
    found = refused_unchanged(service, registry_engine, *(stored[n] for n in DOC2_AND_MEMBERSHIP))
    assert found == [(ErrorCode.REFERENCES_EXIST, stored["Document02"])]


# --- XDSUnreferencedObjectException: nothing may be left without an Association ---------------

def test_removing_the_only_membership_of_a_document_is_refused(service, registry_engine, stored):
    found = refused_unchanged(service, registry_engine, stored["SsDoc02"])
    assert found == [(ErrorCode.UNREFERENCED_OBJECT, stored["Document02"])]


def test_a_submission_set_left_without_members_is_refused(service, registry_engine):
    submission, ids = with_uuids(fresh_submission(then=lambda s: s.with_changes(
        document_entries=s.document_entries[:1], folders=(),
        associations=(samples.has_member("SsDoc01", samples.SUBMISSION_SET, samples.DOCUMENT_1, "Original"),))))
    register_ok(service, submission)
    found = refused_unchanged(service, registry_engine, ids["Document01"], ids["SsDoc01"])
    assert found == [(ErrorCode.UNREFERENCED_OBJECT, ids["SubmissionSet01"])]
    assert remove(service, ids["Document01"], ids["SsDoc01"], ids["SubmissionSet01"]) == (Status.SUCCESS, [])


def test_every_problem_is_reported_at_once(service, registry_engine, stored):
    found = refused_unchanged(service, registry_engine, stored["Document01"], stored["SsDoc02"])
    assert sorted(found) == sorted([(ErrorCode.REFERENCES_EXIST, stored["Document01"])] * 2
                                   + [(ErrorCode.UNREFERENCED_OBJECT, stored["Document02"])])


# --- the request itself --------------------------------------------------------------------

def test_the_same_object_named_twice_is_removed_once(service, stored):
    ids = [stored[n] for n in DOC2_AND_MEMBERSHIP]
    assert remove(service, *ids, *ids) == (Status.SUCCESS, [])


def test_deletion_scope_delete_all_is_accepted_and_another_refused(service, registry_engine, stored):
    ids = [stored[n] for n in DOC2_AND_MEMBERSHIP]
    before = row_counts(registry_engine)
    other = "urn:oasis:names:tc:ebxml-regrep:DeletionScopeType:DeleteRepositoryItemOnly"
    status, issues = read_registry_response(service.remove_metadata(remove_request(*ids, deletionScope=other)))
    assert status is Status.FAILURE and codes(issues) == [ErrorCode.REGISTRY_ERROR] and "deletionScope" in \
        issues[0].context
    assert row_counts(registry_engine) == before
    assert remove(service, *ids, deletionScope=DELETE_ALL) == (Status.SUCCESS, [])


@pytest.mark.parametrize("build, says", [
    (lambda: remove_request(), "names no object"),
    (lambda: etree.Element(f"{{{LCM}}}SubmitObjectsRequest"), "expects lcm:RemoveObjectsRequest"),
    (lambda: _with_adhoc_query(remove_request("urn:uuid:00000000-0000-0000-0000-000000000001")), "AdhocQuery"),
])
def test_a_request_that_names_no_objects_by_object_ref_is_a_registry_error(service, build, says):
    status, issues = read_registry_response(service.remove_metadata(build()))
    assert status is Status.FAILURE and codes(issues) == [ErrorCode.REGISTRY_ERROR] and says in issues[0].context


def _with_adhoc_query(root: etree._Element) -> etree._Element:
    root.insert(0, etree.Element(f"{{{RIM}}}AdhocQuery", id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"))
    return root


def test_the_unique_ids_of_removed_objects_may_be_registered_again(service, stored):
    """Removed metadata is gone: its uniqueIds are no longer XDSDuplicateUniqueIdInRegistry."""
    again = with_uuids(stored.submission)[0]
    status, issues = read_registry_response(service.register(encode_submit_objects_request(again)))
    assert status is Status.FAILURE and ErrorCode.DUPLICATE_UNIQUE_ID_IN_REGISTRY in codes(issues)
    assert remove(service, *(stored[name] for name in ALL)) == (Status.SUCCESS, [])
    response = service.register(encode_submit_objects_request(again))
    assert read_registry_response(response) == (Status.SUCCESS, [])
