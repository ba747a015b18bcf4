"""The document itself under the Norwegian profile (HIS 1169; PROFILE.md §1 and §4).

- languageCode: one of the accepted tags (`norway.language_codes`, default nb-NO, nn-NO,
  se-NO and any en- tag), compared without regard to case (BCP 47).
- Stable documents only: national sharing has no On-Demand entries. IHE already refuses them
  in a submission (document-entry.object-type); this rule refuses them where IHE allows them,
  in registry metadata answered to a query.
- Attribute optionality: the IHE table with the overrides of `norway.optionality` (default
  practiceSettingCode R2, as NHN's reference gateway; unsure). A requirement the IHE table
  also makes stays an error in lenient mode; one only the Norwegian overrides make is
  downgraded with the other profile-only issues.
"""
from __future__ import annotations

from typing import Iterator

from ..errors import Issue
from ..ihe.common import metadata_issue
from ..ihe.optionality import (
    DOCUMENT_ENTRY_REQUIRED,
    FOLDER_REQUIRED,
    IHE_OPTIONALITY,
    SUBMISSION_SET_REQUIRED,
    OptionalityTable,
    column_for,
    optionality_rule,
)
from ..model import DocumentEntry, Folder, Submission, SubmissionSet
from ..rules import Rule, ValidationContext, rule
from ..vocabulary import ObjectType
from .options import options_for


@rule("norway.language-code", profile_only=True)
def language_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """languageCode: one of the configured tags (nb-NO, nn-NO, se-NO, en-* by default)."""
    options = options_for(context)
    allowed = ", ".join(options.language_codes)
    for entry in submission.document_entries:
        if entry.language_code and not options.accepts_language(entry.language_code):
            yield metadata_issue(context, entry, f"languageCode {entry.language_code!r} is not accepted here; "
                                                 f"use one of {allowed}")


@rule("norway.stable-documents-only", profile_only=True)
def stable_documents_only(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """objectType On-Demand is not used in national sharing (reported here where IHE allows it)."""
    if context.transaction.is_submission:
        return  # document-entry.object-type (IHE) refuses On-Demand in every submission
    for entry in submission.document_entries:
        if entry.object_type == ObjectType.ON_DEMAND_DOCUMENT:
            yield metadata_issue(context, entry, f"objectType '{entry.object_type}' (On-Demand) is not used in "
                                                 f"Norwegian document sharing; only Stable ('{ObjectType.STABLE_DOCUMENT}')")


def norway_optionality_rule(ihe_rule: Rule, kind: type) -> Rule:
    """`ihe_rule` judged by the table of `norway.optionality`, keeping its name and place."""

    def check(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
        table = options_for(context).optionality
        if table is IHE_OPTIONALITY:
            yield from ihe_rule.check(submission, context)
            return
        issues = list(_table_rule(ihe_rule.name, kind, table).check(submission, context))
        if context.strict or not issues:
            yield from issues
            return
        norwegian_only = _norwegian_only_requirements(table, kind, context, submission)
        for issue in issues:
            lenient = any(f" {name} is " in issue.context for name in norwegian_only)
            yield issue.as_warning() if lenient else issue

    return Rule(ihe_rule.name, check)


_TABLE_RULES: dict[tuple[str, int], tuple[OptionalityTable, Rule]] = {}


def _table_rule(name: str, kind: type, table: OptionalityTable) -> Rule:
    """The optionality rule for a table (tables come cached from the options: kept by identity)."""
    cached = _TABLE_RULES.get((name, id(table)))
    if cached is None or cached[0] is not table:
        cached = _TABLE_RULES[(name, id(table))] = (table, optionality_rule(name, kind, table))
    return cached[1]


def _norwegian_only_requirements(table: OptionalityTable, kind: type, context: ValidationContext, submission: Submission) -> set[str]:
    """Attributes whose requirement in the column in use differs from the IHE table's."""
    found: set[str] = set()
    for obj in (o for o in submission.objects() if isinstance(o, kind)):
        column = column_for(context, obj)
        found.update(a for a in table.attributes(kind)
                     if table.requirement(kind, a, column) != IHE_OPTIONALITY.requirement(kind, a, column))
    return found


OPTIONALITY_RULES = (
    norway_optionality_rule(DOCUMENT_ENTRY_REQUIRED, DocumentEntry),
    norway_optionality_rule(SUBMISSION_SET_REQUIRED, SubmissionSet),
    norway_optionality_rule(FOLDER_REQUIRED, Folder),
)
RULES = (language_code, stable_documents_only)
