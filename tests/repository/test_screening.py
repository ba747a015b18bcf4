"""ITI-43 screened by a DocumentAccess (profiles.access): a document not allowed is answered
exactly as one this repository does not hold; a refused request returns nothing."""
import pytest

from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RS, XDSB
from tests.access_fake import CONTEXT, FakeAccess

from . import support
from .support import REPOSITORY_ID, make_node


@pytest.fixture
def node(tmp_path):
    return make_node(tmp_path)


@pytest.fixture
def uids(node):
    built = support.submission()
    assert node.provide(built, support.contents(built))[0] is Status.SUCCESS
    return [entry.unique_id for entry in built.document_entries]


def retrieve(node, uids, context=CONTEXT):
    result = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, u) for u in uids]), context)
    status, issues = read_registry_response(result.response.find(f"{{{RS}}}RegistryResponse"))
    returned = [r.findtext(f"{{{XDSB}}}DocumentUniqueId") for r in result.response.iterfind(f"{{{XDSB}}}DocumentResponse")]
    return status, issues, returned, result.attachments


def test_a_hidden_document_is_answered_as_an_unknown_one(node, uids):
    node.service.document_access = access = FakeAccess(hidden={uids[1]})
    unknown = "2.25.424242"
    status, issues, returned, attachments = retrieve(node, [*uids, unknown])
    assert status is Status.PARTIAL_SUCCESS and returned == [uids[0]] and len(attachments) == 1
    hidden, absent = issues
    assert (hidden.code, hidden.location) == (ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, uids[1])
    assert hidden.context.replace(uids[1], "X") == absent.context.replace(unknown, "X")
    assert access.asked == [("retrievable", sorted(uids))]  # only what the index holds is judged


def test_a_refused_retrieve_returns_nothing_even_for_unknown_documents(node, uids):
    node.service.document_access = FakeAccess(refusal="purpose of use PAYMENT is not allowed")
    for asked in (uids, ["2.25.424242"]):
        status, issues, returned, _ = retrieve(node, asked)
        assert status is Status.FAILURE and returned == []
        assert [(i.code, i.context) for i in issues] == [(ErrorCode.LOCAL_POLICY_RESTRICTION,
                                                          "purpose of use PAYMENT is not allowed")]


def test_no_context_or_no_judging_leaves_retrieve_as_it_was(node, uids):
    node.service.document_access = access = FakeAccess(hidden=set(uids))
    assert retrieve(node, uids, context=None)[2] == uids
    access.judging = False
    assert retrieve(node, uids)[2] == uids
    assert access.asked == []


def test_the_endpoint_passes_the_request_environ(node, uids):
    from repository.actions import RETRIEVE
    from tests.soap.support import call_wsgi, request_bytes

    node.service.document_access = access = FakeAccess(hidden={uids[0]})
    content_type, body = request_bytes(RETRIEVE, support.retrieve_request([(REPOSITORY_ID, uids[0])]))
    response = call_wsgi(node.router, body, content_type).message().body
    assert read_registry_response(response.find(f"{{{RS}}}RegistryResponse"))[0] is Status.FAILURE
    assert access.asked == [("retrievable", [uids[0]])]
