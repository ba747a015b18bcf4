"""Lenient ebRIM 3.0 decoding into the XDS model (ITI TF-3 4.2.3, 4.3.1; ebRIM 3.0 rim.xsd).

Owns `decode_registry_object_list`, `decode_submit_objects_request` (ITI-42, ITI-57 bodies)
and `decode_provide_and_register` (ITI-41 body). Decoding never raises on content: whatever
cannot be mapped to the model is reported as an `Issue` (XDSRegistryMetadataError whose
codeContext names the object, the field and the problem; location = the object id) and kept,
where the model has room for it, in the `extra_*` fields so that it survives a round trip.

Mapping (tables in `profiles.ebrim_layout`):

- rim:ExtrinsicObject -> DocumentEntry; rim:Association -> Association (legacy short
  associationType such as `HasMember` becomes the full URN); rim:ObjectRef -> ObjectRef;
- rim:RegistryPackage -> SubmissionSet or Folder, told apart by the Classification whose
  classificationNode is the SubmissionSet/Folder node - inside the package (query responses)
  or a top-level Classification whose classifiedObject is the package (ITI-41/42 requests).
  Any top-level Classification/ExternalIdentifier is read as if it were inside its object.
- Classifications by scheme -> Code / Author fields; limitedMetadata nodes -> flag;
  ExternalIdentifiers by identificationScheme -> patient_id / unique_id / source_id;
  known slots -> fields; everything else -> extra_* in document order.

Classification/ExternalIdentifier ids are kept, except ids equal to what the encoder would
derive for an empty id (`ebrim_layout.derived_id`): those are reported as empty, so that
decode(encode(x)) == x.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

from lxml import etree

from . import ebrim_layout as layout
from .ebrim_layout import Layout, derived_id
from .errors import ErrorCode, Issue, Severity
from .model import (
    Association,
    Author,
    Code,
    DocumentEntry,
    ExtraClassification,
    ExtraExternalIdentifier,
    Folder,
    LocalizedString,
    ObjectRef,
    Slot,
    Submission,
    SubmissionSet,
)
from .vocabulary import EXTERNAL_ID_NAMES, LCM, LEGACY_ASSOCIATION_TYPES, RIM, XDSB, XML_NS, ObjectType, SlotName

_XML_LANG = f"{{{XML_NS}}}lang"
_KNOWN_OBJECT_TYPES = frozenset({ObjectType.STABLE_DOCUMENT, ObjectType.ON_DEMAND_DOCUMENT})
_LOOSE_KINDS = ("Classification", "ExternalIdentifier")
_OBJECT_KINDS = ("ExtrinsicObject", "RegistryPackage", "Association", "ObjectRef")


def _rim(name: str) -> str:
    return f"{{{RIM}}}{name}"


_CLASSIFICATION = _rim("Classification")
_EXTERNAL_IDENTIFIER = _rim("ExternalIdentifier")


class _Report:
    """Collects the issues of one decode."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def error(self, location: str, context: str, code: ErrorCode = ErrorCode.REGISTRY_METADATA_ERROR) -> None:
        self.issues.append(Issue(code, context, Severity.ERROR, location))

    def warning(self, location: str, context: str, code: ErrorCode = ErrorCode.EXTRA_METADATA_NOT_SAVED) -> None:
        self.issues.append(Issue(code, context, Severity.WARNING, location))


# --- small readers ----------------------------------------------------------------------


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    tag = _rim(name)
    return [child for child in element if child.tag == tag]


def _slots(element: etree._Element) -> list[Slot]:
    slots = []
    for slot in _children(element, "Slot"):
        values: tuple[str, ...] = ()
        for value_list in _children(slot, "ValueList"):
            values += tuple(value.text or "" for value in _children(value_list, "Value"))
        slots.append(Slot(slot.get("name", ""), values, slot.get("slotType")))
    return slots


