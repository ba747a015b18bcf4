"""The Document Registry's logic, without SOAP: Register Document Set-b (ITI TF-2 3.42),
Registry Stored Query (ITI TF-2 3.18), Multi-Patient Stored Query (ITI TF-2 3.51) and Remove
Metadata (ITI-62, RMD supplement 3.62).

`register` follows DESIGN.md §3 and ITI TF-2 3.42.4.1.3: decode the SubmitObjectsRequest
(codec issues) → the metadata profile's rules (ValidationContext for ITI-42) → when neither
found an error, in ONE write transaction: the registry-state checks (`registry.checks`), then
registry ids (`registry.ids`), status Approved on every new object, lastUpdateTime on new
Folders, the insert (`registry.store.store_submission`), the Folder updates
(`registry.folders`: lastUpdateTime of existing Folders gaining members, replacements joining
their original's Folders) and the deprecations the replacements cause
(`registry.relationships`). Any error answers Failure and stores nothing; every issue
found at the stage that failed is reported; warnings travel with a Success.

`register_submission(submission, judged)` is the same ITI-42 for a co-located actor that has
already decoded the metadata (the repository's ITI-41, ITI TF-2 3.41.4.1.3): no second
decode. When `judged` — the (profile, context) under which the caller found the submission
free of any issue — is this registry's own rule set with its own options (`judges_like`: only
the transaction and the attached documents differ), the profile rules do not run again; the
registry-state checks and everything after them always do.

`query(request, context)` (ITI-18) and `multi_patient_query(request, context)` (ITI-51) differ
in the stored queries they accept (each answers the other's with XDSUnknownStoredQuery) and in
XDSResultNotSinglePatient, which only ITI-18 answers; both screen their answer through the `DocumentAccess` the composition root
gave (profiles.access; registry.queries.screening) when a request context — the SOAP
request's environ — comes with it; an in-process caller passing no context is answered
unscreened (a co-located actor screening for itself).

`remove_metadata(request, context)` (ITI-62) reads the entryUUIDs of the lcm:RemoveObjectsRequest
(`registry.removal`) and, in ONE write transaction, checks that removing them leaves the
registry consistent and removes every row of them (`registry.store.remove_objects`). Any
error answers Failure and removes nothing.

Both methods answer an element in every case: an unexpected error (a database failure, a
bug) is logged and answered as XDSRegistryError, never as a traceback to the peer.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping, MutableMapping

from lxml import etree
from sqlalchemy import Engine

from profiles.access import DocumentAccess
from profiles.ebrim import canonical_bytes, decode_submit_objects_request
from profiles.errors import ErrorCode, Issue, Status
from profiles.model import Folder, RegistryObject, Submission
from profiles.responses import adhoc_query_response, registry_response
from profiles.rules import Profile, Transaction, ValidationContext
from profiles.vocabulary import LCM, QUERY, AvailabilityStatus
from registry.checks import RegistryPolicy, run_checks
from registry.folders import existing_folders_gaining_members, replacement_memberships, touch_folders
from registry.ids import assign_ids
from registry.relationships import documents_to_deprecate
from registry.removal import removal_issues, requested_removals
from registry.store import StoredObject, remove_objects, set_status, store_submission, write_transaction
from registry.store.removal import REMOVED_KEY, removed_summary

if TYPE_CHECKING:
    from registry.queries import QueryAnswer

log = logging.getLogger(__name__)

SUBMIT_OBJECTS_REQUEST = f"{{{LCM}}}SubmitObjectsRequest"
ADHOC_QUERY_REQUEST = f"{{{QUERY}}}AdhocQueryRequest"
INTERNAL_ERROR = "internal registry error; the registry's log has the details"


class _Rejected(Exception):
    """Raised inside the write transaction so that it rolls back; carries the issues."""

    def __init__(self, issues: list[Issue]):
        super().__init__(f"{len(issues)} issue(s)")
        self.issues = issues


def utc_now_dtm() -> str:
    """Now as an HL7 DTM to the second, UTC (ITI TF-3 4.2.3.1.7 times are UTC)."""
    return datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")


def has_error(issues: list[Issue]) -> bool:
    return any(issue.is_error for issue in issues)


class RegistryService:
    """One Document Registry: its store, its metadata profile and its deployment policy."""

    def __init__(self, engine: Engine, profile: Profile, context_defaults: ValidationContext | None = None, *,
                 patient_domains: tuple[str, ...] = (), known_patients_only: bool = False,
                 query_result_limit: int = 1000, home_community_id: str | None = None,
                 clock: Callable[[], str] = utc_now_dtm, document_access: DocumentAccess | None = None):
        self.engine = engine
        self.profile = profile
        base = context_defaults or ValidationContext(Transaction.REGISTER)
        self.context = base.with_changes(transaction=Transaction.REGISTER, patient_domains=tuple(patient_domains))
        self.policy = RegistryPolicy(tuple(patient_domains), known_patients_only)
        self.query_result_limit = query_result_limit
        self.home_community_id = home_community_id
        self.document_access = document_access
        self._clock = clock

    # --- ITI-42 ----------------------------------------------------------------------------

    def register(self, request: etree._Element) -> etree._Element:
        """rs:RegistryResponse answering an lcm:SubmitObjectsRequest (ITI-42)."""
        if request.tag != SUBMIT_OBJECTS_REQUEST:
            return registry_response([Issue(
                ErrorCode.REGISTRY_ERROR,
                f"Register Document Set-b expects lcm:SubmitObjectsRequest in the SOAP Body, found {request.tag}")])
        submission, issues = decode_submit_objects_request(request)
        return self._register(submission, issues + self.profile.validate(submission, self.context))

    def register_submission(self, submission: Submission,
                            judged: tuple[Profile, ValidationContext] | None = None) -> etree._Element:
        """rs:RegistryResponse for an already decoded SubmitObjectsRequest (ITI-42 in-process).
        `judged`: the profile and context that found no issue at all in `submission`; when they
        judge like this registry, its profile rules are not run a second time."""
        if judged is not None and self.judges_like(*judged):
            return self._register(submission, [])
        return self._register(submission, self.profile.validate(submission, self.context))

    def judges_like(self, profile: Profile, context: ValidationContext) -> bool:
        """`profile` under `context` is this registry's rule set with its options (strictness,
        patient domains, extras); the transaction and the attached documents may differ."""
        own = self.context
        return profile == self.profile and context.with_changes(
            transaction=own.transaction, documents_attached=own.documents_attached) == own

    def _register(self, submission: Submission, issues: list[Issue]) -> etree._Element:
        if has_error(issues):
            return registry_response(issues)
        issues += self._written(lambda: self._store(submission),
                                "Register Document Set-b failed unexpectedly; nothing was stored")
        return registry_response(issues)

    @staticmethod
    def _written(write: Callable[[], list[Issue]], failure: str) -> list[Issue]:
        """The issues of `write` (one write transaction): its own, those it was rejected with, or
        an internal error (logged with `failure`); a rejection or an error has rolled it back."""
        try:
            return write()
        except _Rejected as rejected:
            return rejected.issues
        except Exception:
            log.exception(failure)
            return [Issue(ErrorCode.REGISTRY_ERROR, INTERNAL_ERROR)]

    def _store(self, submission: Submission) -> list[Issue]:
        """Check against the registry and store, in one transaction; _Rejected rolls it back."""
        with write_transaction(self.engine) as conn:
            issues = run_checks(conn, submission, self.policy)
            if has_error(issues):
                raise _Rejected(issues)
            stored, _ = assign_ids(submission)
            now = self._clock()
            added = replacement_memberships(conn, stored)
            objects = [*(self._as_stored(obj, now) for obj in stored.objects()), *added]
            store_submission(conn, [StoredObject(obj, canonical_bytes(obj)) for obj in objects])
            touch_folders(conn, existing_folders_gaining_members(stored, added), now)
            set_status(conn, documents_to_deprecate(conn, stored), AvailabilityStatus.DEPRECATED.value)
        return issues

    @staticmethod
    def _as_stored(obj: RegistryObject, now: str) -> RegistryObject:
        """Status Approved on every new object (ITI TF-3 4.2.3.2.2, 4.2.3.3.2 availabilityStatus) and, on a
        new Folder, lastUpdateTime = now (ITI TF-3 4.2.3.4.6: set by the registry)."""
        changes: dict[str, object] = {"status": AvailabilityStatus.APPROVED.value}
        if isinstance(obj, Folder):
            changes["last_update_time"] = now
        return obj.with_changes(**changes)

    # --- ITI-18 and ITI-51 ------------------------------------------------------------------

    def query(self, request: etree._Element, context: Mapping[str, Any] | None = None) -> etree._Element:
        """query:AdhocQueryResponse answering a query:AdhocQueryRequest (ITI-18), screened by the
        document access policy in `context` (the request's environ) when both are present."""
        from registry import queries

        return self._stored_query(request, context, "ITI-18", "Registry Stored Query",
                                  queries.answer_stored_query, lambda element: element)

    def query_answer(self, request: etree._Element, context: Mapping[str, Any] | None = None) -> QueryAnswer:
        """`query`'s answer as a registry.queries.QueryAnswer: the stored XML of LeafClass
        objects still bytes, for splicing into the SOAP response unparsed."""
        from registry.queries import QueryAnswer, answer_query

        return self._stored_query(request, context, "ITI-18", "Registry Stored Query", answer_query, QueryAnswer)

    def multi_patient_query(self, request: etree._Element,
                            context: Mapping[str, Any] | None = None) -> etree._Element:
        """query:AdhocQueryResponse answering a Multi-Patient Stored Query (ITI-51), screened as `query`."""
        from registry import queries

        return self._stored_query(request, context, "ITI-51", "Multi-Patient Stored Query",
                                  queries.answer_stored_query, lambda element: element)

    def _stored_query(self, request: etree._Element, context: Mapping[str, Any] | None, transaction: str,
                      title: str, answer: Callable, wrap: Callable):
        """`answer(conn, request, options, ...)` of the stored query, or `wrap` of the Failure."""
        if request.tag != ADHOC_QUERY_REQUEST:
            return wrap(adhoc_query_response([Issue(
                ErrorCode.REGISTRY_ERROR, f"{title} expects query:AdhocQueryRequest in the SOAP Body, found "
                                          f"{request.tag}")], [], status=Status.FAILURE))
        try:
            from registry.queries import QueryOptions

            options = QueryOptions(result_limit=self.query_result_limit, home_community_id=self.home_community_id,
                                   transaction=transaction)
            access = self._access_for(context)
            screening = {} if access is None else {"access": access, "context": context}
            with self.engine.connect() as conn:
                return answer(conn, request, options, **screening)
        except Exception:
            log.exception("%s failed unexpectedly", title)
            return wrap(adhoc_query_response([Issue(ErrorCode.REGISTRY_ERROR, INTERNAL_ERROR)], [],
                                             status=Status.FAILURE))

    # --- ITI-62 ----------------------------------------------------------------------------

    def remove_metadata(self, request: etree._Element,
                        context: MutableMapping[str, Any] | None = None) -> etree._Element:
        """rs:RegistryResponse answering an lcm:RemoveObjectsRequest (ITI-62): all named objects
        removed, or none. What was removed (a `Removed`: entryUUIDs, patients, DocumentEntry
        uniqueIds) is left in `context[REMOVED_KEY]` for the audit."""
        ids, issues = requested_removals(request)
        if has_error(issues):
            return registry_response(issues)
        issues += self._written(lambda: self._remove(ids, context),
                                "Remove Metadata failed unexpectedly; nothing was removed")
        return registry_response(issues)

    def _remove(self, ids: list[str], context: MutableMapping[str, Any] | None) -> list[Issue]:
        """Check and remove, in one transaction; _Rejected rolls it back."""
        with write_transaction(self.engine) as conn:
            issues = removal_issues(conn, ids)
            if has_error(issues):
                raise _Rejected(issues)
            removed = removed_summary(conn, ids)
            remove_objects(conn, ids)
        if context is not None:
            context[REMOVED_KEY] = removed
        return issues

    def _access_for(self, context: Mapping[str, Any] | None) -> DocumentAccess | None:
        access = self.document_access
        return access if access is not None and context is not None and access.judges(context) else None
