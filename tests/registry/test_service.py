"""registry.service: ITI-42 end to end without SOAP (decode → rules → checks → one transaction)
and ITI-18 delegation, on SQLite and PostgreSQL. A Failure stores nothing: every rejecting
test compares row counts of every table before and after."""
import logging
import threading

import pytest
from lxml import etree
from sqlalchemy import select

from profiles.catalog import load_profile
from profiles.ebrim import decode_registry_object_list, encode_submit_objects_request
from profiles.errors import ErrorCode, Issue, Severity, Status
from profiles.ihe.common import is_uuid_urn
from profiles.responses import adhoc_query_response, read_registry_response
from profiles.rules import Profile, Transaction, ValidationContext, rule
from profiles.vocabulary import QUERY, RIM, AssociationType, AvailabilityStatus
from registry.service import RegistryService
from registry.store import open_engine
from registry.store.schema import folder as folder_table
from tests.profiles import samples
from tests.profiles.xml_support import assert_valid

from .support import (  # noqa: F401  (fixtures)
    SAMPLE_DOMAIN, codes, database_url, fresh_submission, make_service, register, register_ok,
    registry_engine, relationship_submission, row_counts, service, status_of, stored_xml, uuid_of,
)

APPROVED = AvailabilityStatus.APPROVED.value
DEPRECATED = AvailabilityStatus.DEPRECATED.value


def test_valid_submission_is_stored_approved_with_registry_ids(service, registry_engine):
    response = service.register(encode_submit_objects_request(fresh_submission()))
    assert_valid(response, "rs")
    assert read_registry_response(response) == (Status.SUCCESS, [])
    counts = row_counts(registry_engine)
    assert counts["registry_object"] == 9 and counts["document_entry"] == 2 and counts["association"] == 5
    objects = stored_xml(registry_engine)
    for element in objects:
        assert is_uuid_urn(element.get("id")) and element.get("lid") == element.get("id")
        assert element.get("status") == APPROVED
    ids = {element.get("id") for element in objects}
    for association in (e for e in objects if e.tag == f"{{{RIM}}}Association"):
        assert association.get("sourceObject") in ids and association.get("targetObject") in ids


def test_stored_metadata_is_valid_registry_metadata(service, registry_engine):
    register_ok(service, fresh_submission())
    answer = adhoc_query_response([], [etree.tostring(e) for e in stored_xml(registry_engine)])
    assert_valid(answer, "query")
    stored, issues = decode_registry_object_list(answer.find(f"{{{RIM}}}RegistryObjectList"))
    assert [i for i in issues if i.is_error] == []
    assert load_profile("ihe").validate(stored, ValidationContext(Transaction.QUERY_RESPONSE)) == []
    assert all(d.version_name == "1" for d in stored.document_entries)


def test_new_folder_gets_last_update_time(registry_engine):
    service = make_service(registry_engine, clock=lambda: "20240229120000")
    register_ok(service, fresh_submission())
    with registry_engine.connect() as conn:
        assert conn.execute(select(folder_table.c.last_update_time)).scalars().all() == ["20240229120000"]


def test_wrong_body_element_is_a_registry_error(service, registry_engine):
    before = row_counts(registry_engine)
    response = service.register(etree.Element(f"{{{QUERY}}}AdhocQueryRequest"))
    status, issues = read_registry_response(response)
    assert status is Status.FAILURE and codes(issues) == ["XDSRegistryError"]
    assert "SubmitObjectsRequest" in issues[0].context
    assert row_counts(registry_engine) == before


def test_metadata_errors_fail_and_store_nothing_reporting_all(service, registry_engine):
    before = row_counts(registry_engine)
    submission = fresh_submission(doc=lambda d: d.with_changes(creation_time="2005122"),
                                  doc2=lambda d: d.with_changes(patient_id=samples.OTHER_PATIENT_ID))
    status, issues = register(service, submission)
    assert status is Status.FAILURE
    assert set(codes(issues)) == {"XDSRegistryMetadataError", "XDSPatientIdDoesNotMatch"}
    assert row_counts(registry_engine) == before


def test_registry_state_errors_fail_and_store_nothing(service, registry_engine):
    first = register_ok(service, fresh_submission())
    before = row_counts(registry_engine)
    again = fresh_submission(submission_set=lambda s: s.with_changes(unique_id=first.submission_set.unique_id),
                             doc2=lambda d: d.with_changes(unique_id=first.document_entries[1].unique_id,
                                                           size="999"))
    status, issues = register(service, again)
    assert status is Status.FAILURE
    assert codes(issues) == ["XDSNonIdenticalSize", "XDSDuplicateUniqueIdInRegistry"]
    assert row_counts(registry_engine) == before


