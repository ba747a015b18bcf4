"""Registry Stored Query (ITI-18, ITI TF-2 3.18) and Multi-Patient Stored Query (ITI-51,
ITI TF-2 3.51): the registry side.

    with engine.connect() as conn:
        response = answer_stored_query(conn, adhoc_query_request, QueryOptions())

The query:AdhocQueryRequest is decoded into a typed `StoredQuery` (request.py: returnType,
query id, parameters checked against the table of `profiles.stored_queries`), the stored
query's own function selects entryUUIDs with a few indexed SELECTs (find.py, get.py,
related.py), and the query:AdhocQueryResponse carries each object's stored canonical ebRIM XML
(LeafClass) or an ObjectRef (results.py). `answer_query` gives the answer with the stored XML
still as bytes, to be spliced into the SOAP response unparsed (`QueryAnswer`, soap.splice);
`answer_stored_query` the whole answer as a tree. Problems in the request come back as the response's
RegistryErrorList with status Failure; nothing here raises for a bad request.

Given a `DocumentAccess` (profiles.access) and the request's context, what the query found is
screened before it is answered (screening.py): documents the verdict does not allow are left
out, a refused request is answered Failure with LocalPolicyRestrictionError, and the
verdict's response slots go into rs:ResponseSlotList. A Multi-Patient Stored Query is judged
by the patients of the Folders it found as well (screening.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from lxml import etree
from sqlalchemy import Connection

from profiles.access import DocumentAccess, add_response_slots, query_patient_ids, refusal_issue
from profiles.errors import Status
from profiles.responses import adhoc_query_response

from . import find, get, related
from .request import ReturnType, StoredQuery, decode_request
from .results import Found, QueryAnswer, answer
from .screening import answered_patients, screen


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """Registry policy for stored-query answers.

    `result_limit`: more objects than this → Failure with XDSTooManyResults (ITI TF-3 Table
    4.2.4.1-2). `home_community_id`: when set (`urn:oid:…`), written as `home` on every returned
    object and ObjectRef, as a community answering through XCA does (ITI TF-2 3.38.4.1.3); None
    for a plain XDS registry. `transaction`: "ITI-18", or "ITI-51" for the multi-patient queries;
    the queries of the other transaction are unknown (XDSUnknownStoredQuery).
    """

    result_limit: int = 1000
    home_community_id: str | None = None
    transaction: str = "ITI-18"


QueryFunction = Callable[[Connection, StoredQuery, int], Found]

#: the function answering each stored query, by query name
QUERIES: dict[str, QueryFunction] = {
    "FindDocuments": find.find_documents,
    "FindDocumentsByReferenceId": find.find_documents,
    "FindSubmissionSets": find.find_submission_sets,
    "FindFolders": find.find_folders,
    "GetAll": related.get_all,
    "GetDocuments": get.get_documents,
    "GetFolders": get.get_folders,
    "GetAssociations": get.get_associations,
    "GetDocumentsAndAssociations": get.get_documents_and_associations,
    "GetSubmissionSets": get.get_submission_sets,
    "GetSubmissionSetAndContents": related.get_submission_set_and_contents,
    "GetFolderAndContents": related.get_folder_and_contents,
    "GetFoldersForDocument": related.get_folders_for_document,
    "GetRelatedDocuments": related.get_related_documents,
    "FindDocumentsForMultiplePatients": find.find_documents,
    "FindFoldersForMultiplePatients": find.find_folders,
}


def run_stored_query(conn: Connection, query: StoredQuery, result_limit: int) -> Found:
    """What `query` selects; more than `result_limit` objects means too many (not all are read)."""
    return QUERIES[query.name](conn, query, result_limit)


def answer_stored_query(conn: Connection, request: etree._Element,
                        options: QueryOptions = QueryOptions(), *, access: DocumentAccess | None = None,
                        context: Mapping[str, Any] | None = None) -> etree._Element:
    """query:AdhocQueryResponse answering the query:AdhocQueryRequest `request`; screened by
    `access` in `context` when both are given."""
    return answer_query(conn, request, options, access=access, context=context).tree()


def answer_query(conn: Connection, request: etree._Element,
                 options: QueryOptions = QueryOptions(), *, access: DocumentAccess | None = None,
                 context: Mapping[str, Any] | None = None) -> QueryAnswer:
    """`answer_stored_query`'s answer with the stored XML of LeafClass objects not yet parsed."""
    query, issues = decode_request(request, options.transaction)
    if query is None:
        return QueryAnswer(adhoc_query_response(issues, [], status=Status.FAILURE))
    found = run_stored_query(conn, query, options.result_limit)
    slots = ()
    if access is not None and context is not None:
        patients = [*query_patient_ids(request)]
        if options.transaction == "ITI-51":
            patients = list(dict.fromkeys([*patients, *answered_patients(conn, found)]))
        found, verdict = screen(conn, found, patients, access, context)
        if verdict.refusal is not None:
            return QueryAnswer(adhoc_query_response([refusal_issue(verdict)], [], status=Status.FAILURE))
        slots = verdict.response_slots
    response = answer(conn, query, found, result_limit=options.result_limit,
                      home=options.home_community_id, single_patient=options.transaction != "ITI-51",
                      warnings=[issue for issue in issues if not issue.is_error])
    add_response_slots(response.body, slots)
    return response


__all__ = [
    "QUERIES", "Found", "QueryAnswer", "QueryOptions", "ReturnType", "StoredQuery", "answer_query",
    "answer_stored_query",
    "decode_request", "run_stored_query",
]
