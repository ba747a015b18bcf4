"""The converted NIST XDS Toolkit test plans (../shared/conformance/nist) replayed by the
conformance harness (scripts/conformance) against the real `xdsno serve --profile ihe`
process, on SQLite and, when XDSNO_TEST_DATABASE_URL is set, PostgreSQL.

One pytest test per NIST test:
  - skipped while one of its transactions is not served (per /health);
  - listed in nist_expected.json: must pass (the regression guard);
  - not listed: a failure is reported as xfail with the harness's diagnosis, a pass is
    reported in the summary as ready to be listed.
Regenerate the list with `python scripts/conformance/nist.py --serve --write-expected`;
list a test only when it really passes.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.conformance.identities import Identity
from scripts.conformance.plans import load_index
from scripts.conformance.results import NOT_SERVED, PASS, format_table, read_expected
from scripts.conformance.runner import Harness
from scripts.conformance.serving import serve_arguments
from tests.conformance.conftest import SUMMARIES
from tests.databases import KINDS, fresh_database_url
from tests.server import REPO_ROOT, running_server

NIST = REPO_ROOT.parent / "shared" / "conformance" / "nist"
EXPECTED_FILE = Path(__file__).with_name("nist_expected.json")
EXPECTED = read_expected(EXPECTED_FILE)
TEST_IDS = [entry.test for entry in load_index(NIST)] if (NIST / "index.json").exists() else []

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not TEST_IDS, reason=f"no NIST test plans at {NIST}"),
]


@pytest.fixture(scope="module", params=KINDS)
def nist_run(request, tmp_path_factory):
    """Every test plan run once against a fresh node on this database kind."""
    kind = request.param
    folder = tmp_path_factory.mktemp(f"nist-{kind}")
    identity = Identity()
    with fresh_database_url(kind, folder if kind == "sqlite" else None) as url:
        with running_server(folder / "data", *serve_arguments(identity, url)) as server:
            with Harness(NIST, server.base_url, identity=identity, home_community_from_health=False) as harness:
                report = harness.run(harness.select())
    newly = [r.test for r in report.results if r.status == PASS and r.test not in EXPECTED]
    SUMMARIES.append((f"NIST conformance ({kind})", format_table(report.results) + (
        f"\npassing but not in {EXPECTED_FILE.name}: {', '.join(newly)}" if newly else "")))
    return report


@pytest.mark.parametrize("test_id", TEST_IDS)
def test_nist_test_plan(nist_run, test_id):
    result = nist_run.by_test()[test_id]
    if result.status == NOT_SERVED:
        if test_id in EXPECTED:
            pytest.fail(f"{test_id} is listed in {EXPECTED_FILE.name} but is not served:\n{result.diagnosis()}")
        first = next(s for s in result.steps if s.status == NOT_SERVED)
        pytest.skip(f"not served: {first.reason}")
    if result.status == PASS:
        return
    if test_id in EXPECTED:
        pytest.fail(f"{test_id} ({result.title}) is listed in {EXPECTED_FILE.name} but fails:\n{result.diagnosis()}")
    first_line = result.diagnosis().splitlines()[0]
    pytest.xfail(f"not passing yet: {first_line[:300]}")


def test_expected_file_names_only_known_tests():
    assert json.loads(EXPECTED_FILE.read_text())["pass"] == EXPECTED
    assert sorted(set(EXPECTED) - set(TEST_IDS)) == []
    assert len(set(EXPECTED)) == len(EXPECTED)
