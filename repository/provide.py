"""ITI-41 Provide and Register Document Set-b at the Document Repository (ITI TF-2 3.41.4.1.3).

One submission, all or nothing (DESIGN.md §3):

1. the document parts are already in the blob store (MTOM parts streamed in through
   `IncomingDocument` sinks while the request arrived); inline base64 documents are written
   now, chunk by chunk;
2. each xdsb:Document is paired with the DocumentEntry of the same id: an entry without a
   document is XDSMissingDocument, a document without an entry XDSMissingDocumentMetadata;
3. the profile rules run (Transaction.PROVIDE_AND_REGISTER); a given hash or size must equal
   the computed one (XDSRepositoryMetadataError naming both values, 3.41.4.1.3); each entry
   needs a mimeType (it is stored and answered with ITI-43);
4. a uniqueId already in this repository with other content is XDSNonIdenticalHash (or
   XDSNonIdenticalSize); with identical content the stored copy is kept and the registry decides;
5. hash, size and repositoryUniqueId are set on each DocumentEntry ("adding/replacing"),
   index rows are added and the submission is sent to the registry (ITI-42,
   repository.registry_client.send_submission): a co-located registry takes the decoded model;
   when nothing at all was found so far, it is told the rule set and context that judged it
   (see "One judgement" below);
6. if the registry answers Failure — or anything fails after a blob was written — the rows
   and every blob of this request are removed, and the answer is Failure with the errors.

One judgement: ITI-42 judges the completed metadata by the same rules as ITI-41 (the same
profile, strictness, patient domains and extras, which the registry checks: judges_like), in
its own optionality column. The two columns differ only in hash, size and repositoryUniqueId
(O in ITI-41, R in ITI-42, ITI TF-3 Table 4.3.1-3) — exactly what the repository sets here, to
a SHA-1, a byte count and its own repositoryUniqueId (an OID, ITI TF-3 4.2.3.2; else no
judgement is handed over). So metadata without any issue in ITI-41 has none in ITI-42 either,
and the registry need not run the rules again (nor decode: the codec round-trips, so the model
is what it would have decoded); any issue, even a warning, sends the SubmitObjectsRequest as
before, and the registry judges it itself.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lxml import etree

from profiles.ebrim import decode_provide_and_register, encode_submit_objects_request
from profiles.errors import ErrorCode, Issue, Status
from profiles.hl7v2 import is_oid
from profiles.model import DocumentEntry, Submission
from profiles.responses import read_registry_response, registry_response
from profiles.rules import Profile, Transaction, ValidationContext

from .documents import IncomingDocument, InvalidContent, store_base64, store_stream
from .index import DocumentIndex, DuplicateDocument, StoredDocument
from .registry_client import Judgement, send_submission

log = logging.getLogger(__name__)

#: the profile's pairing rules: the repository pairs documents itself (it must, to store them)
PAIRING_RULES = ("documents.document-for-each-entry", "documents.entry-for-each-document")


@dataclass(frozen=True)
class RepositoryConfig:
    """What one Document Repository is: its id and the rules its submissions must follow."""

    repository_unique_id: str
    profile: Profile
    strict: bool = True
    patient_domains: tuple[str, ...] = ()
    validation_extras: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def context(self, documents: Iterable[str]) -> ValidationContext:
        return ValidationContext(
            Transaction.PROVIDE_AND_REGISTER, documents_attached=frozenset(documents),
            strict=self.strict, patient_domains=self.patient_domains, extras=self.validation_extras,
        )


class ProvideAndRegister:
    """The ITI-41 handler logic of one repository (thread-safe: no per-request state here)."""

    def __init__(self, store, index: DocumentIndex, registry, config: RepositoryConfig):
        self._store = store
        self._index = index
        self._registry = registry
        self._config = config
        present = [name for name in PAIRING_RULES if name in config.profile]
        self._profile = config.profile.drop(*present) if present else config.profile
        #: whether a clean ITI-41 judgement holds for ITI-42 too (module docstring)
        self._hands_over_judgement = is_oid(config.repository_unique_id)

    def __call__(self, request) -> etree._Element:
        """`request` has `body` (xdsb:ProvideAndRegisterDocumentSetRequest), `attachments` and
        `attachment_for(element)` (a soap.router.SoapRequest)."""
        job = _Job(self._store, self._index)
        try:
            return self._submit(request, job)
        except Exception:
            log.exception("ITI-41 failed; removing what this submission stored")
            job.undo()
            return registry_response([Issue(ErrorCode.REPOSITORY_ERROR, "internal error while storing the "
                                            "submission; nothing was stored")], status=Status.FAILURE)
        finally:
            job.drop_unkept(getattr(request, "attachments", {}).values())

    def _submit(self, request, job: _Job) -> etree._Element:
        submission, elements, issues = decode_provide_and_register(request.body)
        issues = [_as_repository_issue(issue) for issue in issues]
        issues += job.store_documents(request, elements)
        issues += _pairing_issues(submission, elements)
        context = self._config.context(elements)
        issues += self._profile.validate(submission, context)
        issues += _content_issues(submission.document_entries, job.documents, issues)
        existing = self._index.get_many(_unique_ids(submission, job.documents))
        issues += _conflict_issues(submission.document_entries, job.documents, existing)
        if any(issue.is_error for issue in issues):
            job.undo()
            return registry_response(issues, status=Status.FAILURE)
        judged = (self._config.profile, context) if self._hands_over_judgement and not issues else None
        return self._register(submission, job, existing, issues, judged)

    def _register(self, submission: Submission, job: _Job, existing: dict[str, StoredDocument],
                  issues: list[Issue], judged: Judgement | None) -> etree._Element:
        repository_id = self._config.repository_unique_id
        submission = _with_repository_attributes(submission, job.documents, repository_id)
        rows = [_row(entry, job.documents[entry.id], repository_id)
                for entry in submission.document_entries if entry.unique_id not in existing]
        try:
            job.add_rows(rows)
        except DuplicateDocument:
            job.undo()
            return registry_response(issues + [Issue(
                ErrorCode.REPOSITORY_ERROR, "a document uniqueId of this submission was stored by another "
                "submission at the same time; nothing was stored")], status=Status.FAILURE)
        status, registry_issues = read_registry_response(self._send(submission, judged))
        if status is Status.FAILURE:
            job.undo()
            return registry_response(issues + registry_issues, status=Status.FAILURE)
        job.keep({row.blob_key for row in rows})
        return registry_response(issues + registry_issues, status=status)

    def _send(self, submission: Submission, judged: Judgement | None) -> etree._Element:
        """The model when nothing was found (a co-located registry need not decode it again),
        else the SubmitObjectsRequest, so that the registry judges and answers as it always did."""
        if judged is None:
            return self._registry.register(encode_submit_objects_request(submission))
        return send_submission(self._registry, submission, judged)


class _Job:
    """What one submission stored so far, so that all of it can be undone."""

    def __init__(self, store, index: DocumentIndex):
        self._store = store
        self._index = index
        self.documents: dict[str, IncomingDocument] = {}
        self._rows: list[str] = []

    def store_documents(self, request, elements: Mapping[str, etree._Element]) -> list[Issue]:
        issues = []
        for document_id, element in elements.items():
            try:
                document = self._stored(request, element)
            except InvalidContent as exc:
                issues.append(Issue(ErrorCode.REPOSITORY_ERROR, f"Document {document_id}: {exc}",
                                    location=document_id))
                continue
            if document.failure is not None:  # details in the log, not for the client
                issues.append(Issue(ErrorCode.REPOSITORY_ERROR, f"Document {document_id}: the repository's "
                                    "document store failed while storing it; nothing was stored, try again "
                                    "later", location=document_id))
                continue
            self.documents[document_id] = document
        return issues

    def _stored(self, request, element: etree._Element) -> IncomingDocument:
        attachment = request.attachment_for(element)
        if attachment is None:
            return store_base64(self._store, element)
        handle = attachment.handle
        if isinstance(handle, IncomingDocument) and (handle.failure is not None or (
                handle.complete and handle not in self.documents.values())):
            return handle
        # a part in another kind of sink, or one part named by two Documents: each gets its own blob
        with attachment.open() as stream:
            return store_stream(self._store, stream)

    def add_rows(self, rows: list[StoredDocument]) -> None:
        self._index.add_all(rows)
        self._rows = [row.unique_id for row in rows]

    def keep(self, blob_keys: set[str]) -> None:
        for document in self.documents.values():
            if document.key in blob_keys:
                document.keep()
        self.drop_unkept([])

    def undo(self) -> None:
        try:
            if self._rows:
                self._index.remove(self._rows)
                self._rows = []
        finally:
            self.drop_unkept([])

    def drop_unkept(self, attachments: Iterable) -> None:
        for document in self.documents.values():
            document.close()
        for attachment in attachments:
            if isinstance(attachment.handle, IncomingDocument):
                attachment.handle.close()


def _as_repository_issue(issue: Issue) -> Issue:
    # The decoder names the registry; in ITI-41 the repository detects it (ITI TF-3 4.2.4.1).
    if issue.code is ErrorCode.REGISTRY_METADATA_ERROR:
        return Issue(ErrorCode.REPOSITORY_METADATA_ERROR, issue.context, issue.severity, issue.location)
    return issue


def _pairing_issues(submission: Submission, elements: Mapping[str, etree._Element]) -> list[Issue]:
    """ITI TF-2 3.41.4.1.3: one document per DocumentEntry and one DocumentEntry per document."""
    entry_ids = {entry.id for entry in submission.document_entries}
    issues = [Issue(ErrorCode.MISSING_DOCUMENT, f"DocumentEntry {entry.id} (uniqueId {entry.unique_id}): no "
                    "xdsb:Document with this id in the request", location=entry.id)
              for entry in submission.document_entries if entry.id not in elements]
    issues += [Issue(ErrorCode.MISSING_DOCUMENT_METADATA, f"xdsb:Document {document_id}: no DocumentEntry "
                     "(ExtrinsicObject) has this id", location=document_id)
               for document_id in elements if document_id not in entry_ids]
    return issues


def _content_issues(entries: Iterable[DocumentEntry], documents: Mapping[str, IncomingDocument],
                    found: list[Issue]) -> list[Issue]:
    """Given hash and size must match the content (3.41.4.1.3); a mimeType is needed to store."""
    issues = []
    for entry in entries:
        document = documents.get(entry.id)
        if document is None:
            continue
        where = f"DocumentEntry {entry.id} (uniqueId {entry.unique_id})"
        if entry.hash is not None and entry.hash.strip().lower() != document.sha1:
            issues.append(Issue(ErrorCode.REPOSITORY_METADATA_ERROR, f"{where}: hash {entry.hash} given, but the "
                                f"document's SHA-1 is {document.sha1}", location=entry.id))
        if entry.size is not None and entry.size.strip() != str(document.size):
            issues.append(Issue(ErrorCode.REPOSITORY_METADATA_ERROR, f"{where}: size {entry.size} given, but the "
                                f"document has {document.size} bytes", location=entry.id))
        if not entry.mime_type and not _reported(found, entry.id, "mimeType"):
            issues.append(Issue(ErrorCode.REPOSITORY_METADATA_ERROR, f"{where}: mimeType missing; it is "
                                "required to store and return the document", location=entry.id))
    return issues


def _reported(issues: list[Issue], location: str, word: str) -> bool:
    return any(issue.is_error and issue.location == location and word in issue.context for issue in issues)


def _unique_ids(submission: Submission, documents: Mapping[str, IncomingDocument]) -> list[str]:
    return [entry.unique_id for entry in submission.document_entries
            if entry.unique_id and entry.id in documents]


def _conflict_issues(entries: Iterable[DocumentEntry], documents: Mapping[str, IncomingDocument],
                     existing: Mapping[str, StoredDocument]) -> list[Issue]:
    """A uniqueId already stored here must name the same bytes (ITI TF-3 Table 4.2.4.1-2)."""
    issues = []
    for entry in entries:
        stored, document = existing.get(entry.unique_id or ""), documents.get(entry.id)
        if stored is None or document is None:
            continue
        if stored.sha1 != document.sha1:
            issues.append(Issue(ErrorCode.NON_IDENTICAL_HASH, f"document uniqueId {entry.unique_id} is already in "
                                f"this repository with SHA-1 {stored.sha1}; this document's SHA-1 is "
                                f"{document.sha1}", location=entry.unique_id))
        elif stored.size != document.size:
            issues.append(Issue(ErrorCode.NON_IDENTICAL_SIZE, f"document uniqueId {entry.unique_id} is already in "
                                f"this repository with size {stored.size}; this document has {document.size} "
                                "bytes", location=entry.unique_id))
    return issues


def _with_repository_attributes(submission: Submission, documents: Mapping[str, IncomingDocument],
                                repository_id: str) -> Submission:
    """ITI TF-2 3.41.4.1.3: the repository adds/replaces hash, size and repositoryUniqueId."""
    return submission.with_changes(document_entries=tuple(
        entry.with_changes(hash=documents[entry.id].sha1, size=str(documents[entry.id].size),
                           repository_unique_id=repository_id)
        for entry in submission.document_entries
    ))


def _row(entry: DocumentEntry, document: IncomingDocument, repository_id: str) -> StoredDocument:
    return StoredDocument(entry.unique_id or "", document.key, document.size, document.sha1,
                          entry.mime_type or "", repository_id)
