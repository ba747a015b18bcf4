"""The Document Registry's logic, without SOAP: Register Document Set-b (ITI TF-2 3.42) and
Registry Stored Query (ITI TF-2 3.18).

`register` follows DESIGN.md §3 and ITI TF-2 3.42.4.1.3: decode the SubmitObjectsRequest
(codec issues) → the metadata profile's rules (ValidationContext for ITI-42) → when neither
found an error, in ONE write transaction: the registry-state checks (`registry.checks`), then
registry ids (`registry.ids`), status Approved on every new object, lastUpdateTime on new
Folders, the insert (`registry.store.store_submission`), the Folder updates
(`registry.folders`: lastUpdateTime of existing Folders gaining members, replacements joining
their original's Folders) and the deprecations the replacements cause
(`registry.relationships`). Any error answers Failure and stores nothing; every issue
found at the stage that failed is reported; warnings travel with a Success.

`query(request, context)` screens its answer through the `DocumentAccess` the composition root
gave (profiles.access; registry.queries.screening) when a request context — the SOAP
request's environ — comes with it; an in-process caller passing no context is answered
unscreened (a co-located actor screening for itself).

Both methods answer an element in every case: an unexpected error (a database failure, a
bug) is logged and answered as XDSRegistryError, never as a traceback to the peer.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping

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
from registry.store import StoredObject, set_status, store_submission, write_transaction

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
        issues += self.profile.validate(submission, self.context)
        if has_error(issues):
            return registry_response(issues)
        try:
            issues += self._store(submission)
        except _Rejected as rejected:
            issues += rejected.issues
        except Exception:
            log.exception("Register Document Set-b failed unexpectedly; nothing was stored")
            issues.append(Issue(ErrorCode.REGISTRY_ERROR, INTERNAL_ERROR))
        return registry_response(issues)

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

    # --- ITI-18 ----------------------------------------------------------------------------

    def query(self, request: etree._Element, context: Mapping[str, Any] | None = None) -> etree._Element:
        """query:AdhocQueryResponse answering a query:AdhocQueryRequest (ITI-18), screened by the
        document access policy in `context` (the request's environ) when both are present."""
        from registry import queries

        return self._query(request, context, queries.answer_stored_query, lambda element: element)

    def query_answer(self, request: etree._Element, context: Mapping[str, Any] | None = None) -> QueryAnswer:
        """`query`'s answer as a registry.queries.QueryAnswer: the stored XML of LeafClass
        objects still bytes, for splicing into the SOAP response unparsed."""
        from registry.queries import QueryAnswer, answer_query

        return self._query(request, context, answer_query, QueryAnswer)

    def _query(self, request: etree._Element, context: Mapping[str, Any] | None, answer: Callable, wrap: Callable):
        if request.tag != ADHOC_QUERY_REQUEST:
            return wrap(adhoc_query_response([Issue(
                ErrorCode.REGISTRY_ERROR,
                f"Registry Stored Query expects query:AdhocQueryRequest in the SOAP Body, found {request.tag}")],
                [], status=Status.FAILURE))
        try:
            from registry.queries import QueryOptions

            options = QueryOptions(result_limit=self.query_result_limit, home_community_id=self.home_community_id)
            access = self._access_for(context)
            screening = {} if access is None else {"access": access, "context": context}
            with self.engine.connect() as conn:
                return answer(conn, request, options, **screening)
        except Exception:
            log.exception("Registry Stored Query failed unexpectedly")
            return wrap(adhoc_query_response([Issue(ErrorCode.REGISTRY_ERROR, INTERNAL_ERROR)], [],
                                             status=Status.FAILURE))

    def _access_for(self, context: Mapping[str, Any] | None) -> DocumentAccess | None:
        access = self.document_access
        return access if access is not None and context is not None and access.judges(context) else None
