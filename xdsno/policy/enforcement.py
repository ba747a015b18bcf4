"""`PolicyEnforcement`: the access policy as the actors' `DocumentAccess` (profiles.access).

One per actor channel (registry, repository, xca_responding), built by the composition root
(xdsno.policy_node). For each screened request it reads the Subject from the verified XUA
assertion in the environ, fetches the patients' blocks (health personnel only) and, for a
retrieve, the documents' metadata from the registry, asks the PolicyDecisionPoint, and
answers a Verdict. The Decision is left for the audit and others:

- `environ["xdsno.audit"]["decision"]` when the audit layer created its notes dict (xdsno.audit);
- appended to `environ["xdsno.policy.decisions"]` (DECISIONS_KEY, a list);
- passed to every `listeners` callable;
- logged (logger "xdsno.policy"): denials and overrides at INFO, the rest at DEBUG.

A request without an assertion is not screened at all while the policy trusts such requests
(`judges` is False: nothing decoded, no decision recorded), as before policies existed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from profiles.access import Verdict
from profiles.model import DocumentEntry, Slot

from .blocks import Block, BlockStore
from .decision import Decision
from .facts import DocumentFacts
from .pdp import PolicyDecisionPoint
from .subject import Subject, subject_of

log = logging.getLogger("xdsno.policy")

DECISIONS_KEY = "xdsno.policy.decisions"
AUDIT_NOTES_KEY = "xdsno.audit"

DocumentLookup = Callable[[Sequence[str]], Mapping[str, DocumentFacts]]
Listener = Callable[[Decision, Mapping[str, Any]], None]


class PolicyEnforcement:
    """Implements profiles.access.DocumentAccess for one channel."""

    def __init__(self, pdp: PolicyDecisionPoint, *, channel: str, blocks: BlockStore | None = None,
                 documents: DocumentLookup | None = None, listeners: Iterable[Listener] = ()):
        self.pdp = pdp
        self.channel = channel
        self.blocks = blocks
        self.documents = documents
        self.listeners = list(listeners)

    def judges(self, context: Mapping[str, Any]) -> bool:
        return subject_of(context) is not None or not self.pdp.policy.trusts_requests_without_assertion

    def visible(self, context: Mapping[str, Any], entries: Sequence[DocumentEntry],
                patient_ids: Sequence[str]) -> Verdict:
        subject = subject_of(context)
        facts = [DocumentFacts.of(entry) for entry in entries]
        visible, decision = self.pdp.decide_query(subject, patient_ids, facts, blocks=self._blocks(subject, facts),
                                                  channel=self.channel)
        self._record(decision, context)
        if decision.denied:
            return Verdict(refusal=decision.reason)
        return Verdict(frozenset(f.entry_uuid for f in visible), response_slots=self._slots(decision))

    def retrievable(self, context: Mapping[str, Any], unique_ids: Sequence[str]) -> Verdict:
        subject = subject_of(context)
        refused = self.pdp.request_denial(subject, (), channel=self.channel, transaction="retrieve")
        if refused is not None:
            self._record(refused, context)
            return Verdict(refusal=refused.reason)
        documents = self._metadata(unique_ids) if subject is not None else {}
        allowed, decision = self.pdp.decide_retrieve_set(
            subject, unique_ids, documents, blocks=self._blocks(subject, documents.values()), channel=self.channel)
        self._record(decision, context)
        return Verdict(allowed)

    def _metadata(self, unique_ids: Sequence[str]) -> Mapping[str, DocumentFacts]:
        if self.documents is None:
            log.warning("no registry to read document metadata from: every retrieve by a subject is refused")
            return {}
        return self.documents(unique_ids)

    def _blocks(self, subject: Subject | None, documents: Iterable[DocumentFacts]) -> list[Block]:
        if self.blocks is None or subject is None or not subject.is_personnel:
            return []
        patients = {d.patient_id for d in documents if d.patient_id}
        return self.blocks.for_patients(patients) if patients else []

    def _slots(self, decision: Decision) -> tuple[Slot, ...]:
        name = self.pdp.policy.hidden_count_slot
        return (Slot(name, (str(decision.hidden),)),) if name else ()

    def _record(self, decision: Decision, context: Mapping[str, Any]) -> None:
        if isinstance(context, MutableMapping):
            context.setdefault(DECISIONS_KEY, []).append(decision)
            notes = context.get(AUDIT_NOTES_KEY)
            if isinstance(notes, MutableMapping):
                notes["decision"] = decision
        level = logging.INFO if decision.denied or decision.override else logging.DEBUG
        log.log(level, "%s %s on %s: %s (rule %s)", "denied" if decision.denied else "allowed",
                decision.transaction, self.channel, decision.reason, decision.rule)
        for listener in self.listeners:
            listener(decision, context)


__all__ = ["AUDIT_NOTES_KEY", "DECISIONS_KEY", "PolicyEnforcement"]
