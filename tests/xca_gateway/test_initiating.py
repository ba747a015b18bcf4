"""The Initiating Gateway against three fake Responding Gateways on loopback (real SoapRouters
on waitress), called over HTTP as a consumer would (ITI TF-2 3.38.4.1.3, 3.39.4.1.3)."""
from __future__ import annotations

import hashlib
import threading
import time

import pytest

from lxml import etree

from profiles.errors import ErrorCode, Severity, Status
from profiles.vocabulary import RIM
from tests.profiles.xml_support import assert_valid
from xca_gateway.communities import CommunityDirectory
from xca_gateway.initiating import InitiatingGateway

from .initiating_fakes import FakeCommunity, Gauge, entry_uuid, serve
from .initiating_support import (
    ITI18,
    ITI38,
    ITI39,
    ITI43,
    adhoc_query,
    assert_valid_retrieve_response,
    directory_of,
    find_documents,
    get_documents,
    homes_by_unique_id,
    initiating_gateway,
    objects_of,
    retrieve_request,
    retrieved,
    status_and_issues,
)

NORD, VEST, MIDT = (f"urn:oid:2.16.578.1.12.4.1.7.1.{n}" for n in (2, 3, 4))
UNKNOWN = "urn:oid:2.16.578.1.12.4.1.7.1.99"


@pytest.fixture
def gauge():
    return Gauge()


@pytest.fixture
def communities(gauge):
    """Three fake communities, two documents each, served on loopback."""
    fakes = [FakeCommunity(home, name, {f"{home[8:]}.{n}": f"{name} document {n}".encode() for n in (1, 2)},
                           gauge=gauge)
             for home, name in ((NORD, "Helse Nord"), (VEST, "Helse Vest"), (MIDT, "Helse Midt"))]
    served = [serve(fake.router()) for fake in fakes]
    yield list(zip(fakes, served))
    for fake, server in zip(fakes, served):
        fake.release()
        server.stop()


@pytest.fixture
def gateway(communities):
    with initiating_gateway(directory_of([(fake, server.url) for fake, server in communities]),
                            deadline=10) as (_, client):
        yield client


def fake(communities, home) -> FakeCommunity:
    return next(fake for fake, _ in communities if fake.home == home)


def issue_codes(issues):
    return [(issue.code, issue.location) for issue in issues]


# --- query ----------------------------------------------------------------------------------


def test_find_documents_returns_the_union_each_object_with_its_home(gateway, communities):
    reply = gateway.call(ITI18, find_documents())
    assert reply.addressing.action == ITI18 + "Response"
    assert_valid(reply.body, "query")
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert homes_by_unique_id(reply.body) == {
        f"{home[8:]}.{n}": home for home in (NORD, VEST, MIDT) for n in (1, 2)}
    for fake_community, _ in communities:
        (sent,) = fake_community.received
        assert_valid(sent, "query")
        assert sent.find(f"{{{RIM}}}AdhocQuery").get("home") is None


def test_iti38_from_a_national_consumer_is_served_alike(gateway):
    reply = gateway.call(ITI38, find_documents())
    assert reply.addressing.action == ITI38 + "Response"
    assert len(homes_by_unique_id(reply.body)) == 6


def test_object_refs_keep_their_home(gateway):
    reply = gateway.call(ITI18, find_documents(return_type="ObjectRef"))
    assert_valid(reply.body, "query")
    refs = objects_of(reply.body)
    assert {obj.tag for obj in refs} == {f"{{{RIM}}}ObjectRef"}
    assert sorted((obj.get("id"), obj.get("home")) for obj in refs) == sorted(
        (entry_uuid(home, f"{home[8:]}.{n}"), home) for home in (NORD, VEST, MIDT) for n in (1, 2))


def test_object_refs_for_a_leafclass_request_are_passed_through_with_home(gateway, communities):
    fake(communities, VEST).mode = "refs-for-leafclass"
    reply = gateway.call(ITI18, find_documents())
    assert_valid(reply.body, "query")
    assert status_and_issues(reply.body)[0] is Status.SUCCESS
    refs = [obj for obj in objects_of(reply.body) if obj.tag == f"{{{RIM}}}ObjectRef"]
    assert sorted(obj.get("id") for obj in refs) == sorted(entry_uuid(VEST, f"{VEST[8:]}.{n}") for n in (1, 2))
    assert {obj.get("home") for obj in refs} == {VEST}
    assert set(homes_by_unique_id(reply.body).values()) == {NORD, MIDT}


