"""Responding Gateway logic with fake registry and repositories (ITI TF-2 3.38, 3.39)."""
from __future__ import annotations

import pytest
from lxml import etree

from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RIM, XDSB
from soap.mtom import normalize_content_id
from tests.profiles.xml_support import assert_valid
from xca_gateway.local import LocalActorUnavailable
from xca_gateway.responding import RespondingGateway, same_community
from xca_gateway.retrieve_set import REGISTRY_RESPONSE

from .support import (
    FIND_DOCUMENTS_MULTIPLE_PATIENTS,
    GET_DOCUMENTS,
    HOME,
    OTHER_HOME,
    REPOSITORY,
    SECOND_REPOSITORY,
    FakeRegistry,
    FakeRepository,
    adhoc_query,
    document_bytes,
    inline_documents,
    retrieve_request,
)

DOC_A, DOC_B, DOC_C = "2.16.578.1.12.4.1.7.1.101.9.1", "2.16.578.1.12.4.1.7.1.101.9.2", "2.16.578.1.12.4.1.7.1.101.9.3"


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def repositories() -> dict[str, FakeRepository]:
    return {
        REPOSITORY: FakeRepository(REPOSITORY, {DOC_A: document_bytes(DOC_A), DOC_B: document_bytes(DOC_B)}),
        SECOND_REPOSITORY: FakeRepository(SECOND_REPOSITORY, {DOC_C: document_bytes(DOC_C)}),
    }


@pytest.fixture
def gateway(registry, repositories) -> RespondingGateway:
    return RespondingGateway(HOME, registry, repositories)


def errors(response: etree._Element) -> list[Issue]:
    return read_registry_response(response)[1]


def codes(response: etree._Element) -> list[str]:
    return [str(issue.code) for issue in errors(response)]


# --- ITI-38 --------------------------------------------------------------------------------


def test_query_answer_has_home_on_every_returned_object(gateway):
    response = gateway.cross_gateway_query(adhoc_query())
    objects = list(response.find(f"{{{RIM}}}RegistryObjectList"))
    kinds = {etree.QName(o).localname for o in objects}
    assert kinds == {"ExtrinsicObject", "RegistryPackage", "Association", "ObjectRef"}
    assert all(o.get("home") == HOME for o in objects)
    assert read_registry_response(response)[0] is Status.SUCCESS
    assert_valid(response, "query")


def test_query_goes_to_the_registry_unchanged(gateway, registry):
    request = adhoc_query()
    gateway.cross_gateway_query(request)
    assert registry.asked == [request]


def test_nested_objects_keep_no_home(gateway):
    response = gateway.cross_gateway_query(adhoc_query())
    nested = response.findall(f".//{{{RIM}}}ExtrinsicObject/{{{RIM}}}Classification")
    assert nested and all(c.get("home") is None for c in nested)


def test_home_of_this_community_is_accepted(gateway):
    response = gateway.cross_gateway_query(adhoc_query(GET_DOCUMENTS, HOME, {"$XDSDocumentEntryUniqueId": "('1.2.3')"}))
    assert read_registry_response(response)[0] is Status.SUCCESS


def test_home_of_another_community_is_unknown_community(gateway, registry):
    response = gateway.cross_gateway_query(adhoc_query(home=OTHER_HOME))
    status, issues = read_registry_response(response)
    assert status is Status.FAILURE
    assert [(i.code, i.location) for i in issues] == [(ErrorCode.UNKNOWN_COMMUNITY, HOME)]
    assert OTHER_HOME in issues[0].context
    assert registry.asked == []
    assert_valid(response, "query")


def test_get_query_without_home_is_missing_home_community_id(gateway, registry):
    response = gateway.cross_gateway_query(adhoc_query(GET_DOCUMENTS, None, {"$XDSDocumentEntryUniqueId": "('1.2.3')"}))
    assert codes(response) == [ErrorCode.MISSING_HOME_COMMUNITY_ID]
    assert errors(response)[0].location == HOME
    assert registry.asked == []


