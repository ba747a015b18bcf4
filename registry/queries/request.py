"""Decoding query:AdhocQueryRequest into a typed `StoredQuery` (ITI TF-2 3.18.4.1.2: message
semantics; 3.18.4.1.2.3 stored query parameters; 3.18.4.1.2.4 registry actions).

What is checked, and the error each problem gives (ITI TF-3 Table 4.2.4.1-2):

- the body is not a query:AdhocQueryRequest, has no AdhocQuery, or ResponseOption/@returnType
  is not `LeafClass` or `ObjectRef` (3.18.4.1.2.1) → XDSRegistryError;
- AdhocQuery/@id names no stored query of this transaction → XDSUnknownStoredQuery;
- a required parameter is absent, or none of an either/or pair (GetDocuments' entryUUID or
  uniqueId, ...) is given → XDSStoredQueryMissingParam;
- a single-valued parameter carries several values, a parameter without AND semantics comes in
  several Slots (3.18.4.1.2.3.5), or both of an either/or pair are given → XDSStoredQueryParamNumber;
- a value is not coded as 3.18.4.1.2.3.5 says, or is not of its parameter's type (values.py)
  → XDSRegistryError;
- more than `MAX_VALUES` values in all → XDSRegistryError naming the limit: each value is a
  bound parameter of one SELECT, and this keeps every SELECT below the smallest database
  limit (SQLite's default 32,766) while answering any real consumer.

A Slot whose name is not a parameter of the query is ignored and reported as a warning
(XDSRegistryError, severity Warning), so the consumer learns that it did not narrow the query;
the query still runs. The homeCommunityId is AdhocQuery/@home (3.18.4.1.2.3.8); a registry
answers for itself and keeps it only for the caller to see.

Every problem found is reported, not only the first (design: a response lists all issues).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping

from lxml import etree

from profiles.errors import ErrorCode, Issue, Severity
from profiles.stored_queries import ParamDef, StoredQueryDef, by_id, parse_param_values
from profiles.vocabulary import QUERY, RIM

from .values import Value, convert

_ADHOC_QUERY_REQUEST = f"{{{QUERY}}}AdhocQueryRequest"
_RESPONSE_OPTION = f"{{{QUERY}}}ResponseOption"
_ADHOC_QUERY = f"{{{RIM}}}AdhocQuery"
_SLOT = f"{{{RIM}}}Slot"
_VALUE = f"{{{RIM}}}ValueList/{{{RIM}}}Value"

#: parameter values one request may carry in all (see the module docstring)
MAX_VALUES = 20_000


class ReturnType(StrEnum):
    """ResponseOption/@returnType values IHE allows (ITI TF-2 3.18.4.1.2.1)."""

    LEAF_CLASS = "LeafClass"
    OBJECT_REF = "ObjectRef"


#: one tuple of values per Slot of a parameter: OR inside a tuple, AND across tuples
Groups = tuple[tuple[Value, ...], ...]


@dataclass(frozen=True, slots=True)
class StoredQuery:
    """A decoded stored query: which query, how to answer, and its parameter values by name."""

    definition: StoredQueryDef
    return_type: ReturnType
    params: Mapping[str, Groups] = field(default_factory=dict)
    home: str | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def leaf_class(self) -> bool:
        return self.return_type is ReturnType.LEAF_CLASS

    def has(self, name: str) -> bool:
        return name in self.params

    def one(self, name: str) -> Value | None:
        """The value of a single-valued parameter, None when absent."""
        groups = self.params.get(name)
        return groups[0][0] if groups else None

    def any_of(self, name: str) -> tuple[Value, ...] | None:
        """All values of the parameter (an OR-list), None when absent."""
        groups = self.params.get(name)
        return None if groups is None else tuple(v for group in groups for v in group)

    def all_of(self, name: str) -> Groups:
        """The AND-of-ORs of a repeatable parameter: one OR-list per Slot; () when absent."""
        return self.params.get(name, ())


def decode_request(element: etree._Element, transaction: str = "ITI-18",
                   ) -> tuple[StoredQuery | None, list[Issue]]:
    """The StoredQuery of a query:AdhocQueryRequest and the issues found; None on any error."""
    if element.tag != _ADHOC_QUERY_REQUEST:
        return None, [_error(ErrorCode.REGISTRY_ERROR, f"expected query:AdhocQueryRequest, got {element.tag}")]
    issues: list[Issue] = []
    return_type = _return_type(element.find(_RESPONSE_OPTION), issues)
    adhoc = element.find(_ADHOC_QUERY)
    if adhoc is None:
        issues.append(_error(ErrorCode.REGISTRY_ERROR, "the request has no rim:AdhocQuery"))
        return None, issues
    definition = _definition(adhoc.get("id"), transaction, issues)
    if definition is None:
        return None, issues
    params = _params(definition, _slots(adhoc), issues)
    _check_presence(definition, params, issues)
    _check_value_count(definition, params, issues)
    if return_type is None or any(issue.is_error for issue in issues):
        return None, issues
    return StoredQuery(definition, return_type, params, adhoc.get("home")), issues


def _error(code: ErrorCode, context: str, location: str = "") -> Issue:
    return Issue(code, context, Severity.ERROR, location)


def _return_type(option: etree._Element | None, issues: list[Issue]) -> ReturnType | None:
    if option is None:
        issues.append(_error(ErrorCode.REGISTRY_ERROR, "the request has no query:ResponseOption"))
        return None
    # the schema default of returnType is RegistryObject, which IHE does not allow
    value = option.get("returnType", "RegistryObject")
    try:
        return ReturnType(value)
    except ValueError:
        issues.append(_error(ErrorCode.REGISTRY_ERROR, f"ResponseOption/@returnType {value!r} is not "
                                                       "supported: use LeafClass or ObjectRef"))
        return None


def _definition(query_id: str | None, transaction: str, issues: list[Issue]) -> StoredQueryDef | None:
    definition = by_id(query_id) if query_id else None
    if definition is None or definition.transaction != transaction:
        issues.append(_error(ErrorCode.UNKNOWN_STORED_QUERY,
                             f"AdhocQuery/@id {query_id!r} is not a stored query of {transaction}",
                             query_id or ""))
        return None
    return definition


def _slots(adhoc: etree._Element) -> dict[str, list[list[str]]]:
    """Raw Value texts per Slot, grouped by Slot name in document order."""
    slots: dict[str, list[list[str]]] = defaultdict(list)
    for slot in adhoc.iterchildren(_SLOT):
        slots[slot.get("name", "")].append([value.text or "" for value in slot.iterfind(_VALUE)])
    return slots


def _params(definition: StoredQueryDef, slots: dict[str, list[list[str]]],
            issues: list[Issue]) -> dict[str, Groups]:
    params: dict[str, Groups] = {}
    for name, raw_groups in slots.items():
        param = definition.param(name)
        if param is None:
            issues.append(Issue(ErrorCode.REGISTRY_ERROR, f"{name!r} is not a parameter of "
                                f"{definition.name}; it was ignored", Severity.WARNING, name))
            continue
        groups = _param_groups(param, raw_groups, definition.name, issues)
        if groups is not None:
            params[name] = groups
    return params


def _param_groups(param: ParamDef, raw_groups: list[list[str]], query: str,
                  issues: list[Issue]) -> Groups | None:
    """The Slots of one parameter: coding (3.18.4.1.2.3.5), then how many, then each value's type."""
    if len(raw_groups) > 1 and not param.repeatable:
        issues.append(_error(ErrorCode.STORED_QUERY_PARAM_NUMBER, f"{param.name} of {query} may be given "
                             f"in one Slot only, got {len(raw_groups)}", param.name))
        return None
    try:
        parsed = [parse_param_values(raw) for raw in raw_groups]
    except ValueError as error:
        issues.append(_error(ErrorCode.REGISTRY_ERROR, f"{param.name}: {error}", param.name))
        return None
    if not param.multiple and len(parsed[0]) > 1:
        issues.append(_error(ErrorCode.STORED_QUERY_PARAM_NUMBER, f"{param.name} of {query} takes a single "
                             f"value, got {len(parsed[0])}", param.name))
        return None
    try:
        return tuple(tuple(dict.fromkeys(convert(param.kind, v) for v in values)) for values in parsed)
    except ValueError as error:
        issues.append(_error(ErrorCode.REGISTRY_ERROR, f"{param.name}: {error}", param.name))
        return None