def test_a_home_left_out_by_the_responding_gateway_is_filled_in(gateway, communities):
    fake(communities, MIDT).mode = "no-home"
    reply = gateway.call(ITI18, find_documents())
    assert set(homes_by_unique_id(reply.body).values()) == {NORD, VEST, MIDT}


def test_get_documents_goes_only_to_the_community_its_home_names(gateway, communities):
    wanted = entry_uuid(VEST, f"{VEST[8:]}.1")
    reply = gateway.call(ITI18, get_documents([wanted], home=VEST))
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert [len(fake_community.received) for fake_community, _ in communities] == [0, 1, 0]
    assert fake(communities, VEST).received[0].find(f"{{{RIM}}}AdhocQuery").get("home") == VEST


def test_get_documents_without_home_is_missing_home_community_id(gateway, communities):
    reply = gateway.call(ITI18, get_documents([entry_uuid(VEST, "x")], home=None))
    assert_valid(reply.body, "query")
    status, issues = status_and_issues(reply.body)
    assert status is Status.FAILURE
    assert issue_codes(issues) == [(ErrorCode.MISSING_HOME_COMMUNITY_ID, "")]
    assert all(not fake_community.received for fake_community, _ in communities)


def test_an_unknown_home_is_unknown_community(gateway):
    reply = gateway.call(ITI18, get_documents([entry_uuid(VEST, "x")], home=UNKNOWN))
    status, issues = status_and_issues(reply.body)
    assert status is Status.FAILURE
    assert issue_codes(issues) == [(ErrorCode.UNKNOWN_COMMUNITY, UNKNOWN)]


def test_an_unknown_stored_query_is_answered_without_asking(gateway, communities):
    reply = gateway.call(ITI18, adhoc_query("urn:uuid:00000000-0000-0000-0000-000000000000", {}))
    assert issue_codes(status_and_issues(reply.body)[1]) == [(ErrorCode.UNKNOWN_STORED_QUERY, "")]
    assert all(not fake_community.received for fake_community, _ in communities)


def test_a_stopped_community_is_unavailable_the_others_still_answer(gateway, communities):
    next(server for fake_community, server in communities if fake_community.home == VEST).stop()
    reply = gateway.call(ITI18, find_documents())
    assert_valid(reply.body, "query")
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert issue_codes(issues) == [(ErrorCode.UNAVAILABLE_COMMUNITY, VEST)]
    assert "Helse Vest" in issues[0].context and "transport error" in issues[0].context
    assert set(homes_by_unique_id(reply.body).values()) == {NORD, MIDT}


@pytest.mark.parametrize("mode, reason", [
    ("fault", "answered a SOAP fault (Receiver): Helse Nord is down for maintenance"),
    ("garbage", "answered Nonsense, not an AdhocQueryResponse"),
])
def test_a_useless_answer_is_unavailable_community_saying_why(gateway, communities, mode, reason):
    fake(communities, NORD).mode = mode
    status, issues = status_and_issues(gateway.call(ITI18, find_documents()).body)
    assert status is Status.PARTIAL_SUCCESS
    assert [(issue.code, issue.location, issue.context) for issue in issues] == [
        (ErrorCode.UNAVAILABLE_COMMUNITY, NORD, f"Community Helse Nord ({NORD}) unavailable: {reason}")]


def test_no_community_answering_is_failure(gateway, communities):
    for fake_community, _ in communities:
        fake_community.mode = "fault"
    reply = gateway.call(ITI18, find_documents())
    status, issues = status_and_issues(reply.body)
    assert status is Status.FAILURE
    assert issue_codes(issues) == [(ErrorCode.UNAVAILABLE_COMMUNITY, home) for home in (NORD, VEST, MIDT)]
    assert objects_of(reply.body) == []


