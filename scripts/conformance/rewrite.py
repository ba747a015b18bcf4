"""Turning a manifest's request body into the message sent: symbol replacement and the
`assign` pass (patient ids, uniqueIds, sourceId, `urn:uuid:` ids), README "assign".

Both work on an lxml tree in place. Symbols are plain substring replacements in every text
node and attribute value (comments are left alone); longer symbols go first so `$patientid`
never eats the front of `$patientid$`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

RIM_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
XDSB_NS = "urn:ihe:iti:xds-b:2007"
EXTERNAL_IDENTIFIER = f"{{{RIM_NS}}}ExternalIdentifier"

DOCUMENT_ENTRY_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
SUBMISSION_SET_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
FOLDER_PATIENT_ID = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
DOCUMENT_ENTRY_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SUBMISSION_SET_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
FOLDER_UNIQUE_ID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"
SUBMISSION_SET_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"

PATIENT_ID_SCHEMES = frozenset({DOCUMENT_ENTRY_PATIENT_ID, SUBMISSION_SET_PATIENT_ID, FOLDER_PATIENT_ID})
UNIQUE_ID_SCHEMES = frozenset({DOCUMENT_ENTRY_UNIQUE_ID, SUBMISSION_SET_UNIQUE_ID, FOLDER_UNIQUE_ID})
#: Attributes holding an object id (its own or a reference) that `assign.uuids` rewrites.
ID_ATTRIBUTES = ("id", "lid", "classifiedObject", "registryObject", "sourceObject", "targetObject")

#: Map names of `{"kind": "id"}` symbols.
ASSIGNED_PATIENT_ID = "AssignedPatientId"
ASSIGNED_UIDS = "AssignedUids"
ASSIGNED_UUIDS = "AssignedUuids"


def replace_symbols(root: etree._Element, values: Mapping[str, str]) -> None:
    """Replace every symbol by its value in all text nodes and attribute values under `root`."""
    if not values:
        return
    ordered = sorted(values.items(), key=lambda item: len(item[0]), reverse=True)

    def fix(text: str | None) -> str | None:
        if not text:
            return text
        for symbol, value in ordered:
            if symbol in text:
                text = text.replace(symbol, value)
        return text

    for node in root.iter():
        if isinstance(node.tag, str):
            node.text = fix(node.text)
            for name, value in node.attrib.items():
                fixed = fix(value)
                if fixed != value:
                    node.set(name, fixed)
        if node is not root:
            node.tail = fix(node.tail)


def replace_in_text(text: str, values: Mapping[str, str]) -> str:
    """The same replacement on a plain string (assertion XPaths, symbol-valued fields)."""
    for symbol, value in sorted(values.items(), key=lambda item: len(item[0]), reverse=True):
        text = text.replace(symbol, value)
    return text


@dataclass
class Assigned:
    """What the assign pass set or found, keyed by symbolic object id (README maps)."""

    patient_ids: dict[str, str] = field(default_factory=dict)
    unique_ids: dict[str, str] = field(default_factory=dict)
    uuids: dict[str, str] = field(default_factory=dict)

    def maps(self) -> dict[str, dict[str, str]]:
        return {ASSIGNED_PATIENT_ID: self.patient_ids, ASSIGNED_UIDS: self.unique_ids, ASSIGNED_UUIDS: self.uuids}

    def reports(self) -> dict[str, str]:
        """The automatic reports `<id>_uid` and `<id>_uuid`."""
        found = {f"{name}_uid": value for name, value in self.unique_ids.items()}
        found.update({f"{name}_uuid": value for name, value in self.uuids.items()})
        return found


@dataclass(frozen=True)
class AssignSources:
    """Where assigned values come from; callables so each use can draw a fresh one."""

    current_patient: str
    alt_patient: Callable[[], str]
    unique_id: Callable[[], str]
    uuid: Callable[[], str]
    source_id: str


def apply_assign(root: etree._Element, assign: Mapping[str, Any], sources: AssignSources) -> Assigned:
    """The README `assign` pass, in place; does nothing unless `assign.submission` is true."""
    assigned = Assigned()
    if not assign.get("submission"):
        return assigned
    identifiers = [e for e in root.iter(EXTERNAL_IDENTIFIER)]
    mode = assign.get("patient_id")
    alt = sources.alt_patient() if mode == "alt" else None
    keep = set(assign.get("keep_unique_ids_of") or ())
    for identifier in identifiers:
        scheme = identifier.get("identificationScheme")
        owner = identifier.get("registryObject") or ""
        if scheme in PATIENT_ID_SCHEMES:
            if mode == "current":
                identifier.set("value", sources.current_patient)
            elif mode == "alt":
                identifier.set("value", alt)
            assigned.patient_ids[owner] = identifier.get("value") or ""
        elif scheme in UNIQUE_ID_SCHEMES:
            if assign.get("unique_ids") and owner not in keep:
                identifier.set("value", sources.unique_id())
            assigned.unique_ids[owner] = identifier.get("value") or ""
        elif scheme == SUBMISSION_SET_SOURCE_ID and assign.get("source_id"):
            identifier.set("value", sources.source_id)
    if assign.get("uuids"):
        assigned.uuids = assign_uuids(root, sources.uuid)
    return assigned


def assign_uuids(root: etree._Element, new_uuid: Callable[[], str]) -> dict[str, str]:
    """Give every object id not already a `urn:uuid:` a new one and rewrite all references
    (including xdsb:Document/@id); returns symbolic id -> uuid."""
    mapping: dict[str, str] = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.tag.startswith(f"{{{RIM_NS}}}"):
            value = node.get("id")
            if value and not value.startswith("urn:uuid:") and value not in mapping:
                mapping[value] = new_uuid()
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        for name in ID_ATTRIBUTES:
            value = node.get(name)
            if value in mapping:
                node.set(name, mapping[value])
    return mapping


def xpath_string(root: etree._Element, expression: str) -> str | None:
    """The XPath 1.0 string value of `expression` on `root` (first node of a node-set);
    None when the node-set is empty."""
    result = root.xpath(expression)
    if isinstance(result, list):
        if not result:
            return None
        first = result[0]
        if isinstance(first, etree._Element):
            return "".join(first.itertext())
        return str(first)
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, float):
        return str(int(result)) if result.is_integer() else str(result)
    return str(result)
