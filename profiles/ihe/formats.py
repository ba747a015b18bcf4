"""Value formats of XDS metadata attributes (ITI TF-3 4.2.3.1.7 Table 4.2.3.1.7-2 "Data Types",
and the attribute definitions of 4.2.3.2 DocumentEntry, 4.2.3.3 SubmissionSet, 4.2.3.4 Folder).

Each rule checks one attribute (or one family) wherever it occurs and reports the object, the
attribute, the value found and what is allowed. Absent values are not reported here: whether an
attribute must be present is the optionality rules' concern.
"""
from __future__ import annotations

import re
from typing import Callable, Iterator

from ..errors import Issue
from ..hl7v2 import DTM, is_oid
from ..model import Code, DocumentEntry, Folder, RegistryObjectBase, Submission, SubmissionSet
from ..rules import Rule, Transaction, ValidationContext, rule
from ..vocabulary import DocumentAvailability, ObjectType
from .common import is_uuid_urn, metadata_issue, objects_of

DTM_SYNTAX = "YYYY[MM[DD[hh[mm[ss]]]]] in UTC"
_HASH = re.compile(r"[0-9a-fA-F]{40}")
_SIZE = re.compile(r"[0-9]+")
# RFC 3066: a primary subtag of 1-8 letters, then subtags of 1-8 letters or digits.
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
# RFC 2045 type "/" subtype, each a token (no controls, space or tspecials), optional parameters.
_TOKEN = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"
_MIME = re.compile(rf"{_TOKEN}/{_TOKEN}(?:\s*;\s*{_TOKEN}=(?:{_TOKEN}|\"[^\"]*\"))*")
_DOCUMENT_UNIQUE_ID_MAX_BYTES = 128
_EXTENSION_MAX_CHARS = 16

Getter = Callable[[object], str | None]


# --- date-times ---------------------------------------------------------------------------

def dtm_problem(value: str) -> str | None:
    """Why `value` is not an XDS DTM, or None when it is one."""
    try:
        moment = DTM.parse(value)
    except ValueError as error:
        reason = str(error).split(": ", 1)[-1]
        return "wrong number of digits or not digits" if reason.startswith("expected") else reason
    problems = moment.xds_problems()
    if value != value.strip():
        problems.insert(0, "surrounding white space is not allowed")
    return "; ".join(problems) or None


