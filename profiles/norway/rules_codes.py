"""Coded values of the Norwegian profile (HIS 1169 code bindings; PROFILE.md §4 table).

Each DocumentEntry code must come from its Volven list, written with the list's codingScheme:
the Volven OID `2.16.578.1.12.4.1.1.<list>`, accepted bare or as `urn:oid:<OID>` (the
prefix in any case), and nothing else (a list file's `aliases` add schemes; `any_scheme`
lists, such as formatCode, do not judge it). classCode and typeCode share list 9602: a class
code ends in `00-1`, a type belongs to the class with its first letter. confidentialityCode
comes from 9603 or HL7 v3 Confidentiality (N, R, V); healthcareFacilityTypeCode from 1303;
practiceSettingCode from 8655, 8651, 8653, 8654 or 8663; eventCodeList from 7210 (only its
codingScheme while no 7210 codes are loaded); formatCode from the known format codes.

Every issue names the object, the attribute, the code and scheme found and what is allowed.
A code missing from a list marked partial (`complete: false`) says so; with the extras
`norway.partial_code_lists = "warning"` it is only a warning.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import Issue
from ..ihe.common import metadata_issue
from ..model import Code, DocumentEntry, Submission
from ..rules import ValidationContext, rule
from .codesets import DOCUMENT_TYPE_LIST, VOLVEN_OID_PREFIX, CodeSet, class_of_type, is_class_code, is_type_code
from .options import NorwayOptions, options_for

#: the code a message suggests when the list holds it (else the list's first code)
PREFERRED_EXAMPLES = {"9602": "A00-1", "9603": "N", "1303": "86.101", "8655": "S03", "formatcode":
                      "urn:no:ehelse:document:pdf"}
PREFERRED_TYPE_EXAMPLE = "A03-2"


def list_title(code_set: CodeSet) -> str:
    """`Volven 9602 (2.16.578.1.12.4.1.1.9602)`, or the list's own name for a non-Volven list."""
    if code_set.oid.startswith(VOLVEN_OID_PREFIX):
        return f"Volven {code_set.list_id} ({code_set.oid})"
    return f"{code_set.name.split(' (')[0]} ({code_set.oid})"


def titles(code_sets: Sequence[CodeSet]) -> str:
    """The lists as a message names them; several Volven lists share one OID pattern."""
    if len(code_sets) > 1 and all(c.oid == VOLVEN_OID_PREFIX + c.list_id for c in code_sets):
        return f"Volven {_either([c.list_id for c in code_sets])} ({VOLVEN_OID_PREFIX}<list>)"
    return _either([list_title(c) for c in code_sets])


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def example(code_set: CodeSet, codes: Mapping[str, str] | None = None, preferred: str | None = None) -> str:
    """`A00-1 Epikriser og sammenfatninger`: one code of the list, with its display name."""
    codes = code_set.codes if codes is None else codes
    preferred = preferred or PREFERRED_EXAMPLES.get(code_set.list_id)
    code = preferred if preferred in codes else next(iter(codes), None)
    if code is None:
        return f"a code of {list_title(code_set)}"
    display = codes[code]
    return code if display in ("", code) else f"{code} {display}"


def found(attribute: str, code: Code) -> str:
    return f"{attribute} {code.code!r} (codingScheme {code.scheme!r})"


def partial_note(code_set: CodeSet) -> str:
    if code_set.complete:
        return ""
    return (f"; the loaded list {code_set.list_id} is partial: if the code is in the official list, "
            "add that list to the code-set folder (`xdsno codes import FILE`)")


Hint = Callable[[], str]