def test_a_slow_community_does_not_hold_up_the_answer(communities):
    """Behavioural bound: the answer comes within the deadline plus a small margin."""
    deadline = 1.5
    fake(communities, MIDT).delay = 10
    with initiating_gateway(directory_of([(f, s.url) for f, s in communities]), deadline=deadline) as (_, client):
        started = time.monotonic()
        reply = client.call(ITI18, find_documents())
        elapsed = time.monotonic() - started
    assert deadline <= elapsed < deadline + 2
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert issue_codes(issues) == [(ErrorCode.UNAVAILABLE_COMMUNITY, MIDT)]
    assert "deadline of 1.5 s" in issues[0].context
    assert set(homes_by_unique_id(reply.body).values()) == {NORD, VEST}


def test_a_community_timeout_shorter_than_the_deadline_applies(communities):
    fake(communities, NORD).delay = 10
    directory = directory_of([(f, s.url) for f, s in communities], timeout=0.5)
    with initiating_gateway(directory, deadline=5) as (_, client):
        started = time.monotonic()
        status, issues = status_and_issues(client.call(ITI18, find_documents()).body)
        elapsed = time.monotonic() - started
    assert elapsed < 3
    assert issue_codes(issues) == [(ErrorCode.UNAVAILABLE_COMMUNITY, NORD)]
    assert "Timeout" in issues[0].context


