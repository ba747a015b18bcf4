"""Audit records of the requests a node sends: an Initiating Gateway's to communities (ITI TF-2
3.38.6 and 3.39.6: audited as a Document Consumer, with the EventTypeCode of the cross-gateway
transaction) and a Document Repository's ITI-42 to a remote registry (ITI TF-2 3.42.5.1.1,
the Document Source side).

`OutboundAudit` is the actor's exchange observer (soap.observed): one record per outbound
request, answered or not, marked `outbound`. A record made while the request that caused it is
being answered is stored with that request's own record, in one transaction
(capture.PendingRecords); one made later (an answer after the deadline) is stored alone.

- ITI-38, as a Document Consumer's query (ITI TF-2 3.18.5.1.1): EventID 110112 Query, action
  E; the Source is this gateway, the Destination the community's endpoint; the query, its
  patient and the community's status (the entries returned are named by the record of the
  consumer's request, which got them).
- ITI-39, as a Document Consumer's retrieve (ITI TF-2 3.43.5.1.1): EventID 110107 Import,
  action C; the Source is the community's endpoint, the Destination this gateway; the
  documents asked for, marked returned when the community sent them.
- ITI-42, as the Document Source of a Register Document Set-b: EventID 110106 Export, action
  R; the Source is this repository, the Destination the registry; the submission set and its
  patient and documents. The user is in the ITI-41 record that caused it (none is forwarded).

The human requestor is the user of the consumer's XUA assertion, which the gateway forwarded;
the requesting system of the consumer's request is in that request's own record. A request
that got no answer is a major failure naming why (timeout, refused connection, TLS).
"""
from __future__ import annotations

from typing import Any

from soap.observed import Exchange

from .capture import PENDING_KEY, AuditRecorder, home_community, resolve_patients, soap_outcome
from .events import EXPORT, IMPORT, QUERY
from .extract import message_facts
from .record import AuditRecord, EventType, Outcome, Requestor
from .user import audit_user

CROSS_GATEWAY_QUERY = "urn:ihe:iti:2007:CrossGatewayQuery"
CROSS_GATEWAY_RETRIEVE = "urn:ihe:iti:2007:CrossGatewayRetrieve"
REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"

#: wsa:Action → the event it is at the sending side
SENDER_EVENTS: dict[str, EventType] = {
    CROSS_GATEWAY_QUERY: EventType("ITI-38", "Cross Gateway Query", QUERY, "E"),
    CROSS_GATEWAY_RETRIEVE: EventType("ITI-39", "Cross Gateway Retrieve", IMPORT, "C"),
    REGISTER: EventType("ITI-42", "Register Document Set-b", EXPORT, "R"),
}
#: transactions whose data flows from the other end to this node: it is their Destination
_IMPORTS = frozenset({"ITI-39"})


class OutboundAudit:
    """Exchange observer recording each outbound request of the actor at `local_url`."""

    def __init__(self, recorder: AuditRecorder, *, actor: str, local_url: str):
        self.recorder = recorder
        self.actor = actor
        self.local_url = local_url

    def __call__(self, exchange: Exchange) -> None:
        record = self.outbound_record(exchange)
        pending = _environ(exchange).get(PENDING_KEY)
        if pending is None or not pending.add(record):
            self.recorder.record(record)

    def outbound_record(self, exchange: Exchange) -> AuditRecord:
        event = SENDER_EVENTS.get(exchange.action) or EventType("SOAP", exchange.action, EXPORT, "E")
        reply = exchange.reply
        # a query audit names its parameters and patient, not the entries returned (ITI TF-2
        # 3.18.5.1.1): those are in the record of the consumer's request, which got them
        facts = message_facts(exchange.request, reply.body if reply is not None and reply.fault is None else None,
                              query_results=False)
        if event.transaction == "ITI-39":
            resolve_patients(self.recorder.store, facts)
        outcome, description = self._outcome(exchange, facts)
        local, remote = self.local_url, exchange.url
        retrieve = event.transaction in _IMPORTS  # the data flows from the other end to this node
        return AuditRecord(
            event=event, outcome=outcome, outcome_description=description, actor=self.actor,
            wsa_action=exchange.action,
            message_id=getattr(reply, "request_message_id", "") or "",
            requestor=Requestor(endpoint=remote if retrieve else local),
            destination=local if retrieve else remote,
            source_id=self.recorder.node.source_id, site_id=self.recorder.node.site_id,
            user=audit_user(_environ(exchange)), patients=tuple(facts.patients), documents=tuple(facts.documents),
            submission_set=facts.submission_set, query=facts.query, home_community_id=exchange.home_community_id or
            home_community(facts, self.recorder.node.site_id),
            outbound=True,
        )

    @staticmethod
    def _outcome(exchange: Exchange, facts) -> tuple[Outcome, str]:
        if exchange.reply is None:
            return Outcome.MAJOR_FAILURE, f"no answer from {exchange.url}: {exchange.failure}"
        return soap_outcome(exchange.reply.status_code, exchange.reply.fault, facts, None)


def _environ(exchange: Exchange) -> dict[str, Any]:
    """The WSGI environ of the request that caused the exchange (empty when there was none)."""
    return exchange.context if isinstance(exchange.context, dict) else {}