def _check_presence(definition: StoredQueryDef, params: Mapping[str, Groups], issues: list[Issue]) -> None:
    """Required parameters and the either/or groups (XDSStoredQueryMissingParam / ParamNumber)."""
    for param in definition.required_params:
        if param.name not in params and not _reported(param.name, issues):
            issues.append(_error(ErrorCode.STORED_QUERY_MISSING_PARAM,
                                 f"{definition.name} requires {param.name}", param.name))
    for group in definition.one_of:
        given = [name for name in group if name in params]
        if len(given) > 1:
            issues.append(_error(ErrorCode.STORED_QUERY_PARAM_NUMBER, f"{definition.name} takes only one "
                                 f"of {', '.join(group)}; got {', '.join(given)}", given[0]))
        elif not given and not any(_reported(name, issues) for name in group):
            issues.append(_error(ErrorCode.STORED_QUERY_MISSING_PARAM, f"{definition.name} requires one of "
                                 f"{', '.join(group)}", group[0]))
    for group in definition.at_least_one_of:
        if not any(name in params or _reported(name, issues) for name in group):
            issues.append(_error(ErrorCode.STORED_QUERY_MISSING_PARAM, f"{definition.name} requires at "
                                 f"least one of {', '.join(group)}", group[0]))


def _check_value_count(definition: StoredQueryDef, params: Mapping[str, Groups],
                       issues: list[Issue]) -> None:
    count = sum(len(group) for groups in params.values() for group in groups)
    if count > MAX_VALUES:
        issues.append(_error(ErrorCode.REGISTRY_ERROR, f"{definition.name} carries {count} parameter "
                             f"values; this registry answers at most {MAX_VALUES} in one query"))


def _reported(name: str, issues: list[Issue]) -> bool:
    """A parameter already reported as wrong counts as given: no second error for it."""
    return any(issue.location == name and issue.is_error for issue in issues)


__all__ = ["MAX_VALUES", "Groups", "ReturnType", "StoredQuery", "decode_request"]
