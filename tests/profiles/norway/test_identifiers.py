"""Norwegian identifiers: person numbers under the classic and 2032 check-digit rules,
organisasjonsnummer, HPR, RESH and HER ids.

Numbers here are synthetic: computed with the published weights, not taken from people
(13116900216 is PROFILE.md's example; 02013299997, 30108299920 and 30108299939 are
Skatteetaten's own 2032 examples).
"""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given, strategies as st

from profiles.norway.identifiers import (
    CLASSIC, DNR_OID, FHN_OID, FNR_OID, HER_OID, HPR_OID, ORGNR_OID, RESH_OID, SCHEME_2032,
    TRANSITION, PersonIdKind, check_person_id, check_remainders, organization_check_digit,
    person_id_kind, scheme_for, scheme_named, validate_dnr, validate_fh_number, validate_fnr,
    validate_h_number, validate_her_id, validate_hpr_number, validate_identifier,
    validate_organization_number, validate_person_id, validate_resh_id,
)

LOCAL_H_OID = "2.16.578.1.12.4.5.100.1.9.1"
ALL_SCHEMES = (CLASSIC, SCHEME_2032, TRANSITION)


def reference_check_digits(first_nine: str, rest: int = 0) -> str | None:
    """Skatteetaten's formula, written out independently of the module under test:
    k1 = (11 + rest) - (sum1 mod 11), less 11 when above 10, 10 impossible;
    k2 = 11 - (sum2 mod 11), 11 -> 0, 10 impossible."""
    d = [int(c) for c in first_nine]
    sum1 = 3*d[0] + 7*d[1] + 6*d[2] + 1*d[3] + 8*d[4] + 9*d[5] + 4*d[6] + 5*d[7] + 2*d[8]
    k1 = (11 + rest) - sum1 % 11
    k1 = k1 - 11 if k1 > 10 else k1
    if k1 == 10:
        return None
    sum2 = 5*d[0] + 4*d[1] + 3*d[2] + 2*d[3] + 7*d[4] + 6*d[5] + 5*d[6] + 4*d[7] + 3*d[8] + 2*k1
    k2 = 11 - sum2 % 11
    k2 = 0 if k2 == 11 else k2
    return None if k2 == 10 else f"{first_nine}{k1}{k2}"


# --- known numbers ------------------------------------------------------------------------

@pytest.mark.parametrize("number", [
    "13116900216",  # PROFILE.md
    "31129956715",  # 31.12.1899, individnummer 567
    "02013299997",  # Skatteetaten: born 02.01.2032, first number issued
    "30108299920",  # Skatteetaten: born 30.10.1982, issued 2032 with remainder 0
    "29020050088",  # 29.02.2000 (individnummer 500 -> 2000s, a leap year)
])
@pytest.mark.parametrize("scheme", ALL_SCHEMES, ids=lambda s: s.name)
def test_valid_fodselsnummer(number, scheme):
    assert validate_person_id(number, FNR_OID, scheme=scheme) is None
    assert validate_fnr(number, scheme=scheme) is None


@pytest.mark.parametrize("number", ["30108299939", "13116900224", "13116900232", "13116900240"])
def test_numbers_valid_only_under_the_2032_rule(number):
    assert check_remainders(number)[0] in (1, 2, 3)
    assert "check digits" in validate_person_id(number, FNR_OID, scheme=CLASSIC)
    assert validate_person_id(number, FNR_OID, scheme=SCHEME_2032) is None
    assert validate_person_id(number, FNR_OID, scheme=TRANSITION) is None


@pytest.mark.parametrize("number, fragment", [
    ("13116900217", "check digits"),   # K2 off by one
    ("13116900226", "check digits"),   # K1 off by two: no scheme has K2 = 6 here
    ("1311690021", "11 digits"),
    ("131169002166", "11 digits"),
    ("1311690021a", "11 digits"),
    ("１３116900216", "11 digits"),   # full-width digits are not ASCII
    ("29020000145", "real date"),     # 29.02.1900: 1900 was no leap year
    ("31116900370", "real date"),     # 31 November
    ("00116900238", "real date"),     # day 0
    ("13136900387", "real date"),     # month 13
])
def test_invalid_fodselsnummer(number, fragment):
    reason = validate_person_id(number, FNR_OID, scheme=CLASSIC)
    assert reason is not None and fragment in reason


