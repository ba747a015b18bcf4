"""`Decision`: what the access policy decided about one request, as plain data for the audit
(xdsno.audit reads `allowed`/`denied`, `reason`, `rule`, `override`, `hidden`; PROFILE.md §6:
every access is logged, an emergency override is logged as such).

- `allowed`: the request may be answered (perhaps with documents left out: `hidden`);
  a denied request is answered with LocalPolicyRestrictionError and nothing else;
- `rule`: the rule that decided (a denial's rule, else the rule that hid the most, else
  "permit"); `reason`: why, in words that name the rule and the subject's attributes, never
  a hidden document;
- `override`: an emergency or consent override (purpose BTG/ETREAT, ACP .5/.7) showed a
  document the patient's blocks or its confidentiality code would have hidden;
  `overridden_documents` names them and `override_reason` the purpose or ACP used;
- `hidden_documents` / `hidden_by_rule`: for the node's own audit only.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

#: the rule names a Decision may carry
RULES = ("no-assertion", "purpose-of-use", "role", "patient-required", "patient-match", "time-window",
         "confidentiality", "patient-block", "unknown-document", "permit")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    rule: str
    override: bool = False
    hidden: int = 0
    channel: str = ""
    transaction: str = ""
    hidden_documents: tuple[str, ...] = ()
    hidden_by_rule: tuple[tuple[str, int], ...] = ()
    overridden_documents: tuple[str, ...] = ()
    override_reason: str = ""

    @property
    def denied(self) -> bool:
        return not self.allowed

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["denied"] = self.denied
        data["hidden_by_rule"] = dict(self.hidden_by_rule)
        return data


def denial(rule: str, reason: str, **context: Any) -> Decision:
    return Decision(False, reason, rule, **context)


def permit(hidden: list[tuple[str, str]], overridden: list[str], override_reason: str,
           **context: Any) -> Decision:
    """The Decision allowing a request; `hidden` = (document id, rule) of each document left out."""
    by_rule = Counter(rule for _, rule in hidden).most_common()
    rule = by_rule[0][0] if by_rule else "permit"
    reason = (f"{len(hidden)} document(s) left out: " + ", ".join(f"{r} {n}" for r, n in by_rule)) if hidden \
        else "every document allowed"
    if overridden:
        reason += f"; {len(overridden)} shown by override ({override_reason})"
    return Decision(True, reason, rule, override=bool(overridden), hidden=len(hidden),
                    hidden_documents=tuple(d for d, _ in hidden), hidden_by_rule=tuple(by_rule),
                    overridden_documents=tuple(overridden), override_reason=override_reason if overridden else "",
                    **context)


__all__ = ["RULES", "Decision", "denial", "permit"]
