"""What a stored query found, and the query:AdhocQueryResponse answering it (ITI TF-2 3.18.4.1.3
Expected Actions; ebRS 3.0 query.xsd).

- LeafClass: each object's canonical ebRIM XML as the registry stored it, never re-encoded nor
  parsed on the way out: the answer is a `QueryAnswer` whose tree holds a stand-in per object
  (its id, home and, for a DocumentEntry, the uniqueId, patientId and repositoryUniqueId the
  audit names it by, from the indexed columns) and the stored bytes spliced in its place when
  the answer is written (soap.splice); `QueryAnswer.tree()` parses them for in-process callers.
  ObjectRef: one rim:ObjectRef per object, carrying only its id.
- Objects are answered SubmissionSets, DocumentEntries, Folders, then Associations, each kind in
  the order the registry stored them, so the same query over the same registry gives the same
  bytes.
- More objects than `result_limit` → Failure with XDSTooManyResults and no objects (ITI TF-3
  Table 4.2.4.1-2: "the request cannot be satisfied due to ... a response that is too large").
- LeafClass objects of more than one patient → Failure with XDSResultNotSinglePatient and no
  objects (ITI TF-3 Table 4.2.4.1-2). ObjectRefs disclose no patient data and are not restricted;
  ITI-51 (multi-patient queries) is exempt by definition.
- `home` (the homeCommunityId attribute of ebRIM objects and ObjectRefs): set on every returned
  object and ObjectRef when the caller configures a home community id, as a community answering
  through XCA must (ITI TF-2 3.38.4.1.3); left out otherwise, as a plain XDS registry may. In
  stored bytes it is written into the start tag (`with_home`): the stored form is canonical
  (`profiles.ebrim.canonical_bytes`: no declaration, attributes in double quotes, `>` escaped
  in values), so the first `>` ends the start tag.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Sequence

from lxml import etree
from sqlalchemy import Connection

from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import adhoc_query_response
from profiles.vocabulary import RIM, DocumentEntryScheme
from registry.store import ObjectKind, StoredXml, stored_xml
from soap.splice import expand

from .request import StoredQuery

_OBJECT_REF = f"{{{RIM}}}ObjectRef"
_OBJECT_LIST = f"{{{RIM}}}RegistryObjectList"
_TAGS = {ObjectKind.SUBMISSION_SET: "RegistryPackage", ObjectKind.FOLDER: "RegistryPackage",
         ObjectKind.ASSOCIATION: "Association"}
_HOME = re.compile(rb' home="[^"]*"')
_MARKUP = re.compile('[&<>"]')


@dataclass(frozen=True, slots=True)
class Found:
    """The entryUUIDs a stored query selected, by kind, and the patients of those objects."""

    submission_sets: Sequence[str] = ()
    documents: Sequence[str] = ()
    folders: Sequence[str] = ()
    associations: Sequence[str] = ()
    patient_ids: frozenset[str] = frozenset()
    #: the XML of exactly these objects when the query read it already, in answer order
    stored: Sequence[StoredXml] | None = None

    def uuids(self) -> list[str]:
        """Every selected entryUUID once, in answer order."""
        return list(dict.fromkeys((*self.submission_sets, *self.documents, *self.folders,
                                   *self.associations)))

    @property
    def count(self) -> int:
        return len(self.uuids())


NOTHING = Found()


@dataclass(eq=False)
class QueryAnswer:
    """A query:AdhocQueryResponse; `spliced` maps the stand-ins in `body` to the stored bytes
    written in their place (soap.splice), empty when `body` is the whole answer."""

    body: etree._Element
    spliced: dict[etree._Element, bytes] = field(default_factory=dict)

    def tree(self) -> etree._Element:
        """The whole answer as one tree: every stand-in replaced by its parsed stored XML."""
        expand(self.spliced)
        self.spliced = {}
        return self.body


def patients_of(summaries: Iterable) -> frozenset[str]:
    """The patient ids of ObjectSummaries (associations have none)."""
    return frozenset(s.patient_id for s in summaries if s.patient_id)


def answer(conn: Connection, query: StoredQuery, found: Found, *, result_limit: int,
           home: str | None, single_patient: bool = True,
           warnings: Sequence[Issue] = ()) -> QueryAnswer:
    """The AdhocQueryResponse for `found`, or the Failure a limit or the patient rule calls for."""
    uuids = found.uuids()
    if len(uuids) > result_limit:
        return _failure(ErrorCode.TOO_MANY_RESULTS, f"{query.name} selects more than {result_limit} "
                        "objects; narrow the query", warnings)
    if query.leaf_class and single_patient and len(found.patient_ids) > 1:
        return _failure(ErrorCode.RESULT_NOT_SINGLE_PATIENT, f"{query.name} would return metadata of "
                        f"{len(found.patient_ids)} patients; ask for ObjectRefs or query per patient",
                        warnings)
    if query.leaf_class:
        stored = found.stored if found.stored is not None else stored_xml(conn, uuids)
        return _leaf_class(uuids, stored, home, warnings)
    return QueryAnswer(_object_refs(uuids, home, warnings))


def _failure(code: ErrorCode, context: str, warnings: Sequence[Issue]) -> QueryAnswer:
    return QueryAnswer(adhoc_query_response([*warnings, Issue(code, context)], [], status=Status.FAILURE))


def _leaf_class(uuids: list[str], stored: Sequence[StoredXml], home: str | None,
                warnings: Sequence[Issue]) -> QueryAnswer:
    by_uuid = {obj.entry_uuid: obj for obj in stored}
    objects = [by_uuid[u] for u in uuids if u in by_uuid]
    # the stand-ins are parsed in one go: cheaper than building them element by element
    response = adhoc_query_response(warnings, [stand_in(obj, home) for obj in objects], status=Status.SUCCESS)
    stand_ins = response.find(_OBJECT_LIST)
    return QueryAnswer(response, {element: with_home(obj.xml, home) if home else obj.xml
                                  for element, obj in zip(stand_ins, objects)})


_DOCUMENT_STAND_IN = (
    '<rim:ExtrinsicObject id="{id}"{home}><rim:Slot name="repositoryUniqueId"><rim:ValueList><rim:Value>{repository}'
    '</rim:Value></rim:ValueList></rim:Slot><rim:ExternalIdentifier identificationScheme="'
    + DocumentEntryScheme.PATIENT_ID + '" value="{patient}"/><rim:ExternalIdentifier identificationScheme="'
    + DocumentEntryScheme.UNIQUE_ID + '" value="{unique_id}"/></rim:ExtrinsicObject>')
_STAND_IN = '<rim:{tag} id="{id}"{home}/>'


def stand_in(obj: StoredXml, home: str | None) -> bytes:
    """The element standing for `obj` in the answer's tree (the `rim` prefix bound by its
    parent): its id and home, and for a DocumentEntry what an audit record names it by (ITI
    TF-2 3.18.5.1.2: uniqueId, patientId, repositoryUniqueId)."""
    home = home or obj.home
    home_attribute = f' home="{_escaped(home)}"' if home else ""
    if obj.kind is ObjectKind.DOCUMENT_ENTRY:
        return _DOCUMENT_STAND_IN.format(
            id=_escaped(obj.entry_uuid), home=home_attribute, repository=_escaped(obj.repository_unique_id),
            patient=_escaped(obj.patient_id), unique_id=_escaped(obj.unique_id)).encode()
    return _STAND_IN.format(tag=_TAGS[obj.kind], id=_escaped(obj.entry_uuid), home=home_attribute).encode()


def _escaped(value: str | None) -> str:
    """`value` as XML attribute or element text (quoted with `"`)."""
    if not value:
        return ""
    if _MARKUP.search(value) is None:  # ids and OIDs: nothing to escape
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def with_home(xml: bytes, home: str) -> bytes:
    """Stored canonical XML of one object with its `home` attribute set to `home`: replaced
    where the start tag has one, else added as its last attribute (as lxml's `set` does)."""
    end = xml.index(b">")
    if xml[end - 1:end] == b"/":
        end -= 1
    attribute = _home_attribute(home)
    present = _HOME.search(xml, 0, end)
    if present:
        return xml[:present.start()] + attribute + xml[present.end():]
    return xml[:end] + attribute + xml[end:]


@lru_cache(maxsize=16)
def _home_attribute(home: str) -> bytes:
    """` home="…"` escaped as lxml writes attribute values."""
    return b" " + etree.tostring(etree.Element("x", home=home))[3:-2]


def _object_refs(uuids: list[str], home: str | None, warnings: Sequence[Issue]) -> etree._Element:
    refs = []
    for uuid in uuids:
        ref = etree.Element(_OBJECT_REF, nsmap={"rim": RIM})
        ref.set("id", uuid)
        if home:
            ref.set("home", home)
        refs.append(ref)
    return adhoc_query_response(warnings, refs, status=Status.SUCCESS)


__all__ = ["NOTHING", "Found", "QueryAnswer", "answer", "patients_of", "stand_in", "with_home"]
