"""DTM → sortable UTC string: partial precision stands for its earliest instant."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from registry.store.times import require_sortable_time, sortable_time


@pytest.mark.parametrize("dtm, expected", [
    ("2004", "20040101000000"),
    ("200412", "20041201000000"),
    ("20041224", "20041224000000"),
    ("2004122410", "20041224100000"),
    ("200412241030", "20041224103000"),
    ("20041224103059", "20041224103059"),
    ("20041224103059.1234", "20041224103059"),
    ("20041224103059+0100", "20041224093059"),
    ("200412241030-0230", "20041224130000"),
    ("20050101003000+0100", "20041231233000"),
    (" 20041224 ", "20041224000000"),
])
def test_valid_dtm(dtm, expected):
    assert sortable_time(dtm) == expected


@pytest.mark.parametrize("dtm", [None, "", "04", "20041", "2004-12-24", "20041324", "20040230",
                                 "2004.5", "20041224103060", "20041224+1", "20041224103059+2400"])
def test_invalid_dtm(dtm):
    assert sortable_time(dtm) is None


def test_query_parameters_must_be_valid():
    with pytest.raises(ValueError):
        require_sortable_time("yesterday")


instants = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))


@given(instants, instants)
def test_string_order_is_time_order(a, b):
    sa, sb = sortable_time(a.strftime("%Y%m%d%H%M%S")), sortable_time(b.strftime("%Y%m%d%H%M%S"))
    a, b = a.replace(microsecond=0), b.replace(microsecond=0)
    assert (sa < sb) == (a < b) and (sa == sb) == (a == b)


@given(instants, st.sampled_from([4, 6, 8, 10, 12, 14]))
def test_partial_precision_is_the_earliest_instant_covered(instant, digits):
    full = instant.strftime("%Y%m%d%H%M%S")
    partial = sortable_time(full[:digits])
    assert partial <= sortable_time(full)
    assert partial == full[:digits] + "0101000000"[digits - 4:]


@given(instants, st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_offsets_are_converted_to_utc(instant, minutes):
    sign = "+" if minutes >= 0 else "-"
    offset = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    expected = (instant.replace(microsecond=0) - timedelta(minutes=minutes)).strftime("%Y%m%d%H%M%S")
    assert sortable_time(instant.strftime("%Y%m%d%H%M%S") + offset) == expected
