"""ITI-43 Retrieve Document Set (ITI TF-2 3.43.4.1.3) and ITI-86 Remove Documents (RMD 3.86.4.1.3)
at the Document Repository.

Each DocumentRequest is judged on its own and answered in the one RegistryResponse:
- a RepositoryUniqueId other than this repository's → XDSUnknownRepositoryId;
- a DocumentUniqueId this repository does not hold → XDSDocumentUniqueIdError;
- an indexed document whose blob is gone → XDSRepositoryError (logged: the store lost it).
With a screen (the deployment's access policy, profiles.access, asked by the service with the
request's context), the documents the index holds are judged before anything else: one not
allowed is answered exactly as a document this repository does not hold
(XDSDocumentUniqueIdError, whose definition includes "the requestor is not authorized to access
that document", ITI TF-3 Table 4.2.4.1-2), so the answer never tells hidden from absent; a
refused request is answered Failure with LocalPolicyRestrictionError and no document.
Each error's location is the DocumentUniqueId and its codeContext names the ids. Status:
Success without errors, PartialSuccess when errors and at least one document retrieved (or
removed), Failure when none (ITI TF-2 3.43.4.2.2; ITI TF-3 4.2.4.2).

Retrieved documents stream from the blob store into the MTOM response: each attachment's
chunks come from a generator that opens the blob only when the response body reaches it
and closes it when done or abandoned, so no document is loaded whole and an unsent document
holds no connection or file.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from lxml import etree

from profiles.access import Verdict, refusal_issue
from profiles.errors import ErrorCode, Issue, Severity, overall_status
from profiles.responses import registry_response
from soap.mtom import OutgoingAttachment, new_content_id

from .index import DocumentIndex, StoredDocument
from .requests import (
    REMOVE_REQUEST,
    RETRIEVE_REQUEST,
    DocumentAnswer,
    DocumentRequest,
    read_document_requests,
    retrieve_response,
)

log = logging.getLogger(__name__)

RETRIEVE_CHUNK = 64 * 1024

#: judges the uniqueIds of indexed documents a request asks for (see the module docstring)
Screen = Callable[[Sequence[str]], Verdict]


class RetrieveResult(NamedTuple):
    """The RetrieveDocumentSetResponse and the attachments its xop:Includes refer to (the
    shape an XCA Responding Gateway expects of a co-located repository)."""

    response: etree._Element
    attachments: tuple[OutgoingAttachment, ...]


class DocumentLookup:
    """Finds the requested documents of this repository in the index and the blob store."""

    def __init__(self, store, index: DocumentIndex, repository_unique_id: str):
        self.store = store
        self.index = index
        self.repository_unique_id = repository_unique_id

    def resolve(self, requests: list[DocumentRequest], screen: Screen | None = None,
                ) -> tuple[list[tuple[DocumentRequest, StoredDocument]], list[Issue]]:
        ours = [r.document_unique_id for r in requests if r.repository_unique_id == self.repository_unique_id]
        stored = self.index.get_many(ours)
        if screen is not None and requests:
            verdict = screen(sorted(stored))
            if verdict.refusal is not None:
                return [], [refusal_issue(verdict)]
            stored = {uid: document for uid, document in stored.items() if uid in verdict.allowed}
        found, issues = [], []
        for request in requests:
            issue = self._problem(request, stored.get(request.document_unique_id))
            if issue is None:
                found.append((request, stored[request.document_unique_id]))
            else:
                issues.append(issue)
        return found, issues

    def _problem(self, request: DocumentRequest, document: StoredDocument | None) -> Issue | None:
        uid, repository = request.document_unique_id, request.repository_unique_id
        if repository != self.repository_unique_id:
            return Issue(ErrorCode.UNKNOWN_REPOSITORY_ID, f"document {uid}: RepositoryUniqueId "
                         f"{repository or '(none)'} is not this repository ({self.repository_unique_id})",
                         location=uid)
        if document is None:
            return Issue(ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, f"document uniqueId {uid} is not in repository "
                         f"{repository}", location=uid)
        if not self.store.exists(document.blob_key):
            log.error("document %s is indexed but blob %s is missing", uid, document.blob_key)
            return Issue(ErrorCode.REPOSITORY_ERROR, f"document {uid} is indexed in repository {repository} but its "
                         "content is missing from the store", location=uid)
        return None


def retrieve(lookup: DocumentLookup, body: etree._Element, screen: Screen | None = None) -> RetrieveResult:
    """ITI-43: the documents asked for (and allowed by `screen`), each an MTOM part streamed
    from the store."""
    requests, issues = read_document_requests(body, RETRIEVE_REQUEST)
    found, problems = lookup.resolve(requests, screen)
    answers, attachments = [], []
    for request, document in found:
        content_id = new_content_id()
        answers.append(DocumentAnswer(request, document.mime_type, content_id))
        attachments.append(OutgoingAttachment(content_id, document.mime_type,
                                              _blob_chunks(lookup.store, document.blob_key), document.size))
    return RetrieveResult(retrieve_response(issues + problems, answers), tuple(attachments))


def _blob_chunks(store, key: str) -> Iterator[bytes]:
    with store.open(key) as reader:
        yield from reader.iter_chunks(RETRIEVE_CHUNK)


def remove_documents(lookup: DocumentLookup, body: etree._Element) -> etree._Element:
    """ITI-86: remove each document's index row, then its blob; RegistryResponse."""
    requests, issues = read_document_requests(body, REMOVE_REQUEST)
    found, problems = lookup.resolve(requests)
    issues += problems
    documents = {document.unique_id: document for _, document in found}
    lookup.index.remove(documents)
    for document in documents.values():
        issues.extend(_delete_blob(lookup.store, document))
    return registry_response(issues, status=overall_status(issues, partial=bool(documents)))


def _delete_blob(store, document: StoredDocument) -> list[Issue]:
    # The row is gone first: the document is no longer retrievable whatever the store says.
    try:
        store.delete(document.blob_key)
    except Exception:
        log.exception("document %s removed, but blob %s could not be deleted", document.unique_id, document.blob_key)
        return [Issue(ErrorCode.REPOSITORY_ERROR, f"document {document.unique_id} was removed but its content "
                      "could not be deleted from the store", Severity.WARNING, document.unique_id)]
    return []
