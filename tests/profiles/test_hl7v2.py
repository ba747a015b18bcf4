"""HL7 v2.5 datatypes of ITI TF-3 Table 4.2.3.1.7-2: known values, escaping, XDS checks, round trips."""
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiles.hl7v2 import (
    CX, DTM, HD, XCN, XON, XTN, escape, is_oid, split_repetitions, unescape,
)  # fmt: skip

NO_PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
IHE_PATIENT = "ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO"
NO_PERSON = "565505933^Lege^Kari^^^^^^&2.16.578.1.12.4.1.4.4&ISO"
NO_ORGANIZATION = "Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880"
EMAIL = "^^Internet^name@example.org"


# --- escaping ----------------------------------------------------------------------------------

def test_escape_replaces_every_delimiter():
    assert escape("a|b^c&d~e\\f") == r"a\F\b\S\c\T\d\R\e\E\f"


def test_unescape_reverses_escape():
    assert unescape(r"a\F\b\S\c\T\d\R\e\E\f") == "a|b^c&d~e\\f"


@pytest.mark.parametrize("text", [r"\X0D0A\ line", r"\H\bold\N\ ", "ends with \\", r"\.br\ "])
def test_unescape_keeps_unknown_and_unterminated_escapes(text):
    assert unescape(text) == text


def test_escaped_delimiters_survive_inside_components():
    person = XCN.parse(r"1^O\S\Brien\T\Co^Ann")
    assert person.family_name == "O^Brien&Co"
    assert person.format() == r"1^O\S\Brien\T\Co^Ann"


def test_split_repetitions():
    assert split_repetitions("a^b~c^d") == ["a^b", "c^d"]
    assert split_repetitions("") == []


# --- known values ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [NO_PATIENT, IHE_PATIENT])
def test_patient_ids_parse_and_are_valid(text):
    patient = CX.parse(text)
    assert patient.format() == text
    assert patient.xds_problems() == []


def test_norwegian_patient_id_components():
    patient = CX.parse(NO_PATIENT)
    assert patient.id_number == "13116900216"
    assert patient.assigning_authority == HD("", "2.16.578.1.12.4.1.4.1", "ISO")


def test_norwegian_person():
    person = XCN.parse(NO_PERSON)
    assert (person.id_number, person.family_name, person.given_name) == ("565505933", "Lege", "Kari")
    assert person.assigning_authority.universal_id == "2.16.578.1.12.4.1.4.4"
    assert person.format() == NO_PERSON
    assert person.xds_problems() == []
    assert not person.id_without_authority


def test_norwegian_organization():
    organization = XON.parse(NO_ORGANIZATION)
    assert organization.organization_name == "Finnmarkssykehuset HF"
    assert organization.assigning_authority.universal_id == "2.16.578.1.12.4.1.4.101"
    assert organization.identifier == "983974880"
    assert organization.format() == NO_ORGANIZATION
    assert organization.xds_problems() == []


def test_email_telecom():
    telecom = XTN.parse(EMAIL)
    assert (telecom.equipment_type, telecom.email) == ("Internet", "name@example.org")
    assert telecom.format() == EMAIL
    assert telecom.xds_problems() == []


def test_phone_telecom():
    telecom = XTN.parse("^PRN^PH^^47^^22334455")
    assert telecom.local_number == "22334455"
    assert telecom.xds_problems() == []


def test_name_only_person_is_valid():
    assert XCN.parse("^Welby^Marcus^^^Dr").xds_problems() == []


def test_lenient_parse_fills_missing_components():
    assert CX.parse("123") == CX(id_number="123")
    assert XCN.parse("") == XCN()


def test_format_trims_trailing_empties():
    assert CX(id_number="1", assigning_authority=HD(universal_id="1.2")).format() == "1^^^&1.2"
    assert XCN.parse("1^Doe^^^^^^^^^^").format() == "1^Doe"
    assert HD("", "1.2.3", "").format() == "^1.2.3"


def test_unnamed_components_are_kept_raw():
    patient = CX.parse("1^^^&1.2&ISO^PI^Fac&1.3&ISO")
    assert patient.identifier_type_code == "PI"
    assert patient.others == ((6, "Fac&1.3&ISO"),)
    assert patient.format() == "1^^^&1.2&ISO^PI^Fac&1.3&ISO"


def test_others_must_not_shadow_named_components():
    with pytest.raises(ValueError):
        CX(others=((4, "x"),))
    with pytest.raises(ValueError):
        CX(others=((2, "a^b"),))


