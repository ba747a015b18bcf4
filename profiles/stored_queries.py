"""The stored-query table of ITI-18 (ITI TF-2 3.18.4.1.2.3.7) and ITI-51 (ITI TF-2 3.51.4.1.2), as data,
and the parameter value syntax (ITI TF-2 3.18.4.1.2.3.5 "Coding of Single/Multiple Values").

Each `StoredQueryDef` lists its parameters as they appear on the wire (Slot/@name):
- `required`: the query fails with XDSStoredQueryMissingParam without it;
- `multiple`: it takes an OR-list `('a','b')`, otherwise exactly one value;
- `repeatable`: it may be given as several Slots with the same name, which are ANDed
  (ITI TF-2 3.18.4.1.2.3.5); only the event code list, the confidentiality code, the folder code
  list and the reference id list allow this.
`one_of` groups name parameters of which exactly one must be present (GetDocuments takes either
entryUUIDs or uniqueIds, never both); `at_least_one_of` groups need one or more (ITI-51).

Parameters marked `supplement="XDS Metadata Update"` ($MetadataLevel, the LogicalID parameters,
$XDSAssociationStatus) come from the trial-implementation supplement, not the base TF-2; a
registry without the Metadata Update option may ignore them.

The homeCommunityId of ITI-18/38 is AdhocQuery/@home, not a Slot; `uses_home` marks the queries
that name objects by id, which an initiating gateway routes by that attribute (3.18.4.1.2.3.8).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from profiles.hl7v2 import COMPONENT, unescape

METADATA_UPDATE = "XDS Metadata Update"


class ValueKind(StrEnum):
    """What a parameter's values are, so a registry knows how to check and compare them."""

    PATIENT_ID = "patient-id"  # CX, ITI TF-3 patientId rules
    CODE = "code"  # 'code^^scheme'
    TIME = "time"  # DTM, matched by precision range
    STATUS = "status"  # urn:oasis:names:tc:ebxml-regrep:StatusType:...
    UUID = "uuid"  # urn:uuid:... (entryUUID, logicalID, $uuid)
    UNIQUE_ID = "unique-id"  # OID or OID^extension
    OID = "oid"  # submission set sourceId
    AUTHOR = "author"  # XCN text with SQL LIKE wildcards % and _
    ENTRY_TYPE = "entry-type"  # DocumentEntry objectType UUID (stable / on-demand)
    ASSOCIATION_TYPE = "association-type"
    REFERENCE_ID = "reference-id"  # CXi
    NUMBER = "number"  # $MetadataLevel


@dataclass(frozen=True, slots=True)
class ParamDef:
    name: str
    required: bool
    multiple: bool
    repeatable: bool
    kind: ValueKind
    supplement: str = ""  # "" = base ITI TF-2


@dataclass(frozen=True, slots=True)
class StoredQueryDef:
    id: str
    name: str
    params: tuple[ParamDef, ...]
    one_of: tuple[tuple[str, ...], ...] = ()
    at_least_one_of: tuple[tuple[str, ...], ...] = ()
    transaction: str = "ITI-18"
    uses_home: bool = False

    def param(self, name: str) -> ParamDef | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def param_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)

    @property
    def required_params(self) -> tuple[ParamDef, ...]:
        return tuple(p for p in self.params if p.required)


# --- parameter shorthands: required/optional x single/OR-list; `and_or` marks repeatable ---------

def _req(name: str, kind: ValueKind, *, many: bool = False) -> ParamDef:
    return ParamDef(name, True, many, False, kind)


def _opt(name: str, kind: ValueKind, *, many: bool = False, and_or: bool = False, sup: str = "") -> ParamDef:
    return ParamDef(name, False, many or and_or, and_or, kind, sup)


_K = ValueKind
_METADATA_LEVEL = _opt("$MetadataLevel", _K.NUMBER, sup=METADATA_UPDATE)
_ASSOCIATION_STATUS = _opt("$XDSAssociationStatus", _K.STATUS, many=True, sup=METADATA_UPDATE)
_DE_TYPE = _opt("$XDSDocumentEntryType", _K.ENTRY_TYPE, many=True)
_DE_FORMAT = _opt("$XDSDocumentEntryFormatCode", _K.CODE, many=True)
_DE_CONFIDENTIALITY = _opt("$XDSDocumentEntryConfidentialityCode", _K.CODE, and_or=True)
_DE_UUID, _DE_UID = "$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"
_FOL_UUID, _FOL_UID = "$XDSFolderEntryUUID", "$XDSFolderUniqueId"
_SS_UUID, _SS_UID = "$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId"


