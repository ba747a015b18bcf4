"""Every `expect` kind of the converted NIST manifests (README "expect"), as functions that
return the list of reasons a step fails (empty: the check passes).

The checks read only the wire: the reply's payload element, whether it was a SOAP fault,
its wsa:Action, whether it came as MTOM, and attachment contents.
"""
from __future__ import annotations

import hashlib
from copy import deepcopy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from .rewrite import (
    DOCUMENT_ENTRY_UNIQUE_ID,
    FOLDER_PATIENT_ID,
    FOLDER_UNIQUE_ID,
    RIM_NS,
    SUBMISSION_SET_PATIENT_ID,
    SUBMISSION_SET_SOURCE_ID,
    SUBMISSION_SET_UNIQUE_ID,
    XDSB_NS,
    replace_in_text,
)

RS_NS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM = f"{{{RIM_NS}}}"
XDSB = f"{{{XDSB_NS}}}"
EBXML_STATUS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:"
IHE_STATUS = "urn:ihe:iti:2007:ResponseStatusType:"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
FOLDER_NODE = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
ASSOCIATION_TYPES = {
    "HasRPLC": "urn:ihe:iti:2007:AssociationType:RPLC",
    "HasAPND": "urn:ihe:iti:2007:AssociationType:APND",
    "HasXFRM_RPLC": "urn:ihe:iti:2007:AssociationType:XFRM_RPLC",
}
_SUBMISSION_SET_SCHEMES = frozenset({SUBMISSION_SET_UNIQUE_ID, SUBMISSION_SET_PATIENT_ID, SUBMISSION_SET_SOURCE_ID})
_FOLDER_SCHEMES = frozenset({FOLDER_UNIQUE_ID, FOLDER_PATIENT_ID})


@dataclass
class Outcome:
    """What came back for one message. `body` is the SOAP Body's payload element (the
    env:Fault for a fault); `content` reads a DocumentResponse/Document's bytes."""

    body: etree._Element | None
    fault: str | None = None
    action: str | None = None
    is_mtom: bool = False
    content: Callable[[etree._Element], bytes] | None = None


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


# ---------------------------------------------------------------- status and errors


def response_status(body: etree._Element) -> str | None:
    """@status of the response root, or of its rs:RegistryResponse child (retrieve responses)."""
    if body.get("status") is not None:
        return body.get("status")
    inner = body.find(f"{{{RS_NS}}}RegistryResponse")
    return inner.get("status") if inner is not None else None


def short_status(status: str | None) -> str:
    if status is None:
        return "no status"
    for prefix in (EBXML_STATUS, IHE_STATUS):
        if status.startswith(prefix):
            return status[len(prefix):]
    return status


def registry_errors(body: etree._Element) -> list[tuple[str, str]]:
    """(errorCode, codeContext) of every rs:RegistryError in the reply."""
    return [(e.get("errorCode") or "", e.get("codeContext") or "") for e in body.iter(f"{{{RS_NS}}}RegistryError")]


def describe_errors(body: etree._Element, limit: int = 3) -> str:
    errors = registry_errors(body)
    if not errors:
        return ""
    shown = "; ".join(f"{code} {_clip(context, 140)}".strip() for code, context in errors[:limit])
    more = f" (+{len(errors) - limit} more)" if len(errors) > limit else ""
    return shown + more


def check_status(expected: str | None, outcome: Outcome) -> list[str]:
    if expected is None:
        return []
    if expected == "Fault":
        return [] if outcome.fault else [f"expected a SOAP Fault, got {_status_phrase(outcome)}"]
    if outcome.fault:
        return [f"expected status {expected}, got {outcome.fault}"]
    if outcome.body is None:
        return [f"expected status {expected}, got no reply"]
    status = response_status(outcome.body)
    allowed = {EBXML_STATUS + expected}
    if expected == "PartialSuccess":
        allowed.add(IHE_STATUS + expected)
    if status in allowed:
        return []
    errors = describe_errors(outcome.body)
    return [f"expected status {expected}, got {short_status(status)}" + (f": {errors}" if errors else "")]


def _status_phrase(outcome: Outcome) -> str:
    if outcome.body is None:
        return "no reply"
    errors = describe_errors(outcome.body)
    return f"status {short_status(response_status(outcome.body))}" + (f": {errors}" if errors else "")


def check_envelope(action: str | None, mtom: bool, outcome: Outcome) -> list[str]:
    """The reply carries `action + "Response"` and is MTOM exactly when the request was."""
    if outcome.fault or outcome.body is None or action is None:
        return []
    reasons = []
    if outcome.action != action + "Response":
        reasons.append(f"reply wsa:Action {outcome.action!r}, expected {action + 'Response'!r}")
    if outcome.is_mtom != mtom:
        reasons.append("reply is " + ("MTOM" if outcome.is_mtom else "not MTOM")
                       + " but the request was " + ("MTOM" if mtom else "plain SOAP"))
    return reasons


