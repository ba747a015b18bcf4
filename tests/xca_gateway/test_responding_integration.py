"""The Responding Gateway of a real `xdsno serve` node over loopback (ITI TF-2 3.38, 3.39).

One health enterprise (registry + repository + xca_responding, Norwegian profile, synthetic
Test-Norge patients): documents are published with ITI-41 into its repository, then asked for
through its Responding Gateway with ITI-38 and ITI-39. Every message sent and received is
checked against the IHE schemas when ../shared has them.
"""
from __future__ import annotations

import hashlib

import pytest
from lxml import etree

from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RIM, RS, XDSB
from scripts.federation_check import entries, find_documents, retrieve_request
from scripts.federation_data import ENTERPRISES, EPIKRISE, LUNGE, NOTAT, PATIENTS, provide_and_register_request
from soap.client import SoapClient
from tests.profiles.xml_support import assert_valid
from tests.server import running_server
from tests.xca_gateway.support import inline_documents

CROSS_GATEWAY_QUERY = "urn:ihe:iti:2007:CrossGatewayQuery"
CROSS_GATEWAY_RETRIEVE = "urn:ihe:iti:2007:CrossGatewayRetrieve"
PROVIDE_AND_REGISTER = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
NORD = ENTERPRISES[0]
PATIENT, OTHER_PATIENT = PATIENTS[0], PATIENTS[1]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("enterprise") / "data"
    args = ["--profile", "norway", "--home-community-id", NORD.home_community_id,
            "--repository-unique-id", NORD.repository_unique_id,
            "--actor", "registry", "--actor", "repository", "--actor", "xca_responding"]
    with running_server(data_dir, *args, env={"XDSNO_ALLOW_SYNTHETIC_PERSONS": "true"}) as server:
        yield server


@pytest.fixture(scope="module")
def published(node) -> dict[str, bytes]:
    """Three documents for PATIENT and one for OTHER_PATIENT: uniqueId → bytes."""
    documents = {}
    with SoapClient(node.url("/repository"), timeout=30) as client:
        for patient, specs in ((PATIENT, (EPIKRISE, NOTAT, LUNGE)), (OTHER_PATIENT, (NOTAT,))):
            body, attachments, submission = provide_and_register_request(NORD, patient, specs)
            reply = client.call(PROVIDE_AND_REGISTER, body, attachments=attachments, mtom=True).raise_for_fault()
            assert read_registry_response(reply.body) == (Status.SUCCESS, [])
            for entry, part in zip(submission.document_entries, attachments):
                documents[entry.unique_id] = b"".join(part.chunks)
    return documents


@pytest.fixture
def gateway(node):
    with SoapClient(node.url("/xca"), timeout=30) as client:
        yield client


def query(gateway, request: etree._Element) -> etree._Element:
    assert_valid(request, "query")
    reply = gateway.call(CROSS_GATEWAY_QUERY, request).raise_for_fault()
    assert not reply.is_mtom  # ITI-38 is plain SOAP (ITI TF-2 3.38.5)
    assert reply.addressing.action == "urn:ihe:iti:2007:CrossGatewayQueryResponse"
    assert_valid(reply.body, "query")
    return reply.body


def retrieve(gateway, items: list[dict[str, str]]):
    request = retrieve_request(items)
    assert_valid(request, "xdsb")
    reply = gateway.call(CROSS_GATEWAY_RETRIEVE, request, mtom=True).raise_for_fault()
    assert reply.is_mtom  # ITI-39 is MTOM both ways (ITI TF-2 3.39.5)
    assert reply.addressing.action == "urn:ihe:iti:2007:CrossGatewayRetrieveResponse"
    contents = {}
    for document in reply.body.iterfind(f"{{{XDSB}}}DocumentResponse/{{{XDSB}}}Document"):
        href = document[0].get("href")[4:]
        contents[href] = reply.content_of(document).read_bytes()
    assert_valid(inline_documents(reply.body, contents), "xdsb")
    return reply


def document_bytes(reply) -> dict[str, bytes]:
    return {r.findtext(f"{{{XDSB}}}DocumentUniqueId"): reply.content_of(r.find(f"{{{XDSB}}}Document")).read_bytes()
            for r in reply.body.iterfind(f"{{{XDSB}}}DocumentResponse")}


def test_find_documents_labels_every_object_with_the_community(gateway, published):
    response = query(gateway, find_documents(PATIENT.patient_id))
    assert read_registry_response(response) == (Status.SUCCESS, [])
    found = entries(response)
    assert len(found) == 3
    assert {doc["home"] for doc in found} == {NORD.home_community_id}
    assert {doc["repository"] for doc in found} == {NORD.repository_unique_id}
    assert {doc["unique_id"] for doc in found} <= set(published)