def _document_filters() -> tuple[ParamDef, ...]:
    """FindDocuments parameters after the patient id (3.18.4.1.2.3.7.1), shared with
    FindDocumentsByReferenceId and FindDocumentsForMultiplePatients."""
    return (
        _opt("$XDSDocumentEntryClassCode", _K.CODE, many=True),
        _opt("$XDSDocumentEntryTypeCode", _K.CODE, many=True),
        _opt("$XDSDocumentEntryPracticeSettingCode", _K.CODE, many=True),
        _opt("$XDSDocumentEntryCreationTimeFrom", _K.TIME),
        _opt("$XDSDocumentEntryCreationTimeTo", _K.TIME),
        _opt("$XDSDocumentEntryServiceStartTimeFrom", _K.TIME),
        _opt("$XDSDocumentEntryServiceStartTimeTo", _K.TIME),
        _opt("$XDSDocumentEntryServiceStopTimeFrom", _K.TIME),
        _opt("$XDSDocumentEntryServiceStopTimeTo", _K.TIME),
        _opt("$XDSDocumentEntryHealthcareFacilityTypeCode", _K.CODE, many=True),
        _opt("$XDSDocumentEntryEventCodeList", _K.CODE, and_or=True),
        _DE_CONFIDENTIALITY,
        _opt("$XDSDocumentEntryAuthorPerson", _K.AUTHOR, many=True),
        _DE_FORMAT,
        _req("$XDSDocumentEntryStatus", _K.STATUS, many=True),
        _DE_TYPE,
    )


def _pair(uuid_name: str, uid_name: str, *, many: bool) -> tuple[ParamDef, ParamDef]:
    """An entryUUID / uniqueId pair: both optional, exactly one must be given (see `one_of`)."""
    return _opt(uuid_name, _K.UUID, many=many), _opt(uid_name, _K.UNIQUE_ID, many=many)


def _contents(uuid_name: str, uid_name: str) -> tuple[ParamDef, ...]:
    """GetSubmissionSetAndContents / GetFolderAndContents (3.18.4.1.2.3.7.10 and .11)."""
    return (*_pair(uuid_name, uid_name, many=False), _DE_FORMAT, _DE_CONFIDENTIALITY, _DE_TYPE)


_FIND_DOCUMENTS = StoredQueryDef(
    "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d", "FindDocuments",
    (_req("$XDSDocumentEntryPatientId", _K.PATIENT_ID), *_document_filters(), _METADATA_LEVEL),
)  # fmt: skip

_FIND_SUBMISSION_SETS = StoredQueryDef(
    "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9", "FindSubmissionSets",
    (
        _req("$XDSSubmissionSetPatientId", _K.PATIENT_ID),
        _opt("$XDSSubmissionSetSourceId", _K.OID, many=True),
        _opt("$XDSSubmissionSetSubmissionTimeFrom", _K.TIME),
        _opt("$XDSSubmissionSetSubmissionTimeTo", _K.TIME),
        _opt("$XDSSubmissionSetAuthorPerson", _K.AUTHOR),
        _opt("$XDSSubmissionSetContentType", _K.CODE, many=True),
        _req("$XDSSubmissionSetStatus", _K.STATUS, many=True),
        _METADATA_LEVEL,
    ),
)  # fmt: skip


def _folder_filters(patient: ParamDef, codes: ParamDef) -> tuple[ParamDef, ...]:
    return (
        patient,
        _opt("$XDSFolderLastUpdateTimeFrom", _K.TIME),
        _opt("$XDSFolderLastUpdateTimeTo", _K.TIME),
        codes,
        _req("$XDSFolderStatus", _K.STATUS, many=True),
    )


_FIND_FOLDERS = StoredQueryDef(
    "urn:uuid:958f3006-baad-4929-a4de-ff1114824431", "FindFolders",
    (
        *_folder_filters(
            _req("$XDSFolderPatientId", _K.PATIENT_ID), _opt("$XDSFolderCodeList", _K.CODE, and_or=True)
        ),
        _METADATA_LEVEL,
    ),
)  # fmt: skip

_GET_ALL = StoredQueryDef(
    "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", "GetAll",
    (
        _req("$patientId", _K.PATIENT_ID),
        _req("$XDSDocumentEntryStatus", _K.STATUS, many=True),
        _req("$XDSSubmissionSetStatus", _K.STATUS, many=True),
        _req("$XDSFolderStatus", _K.STATUS, many=True),
        _DE_FORMAT,
        _DE_CONFIDENTIALITY,
        _DE_TYPE,
        _METADATA_LEVEL,
    ),
)  # fmt: skip

_GET_DOCUMENTS = StoredQueryDef(
    "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4", "GetDocuments",
    (
        *_pair(_DE_UUID, _DE_UID, many=True),
        _opt("$XDSDocumentEntryLogicalID", _K.UUID, many=True, sup=METADATA_UPDATE),
        _METADATA_LEVEL,
    ),
    one_of=((_DE_UUID, _DE_UID, "$XDSDocumentEntryLogicalID"),),
    uses_home=True,
)  # fmt: skip