def test_unknown_patient_fails(registry_engine):
    service = make_service(registry_engine, domains=("1.2.3.4.5",))
    status, issues = register(service, fresh_submission())
    assert status is Status.FAILURE and codes(issues) == ["XDSUnknownPatientId"]
    assert row_counts(registry_engine)["registry_object"] == 0


@rule("test.always-warns")
def _warns(submission, context):
    yield Issue(ErrorCode.EXTRA_METADATA_NOT_SAVED, "a warning for the test", Severity.WARNING)


def test_warnings_do_not_fail_and_are_reported(registry_engine):
    profile = Profile("warning", load_profile("ihe").rules + (_warns,))
    service = RegistryService(registry_engine, profile, patient_domains=(SAMPLE_DOMAIN,))
    status, issues = register(service, fresh_submission())
    assert status is Status.SUCCESS
    assert [(str(i.code), i.severity) for i in issues] == [("XDSExtraMetadataNotSaved", Severity.WARNING)]
    assert row_counts(registry_engine)["registry_object"] == 9


@pytest.mark.parametrize("kind", [AssociationType.REPLACE, AssociationType.TRANSFORM_AND_REPLACE])
def test_replacing_relationships_deprecate_the_original(service, registry_engine, kind):
    original = register_ok(service, fresh_submission())
    target = uuid_of(registry_engine, original)
    replacement = register_ok(service, relationship_submission(kind, target))
    assert status_of(registry_engine, target) == DEPRECATED
    assert status_of(registry_engine, uuid_of(registry_engine, replacement)) == APPROVED
    assert status_of(registry_engine, uuid_of(registry_engine, original, 1)) == APPROVED
    stored = {e.get("id"): e for e in stored_xml(registry_engine)}
    assert stored[target].get("status") == DEPRECATED  # the stored XML says so too


@pytest.mark.parametrize("kind", [AssociationType.APPEND, AssociationType.TRANSFORM, AssociationType.SIGNS])
def test_other_relationships_leave_the_original_approved(service, registry_engine, kind):
    original = register_ok(service, fresh_submission())
    target = uuid_of(registry_engine, original)
    register_ok(service, relationship_submission(kind, target))
    assert status_of(registry_engine, target) == APPROVED


def test_replacement_also_deprecates_the_originals_addenda(service, registry_engine):
    target = uuid_of(registry_engine, register_ok(service, fresh_submission()))
    addendum = register_ok(service, relationship_submission(AssociationType.APPEND, target))
    register_ok(service, relationship_submission(AssociationType.REPLACE, target))
    assert status_of(registry_engine, uuid_of(registry_engine, addendum)) == DEPRECATED


def test_replacing_a_replaced_document_fails_and_stores_nothing(service, registry_engine):
    target = uuid_of(registry_engine, register_ok(service, fresh_submission()))
    register_ok(service, relationship_submission(AssociationType.REPLACE, target))
    before = row_counts(registry_engine)
    status, issues = register(service, relationship_submission(AssociationType.REPLACE, target))
    assert status is Status.FAILURE and codes(issues) == ["XDSRegistryDeprecatedDocumentError"]
    assert row_counts(registry_engine) == before


def test_database_failure_is_a_registry_error_and_logged(tmp_path, caplog):
    engine = open_engine(f"sqlite:///{tmp_path / 'no-schema.sqlite3'}")  # tables never created
    service = make_service(engine)
    with caplog.at_level(logging.ERROR, logger="registry.service"):
        status, issues = register(service, fresh_submission())
    assert status is Status.FAILURE and codes(issues) == ["XDSRegistryError"]
    assert "Traceback" not in issues[0].context and "no such table" not in issues[0].context
    assert any("nothing was stored" in r.getMessage() for r in caplog.records)


def test_failure_while_storing_rolls_back_everything(service, registry_engine, monkeypatch):
    target = uuid_of(registry_engine, register_ok(service, fresh_submission()))
    before = row_counts(registry_engine)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("registry.service.set_status", broken)  # after the insert, before commit
    status, issues = register(service, relationship_submission(AssociationType.REPLACE, target))
    assert status is Status.FAILURE and codes(issues) == ["XDSRegistryError"]
    assert row_counts(registry_engine) == before
    assert status_of(registry_engine, target) == APPROVED


def test_concurrent_submissions_of_one_unique_id_store_exactly_one(registry_engine):
    service = make_service(registry_engine)
    submission = fresh_submission()
    results: list[Status] = []

    def submit():
        results.append(register(service, submission)[0])

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted([Status.SUCCESS] + [Status.FAILURE] * 3)
    assert row_counts(registry_engine)["submission_set"] == 1


# --- ITI-18 ---------------------------------------------------------------------------------

