"""Sortable form of HL7 v2 DTM times for stored-query time ranges (ITI TF-2 3.18.4.1.2.3.7;
DTM per ITI TF-3 Table 4.2.3.1.7-2).

Metadata times and the `…TimeFrom` / `…TimeTo` query parameters are both DTMs of any precision
from `YYYY` to `YYYYMMDDHHMMSS[.S[S[S[S]]]]`, optionally with a `+/-ZZZZ` offset. A registry
compares them as instants: `From <= value < To` (From inclusive, To exclusive), where a time
of partial precision stands for the earliest instant it covers (`2004` is 2004-01-01 00:00:00,
`200412` is 2004-12-01 00:00:00, in the DTM's offset when it has one). So `CreationTimeFrom=2004` and `CreationTimeTo=2005` select
every document created in 2004, and `To=2004` selects only documents created before 2004.

`sortable_time` writes that instant as 14 digits in UTC, `YYYYMMDDHHMMSS`, so that string
order is time order on every database. Fractions of a second are dropped: two times within
the same second compare equal.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DTM = re.compile(r"(\d{4}(?:\d{2}){0,4}|\d{14}(?:\.\d{1,4})?)([+-]\d{4})?")
_PADDING = "0101000000"  # month and day 01, hour, minute and second 00


def sortable_time(dtm: str | None) -> str | None:
    """`YYYYMMDDHHMMSS` (UTC) of the earliest instant `dtm` covers; None when not a valid DTM."""
    if dtm is None:
        return None
    match = _DTM.fullmatch(dtm.strip())
    if not match:
        return None
    digits, offset = match.groups()
    digits = digits[:14]
    full = digits + _PADDING[len(digits) - 4:]
    try:
        instant = datetime.strptime(full, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    if offset:
        instant = _to_utc(instant, offset)
        if instant is None:
            return None
    return (f"{instant.year:04d}{instant.month:02d}{instant.day:02d}"
            f"{instant.hour:02d}{instant.minute:02d}{instant.second:02d}")


def _to_utc(local: datetime, offset: str) -> datetime | None:
    hours, minutes = int(offset[1:3]), int(offset[3:5])
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    zone = timezone(delta if offset[0] == "+" else -delta)
    try:
        return local.replace(tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:
        return None


def require_sortable_time(dtm: str) -> str:
    """`sortable_time` for query parameters, which must be valid."""
    value = sortable_time(dtm)
    if value is None:
        raise ValueError(f"not an HL7 DTM time: {dtm!r}")
    return value
