"""Sortable form of HL7 v2 DTM times for stored-query time ranges (ITI TF-2 3.18.4.1.2.3.7;
DTM per ITI TF-3 Table 4.2.3.1.7-2).

Metadata times and the `…TimeFrom` / `…TimeTo` query parameters are both DTMs of any precision
from `YYYY` to `YYYYMMDDHHMMSS[.S[S[S[S]]]]`, optionally with a `+/-ZZZZ` offset. A registry
compares them as instants: `From <= value < To` (From inclusive, To exclusive), where a time
of partial precision stands for the earliest instant it covers (`2004` is 2004-01-01 00:00:00,
`200412` is 2004-12-01 00:00:00, in the DTM's offset when it has one). So
`CreationTimeFrom=2004` and `CreationTimeTo=2005` select every document created in 2004, and
`To=2004` selects only documents created before 2004.

`sortable_time` writes that instant (`profiles.hl7v2.DTM.lower_bound`) as 14 digits in UTC,
`YYYYMMDDHHMMSS`, so that string order is time order on every database. Fractions of a second
are dropped: two times within the same second compare equal. A stored-query module wanting a
different reading of a partial `To` (say, inclusive of the whole period) passes the bound it
means as a full 14-digit DTM.
"""
from __future__ import annotations

from profiles.hl7v2 import DTM


def sortable_time(dtm: str | None) -> str | None:
    """`YYYYMMDDHHMMSS` (UTC) of the earliest instant `dtm` covers; None when not a valid DTM."""
    if dtm is None:
        return None
    try:
        instant = DTM.parse(dtm).lower_bound()
    except ValueError:
        return None
    return (f"{instant.year:04d}{instant.month:02d}{instant.day:02d}"
            f"{instant.hour:02d}{instant.minute:02d}{instant.second:02d}")


def require_sortable_time(dtm: str) -> str:
    """`sortable_time` for query parameters, which must be valid."""
    value = sortable_time(dtm)
    if value is None:
        raise ValueError(f"not an HL7 DTM time: {dtm!r}")
    return value