def test_query_runs_the_stored_query_in_a_read_connection(registry_engine, monkeypatch):
    seen = {}

    def answer(conn, request, options):
        seen.update(conn=conn, request=request, options=options)
        return adhoc_query_response([], [])

    monkeypatch.setattr("registry.queries.answer_stored_query", answer)
    service = make_service(registry_engine, query_result_limit=7, home_community_id="urn:oid:1.2.3")
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest")
    response = service.query(request)
    assert response.tag == f"{{{QUERY}}}AdhocQueryResponse"
    assert seen["request"] is request
    assert (seen["options"].result_limit, seen["options"].home_community_id) == (7, "urn:oid:1.2.3")


def test_query_with_wrong_body_is_a_registry_error(service):
    response = service.query(etree.Element("{urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0}SubmitObjectsRequest"))
    assert_valid(response, "query")
    status, issues = read_registry_response(response)
    assert status is Status.FAILURE and codes(issues) == ["XDSRegistryError"]


def test_query_failure_is_a_registry_error(service, monkeypatch):
    def broken(conn, request, options):
        raise RuntimeError("boom")

    monkeypatch.setattr("registry.queries.answer_stored_query", broken)
    status, issues = read_registry_response(service.query(etree.Element(f"{{{QUERY}}}AdhocQueryRequest")))
    assert status is Status.FAILURE and codes(issues) == ["XDSRegistryError"]


# --- Folders --------------------------------------------------------------------------------

def _folder_uuid(engine, submission):
    from registry.store import find_by_unique_ids

    with engine.connect() as conn:
        return find_by_unique_ids(conn, None, [submission.folders[0].unique_id])[0].entry_uuid


def _folder_time(engine, folder_uuid):
    with engine.connect() as conn:
        column = conn.execute(select(folder_table.c.last_update_time)
                              .where(folder_table.c.entry_uuid == folder_uuid)).scalar_one()
    xml = next(e for e in stored_xml(engine) if e.get("id") == folder_uuid)
    slot = xml.find(f"{{{RIM}}}Slot[@name='lastUpdateTime']/{{{RIM}}}ValueList/{{{RIM}}}Value")
    return column, slot.text


def _file_into(folder_uuid):
    def shape(submission):
        return submission.with_changes(document_entries=submission.document_entries[:1], folders=(), associations=(
            samples.has_member("SsDoc01", samples.SUBMISSION_SET, samples.DOCUMENT_1, "Original"),
            samples.has_member("FolDoc", folder_uuid, samples.DOCUMENT_1),
            samples.has_member("SsFolDoc", samples.SUBMISSION_SET, "FolDoc")))
    return shape


def test_existing_folder_gaining_a_document_gets_a_new_last_update_time(registry_engine):
    times = iter(["20240101000000", "20240202000000"])
    service = make_service(registry_engine, clock=lambda: next(times))
    folder_uuid = _folder_uuid(registry_engine, register_ok(service, fresh_submission()))
    assert _folder_time(registry_engine, folder_uuid) == ("20240101000000", "20240101000000")
    register_ok(service, fresh_submission(then=_file_into(folder_uuid)))
    assert _folder_time(registry_engine, folder_uuid) == ("20240202000000", "20240202000000")
    answer = adhoc_query_response([], [etree.tostring(e) for e in stored_xml(registry_engine)])
    assert_valid(answer, "query")


def test_replacement_joins_the_originals_folders(registry_engine):
    times = iter(["20240101000000", "20240303000000"])
    service = make_service(registry_engine, clock=lambda: next(times))
    original = register_ok(service, fresh_submission())  # Document01 is filed in Folder01
    folder_uuid, target = _folder_uuid(registry_engine, original), uuid_of(registry_engine, original)
    replacement = register_ok(service, relationship_submission(AssociationType.REPLACE, target))
    new_uuid = uuid_of(registry_engine, replacement)
    from registry.store import associations_touching

    with registry_engine.connect() as conn:
        members = [(a.source, a.target, a.status) for a in associations_touching(conn, [folder_uuid])]
    assert (folder_uuid, new_uuid, APPROVED) in members
    assert (folder_uuid, target, APPROVED) in members  # the membership stays; the document is deprecated
    assert _folder_time(registry_engine, folder_uuid)[0] == "20240303000000"


def test_replacement_of_an_unfiled_document_adds_no_membership(service, registry_engine):
    original = register_ok(service, fresh_submission())
    target = uuid_of(registry_engine, original, 1)  # Document02 is in no Folder
    before = row_counts(registry_engine)["association"]
    register_ok(service, relationship_submission(AssociationType.APPEND, uuid_of(registry_engine, original)))
    register_ok(service, relationship_submission(AssociationType.REPLACE, target))
    assert row_counts(registry_engine)["association"] == before + 4
