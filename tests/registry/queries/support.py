"""Helpers for stored-query tests: a registry store filled with canonical ebRIM XML, requests
built from plain parameter values, and answers read back as (status, error codes, ids).

    reg.submit(doc, folder)                   # a SubmissionSet with HasMembers is added
    answer = reg.ask("FindDocuments", **{PID: q(PATIENT), DE_STATUS: ql(APPROVED)})
    assert answer.ids == [doc.id]
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import Engine

from profiles.ebrim import canonical_bytes
from profiles.errors import Status
from profiles.responses import read_registry_response
from profiles.stored_queries import by_name
from profiles.vocabulary import QUERY, RIM, AvailabilityStatus, ObjectType
from registry.queries import QueryOptions, answer_stored_query
from registry.store import StoredObject, set_status, store_submission, write_transaction
from tests.profiles.xml_support import IHE_SCHEMA, assert_valid
from tests.registry.store.builders import with_submission_set

APPROVED = AvailabilityStatus.APPROVED.value
DEPRECATED = AvailabilityStatus.DEPRECATED.value
SUBMITTED = AvailabilityStatus.SUBMITTED.value
STABLE = ObjectType.STABLE_DOCUMENT.value
ON_DEMAND = ObjectType.ON_DEMAND_DOCUMENT.value


def q(value: str) -> str:
    """A quoted parameter value (3.18.4.1.2.3.5): quotes inside are doubled."""
    return "'" + value.replace("'", "''") + "'"


def ql(*values: str) -> str:
    """A list parameter value `('a', 'b')`."""
    return "(" + ", ".join(q(v) for v in values) + ")"


def coded(code) -> str:
    """A Code as the `code^^scheme` text of a coded parameter."""
    return f"{code.code}^^{code.scheme}"


def same_xml(element: etree._Element, stored: bytes) -> bool:
    """`element` (inside a response) is the stored object, byte for byte once both are written
    in exclusive canonical form (which only moves namespace declarations)."""
    def c14n(e: etree._Element) -> bytes:
        return etree.tostring(e, method="c14n", exclusive=True)
    return c14n(element) == c14n(etree.fromstring(stored))


@dataclass(frozen=True)
class Slots:
    """Several Slots of one parameter (AND semantics); each item is one Slot's Value texts."""

    slots: tuple[tuple[str, ...], ...]

    def __init__(self, *slots: str | tuple[str, ...]):
        object.__setattr__(self, "slots", tuple((s,) if isinstance(s, str) else tuple(s) for s in slots))


def request(query: str, return_type: str = "LeafClass", home: str | None = None,
            **params) -> etree._Element:
    """query:AdhocQueryRequest for the stored query named `query` (or an id starting urn:uuid:).

    Each parameter value is a Value text, a tuple of Value texts (one Slot), or `Slots(...)`.
    """
    definition = by_name(query)
    root = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    option = etree.SubElement(root, f"{{{QUERY}}}ResponseOption", returnComposedObjects="true")
    if return_type is not None:
        option.set("returnType", return_type)
    adhoc = etree.SubElement(root, f"{{{RIM}}}AdhocQuery", id=definition.id if definition else query)
    if home:
        adhoc.set("home", home)
    for name, value in params.items():
        slots = value.slots if isinstance(value, Slots) else ((value,) if isinstance(value, str) else (value,))
        for values in slots:
            values = (values,) if isinstance(values, str) else values
            slot = etree.SubElement(adhoc, f"{{{RIM}}}Slot", name=name)
            value_list = etree.SubElement(slot, f"{{{RIM}}}ValueList")
            for text in values:
                etree.SubElement(value_list, f"{{{RIM}}}Value").text = text
    return root


@dataclass
class Answer:
    element: etree._Element
    status: Status
    codes: list[str]
    severities: list[str]
    ids: list[str]
    homes: list[str | None]
    tags: list[str]

    @property
    def ok(self) -> bool:
        return self.status is Status.SUCCESS and not self.codes


def read_answer(element: etree._Element) -> Answer:
    status, issues = read_registry_response(element)
    objects = list(element.find(f"{{{RIM}}}RegistryObjectList"))
    return Answer(element, status, [str(i.code) for i in issues], [i.severity.name for i in issues],
                  [o.get("id") for o in objects], [o.get("home") for o in objects],
                  [etree.QName(o).localname for o in objects])


@dataclass
class Registry:
    """A registry store to fill and query."""

    engine: Engine
    stored: dict[str, bytes] = field(default_factory=dict)

    def store(self, *objects) -> list:
        """Store exactly `objects` as one submission, each as its canonical XML."""
        rows = [StoredObject(obj, canonical_bytes(obj)) for obj in objects]
        with write_transaction(self.engine) as conn:
            store_submission(conn, rows)
        self.stored.update({row.obj.id: row.xml for row in rows})
        return list(objects)

    def submit(self, *objects, ss=None) -> list:
        """Store `objects` with a SubmissionSet and a HasMember to each; returns everything stored."""
        return self.store(*with_submission_set(*objects, ss=ss))

    def deprecate(self, *uuids: str) -> None:
        with write_transaction(self.engine) as conn:
            set_status(conn, uuids, DEPRECATED)

    def ask_element(self, element: etree._Element, **options) -> Answer:
        with self.engine.connect() as conn:
            response = answer_stored_query(conn, element, QueryOptions(**options))
        if IHE_SCHEMA.exists():
            assert_valid(response, "query")
        return read_answer(response)

    def ask(self, query: str, return_type: str = "LeafClass", home: str | None = None,
            options: dict | None = None, **params) -> Answer:
        return self.ask_element(request(query, return_type, home, **params), **(options or {}))