def _strings(element: etree._Element, name: str) -> tuple[LocalizedString, ...]:
    strings: list[LocalizedString] = []
    for holder in _children(element, name):
        strings.extend(
            LocalizedString(item.get("value", ""), item.get(_XML_LANG), item.get("charset"))
            for item in _children(holder, "LocalizedString")
        )
    return tuple(strings)


def _version_name(element: etree._Element) -> str | None:
    infos = _children(element, "VersionInfo")
    return infos[0].get("versionName") if infos else None


def _common(element: etree._Element, kind: str, report: _Report) -> dict:
    obj_id = element.get("id")
    if not obj_id:
        report.error("", f"{kind} without id: every RegistryObject needs an id")
    return {
        "id": obj_id or "",
        "lid": element.get("lid"),
        "home": element.get("home"),
        "status": element.get("status"),
        "version_name": _version_name(element),
        "name": _strings(element, "Name"),
        "description": _strings(element, "Description"),
    }


# --- slots ----------------------------------------------------------------------------


def _map_slots(
    obj_id: str, where: str, slots: list[Slot], spec: Layout, report: _Report,
) -> tuple[dict, tuple[Slot, ...]]:
    """Known slots -> field values; the rest (and what does not fit) -> extra slots.

    `where` names the holder in issue texts ("DocumentEntry Doc1", "... author cl01").
    """
    fields: dict = {}
    extras: list[Slot] = []
    seen: set[str] = set()
    for slot in slots:
        field = spec.slot(slot.name)
        if slot.name in seen:
            report.error(obj_id, f"{where}: slot {slot.name}: given more than once "
                                 "(a slot name may appear once per object)")
            extras.append(slot)
        elif field is None:
            extras.append(slot)
        elif field.multi:
            fields[field.attr] = slot.values
        elif len(slot.values) == 1:
            fields[field.attr] = slot.values[0]
        else:
            report.error(obj_id, f"{where}: slot {slot.name}: has {len(slot.values)} values, "
                                 "exactly one allowed")
            extras.append(slot)
        seen.add(slot.name)
    return fields, tuple(extras)


# --- classifications ------------------------------------------------------------------


def _extra_classification(element: etree._Element) -> ExtraClassification:
    return ExtraClassification(
        scheme=element.get("classificationScheme"),
        node_representation=element.get("nodeRepresentation"),
        classification_node=element.get("classificationNode"),
        name=_strings(element, "Name"),
        slots=tuple(_slots(element)),
        id=element.get("id", ""),
    )


def _code(obj_id: str, kind: str, label: str, element: etree._Element, report: _Report) -> Code | None:
    """A coded Classification as a Code, or None (with an issue) when it has no such shape."""
    class_id = element.get("id", "")
    representation = element.get("nodeRepresentation")
    where = f"{kind} {obj_id}: {label}: Classification {class_id}"
    if representation is None:
        report.error(obj_id, f"{where} has no nodeRepresentation (the code)")
        return None
    coding_scheme: tuple[str, ...] | None = None
    others = []
    for slot in _slots(element):
        if slot.name == SlotName.CODING_SCHEME and coding_scheme is None:
            coding_scheme = slot.values
        else:
            others.append(slot.name)
    if coding_scheme is not None and len(coding_scheme) != 1:
        report.error(obj_id, f"{where}: codingScheme has {len(coding_scheme)} values, exactly one allowed")
        return None
    if others:
        report.warning(obj_id, f"{where}: slots {', '.join(others)} not saved (a code has only codingScheme)")
    names = _strings(element, "Name")
    return Code(
        code=representation,
        scheme=coding_scheme[0] if coding_scheme else "",
        display_name=names[0].value if names else "",
        id=class_id,
    )


def _author(obj_id: str, kind: str, element: etree._Element, report: _Report) -> Author:
    where = f"{kind} {obj_id} author {element.get('id', '')}"
    fields, extras = _map_slots(obj_id, where, _slots(element), layout.AUTHOR, report)
    return Author(**fields, id=element.get("id", ""), extra_slots=extras)


