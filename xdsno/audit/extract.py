"""What an audit record says about the entities of an XDS/XCA message, read from the parsed
request and response bodies (ebRIM 3.0 / ebRS 3.0, ITI TF-3 4.2; ITI TF-2 3.18, 3.38, 3.39,
3.41, 3.42, 3.43; RMD 3.86).

`message_facts(request_body, response_body)` finds, without knowing which actor answered:
- submissions (ITI-41/42): every DocumentEntry's uniqueId and patientId, the SubmissionSet's
  uniqueId and patientId;
- stored queries (ITI-18/38): the AdhocQuery id, name and parameters, the patients named by
  its parameters, and every DocumentEntry the answer returned (uniqueId, patient, repository,
  community);
- retrieves and removals (ITI-43/39/86): every DocumentRequest, marked returned when the
  answer carries its DocumentResponse;
- the response status (Success, PartialSuccess, Failure) and its first error.

These are the audit message's participant objects (ITI TF-2 3.18.5.1.2 etc.); the actors
themselves know nothing of auditing.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from lxml import etree

from profiles.errors import Status
from profiles.stored_queries import PATIENT_PARAMETERS, by_id, parse_param_values
from profiles.vocabulary import LCM, QUERY, RIM, RMD, RS, XDSB, DocumentEntryScheme, SubmissionSetScheme

from .record import DocumentRef, QueryRef

_EXTRINSIC = f"{{{RIM}}}ExtrinsicObject"
_PACKAGE = f"{{{RIM}}}RegistryPackage"
_EXTERNAL_ID = f"{{{RIM}}}ExternalIdentifier"
_SLOT = f"{{{RIM}}}Slot"
_VALUE_LIST = f"{{{RIM}}}ValueList"
_VALUE = f"{{{RIM}}}Value"
_VALUES = f"{_VALUE_LIST}/{_VALUE}"
_SUBMIT = f"{{{LCM}}}SubmitObjectsRequest"
_ADHOC_QUERY = f"{{{RIM}}}AdhocQuery"
_DOCUMENT_REQUEST = f"{{{XDSB}}}DocumentRequest"
_DOCUMENT_RESPONSE = f"{{{XDSB}}}DocumentResponse"
_REGISTRY_ERROR = f"{{{RS}}}RegistryErrorList/{{{RS}}}RegistryError"
_ENTRY_SCHEMES = {DocumentEntryScheme.UNIQUE_ID.value: "unique_id", DocumentEntryScheme.PATIENT_ID.value: "patient"}
_RETRIEVE_REQUESTS = (f"{{{XDSB}}}RetrieveDocumentSetRequest", f"{{{RMD}}}RemoveDocumentsRequest")


@dataclass
class MessageFacts:
    """The entities of one exchange, as the audit record names them."""

    patients: list[str] = field(default_factory=list)
    documents: list[DocumentRef] = field(default_factory=list)
    submission_set: str = ""
    query: QueryRef | None = None
    status: str = ""
    error: str = ""

    def add_patient(self, patient: str) -> None:
        if patient and patient not in self.patients:
            self.patients.append(patient)


def message_facts(request_body: etree._Element | None, response_body: etree._Element | None, *,
                  query_results: bool = True) -> MessageFacts:
    """The facts of one exchange; `query_results=False` leaves out the DocumentEntries a query
    answer returned (reading only its status and first error)."""
    facts = MessageFacts()
    if request_body is not None:
        _read_request(request_body, facts)
    if response_body is not None:
        _read_response(response_body, facts, query_results=query_results)
    return facts


def _read_request(body: etree._Element, facts: MessageFacts) -> None:
    submission = body if body.tag == _SUBMIT else body.find(_SUBMIT)
    if submission is not None:
        _read_submission(submission, facts)
    elif body.tag == f"{{{QUERY}}}AdhocQueryRequest":
        _read_query(body.find(_ADHOC_QUERY), facts)
    elif body.tag in _RETRIEVE_REQUESTS:
        facts.documents = [_requested(request) for request in body.iterchildren(_DOCUMENT_REQUEST)]


def _read_submission(submission: etree._Element, facts: MessageFacts) -> None:
    for package in submission.iter(_PACKAGE):
        unique_id = _external_id(package, SubmissionSetScheme.UNIQUE_ID)
        if unique_id:
            facts.submission_set = unique_id
            facts.add_patient(_external_id(package, SubmissionSetScheme.PATIENT_ID))
    for entry in submission.iter(_EXTRINSIC):
        facts.documents.append(_entry(entry))
        facts.add_patient(facts.documents[-1].patient_id)


def _read_query(query: etree._Element | None, facts: MessageFacts) -> None:
    if query is None:
        return
    query_id = query.get("id", "")
    definition = by_id(query_id) if query_id else None
    params = tuple((slot.get("name", ""), _param_values(slot)) for slot in query.iterchildren(_SLOT))
    facts.query = QueryRef(query_id, definition.name if definition else "", params, query.get("home", ""),
                           etree.tostring(query, encoding="unicode"))
    for name, values in params:
        if name in PATIENT_PARAMETERS:
            for value in values:
                facts.add_patient(value)


def _param_values(slot: etree._Element) -> tuple[str, ...]:
    raw = [value.text or "" for value in slot.iterfind(_VALUES)]
    try:
        return tuple(parse_param_values(raw))
    except ValueError:
        return tuple(raw)


def _read_response(body: etree._Element, facts: MessageFacts, *, query_results: bool) -> None:
    status_element = body if body.get("status") else body.find(f"{{{RS}}}RegistryResponse")
    if status_element is not None:
        facts.status = status_element.get("status", "")
        error = status_element.find(_REGISTRY_ERROR)
        if error is not None:
            facts.error = f"{error.get('errorCode', '')}: {error.get('codeContext', '')}".strip(": ")
    returned = {(r.findtext(f"{{{XDSB}}}DocumentUniqueId") or "").strip()
                for r in body.iterchildren(_DOCUMENT_RESPONSE)}
    if body.tag == f"{{{XDSB}}}RetrieveDocumentSetResponse":
        facts.documents = [_with(d, returned=d.unique_id in returned) for d in facts.documents]
    elif body.tag == f"{{{QUERY}}}AdhocQueryResponse" and query_results:
        _read_query_results(body, facts)


def _read_query_results(body: etree._Element, facts: MessageFacts) -> None:
    object_list = body.find(f"{{{RIM}}}RegistryObjectList")
    if object_list is None:
        return
    for entry in object_list.iterchildren(_EXTRINSIC):
        document = _entry(entry, returned=True)
        facts.documents.append(document)
        facts.add_patient(document.patient_id)


def _entry(entry: etree._Element, returned: bool | None = None) -> DocumentRef:
    # one pass over the children: an answer names up to a thousand entries
    found: dict[str, str] = {}
    for child in entry.iterchildren(_EXTERNAL_ID, _SLOT):
        scheme = child.get("identificationScheme")
        if scheme is not None:  # an ExternalIdentifier (a Slot has none)
            key = _ENTRY_SCHEMES.get(scheme)
            if key and key not in found:
                found[key] = (child.get("value") or "").strip()
        elif child.get("name") == "repositoryUniqueId" and "repository" not in found:
            found["repository"] = _first_value(child)
    return DocumentRef(unique_id=found.get("unique_id", ""), repository_unique_id=found.get("repository", ""),
                       home_community_id=entry.get("home", ""), patient_id=found.get("patient", ""),
                       returned=returned)


def _first_value(slot: etree._Element) -> str:
    # what slot.findtext(_VALUES) finds, without compiling the path each time
    for value_list in slot.iterchildren(_VALUE_LIST):
        for value in value_list.iterchildren(_VALUE):
            return (value.text or "").strip()
    return ""


def _requested(request: etree._Element) -> DocumentRef:
    def text(name: str) -> str:
        return (request.findtext(f"{{{XDSB}}}{name}") or "").strip()

    return DocumentRef(text("DocumentUniqueId"), text("RepositoryUniqueId"), text("HomeCommunityId"))


def _external_id(owner: etree._Element, scheme: str) -> str:
    for identifier in owner.iterchildren(_EXTERNAL_ID):
        if identifier.get("identificationScheme") == scheme:
            return (identifier.get("value") or "").strip()
    return ""


def _with(document: DocumentRef, **changes) -> DocumentRef:
    return replace(document, **changes)


def is_failure(status: str) -> bool:
    return status == Status.FAILURE.value


def is_partial(status: str) -> bool:
    return status == Status.PARTIAL_SUCCESS.value
