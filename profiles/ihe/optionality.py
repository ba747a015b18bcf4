"""Metadata attribute optionality: which attributes a submission must (R) or must not (X) carry
(ITI TF-3 4.3.1, Tables 4.3.1-2 and 4.3.1-3; limitedMetadata: ITI TF-3 4.1.1.1 and 4.2.3.2.29).

The table is data (`profiles/data/ihe_optionality.toml`): one row per attribute of
DocumentEntry, SubmissionSet and Folder, one column per sending actor/transaction. The
transaction in the `ValidationContext` picks the column; an object flagged limitedMetadata is
judged by the XDR Metadata-Limited column only when the context accepts such objects, otherwise
the flag itself is prohibited (X). R2 and O never produce issues: a validator cannot know
whether a missing value was known.

A national profile changes a requirement with `OptionalityTable.with_requirement` and swaps the
rule: `profile.replace("document-entry.required-attributes", optionality_rule(..., table))`.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ..model import DocumentEntry, Folder, RegistryObjectBase, Submission, SubmissionSet
from ..rules import Rule, Transaction, ValidationContext
from .common import metadata_issue, objects_of, present


class Optionality(StrEnum):
    """ITI TF-3 Table 4.3.1-2."""

    REQUIRED = "R"
    REQUIRED_IF_KNOWN = "R2"
    OPTIONAL = "O"
    PROHIBITED = "X"


Getter = Callable[[Any], object]

_COMMON: dict[str, Getter] = {
    "availabilityStatus": lambda o: o.status,
    "comments": lambda o: o.comments,
    "entryUUID": lambda o: o.id,
    "homeCommunityId": lambda o: o.home,
    "limitedMetadata": lambda o: o.limited_metadata,
    "title": lambda o: o.title,
}

#: How each attribute named in the table is read from the model.
ATTRIBUTES: Mapping[type, Mapping[str, Getter]] = MappingProxyType({
    DocumentEntry: MappingProxyType({
        **_COMMON,
        "author": lambda d: d.authors,
        "classCode": lambda d: d.class_code,
        "confidentialityCode": lambda d: d.confidentiality_codes,
        "creationTime": lambda d: d.creation_time,
        "documentAvailability": lambda d: d.document_availability,
        "eventCodeList": lambda d: d.event_codes,
        "formatCode": lambda d: d.format_code,
        "hash": lambda d: d.hash,
        "healthcareFacilityTypeCode": lambda d: d.healthcare_facility_type_code,
        "languageCode": lambda d: d.language_code,
        "legalAuthenticator": lambda d: d.legal_authenticator,
        "logicalID": lambda d: d.lid,
        "mimeType": lambda d: d.mime_type,
        "objectType": lambda d: d.object_type,
        "patientId": lambda d: d.patient_id,
        "practiceSettingCode": lambda d: d.practice_setting_code,
        "referenceIdList": lambda d: d.reference_ids,
        "repositoryUniqueId": lambda d: d.repository_unique_id,
        "serviceStartTime": lambda d: d.service_start_time,
        "serviceStopTime": lambda d: d.service_stop_time,
        "size": lambda d: d.size,
        "sourcePatientId": lambda d: d.source_patient_id,
        "sourcePatientInfo": lambda d: d.source_patient_info,
        "typeCode": lambda d: d.type_code,
        "uniqueId": lambda d: d.unique_id,
        "URI": lambda d: d.uri,
        "version": lambda d: d.version_name,
    }),
    SubmissionSet: MappingProxyType({
        **_COMMON,
        "author": lambda s: s.authors,
        "contentTypeCode": lambda s: s.content_type_code,
        "intendedRecipient": lambda s: s.intended_recipients,
        "patientId": lambda s: s.patient_id,
        "sourceId": lambda s: s.source_id,
        "submissionTime": lambda s: s.submission_time,
        "uniqueId": lambda s: s.unique_id,
    }),
    Folder: MappingProxyType({
        **_COMMON,
        "codeList": lambda f: f.codes,
        "lastUpdateTime": lambda f: f.last_update_time,
        "logicalID": lambda f: f.lid,
        "patientId": lambda f: f.patient_id,
        "uniqueId": lambda f: f.unique_id,
        "version": lambda f: f.version_name,
    }),
})

#: Which column of the table judges objects of each transaction.
COLUMN_BY_TRANSACTION: Mapping[Transaction, str] = MappingProxyType({
    Transaction.PROVIDE_AND_REGISTER: "xds_ds",
    Transaction.REGISTER: "xds_dr",
    Transaction.UPDATE: "xds_dr",
    Transaction.QUERY_RESPONSE: "stored",
})
LIMITED_METADATA_COLUMN = "xdr_ms"


@dataclass(frozen=True)
class OptionalityTable:
    """Requirement codes by object kind name, attribute name and column name."""

    source: str
    columns: tuple[str, ...]
    rows: Mapping[str, Mapping[str, tuple[Optionality, ...]]]

    def __post_init__(self) -> None:
        for kind in (DocumentEntry, SubmissionSet, Folder):
            for attribute, codes in self.rows.get(kind.__name__, {}).items():
                if attribute not in ATTRIBUTES[kind]:
                    raise ValueError(f"{self.source}: {kind.__name__}.{attribute} is not a known attribute")
                if len(codes) != len(self.columns):
                    raise ValueError(f"{self.source}: {kind.__name__}.{attribute} needs {len(self.columns)} codes")

    def attributes(self, kind: type) -> tuple[str, ...]:
        return tuple(self.rows.get(kind.__name__, {}))

    def requirement(self, kind: type, attribute: str, column: str) -> Optionality:
        return self.rows[kind.__name__][attribute][self.columns.index(column)]

    def with_requirement(self, kind: type, attribute: str, **codes: str) -> "OptionalityTable":
        """A copy with some columns of one row changed, e.g. `practiceSettingCode, xds_ds="R2"`."""
        row = list(self.rows[kind.__name__][attribute])
        for column, code in codes.items():
            row[self.columns.index(column)] = Optionality(code)
        kind_rows = {**self.rows[kind.__name__], attribute: tuple(row)}
        return OptionalityTable(self.source, self.columns, {**self.rows, kind.__name__: kind_rows})


def parse_optionality(text: str) -> OptionalityTable:
    data = tomllib.loads(text)
    columns = tuple(data["columns"])
    rows = {
        kind: {attribute: tuple(Optionality(code) for code in codes) for attribute, codes in data[kind].items()}
        for kind in ("DocumentEntry", "SubmissionSet", "Folder") if kind in data
    }
    return OptionalityTable(data.get("source", ""), columns, rows)


def load_optionality(resource: str = "ihe_optionality.toml") -> OptionalityTable:
    """Read a table from `profiles/data/`."""
    return parse_optionality((files("profiles") / "data" / resource).read_text(encoding="utf-8"))


IHE_OPTIONALITY = load_optionality()


def column_for(context: ValidationContext, obj: RegistryObjectBase) -> str:
    if getattr(obj, "limited_metadata", False) and context.accept_limited_metadata:
        return LIMITED_METADATA_COLUMN
    return COLUMN_BY_TRANSACTION[context.transaction]


def _where(column: str, context: ValidationContext) -> str:
    if column == LIMITED_METADATA_COLUMN:
        return "for a limitedMetadata object"
    if column == "stored":
        return "in registry metadata"
    return f"in {context.transaction.value}"


def optionality_rule(name: str, kind: type, table: OptionalityTable = IHE_OPTIONALITY) -> Rule:
    """A rule reporting every R attribute missing and every X attribute given on `kind` objects."""

    def check(submission: Submission, context: ValidationContext):
        for obj in objects_of(submission, kind):
            column = column_for(context, obj)
            for attribute in table.attributes(kind):
                requirement = table.requirement(kind, attribute, column)
                given = present(ATTRIBUTES[kind][attribute](obj))
                where = _where(column, context)
                if requirement is Optionality.REQUIRED and not given:
                    yield metadata_issue(context, obj, f"{attribute} is required (R) {where} but missing")
                elif requirement is Optionality.PROHIBITED and given:
                    yield metadata_issue(context, obj, f"{attribute} is given but prohibited (X) {where}")

    return Rule(name, check)


DOCUMENT_ENTRY_REQUIRED = optionality_rule("document-entry.required-attributes", DocumentEntry)
SUBMISSION_SET_REQUIRED = optionality_rule("submission-set.required-attributes", SubmissionSet)
FOLDER_REQUIRED = optionality_rule("folder.required-attributes", Folder)

RULES = (DOCUMENT_ENTRY_REQUIRED, SUBMISSION_SET_REQUIRED, FOLDER_REQUIRED)
