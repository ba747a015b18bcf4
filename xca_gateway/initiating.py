"""The XCA Initiating Gateway (ITI TF-1 18.2.1; ITI TF-2 3.38 and 3.39, Initiating Gateway side).

    gateway = InitiatingGateway(load_communities("communities.toml"), deadline_seconds=20)
    response = gateway.query(adhoc_query_request)          # ITI-18/ITI-38 in → ITI-38 out
    body, parts = gateway.retrieve(retrieve_request)       # ITI-43/ITI-39 in → ITI-39 out

A query goes concurrently to every community (or to the one its AdhocQuery/@home names), a
retrieve to every community its DocumentRequests name; both wait for ONE deadline
(`deadline_seconds`) and answer with what came in time: the rest are XDSUnavailableCommunity
errors and the status PartialSuccess (DESIGN.md §3). Outbound requests of the whole process are
bounded by `max_outstanding` (one shared worker pool), connections per community by the
directory's `max_connections`. Routing and merging: xca_gateway.initiating_query and
xca_gateway.initiating_retrieve.

Transport security: `tls(community)` is the TLS client context of that community's https
endpoints (ATNA ITI-19; xdsno.tls builds it from the node's settings and the community's
overrides). Security: `headers` are extra SOAP header blocks sent to every community (a copy
each); the endpoint passes the consumer's wsse:Security (its XUA assertion) through them
(xca_gateway.initiating_endpoints). The gateway adds no header block of its own.

Audit: `observer` hears of every outbound exchange (soap.observed), with the `context`
the endpoint passed for the consumer's request; the deployment audits them (ITI TF-2 3.38.6,
3.39.6).
"""
from __future__ import annotations

import copy
import ssl
from collections.abc import Callable, Iterable
from typing import Any
from functools import partial

from lxml import etree

from profiles.errors import Status
from profiles.responses import adhoc_query_response
from soap.client import SoapClient
from soap.mtom import OutgoingAttachment
from soap.observed import ObservedClient, Observer

from . import initiating_query, initiating_retrieve
from .communities import Community, CommunityDirectory
from .outbound import DEFAULT_MAX_OUTBOUND, CommunityClients, FanOut

DEFAULT_DEADLINE_SECONDS = 20.0


class InitiatingGateway:
    """Fan-out, deadline and merge over a communities directory; thread-safe, one per process."""

    def __init__(
        self,
        directory: CommunityDirectory,
        *,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        max_outstanding: int = DEFAULT_MAX_OUTBOUND,
        tls: Callable[[Community], ssl.SSLContext | bool] | None = None,
        observer: Observer | None = None,
    ):
        if deadline_seconds <= 0:
            raise ValueError("deadline_seconds must be positive")
        self.directory = directory
        self.deadline_seconds = deadline_seconds
        self._clients = CommunityClients(directory, deadline_seconds, tls)
        self._fanout = FanOut(max_outstanding)
        self._observer = observer

    @property
    def max_outstanding(self) -> int:
        return self._fanout.max_outstanding

    def query(self, request: etree._Element, *, headers: Iterable[etree._Element] = (),
              context: Any = None) -> etree._Element:
        """Answer an AdhocQueryRequest with one merged AdhocQueryResponse (ITI TF-2 3.38.4.1.3)."""
        plan = initiating_query.plan_query(request, self.directory)
        if plan.issues:
            return adhoc_query_response(plan.issues, [], status=Status.FAILURE)
        headers = list(headers)
        ask = initiating_query.ask_community
        calls = {
            community.home_community_id: partial(
                ask, self._client(self._clients.query(community), community, headers, context),
                copy.deepcopy(request))
            for community in plan.targets
        }
        outcomes = self._fanout.run(calls, self.deadline_seconds)
        return initiating_query.merge_answers(plan.targets, outcomes)

    def retrieve(
        self, request: etree._Element, *, headers: Iterable[etree._Element] = (), context: Any = None,
    ) -> tuple[etree._Element, list[OutgoingAttachment]]:
        """Answer a RetrieveDocumentSetRequest: the merged response body and its MTOM parts,
        which stream the documents when the response is written (ITI TF-2 3.39.4.1.3)."""
        plan = initiating_retrieve.plan_retrieve(request, self.directory)
        headers = list(headers)
        ask = initiating_retrieve.ask_community
        calls = {}
        for home, requests in plan.groups.items():
            community = self.directory.get(home)
            client = self._client(self._clients.retrieve(community), community, headers, context)
            calls[home] = partial(ask, client, initiating_retrieve.community_request(requests))
        outcomes = self._fanout.run(calls, self.deadline_seconds,
                                    discard=initiating_retrieve.CommunityDocuments.close)
        return initiating_retrieve.merge_documents(plan, outcomes, self.directory)

    def _client(self, client: SoapClient, community: Community, headers: list[etree._Element],
                context: Any) -> SoapClient | ObservedClient:
        """The client one outbound request uses: with the consumer's header blocks (copies
        made on the request's thread: a worker only ever touches elements of its own) and the
        observer, when there is either."""
        if not headers and self._observer is None:
            return client
        return ObservedClient(client, headers=[copy.deepcopy(block) for block in headers],
                              observer=self._observer, context=context,
                              home_community_id=community.home_community_id)

    def close(self) -> None:
        self._fanout.close()
        self._clients.close()
