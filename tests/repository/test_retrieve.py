"""ITI-43 Retrieve Document Set (ITI TF-2 3.43.4.1.3) and ITI-86 Remove Documents (RMD 3.86.4.1.3)."""
import base64
import copy

import pytest
from lxml import etree

from profiles.errors import Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RS, XDSB
from repository.actions import REMOVE_DOCUMENTS, RETRIEVE
from repository.requests import RETRIEVE_RESPONSE
from soap.mtom import XOP_INCLUDE, normalize_content_id
from tests.soap.support import call_wsgi, request_bytes

from . import support
from .support import OTHER_REPOSITORY_ID, REPOSITORY_ID, codes, joined, make_node

HOME = "urn:oid:1.2.3.4.5"


@pytest.fixture
def node(tmp_path):
    return make_node(tmp_path)


@pytest.fixture
def stored(node):
    """Two documents provided: {uniqueId: bytes}."""
    built = support.submission()
    documents = support.contents(built)
    assert node.provide(built, documents)[0] is Status.SUCCESS
    return {entry.unique_id: documents[entry.id] for entry in built.document_entries}


def status_of(response: etree._Element):
    return read_registry_response(response.find(f"{{{RS}}}RegistryResponse"))


def document_responses(response: etree._Element) -> list[etree._Element]:
    return list(response.iterchildren(f"{{{XDSB}}}DocumentResponse"))


def field(element: etree._Element, name: str) -> str | None:
    return element.findtext(f"{{{XDSB}}}{name}")


def test_retrieve_one_document(node, stored):
    uid, data = next(iter(stored.items()))
    response, attachments = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, uid)]))
    assert response.tag == RETRIEVE_RESPONSE
    assert status_of(response) == (Status.SUCCESS, [])
    [answer] = document_responses(response)
    assert (field(answer, "RepositoryUniqueId"), field(answer, "DocumentUniqueId")) == (REPOSITORY_ID, uid)
    assert field(answer, "mimeType") == "text/xml" and field(answer, "HomeCommunityId") is None
    include = answer.find(f"{{{XDSB}}}Document/{XOP_INCLUDE}")
    [attachment] = attachments
    assert normalize_content_id(include.get("href")) == attachment.content_id
    assert (attachment.size, attachment.content_type) == (len(data), "text/xml")
    assert joined(attachment) == data


def test_retrieve_several_documents_in_request_order(node, stored):
    uids = list(stored)[::-1]
    response, attachments = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, u) for u in uids]))
    assert status_of(response)[0] is Status.SUCCESS
    assert [field(a, "DocumentUniqueId") for a in document_responses(response)] == uids
    assert [joined(a) for a in attachments] == [stored[u] for u in uids]


def test_known_and_unknown_is_partial_success(node, stored):
    uid = next(iter(stored))
    response, attachments = node.service.retrieve(
        support.retrieve_request([(REPOSITORY_ID, uid), (REPOSITORY_ID, "1.2.3.404")]))
    status, issues = status_of(response)
    assert (status, codes(issues)) == (Status.PARTIAL_SUCCESS, ["XDSDocumentUniqueIdError"])
    assert issues[0].location == "1.2.3.404" and "1.2.3.404" in issues[0].context
    assert len(document_responses(response)) == 1 and len(attachments) == 1


def test_only_unknown_is_failure(node, stored):
    response, attachments = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, "1.2.3.404")]))
    assert status_of(response)[0] is Status.FAILURE
    assert document_responses(response) == [] and attachments == ()


def test_other_repository_is_unknown_repository_id(node, stored):
    uid = next(iter(stored))
    response, _ = node.service.retrieve(support.retrieve_request([(OTHER_REPOSITORY_ID, uid)]))
    status, issues = status_of(response)
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSUnknownRepositoryId"])
    assert issues[0].location == uid and OTHER_REPOSITORY_ID in issues[0].context


def test_home_community_id_is_echoed(node, stored):
    uid = next(iter(stored))
    response, _ = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, uid, HOME)]))
    assert field(document_responses(response)[0], "HomeCommunityId") == HOME


def test_request_of_another_kind_is_a_failure(node):
    response, _ = node.service.retrieve(etree.Element(f"{{{XDSB}}}Nothing"))
    assert codes(status_of(response)[1]) == ["XDSRepositoryError"]


def test_document_request_without_unique_id(node):
    request = support.retrieve_request([(REPOSITORY_ID, "x")])
    request[0].remove(request[0][-1])
    response, _ = node.service.retrieve(request)
    assert codes(status_of(response)[1]) == ["XDSDocumentUniqueIdError"]


