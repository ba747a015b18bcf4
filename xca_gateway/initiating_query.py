"""Initiating Gateway, query side: ITI-18 (or ITI-38) in, ITI-38 out to each Responding Gateway,
one merged AdhocQueryResponse back (ITI TF-2 3.18.4.1.3 and 3.38.4.1.3, Initiating Gateway).

- Routing (3.18.4.1.2.3.8, 3.38.4.1.2): AdhocQuery/@home names the community to ask; queries by
  object id (GetDocuments, GetFolders, ... — `StoredQueryDef.uses_home`) need it and fail with
  XDSMissingHomeCommunityId without it; a home this gateway does not know fails with
  XDSUnknownCommunity. A query without @home (FindDocuments, GetAll, ...) goes to every community.
  The request travels on unchanged: the home attribute is already where ITI-38 wants it.
- Merging (3.38.4.1.3): the RegistryObjectLists are concatenated in directory order; each
  top-level object keeps the `home` its Responding Gateway set, and gets the asked community's id
  when the gateway left it out. The returnType is the consumer's and is passed on unchanged;
  ObjectRefs a Responding Gateway returns for a LeafClass request (it limits the size of its
  answer) are passed through, each with its home, as 3.38.4.1.3 allows; the consumer can ask for
  their full metadata with GetDocuments naming that home. RegistryErrors are passed through; one
  without a location gets the community's id.
- A community that gives no usable answer (transport error, SOAP fault, an answer that is no
  AdhocQueryResponse, no answer within the deadline) becomes one XDSUnavailableCommunity error
  whose location is its homeCommunityId and whose codeContext names it and says why.
- Status: Success without errors; PartialSuccess with errors when at least one community answered
  with Success or PartialSuccess; Failure when none did.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import adhoc_query_response, read_registry_response
from profiles.stored_queries import by_id
from profiles.vocabulary import QUERY, RIM
from soap.client import SoapClient

from .communities import Community, CommunityDirectory
from .outbound import Outcome, Unavailable

CROSS_GATEWAY_QUERY = "urn:ihe:iti:2007:CrossGatewayQuery"

_ADHOC_QUERY_REQUEST = f"{{{QUERY}}}AdhocQueryRequest"
_ADHOC_QUERY_RESPONSE = f"{{{QUERY}}}AdhocQueryResponse"
_ADHOC_QUERY = f"{{{RIM}}}AdhocQuery"
_OBJECT_LIST = f"{{{RIM}}}RegistryObjectList"


@dataclass(frozen=True)
class QueryPlan:
    """Whom to ask, or why the query is answered without asking anybody."""

    targets: tuple[Community, ...] = ()
    issues: tuple[Issue, ...] = ()


@dataclass
class CommunityAnswer:
    """One Responding Gateway's AdhocQueryResponse, read."""

    status: Status
    issues: list[Issue]
    objects: list[etree._Element] = field(default_factory=list)


def plan_query(request: etree._Element, directory: CommunityDirectory) -> QueryPlan:
    """The communities an AdhocQueryRequest goes to (ITI TF-2 3.18.4.1.2.3.8)."""
    query = request.find(_ADHOC_QUERY) if request.tag == _ADHOC_QUERY_REQUEST else None
    if query is None:
        return _refuse(ErrorCode.REGISTRY_ERROR,
                       f"expected a query:AdhocQueryRequest holding a rim:AdhocQuery, got {request.tag}")
    definition = by_id((query.get("id") or "").strip())
    if definition is None:
        return _refuse(ErrorCode.UNKNOWN_STORED_QUERY,
                       f"AdhocQuery/@id {query.get('id')!r} is no stored query (ITI TF-2 3.18.4.1.2.3.7)")
    home = (query.get("home") or "").strip()
    if home:
        community = directory.get(home)
        if community is None:
            return _refuse(ErrorCode.UNKNOWN_COMMUNITY,
                           f"AdhocQuery/@home {home} is not a community this gateway knows", home)
        return QueryPlan(targets=(community,))
    if definition.uses_home:
        return _refuse(ErrorCode.MISSING_HOME_COMMUNITY_ID,
                       f"{definition.name} names objects by id: AdhocQuery/@home must say which "
                       "community holds them (ITI TF-2 3.18.4.1.2.3.8)")
    return QueryPlan(targets=tuple(directory))


def _refuse(code: ErrorCode, context: str, location: str = "") -> QueryPlan:
    return QueryPlan(issues=(Issue(code, context, location=location),))


def ask_community(client: SoapClient, request: etree._Element) -> CommunityAnswer:
    """Send one ITI-38 (plain SOAP 1.2) and read the answer; raises Unavailable or
    SoapTransportError when there is no usable answer. Runs on an outbound worker."""
    reply = client.call(CROSS_GATEWAY_QUERY, request)
    try:
        if reply.fault is not None:
            raise Unavailable(f"answered a SOAP fault ({reply.fault.code}): {reply.fault.reason}")
        if reply.body.tag != _ADHOC_QUERY_RESPONSE:
            raise Unavailable(f"answered {etree.QName(reply.body).localname}, not an AdhocQueryResponse")
        status, issues = read_registry_response(reply.body)
        object_list = reply.body.find(_OBJECT_LIST)
        objects = [] if object_list is None else [obj for obj in object_list if isinstance(obj.tag, str)]
        return CommunityAnswer(status, issues, objects)
    finally:
        reply.close()


def merge_answers(targets: tuple[Community, ...],
                  outcomes: dict[str, Outcome[CommunityAnswer]]) -> etree._Element:
    """One AdhocQueryResponse from every community's outcome (ITI TF-2 3.38.4.1.3)."""
    issues: list[Issue] = []
    objects: list[etree._Element] = []
    answered = 0
    for community in targets:
        outcome = outcomes[community.home_community_id]
        if not outcome.ok:
            issues.append(unavailable(community, outcome.failure, community.home_community_id))
            continue
        answer = outcome.value
        issues.extend(located(issue, community.home_community_id) for issue in answer.issues)
        if answer.status is Status.FAILURE:
            if not any(issue.is_error for issue in answer.issues):
                issues.append(Issue(ErrorCode.REGISTRY_ERROR, f"Community {community.label} answered "
                                    "Failure without a RegistryError", location=community.home_community_id))
            continue  # a failed answer's objects are no result
        answered += 1
        objects.extend(with_home(obj, community) for obj in answer.objects)
    return adhoc_query_response(issues, objects, status=merged_status(issues, answered))


def unavailable(community: Community, reason: str | None, location: str) -> Issue:
    """The XDSUnavailableCommunity error for a community that gave no usable answer."""
    return Issue(ErrorCode.UNAVAILABLE_COMMUNITY, f"Community {community.label} unavailable: {reason}",
                 location=location)


def located(issue: Issue, location: str) -> Issue:
    """A Responding Gateway's issue, with `location` when it named none."""
    return issue if issue.location else Issue(issue.code, issue.context, issue.severity, location)


def with_home(obj: etree._Element, community: Community) -> etree._Element:
    if not (obj.get("home") or "").strip():
        obj.set("home", community.home_community_id)
    return obj


def merged_status(issues: list[Issue], answered: int) -> Status:
    if not any(issue.is_error for issue in issues):
        return Status.SUCCESS
    return Status.PARTIAL_SUCCESS if answered else Status.FAILURE