def test_reasons_do_not_repeat_the_number():
    for number in ("13116900217", "53116900471", "29020000145"):
        assert number not in validate_person_id(number, FNR_OID, scheme=CLASSIC)


def test_century_of_29_february_is_only_known_under_the_classic_rule():
    # From 2032 the individnummer no longer tells the century, so 29.02.?00 may be 2000.
    assert validate_person_id("29020000145", FNR_OID, scheme=TRANSITION) is None


@pytest.mark.parametrize("number, scheme", [
    ("53116900471", CLASSIC), ("53116900552", CLASSIC), ("53116900218", SCHEME_2032)])
def test_valid_d_nummer(number, scheme):
    assert validate_person_id(number, DNR_OID, scheme=scheme) is None
    assert validate_dnr(number, scheme=scheme) is None
    assert person_id_kind(number) is PersonIdKind.DNR


def test_d_nummer_day_plus_40_must_be_a_date():
    assert "real date" in validate_dnr("72116900212", scheme=CLASSIC)  # day 32


@pytest.mark.parametrize("number", ["81234567802", "91234567883", "81000000027"])
def test_valid_fh_nummer(number):
    assert validate_person_id(number, FHN_OID, scheme=CLASSIC) is None
    assert validate_fh_number(number, scheme=CLASSIC) is None


def test_fh_nummer_has_no_date_but_check_digits():
    assert "check digits" in validate_fh_number("81234567803", scheme=CLASSIC)
    assert validate_fh_number("81234567810", scheme=SCHEME_2032) is None


@pytest.mark.parametrize("number, authority, kind", [
    ("53116900471", FNR_OID, "D-nummer"),
    ("81234567802", FNR_OID, "FH-nummer"),
    ("13416900250", FNR_OID, "H-nummer"),
    ("13116900216", DNR_OID, "fødselsnummer"),
    ("13116900216", FHN_OID, "fødselsnummer"),
    ("53116900471", FHN_OID, "D-nummer"),
])
def test_each_authority_takes_only_its_own_kind(number, authority, kind):
    check = check_person_id(number, authority, scheme=CLASSIC)
    assert not check.valid and check.kind == kind
    assert authority in check.reason


def test_h_nummer_is_accepted_only_under_a_configured_local_authority():
    number = "13416900250"  # 13.01.1969 with month + 40
    for authority in (FNR_OID, DNR_OID, FHN_OID):
        assert validate_person_id(number, authority, scheme=CLASSIC) is not None
    local = {LOCAL_H_OID: frozenset({PersonIdKind.HNR})}
    assert validate_person_id(number, LOCAL_H_OID, scheme=CLASSIC, authorities=local) is None
    assert validate_h_number(number, scheme=CLASSIC) is None
    assert "not an H-nummer" in validate_h_number("13116900216", scheme=CLASSIC)


@pytest.mark.parametrize("number, authority", [
    ("13776900235", FNR_OID),   # month 77 = 12 + 65
    ("13916900281", FNR_OID),   # month 91 = 11 + 80 (Test-Norge / Tenor)
    ("53916900275", DNR_OID),   # synthetic D-nummer: day + 40, month + 80
])
def test_synthetic_test_persons_only_when_configured(number, authority):
    refused = check_person_id(number, authority, scheme=CLASSIC)
    assert "synthetic" in refused.reason
    accepted = check_person_id(number, authority, scheme=CLASSIC, allow_synthetic=True)
    assert accepted.valid and accepted.synthetic


def test_synthetic_offsets_are_configurable():
    number = "13776900235"  # month + 65
    assert validate_person_id(number, FNR_OID, scheme=CLASSIC, allow_synthetic=True,
                              synthetic_offsets=(80,)) is not None


def test_unknown_authority():
    reason = validate_person_id("13116900216", "1.2.3.4", scheme=CLASSIC)
    assert "1.2.3.4" in reason and FNR_OID in reason


