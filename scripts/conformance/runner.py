"""Running converted NIST test plans against a server over SOAP: the `Harness`.

Order: preload tests (`"preload": true`) first, then the others in index order; inside a
test, sections then steps as listed. What a step records (assigned patient ids, uniqueIds,
uuids, reports, its reply) is kept for the whole run, because later steps and other tests
take values from it (README "symbols").

Before sending, a step's (endpoint, wsa:Action) is looked up in the server's /health: an
action the endpoint does not serve yet makes the step `not-served` instead of sending it.
"""
from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from lxml import etree

from soap.client import SoapClient, SoapReply, SoapTransportError
from soap.faults import ACTION_NOT_SUPPORTED, SoapFault
from soap.mtom import OutgoingAttachment, include_element, new_content_id

from . import checks
from .checks import LoggedStep, Outcome
from .identities import IdSource, Identity, TestPatients
from .plans import ENDPOINT_ACTORS, ENDPOINT_PATHS, Section, Step, TestPlan, load_index, load_plan
from .results import BLOCKED, FAIL, NOT_SERVED, PASS, SKIPPED, RunReport, StepResult, TestResult
from .rewrite import XDSB_NS, AssignSources, apply_assign, replace_symbols, xpath_string

StepKey = tuple[str, str, str]  # (test, section, step)

#: Where a node takes known patients (README "Endpoints").
FEED_PATH = "/admin/patients"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class StepRecord:
    """What a step left behind for later steps."""

    status: str = ""
    maps: dict[str, dict[str, str]] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    response: etree._Element | None = None


class Unresolved(Exception):
    """A symbol has no value; `blocked` when that is because a step was not served."""

    def __init__(self, reason: str, *, blocked: bool = False):
        super().__init__(reason)
        self.blocked = blocked