def check_error_codes(codes: Iterable[str], messages: Iterable[str], body: etree._Element | None) -> list[str]:
    errors = registry_errors(body) if body is not None else []
    found_codes = {code for code, _ in errors}
    reasons = []
    for code in codes:
        if code not in found_codes:
            reasons.append(f"expected error code {code}, got {sorted(found_codes) or 'none'}")
    for message in messages:
        if not any(message in code or message in context for code, context in errors):
            reasons.append(f"expected an error mentioning {message!r}, got {sorted(found_codes) or 'none'}")
    return reasons


# ---------------------------------------------------------------- query contents


@dataclass
class QueryObjects:
    """The children of rim:RegistryObjectList, with RegistryPackages split by kind."""

    documents: list[etree._Element]
    submission_sets: list[etree._Element]
    folders: list[etree._Element]
    associations: list[etree._Element]
    object_refs: list[etree._Element]
    other: list[etree._Element]

    @classmethod
    def of(cls, body: etree._Element | None) -> QueryObjects:
        found = cls([], [], [], [], [], [])
        object_list = body.find(f".//{RIM}RegistryObjectList") if body is not None else None
        children = [c for c in object_list if isinstance(c.tag, str)] if object_list is not None else []
        classifications = [c for c in children if c.tag == RIM + "Classification"]
        for child in children:
            name = local_name(child)
            if name == "ExtrinsicObject":
                found.documents.append(child)
            elif name == "RegistryPackage":
                kind = package_kind(child, classifications)
                (found.folders if kind == "folder" else found.submission_sets if kind == "ss" else found.other).append(child)
            elif name == "Association":
                found.associations.append(child)
            elif name == "ObjectRef":
                found.object_refs.append(child)
            elif name != "Classification":
                found.other.append(child)
        return found

    @property
    def count(self) -> int:
        return sum(map(len, (self.documents, self.submission_sets, self.folders, self.associations,
                             self.object_refs, self.other)))


def package_kind(package: etree._Element, classifications: Sequence[etree._Element] = ()) -> str:
    """'ss', 'folder' or '' for a RegistryPackage: by classification node, else by the
    schemes of its ExternalIdentifiers."""
    own_id = package.get("id")
    nodes = {c.get("classificationNode") for c in package.findall(RIM + "Classification")}
    nodes |= {c.get("classificationNode") for c in classifications if c.get("classifiedObject") == own_id}
    if SUBMISSION_SET_NODE in nodes:
        return "ss"
    if FOLDER_NODE in nodes:
        return "folder"
    schemes = {e.get("identificationScheme") for e in package.findall(RIM + "ExternalIdentifier")}
    if schemes & _SUBMISSION_SET_SCHEMES:
        return "ss"
    if schemes & _FOLDER_SCHEMES:
        return "folder"
    return ""


_COUNTED = {
    "Documents": "documents", "DocumentEntries": "documents", "Folders": "folders",
    "SubmissionSets": "submission_sets", "Associations": "associations", "ObjectRefs": "object_refs",
}
_SS_WITH = {  # check -> (documents, folders)
    "SSwithOneDoc": (1, 0), "SSwithTwoDoc": (2, 0), "SSwithOneDocOneFol": (1, 1),
    "SSwithTwoDocOneFol": (2, 1), "SSwithOneFol": (0, 1),
}


def check_contents(items: Sequence[Mapping[str, Any]], body: etree._Element | None,
                   symbols: Mapping[str, str] | None = None) -> list[str]:
    objects = QueryObjects.of(body)
    reasons: list[str] = []
    for item in items:
        reasons.extend(check_content(item, objects, symbols or {}))
    return reasons


