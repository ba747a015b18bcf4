"""ITI-38/39 screened by a DocumentAccess (profiles.access; xca_gateway.screening): hidden
DocumentEntries and ObjectRefs leave the answer with the Associations pointing at them, hidden
documents are not asked of the repository and are answered as unknown, a refused request
answers LocalPolicyRestrictionError located at the community."""
from __future__ import annotations

import pytest
from lxml import etree

from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RIM, XDSB
from tests.access_fake import CONTEXT, FakeAccess
from tests.profiles import samples
from xca_gateway.endpoints import CROSS_GATEWAY_QUERY, build_responding_router
from xca_gateway.responding import RespondingGateway
from xca_gateway.retrieve_set import REGISTRY_RESPONSE

from .support import (
    GET_DOCUMENTS, HOME, PATIENT, REPOSITORY, FakeRegistry, FakeRepository, adhoc_query, document_bytes,
    retrieve_request,
)

ENTRIES = samples.as_registry_metadata().document_entries
DOC_A, DOC_B = "2.16.578.1.12.4.1.7.1.101.9.1", "2.16.578.1.12.4.1.7.1.101.9.2"


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def repository() -> FakeRepository:
    return FakeRepository(REPOSITORY, {DOC_A: document_bytes(DOC_A), DOC_B: document_bytes(DOC_B)})


def gateway(registry, repository, access) -> RespondingGateway:
    return RespondingGateway(HOME, registry, {REPOSITORY: repository}, document_access=access)


def ids(response: etree._Element, tag: str) -> list[str]:
    return [e.get("id") for e in response.iterfind(f"{{{RIM}}}RegistryObjectList/{{{RIM}}}{tag}")]


def test_a_hidden_entry_leaves_with_its_associations(registry, repository):
    access = FakeAccess(hidden={ENTRIES[1].unique_id})
    response = gateway(registry, repository, access).cross_gateway_query(adhoc_query(), CONTEXT)
    assert ids(response, "ExtrinsicObject") == [ENTRIES[0].id]
    links = response.iterfind(f"{{{RIM}}}RegistryObjectList/{{{RIM}}}Association")
    assert all(ENTRIES[1].id not in (a.get("sourceObject"), a.get("targetObject")) for a in links)
    assert access.asked[0][2] == (PATIENT,)
    # the answer's one ObjectRef (not a document of this registry) was looked up, and stays
    assert registry.asked[1].find(f"{{{RIM}}}AdhocQuery").get("id") == GET_DOCUMENTS
    assert ids(response, "ObjectRef") == ["urn:uuid:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"]


def test_object_refs_are_judged_by_the_entries_the_registry_gives_for_them(registry, repository):
    registry.objects = [etree.Element(f"{{{RIM}}}ObjectRef", id=entry.id) for entry in ENTRIES]
    answers = iter([None])

    def query(request):
        registry.asked.append(request)
        if next(answers, "entries") is None:  # the ITI-38 itself: ObjectRefs
            return FakeRegistry(objects=registry.objects).query(request)
        return FakeRegistry().query(request)  # GetDocuments: the LeafClass entries

    registry.query = query
    access = FakeAccess(hidden={ENTRIES[0].unique_id})
    response = gateway(registry, repository, access).cross_gateway_query(adhoc_query(return_type="ObjectRef"),
                                                                          CONTEXT)
    assert ids(response, "ObjectRef") == [ENTRIES[1].id]
    get_documents = registry.asked[1].find(f"{{{RIM}}}AdhocQuery")
    assert get_documents.get("id") == GET_DOCUMENTS
    assert all(entry.id in get_documents.findtext(f".//{{{RIM}}}Value") for entry in ENTRIES)


def test_a_refused_query_answers_local_policy_restriction_at_the_community(registry, repository):
    access = FakeAccess(refusal="role HE may not access documents here")
    response = gateway(registry, repository, access).cross_gateway_query(adhoc_query(), CONTEXT)
    status, issues = read_registry_response(response)
    assert status is Status.FAILURE and ids(response, "ExtrinsicObject") == []
    assert [(i.code, i.context, i.location) for i in issues] == [
        (ErrorCode.LOCAL_POLICY_RESTRICTION, "role HE may not access documents here", HOME)]


def test_a_hidden_document_is_not_asked_of_its_repository_and_answered_as_unknown(registry, repository):
    access = FakeAccess(hidden={DOC_B})
    result = gateway(registry, repository, access).cross_gateway_retrieve(
        retrieve_request((HOME, REPOSITORY, DOC_A), (HOME, REPOSITORY, DOC_B)), CONTEXT)
    status, issues = read_registry_response(result.response.find(REGISTRY_RESPONSE))
    returned = [r.findtext(f"{{{XDSB}}}DocumentUniqueId") for r in result.response.iterfind(f"{{{XDSB}}}DocumentResponse")]
    assert status is Status.PARTIAL_SUCCESS and returned == [DOC_A]
    assert [(i.code, i.context, i.location) for i in issues] == [
        (ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, f"document uniqueId {DOC_B} is not in repository {REPOSITORY}", DOC_B)]
    assert [e.text for e in repository.asked[0].iter(f"{{{XDSB}}}DocumentUniqueId")] == [DOC_A]


def test_a_refused_retrieve_asks_no_repository(registry, repository):
    access = FakeAccess(refusal="purpose of use PAYMENT is not allowed for personnel")
    result = gateway(registry, repository, access).cross_gateway_retrieve(
        retrieve_request((HOME, REPOSITORY, DOC_A)), CONTEXT)
    status, issues = read_registry_response(result.response.find(REGISTRY_RESPONSE))
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.LOCAL_POLICY_RESTRICTION]
    assert repository.asked == [] and list(result.attachments) == []


def test_without_context_or_judging_nothing_is_screened(registry, repository):
    access = FakeAccess(hidden={e.unique_id for e in ENTRIES} | {DOC_A})
    node = gateway(registry, repository, access)
    assert len(ids(node.cross_gateway_query(adhoc_query()), "ExtrinsicObject")) == 2
    access.judging = False
    assert len(ids(node.cross_gateway_query(adhoc_query(), CONTEXT), "ExtrinsicObject")) == 2
    assert node.cross_gateway_retrieve(retrieve_request((HOME, REPOSITORY, DOC_A)), CONTEXT).attachments
    assert access.asked == []


def test_the_endpoint_passes_the_request_environ(registry, repository):
    from tests.soap.support import call_wsgi, request_bytes

    access = FakeAccess(refusal="no")
    router = build_responding_router(gateway(registry, repository, access))
    content_type, body = request_bytes(CROSS_GATEWAY_QUERY, adhoc_query())
    response = call_wsgi(router, body, content_type).message().body
    assert read_registry_response(response)[0] is Status.FAILURE and access.asked
