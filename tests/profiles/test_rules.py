"""The rule framework: rules, profiles built by extend/replace/drop, ordering, lenient mode."""
from __future__ import annotations

import pytest

from profiles.errors import ErrorCode, Issue, Severity
from profiles.model import Submission
from profiles.rules import Profile, Rule, Transaction, ValidationContext, rule

CONTEXT = ValidationContext(Transaction.REGISTER)
EMPTY = Submission()


def reporting(name: str, *, profile_only: bool = False) -> Rule:
    """A rule that reports one issue whose context is its own name."""
    return Rule(name, lambda submission, context: [Issue(ErrorCode.REGISTRY_METADATA_ERROR, name)], profile_only)


def names(issues: list[Issue]) -> list[str]:
    return [issue.context for issue in issues]


BASE = Profile("base", (reporting("a"), reporting("b"), reporting("c")))


def test_decorator_makes_a_named_rule():
    @rule("document-entry.example")
    def example(submission, context):
        yield Issue(ErrorCode.REGISTRY_METADATA_ERROR, "found")

    assert isinstance(example, Rule)
    assert example.name == "document-entry.example"
    assert not example.profile_only
    assert names(example(EMPTY, CONTEXT)) == ["found"]


def test_decorator_marks_profile_only():
    @rule("norway.example", profile_only=True)
    def example(submission, context):
        return []

    assert example.profile_only


def test_validate_runs_every_rule_in_order_and_collects_all_issues():
    assert names(BASE.validate(EMPTY, CONTEXT)) == ["a", "b", "c"]


def test_rules_see_the_submission_and_the_context():
    seen = []
    probe = Rule("probe", lambda submission, context: seen.append((submission, context)) or [])
    Profile("p", (probe,)).validate(EMPTY, CONTEXT)
    assert seen == [(EMPTY, CONTEXT)]


def test_extend_appends_and_names_the_new_profile():
    national = BASE.extend("national", reporting("d"), reporting("e"))
    assert national.name == "national"
    assert national.rule_names == ("a", "b", "c", "d", "e")
    assert BASE.rule_names == ("a", "b", "c")  # unchanged


def test_replace_keeps_the_position():
    replaced = BASE.replace("b", reporting("b2"))
    assert replaced.rule_names == ("a", "b2", "c")
    assert replaced.name == "base"
    assert BASE.rule_names == ("a", "b", "c")


def test_drop_removes_named_rules():
    assert BASE.drop("a", "c").rule_names == ("b",)
    assert names(BASE.drop("b").validate(EMPTY, CONTEXT)) == ["a", "c"]


@pytest.mark.parametrize("change", [lambda p: p.replace("zz", reporting("x")), lambda p: p.drop("zz")])
def test_replacing_or_dropping_an_unknown_rule_is_an_error(change):
    with pytest.raises(KeyError, match="zz"):
        change(BASE)


def test_rule_names_are_unique_in_a_profile():
    with pytest.raises(ValueError, match="twice"):
        BASE.extend("dup", reporting("a"))


def test_lookup_by_name():
    assert BASE["b"].name == "b"
    assert "c" in BASE and "zz" not in BASE
    with pytest.raises(KeyError):
        BASE["zz"]


def test_a_rule_that_raises_is_a_bug_and_raises():
    def broken(submission, context):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        Profile("p", (Rule("broken", broken),)).validate(EMPTY, CONTEXT)


def test_lenient_mode_downgrades_profile_only_issues_to_warnings():
    profile = Profile("p", (reporting("ihe"), reporting("national", profile_only=True)))
    lenient = profile.validate(EMPTY, CONTEXT.with_changes(strict=False))
    assert [(i.context, i.severity) for i in lenient] == [("ihe", Severity.ERROR), ("national", Severity.WARNING)]
    assert lenient[1].code is ErrorCode.REGISTRY_METADATA_ERROR


def test_strict_mode_keeps_profile_only_issues_as_errors():
    profile = Profile("p", (reporting("national", profile_only=True),))
    assert [i.severity for i in profile.validate(EMPTY, CONTEXT)] == [Severity.ERROR]


@pytest.mark.parametrize(
    ("transaction", "is_submission", "carries_documents"),
    [
        (Transaction.PROVIDE_AND_REGISTER, True, True),
        (Transaction.REGISTER, True, False),
        (Transaction.UPDATE, True, False),
        (Transaction.QUERY_RESPONSE, False, False),
    ],
)
def test_transactions_say_what_they_carry(transaction, is_submission, carries_documents):
    assert transaction.is_submission is is_submission
    assert transaction.carries_documents is carries_documents


@pytest.mark.parametrize(
    ("transaction", "metadata", "duplicate"),
    [
        (Transaction.PROVIDE_AND_REGISTER, ErrorCode.REPOSITORY_METADATA_ERROR,
         ErrorCode.REPOSITORY_DUPLICATE_UNIQUE_ID_IN_MESSAGE),
        (Transaction.REGISTER, ErrorCode.REGISTRY_METADATA_ERROR, ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE),
        (Transaction.UPDATE, ErrorCode.REGISTRY_METADATA_ERROR, ErrorCode.REGISTRY_DUPLICATE_UNIQUE_ID_IN_MESSAGE),
    ],
)
def test_error_codes_name_the_detecting_actor(transaction, metadata, duplicate):
    context = ValidationContext(transaction)
    assert context.metadata_error is metadata
    assert context.duplicate_unique_id_error is duplicate


def test_context_defaults_and_changes():
    assert CONTEXT.strict and CONTEXT.documents_attached == frozenset() and CONTEXT.patient_domains == ()
    assert not CONTEXT.accept_limited_metadata and dict(CONTEXT.extras) == {}
    changed = CONTEXT.with_changes(patient_domains=("2.16.578.1.12.4.1.4.1",), extras={"code_lists": "x"})
    assert changed.patient_domains == ("2.16.578.1.12.4.1.4.1",)
    assert changed.extras["code_lists"] == "x"
    assert CONTEXT.patient_domains == ()
