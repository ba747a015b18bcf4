"""Canonical ebRIM 3.0 encoding of the XDS model (ITI TF-3 4.2.3, 4.3.1; ebRIM 3.0 rim.xsd).

`encode_object` writes one DocumentEntry (rim:ExtrinsicObject), SubmissionSet or Folder
(rim:RegistryPackage with its node Classification inside), Association or ObjectRef as a
self-contained element that declares the rim namespace. The output is canonical and
byte-stable, because the registry stores each object's bytes and answers LeafClass queries by
concatenating them:

- attributes in a fixed order: id, home, lid, objectType, status, then mimeType
  (ExtrinsicObject) or associationType, sourceObject, targetObject (Association);
- children in rim.xsd order: Slot*, Name?, Description?, VersionInfo?, Classification*,
  ExternalIdentifier* (ContentVersionInfo is not modelled);
- slots, classifications and external identifiers in the order of `profiles.ebrim_layout`,
  then the model's extra ones in model order;
- Classifications/ExternalIdentifiers whose model id is empty get `derived_id(object id, key)`,
  a uuid5 of the object id and what the classification is.

`canonical_bytes(obj)` is those bytes (UTF-8, no XML declaration). The request builders wrap
the same elements in lcm:SubmitObjectsRequest (ITI-42) and
xdsb:ProvideAndRegisterDocumentSetRequest (ITI-41).
"""
from __future__ import annotations

import base64
from typing import Callable, Iterable

from lxml import etree

from . import ebrim_layout as layout
from .ebrim_layout import Layout, derived_id
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
    RegistryObjectBase,
    Slot,
    Submission,
    SubmissionSet,
)
from .vocabulary import EXTERNAL_ID_NAMES, LCM, RIM, XDSB, XML_NS, ObjectType, SlotName

#: (object id, key) -> id of a generated Classification/ExternalIdentifier
IdMaker = Callable[[str, str], str]
#: Content of one xdsb:Document: raw bytes (base64-encoded here), base64 text, or a child
#: element such as xop:Include.
DocumentContent = bytes | str | etree._Element

_RIM_NSMAP = {"rim": RIM}
_XML_LANG = f"{{{XML_NS}}}lang"


def _rim(name: str) -> str:
    return f"{{{RIM}}}{name}"


def _element(parent: etree._Element | None, name: str, attributes: dict[str, str] | None = None) -> etree._Element:
    if parent is None:
        return etree.Element(_rim(name), attributes, nsmap=_RIM_NSMAP)
    return etree.SubElement(parent, _rim(name), attributes)


def _set_attributes(element: etree._Element, pairs: Iterable[tuple[str, str | None]]) -> None:
    for name, value in pairs:
        if value is not None:
            element.set(name, value)