_GET_FOLDERS = StoredQueryDef(
    "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4", "GetFolders",
    (
        *_pair(_FOL_UUID, _FOL_UID, many=True),
        _opt("$XDSFolderLogicalID", _K.UUID, many=True, sup=METADATA_UPDATE),
        _METADATA_LEVEL,
    ),
    one_of=((_FOL_UUID, _FOL_UID, "$XDSFolderLogicalID"),),
    uses_home=True,
)  # fmt: skip

_GET_ASSOCIATIONS = StoredQueryDef(
    "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155", "GetAssociations",
    (_req("$uuid", _K.UUID, many=True), _ASSOCIATION_STATUS, _METADATA_LEVEL),
    uses_home=True,
)  # fmt: skip

_GET_DOCUMENTS_AND_ASSOCIATIONS = StoredQueryDef(
    "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a", "GetDocumentsAndAssociations",
    (*_pair(_DE_UUID, _DE_UID, many=True), _ASSOCIATION_STATUS, _METADATA_LEVEL),
    one_of=((_DE_UUID, _DE_UID),),
    uses_home=True,
)  # fmt: skip

_GET_SUBMISSION_SETS = StoredQueryDef(
    "urn:uuid:51224314-5390-4169-9b91-b1980040715a", "GetSubmissionSets",
    (_req("$uuid", _K.UUID, many=True), _METADATA_LEVEL),
    uses_home=True,
)  # fmt: skip

_GET_SUBMISSION_SET_AND_CONTENTS = StoredQueryDef(
    "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83", "GetSubmissionSetAndContents",
    (*_contents(_SS_UUID, _SS_UID), _ASSOCIATION_STATUS, _METADATA_LEVEL),
    one_of=((_SS_UUID, _SS_UID),),
    uses_home=True,
)  # fmt: skip

_GET_FOLDER_AND_CONTENTS = StoredQueryDef(
    "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7", "GetFolderAndContents",
    (*_contents(_FOL_UUID, _FOL_UID), _ASSOCIATION_STATUS, _METADATA_LEVEL),
    one_of=((_FOL_UUID, _FOL_UID),),
    uses_home=True,
)  # fmt: skip

_GET_FOLDERS_FOR_DOCUMENT = StoredQueryDef(
    "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578", "GetFoldersForDocument",
    (*_pair(_DE_UUID, _DE_UID, many=False), _ASSOCIATION_STATUS, _METADATA_LEVEL),
    one_of=((_DE_UUID, _DE_UID),),
    uses_home=True,
)  # fmt: skip

_GET_RELATED_DOCUMENTS = StoredQueryDef(
    "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6", "GetRelatedDocuments",
    (
        *_pair(_DE_UUID, _DE_UID, many=False),
        _req("$AssociationTypes", _K.ASSOCIATION_TYPE, many=True),
        _DE_TYPE,
        _ASSOCIATION_STATUS,
        _METADATA_LEVEL,
    ),
    one_of=((_DE_UUID, _DE_UID),),
    uses_home=True,
)  # fmt: skip

# 3.18.4.1.2.3.7.14: FindDocuments plus a required reference id list (Reference ID Option).
_FIND_DOCUMENTS_BY_REFERENCE_ID = StoredQueryDef(
    "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492", "FindDocumentsByReferenceId",
    (
        _req("$XDSDocumentEntryPatientId", _K.PATIENT_ID),
        *_document_filters(),
        ParamDef("$XDSDocumentEntryReferenceIdList", True, True, True, _K.REFERENCE_ID),
        _METADATA_LEVEL,
    ),
)  # fmt: skip

# ITI-51 (3.51.4.1.2): the patient id becomes an optional OR-list. To keep such a query from
# reading the whole registry, FindDocuments needs a class, event or facility type code, and
# FindFolders needs a folder code list.
_FIND_DOCUMENTS_MULTIPLE = StoredQueryDef(
    "urn:uuid:3d1bdb10-39a2-11de-89c2-2f44d94eaa9f", "FindDocumentsForMultiplePatients",
    (_opt("$XDSDocumentEntryPatientId", _K.PATIENT_ID, many=True), *_document_filters()),
    at_least_one_of=((
        "$XDSDocumentEntryClassCode", "$XDSDocumentEntryEventCodeList",
        "$XDSDocumentEntryHealthcareFacilityTypeCode",
    ),),
    transaction="ITI-51",
)  # fmt: skip

_FIND_FOLDERS_MULTIPLE = StoredQueryDef(
    "urn:uuid:50d3f5ac-39a2-11de-a1ca-b366239e58df", "FindFoldersForMultiplePatients",
    _folder_filters(
        _opt("$XDSFolderPatientId", _K.PATIENT_ID, many=True),
        ParamDef("$XDSFolderCodeList", True, True, True, _K.CODE),
    ),
    transaction="ITI-51",
)  # fmt: skip

