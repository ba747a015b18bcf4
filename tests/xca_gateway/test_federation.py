"""scripts/federation.py end to end: three health enterprises and the national initiating
gateway over loopback, synthetic Norwegian documents published with ITI-41, then the
`--check` steps (ITI-38 to each Responding Gateway, ITI-18 and ITI-43 through the
Initiating Gateway)."""
from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from scripts.federation import publish_documents, start_federation, write_communities_file
from scripts.federation_check import check_responding_gateways, run_check
from scripts.federation_data import ENTERPRISES, HOLDINGS, PATIENTS
from scripts.federation_xua import make_federation_xua
from scripts.federation_xua_check import check_no_assertion
from xca_gateway.communities import load_communities


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    with start_federation(tmp_path_factory.mktemp("federation")) as running:
        publish_documents(running)
        yield running


def test_every_enterprise_published_its_holdings(federation):
    by_enterprise = Counter(item["enterprise"] for item in federation.published)
    assert by_enterprise == {e.name: sum(len(specs) for specs in HOLDINGS[e.key].values()) for e in ENTERPRISES}


def test_each_responding_gateway_answers_for_its_own_community(federation):
    for patient in PATIENTS:
        ok, total = check_responding_gateways(federation, patient.patient_id)
        assert ok
        assert total == sum(1 for item in federation.published if item["patient"] == patient.patient_id)


def test_check_passes_through_the_initiating_gateway(federation):
    assert run_check(federation) == 0


def test_communities_file_is_what_the_initiating_gateway_reads(federation, tmp_path):
    directory = load_communities(write_communities_file(tmp_path / "c.toml", federation.enterprises))
    assert [c.name for c in directory] == [e.name for e in ENTERPRISES]
    assert directory.ids == tuple(e.home_community_id for e in ENTERPRISES)


def test_the_xua_check_fails_where_no_assertion_is_required(federation, tmp_path, capsys):
    """The refusal step is no formality: these nodes run without XUA and answer the request."""
    claimed = dataclasses.replace(federation, xua=make_federation_xua(tmp_path / "xua"))
    assert claimed.security_headers(PATIENTS[0].patient_id)[0].tag.endswith("}Security")
    assert check_no_assertion(claimed, PATIENTS[0].patient_id) is False
    assert "XUA: ITI-18 without an assertion: FAILED None 200" in capsys.readouterr().out


def test_without_xua_requests_carry_no_security_header(federation):
    assert federation.xua is None and federation.security_headers(PATIENTS[0].patient_id) == []