class Harness:
    """Replays test plans from `nist_dir` against the node at `base_url`."""

    def __init__(self, nist_dir: Path, base_url: str, *, identity: Identity | None = None,
                 home_community_from_health: bool = True,
                 http_client: httpx.Client | None = None, timeout: float = 60.0,
                 progress: Callable[[TestResult], None] | None = None, dump_dir: Path | None = None,
                 feed_patients: bool = False):
        self.nist_dir = Path(nist_dir)
        self.base_url = base_url.rstrip("/")
        self._home_from_health = home_community_from_health
        self.identity = identity or Identity()
        self._http = http_client or httpx.Client(timeout=timeout)
        self._owns_http = http_client is None
        self._clients: dict[str, SoapClient] = {}
        self._progress = progress
        self.dump_dir = Path(dump_dir) if dump_dir else None
        self.ids = IdSource(self.identity, on_patient=self.feed_patient if feed_patients else None)
        self.feed_errors: list[str] = []
        self.records: dict[StepKey, StepRecord] = {}
        self.served: dict[str, frozenset[str]] = {}

    # ------------------------------------------------------------ setup

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def read_health(self) -> dict[str, Any]:
        """Learn from /health which actions each actor serves (and the home community id)."""
        reply = self._http.get(self.base_url + "/health")
        reply.raise_for_status()
        health = reply.json()
        self.served = {actor: frozenset(info.get("actions") or ())
                       for actor, info in (health.get("actors") or {}).items()}
        if self._home_from_health and health.get("home_community_id"):
            self.identity = replace(self.identity, home_community_id=health["home_community_id"])
            self.ids.identity = self.identity
        return health

    def feed_patient(self, patient: str) -> None:
        """Make a patient known to a registry serving only fed patients (POST /admin/patients)."""
        try:
            self._http.post(self.base_url + FEED_PATH, json={"patients": [patient]}).raise_for_status()
        except httpx.HTTPError as exc:
            self.feed_errors.append(f"{patient}: {exc}")

    def select(self, groups: Iterable[str] = (), tests: Iterable[str] = (),
               preload: bool = True) -> list[TestPlan]:
        """Plans to run, preload tests first, then the chosen ones in index order."""
        groups, tests = set(groups), set(tests)
        index = load_index(self.nist_dir)
        unknown = tests - {entry.test for entry in index}
        if unknown:
            raise ValueError(f"unknown test(s): {', '.join(sorted(unknown))}")
        plans = [load_plan(self.nist_dir, entry.test) for entry in index]
        chosen = [p for p in plans if (not groups and not tests)
                  or p.test in tests or (groups & set(p.groups))]
        first = [p for p in plans if p.preload and (preload or p in chosen)]
        return first + [p for p in chosen if not p.preload]

    # ------------------------------------------------------------ running

    def run(self, plans: Sequence[TestPlan]) -> RunReport:
        if not self.served:
            self.read_health()
        results = []
        for plan in plans:
            result = self.run_test(plan)
            results.append(result)
            if self._progress:
                self._progress(result)
        return RunReport(results, self.base_url, {a: sorted(s) for a, s in self.served.items()})

    def run_test(self, plan: TestPlan) -> TestResult:
        result = TestResult(plan.test, plan.title, plan.groups)
        run = _TestRun(plan, TestPatients(self.ids))
        for section in plan.sections:
            run.section = section.name
            log: list[LoggedStep] = []
            for step in section.steps:
                started = time.monotonic()
                step_result = self._run_step(run, section, step, log)
                step_result.seconds = round(time.monotonic() - started, 3)
                if step_result.status in (NOT_SERVED, BLOCKED):
                    run.held_back = True
                result.steps.append(step_result)
        return result

    def _run_step(self, run: _TestRun, section: Section, step: Step, log: list[LoggedStep]) -> StepResult:
        key = (run.plan.test, section.name, step.id)
        record = self.records[key] = StepRecord()
        result = StepResult(section.name, step.id, step.transaction, PASS)
        if step.skip:
            result.status, result.reason = SKIPPED, f"skip: {step.skip}"
        elif step.new_patient_id:
            run.patients.new_current()
            result.status, result.reason = SKIPPED, "new patient id"
        elif step.transaction is None:
            self._null_step(run, step, log, result)
        else:
            self._message_step(run, step, log, record, result)
        record.status = result.status
        return result

    def _null_step(self, run: _TestRun, step: Step, log: list[LoggedStep], result: StepResult) -> None:
        try:
            symbols = self.resolve_symbols(step, run.patients, run.plan.test)
        except Unresolved as exc:
            return self._settle(run, result, [str(exc)], blocked=exc.blocked)
        log.append(LoggedStep(step.id, step.element or "NullTransaction", None))
        reasons = checks.check_assertions(step.expect.get("assertions") or (), checks.section_log(log), symbols)
        self._settle(run, result, reasons)

    def _message_step(self, run: _TestRun, step: Step, log: list[LoggedStep],
                      record: StepRecord, result: StepResult) -> None:
        unserved = self.unserved_reason(step)
        if unserved:
            result.status, result.reason = NOT_SERVED, unserved
            log.append(LoggedStep(step.id, step.element or "Transaction", None))
            return
        try:
            symbols = self.resolve_symbols(step, run.patients, run.plan.test)
        except Unresolved as exc:
            return self._settle(run, result, [str(exc)], blocked=exc.blocked)
        try:
            request = self.build_request(run.plan, step, symbols, run.patients, record)
        except (OSError, etree.XMLSyntaxError, etree.XPathError, ValueError) as exc:
            return self._settle(run, result, [f"harness could not build the request: {exc}"])
        result.notes.extend(request.notes)
        if step.wait_ms:
            time.sleep(step.wait_ms / 1000)
        self._dump(run, step, "request", request.body)
        try:
            reply = self._client(step.endpoint).call(step.action, request.body,
                                                      attachments=request.attachments, mtom=step.mtom)
        except SoapTransportError as exc:
            log.append(LoggedStep(step.id, step.element or "Transaction", None))
            return self._settle(run, result, [f"no SOAP reply: {exc}"])
        self._dump(run, step, "response", reply.body)
        try:
            outcome = _outcome(reply)
            log.append(LoggedStep(step.id, step.element or "Transaction", reply.body))
            reasons = self.check_reply(run, step, symbols, request, outcome, log)
            if reply.fault is None:
                record.response = deepcopy(reply.body)
                for report in step.reports:
                    if report.get("on") == "response":
                        value = xpath_string(reply.body, report["xpath"])
                        if value is None:
                            result.notes.append(f"report {report['name']}: nothing in the response")
                        else:
                            record.reports[report["name"]] = value
        finally:
            reply.close()
        self._settle(run, result, reasons)

    def _dump(self, run: _TestRun, step: Step, kind: str, body: etree._Element) -> None:
        """With `dump_dir`: <dump>/<test>/<section>__<step>.<kind>.xml, for diagnosis."""
        if self.dump_dir is None:
            return
        folder = self.dump_dir / run.plan.test
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{run.section}__{step.id}.{kind}.xml").write_bytes(etree.tostring(body, pretty_print=True))

    def _settle(self, run: _TestRun, result: StepResult, reasons: list[str], *, blocked: bool = False) -> None:
        if not reasons:
            result.status = PASS
            return
        result.status = BLOCKED if blocked or run.held_back else FAIL
        result.reason = "; ".join(reasons + [f"note: {note}" for note in result.notes])

    def unserved_reason(self, step: Step) -> str:
        actor = ENDPOINT_ACTORS.get(step.endpoint or "")
        if actor is None:
            return f"harness does not know the endpoint {step.endpoint!r}"
        if actor not in self.served:
            return f"{step.transaction}: actor {actor} is not enabled on the server"
        if step.action not in self.served[actor]:
            return f"{step.transaction} ({step.action}) not served by {ENDPOINT_PATHS[step.endpoint]} yet"
        return ""

    # ------------------------------------------------------------ symbols and requests

    def resolve_symbols(self, step: Step, patients: TestPatients, test: str) -> dict[str, str]:
        values = {}
        for symbol in step.symbols:
            values[symbol["symbol"]] = self.symbol_value(symbol["symbol"], symbol["from"], patients)
        return values

    def symbol_value(self, symbol: str, source: Mapping[str, Any], patients: TestPatients) -> str:
        kind = source.get("kind")
        if kind == "patient":
            return patients.slot(str(source.get("slot") or "main"))
        if kind == "param":
            params = self.identity.params()
            if source.get("name") not in params:
                raise Unresolved(f"{symbol}: harness has no parameter {source.get('name')!r}")
            return params[source["name"]]
        if kind in ("id", "report"):
            key = (str(source["test"]), str(source["section"]), str(source["step"]))
            where = "/".join(key)
            record = self.records.get(key)
            if record is None:
                raise Unresolved(f"{symbol}: step {where} has not run")
            if kind == "id":
                value = record.maps.get(source["map"], {}).get(source["id"])
                missing = f"{symbol}: step {where} recorded no {source['id']} in {source['map']}"
            else:
                value = record.reports.get(source["name"])
                missing = f"{symbol}: step {where} has no report {source['name']}"
            if value is None:
                held = record.status in (NOT_SERVED, BLOCKED)
                raise Unresolved(missing + f" (it was {record.status})" if record.status else missing, blocked=held)
            return value
        raise Unresolved(f"{symbol}: harness does not know symbol kind {kind!r}")

    def build_request(self, plan: TestPlan, step: Step, symbols: Mapping[str, str],
                      patients: TestPatients, record: StepRecord) -> Request:
        """The body to send: symbols replaced, ids assigned, documents attached; records the
        assigned values and the request reports in `record`."""
        if not step.body:
            raise ValueError("the step names no body")
        body = etree.parse(str(plan.folder / step.body), _PARSER).getroot()
        replace_symbols(body, symbols)
        assigned = apply_assign(body, step.assign, AssignSources(
            current_patient=patients.current, alt_patient=self.ids.alt_patient,
            unique_id=self.ids.unique_id, uuid=self.ids.uuid, source_id=self.identity.source_id,
        ))
        record.maps = assigned.maps()
        record.reports.update(assigned.reports())
        request = Request(body)
        request.attachments = attach_documents(body, step, plan.folder, assigned.uuids, request.notes)
        for report in step.reports:
            if report.get("on") == "request":
                value = xpath_string(body, report["xpath"])
                if value is None:
                    request.notes.append(f"report {report['name']}: nothing in the request")
                else:
                    record.reports[report["name"]] = value
        request.document_requests = sum(1 for _ in body.iter(f"{{{XDSB_NS}}}DocumentRequest"))
        unbound = unbound_placeholders(body)
        if unbound:
            request.notes.append(f"the request still holds {', '.join(unbound)} (no symbol for it in the manifest)")
        return request

    def check_reply(self, run: _TestRun, step: Step, symbols: Mapping[str, str], request: Request,
                    outcome: Outcome, log: list[LoggedStep]) -> list[str]:
        expect = step.expect
        expected_status = expect.get("status")
        if outcome.fault and "ActionNotSupported" in outcome.fault and expected_status != "Fault":
            return [f"{outcome.fault} (although /health lists the action)"]
        reasons = checks.check_status(expected_status, outcome)
        if expected_status == "Fault":
            return reasons
        reasons += checks.check_envelope(step.action, step.mtom, outcome)
        reasons += checks.check_error_codes(expect.get("error_codes") or (), expect.get("error_messages") or (),
                                            None if outcome.fault else outcome.body)
        if expect.get("contents"):
            reasons += checks.check_contents(expect["contents"], None if outcome.fault else outcome.body, symbols)
        if expect.get("assertions"):
            reasons += checks.check_assertions(expect["assertions"], checks.section_log(log), symbols)
        if expect.get("retrieve"):
            reasons += checks.check_retrieve(
                expect["retrieve"], expected_status=expected_status, requested=request.document_requests,
                outcome=outcome, symbols=symbols, folder=run.plan.folder, reference_result=self._recorded_response,
            )
        return reasons

    def _recorded_response(self, ref: Mapping[str, str]) -> etree._Element | None:
        record = self.records.get((str(ref["test"]), str(ref["section"]), str(ref["step"])))
        return record.response if record else None

    def _client(self, endpoint: str) -> SoapClient:
        url = self.base_url + ENDPOINT_PATHS[endpoint]
        if url not in self._clients:
            self._clients[url] = SoapClient(url, http_client=self._http)
        return self._clients[url]


