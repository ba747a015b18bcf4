"""The policy decision point: a `Policy` (and the patient's blocks) applied to one request,
without I/O (PROFILE.md §5, §6; the rules are in xdsno.policy.rules).

    pdp = PolicyDecisionPoint(load_policy())
    visible, decision = pdp.decide_query(subject, patient_ids, documents, blocks=blocks)
    decision = pdp.decide_retrieve(subject, document, blocks=blocks)

A request is first judged whole (no assertion; purpose of use; role; patient named; patient
match): a failing rule denies it. Otherwise each document is judged by the document rules in
order; the first that hides it decides, and a rule lifted by an override shows it marked
override. Without a subject (no verified assertion) the policy's `no_assertion` mode decides:
"trusted" allows everything, "deny" refuses.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from .blocks import Block
from .config import Policy
from .decision import Decision, denial, permit
from .facts import DocumentFacts
from .rules import (
    DOCUMENT_RULES, DocumentContext, Outcome, override_for, patient_match, patient_required, purpose_of_use, role,
)
from .subject import Subject


def utc_now() -> datetime:
    """Now as a naive UTC datetime (the form profiles.hl7v2.DTM.lower_bound gives)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def bundled_role_codes() -> frozenset[str]:
    """The codes of Volven 9060 as bundled (profiles/norway/data/9060.json)."""
    from profiles.norway.codesets import load_code_sets

    return frozenset(load_code_sets()["9060"].codes)


class PolicyDecisionPoint:
    """Decides queries and retrieves by one Policy; safe to share between threads."""

    def __init__(self, policy: Policy, *, role_codes: frozenset[str] | None = None,
                 clock: Callable[[], datetime] = utc_now):
        self.policy = policy
        self.role_codes = bundled_role_codes() if role_codes is None else role_codes
        self.clock = clock

    def request_denial(self, subject: Subject | None, patient_ids: Sequence[str] = (), **context) -> Decision | None:
        """The Decision refusing the whole request, or None when it may go on."""
        if subject is None:
            if self.policy.trusts_requests_without_assertion:
                return None
            return denial("no-assertion", "a verified XUA identity assertion is required", **context)
        checks = (("purpose-of-use", lambda: purpose_of_use(self.policy, subject)),
                  ("role", lambda: role(self.policy, subject, self.role_codes)),
                  ("patient-required", lambda: patient_required(self.policy, subject)),
                  ("patient-match", lambda: patient_match(subject, patient_ids)))
        for name, check in checks:
            if (reason := check()) is not None:
                return denial(name, reason, **context)
        return None

    def decide_query(self, subject: Subject | None, patient_ids: Sequence[str], documents: Sequence[DocumentFacts],
                     *, blocks: Sequence[Block] = (), channel: str = "") -> tuple[list[DocumentFacts], Decision]:
        """The documents `subject` may see of those a query found, and the Decision."""
        context = {"channel": channel, "transaction": "query"}
        refused = self.request_denial(subject, patient_ids, **context)
        if refused is not None:
            return [], refused
        return self._judge_all(subject, documents, blocks, context)

    def decide_retrieve(self, subject: Subject | None, document: DocumentFacts, *, blocks: Sequence[Block] = (),
                        channel: str = "") -> Decision:
        """Whether `subject` may retrieve `document`."""
        visible, decision = self.decide_retrieve_set(subject, [document.unique_id or ""],
                                                     {document.unique_id or "": document}, blocks=blocks,
                                                     channel=channel)
        if decision.allowed and not visible:
            return denial(decision.rule, decision.reason, **_context_of(decision))
        return decision

    def decide_retrieve_set(self, subject: Subject | None, unique_ids: Sequence[str],
                            documents: Mapping[str, DocumentFacts], *, blocks: Sequence[Block] = (),
                            channel: str = "") -> tuple[frozenset[str], Decision]:
        """The uniqueIds `subject` may retrieve of those asked (`documents`: their metadata;
        one without metadata is not retrievable: rule unknown-document), and the Decision."""
        context = {"channel": channel, "transaction": "retrieve"}
        refused = self.request_denial(subject, (), **context)
        if refused is not None:
            return frozenset(), refused
        known = [documents[uid] for uid in dict.fromkeys(unique_ids) if uid in documents]
        unknown = [(uid, "unknown-document") for uid in dict.fromkeys(unique_ids) if uid not in documents]
        if subject is None:
            unknown = []  # trusted: the repository answers what it holds
        visible, decision = self._judge_all(subject, known, blocks, context, extra_hidden=unknown)
        allowed = {d.unique_id for d in visible} | (set(unique_ids) if subject is None else set())
        return frozenset(uid for uid in allowed if uid), decision

    def _judge_all(self, subject: Subject | None, documents: Sequence[DocumentFacts], blocks: Sequence[Block],
                   context: dict, extra_hidden: Sequence[tuple[str, str]] = ()) -> tuple[list[DocumentFacts], Decision]:
        if subject is None:
            return list(documents), permit([], [], "", **context)
        rules_context = DocumentContext(self.policy, subject, context["channel"], self.clock(), tuple(blocks))
        visible, hidden, overridden, lifted = [], list(extra_hidden), [], {}
        for document in documents:
            outcome, rule = judge_document(rules_context, document)
            if outcome is Outcome.HIDE:
                hidden.append((document.unique_id or document.entry_uuid, rule))
                continue
            visible.append(document)
            if outcome is Outcome.OVERRIDE:
                overridden.append(document.unique_id or document.entry_uuid)
                lifted[rule] = self._override_reason(subject, rule)
        reason = "; ".join(f"{rule} lifted by {why}" for rule, why in sorted(lifted.items()))
        return visible, permit(hidden, overridden, reason, **context)

    def _override_reason(self, subject: Subject, rule: str) -> str:
        policy = self.policy
        if rule == "patient-block":
            return override_for(subject, policy.blocks_purposes, policy.blocks_acp) or ""
        return override_for(subject, policy.confidentiality_purposes, policy.confidentiality_acp) or ""


def judge_document(context: DocumentContext, document: DocumentFacts) -> tuple[Outcome, str]:
    """The document rules in order: the first hiding rule decides; an override is remembered."""
    result = (Outcome.SHOW, "permit")
    for name, rule in DOCUMENT_RULES:
        outcome = rule(context, document)
        if outcome is Outcome.HIDE:
            return outcome, name
        if outcome is Outcome.OVERRIDE:
            result = (outcome, name)
    return result


def _context_of(decision: Decision) -> dict:
    return {"channel": decision.channel, "transaction": decision.transaction,
            "hidden_documents": decision.hidden_documents, "hidden_by_rule": decision.hidden_by_rule,
            "hidden": decision.hidden}


__all__ = ["PolicyDecisionPoint", "bundled_role_codes", "judge_document", "utc_now"]
