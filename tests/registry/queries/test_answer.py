"""answer_stored_query end to end: every query of the table has its function, request problems
come back as schema-valid Failure responses, warnings ride along with a Success."""
from __future__ import annotations

from profiles.errors import ErrorCode
from profiles.stored_queries import STORED_QUERIES
from registry.queries import QUERIES
from tests.registry.store.builders import PATIENT, document

from .support import APPROVED, q, ql, request

DE = "$XDSDocumentEntry"


def test_every_stored_query_has_its_function():
    assert sorted(QUERIES) == sorted(d.name for d in STORED_QUERIES)


def test_request_problems_are_failures_without_objects(reg):
    unknown = request("FindDocuments", **{DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)})
    unknown.find("{*}AdhocQuery").set("id", "urn:uuid:00000000-0000-0000-0000-000000000000")
    answer = reg.ask_element(unknown)
    assert answer.status.name == "FAILURE" and answer.codes == [ErrorCode.UNKNOWN_STORED_QUERY]
    assert answer.ids == []
    missing = reg.ask("FindDocuments", **{DE + "PatientId": q(PATIENT)})
    assert missing.status.name == "FAILURE" and missing.codes == [ErrorCode.STORED_QUERY_MISSING_PARAM]
    wrong_type = reg.ask("FindDocuments", "RegistryObject", **{DE + "PatientId": q(PATIENT),
                                                               DE + "Status": ql(APPROVED)})
    assert wrong_type.codes == [ErrorCode.REGISTRY_ERROR]


def test_nothing_found_is_a_success_with_an_empty_list(reg):
    answer = reg.ask("FindDocuments", **{DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)})
    assert answer.ok and answer.ids == []
    assert answer.element.find("{*}RegistryErrorList") is None
    assert answer.element.find("{*}RegistryObjectList") is not None


def test_warnings_ride_along_with_the_objects(reg):
    doc = document()
    reg.submit(doc)
    answer = reg.ask("GetDocuments", "ObjectRef", **{DE + "EntryUUID": ql(doc.id), "$Unknown": q("x")})
    assert answer.status.name == "SUCCESS" and answer.ids == [doc.id]
    assert answer.codes == [ErrorCode.REGISTRY_ERROR] and answer.severities == ["WARNING"]


def test_a_limit_failure_keeps_the_warnings(reg):
    docs = [document(), document()]
    reg.submit(*docs)
    answer = reg.ask("GetDocuments", options={"result_limit": 1},
                     **{DE + "EntryUUID": ql(*(d.id for d in docs)), "$Unknown": q("x")})
    assert answer.codes == [ErrorCode.REGISTRY_ERROR, ErrorCode.TOO_MANY_RESULTS]
    assert answer.severities == ["WARNING", "ERROR"] and answer.status.name == "FAILURE"