def test_object_refs_carry_home_too(gateway, published):
    request = find_documents(PATIENT.patient_id)
    request[0].set("returnType", "ObjectRef")
    refs = list(query(gateway, request).find(f"{{{RIM}}}RegistryObjectList"))
    assert len(refs) == 3 and all(r.get("home") == NORD.home_community_id for r in refs)


def test_get_documents_with_home_answers(gateway, published):
    unique_id = next(iter(published))
    request = _get_documents(unique_id, home=NORD.home_community_id)
    found = entries(query(gateway, request))
    assert [doc["unique_id"] for doc in found] == [unique_id]
    assert found[0]["home"] == NORD.home_community_id


def test_get_documents_without_home_is_missing_home_community_id(gateway, published):
    response = query(gateway, _get_documents(next(iter(published)), home=None))
    status, issues = read_registry_response(response)
    assert status is Status.FAILURE
    assert [(i.code, i.location) for i in issues] == [(ErrorCode.MISSING_HOME_COMMUNITY_ID, NORD.home_community_id)]


def test_query_for_another_community_is_unknown_community(gateway, published):
    request = find_documents(PATIENT.patient_id)
    request.find(f"{{{RIM}}}AdhocQuery").set("home", ENTERPRISES[1].home_community_id)
    status, issues = read_registry_response(query(gateway, request))
    assert status is Status.FAILURE
    assert [(i.code, i.location) for i in issues] == [(ErrorCode.UNKNOWN_COMMUNITY, NORD.home_community_id)]
    assert not query(gateway, request).find(f"{{{RIM}}}RegistryObjectList").getchildren()


def test_retrieve_gives_the_published_bytes_with_home(gateway, published):
    found = entries(query(gateway, find_documents(PATIENT.patient_id)))
    reply = retrieve(gateway, found)
    assert read_registry_response(reply.body.find(f"{{{RS}}}RegistryResponse")) == (Status.SUCCESS, [])
    got = document_bytes(reply)
    assert got == {doc["unique_id"]: published[doc["unique_id"]] for doc in found}
    for doc in found:
        assert hashlib.sha1(got[doc["unique_id"]]).hexdigest() == doc["hash"]
        assert str(len(got[doc["unique_id"]])) == doc["size"]
    homes = {r.findtext(f"{{{XDSB}}}HomeCommunityId") for r in reply.body.iterfind(f"{{{XDSB}}}DocumentResponse")}
    assert homes == {NORD.home_community_id}


def test_mixed_known_and_unknown_is_partial_success(gateway, published):
    found = entries(query(gateway, find_documents(PATIENT.patient_id)))
    other_community = dict(found[1], home=ENTERPRISES[2].home_community_id)
    unknown_document = dict(found[2], unique_id="2.25.1")
    reply = retrieve(gateway, [found[0], other_community, unknown_document])
    status, issues = read_registry_response(reply.body.find(f"{{{RS}}}RegistryResponse"))
    assert status is Status.PARTIAL_SUCCESS
    assert sorted(str(i.code) for i in issues) == [ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, ErrorCode.UNKNOWN_COMMUNITY]
    assert document_bytes(reply) == {found[0]["unique_id"]: published[found[0]["unique_id"]]}


def test_retrieve_without_home_is_missing_home_community_id(gateway, published):
    found = entries(query(gateway, find_documents(PATIENT.patient_id)))
    request = retrieve_request(found[:1])
    request.find(f".//{{{XDSB}}}HomeCommunityId").getparent().remove(request.find(f".//{{{XDSB}}}HomeCommunityId"))
    reply = gateway.call(CROSS_GATEWAY_RETRIEVE, request, mtom=True).raise_for_fault()
    status, issues = read_registry_response(reply.body.find(f"{{{RS}}}RegistryResponse"))
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.MISSING_HOME_COMMUNITY_ID]
    assert reply.body.find(f"{{{XDSB}}}DocumentResponse") is None


def test_unknown_repository_is_unknown_repository_id(gateway, published):
    found = entries(query(gateway, find_documents(PATIENT.patient_id)))
    reply = retrieve(gateway, [dict(found[0], repository="2.16.578.1.12.4.1.7.1.101.77")])
    status, issues = read_registry_response(reply.body.find(f"{{{RS}}}RegistryResponse"))
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.UNKNOWN_REPOSITORY_ID]


def test_health_lists_the_gateway_actions(node):
    import httpx

    actors = httpx.get(node.url("/health"), timeout=5).json()["actors"]
    assert actors["xca_responding"]["actions"] == [CROSS_GATEWAY_QUERY, CROSS_GATEWAY_RETRIEVE]


def _get_documents(unique_id: str, home: str | None) -> etree._Element:
    from tests.xca_gateway.support import GET_DOCUMENTS, adhoc_query

    return adhoc_query(GET_DOCUMENTS, home, {"$XDSDocumentEntryUniqueId": f"('{unique_id}')"})
