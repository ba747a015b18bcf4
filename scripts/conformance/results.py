"""Outcomes of a harness run: per step and per test, the per-group table, the JSON report and
the expected-pass file (`tests/conformance/nist_expected.json`).

Step statuses:
  pass        every expectation held;
  fail        some did not (`reason` says which);
  not-served  the server's /health does not list the step's wsa:Action at its endpoint;
  blocked     the step failed, but an earlier step of its test (or a step it takes values
              from) was not served, so the failure says nothing yet;
  skipped     nothing to send (a `skip` step, `new_patient_id`).
A test is not-served when any of its steps is, else fail when any step fails, else pass.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

PASS, FAIL, NOT_SERVED, BLOCKED, SKIPPED = "pass", "fail", "not-served", "blocked", "skipped"
STEP_STATUSES = (PASS, FAIL, NOT_SERVED, BLOCKED, SKIPPED)


@dataclass
class StepResult:
    section: str
    step: str
    transaction: str | None
    status: str
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.section}/{self.step}"


@dataclass
class TestResult:
    test: str
    title: str
    groups: tuple[str, ...]
    steps: list[StepResult] = field(default_factory=list)

    __test__ = False

    @property
    def status(self) -> str:
        statuses = {s.status for s in self.steps}
        if NOT_SERVED in statuses:
            return NOT_SERVED
        if FAIL in statuses or BLOCKED in statuses:
            return FAIL
        return PASS

    def diagnosis(self) -> str:
        """One line per step that did not pass."""
        lines = [f"{s.name} [{s.transaction or '-'}] {s.status}: {s.reason}"
                 for s in self.steps if s.status in (FAIL, BLOCKED, NOT_SERVED)]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"test": self.test, "title": self.title, "groups": list(self.groups), "status": self.status,
                "steps": [asdict(s) for s in self.steps]}


@dataclass
class RunReport:
    results: list[TestResult]
    base_url: str = ""
    served: dict[str, list[str]] = field(default_factory=dict)

    def by_test(self) -> dict[str, TestResult]:
        return {r.test: r for r in self.results}

    def passed(self) -> list[str]:
        return [r.test for r in self.results if r.status == PASS]

    def to_dict(self) -> dict:
        return {"base_url": self.base_url, "served": self.served,
                "summary": summary_rows(self.results), "tests": [r.to_dict() for r in self.results]}

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")


def summary_rows(results: Sequence[TestResult]) -> list[dict]:
    """One row per group (a test counts in each of its groups) and a total row."""
    groups: dict[str, list[TestResult]] = {}
    for result in results:
        for group in result.groups or ("-",):
            groups.setdefault(group, []).append(result)
    rows = [_row(group, members) for group, members in groups.items()]
    rows.append(_row("total", list(results)))
    return rows


def _row(group: str, members: Sequence[TestResult]) -> dict:
    row = {"group": group, "tests": len(members)}
    for status in (PASS, FAIL, NOT_SERVED):
        row[f"tests_{status}"] = sum(1 for r in members if r.status == status)
    steps = [s for r in members for s in r.steps]
    row["steps"] = len(steps)
    for status in STEP_STATUSES:
        row[f"steps_{status}"] = sum(1 for s in steps if s.status == status)
    return row


def format_table(results: Sequence[TestResult]) -> str:
    header = ("group", "tests", "pass", "fail", "n/s", "steps", "pass", "fail", "n/s", "blocked", "skip")
    lines = [_format(header), _format(["-" * len(h) for h in header])]
    for row in summary_rows(results):
        if row["group"] == "total":
            lines.append(_format(["-" * len(h) for h in header]))
        lines.append(_format((
            row["group"], row["tests"], row["tests_pass"], row["tests_fail"], row["tests_not-served"],
            row["steps"], row["steps_pass"], row["steps_fail"], row["steps_not-served"],
            row["steps_blocked"], row["steps_skipped"],
        )))
    return "\n".join(lines)


def _format(cells: Iterable) -> str:
    cells = list(cells)
    return f"{str(cells[0]):<8}" + "".join(f"{str(c):>8}" for c in cells[1:])


def format_failures(results: Sequence[TestResult]) -> str:
    blocks = []
    for result in results:
        if result.status == FAIL:
            blocks.append(f"{result.test} ({result.title})\n" + _indent(result.diagnosis()))
    return "\n".join(blocks)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# ---------------------------------------------------------------- expected-pass file


def read_expected(path: Path) -> list[str]:
    if not path.exists():
        return []
    return list(json.loads(path.read_text()).get("pass", []))


def write_expected(path: Path, results: Sequence[TestResult], order: Sequence[str]) -> list[str]:
    """Record which tests pass: tests that ran are in the list exactly when they passed;
    tests that did not run keep their previous membership. Returns the new list."""
    ran = {r.test: r.status == PASS for r in results}
    keep = {t for t in read_expected(path) if t not in ran}
    passing = keep | {t for t, ok in ran.items() if ok}
    ordered = [t for t in order if t in passing] + sorted(passing - set(order))
    path.write_text(json.dumps({
        "about": "NIST conformance tests known to pass against `xdsno serve --profile ihe`; "
                 "tests/conformance/test_nist.py fails when one of them stops passing. "
                 "Regenerate: python scripts/conformance/nist.py --serve --write-expected",
        "pass": ordered,
    }, indent=1) + "\n")
    return ordered
