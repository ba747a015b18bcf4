"""A `DocumentAccess` (profiles.access) for the actors' tests: hides the uniqueIds it is told,
or refuses, and records what it was asked."""
from __future__ import annotations

from dataclasses import dataclass, field

from profiles.access import Verdict
from profiles.model import Slot

CONTEXT = {"REMOTE_ADDR": "127.0.0.1"}


@dataclass
class FakeAccess:
    hidden: set[str] = field(default_factory=set)
    refusal: str | None = None
    slots: tuple[Slot, ...] = ()
    judging: bool = True
    asked: list[tuple] = field(default_factory=list)

    def judges(self, context) -> bool:
        return self.judging

    def visible(self, context, entries, patient_ids) -> Verdict:
        self.asked.append(("visible", [e.unique_id for e in entries], tuple(patient_ids)))
        allowed = frozenset(e.id for e in entries if e.unique_id not in self.hidden)
        return Verdict(allowed, self.refusal, self.slots)

    def retrievable(self, context, unique_ids) -> Verdict:
        self.asked.append(("retrievable", list(unique_ids)))
        return Verdict(frozenset(u for u in unique_ids if u not in self.hidden), self.refusal)