# --- XDS problems ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("^^^&1.2.3&ISO", "CX.1 (id number) is missing"),
        ("1", "CX.4 (assigning authority) is missing"),
        ("1^^^&1.2.3&L", "CX.4.3 (universal id type) must be 'ISO', found 'L'"),
        ("1^^^&abc&ISO", "CX.4.2 (universal id) must be an ISO OID, found 'abc'"),
        ("1^^^&&ISO", "CX.4.2 (universal id) is missing"),
        ("1^^^NS&1.2.3&ISO", "CX.4.1 (namespace id) must be empty, found 'NS'"),
        ("1^7^^&1.2.3&ISO", "CX.2 must be empty in XDS"),
        ("1^^^&1.2.3&ISO^PI", "CX.5 must be empty in XDS"),
        ("1^^^&1.2.3&ISO^^^^20240101", "CX.8 must be empty in XDS"),
    ],
)
def test_patient_id_problems(text, expected):
    assert expected in CX.parse(text).xds_problems()


def test_person_needs_id_or_family_name():
    assert XCN.parse("^^Kari").xds_problems() == ["XCN needs an id number (XCN.1) or a family name (XCN.2)"]


def test_person_assigning_authority_must_be_iso_oid():
    assert XCN.parse("1^Lege^^^^^^^&1.2&L").xds_problems() == [
        "XCN.9.3 (universal id type) must be 'ISO', found 'L'"
    ]


def test_person_id_without_authority_is_allowed_but_flagged():
    person = XCN.parse("565505933^Lege^Kari")
    assert person.xds_problems() == []
    assert person.id_without_authority


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("^^^^^&1.2.3&ISO^^^^1", "XON.1 (organization name) is missing"),
        ("Org^X", "XON.2 must be empty in XDS"),
        ("Org^^^^^^^^^123", "XON.10 must be an OID when XON.6 is absent, found '123'"),
        ("Org^^^^^&1.2&HL7", "XON.6.3 (universal id type) must be 'ISO', found 'HL7'"),
    ],
)
def test_organization_problems(text, expected):
    assert expected in XON.parse(text).xds_problems()


def test_organization_with_oid_identifier_needs_no_authority():
    assert XON.parse("Org^^^^^^^^^1.2.3.4").xds_problems() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("^^Internet", "XTN.4 (email address) is missing for equipment type Internet"),
        ("^WPN^Internet^a@b.no", "XTN.2 must be empty or 'NET' for Internet, found 'WPN'"),
        ("^^PH", "XTN.7 (local number) or XTN.12 (unformatted number) is required for a telephone"),
        ("^^^a@b.no", "XTN.3 (telecommunication equipment type) is missing"),
        ("^^Pigeon^x", "XTN.3 must be 'Internet' or a telephone type, found 'Pigeon'"),
    ],
)
def test_telecom_problems(text, expected):
    assert expected in XTN.parse(text).xds_problems()


# --- OIDs --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text", ["1.2", "0.0", "2.16.578.1.12.4.1.4.1", "1.3.6.1.4.1.21367.2003.3.9", "2.0.10"]
)
def test_valid_oids(text):
    assert is_oid(text)


@pytest.mark.parametrize(
    "text", ["", "1", "3.1", "1.02", "01.2", "1..2", ".1.2", "1.2.", "a.b", "1.2 ", "1.-2", "urn:oid:1.2"]
)
def test_invalid_oids(text):
    assert not is_oid(text)


def test_oid_length_limit_is_64():
    longest = "1." + "1" * 62
    assert len(longest) == 64 and is_oid(longest)
    assert not is_oid(longest + "1")


# --- DTM ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "lower", "upper"),
    [
        ("2004", datetime(2004, 1, 1), datetime(2005, 1, 1)),
        ("200412", datetime(2004, 12, 1), datetime(2005, 1, 1)),
        ("20040229", datetime(2004, 2, 29), datetime(2004, 3, 1)),
        ("2004123123", datetime(2004, 12, 31, 23), datetime(2005, 1, 1)),
        ("200412312359", datetime(2004, 12, 31, 23, 59), datetime(2005, 1, 1)),
        ("20041231235959", datetime(2004, 12, 31, 23, 59, 59), datetime(2005, 1, 1)),
    ],
)
def test_dtm_bounds(text, lower, upper):
    value = DTM.parse(text)
    assert value.format() == text
    assert value.digits == len(text)
    assert (value.lower_bound(), value.upper_bound()) == (lower, upper)
    assert value.xds_problems() == []


def test_dtm_fraction_and_offset_are_kept_and_reported():
    value = DTM.parse("20041231235959.5+0100")
    assert value.format() == "20041231235959.5+0100"
    assert value.lower_bound() == datetime(2004, 12, 31, 22, 59, 59, 500000)
    assert value.upper_bound() == datetime(2004, 12, 31, 22, 59, 59, 600000)
    assert len(value.xds_problems()) == 2