def test_authority_may_carry_urn_oid_prefix():
    assert validate_person_id("13116900216", "urn:oid:" + FNR_OID, scheme=CLASSIC) is None


# --- schemes ------------------------------------------------------------------------------

def test_scheme_by_date():
    assert scheme_for(date(2031, 12, 31)) is CLASSIC
    assert scheme_for(date(2032, 1, 1)) is TRANSITION


def test_scheme_by_name():
    assert scheme_named("classic") is CLASSIC and scheme_named("2032") is SCHEME_2032
    assert scheme_named("transition") is TRANSITION
    assert scheme_named("auto") is scheme_for()
    with pytest.raises(ValueError):
        scheme_named("2040")


def test_transition_accepts_what_either_rule_accepts():
    assert TRANSITION.k1_remainders == CLASSIC.k1_remainders | SCHEME_2032.k1_remainders
    assert TRANSITION.k2_remainders == frozenset({0})


def test_default_scheme_follows_the_date():
    # Before 2032 the default is the classic rule, so a remainder-1 number is refused.
    if date.today() < date(2032, 1, 1):
        assert validate_fnr("30108299939") is not None
    else:
        assert validate_fnr("30108299939") is None


# --- generated numbers --------------------------------------------------------------------

SERIES = {1800: (500, 749), 1900: (0, 499), 2000: (500, 999)}


