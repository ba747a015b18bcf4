"""The harness end to end on hand-made test plans against an in-memory fake node (no
sockets): preload order, symbols across steps and tests, assign, MTOM both ways, reports,
retrieve checks, not-served and blocked steps, the table, the expected-pass file and the CLI."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from socketserver import ThreadingMixIn

import httpx
import pytest

from scripts.conformance import nist
from scripts.conformance.identities import Identity
from scripts.conformance.results import (
    BLOCKED, FAIL, NOT_SERVED, PASS, SKIPPED, format_table, read_expected, summary_rows, write_expected,
)
from scripts.conformance.runner import Harness
from tests.conformance.fake_node import FakeNode

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
PROVIDE = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
RETRIEVE = "urn:ihe:iti:2007:RetrieveDocumentSet"
REMOVE = "urn:ihe:iti:2010:DeleteDocumentSet"
IDENTITY = Identity(patient_root="1.2.840.99", home_community_id="urn:oid:1.2.3.4.5")

SUBMIT = f"""<lcm:SubmitObjectsRequest xmlns:lcm="{LCM}" xmlns:rim="{RIM}"><rim:RegistryObjectList>
 <rim:ExtrinsicObject id="Doc" mimeType="text/plain">
  <rim:ExternalIdentifier id="e1" registryObject="Doc" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="$patientid$"/>
  <rim:ExternalIdentifier id="e2" registryObject="Doc" identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="Doc"/>
 </rim:ExtrinsicObject>
 <rim:RegistryPackage id="SS">
  <rim:ExternalIdentifier id="e3" registryObject="SS" identificationScheme="urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8" value="SS"/>
  <rim:ExternalIdentifier id="e4" registryObject="SS" identificationScheme="urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446" value="$patientid$"/>
  <rim:ExternalIdentifier id="e5" registryObject="SS" identificationScheme="urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832" value="0.0"/>
 </rim:RegistryPackage>
 <rim:Classification id="c1" classifiedObject="SS" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
 <rim:Association id="a1" sourceObject="SS" targetObject="Doc" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"/>
