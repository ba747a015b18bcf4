"""What a deployment may set for the Norwegian rule set, carried in `ValidationContext.extras`
(HIS 1169 code bindings and identifiers; PROFILE.md §3, §4 and its items marked unsure).

The extras are plain values under the keys below, so an actor can build a context from
settings without knowing the rules; `norway_extras(...)` builds (and checks) them and
`options_for(context)` turns them into a `NorwayOptions` for the rules. A context without
these keys gets the defaults, so `NORWAY_PROFILE.validate(s, ValidationContext(...))` works.

| key | default | meaning |
|---|---|---|
| `norway.code_sets_dir` | None | folder whose code-list files override/extend the bundled ones |
| `norway.allow_synthetic` | False | accept synthetic test persons (month + 65 / + 80) |
| `norway.check_digit_scheme` | "auto" | person-number check digits: auto, classic, 2032, transition |
| `norway.language_codes` | nb-NO nn-NO se-NO en-* | accepted languageCode values (`*` ends a prefix) |
| `norway.patient_authorities` | .4.1 .4.2 .4.3 | accepted patient assigning authorities; `OID=kind` adds one |
| `norway.optionality` | DocumentEntry.practiceSettingCode=R2 | requirement overrides, see below |
| `norway.partial_code_lists` | "error" | "warning": a code missing from a list marked partial only warns |
| `norway.code_bindings` | () | `attribute=list+list` replaces the lists an attribute's codes come from |

Code bindings (PROFILE.md §4 table; which practiceSettingCode list is normative is unsure, and
NHN's reference gateway also accepts 1305 for healthcareFacilityTypeCode): confidentialityCode
9603+hl7-confidentiality, healthcareFacilityTypeCode 1303, practiceSettingCode
8655+8651+8653+8654+8663, eventCodeList 7210, formatCode formatcode. classCode and typeCode are
always 9602. A bound list must be loaded (bundled or in the code-set folder).

Optionality overrides (`Kind.attribute=CODE`, CODE one of R, R2, O, X) change the IHE table
(profiles/data/ihe_optionality.toml) for every column except the limited-metadata one.
`author.authorPerson=R` and `author.authorInstitution=R` require that part of every author
(NHN's reference gateway has both R2, as IHE does; PROFILE.md §4, unsure).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from ..ihe.optionality import IHE_OPTIONALITY, Optionality, OptionalityTable
from ..model import DocumentEntry, Folder, SubmissionSet
from ..rules import ValidationContext
from .codesets import CodeSets, load_code_sets, strip_oid_urn
from .identifiers import (
    DNR_OID,
    FHN_OID,
    FNR_OID,
    PERSON_ID_AUTHORITIES,
    CheckDigitScheme,
    PersonIdKind,
    scheme_named,
)

CODE_SETS_DIR = "norway.code_sets_dir"
ALLOW_SYNTHETIC = "norway.allow_synthetic"
CHECK_DIGIT_SCHEME = "norway.check_digit_scheme"
LANGUAGE_CODES = "norway.language_codes"
PATIENT_AUTHORITIES = "norway.patient_authorities"
OPTIONALITY = "norway.optionality"
PARTIAL_CODE_LISTS = "norway.partial_code_lists"
CODE_BINDINGS = "norway.code_bindings"

CHECK_DIGIT_SCHEMES = ("auto", "classic", "2032", "transition")
PARTIAL_CODE_LIST_POLICIES = ("error", "warning")
DEFAULT_LANGUAGE_CODES = ("nb-NO", "nn-NO", "se-NO", "en-*")
DEFAULT_PATIENT_AUTHORITIES = (FNR_OID, DNR_OID, FHN_OID)
DEFAULT_OPTIONALITY = ("DocumentEntry.practiceSettingCode=R2",)
AUTHOR_PARTS = ("authorPerson", "authorInstitution")
DEFAULT_BINDINGS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "confidentialityCode": ("9603", "hl7-confidentiality"),
    "healthcareFacilityTypeCode": ("1303",),
    "practiceSettingCode": ("8655", "8651", "8653", "8654", "8663"),
    "eventCodeList": ("7210",),
    "formatCode": ("formatcode",),
})

_KINDS = {"DocumentEntry": DocumentEntry, "SubmissionSet": SubmissionSet, "Folder": Folder}
_KIND_WORDS = {"fnr": PersonIdKind.FNR, "dnr": PersonIdKind.DNR, "fhn": PersonIdKind.FHN,
               "hnr": PersonIdKind.HNR}
_DEFAULTS: Mapping[str, Any] = MappingProxyType({
    CODE_SETS_DIR: None, ALLOW_SYNTHETIC: False, CHECK_DIGIT_SCHEME: "auto",
    LANGUAGE_CODES: DEFAULT_LANGUAGE_CODES, PATIENT_AUTHORITIES: DEFAULT_PATIENT_AUTHORITIES,
    OPTIONALITY: DEFAULT_OPTIONALITY, PARTIAL_CODE_LISTS: "error", CODE_BINDINGS: (),
})


@dataclass(frozen=True, eq=False)
class NorwayOptions:
    """The extras, resolved: loaded code lists, the check-digit rule, parsed overrides.
    Compared and hashed by identity: equal extras give the same (cached) object."""

    code_sets: CodeSets
    scheme: CheckDigitScheme
    allow_synthetic: bool
    language_codes: tuple[str, ...]
    patient_authorities: Mapping[str, frozenset[PersonIdKind]]
    optionality: OptionalityTable
    required_author_parts: frozenset[str]
    partial_lists_warn: bool
    #: attribute -> ids of the lists its codes come from
    bindings: Mapping[str, tuple[str, ...]]

    def accepts_language(self, value: str) -> bool:
        """languageCode is one of `language_codes` (case-insensitive; `en-*` is any en- tag)."""
        value = value.lower()
        for allowed in self.language_codes:
            allowed = allowed.lower()
            if value == allowed or (allowed.endswith("*") and value.startswith(allowed[:-1])):
                return True
        return False


def norway_extras(*, code_sets_dir: str | Path | None = None, allow_synthetic: bool = False,
                  check_digit_scheme: str = "auto",
                  language_codes: tuple[str, ...] = DEFAULT_LANGUAGE_CODES,
                  patient_authorities: tuple[str, ...] = DEFAULT_PATIENT_AUTHORITIES,
                  optionality: tuple[str, ...] = DEFAULT_OPTIONALITY,
                  partial_code_lists: str = "error", code_bindings: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """The extras for a ValidationContext; ValueError names any value that cannot be used."""
    extras = {
        CODE_SETS_DIR: str(code_sets_dir) if code_sets_dir else None,
        ALLOW_SYNTHETIC: bool(allow_synthetic), CHECK_DIGIT_SCHEME: check_digit_scheme,
        LANGUAGE_CODES: tuple(language_codes), PATIENT_AUTHORITIES: tuple(patient_authorities),
        OPTIONALITY: tuple(optionality), PARTIAL_CODE_LISTS: partial_code_lists,
        CODE_BINDINGS: tuple(code_bindings),
    }
    _resolve(**_cache_key(extras))
    return MappingProxyType(extras)


def options_for(context: ValidationContext) -> NorwayOptions:
    """The options a rule runs with: the context's extras over the defaults (cached: every
    rule of every validation asks)."""
    key = tuple(_hashable(context.extras.get(name, default)) for name, default in _DEFAULTS.items())
    today = date.today() if key[_SCHEME_INDEX] == "auto" else None  # auto changes rule on 2032-01-01
    return _cached_options(key, today)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


_SCHEME_INDEX = list(_DEFAULTS).index(CHECK_DIGIT_SCHEME)


@lru_cache(maxsize=32)
def _cached_options(key: tuple, _today: date | None) -> NorwayOptions:
    return _resolve(**_cache_key(dict(zip(_DEFAULTS, key))))


def _cache_key(extras: Mapping[str, Any]) -> dict[str, Any]:
    values = {key: extras.get(key, default) for key, default in _DEFAULTS.items()}
    return {key.removeprefix("norway."): _hashable(value) for key, value in values.items()}


def _resolve(**values: Any) -> NorwayOptions:
    """Options from hashable values; the costly parts (code lists, tables) are cached."""
    scheme_name = values["check_digit_scheme"]
    if scheme_name not in CHECK_DIGIT_SCHEMES:
        raise ValueError(f"{CHECK_DIGIT_SCHEME} = {scheme_name!r}: use {', '.join(CHECK_DIGIT_SCHEMES)}")
    if values["partial_code_lists"] not in PARTIAL_CODE_LIST_POLICIES:
        raise ValueError(f"{PARTIAL_CODE_LISTS} = {values['partial_code_lists']!r}: "
                         f"use {' or '.join(PARTIAL_CODE_LIST_POLICIES)}")
    table, author_parts = _optionality(values["optionality"])
    code_sets = _code_sets(values["code_sets_dir"])
    return NorwayOptions(
        code_sets=code_sets, scheme=scheme_named(scheme_name),
        allow_synthetic=bool(values["allow_synthetic"]),
        language_codes=tuple(values["language_codes"]),
        patient_authorities=_authorities(tuple(values["patient_authorities"])),
        optionality=table, required_author_parts=author_parts,
        partial_lists_warn=values["partial_code_lists"] == "warning",
        bindings=_bindings(tuple(values["code_bindings"]), values["code_sets_dir"]))


@lru_cache(maxsize=8)
def _code_sets(folder: str | None) -> CodeSets:
    """The bundled lists and, when the folder exists, its files (read once per process)."""
    if folder and Path(folder).is_dir():
        return load_code_sets(Path(folder))
    return load_code_sets()


@lru_cache(maxsize=8)
def _authorities(entries: tuple[str, ...]) -> Mapping[str, frozenset[PersonIdKind]]:
    """`OID` (a national authority) or `OID=fnr|dnr|fhn|hnr[+...]` (a deployment's own)."""
    found: dict[str, frozenset[PersonIdKind]] = {}
    for entry in entries:
        oid, _, kinds = (part.strip() for part in entry.partition("="))
        oid = strip_oid_urn(oid)
        if kinds:
            try:
                found[oid] = frozenset(_KIND_WORDS[word.strip().lower()] for word in kinds.split("+"))
            except KeyError:
                raise ValueError(f"{PATIENT_AUTHORITIES}: {entry!r}: kinds are "
                                 f"{', '.join(_KIND_WORDS)} joined by +") from None
        elif oid in PERSON_ID_AUTHORITIES:
            found[oid] = PERSON_ID_AUTHORITIES[oid]
        else:
            raise ValueError(f"{PATIENT_AUTHORITIES}: {oid} is no national person-id authority; "
                             f"write {oid}=fnr|dnr|fhn|hnr to say what it assigns")
    return MappingProxyType(found)


@lru_cache(maxsize=8)
def _bindings(entries: tuple[str, ...], folder: str | None) -> Mapping[str, tuple[str, ...]]:
    """The default bindings with `attribute=list+list` entries replacing some."""
    code_sets = _code_sets(folder)
    bindings = dict(DEFAULT_BINDINGS)
    for entry in entries:
        attribute, _, list_ids = (part.strip() for part in entry.partition("="))
        chosen = tuple(i.strip() for i in list_ids.split("+") if i.strip())
        if attribute not in DEFAULT_BINDINGS or not chosen:
            raise ValueError(f"{CODE_BINDINGS}: {entry!r}: write attribute=list+list with attribute one of "
                             f"{', '.join(DEFAULT_BINDINGS)}")
        bindings[attribute] = chosen
    for attribute, list_ids in bindings.items():
        missing = [i for i in list_ids if i not in code_sets.by_list]
        if missing:
            raise ValueError(f"{CODE_BINDINGS}: {attribute} is bound to list(s) {', '.join(missing)}, "
                             "which are not loaded")
    return MappingProxyType(bindings)


@lru_cache(maxsize=8)
def _optionality(overrides: tuple[str, ...]) -> tuple[OptionalityTable, frozenset[str]]:
    table, author_parts = IHE_OPTIONALITY, set()
    for entry in overrides:
        target, _, code = (part.strip() for part in entry.partition("="))
        kind_name, _, attribute = target.partition(".")
        requirement = _requirement(entry, code)
        if kind_name == "author" and attribute in AUTHOR_PARTS:
            if requirement is Optionality.REQUIRED:
                author_parts.add(attribute)
            continue
        kind = _KINDS.get(kind_name)
        if kind is None or attribute not in table.attributes(kind):
            raise ValueError(f"{OPTIONALITY}: {entry!r} names no attribute; write Kind.attribute=CODE "
                             f"with Kind one of {', '.join(_KINDS)} (or author.authorPerson / "
                             "author.authorInstitution)")
        columns = {column: requirement.value for column in table.columns if column != "xdr_ms"}
        table = table.with_requirement(kind, attribute, **columns)
    return table, frozenset(author_parts)


def _requirement(entry: str, code: str) -> Optionality:
    try:
        return Optionality(code)
    except ValueError:
        raise ValueError(f"{OPTIONALITY}: {entry!r}: the requirement is one of "
                         f"{', '.join(o.value for o in Optionality)}") from None
