"""The seam through which a deployment's access policy screens what the actors answer.

An interface, not a policy: the actors (registry ITI-18, repository ITI-43, Responding
Gateway ITI-38/39) never decide who may see a document. The composition root may hand each a
`DocumentAccess`; the actor then asks it, with the request's context (the WSGI environ of the
SOAP request, where the security layers put what they verified), which of the documents it is
about to answer may be answered:

- `judges(context)`: False when this request needs no screening at all (nothing is decoded);
- `visible(context, entries, patient_ids)`: of the DocumentEntries a query found, those that
  may be returned (by entryUUID); `patient_ids` are the patients the query names;
- `retrievable(context, unique_ids)`: of the documents a retrieve asks for, those that may be
  returned (by uniqueId).

A `Verdict` either lists what may be answered (the rest is left out: from a query answer
together with the Associations pointing at it, from a retrieve answer as if the document were
not there) or refuses the whole request with a reason, answered as
LocalPolicyRestrictionError. It may add `rs:ResponseSlotList` slots to a query answer (ebRS
3.0 rs.xsd RegistryResponseType).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lxml import etree

from .ebrim import decode_registry_object_list
from .errors import ErrorCode, Issue
from .model import DocumentEntry, Slot
from .responses import adhoc_query_response
from .stored_queries import PATIENT_PARAMETERS, parse_param_values
from .vocabulary import RIM, RS

_ADHOC_QUERY = f"{{{RIM}}}AdhocQuery"
_SLOT = f"{{{RIM}}}Slot"
_VALUE = f"{{{RIM}}}ValueList/{{{RIM}}}Value"
_OBJECT_LIST = f"{{{RIM}}}RegistryObjectList"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What may be answered: ids allowed, or the whole request refused (with the reason)."""

    allowed: frozenset[str] = frozenset()
    refusal: str | None = None
    response_slots: tuple[Slot, ...] = ()


class DocumentAccess(Protocol):
    """What the actors ask; see the module docstring."""

    def judges(self, context: Mapping[str, Any]) -> bool: ...

    def visible(self, context: Mapping[str, Any], entries: Sequence[DocumentEntry],
                patient_ids: Sequence[str]) -> Verdict: ...

    def retrievable(self, context: Mapping[str, Any], unique_ids: Sequence[str]) -> Verdict: ...


def refusal_issue(verdict: Verdict, location: str = "") -> Issue:
    """The error answering a refused request."""
    return Issue(ErrorCode.LOCAL_POLICY_RESTRICTION, verdict.refusal or "refused by local policy",
                 location=location)


def query_patient_ids(request: etree._Element) -> tuple[str, ...]:
    """The patient ids a query:AdhocQueryRequest names (unparseable values are skipped: the
    registry reports them)."""
    query = request.find(_ADHOC_QUERY)
    found: list[str] = []
    for slot in () if query is None else query.iterchildren(_SLOT):
        if (slot.get("name") or "").strip() in PATIENT_PARAMETERS:
            try:
                found += parse_param_values([value.text or "" for value in slot.iterfind(_VALUE)])
            except ValueError:
                continue
    return tuple(dict.fromkeys(found))


def decode_entries(objects_xml: Iterable[etree._Element | bytes]) -> list[DocumentEntry]:
    """DocumentEntries of rim:ExtrinsicObjects given as elements (copied) or stored bytes."""
    items = [item if isinstance(item, (bytes, bytearray, memoryview)) else _copy(item) for item in objects_xml]
    if not items:
        return []
    object_list = adhoc_query_response([], items).find(_OBJECT_LIST)
    submission, _ = decode_registry_object_list(object_list)
    return list(submission.document_entries)


def _copy(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element))


def add_response_slots(response: etree._Element, slots: Sequence[Slot]) -> None:
    """Put `slots` in the response's rs:ResponseSlotList (its first child, rs.xsd)."""
    if not slots:
        return
    slot_list = etree.SubElement(response, f"{{{RS}}}ResponseSlotList")
    for slot in slots:
        element = etree.SubElement(slot_list, _SLOT)
        element.set("name", slot.name)
        values = etree.SubElement(element, f"{{{RIM}}}ValueList")
        for value in slot.values:
            etree.SubElement(values, f"{{{RIM}}}Value").text = value
    response.insert(0, slot_list)  # moved: the schema wants it before RegistryErrorList


__all__ = [
    "PATIENT_PARAMETERS", "DocumentAccess", "Verdict", "add_response_slots", "decode_entries",
    "query_patient_ids", "refusal_issue",
]