def _blank_derived(item, obj_id: str, key: str):
    """`item` with an empty id when its id is the one the encoder derives for `key`."""
    if item.id and item.id == derived_id(obj_id, key):
        return replace(item, id="")
    return item


class _Classified:
    """What the Classifications of one object map to."""

    def __init__(self, spec: Layout) -> None:
        self.spec = spec
        self.fields: dict = {}
        self.authors: list[Author] = []
        self.multi: dict[str, list[Code]] = {f.attr: [] for f in spec.codes if f.multi}
        self.extras: list[ExtraClassification] = []

    def add(self, obj_id: str, kind: str, element: etree._Element, report: _Report) -> None:
        spec = self.spec
        scheme = element.get("classificationScheme")
        node = element.get("classificationNode")
        if spec.node and node == spec.node:
            self.fields.setdefault("node_classification_id", element.get("id", ""))
        elif spec.limited_metadata and spec.limited_metadata in (node, scheme):
            self.fields["limited_metadata"] = True
        elif spec.author_scheme and scheme == spec.author_scheme:
            self.authors.append(_author(obj_id, kind, element, report))
        else:
            self._add_code(obj_id, kind, element, report)

    def _add_code(self, obj_id: str, kind: str, element: etree._Element, report: _Report) -> None:
        field = self.spec.code(element.get("classificationScheme"))
        code = _code(obj_id, kind, field.label, element, report) if field else None
        if code is None:
            self.extras.append(_extra_classification(element))
        elif field.multi:
            self.multi[field.attr].append(code)
        elif field.attr in self.fields:
            report.error(obj_id, f"{kind} {obj_id}: {field.label}: given more than once, one allowed")
            self.extras.append(_extra_classification(element))
        else:
            self.fields[field.attr] = code

    def result(self, obj_id: str) -> tuple[dict, tuple[ExtraClassification, ...]]:
        spec, fields = self.spec, dict(self.fields)
        for field in spec.codes:
            if field.multi:
                codes = self.multi[field.attr]
                fields[field.attr] = tuple(
                    _blank_derived(code, obj_id, layout.code_key(field.scheme, i)) for i, code in enumerate(codes)
                )
            elif field.attr in fields:
                fields[field.attr] = _blank_derived(fields[field.attr], obj_id, layout.code_key(field.scheme, 0))
        if spec.author_scheme:
            fields["authors"] = tuple(
                _blank_derived(a, obj_id, layout.author_key(spec.author_scheme, i)) for i, a in enumerate(self.authors)
            )
        node_id = fields.get("node_classification_id")
        if spec.node and node_id and node_id == derived_id(obj_id, layout.node_key(spec.node)):
            fields["node_classification_id"] = ""
        extras = tuple(
            _blank_derived(x, obj_id, layout.extra_classification_key(i)) for i, x in enumerate(self.extras)
        )
        return fields, extras


# --- external identifiers -------------------------------------------------------------


def _map_external_ids(
    obj_id: str, kind: str, elements: list[etree._Element], spec: Layout, report: _Report,
) -> tuple[dict, tuple[ExtraExternalIdentifier, ...]]:
    fields: dict = {}
    extras: list[ExtraExternalIdentifier] = []
    for element in elements:
        scheme = element.get("identificationScheme")
        value = element.get("value")
        field = spec.external_id(scheme)
        label = EXTERNAL_ID_NAMES.get(scheme, f"ExternalIdentifier {scheme}")
        if value is None:
            report.error(obj_id, f"{kind} {obj_id}: {label}: ExternalIdentifier {element.get('id', '')} has no value")
            value = ""
        if field is not None and field.attr not in fields:
            fields[field.attr] = value
            continue
        if field is not None:
            report.error(obj_id, f"{kind} {obj_id}: {label}: given more than once, one allowed")
        extras.append(ExtraExternalIdentifier(scheme or "", value, _strings(element, "Name"), element.get("id", "")))
    return fields, tuple(
        _blank_derived(x, obj_id, layout.extra_external_id_key(i)) for i, x in enumerate(extras)
    )