def test_indexed_document_whose_blob_is_gone_is_a_repository_error(node, stored):
    uid = next(iter(stored))
    node.store.delete(node.service.index.get(uid).blob_key)
    response, _ = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, uid)]))
    assert codes(status_of(response)[1]) == ["XDSRepositoryError"]


def test_blobs_are_opened_only_while_the_response_is_sent(node, stored, monkeypatch):
    opened = []
    original = node.store.open
    monkeypatch.setattr(node.store, "open", lambda key: opened.append(key) or original(key))
    _, attachments = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, u) for u in stored]))
    assert opened == []
    joined(attachments[0])
    assert len(opened) == 1


def test_retrieve_messages_are_schema_valid(node, stored):
    from tests.profiles.xml_support import assert_valid

    request = support.retrieve_request([(REPOSITORY_ID, u, HOME) for u in stored] + [(REPOSITORY_ID, "1.2.404")])
    assert_valid(request, "xdsb")
    response, attachments = node.service.retrieve(request)
    inline = copy.deepcopy(response)  # the XOP infoset: each include replaced by its content
    for document, attachment in zip(inline.iter(f"{{{XDSB}}}Document"), attachments):
        document.remove(document[0])
        document.text = base64.b64encode(joined(attachment)).decode()
    assert_valid(inline, "xdsb")


@pytest.mark.parametrize("mtom", [True, False])
def test_retrieve_through_the_router_is_answered_as_mtom(node, stored, mtom):
    uids = list(stored)
    content_type, raw = request_bytes(RETRIEVE, support.retrieve_request([(REPOSITORY_ID, u) for u in uids]),
                                      mtom=mtom)
    result = call_wsgi(node.router, raw, content_type)
    assert result.status == 200 and result.content_type.startswith("multipart/related")
    message = result.message()
    documents = [message.xop.content_of(d).read_bytes() for d in message.body.iter(f"{{{XDSB}}}Document")]
    assert documents == [stored[u] for u in uids]


# --- ITI-86 -----------------------------------------------------------------------------


def test_remove_documents(node, stored):
    uids = list(stored)
    response = node.service.remove_documents(support.remove_request([(REPOSITORY_ID, u) for u in uids]))
    assert read_registry_response(response) == (Status.SUCCESS, [])
    assert node.store.blobs == {} and node.service.index.count() == 0
    again, _ = node.service.retrieve(support.retrieve_request([(REPOSITORY_ID, uids[0])]))
    assert codes(status_of(again)[1]) == ["XDSDocumentUniqueIdError"]


def test_remove_known_and_unknown_is_partial_success(node, stored):
    uid = next(iter(stored))
    response = node.service.remove_documents(
        support.remove_request([(REPOSITORY_ID, uid), (REPOSITORY_ID, "1.2.3.404")]))
    status, issues = read_registry_response(response)
    assert (status, codes(issues)) == (Status.PARTIAL_SUCCESS, ["XDSDocumentUniqueIdError"])
    assert issues[0].location == "1.2.3.404"
    assert node.service.index.count() == 1 and len(node.store.blobs) == 1


def test_remove_unknown_only_is_failure(node, stored):
    response = node.service.remove_documents(support.remove_request([(REPOSITORY_ID, "1.2.3.404")]))
    assert read_registry_response(response)[0] is Status.FAILURE
    assert node.service.index.count() == 2


def test_remove_from_another_repository_is_unknown_repository_id(node, stored):
    uid = next(iter(stored))
    response = node.service.remove_documents(support.remove_request([(OTHER_REPOSITORY_ID, uid)]))
    status, issues = read_registry_response(response)
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSUnknownRepositoryId"])
    assert node.service.index.count() == 2


def test_remove_when_the_store_cannot_delete_warns(node, stored, monkeypatch):
    def broken(_key):
        raise OSError("read-only")

    monkeypatch.setattr(node.store, "delete", broken)
    uid = next(iter(stored))
    status, issues = read_registry_response(node.service.remove_documents(
        support.remove_request([(REPOSITORY_ID, uid)])))
    assert status is Status.SUCCESS and [str(i.code) for i in issues] == ["XDSRepositoryError"]
    assert not issues[0].is_error and node.service.index.get(uid) is None


def test_remove_request_is_schema_valid_and_served_by_the_router(node, stored):
    from tests.profiles.xml_support import assert_valid

    request = support.remove_request([(REPOSITORY_ID, u) for u in stored])
    assert_valid(request, "rmd")
    content_type, raw = request_bytes(REMOVE_DOCUMENTS, request)
    result = call_wsgi(node.router, raw, content_type)
    body = result.message().body
    assert_valid(body, "rs")
    assert read_registry_response(body)[0] is Status.SUCCESS
    assert node.store.blobs == {}