def _present(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """The attributes of `pairs` that have a value, in order (lxml keeps a dict's order)."""
    return {name: value for name, value in pairs if value is not None}


# --- building blocks ------------------------------------------------------------------

#: tags built once: the encoder makes tens of elements per stored object
_SubElement = etree.SubElement
_SLOT, _VALUE_LIST, _VALUE = _rim("Slot"), _rim("ValueList"), _rim("Value")
_LOCALIZED_STRING, _VERSION_INFO = _rim("LocalizedString"), _rim("VersionInfo")
_CLASSIFICATION, _EXTERNAL_IDENTIFIER = _rim("Classification"), _rim("ExternalIdentifier")
_CLASSIFICATION_TYPE = ObjectType.CLASSIFICATION.value
_EXTERNAL_IDENTIFIER_TYPE = ObjectType.EXTERNAL_IDENTIFIER.value


def _slot(parent: etree._Element, name: str, values: Iterable[str], slot_type: str | None = None) -> None:
    attributes = {"name": name} if slot_type is None else {"name": name, "slotType": slot_type}
    value_list = _SubElement(_SubElement(parent, _SLOT, attributes), _VALUE_LIST)
    for value in values:
        _SubElement(value_list, _VALUE).text = value


def _extra_slots(parent: etree._Element, slots: Iterable[Slot]) -> None:
    for slot in slots:
        _slot(parent, slot.name, slot.values, slot.slot_type)


def _international_string(parent: etree._Element, name: str, strings: tuple[LocalizedString, ...]) -> None:
    if not strings:
        return
    element = _SubElement(parent, _rim(name))
    for string in strings:
        attributes = _present(((_XML_LANG, string.lang), ("charset", string.charset)))
        attributes["value"] = string.value
        _SubElement(element, _LOCALIZED_STRING, attributes)


def _name_and_description(element: etree._Element, obj: RegistryObjectBase) -> None:
    _international_string(element, "Name", obj.name)
    _international_string(element, "Description", obj.description)
    if obj.version_name is not None:
        _SubElement(element, _VERSION_INFO, {"versionName": obj.version_name})


def _classification(
    parent: etree._Element,
    *,
    id: str,
    classified: str,
    scheme: str | None = None,
    node: str | None = None,
    representation: str | None = None,
) -> etree._Element:
    return _SubElement(parent, _CLASSIFICATION, _present((
        ("id", id),
        ("objectType", _CLASSIFICATION_TYPE),
        ("classificationScheme", scheme),
        ("classifiedObject", classified),
        ("classificationNode", node),
        ("nodeRepresentation", representation),
    )))


def _external_identifier(
    parent: etree._Element, *, id: str, registry_object: str, scheme: str, value: str,
) -> etree._Element:
    return _SubElement(parent, _EXTERNAL_IDENTIFIER, _present((
        ("id", id),
        ("objectType", _EXTERNAL_IDENTIFIER_TYPE),
        ("registryObject", registry_object),
        ("identificationScheme", scheme),
        ("value", value),
    )))


# --- the parts every object kind shares ----------------------------------------------


def _known_slots(element: etree._Element, obj: object, spec: Layout) -> None:
    for field in spec.slots:
        value = getattr(obj, field.attr)
        if field.multi:
            if value:
                _slot(element, field.name, value)
        elif value is not None:
            _slot(element, field.name, (value,))


def _code(parent: etree._Element, obj_id: str, code: Code, scheme: str, index: int, ids: IdMaker) -> None:
    element = _classification(
        parent,
        id=code.id or ids(obj_id, layout.code_key(scheme, index)),
        classified=obj_id,
        scheme=scheme,
        representation=code.code,
    )
    if code.scheme:
        _slot(element, SlotName.CODING_SCHEME, (code.scheme,))
    if code.display_name:
        _international_string(element, "Name", (LocalizedString(code.display_name),))


def _author(parent: etree._Element, obj_id: str, author: Author, scheme: str, index: int, ids: IdMaker) -> None:
    element = _classification(
        parent,
        id=author.id or ids(obj_id, layout.author_key(scheme, index)),
        classified=obj_id,
        scheme=scheme,
        representation="",
    )
    _known_slots(element, author, layout.AUTHOR)
    _extra_slots(element, author.extra_slots)


def _codes(element: etree._Element, obj: object, spec: Layout, ids: IdMaker) -> None:
    for field in spec.codes:
        value = getattr(obj, field.attr)
        codes = value if field.multi else ((value,) if value is not None else ())
        for index, code in enumerate(codes):
            _code(element, obj.id, code, field.scheme, index, ids)


def _classifications(element: etree._Element, obj, spec: Layout, ids: IdMaker) -> None:
    if spec.node:
        node_id = obj.node_classification_id or ids(obj.id, layout.node_key(spec.node))
        _classification(element, id=node_id, classified=obj.id, node=spec.node)
    if spec.author_scheme:
        for index, author in enumerate(obj.authors):
            _author(element, obj.id, author, spec.author_scheme, index, ids)
    _codes(element, obj, spec, ids)
    if spec.limited_metadata and obj.limited_metadata:
        limited_id = ids(obj.id, layout.limited_metadata_key(spec.limited_metadata))
        _classification(element, id=limited_id, classified=obj.id, node=spec.limited_metadata)
    for index, extra in enumerate(obj.extra_classifications):
        _extra_classification(element, obj.id, extra, index, ids)


def _extra_classification(
    parent: etree._Element, obj_id: str, extra: ExtraClassification, index: int, ids: IdMaker,
) -> None:
    element = _classification(
        parent,
        id=extra.id or ids(obj_id, layout.extra_classification_key(index)),
        classified=obj_id,
        scheme=extra.scheme,
        node=extra.classification_node,
        representation=extra.node_representation,
    )
    _extra_slots(element, extra.slots)
    _international_string(element, "Name", extra.name)


def _external_identifiers(element: etree._Element, obj, spec: Layout, ids: IdMaker) -> None:
    for field in spec.external_ids:
        value = getattr(obj, field.attr)
        if value is None:
            continue
        child = _external_identifier(
            element,
            id=ids(obj.id, layout.external_id_key(field.scheme)),
            registry_object=obj.id,
            scheme=field.scheme,
            value=value,
        )
        _international_string(child, "Name", (LocalizedString(EXTERNAL_ID_NAMES[field.scheme]),))
    for index, extra in enumerate(obj.extra_external_ids):
        _extra_external_identifier(element, obj.id, extra, index, ids)


def _extra_external_identifier(
    parent: etree._Element, obj_id: str, extra: ExtraExternalIdentifier, index: int, ids: IdMaker,
) -> None:
    child = _external_identifier(
        parent,
        id=extra.id or ids(obj_id, layout.extra_external_id_key(index)),
        registry_object=obj_id,
        scheme=extra.scheme,
        value=extra.value,
    )
    _international_string(child, "Name", extra.name)


def _registry_object(
    parent: etree._Element | None,
    tag: str,
    obj: RegistryObjectBase,
    spec: Layout,
    ids: IdMaker,
    *,
    object_type: str | None,
    attributes: tuple[tuple[str, str | None], ...] = (),
) -> etree._Element:
    element = _element(parent, tag, _present((
        ("id", obj.id),
        ("home", obj.home),
        ("lid", obj.lid),
        ("objectType", object_type),
        ("status", obj.status),
        *attributes,
    )))
    _known_slots(element, obj, spec)
    _extra_slots(element, obj.extra_slots)
    _name_and_description(element, obj)
    _classifications(element, obj, spec, ids)
    _external_identifiers(element, obj, spec, ids)
    return element


# --- one object -------------------------------------------------------------------------


def _encode_into(parent: etree._Element | None, obj, ids: IdMaker) -> etree._Element:
    if isinstance(obj, DocumentEntry):
        return _registry_object(
            parent, "ExtrinsicObject", obj, layout.DOCUMENT_ENTRY, ids,
            object_type=obj.object_type or None,
            attributes=(("mimeType", obj.mime_type),),
        )
    if isinstance(obj, SubmissionSet):
        return _registry_object(
            parent, "RegistryPackage", obj, layout.SUBMISSION_SET, ids,
            object_type=ObjectType.REGISTRY_PACKAGE.value,
        )
    if isinstance(obj, Folder):
        return _registry_object(
            parent, "RegistryPackage", obj, layout.FOLDER, ids,
            object_type=ObjectType.REGISTRY_PACKAGE.value,
        )
    if isinstance(obj, Association):
        return _registry_object(
            parent, "Association", obj, layout.ASSOCIATION, ids,
            object_type=ObjectType.ASSOCIATION.value,
            attributes=(
                ("associationType", str(obj.association_type)),
                ("sourceObject", obj.source),
                ("targetObject", obj.target),
            ),
        )
    if isinstance(obj, ObjectRef):
        element = _element(parent, "ObjectRef")
        _set_attributes(element, (("id", obj.id), ("home", obj.home)))
        return element
    raise TypeError(f"cannot encode {type(obj).__name__} as an ebRIM object")


def encode_object(
    obj: DocumentEntry | SubmissionSet | Folder | Association | ObjectRef,
    *,
    classification_ids: IdMaker = derived_id,
) -> etree._Element:
    """One object as a self-contained, canonical rim element (declares the rim namespace).

    `classification_ids(object id, key)` names Classifications/ExternalIdentifiers whose
    model id is empty; the default derives a stable uuid5 (and the decoder reports ids so
    derived as empty again, which makes decode(encode(x)) == x).
    """
    return _encode_into(None, obj, classification_ids)


def canonical_bytes(
    obj: DocumentEntry | SubmissionSet | Folder | Association | ObjectRef,
    *,
    classification_ids: IdMaker = derived_id,
) -> bytes:
    """The bytes the registry stores for `obj`: UTF-8, no XML declaration, byte-stable."""
    element = encode_object(obj, classification_ids=classification_ids)
    return etree.tostring(element, encoding="UTF-8", xml_declaration=False)


# --- lists and requests -----------------------------------------------------------------


def _fill_object_list(list_element: etree._Element, submission: Submission, ids: IdMaker) -> None:
    for obj in (*submission.document_entries, *submission.submission_sets, *submission.folders,
                *submission.associations, *submission.object_refs):
        _encode_into(list_element, obj, ids)


def encode_registry_object_list(
    submission: Submission, *, classification_ids: IdMaker = derived_id,
) -> etree._Element:
    """rim:RegistryObjectList: DocumentEntries, SubmissionSets, Folders, Associations, ObjectRefs."""
    element = _element(None, "RegistryObjectList")
    _fill_object_list(element, submission, classification_ids)
    return element


def _submit_objects_request(parent: etree._Element | None, submission: Submission, ids: IdMaker) -> etree._Element:
    tag = f"{{{LCM}}}SubmitObjectsRequest"
    if parent is None:
        element = etree.Element(tag, nsmap={"lcm": LCM, "rim": RIM})
    else:
        element = etree.SubElement(parent, tag)
    _fill_object_list(etree.SubElement(element, _rim("RegistryObjectList")), submission, ids)
    return element


def encode_submit_objects_request(
    submission: Submission, *, classification_ids: IdMaker = derived_id,
) -> etree._Element:
    """lcm:SubmitObjectsRequest (ITI-42 body); node Classifications stay inside the packages."""
    return _submit_objects_request(None, submission, classification_ids)


def _document_content(element: etree._Element, content: DocumentContent) -> None:
    if isinstance(content, bytes):
        element.text = base64.b64encode(content).decode("ascii")
    elif isinstance(content, str):
        element.text = content
    else:
        element.append(content)


def encode_provide_and_register(
    submission: Submission,
    documents: Iterable[tuple[str, DocumentContent]] = (),
    *,
    classification_ids: IdMaker = derived_id,
) -> etree._Element:
    """xdsb:ProvideAndRegisterDocumentSetRequest (ITI-41 body).

    `documents` are (DocumentEntry id, content) pairs; content is raw bytes (written as
    base64), base64 text, or an element (an xop:Include) that becomes the Document's child.
    """
    root = etree.Element(
        f"{{{XDSB}}}ProvideAndRegisterDocumentSetRequest",
        nsmap={"xdsb": XDSB, "lcm": LCM, "rim": RIM},
    )
    _submit_objects_request(root, submission, classification_ids)
    for document_id, content in documents:
        document = etree.SubElement(root, f"{{{XDSB}}}Document")
        document.set("id", document_id)
        _document_content(document, content)
    return root
