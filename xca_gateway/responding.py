"""The Responding Gateway: Cross Gateway Query (ITI TF-2 3.38) and Cross Gateway Retrieve
(ITI TF-2 3.39) answered from this community's registry and repositories.

ITI-38 (3.38.4.1.2/3.38.4.1.3): the AdhocQueryRequest goes to the local registry as an ITI-18
query. Before that the gateway checks the homeCommunityId, carried as AdhocQuery/@home:
- a value naming another community → XDSUnknownCommunity;
- no value on a query that names objects by id instead of by patient (the Get* queries;
  `StoredQueryDef.uses_home`) → XDSMissingHomeCommunityId;
- FindDocuments, FindSubmissionSets, FindFolders, GetAll and FindDocumentsByReferenceId
  carry a patient id and need no home.
The answer is the registry's, with `home` set to this community on every returned object
(ExtrinsicObject, RegistryPackage, Association, ObjectRef), rewritten in one pass over the
RegistryObjectList.

ITI-39 (3.39.4.1.2/3.39.4.1.3): every DocumentRequest must name this community in
HomeCommunityId (absent → XDSMissingHomeCommunityId, another → XDSUnknownCommunity) and a
repository behind this gateway (else XDSUnknownRepositoryId). The rest are grouped per
RepositoryUniqueId, each group asked of its repository with ITI-43, and the answers merged
into one RetrieveDocumentSetResponse with HomeCommunityId on each DocumentResponse; the
status follows ITI-43 (3.43.4.2.3): PartialSuccess when some documents came and some did not.

With a `document_access` policy (profiles.access) and the request's context, both answers are
screened before they leave (xca_gateway.screening): hidden documents are left out, a refused
request is answered Failure with LocalPolicyRestrictionError.

Errors the gateway raises carry the community's homeCommunityId in RegistryError/@location,
and so does every error of the registry or repositories that came without a location, so an
initiating gateway merging many communities can tell whose error it is.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from lxml import etree

from profiles import stored_queries
from profiles.access import DocumentAccess, refusal_issue
from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import adhoc_query_response, read_registry_response
from profiles.vocabulary import QUERY, RIM, RS
from soap.mtom import OutgoingAttachment, cid_url, new_content_id, normalize_content_id

from .local import LocalActorUnavailable, LocalRegistry, LocalRepository, RetrieveResult
from .retrieve_set import (
    REGISTRY_RESPONSE,
    RETRIEVE_REQUEST,
    DocumentRequest,
    document_responses,
    read_document_requests,
    retrieve_request,
    retrieve_response,
    set_home,
)
from .screening import screen_query_answer, screen_retrieve

log = logging.getLogger(__name__)

ADHOC_QUERY_REQUEST = f"{{{QUERY}}}AdhocQueryRequest"
ADHOC_QUERY = f"{{{RIM}}}AdhocQuery"
REGISTRY_OBJECT_LIST = f"{{{RIM}}}RegistryObjectList"
REGISTRY_ERROR = f"{{{RS}}}RegistryErrorList/{{{RS}}}RegistryError"
XOP_INCLUDE = "{http://www.w3.org/2004/08/xop/include}Include"
INTERNAL_ERROR = "internal error of the responding gateway; its log has the details"


def same_community(a: str, b: str) -> bool:
    """homeCommunityIds compared as OIDs: `urn:oid:1.2` and `1.2` name the same community."""
    return _oid(a) == _oid(b)


def _oid(value: str) -> str:
    value = value.strip()
    return value[8:] if value.lower().startswith("urn:oid:") else value


class RespondingGateway:
    """One community's Responding Gateway over its registry and repositories.

    `repositories` maps each repositoryUniqueId served behind this gateway to its repository.
    """

    def __init__(self, home_community_id: str, registry: LocalRegistry | None,
                 repositories: Mapping[str, LocalRepository], *, document_access: DocumentAccess | None = None):
        self.home_community_id = home_community_id
        self.registry = registry
        self.repositories = dict(repositories)
        self.document_access = document_access

    def _access_for(self, context: Mapping[str, Any] | None) -> DocumentAccess | None:
        access = self.document_access
        return access if access is not None and context is not None and access.judges(context) else None

    def issue(self, code: ErrorCode, context: str) -> Issue:
        return Issue(code, context, location=self.home_community_id)

    # --- ITI-38 ----------------------------------------------------------------------------

    def cross_gateway_query(self, request: etree._Element, context: Mapping[str, Any] | None = None) -> etree._Element:
        """query:AdhocQueryResponse answering an ITI-38 query:AdhocQueryRequest, screened by the
        document access policy in `context` (the request's environ) when both are present."""
        issues = self.query_issues(request)
        if issues:
            return adhoc_query_response(issues, [], status=Status.FAILURE)
        try:
            if self.registry is None:
                raise LocalActorUnavailable("no registry is configured behind this gateway")
            response = self.registry.query(request)
            access = self._access_for(context)
            if access is not None:
                verdict = screen_query_answer(response, request, self.registry, access, context)
                if verdict.refusal is not None:
                    return adhoc_query_response([refusal_issue(verdict, self.home_community_id)], [],
                                                status=Status.FAILURE)
        except LocalActorUnavailable as exc:
            log.warning("Cross Gateway Query: %s", exc)
            return adhoc_query_response(
                [self.issue(ErrorCode.REGISTRY_NOT_AVAILABLE, str(exc))], [], status=Status.FAILURE)
        except Exception:
            log.exception("Cross Gateway Query failed unexpectedly")
            return adhoc_query_response(
                [self.issue(ErrorCode.REGISTRY_ERROR, INTERNAL_ERROR)], [], status=Status.FAILURE)
        self.label_query_response(response)
        return response

    def query_issues(self, request: etree._Element) -> list[Issue]:
        """What stops an ITI-38 request before the registry sees it (ITI TF-2 3.38.4.1.3)."""
        if request.tag != ADHOC_QUERY_REQUEST:
            return [self.issue(ErrorCode.REGISTRY_ERROR, "Cross Gateway Query expects "
                               f"query:AdhocQueryRequest in the SOAP Body, found {request.tag}")]
        query = request.find(ADHOC_QUERY)
        if query is None:
            return []  # the registry answers a request without AdhocQuery
        home = (query.get("home") or "").strip()
        definition = stored_queries.by_id((query.get("id") or "").strip())
        if home and not same_community(home, self.home_community_id):
            return [self.issue(ErrorCode.UNKNOWN_COMMUNITY, f"AdhocQuery/@home {home} is not this "
                               f"community ({self.home_community_id})")]
        if definition is not None and definition.transaction != "ITI-18":
            return [self.issue(ErrorCode.UNKNOWN_STORED_QUERY, f"{definition.name} ({definition.id}) is "
                               f"{definition.transaction}, not a Cross Gateway Query (ITI TF-2 3.38.1)")]
        if not home and definition is not None and definition.uses_home:
            return [self.issue(ErrorCode.MISSING_HOME_COMMUNITY_ID, f"{definition.name} names objects by "
                               "id and needs AdhocQuery/@home (ITI TF-2 3.38.4.1.2)")]
        return []

    def label_query_response(self, response: etree._Element) -> None:
        """Set `home` on every returned object and the community on unlocated errors."""
        object_list = response.find(REGISTRY_OBJECT_LIST)
        if object_list is not None:
            for child in object_list:
                if isinstance(child.tag, str):
                    child.set("home", self.home_community_id)
        self._locate_errors(response)

    def _locate_errors(self, response: etree._Element) -> None:
        for error in response.iterfind(REGISTRY_ERROR):
            if not error.get("location"):
                error.set("location", self.home_community_id)

    # --- ITI-39 ----------------------------------------------------------------------------

    def cross_gateway_retrieve(self, request: etree._Element,
                               context: Mapping[str, Any] | None = None) -> RetrieveResult:
        """RetrieveDocumentSetResponse and attachments answering an ITI-39 request, screened by
        the document access policy in `context` (the request's environ) when both are present."""
        if request.tag != RETRIEVE_REQUEST:
            return RetrieveResult(retrieve_response([self.issue(
                ErrorCode.REPOSITORY_ERROR, "Cross Gateway Retrieve expects xdsb:RetrieveDocumentSetRequest "
                f"in the SOAP Body, found {request.tag}")], []), [])
        issues, groups = self.route(read_document_requests(request))
        access = self._access_for(context)
        if access is not None:
            verdict, groups, hidden = screen_retrieve(groups, access, context)
            if verdict.refusal is not None:
                return RetrieveResult(retrieve_response([refusal_issue(verdict, self.home_community_id)], []), [])
            issues += hidden
        documents: list[etree._Element] = []
        attachments: list[OutgoingAttachment] = []
        for repository_id, items in groups.items():
            self._retrieve_group(repository_id, items, issues, documents, attachments)
        for document in documents:
            set_home(document, self.home_community_id)
        return RetrieveResult(retrieve_response(issues, documents), attachments)

    def route(self, requests: list[DocumentRequest]) -> tuple[list[Issue], dict[str, list[DocumentRequest]]]:
        """Issues for the requests this gateway cannot serve; the others per repository."""
        issues: list[Issue] = []
        groups: dict[str, list[DocumentRequest]] = {}
        for item in requests:
            problem = self._request_issue(item)
            if problem is not None:
                issues.append(problem)
            else:
                groups.setdefault(item.repository_unique_id, []).append(item)
        return issues, groups

    def _request_issue(self, item: DocumentRequest) -> Issue | None:
        document = item.document_unique_id or "(no DocumentUniqueId)"
        if not item.home_community_id:
            return self.issue(ErrorCode.MISSING_HOME_COMMUNITY_ID, f"DocumentRequest for document {document} "
                              "has no HomeCommunityId (ITI TF-2 3.39.4.1.2)")
        if not same_community(item.home_community_id, self.home_community_id):
            return self.issue(ErrorCode.UNKNOWN_COMMUNITY, f"DocumentRequest for document {document} names "
                              f"community {item.home_community_id}, not this community")
        if item.repository_unique_id not in self.repositories:
            return self.issue(ErrorCode.UNKNOWN_REPOSITORY_ID, f"repository {item.repository_unique_id or '(none)'}"
                              f" of document {document} is not served by this community")
        return None

    def _retrieve_group(self, repository_id: str, items: list[DocumentRequest], issues: list[Issue],
                        documents: list[etree._Element], attachments: list[OutgoingAttachment]) -> None:
        try:
            response, parts = self.repositories[repository_id].retrieve(retrieve_request(items))
        except LocalActorUnavailable as exc:
            log.warning("Cross Gateway Retrieve: %s", exc)
            issues.append(self.issue(ErrorCode.REPOSITORY_ERROR, f"{len(items)} document(s) of repository "
                                     f"{repository_id} could not be retrieved: {exc}"))
            return
        except Exception:
            log.exception("Cross Gateway Retrieve from repository %s failed unexpectedly", repository_id)
            issues.append(self.issue(ErrorCode.REPOSITORY_ERROR, INTERNAL_ERROR))
            return
        issues.extend(self._repository_issues(repository_id, response))
        taken = {normalize_content_id(part.content_id) for part in attachments}
        attachments.extend(_rename_repeated_parts(response, list(parts), taken))
        documents.extend(document_responses(response))

    def _repository_issues(self, repository_id: str, response: etree._Element) -> list[Issue]:
        status_element = response.find(REGISTRY_RESPONSE)
        if status_element is None:
            return [self.issue(ErrorCode.REPOSITORY_ERROR, f"repository {repository_id} answered without "
                               "rs:RegistryResponse")]
        status, issues = read_registry_response(status_element)
        located = [issue if issue.location else Issue(issue.code, issue.context, issue.severity,
                                                      self.home_community_id) for issue in issues]
        if status is Status.FAILURE and not any(issue.is_error for issue in located):
            located.append(self.issue(ErrorCode.REPOSITORY_ERROR, f"repository {repository_id} answered "
                                      "Failure without an error"))
        return located


def _rename_repeated_parts(response: etree._Element, parts: list[OutgoingAttachment],
                          taken: set[str]) -> list[OutgoingAttachment]:
    """Parts of one repository's answer, renamed where an earlier repository used the same
    content-id (ids are unique within one answer, not across several), includes repointed."""
    renamed: dict[str, str] = {}
    result = []
    for part in parts:
        cid = normalize_content_id(part.content_id)
        if cid in taken:
            new = new_content_id()
            renamed[cid] = new
            part = OutgoingAttachment(new, part.content_type, part.chunks, part.size)
            cid = new
        taken.add(cid)
        result.append(part)
    if renamed:
        for include in response.iter(XOP_INCLUDE):
            old = normalize_content_id(include.get("href") or "")
            if old in renamed:
                include.set("href", cid_url(renamed[old]))
    return result