STORED_QUERIES: tuple[StoredQueryDef, ...] = (
    _FIND_DOCUMENTS, _FIND_SUBMISSION_SETS, _FIND_FOLDERS, _GET_ALL, _GET_DOCUMENTS, _GET_FOLDERS,
    _GET_ASSOCIATIONS, _GET_DOCUMENTS_AND_ASSOCIATIONS, _GET_SUBMISSION_SETS,
    _GET_SUBMISSION_SET_AND_CONTENTS, _GET_FOLDER_AND_CONTENTS, _GET_FOLDERS_FOR_DOCUMENT,
    _GET_RELATED_DOCUMENTS, _FIND_DOCUMENTS_BY_REFERENCE_ID,
    _FIND_DOCUMENTS_MULTIPLE, _FIND_FOLDERS_MULTIPLE,
)  # fmt: skip

#: the parameters naming patients, in any stored query (ITI TF-2 3.18.4.1.2.3.7, 3.51.4.1.2)
PATIENT_PARAMETERS = frozenset(param.name for query in STORED_QUERIES for param in query.params
                               if param.kind is ValueKind.PATIENT_ID)

_BY_ID = {query.id: query for query in STORED_QUERIES}
_BY_NAME = {query.name: query for query in STORED_QUERIES}


def by_id(query_id: str) -> StoredQueryDef | None:
    """The query with this AdhocQuery/@id; None means XDSUnknownStoredQuery.

    UUIDs compare case-insensitively (RFC 4122), so an upper-case id still finds its query.
    """
    return _BY_ID.get(query_id.strip().lower())


def by_name(name: str) -> StoredQueryDef | None:
    return _BY_NAME.get(name)


# --- 3.18.4.1.2.3.5: value syntax ------------------------------------------------------------

_NUMBER = re.compile(r"\d+")


def parse_param_values(raw_values: list[str]) -> list[str]:
    """The values of one Slot: each ValueList/Value is `'text'`, a number, or a list `(v, v, ...)`.

    A quote inside text is written twice (`'Children''s'`). Numbers come back as their digits.
    Raises ValueError saying which Value is wrong and how.
    """
    if not raw_values:
        raise ValueError("the parameter has no values")
    values: list[str] = []
    for raw in raw_values:
        try:
            values += _parse_one_value(raw)
        except ValueError as error:
            raise ValueError(f"invalid parameter value {raw!r}: {error}") from None
    return values


def _parse_one_value(raw: str) -> list[str]:
    text = raw.strip()
    if not text:
        raise ValueError("empty value")
    if text.startswith("("):
        return _parse_list(text)
    value, end = _parse_item(text, 0)
    if end != len(text):
        raise ValueError(f"unexpected text after the value at position {end}")
    return [value]


def _parse_list(text: str) -> list[str]:
    """`(item, item, ...)`: at least one item, commas between, blanks allowed around items."""
    values: list[str] = []
    position = 1
    while True:
        position = _skip_blanks(text, position)
        value, position = _parse_item(text, position)
        values.append(value)
        position = _skip_blanks(text, position)
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        if position < len(text) and text[position] == ")":
            break
        raise ValueError("a list needs ',' between values and ends with ')'")
    if position + 1 != len(text):
        raise ValueError("unexpected text after the closing ')'")
    return values


def _parse_item(text: str, position: int) -> tuple[str, int]:
    """One quoted string or number starting at `position`; returns it and the position after it."""
    if position < len(text) and text[position] == "'":
        return _parse_quoted(text, position + 1)
    match = _NUMBER.match(text, position)
    if match is None:
        raise ValueError("a value must be a number or text in single quotes")
    return match.group(), match.end()


def _parse_quoted(text: str, position: int) -> tuple[str, int]:
    out: list[str] = []
    while (quote := text.find("'", position)) != -1:
        out.append(text[position:quote])
        if text.startswith("''", quote):
            out.append("'")  # an escaped quote, the string goes on
            position = quote + 2
            continue
        return "".join(out), quote + 1
    raise ValueError("text is missing its closing single quote")


def _skip_blanks(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def parse_code(value: str) -> tuple[str, str]:
    """A coded parameter value `code^^scheme` (HL7 CE: code, display name, coding scheme).

    The display name is not used for matching and is ignored; code and scheme are required.
    """
    parts = value.split(COMPONENT)
    if len(parts) != 3:
        raise ValueError(f"invalid code {value!r}: expected code^^scheme")
    code, scheme = unescape(parts[0]), unescape(parts[2])
    if not code:
        raise ValueError(f"invalid code {value!r}: the code is missing")
    if not scheme:
        raise ValueError(f"invalid code {value!r}: the coding scheme is missing (code^^scheme)")
    return code, scheme
