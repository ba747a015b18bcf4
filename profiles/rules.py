"""The validation-rule framework: rules, profiles and the context they run in (DESIGN §4).

A rule is a small named function `(submission, context) -> Iterable[Issue]`. A profile is an
ordered collection of rules that another profile can extend, replace or drop by name. What
differs between transactions (ITI-41, ITI-42, ITI-57, a query response) or deployments
(configured patient domains, lenient mode) comes from the `ValidationContext`, never from
asking which profile is running.

Lenient mode: a rule marked `profile_only` checks a requirement of a national or local profile
rather than of IHE itself; when `context.strict` is false its issues are downgraded to
warnings, so a node can accept such submissions while still reporting what was wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from .errors import ErrorCode, Issue
from .model import Submission

Check = Callable[[Submission, "ValidationContext"], Iterable[Issue]]


class Transaction(StrEnum):
    """What the metadata being validated arrived in."""

    PROVIDE_AND_REGISTER = "ITI-41"
    REGISTER = "ITI-42"
    UPDATE = "ITI-57"
    #: a RegistryObjectList answered to ITI-18 / ITI-38, judged by the consumer side
    QUERY_RESPONSE = "query-response"

    @property
    def is_submission(self) -> bool:
        """A SubmitObjectsRequest: one SubmissionSet and its members."""
        return self is not Transaction.QUERY_RESPONSE

    @property
    def carries_documents(self) -> bool:
        """Document bytes travel with the metadata (ITI TF-2b 3.41)."""
        return self is Transaction.PROVIDE_AND_REGISTER


@dataclass(frozen=True)
class ValidationContext:
    """Everything a rule may know besides the submission itself."""

    transaction: Transaction
    #: DocumentEntry ids that have a document part (ITI-41 only)
    documents_attached: frozenset[str] = frozenset()
    #: False: issues of `profile_only` rules become warnings
    strict: bool = True
    #: assigning-authority OIDs of the affinity domain's patient identifier domain(s)
    patient_domains: tuple[str, ...] = ()
    #: a Document Recipient (XDR) accepts objects flagged limitedMetadata (ITI TF-3 4.3.1)
    accept_limited_metadata: bool = False
    #: room for profile-specific settings (code lists, policies) without changing this class
    extras: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def metadata_error(self) -> ErrorCode:
        """The code for a metadata error, named after the actor that detects it (ITI TF-3 4.2.4.1)."""
        if self.transaction is Transaction.PROVIDE_AND_REGISTER:
            return ErrorCode.REPOSITORY_METADATA_ERROR
        return ErrorCode.REGISTRY_METADATA_ERROR

    @property
    def duplicate_unique_id_error(self) -> ErrorCode:
        """A uniqueId repeated inside one request (ITI TF-3 Table 4.2.4.1-2)."""
        if self.transaction is Transaction.PROVIDE_AND_REGISTER:
            return ErrorCode.REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE
        return ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE

    def with_changes(self, **changes) -> "ValidationContext":
        return replace(self, **changes)


@dataclass(frozen=True)
class Rule:
    """A named check. Calling it runs the check and returns its issues as a list."""

    name: str
    check: Check
    #: a profile requirement beyond IHE: downgraded to warnings when not strict
    profile_only: bool = False

    def __call__(self, submission: Submission, context: ValidationContext) -> list[Issue]:
        issues = list(self.check(submission, context))
        if self.profile_only and not context.strict:
            return [issue.as_warning() for issue in issues]
        return issues

    def renamed(self, name: str) -> "Rule":
        return replace(self, name=name)


def rule(name: str, *, profile_only: bool = False) -> Callable[[Check], Rule]:
    """Decorator: `@rule("document-entry.hash")` turns a check function into a `Rule`."""

    def wrap(check: Check) -> Rule:
        return Rule(name, check, profile_only)

    return wrap


@dataclass(frozen=True)
class Profile:
    """An ordered, named collection of rules. Every change returns a new profile."""

    name: str
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for each in self.rules:
            if each.name in seen:
                raise ValueError(f"profile {self.name!r}: rule {each.name!r} appears twice")
            seen.add(each.name)

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(each.name for each in self.rules)

    def __contains__(self, rule_name: object) -> bool:
        return rule_name in self.rule_names

    def __getitem__(self, rule_name: str) -> Rule:
        for each in self.rules:
            if each.name == rule_name:
                return each
        raise KeyError(f"profile {self.name!r} has no rule {rule_name!r}")

    def extend(self, name: str, *rules: Rule) -> "Profile":
        """A new profile called `name`: these rules followed by `rules`."""
        return Profile(name, self.rules + rules)

    def replace(self, rule_name: str, new_rule: Rule) -> "Profile":
        """The same profile with `rule_name` swapped for `new_rule`, in the same place."""
        self[rule_name]
        return Profile(self.name, tuple(new_rule if r.name == rule_name else r for r in self.rules))

    def drop(self, *rule_names: str) -> "Profile":
        """The same profile without the named rules (each must exist)."""
        for rule_name in rule_names:
            self[rule_name]
        return Profile(self.name, tuple(r for r in self.rules if r.name not in rule_names))

    def renamed(self, name: str) -> "Profile":
        return Profile(name, self.rules)

    def validate(self, submission: Submission, context: ValidationContext) -> list[Issue]:
        """Run every rule in order and collect all issues. A rule that raises is a bug: it raises."""
        issues: list[Issue] = []
        for each in self.rules:
            issues.extend(each(submission, context))
        return issues
