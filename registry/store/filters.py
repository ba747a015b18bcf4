"""SELECT builders for the filtering stored queries (ITI TF-2 3.18.4.1.2.3.7.1 FindDocuments,
3.18.4.1.2.3.7.2 FindSubmissionSets, 3.18.4.1.2.3.7.3 FindFolders, ITI TF-2 3.51 multi-patient
variants, FindDocumentsByReferenceId).

Each builder returns one SELECT of entry UUIDs in insert order, which the stored-query module
can narrow further (`.where(...)`) or use as a subquery. Parameter semantics:

- a list of codes matches when the object's code equals any of them (OR); a code given with
  a scheme must match both, one given with scheme None matches on the code alone;
- `$XDSDocumentEntryEventCodeList`, `$XDSDocumentEntryConfidentialityCode`,
  `$XDSFolderCodeList` and `$XDSDocumentEntryReferenceIdList` accept several lists
  (3.18.4.1.2.3.5 AND/OR semantics): the object must match every list, each list being an
  OR; each list is one EXISTS subquery;
- times: `From <= value < To` on the normalized form of `registry.store.times`; an object
  without the attribute never matches a time filter on it;
- author person (and the other author attributes): SQL LIKE with `%` and `_` as the only
  wildcards (3.18.4.1.2.3.3), case-insensitive; several patterns are ORed;
- `limit` caps the number of UUIDs (ask for max+1 to detect XDSTooManyResults).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select

from .schema import (
    AuthorAttribute, CodeAttribute, ObjectKind, author_value, document_entry, folder, object_code,
    reference_id, registry_object, submission_set,
)
from .times import require_sortable_time

#: (code, coding scheme); scheme None matches any scheme
CodeCriterion = tuple[str, str | None]
CodeList = Sequence[CodeCriterion]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """`start <= value < end` on DTM wire strings of any precision; None leaves a side open."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentCriteria:
    """FindDocuments-style filters; None or empty means "not filtered"."""

    patient_ids: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    object_types: Sequence[str] | None = None
    class_codes: CodeList | None = None
    type_codes: CodeList | None = None
    practice_setting_codes: CodeList | None = None
    healthcare_facility_type_codes: CodeList | None = None
    format_codes: CodeList | None = None
    event_codes: Sequence[CodeList] = ()
    confidentiality_codes: Sequence[CodeList] = ()
    creation_time: TimeRange | None = None
    service_start_time: TimeRange | None = None
    service_stop_time: TimeRange | None = None
    author_persons: Sequence[str] | None = None
    reference_ids: Sequence[Sequence[str]] = ()
    entry_uuids: Sequence[str] | None = None
    limit: int | None = None


def document_query(criteria: DocumentCriteria) -> Select:
    """SELECT entry_uuid of the DocumentEntries matching `criteria`, in insert order."""
    ro, de = registry_object, document_entry
    conditions: list[ColumnElement[bool]] = [ro.c.kind == ObjectKind.DOCUMENT_ENTRY.value]
    conditions += _common(criteria.patient_ids, criteria.statuses, criteria.entry_uuids)
    conditions += _in(de.c.object_type, criteria.object_types)
    for prefix, codes in (("class", criteria.class_codes), ("type", criteria.type_codes),
                          ("practice_setting", criteria.practice_setting_codes),
                          ("facility_type", criteria.healthcare_facility_type_codes),
                          ("format", criteria.format_codes)):
        if codes is not None:
            conditions.append(code_match(de.c[f"{prefix}_code"], de.c[f"{prefix}_scheme"], codes))
    conditions += code_groups(CodeAttribute.EVENT_CODE, criteria.event_codes)
    conditions += code_groups(CodeAttribute.CONFIDENTIALITY_CODE, criteria.confidentiality_codes)
    conditions += time_range(de.c.creation_time, criteria.creation_time)
    conditions += time_range(de.c.service_start_time, criteria.service_start_time)
    conditions += time_range(de.c.service_stop_time, criteria.service_stop_time)
    if criteria.author_persons is not None:
        conditions.append(author_match(AuthorAttribute.PERSON, criteria.author_persons))
    conditions += [_has_reference_id(group) for group in criteria.reference_ids]
    query = select(ro.c.entry_uuid).select_from(ro.join(de, de.c.entry_uuid == ro.c.entry_uuid))
    return _finish(query, conditions, criteria.limit)


def submission_set_query(*, patient_ids: Sequence[str] | None = None,
                         statuses: Sequence[str] | None = None,
                         source_ids: Sequence[str] | None = None,
                         submission_time: TimeRange | None = None,
                         author_persons: Sequence[str] | None = None,
                         content_type_codes: CodeList | None = None,
                         entry_uuids: Sequence[str] | None = None,
                         limit: int | None = None) -> Select:
    """SELECT entry_uuid of the SubmissionSets matching FindSubmissionSets-style filters."""
    ro, ss = registry_object, submission_set
    conditions = [ro.c.kind == ObjectKind.SUBMISSION_SET.value,
                  *_common(patient_ids, statuses, entry_uuids), *_in(ss.c.source_id, source_ids),
                  *time_range(ss.c.submission_time, submission_time)]
    if author_persons is not None:
        conditions.append(author_match(AuthorAttribute.PERSON, author_persons))
    if content_type_codes is not None:
        conditions.append(code_match(ss.c.content_type_code, ss.c.content_type_scheme,
                                     content_type_codes))
    query = select(ro.c.entry_uuid).select_from(ro.join(ss, ss.c.entry_uuid == ro.c.entry_uuid))
    return _finish(query, conditions, limit)


