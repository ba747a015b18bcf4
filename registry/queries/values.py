"""Typed values of stored-query parameters (ITI TF-2 3.18.4.1.2.3.5 value coding, 3.18.4.1.2.3.7
parameter tables): each `ValueKind` of `profiles.stored_queries` is checked and converted here.

A value that cannot mean anything for its parameter (a code without `^^scheme`, a time that is
not an HL7 DTM, an unknown DocumentEntry type, a `$MetadataLevel` other than 1 or 2) raises
ValueError, which the decoder reports as XDSRegistryError: ITI TF-3 Table 4.2.4.1-2 has no more
specific code for a malformed parameter value. Values that are well formed but match nothing
(an unknown status or association type) are kept: they simply select nothing.
"""
from __future__ import annotations

from typing import Callable

from profiles.hl7v2 import DTM
from profiles.stored_queries import ValueKind, parse_code
from profiles.vocabulary import LEGACY_ASSOCIATION_TYPES, AvailabilityStatus, ObjectType

#: a converted value: text, or (code, scheme) for coded parameters
Value = str | tuple[str, str]

DOCUMENT_ENTRY_TYPES = frozenset({ObjectType.STABLE_DOCUMENT.value, ObjectType.ON_DEMAND_DOCUMENT.value})
METADATA_LEVELS = frozenset({"1", "2"})
_SHORT_STATUSES = {status.value.rsplit(":", 1)[1]: status.value for status in AvailabilityStatus}


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("empty value")
    return value.strip()


def _time(value: str) -> str:
    DTM.parse(value)  # raises ValueError saying what is wrong
    return value.strip()


def _status(value: str) -> str:
    """A full StatusType URN; the short form (`Approved`) some peers send is widened."""
    text = _text(value)
    return _SHORT_STATUSES.get(text, text)


def _association_type(value: str) -> str:
    text = _text(value)
    legacy = LEGACY_ASSOCIATION_TYPES.get(text)
    return legacy.value if legacy is not None else text


def _entry_type(value: str) -> str:
    text = _text(value)
    if text not in DOCUMENT_ENTRY_TYPES:
        raise ValueError(f"{text!r} is not a DocumentEntry type (stable "
                         f"{ObjectType.STABLE_DOCUMENT.value} or on-demand "
                         f"{ObjectType.ON_DEMAND_DOCUMENT.value})")
    return text


def _metadata_level(value: str) -> str:
    text = _text(value)
    if text not in METADATA_LEVELS:
        raise ValueError(f"$MetadataLevel is 1 or 2, not {text!r}")
    return text


_CONVERTERS: dict[ValueKind, Callable[[str], Value]] = {
    ValueKind.PATIENT_ID: _text,
    ValueKind.CODE: parse_code,
    ValueKind.TIME: _time,
    ValueKind.STATUS: _status,
    ValueKind.UUID: _text,
    ValueKind.UNIQUE_ID: _text,
    ValueKind.OID: _text,
    ValueKind.AUTHOR: _text,
    ValueKind.ENTRY_TYPE: _entry_type,
    ValueKind.ASSOCIATION_TYPE: _association_type,
    ValueKind.REFERENCE_ID: _text,
    ValueKind.NUMBER: _metadata_level,
}


def convert(kind: ValueKind, value: str) -> Value:
    """`value` (already unquoted) as the typed value of a parameter of `kind`; ValueError if bad."""
    return _CONVERTERS[kind](value)


__all__ = ["DOCUMENT_ENTRY_TYPES", "METADATA_LEVELS", "Value", "convert"]
