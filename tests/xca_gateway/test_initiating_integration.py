"""The Initiating Gateway as a real `xdsno serve --actor xca_initiating` process.

Two set-ups, both over loopback:
- fake Responding Gateways (SoapRouters on waitress in this process) behind the national node:
  they can be stopped, slowed past the deadline and counted;
- three real `xdsno serve` enterprise nodes (registry, repository, Responding Gateway on /xca)
  from scripts/federation.py, with synthetic documents published by ITI-41.
The deadline test is a behavioural bound: with a 1.5 s deadline and a community sleeping 10 s,
the answer must come within deadline + 2 s (measured at the consumer, over HTTP).
"""
from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from profiles.errors import ErrorCode, Status
from scripts.federation import publish_documents, start_federation, stop_node
from scripts.federation_data import PATIENTS
from soap.client import SoapClient
from tests.profiles.xml_support import assert_valid
from tests.server import running_server

from .initiating_fakes import FakeCommunity, Gauge, serve
from .initiating_support import (
    ITI18,
    ITI43,
    adhoc_query,
    assert_valid_retrieve_response,
    find_documents,
    homes_by_unique_id,
    retrieve_request,
    retrieved,
    status_and_issues,
)

pytestmark = pytest.mark.integration

NORD, VEST, MIDT = (f"urn:oid:2.16.578.1.12.4.1.7.1.{n}" for n in (2, 3, 4))
DEADLINE = 1.5
MAX_OUTBOUND = 3
ACTIONS = ["urn:ihe:iti:2007:CrossGatewayQuery", "urn:ihe:iti:2007:CrossGatewayRetrieve",
           "urn:ihe:iti:2007:RegistryStoredQuery", "urn:ihe:iti:2007:RetrieveDocumentSet"]


# --- the national node in front of fake Responding Gateways ---------------------------------


@pytest.fixture(scope="module")
def gauge():
    return Gauge()


@pytest.fixture(scope="module")
def fakes(gauge):
    communities = [FakeCommunity(home, name, {f"{home[8:]}.{n}": f"{name} {n}".encode() for n in (1, 2)},
                                 gauge=gauge)
                   for home, name in ((NORD, "Helse Nord"), (VEST, "Helse Vest"), (MIDT, "Helse Midt"))]
    served = [serve(community.router()) for community in communities]
    yield {community.home: (community, server) for community, server in zip(communities, served)}
    for community, server in zip(communities, served):
        community.release()
        server.stop()


@pytest.fixture(scope="module")
def national(tmp_path_factory, fakes):
    base = tmp_path_factory.mktemp("national")
    communities_file = base / "communities.toml"
    communities_file.write_text("".join(
        f'[[community]]\nhome_community_id = "{home}"\nname = "{community.name}"\n'
        f'query_url = "{server.url}/xca"\ntimeout_seconds = 10\n\n'
        for home, (community, server) in fakes.items()), encoding="utf-8")
    env = {"XDSNO_COMMUNITIES_FILE": str(communities_file), "XDSNO_XCA_DEADLINE_SECONDS": str(DEADLINE),
           "XDSNO_XCA_MAX_OUTBOUND_REQUESTS": str(MAX_OUTBOUND)}
    with running_server(base / "data", "--actor", "xca_initiating", "--home-community-id",
                        "urn:oid:2.16.578.1.12.4.1.7.1.1", env=env) as server:
        yield server


@pytest.fixture
def client(national, fakes):
    for community, _ in fakes.values():
        community.mode, community.delay = "ok", 0.0
    with SoapClient(national.url("/xca/initiating"), timeout=60) as soap_client:
        yield soap_client


def test_health_lists_the_initiating_gateway_actions(national):
    document = httpx.get(national.url("/health")).json()
    assert document["actors"]["xca_initiating"] == {"url": national.url("/xca/initiating"), "actions": ACTIONS}


def test_find_documents_through_the_gateway_is_the_union_with_homes(client):
    reply = client.call(ITI18, find_documents())
    assert_valid(reply.body, "query")
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert homes_by_unique_id(reply.body) == {f"{home[8:]}.{n}": home for home in (NORD, VEST, MIDT) for n in (1, 2)}


def test_a_retrieve_spanning_two_communities_returns_both(client):
    reply = client.call(ITI43, retrieve_request([(NORD, f"{NORD[8:]}.2"), (VEST, f"{VEST[8:]}.1")]))
    assert_valid_retrieve_response(reply)
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert retrieved(reply) == {f"{NORD[8:]}.2": (NORD, b"Helse Nord 2"), f"{VEST[8:]}.1": (VEST, b"Helse Vest 1")}