def check_content(item: Mapping[str, Any], objects: QueryObjects, symbols: Mapping[str, str]) -> list[str]:
    check = item.get("check")
    if "verbatim" in item:
        return check_verbatim(item["verbatim"], objects, symbols)
    if check in _COUNTED and "count" in item:
        found = len(getattr(objects, _COUNTED[check]))
        wanted = int(item["count"])
        return [] if found == wanted else [f"expected {wanted} {check}, found {found}"]
    if check == "None":
        return [] if objects.count == 0 else [f"expected no objects, found {objects.count}"]
    if check in _SS_WITH:
        return _submission_set_with(check, *_SS_WITH[check], objects)
    if check in ("DocApp", "DocDep", "FolApp"):
        pool, status = (objects.folders, APPROVED) if check == "FolApp" else (
            objects.documents, APPROVED if check == "DocApp" else DEPRECATED)
        wrong = [o.get("id") for o in pool if o.get("status") != status]
        return [] if not wrong else [f"{check}: {len(wrong)} of {len(pool)} not {status.rsplit(':', 1)[1]}: {wrong[:3]}"]
    if check in ("OneDocApp", "OneDocDep"):
        status = APPROVED if check == "OneDocApp" else DEPRECATED
        found = sum(1 for o in objects.documents if o.get("status") == status)
        return [] if found == 1 else [f"{check}: expected exactly one {status.rsplit(':', 1)[1]} DocumentEntry, found {found}"]
    if check == "SSApproved":
        if not objects.submission_sets:
            return ["SSApproved: no SubmissionSet in the result"]
        wrong = [o.get("id") for o in objects.submission_sets if o.get("status") != APPROVED]
        return [] if not wrong else [f"SSApproved: SubmissionSet {wrong[0]} is not Approved"]
    if check in ASSOCIATION_TYPES:
        wanted = ASSOCIATION_TYPES[check]
        found = any(a.get("associationType") == wanted for a in objects.associations)
        return [] if found else [f"{check}: no {wanted.rsplit(':', 1)[1]} association in the result"]
    return [f"harness does not know the contents check {dict(item)!r}"]


def _submission_set_with(check: str, documents: int, folders: int, objects: QueryObjects) -> list[str]:
    reasons = []
    if len(objects.submission_sets) != 1:
        reasons.append(f"{check}: expected one SubmissionSet, found {len(objects.submission_sets)}")
    if len(objects.documents) != documents:
        reasons.append(f"{check}: expected {documents} DocumentEntries, found {len(objects.documents)}")
    if len(objects.folders) != folders:
        reasons.append(f"{check}: expected {folders} Folders, found {len(objects.folders)}")
    if reasons:
        return reasons
    source = objects.submission_sets[0].get("id")
    members = {a.get("targetObject") for a in objects.associations
               if a.get("associationType") == HAS_MEMBER and a.get("sourceObject") == source}
    for member in objects.documents + objects.folders:
        if member.get("id") not in members:
            reasons.append(f"{check}: no HasMember from the SubmissionSet to {local_name(member)} {member.get('id')}")
    return reasons


def check_verbatim(verbatim: str, objects: QueryObjects, symbols: Mapping[str, str]) -> list[str]:
    """The toolkit's `<DocumentEntries><MustOnlyInclude><DocumentEntry><UseId symbol=…/>
    <DocumentEntryType>…</DocumentEntryType>` check: exactly these entries, of these types."""
    try:
        spec = etree.fromstring(verbatim.encode())
    except etree.XMLSyntaxError as exc:
        return [f"harness cannot read the verbatim check: {exc}"]
    wanted: dict[str, str | None] = {}
    for entry in spec.iter("DocumentEntry"):
        use = entry.find("UseId")
        if use is None or not use.get("symbol"):
            return ["harness does not know a DocumentEntry without UseId in the verbatim check"]
        symbol = use.get("symbol")
        if symbol not in symbols:
            return [f"verbatim check: symbol {symbol} has no value"]
        wanted[symbols[symbol]] = (entry.findtext("DocumentEntryType") or "").strip() or None
    found = {d.get("id"): d.get("objectType") for d in objects.documents}
    reasons = []
    if set(found) != set(wanted):
        reasons.append(f"DocumentEntries: expected exactly {sorted(wanted)}, found {sorted(found)}")
    for entry_id, object_type in wanted.items():
        if entry_id in found and object_type and found[entry_id] != object_type:
            reasons.append(f"DocumentEntries: {entry_id} has objectType {found[entry_id]}, expected {object_type}")
    return reasons


# ---------------------------------------------------------------- assertions over the log


@dataclass
class LoggedStep:
    step: str
    element: str
    body: etree._Element | None


def section_log(steps: Iterable[LoggedStep]) -> etree._Element:
    """`<TestResults><TestStep id=S><{element} step=S><Result>{body}</Result>…` (README)."""
    root = etree.Element("TestResults")
    for logged in steps:
        test_step = etree.SubElement(root, "TestStep", id=logged.step)
        element = etree.SubElement(test_step, logged.element or "NullTransaction", step=logged.step)
        result = etree.SubElement(element, "Result")
        if logged.body is not None:
            result.append(_copy(logged.body))
    return root


def _copy(element: etree._Element) -> etree._Element:
    return deepcopy(element)