def code_problem(attribute: str, code: Code, code_sets: Sequence[CodeSet], hint: Hint,
                 list_name: str | None = None) -> tuple[str, CodeSet | None] | None:
    """Why `code` is not allowed (and the partial list that merely lacks it), or None.
    `hint()` says what to use instead (built only for a message); `list_name` replaces the
    lists' titles in the message (`a known format code`)."""
    if not code.code:
        return None  # codes.complete (IHE) reports an empty code
    by_scheme = [c for c in code_sets if c.accepts_scheme(code.scheme)]
    if any(code.code in c or len(c) == 0 for c in by_scheme):
        return None  # an empty list (no codes loaded, e.g. 7210) judges only the codingScheme
    owner = next((c for c in code_sets if code.code in c), None)
    if owner is not None:
        return (f"{found(attribute, code)}: the code is in {list_title(owner)}, so codingScheme must be "
                f"{owner.oid} (or urn:oid:{owner.oid})", None)
    if by_scheme:
        lacking = by_scheme[0]
        name = list_name or f"a code of {list_title(lacking)}"
        return (f"{found(attribute, code)} is not {name}; use {hint()}" + partial_note(lacking),
                None if lacking.complete else lacking)
    name = list_name or f"in {titles(code_sets)}"
    return f"{found(attribute, code)} is not {name}; use {hint()}", None


def code_issue(context: ValidationContext, options: NorwayOptions, entry: DocumentEntry,
               problem: tuple[str, CodeSet | None]) -> Issue:
    text, partial_list = problem
    issue = metadata_issue(context, entry, text)
    return issue.as_warning() if partial_list is not None and options.partial_lists_warn else issue


def lists(options: NorwayOptions, list_ids: Iterable[str]) -> list[CodeSet]:
    return [c for c in (options.code_sets.get(i) for i in list_ids) if c is not None]


def hint_for(code_sets: Sequence[CodeSet]) -> str:
    """What a message suggests: an example code, or for an empty list its codingScheme."""
    first = code_sets[0]
    if len(first) == 0:
        return f"codingScheme {first.oid} (no {first.list_id} codes are loaded, so only the scheme is judged)"
    return f"a code such as {example(first)}"


def check_codes(context: ValidationContext, submission: Submission, attribute: str, codes_of,
                list_name: str | None = None, hint: Hint | None = None) -> Iterator[Issue]:
    """Judge each code `codes_of(entry)` gives against the lists bound to `attribute`."""
    options = options_for(context)
    code_sets = lists(options, options.bindings[attribute])
    hint = hint or (lambda: hint_for(code_sets))
    for entry in submission.document_entries:
        for code in codes_of(entry):
            if code is not None and (problem := code_problem(attribute, code, code_sets, hint, list_name)):
                yield code_issue(context, options, entry, problem)


# --- classCode and typeCode (9602) -------------------------------------------------------------

def _document_types(options: NorwayOptions) -> CodeSet | None:
    return options.code_sets.get(DOCUMENT_TYPE_LIST)


def _class_hint(options: NorwayOptions) -> str:
    code_set = _document_types(options)
    if code_set is None:
        return "a 9602 class code"
    return f"a class code such as {example(code_set, options.code_sets.class_codes())}"


def _type_hint(options: NorwayOptions, class_code: Code | None) -> str:
    code_set = _document_types(options)
    if code_set is None:
        return "a 9602 type code"
    types = options.code_sets.type_codes()
    if class_code is not None and is_class_code(class_code.code):
        of_class = {c: d for c, d in types.items() if class_of_type(c) == class_code.code}
        if of_class:
            return f"a type code of class {class_code.code} such as {example(code_set, of_class, PREFERRED_TYPE_EXAMPLE)}"
    return f"a type code such as {example(code_set, types, PREFERRED_TYPE_EXAMPLE)}"


@rule("norway.class-code", profile_only=True)
def class_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """classCode: a 9602 class code (`X00-1`), codingScheme 2.16.578.1.12.4.1.1.9602."""
    options = options_for(context)
    code_sets = lists(options, (DOCUMENT_TYPE_LIST,))
    for entry in submission.document_entries:
        code = entry.class_code
        if code is None or not code.code:
            continue
        if problem := code_problem("classCode", code, code_sets, lambda: _class_hint(options)):
            yield code_issue(context, options, entry, problem)
        elif not is_class_code(code.code):
            yield metadata_issue(context, entry, f"{found('classCode', code)} is a 9602 type code; "
                                                 f"a classCode ends in 00-1: use {_class_hint(options)}")