# --- the parts of one RegistryObject ----------------------------------------------------


class _Loose:
    """Top-level Classifications/ExternalIdentifiers, by the object they point at."""

    def __init__(self) -> None:
        self.classifications: dict[str, list[etree._Element]] = defaultdict(list)
        self.external_ids: dict[str, list[etree._Element]] = defaultdict(list)
        self.used: set[str] = set()

    def add(self, element: etree._Element, report: _Report) -> None:
        is_classification = element.tag == _CLASSIFICATION
        attribute = "classifiedObject" if is_classification else "registryObject"
        target = element.get(attribute)
        kind = "Classification" if is_classification else "ExternalIdentifier"
        if not target:
            report.error(element.get("id", ""), f"{kind} {element.get('id', '')}: {attribute}: references nothing")
            return
        (self.classifications if is_classification else self.external_ids)[target].append(element)

    def unused_targets(self) -> set[str]:
        return (set(self.classifications) | set(self.external_ids)) - self.used


def _nested(element: etree._Element, tag: str, attribute: str, obj_id: str, kind: str, report: _Report):
    children = [child for child in element if child.tag == tag]
    for child in children:
        target = child.get(attribute)
        if target is not None and target != obj_id:
            report.error(obj_id, f"{kind} {obj_id}: {etree.QName(tag).localname} {child.get('id', '')}: "
                                 f"{attribute} is {target}, not the object it is inside")
    return children


def _parts(element: etree._Element, obj_id: str, kind: str, spec: Layout, loose: _Loose, report: _Report) -> dict:
    """Slots, Classifications and ExternalIdentifiers of one object, mapped by `spec`."""
    loose.used.add(obj_id)
    fields, extra_slots = _map_slots(obj_id, f"{kind} {obj_id}", _slots(element), spec, report)
    classified = _Classified(spec)
    classifications = _nested(element, _CLASSIFICATION, "classifiedObject", obj_id, kind, report)
    for child in classifications + loose.classifications.get(obj_id, []):
        classified.add(obj_id, kind, child, report)
    class_fields, extra_classifications = classified.result(obj_id)
    external = _nested(element, _EXTERNAL_IDENTIFIER, "registryObject", obj_id, kind, report)
    external += loose.external_ids.get(obj_id, [])
    id_fields, extra_ids = _map_external_ids(obj_id, kind, external, spec, report)
    return {
        **fields, **class_fields, **id_fields,
        "extra_slots": extra_slots,
        "extra_classifications": extra_classifications,
        "extra_external_ids": extra_ids,
    }


# --- the object kinds -------------------------------------------------------------------


def _document_entry(element: etree._Element, loose: _Loose, report: _Report) -> DocumentEntry:
    common = _common(element, "DocumentEntry", report)
    obj_id = common["id"]
    object_type = element.get("objectType")
    if object_type is None:
        report.error(obj_id, f"DocumentEntry {obj_id}: objectType: missing; must be the stable "
                             f"({ObjectType.STABLE_DOCUMENT}) or on-demand ({ObjectType.ON_DEMAND_DOCUMENT}) type")
    elif object_type not in _KNOWN_OBJECT_TYPES:
        report.error(obj_id, f"DocumentEntry {obj_id}: objectType: {object_type} is neither the stable "
                             f"({ObjectType.STABLE_DOCUMENT}) nor the on-demand ({ObjectType.ON_DEMAND_DOCUMENT}) type")
    parts = _parts(element, obj_id, "DocumentEntry", layout.DOCUMENT_ENTRY, loose, report)
    return DocumentEntry(**common, **parts, object_type=object_type or "", mime_type=element.get("mimeType"))