@dataclass
class _TestRun:
    plan: TestPlan
    patients: TestPatients
    section: str = ""
    held_back: bool = False  # a step of this test was not served (or blocked)


@dataclass
class Request:
    body: etree._Element
    attachments: list[OutgoingAttachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    document_requests: int = 0


_PLACEHOLDER = re.compile(r"\$[A-Za-z_][A-Za-z0-9_.]*\$")


def unbound_placeholders(body: etree._Element) -> list[str]:
    """`$name$` placeholders left in text nodes and attribute values (comments aside)."""
    found = set()
    for node in body.iter():
        texts = [node.tail] + ([node.text, *node.attrib.values()] if isinstance(node.tag, str) else [])
        for text in texts:
            if text and "$" in text:
                found.update(_PLACEHOLDER.findall(text))
    return sorted(found)


def attach_documents(body: etree._Element, step: Step, folder: Path, uuids: Mapping[str, str],
                     notes: list[str]) -> list[OutgoingAttachment]:
    """Fill each xdsb:Document with its file: an xop:Include and an attachment when the step
    is MTOM, inline base64 otherwise."""
    by_id = {uuids.get(document.id, document.id): document for document in step.documents}
    attachments = []
    for element in body.iter(f"{{{XDSB_NS}}}Document"):
        document = by_id.pop(element.get("id"), None)
        if document is None:
            notes.append(f"xdsb:Document {element.get('id')} has no file in the manifest")
            continue
        data = (folder / document.file).read_bytes()
        for child in list(element):
            element.remove(child)
        if step.mtom:
            content_id = new_content_id()
            element.text = None
            element.append(include_element(content_id))
            attachments.append(OutgoingAttachment.from_bytes(content_id, data, document.mime_type))
        else:
            element.text = base64.b64encode(data).decode("ascii")
    for document in by_id.values():
        notes.append(f"manifest document {document.id} has no xdsb:Document in the body")
    return attachments


def _outcome(reply: SoapReply) -> Outcome:
    return Outcome(
        body=reply.body,
        fault=describe_fault(reply.fault) if reply.fault is not None else None,
        action=reply.addressing.action,
        is_mtom=reply.is_mtom,
        content=lambda element: reply.content_of(element).read_bytes(),
    )


def describe_fault(fault: SoapFault) -> str:
    subcode = f"/{etree.QName(fault.subcode).localname}" if fault.subcode else ""
    if fault.subcode == ACTION_NOT_SUPPORTED:
        subcode = "/ActionNotSupported"
    return f"SOAP Fault {fault.code}{subcode}: {fault.reason}"