@pytest.mark.parametrize("query_id", [
    "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",  # FindDocuments
    "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9",  # FindSubmissionSets
    "urn:uuid:958f3006-baad-4929-a4de-ff1114824431",  # FindFolders
    "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3",  # GetAll (has $patientId)
    "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492",  # FindDocumentsByReferenceId
])
def test_patient_queries_need_no_home(gateway, registry, query_id):
    gateway.cross_gateway_query(adhoc_query(query_id))
    assert len(registry.asked) == 1


def test_multiple_patient_query_is_not_a_cross_gateway_query(gateway, registry):
    response = gateway.cross_gateway_query(adhoc_query(FIND_DOCUMENTS_MULTIPLE_PATIENTS))
    assert codes(response) == [ErrorCode.UNKNOWN_STORED_QUERY]
    assert registry.asked == []


def test_bare_oid_home_names_the_same_community():
    assert same_community("urn:oid:1.2.3", " 1.2.3 ")
    assert not same_community("urn:oid:1.2.3", "urn:oid:1.2.30")


def test_registry_errors_get_the_community_as_location_when_they_have_none(gateway, registry):
    registry.issues = [Issue(ErrorCode.TOO_MANY_RESULTS, "too many"),
                       Issue(ErrorCode.UNKNOWN_PATIENT_ID, "who?", location="urn:uuid:x")]
    response = gateway.cross_gateway_query(adhoc_query())
    assert [i.location for i in errors(response)] == [HOME, "urn:uuid:x"]


def test_unreachable_registry_is_registry_not_available(gateway, registry):
    registry.error = LocalActorUnavailable("registry http://x: connection refused")
    response = gateway.cross_gateway_query(adhoc_query())
    assert codes(response) == [ErrorCode.REGISTRY_NOT_AVAILABLE]
    assert read_registry_response(response)[0] is Status.FAILURE


def test_registry_bug_is_registry_error_without_details(gateway, registry):
    registry.error = RuntimeError("secret stack detail")
    response = gateway.cross_gateway_query(adhoc_query())
    assert codes(response) == [ErrorCode.REGISTRY_ERROR]
    assert "secret" not in errors(response)[0].context


def test_wrong_body_is_registry_error(gateway):
    response = gateway.cross_gateway_query(etree.Element("{urn:x}Other"))
    assert codes(response) == [ErrorCode.REGISTRY_ERROR]


def test_gateway_without_registry_answers_registry_not_available(repositories):
    response = RespondingGateway(HOME, None, repositories).cross_gateway_query(adhoc_query())
    assert codes(response) == [ErrorCode.REGISTRY_NOT_AVAILABLE]


# --- ITI-39 --------------------------------------------------------------------------------


def documents_of(result) -> dict[str, bytes]:
    """DocumentUniqueId → bytes of the parts the response's xop:Includes name."""
    parts = {normalize_content_id(p.content_id): b"".join(p.chunks) for p in result.attachments}
    found = {}
    for response in result.response.iterchildren(f"{{{XDSB}}}DocumentResponse"):
        include = response.find(f"{{{XDSB}}}Document/{{http://www.w3.org/2004/08/xop/include}}Include")
        found[response.findtext(f"{{{XDSB}}}DocumentUniqueId")] = parts[normalize_content_id(include.get("href"))]
    return found


def status_of(result) -> tuple[Status, list[Issue]]:
    return read_registry_response(result.response.find(REGISTRY_RESPONSE))


def test_retrieve_from_two_repositories_merges_into_one_answer(gateway):
    result = gateway.cross_gateway_retrieve(retrieve_request(
        (HOME, REPOSITORY, DOC_A), (HOME, SECOND_REPOSITORY, DOC_C), (HOME, REPOSITORY, DOC_B)))
    assert status_of(result) == (Status.SUCCESS, [])
    assert documents_of(result) == {uid: document_bytes(uid) for uid in (DOC_A, DOC_B, DOC_C)}
    homes = [r.findtext(f"{{{XDSB}}}HomeCommunityId") for r in result.response.iterchildren(f"{{{XDSB}}}DocumentResponse")]
    assert homes == [HOME] * 3
    contents = {normalize_content_id(p.content_id): b"".join(p.chunks) for p in result.attachments}
    assert_valid(inline_documents(result.response, contents), "xdsb")