def _package_layout(element: etree._Element, obj_id: str, loose: _Loose, report: _Report) -> Layout | None:
    classifications = [c for c in element if c.tag == _CLASSIFICATION] + loose.classifications.get(obj_id, [])
    nodes = {c.get("classificationNode") for c in classifications}
    is_set = layout.SUBMISSION_SET.node in nodes
    is_folder = layout.FOLDER.node in nodes
    if is_set and is_folder:
        report.error(obj_id, f"RegistryPackage {obj_id}: classified both as SubmissionSet and as Folder; "
                             "read as SubmissionSet")
    if is_set or is_folder:
        return layout.SUBMISSION_SET if is_set else layout.FOLDER
    return _package_layout_by_identifiers(element, obj_id, loose, report)


def _package_layout_by_identifiers(element, obj_id: str, loose: _Loose, report: _Report) -> Layout | None:
    identifiers = [c for c in element if c.tag == _EXTERNAL_IDENTIFIER] + loose.external_ids.get(obj_id, [])
    schemes = {e.get("identificationScheme") for e in identifiers}
    for spec, kind in ((layout.SUBMISSION_SET, "SubmissionSet"), (layout.FOLDER, "Folder")):
        if schemes & {field.scheme for field in spec.external_ids}:
            report.error(obj_id, f"RegistryPackage {obj_id}: no Classification with classificationNode "
                                 f"{spec.node}; read as {kind} by its ExternalIdentifiers")
            return spec
    report.error(obj_id, f"RegistryPackage {obj_id}: neither SubmissionSet nor Folder (no Classification with "
                         f"classificationNode {layout.SUBMISSION_SET.node} or {layout.FOLDER.node})")
    return None


def _registry_package(element, loose: _Loose, report: _Report) -> SubmissionSet | Folder | str:
    """SubmissionSet or Folder; the package id when it is neither."""
    obj_id = element.get("id", "")
    if _children(element, "RegistryObjectList"):
        report.error(obj_id, f"RegistryPackage {obj_id}: a RegistryObjectList inside a package is not "
                             "supported; members are linked by HasMember Associations")
    spec = _package_layout(element, obj_id, loose, report)
    if spec is None:
        loose.used.add(obj_id)
        return obj_id
    kind = "SubmissionSet" if spec is layout.SUBMISSION_SET else "Folder"
    common = _common(element, kind, report)
    parts = _parts(element, obj_id, kind, spec, loose, report)
    return (SubmissionSet if spec is layout.SUBMISSION_SET else Folder)(**common, **parts)


def _association(element: etree._Element, loose: _Loose, report: _Report) -> Association:
    common = _common(element, "Association", report)
    obj_id = common["id"]
    association_type = element.get("associationType")
    if not association_type:
        report.error(obj_id, f"Association {obj_id}: associationType: missing")
    association_type = LEGACY_ASSOCIATION_TYPES.get(association_type or "", association_type or "")
    ends = {}
    for attribute in ("sourceObject", "targetObject"):
        ends[attribute] = element.get(attribute) or ""
        if not ends[attribute]:
            report.error(obj_id, f"Association {obj_id}: {attribute}: references nothing")
    parts = _parts(element, obj_id, "Association", layout.ASSOCIATION, loose, report)
    return Association(
        **common, **parts,
        association_type=str(association_type),
        source=ends["sourceObject"],
        target=ends["targetObject"],
    )


# --- the list ---------------------------------------------------------------------------


def _check_duplicate_ids(elements: list[etree._Element], report: _Report) -> None:
    ids: list[str] = []
    for element in elements:
        ids.append(element.get("id", ""))
        ids.extend(c.get("id", "") for c in element if c.tag in (_CLASSIFICATION, _EXTERNAL_IDENTIFIER))
    for obj_id, count in Counter(ids).items():
        if obj_id and count > 1:
            report.error(obj_id, f"id {obj_id}: used by {count} objects; ids must be unique in a request")