def xpath_true(value: Any) -> bool:
    """XPath 1.0 boolean(): node-sets non-empty, strings non-empty, numbers non-zero."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value == value and value != 0.0
    if isinstance(value, (list, str)):
        return len(value) > 0
    return bool(value)


def check_assertions(assertions: Sequence[Mapping[str, str]], log: etree._Element,
                     symbols: Mapping[str, str]) -> list[str]:
    reasons = []
    for assertion in assertions:
        expression = replace_in_text(assertion["xpath"], symbols)
        try:
            value = log.xpath(expression)
        except etree.XPathError as exc:
            reasons.append(f"assertion {assertion.get('id')}: invalid XPath ({exc})")
            continue
        if not xpath_true(value):
            reasons.append(f"assertion {assertion.get('id')} is false: {_clip(' '.join(expression.split()), 200)}")
    return reasons


# ---------------------------------------------------------------- retrieve


def check_retrieve(spec: Mapping[str, Any], *, expected_status: str | None, requested: int,
                   outcome: Outcome, symbols: Mapping[str, str], folder: Path,
                   reference_result: Callable[[Mapping[str, str]], etree._Element | None]) -> list[str]:
    """README `retrieve`. Applied to successful retrieves only: a Failure answer has no
    documents to compare (50000 expects the removed document to be gone)."""
    if expected_status not in ("Success", "PartialSuccess") or outcome.fault or outcome.body is None:
        return []
    responses = list(outcome.body.iter(XDSB + "DocumentResponse"))
    reasons = []
    mime_type = spec.get("mime_type")
    if mime_type:
        wrong = [r.findtext(XDSB + "mimeType") for r in responses if r.findtext(XDSB + "mimeType") != mime_type]
        if wrong:
            reasons.append(f"expected mimeType {mime_type}, got {wrong[:3]}")
    if expected_status == "Success" and len(responses) != requested:
        reasons.append(f"expected {requested} DocumentResponse (one per DocumentRequest), got {len(responses)}")
    by_uid = {(r.findtext(XDSB + "DocumentUniqueId") or "").strip(): r for r in responses}
    for reference in spec.get("reference_documents") or ():
        uid = symbols.get(reference["uid"], reference["uid"])
        response = by_uid.get(uid)
        if response is None:
            reasons.append(f"no DocumentResponse for DocumentUniqueId {uid}")
            continue
        if reference.get("file"):
            expected = (folder / reference["file"]).read_bytes()
            got = _document_bytes(response, outcome)
            if got is None:
                reasons.append(f"document {uid}: no Document content in the reply")
            elif hashlib.sha1(got).hexdigest() != hashlib.sha1(expected).hexdigest():
                reasons.append(f"document {uid}: content differs from {reference['file']} "
                               f"({len(got)} bytes, expected {len(expected)})")
    metadata_ref = spec.get("reference_metadata")
    if metadata_ref:
        reasons.extend(_check_reference_metadata(responses, outcome, reference_result(metadata_ref), metadata_ref))
    return reasons


def _document_bytes(response: etree._Element, outcome: Outcome) -> bytes | None:
    document = response.find(XDSB + "Document")
    if document is None or outcome.content is None:
        return None
    return outcome.content(document)


def _check_reference_metadata(responses, outcome: Outcome, query_result: etree._Element | None,
                              ref: Mapping[str, str]) -> list[str]:
    where = f"{ref.get('test')}/{ref.get('section')}/{ref.get('step')}"
    if query_result is None:
        return [f"reference metadata: no query result recorded for {where}"]
    entries = {}
    for entry in query_result.iter(RIM + "ExtrinsicObject"):
        for identifier in entry.findall(RIM + "ExternalIdentifier"):
            if identifier.get("identificationScheme") == DOCUMENT_ENTRY_UNIQUE_ID:
                entries[identifier.get("value")] = entry
    reasons = []
    for response in responses:
        uid = (response.findtext(XDSB + "DocumentUniqueId") or "").strip()
        entry = entries.get(uid)
        if entry is None:
            reasons.append(f"reference metadata: {where} returned no DocumentEntry with uniqueId {uid}")
            continue
        data = _document_bytes(response, outcome)
        if data is None:
            reasons.append(f"document {uid}: no Document content in the reply")
            continue
        slot_hash = (_slot(entry, "hash") or "").lower()
        slot_size = _slot(entry, "size")
        if slot_hash != hashlib.sha1(data).hexdigest():
            reasons.append(f"document {uid}: SHA-1 {hashlib.sha1(data).hexdigest()} but metadata hash {slot_hash or 'missing'}")
        if slot_size != str(len(data)):
            reasons.append(f"document {uid}: {len(data)} bytes but metadata size {slot_size or 'missing'}")
        mime_type = response.findtext(XDSB + "mimeType")
        if mime_type != entry.get("mimeType"):
            reasons.append(f"document {uid}: mimeType {mime_type} but metadata mimeType {entry.get('mimeType')}")
    return reasons


def _slot(entry: etree._Element, name: str) -> str | None:
    for slot in entry.findall(RIM + "Slot"):
        if slot.get("name") == name:
            value = slot.find(f"{RIM}ValueList/{RIM}Value")
            return (value.text or "").strip() if value is not None else None
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