</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"""
PROVIDE_BODY = f'<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="{XDSB}">{SUBMIT}<xdsb:Document id="Doc"/></xdsb:ProvideAndRegisterDocumentSetRequest>'
FIND = """<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
 xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><query:ResponseOption returnType="LeafClass"/>
 <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"><rim:Slot name="$XDSDocumentEntryPatientId">
 <rim:ValueList><rim:Value>'$pid$'</rim:Value></rim:ValueList></rim:Slot></rim:AdhocQuery></query:AdhocQueryRequest>"""
GET = f"""<x:RetrieveDocumentSetRequest xmlns:x="{XDSB}"><x:DocumentRequest>
 <x:RepositoryUniqueId>$repuid$</x:RepositoryUniqueId><x:DocumentUniqueId>$docuid$</x:DocumentUniqueId>
 </x:DocumentRequest></x:RetrieveDocumentSetRequest>"""
REMOVE_BODY = f'<lcm:RemoveObjectsRequest xmlns:lcm="{LCM}" xmlns:rim="{RIM}"><rim:ObjectRefList><rim:ObjectRef id="$doc$"/></rim:ObjectRefList></lcm:RemoveObjectsRequest>'

ASSIGN_ALL = {"submission": True, "patient_id": "current", "unique_ids": True, "keep_unique_ids_of": [],
              "source_id": True, "uuids": True}


def step(id_, transaction, action, endpoint, body, *, status="Success", symbols=(), assign=None, reports=(),
         contents=(), assertions=(), error_codes=(), retrieve=None, mtom=False, documents=(), element="Transaction"):
    expect = {"status": status, "error_codes": list(error_codes), "error_messages": [],
              "contents": list(contents), "assertions": list(assertions)}
    if retrieve is not None:
        expect["retrieve"] = retrieve
    return {"id": id_, "element": element, "transaction": transaction, "action": action, "endpoint": endpoint,
            "mtom": mtom, "body": body, "documents": list(documents), "skip": None,
            "assign": assign or {"submission": False}, "symbols": list(symbols), "reports": list(reports),
            "expect": expect}


def sym(symbol, **source):
    return {"symbol": symbol, "from": source}


def null_step(id_, assertions, symbols=()):
    return {"id": id_, "element": "NullTransaction", "transaction": None, "action": None, "endpoint": None,
            "mtom": False, "body": None, "documents": [], "skip": None, "assign": {}, "symbols": list(symbols),
            "reports": [], "expect": {"status": None, "assertions": assertions}}


PLANS = {
    "P": ("preload", True, [("load", [
        step("submit", "ITI-42", REGISTER, "registry", "submit.xml", assign=ASSIGN_ALL),
    ])]),
    "T": ("reg", False, [
        ("query", [
            step("find", "ITI-18", QUERY, "registry", "find.xml", element="StoredQueryTransaction",
                 symbols=[sym("$pid$", kind="id", test="P", section="load", step="submit",
                              map="AssignedPatientId", id="SS")],
                 contents=[{"check": "SSwithOneDoc"}, {"check": "DocApp"}, {"check": "Documents", "count": 1}]),
            null_step("verify", [{"id": "approved", "xpath": "//StoredQueryTransaction[@step='find']/Result//*"
                                  "[local-name()='ExtrinsicObject'][@id='doc_uuid']/@status = "
                                  "'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved'"}],
                      symbols=[sym("doc_uuid", kind="report", test="P", section="load", step="submit", name="Doc_uuid")]),
        ]),
        ("alt", [
            {"id": "skipped", "skip": "patient identity feed"},
            step("submit", "ITI-42", REGISTER, "registry", "submit.xml", status="Failure",
                 assign=dict(ASSIGN_ALL, patient_id="alt"), error_codes=["XDSUnknownPatientId"]),
        ]),
    ]),
    "F": ("reg", False, [("wrong", [
        step("submit", "ITI-42", REGISTER, "registry", "submit.xml", assign=ASSIGN_ALL),
        step("find", "ITI-18", QUERY, "registry", "find.xml",
             symbols=[sym("$pid$", kind="patient", slot="main")], contents=[{"check": "Documents", "count": 5}]),
        step("bad_status", "ITI-42", REGISTER, "registry", "submit.xml", status="Failure", assign=ASSIGN_ALL),
    ])]),
    "U": ("rm", False, [("all", [
        step("submit", "ITI-42", REGISTER, "registry", "submit.xml", assign=ASSIGN_ALL,
             symbols=[sym("$patientid$", kind="patient", slot="main")]),
        step("remove", "ITI-62", REMOVE, "registry", "remove.xml",
             symbols=[sym("$doc$", kind="report", test="U", section="all", step="submit", name="Doc_uuid")]),
        step("gone", "ITI-18", QUERY, "registry", "find.xml",
             symbols=[sym("$pid$", kind="patient", slot="main")], contents=[{"check": "None"}]),
    ])]),
    "R": ("rep", False, [
        ("submit", [step("submit", "ITI-41", PROVIDE, "repository", "provide.xml", mtom=True, assign=ASSIGN_ALL,
                         documents=[{"id": "Doc", "file": "doc.txt", "mime_type": "text/plain"}])]),
        ("query", [step("query", "ITI-18", QUERY, "registry", "find.xml",
                        symbols=[sym("$pid$", kind="patient", slot="main")],
                        reports=[{"name": "repuid", "on": "response", "xpath":
                                  "//*[local-name()='Slot'][@name='repositoryUniqueId']//*[local-name()='Value']"}])]),
        ("retrieve", [step("retrieve", "ITI-43", RETRIEVE, "repository", "get.xml", mtom=True,
                           symbols=[sym("$repuid$", kind="report", test="R", section="query", step="query", name="repuid"),
                                    sym("$docuid$", kind="report", test="R", section="submit", step="submit", name="Doc_uid")],
                           retrieve={"mime_type": "text/plain",
                                     "reference_documents": [{"uid": "$docuid$", "file": "doc.txt"}],
                                     "reference_metadata": {"test": "R", "section": "query", "step": "query"}})]),
    ]),
}


@pytest.fixture
def nist_dir(tmp_path) -> Path:
    root = tmp_path / "nist"
    index = []
    for order, test in enumerate(["T", "F", "U", "R", "P"]):  # preload listed last on purpose
        group, preload, sections = PLANS[test]
        folder = root / test
        folder.mkdir(parents=True)
        for name, text in (("submit.xml", SUBMIT), ("find.xml", FIND), ("remove.xml", REMOVE_BODY),
                           ("provide.xml", PROVIDE_BODY), ("get.xml", GET)):
            (folder / name).write_text(text)
        (folder / "doc.txt").write_bytes(b"the document\n")
        manifest = {"test": test, "title": f"test {test}", "groups": [group], "preload": preload,
                    "sections": [{"name": name, "steps": steps} for name, steps in sections]}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        index.append({"test": test, "groups": [group], "steps": sum(len(s) for _, s in sections)})
    (root / "index.json").write_text(json.dumps({"tests": index}))
    return root


@pytest.fixture
def node() -> FakeNode:
    return FakeNode(IDENTITY.patient_root)


@pytest.fixture
def report(nist_dir, node):
    client = httpx.Client(transport=httpx.WSGITransport(app=node.app), base_url="http://node")
    with Harness(nist_dir, "http://node", identity=IDENTITY, http_client=client) as harness:
        yield harness.run(harness.select())


def statuses(result):
    return {s.name: s.status for s in result.steps}


def test_preload_runs_first_then_index_order(report):
    assert [r.test for r in report.results] == ["P", "T", "F", "U", "R"]
    assert report.served["registry"] == sorted([REGISTER, QUERY])


def test_symbols_assign_contents_and_assertions_pass(report, node):
    results = report.by_test()
    assert results["P"].status == PASS
    assert results["T"].status == PASS, results["T"].diagnosis()
    assert statuses(results["T"]) == {"query/find": PASS, "query/verify": PASS, "alt/skipped": SKIPPED,
                                      "alt/submit": PASS}
    submitted = node.requests[0][1]
    source_ids = [e.get("value") for e in submitted.iter(f"{{{RIM}}}ExternalIdentifier")
                  if e.get("identificationScheme") == "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"]
    assert source_ids == [IDENTITY.source_id]
    assert all(e.get("id").startswith("urn:uuid:") for e in submitted.iter(f"{{{RIM}}}ExtrinsicObject"))


def test_failures_say_what_was_expected_and_what_came(report):
    result = report.by_test()["F"]
    assert result.status == FAIL
    steps = {s.name: s for s in result.steps}
    assert steps["wrong/submit"].status == PASS
    assert steps["wrong/find"].status == FAIL
    assert steps["wrong/find"].reason == "expected 5 Documents, found 1"
    assert steps["wrong/bad_status"].reason == "expected status Failure, got Success"


def test_unserved_steps_are_not_served_and_what_follows_is_blocked(report):
    result = report.by_test()["U"]
    assert result.status == NOT_SERVED
    assert statuses(result) == {"all/submit": PASS, "all/remove": NOT_SERVED, "all/gone": BLOCKED}
    remove = next(s for s in result.steps if s.step == "remove")
    assert "ITI-62" in remove.reason and "not served by /registry" in remove.reason


def test_mtom_provide_and_retrieve_with_reference_checks(report, node):
    result = report.by_test()["R"]
    assert result.status == PASS, result.diagnosis()
    assert list(node.documents.values())[0] == (b"the document\n", "text/plain")


def test_retrieve_detects_wrong_bytes(nist_dir, node):
    node.corrupt_retrieves = True
    client = httpx.Client(transport=httpx.WSGITransport(app=node.app), base_url="http://node")
    with Harness(nist_dir, "http://node", identity=IDENTITY, http_client=client) as harness:
        report = harness.run(harness.select(tests=["R"], preload=False))
    reason = next(s for s in report.results[0].steps if s.step == "retrieve").reason
    assert "content differs from doc.txt (14 bytes, expected 13)" in reason
    assert "SHA-1" in reason and "14 bytes but metadata size 13" in reason


def test_selection_by_group_and_test(nist_dir, node):
    client = httpx.Client(transport=httpx.WSGITransport(app=node.app), base_url="http://node")
    with Harness(nist_dir, "http://node", identity=IDENTITY, http_client=client) as harness:
        assert [p.test for p in harness.select(groups=["rm"])] == ["P", "U"]
        assert [p.test for p in harness.select(tests=["R"], preload=False)] == ["R"]
        with pytest.raises(ValueError):
            harness.select(tests=["nope"])


def test_table_counts_tests_and_steps(report):
    rows = {row["group"]: row for row in summary_rows(report.results)}
    assert rows["reg"]["tests"] == 2 and rows["reg"]["tests_pass"] == 1 and rows["reg"]["tests_fail"] == 1
    assert rows["rm"]["tests_not-served"] == 1 and rows["rm"]["steps_blocked"] == 1
    assert rows["total"]["tests"] == 5 and rows["total"]["steps_skipped"] == 1
    table = format_table(report.results)
    assert table.splitlines()[0].split()[:4] == ["group", "tests", "pass", "fail"]
    assert table.splitlines()[-1].split()[0] == "total"


def test_expected_file_keeps_tests_that_did_not_run(tmp_path, report):
    path = tmp_path / "expected.json"
    path.write_text(json.dumps({"pass": ["OLD", "F"]}))
    listed = write_expected(path, report.results, [r.test for r in report.results])
    assert listed == ["P", "T", "R", "OLD"]
    assert read_expected(path) == listed


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_command_line_against_a_node_over_http(nist_dir, node, tmp_path, capsys):
    server = make_server("127.0.0.1", 0, node.app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        shared = tmp_path / "shared"
        (shared / "conformance").mkdir(parents=True)
        (shared / "conformance" / "nist").symlink_to(nist_dir)
        expected = tmp_path / "expected.json"
        code = nist.main(["--shared", str(shared), "--base-url", base, "--patient-domain", IDENTITY.patient_root,
                          "--json", str(tmp_path / "r.json"), "--write-expected", str(expected)])
        assert code == 0
        assert nist.main(["--shared", str(shared), "--base-url", base, "--patient-domain", IDENTITY.patient_root,
                          "--group", "reg", "--strict", "--quiet"]) == 1
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert "FAIL F" in out and "total" in out
    assert json.loads((tmp_path / "r.json").read_text())["summary"][-1]["group"] == "total"
    assert read_expected(expected) == ["P", "T", "R"]


def test_placeholders_without_a_symbol_are_pointed_out(nist_dir, node):
    manifest = json.loads((nist_dir / "F" / "manifest.json").read_text())
    manifest["sections"][0]["steps"][1]["symbols"] = []  # leaves '$pid$' in the query
    (nist_dir / "F" / "manifest.json").write_text(json.dumps(manifest))
    client = httpx.Client(transport=httpx.WSGITransport(app=node.app), base_url="http://node")
    with Harness(nist_dir, "http://node", identity=IDENTITY, http_client=client) as harness:
        report = harness.run(harness.select(tests=["F"], preload=False))
    find = next(s for s in report.results[0].steps if s.step == "find")
    assert find.reason == ("expected 5 Documents, found 0; "
                           "note: the request still holds $pid$ (no symbol for it in the manifest)")


@pytest.mark.parametrize("feed", [False, True])
def test_patients_can_be_fed_to_a_node_that_knows_only_fed_patients(nist_dir, node, feed):
    node.known_only = set()
    client = httpx.Client(transport=httpx.WSGITransport(app=node.app), base_url="http://node")
    with Harness(nist_dir, "http://node", identity=IDENTITY, http_client=client, feed_patients=feed) as harness:
        report = harness.run(harness.select(tests=["T"]))
    assert report.by_test()["T"].status == (PASS if feed else FAIL)
    # the unknown ("alt") patient is never fed
    assert all(IDENTITY.alt_patient_root not in patient for patient in node.known_only)
    assert len(node.known_only) == (2 if feed else 0)  # P's and T's own patients