@st.composite
def first_nine_digits(draw, kind=PersonIdKind.FNR):
    born = draw(st.dates(min_value=date(1854, 1, 1), max_value=date(2039, 12, 31)))
    low, high = SERIES[born.year // 100 * 100]
    individ = draw(st.integers(low, high))
    day = born.day + (40 if kind is PersonIdKind.DNR else 0)
    month = born.month + (40 if kind is PersonIdKind.HNR else 0)
    return f"{day:02d}{month:02d}{born.year % 100:02d}{individ:03d}"


fh_first_nine = st.tuples(st.sampled_from("89"), st.text("0123456789", min_size=8, max_size=8)) \
    .map("".join)
schemes = st.sampled_from(ALL_SCHEMES)
KIND_AUTHORITY = {PersonIdKind.FNR: FNR_OID, PersonIdKind.DNR: DNR_OID}


@given(first_nine=first_nine_digits(), scheme=schemes)
def test_module_check_digits_match_skatteetatens_formula(first_nine, scheme):
    expected = {reference_check_digits(first_nine, rest) for rest in scheme.k1_remainders}
    got = {first_nine + suffix for suffix in scheme.check_digits(first_nine)}
    assert got == expected - {None}


@given(kind=st.sampled_from([PersonIdKind.FNR, PersonIdKind.DNR]), data=st.data(),
       scheme=schemes)
def test_every_correctly_computed_number_validates(kind, data, scheme):
    first_nine = data.draw(first_nine_digits(kind))
    rest = data.draw(st.sampled_from(sorted(scheme.k1_remainders)))
    number = reference_check_digits(first_nine, rest)
    assume(number is not None)
    assert validate_person_id(number, KIND_AUTHORITY[kind], scheme=scheme) is None


@given(first_nine=fh_first_nine, scheme=schemes, data=st.data())
def test_every_correctly_computed_fh_number_validates(first_nine, scheme, data):
    number = reference_check_digits(first_nine, data.draw(st.sampled_from(
        sorted(scheme.k1_remainders))))
    assume(number is not None)
    assert validate_person_id(number, FHN_OID, scheme=scheme) is None


def single_digit_changes(number: str):
    for position, digit in enumerate(number):
        for other in "0123456789":
            if other != digit:
                yield number[:position] + other + number[position + 1:]


@given(first_nine=st.one_of(first_nine_digits(), fh_first_nine),
       scheme=st.sampled_from([CLASSIC, SCHEME_2032]), data=st.data())
def test_every_single_digit_change_fails(first_nine, scheme, data):
    """Guaranteed by K2 under both rules: its weights 5 4 3 2 7 6 5 4 3 2 1 cover every
    digit and none is divisible by 11, so a changed digit always moves r2 off 0."""
    number = reference_check_digits(first_nine, data.draw(st.sampled_from(
        sorted(scheme.k1_remainders))))
    assume(number is not None)
    for changed in single_digit_changes(number):
        assert check_remainders(changed)[1] != 0
        assert not scheme.accepts(changed)
        for authority in (FNR_OID, DNR_OID, FHN_OID):
            assert validate_person_id(changed, authority, scheme=scheme,
                                      allow_synthetic=True) is not None


def test_under_the_2032_rule_k1_alone_misses_some_single_digit_changes():
    """Why the guarantee above rests on K2: K1 accepts four remainders from 2032."""
    number = "13116900216"
    slipping = [changed for changed in single_digit_changes(number)
                if check_remainders(changed)[0] in SCHEME_2032.k1_remainders]
    assert slipping and all(not SCHEME_2032.accepts(changed) for changed in slipping)
    # under the classic rule K1 alone already catches a change in any of its ten digits
    assert all(check_remainders(changed)[0] != 0 for changed in single_digit_changes(number)
               if changed[10] == number[10])


@given(first_nine=st.text("0123456789", min_size=9, max_size=9))
def test_classic_rule_has_at_most_one_pair_of_check_digits(first_nine):
    assert len(CLASSIC.check_digits(first_nine)) <= 1
    assert set(CLASSIC.check_digits(first_nine)) <= set(SCHEME_2032.check_digits(first_nine))


# --- organisasjonsnummer ------------------------------------------------------------------

@pytest.mark.parametrize("number", ["983974880", "994598759", "883974832", "974760673", "123456785"])
def test_valid_organisasjonsnummer(number):
    assert validate_organization_number(number) is None
    assert validate_identifier(number, ORGNR_OID) is None


@pytest.mark.parametrize("number, fragment", [
    ("983974881", "check digit"), ("98397488", "9 digits"), ("9839748800", "9 digits"),
    ("98397488x", "9 digits"), ("123456789", "check digit"),
])
def test_invalid_organisasjonsnummer(number, fragment):
    assert fragment in validate_organization_number(number)


def test_organisasjonsnummer_remainder_one_has_no_valid_number():
    first_eight = next(f"{n:08d}" for n in range(10_000_000, 10_001_000)
                       if sum(int(d) * w for d, w in zip(f"{n:08d}", (3, 2, 7, 6, 5, 4, 3, 2)))
                       % 11 == 1)
    assert organization_check_digit(first_eight) is None
    for last in "0123456789":
        assert "would be 10" in validate_organization_number(first_eight + last)


@given(first_eight=st.text("0123456789", min_size=8, max_size=8))
def test_every_computed_organisasjonsnummer_validates_and_no_single_change_does(first_eight):
    check = organization_check_digit(first_eight)
    assume(check is not None)
    number = f"{first_eight}{check}"
    assert validate_organization_number(number) is None
    for changed in single_digit_changes(number):
        assert validate_organization_number(changed) is not None


# --- register identifiers -----------------------------------------------------------------

@pytest.mark.parametrize("validate, authority", [
    (validate_hpr_number, HPR_OID), (validate_resh_id, RESH_OID), (validate_her_id, HER_OID)])
@pytest.mark.parametrize("value, valid", [
    ("565505933", True), ("8458111", True), ("4211607", True), ("1", True),
    ("0565505933", False), ("1234567890", False), ("12a4", False), ("", False),
    (" 565505933", False), ("٥٦٥", False),
])
def test_register_identifiers_by_form(validate, authority, value, valid):
    assert (validate(value) is None) is valid
    assert (validate_identifier(value, authority) is None) is valid


@given(st.integers(1, 999_999_999))
def test_any_register_serial_up_to_nine_digits_is_accepted(number):
    assert validate_hpr_number(str(number)) is None


def test_validate_identifier_dispatches_person_numbers_and_leaves_unknown_alone():
    assert validate_identifier("13116900216", FNR_OID, scheme=CLASSIC) is None
    assert validate_identifier("53116900471", FNR_OID, scheme=CLASSIC) is not None
    assert validate_identifier("anything", "1.2.3.4") is None