def test_a_storm_never_exceeds_the_outbound_bound(communities, gauge):
    for fake_community, _ in communities:
        fake_community.delay = 0.05
    limit, consumers, answers = 3, 12, []
    with initiating_gateway(directory_of([(f, s.url) for f, s in communities]), deadline=30,
                            max_outstanding=limit) as (_, client):
        def consumer():
            answers.append(status_and_issues(client.call(ITI18, find_documents()).body)[0])

        threads = [threading.Thread(target=consumer) for _ in range(consumers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert answers == [Status.SUCCESS] * consumers
    assert gauge.total == consumers * 3
    assert gauge.peak == limit


# --- retrieve -------------------------------------------------------------------------------


def test_a_retrieve_spanning_two_communities_returns_both_documents(gateway, communities):
    reply = gateway.call(ITI43, retrieve_request([(NORD, f"{NORD[8:]}.1"), (MIDT, f"{MIDT[8:]}.2")]))
    assert reply.addressing.action == ITI43 + "Response" and reply.is_mtom
    assert_valid_retrieve_response(reply)
    assert status_and_issues(reply.body) == (Status.SUCCESS, [])
    assert retrieved(reply) == {f"{NORD[8:]}.1": (NORD, b"Helse Nord document 1"),
                                f"{MIDT[8:]}.2": (MIDT, b"Helse Midt document 2")}
    assert [len(fake_community.received) for fake_community, _ in communities] == [1, 0, 1]
    for home in (NORD, MIDT):
        assert_valid(fake(communities, home).received[0], "xdsb")


def test_iti39_from_a_national_consumer_is_served_alike(gateway):
    reply = gateway.call(ITI39, retrieve_request([(VEST, f"{VEST[8:]}.2")]), mtom=True)
    assert reply.addressing.action == ITI39 + "Response"
    assert retrieved(reply) == {f"{VEST[8:]}.2": (VEST, b"Helse Vest document 2")}


def test_unknown_and_missing_home_community_ids_on_retrieve(gateway):
    reply = gateway.call(ITI43, retrieve_request([(UNKNOWN, "1.2.3"), (None, "1.2.4"), (NORD, f"{NORD[8:]}.1")]))
    assert_valid_retrieve_response(reply)
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert issue_codes(issues) == [(ErrorCode.UNKNOWN_COMMUNITY, "1.2.3"),
                                   (ErrorCode.MISSING_HOME_COMMUNITY_ID, "1.2.4")]
    assert list(retrieved(reply)) == [f"{NORD[8:]}.1"]


def test_only_unknown_communities_is_failure(gateway):
    reply = gateway.call(ITI43, retrieve_request([(UNKNOWN, "1.2.3")]))
    status, issues = status_and_issues(reply.body)
    assert status is Status.FAILURE and issue_codes(issues) == [(ErrorCode.UNKNOWN_COMMUNITY, "1.2.3")]
    assert not reply.is_mtom or retrieved(reply) == {}


def test_a_failing_community_is_unavailable_for_each_of_its_documents(gateway, communities):
    fake(communities, VEST).mode = "fault"
    reply = gateway.call(ITI43, retrieve_request([
        (VEST, f"{VEST[8:]}.1"), (NORD, f"{NORD[8:]}.2"), (VEST, f"{VEST[8:]}.2")]))
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert issue_codes(issues) == [(ErrorCode.UNAVAILABLE_COMMUNITY, f"{VEST[8:]}.1"),
                                   (ErrorCode.UNAVAILABLE_COMMUNITY, f"{VEST[8:]}.2")]
    assert all("Helse Vest" in issue.context for issue in issues)
    assert list(retrieved(reply)) == [f"{NORD[8:]}.2"]


def test_the_responding_gateways_errors_are_passed_through(gateway):
    reply = gateway.call(ITI43, retrieve_request([(NORD, f"{NORD[8:]}.1"), (NORD, "1.2.404")]))
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert [(i.code, i.location, i.severity) for i in issues] == [
        (ErrorCode.MISSING_DOCUMENT, "1.2.404", Severity.ERROR)]


def test_home_community_id_filled_in_on_document_responses(gateway, communities):
    fake(communities, MIDT).mode = "no-home"
    reply = gateway.call(ITI43, retrieve_request([(MIDT, f"{MIDT[8:]}.1")]))
    assert retrieved(reply)[f"{MIDT[8:]}.1"][0] == MIDT


def test_a_slow_community_on_retrieve_keeps_the_deadline(communities):
    fake(communities, VEST).delay = 10
    with initiating_gateway(directory_of([(f, s.url) for f, s in communities]), deadline=1.0) as (_, client):
        started = time.monotonic()
        reply = client.call(ITI43, retrieve_request([(VEST, f"{VEST[8:]}.1"), (NORD, f"{NORD[8:]}.1")]))
        elapsed = time.monotonic() - started
    assert elapsed < 3
    status, issues = status_and_issues(reply.body)
    assert status is Status.PARTIAL_SUCCESS
    assert issue_codes(issues) == [(ErrorCode.UNAVAILABLE_COMMUNITY, f"{VEST[8:]}.1")]
    assert list(retrieved(reply)) == [f"{NORD[8:]}.1"]


def test_large_documents_stream_through_intact(gateway, communities):
    big = bytes(range(256)) * (6 * 4096 + 7)  # ~6 MiB, past the spool's memory part
    fake(communities, NORD).documents["1.2.big"] = big
    fake(communities, VEST).documents["1.3.big"] = big[::-1]
    reply = gateway.call(ITI43, retrieve_request([(NORD, "1.2.big"), (VEST, "1.3.big")]))
    documents = retrieved(reply)
    assert hashlib.sha1(documents["1.2.big"][1]).digest() == hashlib.sha1(big).digest()
    assert hashlib.sha1(documents["1.3.big"][1]).digest() == hashlib.sha1(big[::-1]).digest()


# --- no communities, and the header hook ----------------------------------------------------


def test_a_gateway_without_communities_answers_empty_and_knows_no_home():
    gateway = InitiatingGateway(CommunityDirectory(), deadline_seconds=1)
    try:
        assert status_and_issues(gateway.query(find_documents())) == (Status.SUCCESS, [])
        body, parts = gateway.retrieve(retrieve_request([(NORD, "1.2.3")]))
        status, issues = status_and_issues(body)
        assert (status, issue_codes(issues), parts) == (
            Status.FAILURE, [(ErrorCode.UNKNOWN_COMMUNITY, "1.2.3")], [])
    finally:
        gateway.close()


def test_header_blocks_go_to_every_community_each_its_own_copy(communities):
    """The hook the security issue uses for XUA: extra SOAP header blocks on every ITI-38/39."""
    block = etree.Element("{urn:test:xua}Assertion")
    block.text = "token"
    gateway = InitiatingGateway(directory_of([(f, s.url) for f, s in communities]), deadline_seconds=10)
    try:
        gateway.query(find_documents(), headers=[block])
        gateway.retrieve(retrieve_request([(NORD, f"{NORD[8:]}.1")]), headers=[block])
    finally:
        gateway.close()
    seen = [header.findtext("{urn:test:xua}Assertion") for f, _ in communities for header in f.headers]
    assert seen == ["token"] * 4  # three queries, one retrieve
    assert block.getparent() is None and block.text == "token"
