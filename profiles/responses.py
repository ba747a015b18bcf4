"""Registry responses: writing and reading (ebRS 3.0 rs.xsd and query.xsd; ITI TF-3 4.2.4).

Owns the one function that writes an rs:RegistryErrorList from `Issue`s, the builders of
rs:RegistryResponse (ITI-41/42/57/62/86 answers) and query:AdhocQueryResponse (ITI-18/38/51
answers), and `read_registry_response` for clients and tests.

`adhoc_query_response` takes each returned object either as an element or as the canonical
bytes the registry stored for it (`profiles.ebrim.canonical_bytes`), so a LeafClass answer is
built from stored bytes without re-encoding the model.
"""
from __future__ import annotations

import threading
from typing import Iterable

from lxml import etree

from .errors import ErrorCode, Issue, Severity, Status, overall_status
from .vocabulary import QUERY, RIM, RS

_RS_NSMAP = {"rs": RS}
_QUERY_NSMAP = {"query": QUERY, "rs": RS, "rim": RIM}
_OBJECT_LIST_OPEN = f'<rim:RegistryObjectList xmlns:rim="{RIM}">'.encode()
_OBJECT_LIST_CLOSE = b"</rim:RegistryObjectList>"

# Short forms some peers send (ebRS 2.1 style, and IHE example messages).
_SHORT_STATUSES = {status.value.rsplit(":", 1)[1]: status for status in Status}
_SHORT_SEVERITIES = {severity.value.rsplit(":", 1)[1]: severity for severity in Severity}


_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads: one per thread, built once.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, collect_ids=False,
        )
        _local.parser = parser
    return parser


# --- writing ----------------------------------------------------------------------------


def _error_list_into(parent: etree._Element | None, issues: list[Issue]) -> etree._Element:
    tag = f"{{{RS}}}RegistryErrorList"
    element = etree.Element(tag, nsmap=_RS_NSMAP) if parent is None else etree.SubElement(parent, tag)
    highest = Severity.ERROR if any(issue.is_error for issue in issues) else Severity.WARNING
    element.set("highestSeverity", highest.value)
    for issue in issues:
        error = etree.SubElement(element, f"{{{RS}}}RegistryError")
        error.set("codeContext", issue.context)
        error.set("errorCode", str(issue.code))
        error.set("severity", str(issue.severity))
        if issue.location:
            error.set("location", issue.location)
    return element


def registry_error_list(issues: Iterable[Issue]) -> etree._Element:
    """rs:RegistryErrorList with one rs:RegistryError per issue, in order.

    highestSeverity is Error when any issue is an error, else Warning. The schema requires at
    least one RegistryError: callers leave the list out when there are no issues.
    """
    return _error_list_into(None, list(issues))


def _response_into(element: etree._Element, issues: list[Issue], status: Status) -> None:
    element.set("status", str(status))
    if issues:
        _error_list_into(element, issues)


def registry_response(
    issues: Iterable[Issue], *, status: Status | None = None, request_id: str | None = None,
) -> etree._Element:
    """rs:RegistryResponse; status from `overall_status(issues)` unless given."""
    issues = list(issues)
    element = etree.Element(f"{{{RS}}}RegistryResponse", nsmap=_RS_NSMAP)
    _response_into(element, issues, status or overall_status(issues))
    if request_id is not None:
        element.set("requestId", request_id)
    return element


def _object_list(objects_xml: Iterable[etree._Element | bytes]) -> etree._Element:
    """One rim:RegistryObjectList holding the objects, stored bytes parsed in one go per run."""
    object_list = etree.Element(f"{{{RIM}}}RegistryObjectList", nsmap={"rim": RIM})
    run: list[bytes] = []

    def flush() -> None:
        if run:
            wrapper = etree.fromstring(_OBJECT_LIST_OPEN + b"".join(run) + _OBJECT_LIST_CLOSE, _parser())
            object_list.extend(list(wrapper))
            run.clear()

    for item in objects_xml:
        if isinstance(item, (bytes, bytearray, memoryview)):
            run.append(bytes(item))
        else:
            flush()
            object_list.append(item)
    flush()
    return object_list


def adhoc_query_response(
    issues: Iterable[Issue],
    objects_xml: Iterable[etree._Element | bytes],
    *,
    status: Status | None = None,
) -> etree._Element:
    """query:AdhocQueryResponse with the RegistryErrorList (when any) and the objects.

    `objects_xml` holds rim elements (moved into the answer) or stored canonical bytes of
    one object each; bytes are parsed with entities, DTDs and network access disabled, and
    since they are parsed as element content, no DOCTYPE can hide in them. Without an explicit
    `status`: Success without errors, PartialSuccess with errors and objects, else Failure.
    """
    issues = list(issues)
    object_list = _object_list(objects_xml)
    element = etree.Element(f"{{{QUERY}}}AdhocQueryResponse", nsmap=_QUERY_NSMAP)
    _response_into(element, issues, status or overall_status(issues, partial=len(object_list) > 0))
    element.append(object_list)
    return element


# --- reading ----------------------------------------------------------------------------


def _status(text: str | None) -> Status | None:
    if text is None:
        return None
    try:
        return Status(text)
    except ValueError:
        return _SHORT_STATUSES.get(text)


def _severity(text: str | None) -> Severity:
    if text is None:
        return Severity.ERROR  # the schema default
    try:
        return Severity(text)
    except ValueError:
        return _SHORT_SEVERITIES.get(text.rsplit(":", 1)[-1], Severity.ERROR)


def _error_code(text: str) -> ErrorCode | str:
    try:
        return ErrorCode(text)
    except ValueError:
        return text  # a code from a newer profile or a peer's own: kept as sent


def read_registry_response(element: etree._Element) -> tuple[Status, list[Issue]]:
    """Status and issues of an rs:RegistryResponse, query:AdhocQueryResponse or any response
    element with a status attribute and an rs:RegistryErrorList child.

    Short status/severity forms (`Success`, `Error`) are accepted. A missing or unknown status
    reads as Failure with an XDSRegistryError issue saying so. Error codes this project does
    not know are kept as plain strings in `Issue.code`.
    """
    issues: list[Issue] = []
    for error_list in element.iterchildren(f"{{{RS}}}RegistryErrorList"):
        for error in error_list.iterchildren(f"{{{RS}}}RegistryError"):
            issues.append(Issue(
                _error_code(error.get("errorCode", "")),
                error.get("codeContext") or (error.text or ""),
                _severity(error.get("severity")),
                error.get("location", ""),
            ))
    status = _status(element.get("status"))
    if status is None:
        issues.append(Issue(ErrorCode.REGISTRY_ERROR, f"response status {element.get('status')!r} is not "
                                                      "an ebRS 3.0 / IHE status"))
        status = Status.FAILURE
    return status, issues
