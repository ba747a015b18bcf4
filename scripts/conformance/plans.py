"""The converted NIST test plans: `index.json` and each test's `manifest.json`, read into
plain frozen values. The format is described in the README next to the index.

`LOST_SYMBOLS` adds the symbols a converted manifest lacks: in the toolkit, 12361 takes its
patients from the feed tests 15819/15820 (`UseReport … test="15820"`), which the conversion
dropped; 12364 queries those documents by the same slots ($patient_id1$ = 15820, $patient_id2$ =
15819), so both tests must name the same patients.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Which actor of a node answers a manifest's `endpoint`, and at which path (README "endpoint").
ENDPOINT_ACTORS = {"registry": "registry", "repository": "repository", "rg": "xca_responding"}
ENDPOINT_PATHS = {"registry": "/registry", "repository": "/repository", "rg": "/xca"}


@dataclass(frozen=True)
class Document:
    """One ITI-41 attachment: `id` is the symbolic ExtrinsicObject id (= xdsb:Document/@id)."""

    id: str
    file: str
    mime_type: str


@dataclass(frozen=True)
class Step:
    id: str
    element: str | None = None
    transaction: str | None = None
    action: str | None = None
    endpoint: str | None = None
    mtom: bool = False
    body: str | None = None
    body_root: str | None = None
    documents: tuple[Document, ...] = ()
    skip: str | None = None
    new_patient_id: bool = False
    assign: dict[str, Any] = field(default_factory=dict)
    symbols: tuple[dict[str, Any], ...] = ()
    reports: tuple[dict[str, Any], ...] = ()
    expect: dict[str, Any] = field(default_factory=dict)
    wait_ms: int | None = None

    @property
    def sends_message(self) -> bool:
        return not self.skip and not self.new_patient_id and self.transaction is not None


@dataclass(frozen=True)
class Section:
    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class TestPlan:
    test: str
    title: str
    groups: tuple[str, ...]
    preload: bool
    sections: tuple[Section, ...]
    folder: Path

    __test__ = False  # not a pytest class

    def steps(self):
        for section in self.sections:
            for step in section.steps:
                yield section, step

    @property
    def transactions(self) -> frozenset[tuple[str, str]]:
        """(endpoint, action) of every step that sends a message."""
        return frozenset((s.endpoint, s.action) for _, s in self.steps() if s.sends_message)


@dataclass(frozen=True)
class IndexEntry:
    test: str
    groups: tuple[str, ...]
    steps: int


#: (test, step id) → symbols the converted manifest lost (see the module docstring)
LOST_SYMBOLS: dict[tuple[str, str], tuple[dict[str, Any], ...]] = {
    ("12361", "multi_doc"): ({"symbol": "$patient_id1$", "from": {"kind": "patient", "slot": "15820"}},),
    ("12361", "single_doc"): ({"symbol": "$patient_id2$", "from": {"kind": "patient", "slot": "15819"}},),
}


def load_index(nist_dir: Path) -> list[IndexEntry]:
    index = json.loads((nist_dir / "index.json").read_text())
    return [IndexEntry(t["test"], tuple(t.get("groups", ())), int(t.get("steps", 0))) for t in index["tests"]]


def load_plan(nist_dir: Path, test: str) -> TestPlan:
    folder = nist_dir / test
    return plan_from_dict(json.loads((folder / "manifest.json").read_text()), folder)


def plan_from_dict(manifest: dict[str, Any], folder: Path) -> TestPlan:
    return TestPlan(
        test=str(manifest["test"]),
        title=manifest.get("title") or "",
        groups=tuple(manifest.get("groups") or ()),
        preload=bool(manifest.get("preload")),
        sections=tuple(
            Section(section["name"], tuple(_step(step, str(manifest["test"])) for step in section.get("steps") or ()))
            for section in manifest.get("sections") or ()
        ),
        folder=folder,
    )


def _step(raw: dict[str, Any], test: str) -> Step:
    lost = tuple(s for s in LOST_SYMBOLS.get((test, str(raw["id"])), ())
                 if s["symbol"] not in {known["symbol"] for known in raw.get("symbols") or ()})
    return Step(
        id=str(raw["id"]),
        element=raw.get("element"),
        transaction=raw.get("transaction"),
        action=raw.get("action"),
        endpoint=raw.get("endpoint"),
        mtom=bool(raw.get("mtom")),
        body=raw.get("body"),
        body_root=raw.get("body_root"),
        documents=tuple(Document(d["id"], d["file"], d.get("mime_type") or "application/octet-stream")
                        for d in raw.get("documents") or ()),
        skip=raw.get("skip"),
        new_patient_id=bool(raw.get("new_patient_id")),
        assign=dict(raw.get("assign") or {}),
        symbols=(*tuple(raw.get("symbols") or ()), *lost),
        reports=tuple(raw.get("reports") or ()),
        expect=dict(raw.get("expect") or {}),
        wait_ms=raw.get("wait_ms"),
    )