def decode_registry_object_list(element: etree._Element) -> tuple[Submission, list[Issue]]:
    """A rim:RegistryObjectList as a Submission, with the issues met while mapping it."""
    report = _Report()
    if element.tag != _rim("RegistryObjectList"):
        report.error("", f"expected rim:RegistryObjectList, found {element.tag}")
    loose = _Loose()
    objects = []
    children = [child for child in element if isinstance(child.tag, str)]
    for child in children:
        local = etree.QName(child).localname if child.tag.startswith(f"{{{RIM}}}") else None
        if local in _LOOSE_KINDS:
            loose.add(child, report)
        elif local in _OBJECT_KINDS:
            objects.append(child)
        else:
            report.error(child.get("id", ""), f"{child.tag} {child.get('id', '')}: not an XDS object; ignored")
    _check_duplicate_ids(children, report)
    submission = _decode_objects(objects, loose, report)
    for target in sorted(loose.unused_targets()):
        report.error(target, f"Classification/ExternalIdentifier references {target}, "
                             "which is no object in this list")
    return submission, report.issues


def _decode_objects(objects: list[etree._Element], loose: _Loose, report: _Report) -> Submission:
    lists: dict[str, list] = defaultdict(list)
    for element in objects:
        local = etree.QName(element).localname
        if local == "ExtrinsicObject":
            lists["document_entries"].append(_document_entry(element, loose, report))
        elif local == "Association":
            lists["associations"].append(_association(element, loose, report))
        elif local == "ObjectRef":
            lists["object_refs"].append(ObjectRef(element.get("id", ""), element.get("home")))
        else:
            package = _registry_package(element, loose, report)
            key = {SubmissionSet: "submission_sets", Folder: "folders"}.get(type(package), "unclassified_packages")
            lists[key].append(package)
    return Submission(**{key: tuple(values) for key, values in lists.items()})


def decode_submit_objects_request(element: etree._Element) -> tuple[Submission, list[Issue]]:
    """An lcm:SubmitObjectsRequest (ITI-42, ITI-57 body) as a Submission and issues."""
    issues: list[Issue] = []
    if element.tag != f"{{{LCM}}}SubmitObjectsRequest":
        issues.append(Issue(ErrorCode.REGISTRY_METADATA_ERROR,
                            f"expected lcm:SubmitObjectsRequest, found {element.tag}"))
    object_list = element.find(_rim("RegistryObjectList"))
    if object_list is None:
        issues.append(Issue(ErrorCode.REGISTRY_METADATA_ERROR, "SubmitObjectsRequest has no rim:RegistryObjectList"))
        return Submission(), issues
    submission, list_issues = decode_registry_object_list(object_list)
    return submission, issues + list_issues


def decode_provide_and_register(
    element: etree._Element,
) -> tuple[Submission, dict[str, etree._Element], list[Issue]]:
    """An xdsb:ProvideAndRegisterDocumentSetRequest (ITI-41 body).

    Returns the Submission, the xdsb:Document elements by their id (the DocumentEntry id they
    carry the content of) and the issues.
    """
    request = element.find(f"{{{LCM}}}SubmitObjectsRequest")
    if request is None:
        submission = Submission()
        issues = [Issue(ErrorCode.REPOSITORY_METADATA_ERROR,
                        "ProvideAndRegisterDocumentSetRequest has no lcm:SubmitObjectsRequest")]
    else:
        submission, issues = decode_submit_objects_request(request)
    documents: dict[str, etree._Element] = {}
    for document in element.iterchildren(f"{{{XDSB}}}Document"):
        document_id = document.get("id", "")
        if not document_id:
            issues.append(Issue(ErrorCode.REPOSITORY_METADATA_ERROR, "xdsb:Document without id"))
        elif document_id in documents:
            issues.append(Issue(ErrorCode.REPOSITORY_METADATA_ERROR,
                                f"xdsb:Document {document_id}: id given more than once", location=document_id))
        else:
            documents[document_id] = document
    return submission, documents, issues