@rule("norway.type-code", profile_only=True)
def type_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """typeCode: a 9602 code that is not a class code, codingScheme 2.16.578.1.12.4.1.1.9602."""
    options = options_for(context)
    code_sets = lists(options, (DOCUMENT_TYPE_LIST,))
    for entry in submission.document_entries:
        code = entry.type_code
        if code is None or not code.code:
            continue
        hint = lambda: _type_hint(options, entry.class_code)  # noqa: E731 (built only for a message)
        if problem := code_problem("typeCode", code, code_sets, hint):
            yield code_issue(context, options, entry, problem)
        elif not is_type_code(code.code):
            yield metadata_issue(context, entry, f"{found('typeCode', code)} is a 9602 class code "
                                                 f"(it ends in 00-1); use {hint()}")


@rule("norway.type-code.in-class", profile_only=True)
def type_in_class(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """A 9602 typeCode belongs to the classCode with its first letter (A03-2 under A00-1).
    Judged only when both codes are well-formed 9602 codes (the two rules above report the rest)."""
    options = options_for(context)
    for entry in submission.document_entries:
        class_, type_ = entry.class_code, entry.type_code
        if class_ is None or type_ is None or not (is_class_code(class_.code) and is_type_code(type_.code)):
            continue
        expected = class_of_type(type_.code)
        if expected != class_.code:
            display = options.code_sets.display(DOCUMENT_TYPE_LIST, expected or "") or ""
            yield metadata_issue(
                context, entry,
                f"typeCode {type_.code!r} belongs to class {expected} {display}".rstrip()
                + f", but classCode is {class_.code!r}; set classCode {expected} or "
                  f"use {_type_hint(options, class_)}",
            )


# --- the other DocumentEntry codes ----------------------------------------------------------

@rule("norway.confidentiality-code", profile_only=True)
def confidentiality_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """confidentialityCode: Volven 9603 (N, NORS, NORU, NORN_*) or HL7 2.16.840.1.113883.5.25 (N, R, V)."""
    yield from check_codes(context, submission, "confidentialityCode", lambda e: e.confidentiality_codes)


@rule("norway.healthcare-facility-type-code", profile_only=True)
def facility_type_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """healthcareFacilityTypeCode: Volven 1303 (86.101 Alminnelige somatiske sykehus, ...)."""
    yield from check_codes(context, submission, "healthcareFacilityTypeCode",
                           lambda e: (e.healthcare_facility_type_code,))


@rule("norway.practice-setting-code", profile_only=True)
def practice_setting_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """practiceSettingCode: one of Volven 8655, 8651, 8653, 8654, 8663 (which is normative is unsure)."""
    yield from check_codes(context, submission, "practiceSettingCode", lambda e: (e.practice_setting_code,))


@rule("norway.event-code", profile_only=True)
def event_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """eventCodeList: Volven 7210; while no 7210 codes are loaded only the codingScheme is judged."""
    yield from check_codes(context, submission, "eventCodeList", lambda e: e.event_codes)


@rule("norway.format-code", profile_only=True)
def format_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """formatCode: a known format code (urn:no:ehelse:document:pdf, ...; PROFILE.md §4)."""
    options = options_for(context)

    def known() -> str:
        codes = ", ".join(code for c in lists(options, options.bindings["formatCode"]) for code in c.codes)
        return f"one of {codes}" if codes else "a known format code"

    yield from check_codes(context, submission, "formatCode", lambda e: (e.format_code,),
                           list_name="a known format code", hint=known)


RULES = (
    class_code, type_code, type_in_class, confidentiality_code, facility_type_code, practice_setting_code,
    event_code, format_code,
)  # fmt: skip