def folder_query(*, patient_ids: Sequence[str] | None = None,
                 statuses: Sequence[str] | None = None,
                 last_update_time: TimeRange | None = None, codes: Sequence[CodeList] = (),
                 entry_uuids: Sequence[str] | None = None, limit: int | None = None) -> Select:
    """SELECT entry_uuid of the Folders matching FindFolders-style filters."""
    ro, fd = registry_object, folder
    conditions = [ro.c.kind == ObjectKind.FOLDER.value,
                  *_common(patient_ids, statuses, entry_uuids),
                  *time_range(fd.c.last_update_time, last_update_time),
                  *code_groups(CodeAttribute.FOLDER_CODE, codes)]
    query = select(ro.c.entry_uuid).select_from(ro.join(fd, fd.c.entry_uuid == ro.c.entry_uuid))
    return _finish(query, conditions, limit)


def _finish(query: Select, conditions: list[ColumnElement[bool]], limit: int | None) -> Select:
    query = query.where(*conditions).order_by(registry_object.c.submission_id,
                                              registry_object.c.position)
    return query.limit(limit) if limit is not None else query


def _common(patient_ids, statuses, entry_uuids) -> list[ColumnElement[bool]]:
    ro = registry_object
    return [*_in(ro.c.patient_id, patient_ids), *_in(ro.c.status, statuses),
            *_in(ro.c.entry_uuid, entry_uuids)]


def _in(column, values: Sequence[str] | None) -> list[ColumnElement[bool]]:
    if values is None:
        return []
    values = list(dict.fromkeys(values))
    if len(values) == 1:
        return [column == values[0]]
    return [column.in_(values)]


#: distinct coding schemes up to which a code list becomes `scheme = ? AND code IN (…)` per
#: scheme; above it, one IN over `code || US || scheme`. One OR term per code would not do:
#: SQLite refuses `a OR b OR …` deeper than 1,000 terms, and SQLAlchemy compiles 10,000 terms
#: in seconds, where an IN list is one expanding parameter.
SCHEME_TERMS = 16
#: joins code and scheme in `code || US || scheme`; XML 1.0 text cannot hold U+001F
_UNIT_SEPARATOR = "\x1f"


def code_match(code_column, scheme_column, codes: CodeList) -> ColumnElement[bool]:
    """The (code, scheme) columns equal one of `codes`; an empty list matches nothing."""
    by_scheme: dict[str | None, list[str]] = {}
    for code, scheme in dict.fromkeys((c, s or None) for c, s in codes):
        by_scheme.setdefault(scheme, []).append(code)
    terms = _in(code_column, by_scheme.pop(None, None))
    if len(by_scheme) <= SCHEME_TERMS:
        terms += [and_(scheme_column == scheme, *_in(code_column, in_scheme))
                  for scheme, in_scheme in by_scheme.items()]
    else:
        keys = [code + _UNIT_SEPARATOR + scheme for scheme, in_scheme in by_scheme.items()
                for code in in_scheme]
        terms += _in(code_column + _UNIT_SEPARATOR + scheme_column, keys)
    return or_(false(), *terms)


def code_groups(attribute: CodeAttribute, groups: Sequence[CodeList]) -> list[ColumnElement[bool]]:
    """One EXISTS per OR-list in `groups`; together they are ANDed."""
    oc, ro = object_code, registry_object
    return [exists().where(oc.c.entry_uuid == ro.c.entry_uuid, oc.c.attribute == attribute.value,
                           code_match(oc.c.code, oc.c.scheme, group))
            for group in groups]


def time_range(column, bounds: TimeRange | None) -> list[ColumnElement[bool]]:
    if bounds is None:
        return []
    conditions = []
    if bounds.start is not None:
        conditions.append(column >= require_sortable_time(bounds.start))
    if bounds.end is not None:
        conditions.append(column < require_sortable_time(bounds.end))
    return conditions


def like_pattern(pattern: str) -> str:
    """`pattern` for LIKE … ESCAPE '\\': only `%` and `_` stay wildcards, case folded."""
    return pattern.lower().replace("\\", "\\\\")


#: LIKE terms per EXISTS: SQLite refuses `a OR b OR …` deeper than 1,000 terms, so a long
#: pattern list becomes an OR of EXISTS subqueries of at most this many LIKEs each
LIKES_PER_EXISTS = 100


def author_match(attribute: AuthorAttribute, patterns: Sequence[str]) -> ColumnElement[bool]:
    """Some author value of `attribute` is LIKE one of `patterns` (ORed)."""
    av, ro = author_value, registry_object
    likes = [av.c.value_folded.like(like_pattern(p), escape="\\")
             for p in dict.fromkeys(patterns)]
    return or_(false(), *(
        exists().where(av.c.entry_uuid == ro.c.entry_uuid, av.c.attribute == attribute.value,
                       or_(false(), *likes[start:start + LIKES_PER_EXISTS]))
        for start in range(0, len(likes), LIKES_PER_EXISTS)))


def _has_reference_id(values: Sequence[str]) -> ColumnElement[bool]:
    rf, ro = reference_id, registry_object
    if not values:
        return false()
    return exists().where(rf.c.entry_uuid == ro.c.entry_uuid, *_in(rf.c.value, values))


__all__ = [
    "CodeCriterion", "CodeList", "DocumentCriteria", "TimeRange", "author_match", "code_groups",
    "code_match", "document_query", "folder_query", "like_pattern", "submission_set_query",
    "time_range",
]