def test_dtm_offset_at_day_precision_shifts_to_utc():
    value = DTM.parse("20040101-0500")
    assert value.lower_bound() == datetime(2004, 1, 1, 5)
    assert value.upper_bound() == datetime(2004, 1, 2, 5)


def test_dtm_bounds_saturate_at_the_edges():
    assert DTM.parse("9999").upper_bound() == datetime.max
    assert DTM.parse("0001+0100").lower_bound() == datetime.min


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "expected YYYY"),
        ("200", "expected YYYY"),
        ("20041", "expected YYYY"),
        ("2004-01-01", "expected YYYY"),
        ("20040101120000.12345", "expected YYYY"),
        ("0000", "year 0 is out of range 0001-9999"),
        ("200400", "month 0 is out of range 1-12"),
        ("200413", "month 13 is out of range 1-12"),
        ("20040230", "day 30 is out of range 1-29 for 2004-02"),
        ("20030229", "day 29 is out of range 1-28 for 2003-02"),
        ("20040431", "day 31 is out of range 1-30 for 2004-04"),
        ("2004010124", "hour 24 is out of range 0-23"),
        ("200401012360", "minute 60 is out of range 0-59"),
        ("20040101235960", "second 60 is out of range 0-59"),
        ("2004+2500", "time zone hour 25 is out of range 0-23"),
    ],
)
def test_dtm_rejects(text, reason):
    with pytest.raises(ValueError, match=reason) as raised:
        DTM.parse(text)
    assert repr(text) in str(raised.value)


def test_dtm_constructor_refuses_gaps():
    with pytest.raises(ValueError, match="day given without month"):
        DTM(2004, None, 1)


def test_dtm_from_aware_datetime_converts_to_utc():
    from datetime import timedelta, timezone

    moment = datetime(2004, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert DTM.from_datetime(moment).format() == "20031231233000"


# --- round trips -------------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_hd = st.builds(HD, _text, _text, _text)
# An unnamed component as it stands in the text: escaped subcomponents joined by '&'.
_raw_component = (
    st.lists(_text, min_size=1, max_size=3)
    .map(lambda parts: "&".join(escape(part) for part in parts))
    .filter(bool)
)


def _others(named: set[int], last: int) -> st.SearchStrategy:
    free = [position for position in range(1, last + 1) if position not in named]
    chosen = st.dictionaries(st.sampled_from(free), _raw_component, max_size=3)
    return chosen.map(lambda by_position: tuple(sorted(by_position.items())))


def _composite(cls, last: int) -> st.SearchStrategy:
    texts = {name: _text for name in cls._FIELDS.values() if name not in cls._HD_FIELDS}
    hds = {name: _hd for name in cls._HD_FIELDS}
    return st.builds(cls, **texts, **hds, others=_others(set(cls._FIELDS), last))


@given(_hd)
def test_hd_round_trips(value):
    assert HD.parse(value.format()) == value
    assert HD.parse_subcomponents(value.format_subcomponents()) == value


@given(_text)
def test_escape_round_trips(text):
    assert unescape(escape(text)) == text
    assert not set("|^&~") & set(escape(text))


@pytest.mark.parametrize(("cls", "last"), [(CX, 10), (XCN, 23), (XON, 10), (XTN, 12)])
@given(data=st.data())
def test_composites_round_trip(cls, last, data):
    value = data.draw(_composite(cls, last))
    text = value.format()
    assert cls.parse(text) == value
    assert not text.endswith("^")


_moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))


def _truncated(moment: datetime, digits: int) -> datetime:
    kept = (digits - 4) // 2
    units = [moment.month, moment.day, moment.hour, moment.minute, moment.second]
    return datetime(moment.year, *units[:kept], *[1, 1, 0, 0, 0][kept:])


@given(_moments, st.sampled_from([4, 6, 8, 10, 12, 14]))
def test_dtm_round_trips_at_every_precision(moment, digits):
    value = DTM.from_datetime(moment, digits)
    text = value.format()
    assert len(text) == digits == value.digits
    assert DTM.parse(text) == value
    assert value.lower_bound() == _truncated(moment, digits)
    assert value.lower_bound() <= moment < value.upper_bound()


@given(_moments, st.sampled_from([4, 6, 8, 10, 12, 14]))
def test_dtm_upper_bound_is_the_next_value_at_the_same_precision(moment, digits):
    upper = DTM.from_datetime(moment, digits).upper_bound()
    if upper != datetime.max:
        assert DTM.from_datetime(upper, digits).lower_bound() == upper
        assert _truncated(upper, digits) == upper