def test_unknown_home_community_on_retrieve(client):
    reply = client.call(ITI43, retrieve_request([("urn:oid:1.2.3.4.5", "1.2.3"), (MIDT, f"{MIDT[8:]}.1")]))
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert [(issue.code, issue.location) for issue in issues] == [(ErrorCode.UNKNOWN_COMMUNITY, "1.2.3")]
    assert list(retrieved(reply)) == [f"{MIDT[8:]}.1"]


def test_a_community_answering_after_the_deadline_does_not_hold_up_the_answer(client, fakes):
    fakes[MIDT][0].delay = 10
    started = time.monotonic()
    reply = client.call(ITI18, find_documents())
    elapsed = time.monotonic() - started
    assert DEADLINE <= elapsed < DEADLINE + 2, elapsed
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert [(issue.code, issue.location) for issue in issues] == [(ErrorCode.UNAVAILABLE_COMMUNITY, MIDT)]
    assert "Helse Midt" in issues[0].context and "deadline" in issues[0].context
    assert set(homes_by_unique_id(reply.body).values()) == {NORD, VEST}
    fakes[MIDT][0].release()


def test_a_storm_of_consumers_stays_within_the_outbound_bound(client, national, gauge):
    consumers, statuses, before = 9, [], gauge.total

    def consumer():
        with SoapClient(national.url("/xca/initiating"), timeout=60) as own:
            statuses.append(status_and_issues(own.call(ITI18, find_documents()).body)[0])

    threads = [threading.Thread(target=consumer) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [Status.SUCCESS] * consumers
    assert gauge.total - before == consumers * 3
    assert gauge.peak <= MAX_OUTBOUND


def test_a_stopped_community_is_unavailable_and_named(client, fakes):
    # last: the community stays stopped
    fakes[VEST][1].stop()
    reply = client.call(ITI18, find_documents())
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert [(issue.code, issue.location) for issue in issues] == [(ErrorCode.UNAVAILABLE_COMMUNITY, VEST)]
    assert issues[0].context.startswith(f"Community Helse Vest ({VEST}) unavailable: transport error")
    assert set(homes_by_unique_id(reply.body).values()) == {NORD, MIDT}


# --- three real enterprise nodes (scripts/federation.py) ------------------------------------


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    with start_federation(tmp_path_factory.mktemp("federation"),
                          initiating_env={"XDSNO_XCA_DEADLINE_SECONDS": "10"}) as running:
        health = httpx.get(running.enterprises[0].node.url("/health")).json()
        if "urn:ihe:iti:2007:CrossGatewayQuery" not in health["actors"].get("xca_responding", {}).get("actions", []):
            pytest.skip("the Responding Gateway is not served on /xca yet")
        publish_documents(running)
        yield running


def _patient_query(patient_id: str):
    return adhoc_query("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d", {
        "$XDSDocumentEntryPatientId": [f"'{patient_id}'"],
        "$XDSDocumentEntryStatus": ["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"]})


def test_federation_find_documents_is_the_union_with_the_right_homes(federation):
    patient = PATIENTS[0].patient_id
    expected = {item["unique_id"]: item["community"] for item in federation.published if item["patient"] == patient}
    assert len(set(expected.values())) == 3
    with SoapClient(federation.initiating_url, timeout=60) as client:
        reply = client.call(ITI18, _patient_query(patient))
    assert_valid(reply.body, "query")
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert homes_by_unique_id(reply.body) == expected


def test_federation_retrieve_spanning_two_communities(federation):
    by_community = {}
    for item in federation.published:
        by_community.setdefault(item["community"], item)
    wanted = list(by_community.values())[:2]
    with SoapClient(federation.initiating_url, timeout=60) as client:
        reply = client.call(ITI43, retrieve_request(
            [(item["community"], item["unique_id"], item["repository"]) for item in wanted]))
        assert_valid_retrieve_response(reply)
        documents = retrieved(reply)
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert {unique_id: home for unique_id, (home, _) in documents.items()} == {
        item["unique_id"]: item["community"] for item in wanted}
    assert all(content for _, content in documents.values())


def test_federation_with_one_enterprise_stopped_is_partial_success(federation):
    # last: the enterprise stays stopped
    stopped = federation.enterprises[1]
    stop_node(stopped.node)
    patient = PATIENTS[0].patient_id
    with SoapClient(federation.initiating_url, timeout=60) as client:
        reply = client.call(ITI18, _patient_query(patient))
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    home = stopped.enterprise.home_community_id
    assert [(issue.code, issue.location) for issue in issues] == [(ErrorCode.UNAVAILABLE_COMMUNITY, home)]
    assert stopped.enterprise.name in issues[0].context
    answered = Counter(homes_by_unique_id(reply.body).values())
    assert home not in answered and sum(answered.values()) == sum(
        1 for item in federation.published if item["patient"] == patient and item["community"] != home)