def test_content_ids_stay_distinct_across_repositories(gateway):
    result = gateway.cross_gateway_retrieve(retrieve_request((HOME, REPOSITORY, DOC_A), (HOME, SECOND_REPOSITORY, DOC_C)))
    ids = [normalize_content_id(p.content_id) for p in result.attachments]
    assert len(set(ids)) == 2
    assert documents_of(result)[DOC_C] == document_bytes(DOC_C)


def test_one_request_per_repository_without_home(gateway, repositories):
    gateway.cross_gateway_retrieve(retrieve_request((HOME, REPOSITORY, DOC_A), (HOME, REPOSITORY, DOC_B)))
    (asked,) = repositories[REPOSITORY].asked
    assert [r.findtext(f"{{{XDSB}}}DocumentUniqueId") for r in asked] == [DOC_A, DOC_B]
    assert asked.find(f".//{{{XDSB}}}HomeCommunityId") is None
    assert repositories[SECOND_REPOSITORY].asked == []


def test_missing_home_is_missing_home_community_id(gateway, repositories):
    result = gateway.cross_gateway_retrieve(retrieve_request((None, REPOSITORY, DOC_A)))
    status, issues = status_of(result)
    assert status is Status.FAILURE
    assert [(i.code, i.location) for i in issues] == [(ErrorCode.MISSING_HOME_COMMUNITY_ID, HOME)]
    assert result.attachments == [] and documents_of(result) == {}
    assert repositories[REPOSITORY].asked == []


def test_other_community_is_unknown_community(gateway):
    status, issues = status_of(gateway.cross_gateway_retrieve(retrieve_request((OTHER_HOME, REPOSITORY, DOC_A))))
    assert status is Status.FAILURE
    assert [i.code for i in issues] == [ErrorCode.UNKNOWN_COMMUNITY]


def test_unknown_repository_is_unknown_repository_id(gateway):
    status, issues = status_of(gateway.cross_gateway_retrieve(retrieve_request((HOME, "1.2.3.999", DOC_A))))
    assert [i.code for i in issues] == [ErrorCode.UNKNOWN_REPOSITORY_ID]
    assert "1.2.3.999" in issues[0].context


def test_known_and_unknown_mixed_is_partial_success(gateway):
    result = gateway.cross_gateway_retrieve(retrieve_request(
        (HOME, REPOSITORY, DOC_A), (OTHER_HOME, REPOSITORY, DOC_B), (HOME, REPOSITORY, "1.2.404")))
    status, issues = status_of(result)
    assert status is Status.PARTIAL_SUCCESS
    assert [(i.code, i.location) for i in issues] == [
        (ErrorCode.UNKNOWN_COMMUNITY, HOME), (ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, "1.2.404")]
    assert list(documents_of(result)) == [DOC_A]


def test_unreachable_repository_fails_its_documents_only(gateway, repositories):
    repositories[SECOND_REPOSITORY].error = LocalActorUnavailable("repository http://x: timed out")
    result = gateway.cross_gateway_retrieve(retrieve_request((HOME, REPOSITORY, DOC_A), (HOME, SECOND_REPOSITORY, DOC_C)))
    status, issues = status_of(result)
    assert status is Status.PARTIAL_SUCCESS
    assert [i.code for i in issues] == [ErrorCode.REPOSITORY_ERROR]
    assert SECOND_REPOSITORY in issues[0].context
    assert list(documents_of(result)) == [DOC_A]


def test_repository_bug_is_repository_error(gateway, repositories):
    repositories[REPOSITORY].error = KeyError("boom")
    status, issues = status_of(gateway.cross_gateway_retrieve(retrieve_request((HOME, REPOSITORY, DOC_A))))
    assert status is Status.FAILURE
    assert [i.code for i in issues] == [ErrorCode.REPOSITORY_ERROR]


def test_wrong_body_is_repository_error(gateway):
    status, issues = status_of(gateway.cross_gateway_retrieve(etree.Element("{urn:x}Other")))
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.REPOSITORY_ERROR]


def test_failure_answer_is_schema_valid(gateway):
    result = gateway.cross_gateway_retrieve(retrieve_request((None, REPOSITORY, DOC_A)))
    assert_valid(result.response, "xdsb")