def dtm_rule(name: str, kind: type, attribute: str, getter: Getter) -> Rule:
    """A rule checking that one date-time attribute of `kind` objects is an XDS DTM."""

    def check(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
        for obj in objects_of(submission, kind):
            value = getter(obj)
            if value is not None and (problem := dtm_problem(value)):
                yield metadata_issue(context, obj, f"{attribute} {value!r} is not a DTM ({DTM_SYNTAX}): {problem}")

    return Rule(name, check)


CREATION_TIME = dtm_rule("document-entry.creation-time", DocumentEntry, "creationTime", lambda d: d.creation_time)
SERVICE_START_TIME = dtm_rule(
    "document-entry.service-start-time", DocumentEntry, "serviceStartTime", lambda d: d.service_start_time
)
SERVICE_STOP_TIME = dtm_rule(
    "document-entry.service-stop-time", DocumentEntry, "serviceStopTime", lambda d: d.service_stop_time
)
SUBMISSION_TIME = dtm_rule(
    "submission-set.submission-time", SubmissionSet, "submissionTime", lambda s: s.submission_time
)
LAST_UPDATE_TIME = dtm_rule("folder.last-update-time", Folder, "lastUpdateTime", lambda f: f.last_update_time)


# --- unique ids and OIDs -------------------------------------------------------------------

def oid_rule(name: str, kind: type, attribute: str, getter: Getter) -> Rule:
    """A rule checking that one attribute of `kind` objects is an OID of at most 64 characters
    (ITI TF-3 4.2.3.1.6 and Table 4.2.3.1.7-2 "OID")."""

    def check(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
        for obj in objects_of(submission, kind):
            value = getter(obj)
            if value is not None and not is_oid(value):
                yield metadata_issue(
                    context, obj, f"{attribute} {value!r} is not an OID (digits and dots, at most 64 characters)"
                )

    return Rule(name, check)


SUBMISSION_SET_UNIQUE_ID = oid_rule("submission-set.unique-id", SubmissionSet, "uniqueId", lambda s: s.unique_id)
SUBMISSION_SET_SOURCE_ID = oid_rule("submission-set.source-id", SubmissionSet, "sourceId", lambda s: s.source_id)
FOLDER_UNIQUE_ID = oid_rule("folder.unique-id", Folder, "uniqueId", lambda f: f.unique_id)
REPOSITORY_UNIQUE_ID = oid_rule(
    "document-entry.repository-unique-id", DocumentEntry, "repositoryUniqueId", lambda d: d.repository_unique_id
)


def document_unique_id_problem(value: str) -> str | None:
    """ITI TF-3 4.2.3.2.26: at most 128 bytes; `OID^extension` with an OID of at most 64
    characters and an extension of at most 16; a value of digits and dots must be an OID. Other
    forms are left to the document format (formatCode) and accepted."""
    if len(value.encode("utf-8")) > _DOCUMENT_UNIQUE_ID_MAX_BYTES:
        return f"longer than {_DOCUMENT_UNIQUE_ID_MAX_BYTES} bytes"
    if "^" in value:
        root, _, extension = value.partition("^")
        if not is_oid(root):
            return f"root {root!r} before '^' is not an OID of at most 64 characters"
        if not extension or "^" in extension or len(extension) > _EXTENSION_MAX_CHARS:
            return f"extension {extension!r} after '^' must be 1-{_EXTENSION_MAX_CHARS} characters"
        return None
    if re.fullmatch(r"[0-9.]+", value) and not is_oid(value):
        return "not a valid OID of at most 64 characters"
    if not value.strip() or value != value.strip():
        return "empty or surrounded by white space"
    return None


@rule("document-entry.unique-id")
def document_unique_id(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    for entry in submission.document_entries:
        if entry.unique_id is not None and (problem := document_unique_id_problem(entry.unique_id)):
            yield metadata_issue(
                context, entry, f"uniqueId {entry.unique_id!r} is not OID or OID^extension: {problem}"
            )


@rule("home-community-id.format")
def home_community_id(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """homeCommunityId is `urn:oid:` and an OID (ITI TF-3 4.2.3.2.12)."""
    for obj in submission.objects():
        if obj.home is not None and not (obj.home.startswith("urn:oid:") and is_oid(obj.home[8:])):
            yield metadata_issue(context, obj, f"homeCommunityId {obj.home!r} is not urn:oid: followed by an OID")


# --- entry ids ------------------------------------------------------------------------------

@rule("ids.entry-uuid")
def entry_uuid(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """entryUUID (the id attribute) is `urn:uuid:` + a UUID, or in a submission a symbolic id
    (ITI TF-3 4.2.3.2.7, 4.2.3.3.5, 4.2.3.4.4); registry metadata carries UUIDs only."""
    for obj in submission.objects():
        if not obj.id:
            continue
        if obj.id.startswith("urn:uuid:"):
            if not is_uuid_urn(obj.id):
                yield metadata_issue(context, obj, f"entryUUID {obj.id!r} starts with urn:uuid: but is not a UUID")
        elif not context.transaction.is_submission:
            yield metadata_issue(context, obj, f"entryUUID {obj.id!r} is symbolic; registry metadata has urn:uuid: ids")


@rule("ids.logical-id")
def logical_id(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """logicalID (lid) is a `urn:uuid:` UUID, never symbolic; lid differs from id only in an
    Update Document Set (ITI TF-3 4.2.3.2.32 and 4.2.3.4 logicalID)."""
    for obj in submission.objects():
        if obj.lid is None:
            continue
        if not is_uuid_urn(obj.lid):
            yield metadata_issue(context, obj, f"logicalID {obj.lid!r} is not urn:uuid: followed by a UUID")
        elif obj.lid != obj.id and context.transaction in (Transaction.PROVIDE_AND_REGISTER, Transaction.REGISTER):
            yield metadata_issue(
                context, obj, f"logicalID {obj.lid!r} differs from entryUUID {obj.id!r}; only ITI-57 may do that"
            )


# --- DocumentEntry values -------------------------------------------------------------------

@rule("document-entry.hash")
def document_hash(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """hash: the SHA-1 of the document as 40 hexadecimal digits (ITI TF-3 4.2.3.2.10)."""
    for entry in submission.document_entries:
        if entry.hash is not None and not _HASH.fullmatch(entry.hash):
            yield metadata_issue(context, entry, f"hash {entry.hash!r} is not a SHA-1 in 40 hexadecimal digits")


@rule("document-entry.size")
def document_size(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """size: the document's length in bytes, a non-negative integer (ITI TF-3 4.2.3.2.21)."""
    for entry in submission.document_entries:
        if entry.size is not None and not _SIZE.fullmatch(entry.size):
            yield metadata_issue(context, entry, f"size {entry.size!r} is not a non-negative integer of digits")


@rule("document-entry.language-code")
def language_code(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """languageCode: an RFC 3066 language tag such as en-US or nb-NO (ITI TF-3 4.2.3.2.13)."""
    for entry in submission.document_entries:
        if entry.language_code is not None and not _LANGUAGE.fullmatch(entry.language_code):
            yield metadata_issue(
                context, entry,
                f"languageCode {entry.language_code!r} is not an RFC 3066 tag (letters, then -subtags, e.g. en-US)",
            )


@rule("document-entry.mime-type")
def mime_type(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """mimeType: an RFC 2045 media type, type/subtype (ITI TF-3 4.2.3.2.15)."""
    for entry in submission.document_entries:
        if entry.mime_type is not None and not _MIME.fullmatch(entry.mime_type):
            yield metadata_issue(context, entry, f"mimeType {entry.mime_type!r} is not a MIME type (type/subtype)")


@rule("document-entry.object-type")
def object_type(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """objectType: Stable in ITI-41/42/57; registry metadata may also hold On-Demand entries
    (ITI TF-3 4.2.3.2.30)."""
    allowed = {ObjectType.STABLE_DOCUMENT}
    if not context.transaction.is_submission:
        allowed.add(ObjectType.ON_DEMAND_DOCUMENT)
    for entry in submission.document_entries:
        if entry.object_type and entry.object_type not in allowed:
            names = " or ".join(sorted(allowed))
            yield metadata_issue(
                context, entry, f"objectType {entry.object_type!r} is not allowed here; expected {names}"
            )


@rule("document-entry.document-availability")
def document_availability(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """documentAvailability: Online or Offline (ITI TF-3 4.2.3.2.31)."""
    allowed = {a.value for a in DocumentAvailability}
    for entry in submission.document_entries:
        value = entry.document_availability
        if value is not None and value not in allowed:
            yield metadata_issue(
                context, entry, f"documentAvailability {value!r} is not one of {', '.join(sorted(allowed))}"
            )


# --- coded values ---------------------------------------------------------------------------

def _codes(obj: RegistryObjectBase) -> Iterator[tuple[str, Code]]:
    if isinstance(obj, DocumentEntry):
        for attribute, code in (
            ("classCode", obj.class_code), ("typeCode", obj.type_code), ("formatCode", obj.format_code),
            ("healthcareFacilityTypeCode", obj.healthcare_facility_type_code),
            ("practiceSettingCode", obj.practice_setting_code),
        ):  # fmt: skip
            if code is not None:
                yield attribute, code
        yield from (("confidentialityCode", code) for code in obj.confidentiality_codes)
        yield from (("eventCodeList", code) for code in obj.event_codes)
    elif isinstance(obj, SubmissionSet) and obj.content_type_code is not None:
        yield "contentTypeCode", obj.content_type_code
    elif isinstance(obj, Folder):
        yield from (("codeList", code) for code in obj.codes)


@rule("codes.complete")
def codes_complete(submission: Submission, context: ValidationContext) -> Iterator[Issue]:
    """Every coded value has a code (nodeRepresentation) and a codingScheme (ITI TF-3 4.2.3.1.2)."""
    for obj in submission.objects():
        for attribute, code in _codes(obj):
            if not code.code:
                yield metadata_issue(context, obj, f"{attribute} has no code value (nodeRepresentation is empty)")
            if not code.scheme:
                yield metadata_issue(context, obj, f"{attribute} {code.code!r} has no codingScheme")


RULES = (
    entry_uuid, logical_id, home_community_id,
    document_unique_id, SUBMISSION_SET_UNIQUE_ID, FOLDER_UNIQUE_ID, SUBMISSION_SET_SOURCE_ID, REPOSITORY_UNIQUE_ID,
    CREATION_TIME, SERVICE_START_TIME, SERVICE_STOP_TIME, SUBMISSION_TIME, LAST_UPDATE_TIME,
    document_hash, document_size, language_code, mime_type, object_type, document_availability,
    codes_complete,
)  # fmt: skip
