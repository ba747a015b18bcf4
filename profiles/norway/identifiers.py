"""Norwegian identifiers: syntax and check digits (PROFILE.md §2-§3).

Person numbers, 11 digits `DDMMYY III K1 K2` (Skatteetaten; HIS 1001 "Identifikatorer for
personer"):

- fødselsnummer (OID 2.16.578.1.12.4.1.4.1): birth date, individnummer, K1 and K2;
- D-nummer (.4.2): first digit + 4 (day + 40);
- FH-nummer, felles hjelpenummer issued by NHN (.4.3): first digit 8 or 9, the rest random,
  with the same two check digits; no embedded date;
- H-nummer, an enterprise-internal help number: month + 40. It must never be sent under the
  fødselsnummer OID, so no national OID accepts it; a deployment maps its own OID to it;
- synthetic test persons (Skatteetaten's Test-Norge/Tenor: month + 80; also month + 65 in
  use): accepted only when `allow_synthetic` is set.

Check digits: K1 weights 3 7 6 1 8 9 4 5 2 over the first nine digits, K2 weights
5 4 3 2 7 6 5 4 3 2 over the first ten. Written as a check over the whole number, the
remainder r1 = (sum of K1 weights x digits + K1) mod 11 and r2 = (sum of K2 weights x digits
+ K2) mod 11. The classic rule needs r1 = 0 and r2 = 0 (a computed 10 makes the number
impossible). For numbers issued from 1 January 2032 Skatteetaten allows r1 in {0, 1, 2, 3}
(K1 = {11,12,13,14} - sum mod 11, so four possible K1) while K2 is unchanged
(Skatteetaten, "Nytt fødselsnummer fra 2032", folkeregisteret-api-dokumentasjon). Old numbers
stay valid, so from 2032 a validator must accept both: `CheckDigitScheme` makes the rule
swappable, and `scheme_for(day)` picks the classic rule before 2032 and both after.

What the schemes guarantee: K2 covers all eleven digits with weights 5 4 3 2 7 6 5 4 3 2 1,
none divisible by 11, so any single-digit change alters r2 and is rejected under every
scheme here. Under the 2032 rule K1 alone no longer catches every single-digit change (the
change may move r1 to one of the three other accepted remainders); the guarantee rests on K2.

Other identifiers: organisasjonsnummer (.4.101, Enhetsregisteret) has 9 digits with a mod 11
check digit, weights 3 2 7 6 5 4 3 2 (remainder 0 -> 0, remainder 1 -> no valid number).
HPR-nummer (.4.4), RESH-id (.4.102) and HER-id (.2) are register serial numbers for which no
check digit is published (known HPR numbers do not satisfy mod 11), so only their form
(digits, at most nine, no leading zero) is checked.
"""
from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from .codesets import strip_oid_urn

FNR_OID = "2.16.578.1.12.4.1.4.1"
DNR_OID = "2.16.578.1.12.4.1.4.2"
FHN_OID = "2.16.578.1.12.4.1.4.3"
HPR_OID = "2.16.578.1.12.4.1.4.4"
DUF_OID = "2.16.578.1.12.4.1.4.5"
ORGNR_OID = "2.16.578.1.12.4.1.4.101"
RESH_OID = "2.16.578.1.12.4.1.4.102"
HER_OID = "2.16.578.1.12.4.1.2"

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
ORGNR_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)
NEW_SCHEME_FROM = date(2032, 1, 1)
SYNTHETIC_MONTH_OFFSETS = (65, 80)
MAX_REGISTER_ID_DIGITS = 9


# --- check-digit schemes ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CheckDigitScheme:
    """Which K1/K2 remainders (see the module docstring) make an 11-digit number valid."""

    name: str
    k1_remainders: frozenset[int]
    k2_remainders: frozenset[int] = frozenset({0})

    def accepts(self, number: str) -> bool:
        """Whether an 11-digit string has check digits valid under this scheme."""
        if len(number) != 11 or not number.isascii() or not number.isdigit():
            return False
        r1, r2 = check_remainders(number)
        return r1 in self.k1_remainders and r2 in self.k2_remainders

    def check_digits(self, first_nine: str) -> tuple[str, ...]:
        """Every valid `K1K2` for nine leading digits (several under the 2032 rule)."""
        suffixes = []
        for k1 in range(10):
            r1 = (_weighted(first_nine, K1_WEIGHTS) + k1) % 11
            k2 = (-_weighted(first_nine + str(k1), K2_WEIGHTS)) % 11
            if r1 in self.k1_remainders and k2 < 10:
                suffixes.append(f"{k1}{k2}")
        return tuple(suffixes)

    def __or__(self, other: "CheckDigitScheme") -> "CheckDigitScheme":
        """A scheme accepting what either accepts (the transition rule)."""
        return CheckDigitScheme(f"{self.name}+{other.name}",
                                self.k1_remainders | other.k1_remainders,
                                self.k2_remainders | other.k2_remainders)


CLASSIC = CheckDigitScheme("classic", frozenset({0}))
SCHEME_2032 = CheckDigitScheme("2032", frozenset({0, 1, 2, 3}))
#: Both rules. Equal in effect to SCHEME_2032 (remainder 0 is one of its four), named apart
#: so a setting can say what it means.
TRANSITION = CLASSIC | SCHEME_2032
SCHEMES: Mapping[str, CheckDigitScheme] = MappingProxyType(
    {"classic": CLASSIC, "2032": SCHEME_2032, "transition": TRANSITION})


def scheme_for(day: date | None = None) -> CheckDigitScheme:
    """The rule in force on `day` (today by default): classic before 2032, both from then."""
    return CLASSIC if (day or date.today()) < NEW_SCHEME_FROM else TRANSITION


def scheme_named(name: str) -> CheckDigitScheme:
    """A scheme by its setting name: classic, 2032, transition, or auto (by today's date)."""
    if name == "auto":
        return scheme_for()
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown check-digit scheme {name!r}; "
                         f"use auto, {', '.join(SCHEMES)}") from None


def check_remainders(number: str) -> tuple[int, int]:
    """(r1, r2) of an 11-digit number: 0 and 0 under the classic rule."""
    r1 = (_weighted(number[:9], K1_WEIGHTS) + int(number[9])) % 11
    r2 = (_weighted(number[:10], K2_WEIGHTS) + int(number[10])) % 11
    return r1, r2


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights))


# --- person numbers -----------------------------------------------------------------------

class PersonIdKind(StrEnum):
    """The kinds of 11-digit person number."""

    FNR = "fødselsnummer"
    DNR = "D-nummer"
    FHN = "FH-nummer"
    HNR = "H-nummer"


#: Which kinds each national assigning authority accepts (PROFILE.md §2).
PERSON_ID_AUTHORITIES: Mapping[str, frozenset[PersonIdKind]] = MappingProxyType({
    FNR_OID: frozenset({PersonIdKind.FNR}),
    DNR_OID: frozenset({PersonIdKind.DNR}),
    FHN_OID: frozenset({PersonIdKind.FHN}),
})

_KIND_SHAPES = {
    PersonIdKind.FNR: "first digit 0-3",
    PersonIdKind.DNR: "first digit 4-7, day + 40",
    PersonIdKind.FHN: "first digit 8 or 9",
    PersonIdKind.HNR: "month + 40",
}


@dataclass(frozen=True, slots=True)
class PersonIdCheck:
    """The verdict on one person number: its kind (when recognisable) and why it fails."""

    kind: PersonIdKind | None
    reason: str | None = None
    synthetic: bool = False

    @property
    def valid(self) -> bool:
        return self.reason is None


def person_id_kind(number: str) -> PersonIdKind | None:
    """The kind an 11-digit number has by its shape; None if it is not 11 digits."""
    if not _is_digits(number, 11):
        return None
    first, month = int(number[0]), int(number[2:4])
    if first >= 8:
        return PersonIdKind.FHN
    if first >= 4:
        return PersonIdKind.DNR
    return PersonIdKind.HNR if 41 <= month <= 52 else PersonIdKind.FNR


def check_person_id(number: str, authority_oid: str, *,
                    scheme: CheckDigitScheme | None = None, allow_synthetic: bool = False,
                    authorities: Mapping[str, frozenset[PersonIdKind]] | None = None,
                    synthetic_offsets: tuple[int, ...] = SYNTHETIC_MONTH_OFFSETS,
                    ) -> PersonIdCheck:
    """Judge a patient id against its assigning authority (the CX's universal id).

    `authorities` maps each accepted OID to the kinds it takes (default
    PERSON_ID_AUTHORITIES; a deployment adds its H-nummer OID here). Reasons never repeat
    the number itself.
    """
    authorities = PERSON_ID_AUTHORITIES if authorities is None else authorities
    oid = strip_oid_urn(authority_oid)
    allowed = authorities.get(oid)
    if allowed is None:
        return PersonIdCheck(None, _unknown_authority(oid, authorities))
    kind = person_id_kind(number)
    if kind is None:
        return PersonIdCheck(None, "a person number has exactly 11 digits")
    if kind not in allowed:
        return PersonIdCheck(kind, _wrong_kind(kind, oid, allowed))
    return check_person_number(number, kind, scheme=scheme, allow_synthetic=allow_synthetic,
                               synthetic_offsets=synthetic_offsets)


def validate_person_id(number: str, authority_oid: str, *,
                       scheme: CheckDigitScheme | None = None, allow_synthetic: bool = False,
                       authorities: Mapping[str, frozenset[PersonIdKind]] | None = None,
                       synthetic_offsets: tuple[int, ...] = SYNTHETIC_MONTH_OFFSETS,
                       ) -> str | None:
    """Why the patient id is not valid for its assigning authority, or None when it is."""
    return check_person_id(number, authority_oid, scheme=scheme,
                           allow_synthetic=allow_synthetic, authorities=authorities,
                           synthetic_offsets=synthetic_offsets).reason


def check_person_number(number: str, kind: PersonIdKind, *,
                        scheme: CheckDigitScheme | None = None, allow_synthetic: bool = False,
                        synthetic_offsets: tuple[int, ...] = SYNTHETIC_MONTH_OFFSETS,
                        ) -> PersonIdCheck:
    """Judge a number as one given kind: shape, check digits, embedded date."""
    scheme = scheme or scheme_for()
    if not _is_digits(number, 11):
        return PersonIdCheck(kind, f"{_a(kind)} has exactly 11 digits")
    if person_id_kind(number) is not kind:
        return PersonIdCheck(kind, f"not {_a(kind)} ({_KIND_SHAPES[kind]})")
    if not scheme.accepts(number):
        return PersonIdCheck(kind, f"the {kind}'s check digits do not match "
                                   f"(mod 11, {scheme.name} rule)")
    if kind is PersonIdKind.FHN:
        return PersonIdCheck(kind)
    offsets = synthetic_offsets if allow_synthetic else ()
    classic = scheme.k1_remainders == CLASSIC.k1_remainders
    return _check_birth_date(number, kind, offsets, synthetic_offsets, classic)


def validate_fnr(number: str, **options) -> str | None:
    """Why `number` is not a valid fødselsnummer, or None (options as check_person_number)."""
    return check_person_number(number, PersonIdKind.FNR, **options).reason


def validate_dnr(number: str, **options) -> str | None:
    """Why `number` is not a valid D-nummer, or None."""
    return check_person_number(number, PersonIdKind.DNR, **options).reason


def validate_fh_number(number: str, **options) -> str | None:
    """Why `number` is not a valid FH-nummer (felles hjelpenummer), or None."""
    return check_person_number(number, PersonIdKind.FHN, **options).reason


def validate_h_number(number: str, **options) -> str | None:
    """Why `number` is not a valid enterprise-internal H-nummer, or None."""
    return check_person_number(number, PersonIdKind.HNR, **options).reason


def _check_birth_date(number: str, kind: PersonIdKind, offsets: tuple[int, ...],
                      known_offsets: tuple[int, ...], classic: bool) -> PersonIdCheck:
    day = int(number[0:2]) - (40 if kind is PersonIdKind.DNR else 0)
    month = int(number[2:4]) - (40 if kind is PersonIdKind.HNR else 0)
    synthetic_offset = _synthetic_offset(month, offsets) if kind is not PersonIdKind.HNR else 0
    if synthetic_offset is None:
        return PersonIdCheck(kind, _bad_month(kind, month, known_offsets))
    month -= synthetic_offset
    if not _is_birth_date(day, month, int(number[4:6]), int(number[6:9]), classic):
        return PersonIdCheck(kind, f"the {kind} does not hold a real date "
                                   f"(day {day:02d}, month {month:02d})")
    return PersonIdCheck(kind, synthetic=synthetic_offset > 0)


def _synthetic_offset(month: int, offsets: tuple[int, ...]) -> int | None:
    """0 for a plain month, the offset for a synthetic one, None when it is neither."""
    if 1 <= month <= 12:
        return 0
    return next((off for off in offsets if off < month <= off + 12), None)


def _bad_month(kind: PersonIdKind, month: int, known_offsets: tuple[int, ...]) -> str:
    if any(off < month <= off + 12 for off in known_offsets):
        return (f"the {kind} is a synthetic test person's (month {month}); synthetic numbers "
                "are accepted only when configured")
    return f"the {kind} does not hold a real date (month {month:02d})"


def _is_birth_date(day: int, month: int, yy: int, individ: int, classic: bool) -> bool:
    if not 1 <= month <= 12:
        return False
    return any(1 <= day <= calendar.monthrange(century + yy, month)[1]
               for century in _centuries(individ, yy, classic))


def _centuries(individ: int, yy: int, classic: bool) -> tuple[int, ...]:
    """Centuries the individnummer series allow (Skatteetaten: 1854-1899 749-500, 1900-1999
    499-000, 1940-1999 999-900, 2000-2039 999-500); all three when they tell none.

    Numbers issued from 2032 no longer tell the century by the individnummer, so outside the
    classic rule every century is possible. The century only decides whether 29 February
    exists; an impossible series/year pair is not itself rejected.
    """
    if not classic:
        return _ALL_CENTURIES
    found = [century for century, low, high, years in _SERIES
             if low <= individ <= high and yy in years]
    return tuple(found) or _ALL_CENTURIES


_ALL_CENTURIES = (1800, 1900, 2000)
_SERIES = ((1800, 500, 749, range(54, 100)), (1900, 0, 499, range(0, 100)),
           (1900, 900, 999, range(40, 100)), (2000, 500, 999, range(0, 40)))


def _unknown_authority(oid: str, authorities: Mapping[str, frozenset[PersonIdKind]]) -> str:
    known = "; ".join(f"{', '.join(sorted(kinds))} {auth}" for auth, kinds in authorities.items())
    return f"assigning authority {oid} is not a person identifier domain here ({known})"


def _wrong_kind(kind: PersonIdKind, oid: str, allowed: frozenset[PersonIdKind]) -> str:
    expected = " or ".join(sorted(allowed))
    return (f"the patient id is {_a(kind)} ({_KIND_SHAPES[kind]}) but assigning authority "
            f"{oid} is for {expected}")


# --- organisation and register identifiers ------------------------------------------------

def organization_check_digit(first_eight: str) -> int | None:
    """The organisasjonsnummer check digit for eight digits; None when none exists."""
    remainder = _weighted(first_eight, ORGNR_WEIGHTS) % 11
    if remainder == 0:
        return 0
    return None if remainder == 1 else 11 - remainder


def validate_organization_number(value: str) -> str | None:
    """Why `value` is not a valid organisasjonsnummer (Enhetsregisteret), or None."""
    if not _is_digits(value, 9):
        return "an organisasjonsnummer has exactly 9 digits"
    expected = organization_check_digit(value[:8])
    if expected is None:
        return "no organisasjonsnummer has these first eight digits (check digit would be 10)"
    if int(value[8]) != expected:
        return "the organisasjonsnummer's check digit does not match (mod 11)"
    return None


def validate_hpr_number(value: str) -> str | None:
    """Why `value` is not an HPR-nummer in form (digits only; no check digit exists), or None."""
    return _register_id_reason(value, "HPR-nummer")


def validate_resh_id(value: str) -> str | None:
    """Why `value` is not a RESH-id in form (digits only), or None."""
    return _register_id_reason(value, "RESH-id")


def validate_her_id(value: str) -> str | None:
    """Why `value` is not a HER-id in form (digits only), or None."""
    return _register_id_reason(value, "HER-id")


def validate_identifier(value: str, authority_oid: str, **person_options) -> str | None:
    """Judge any identifier this module knows by its assigning authority.

    Person-number authorities go to validate_person_id (with `person_options`); HPR,
    organisasjonsnummer, RESH and HER to their own checks. Other authorities are not judged
    (None).
    """
    oid = strip_oid_urn(authority_oid)
    authorities = person_options.get("authorities") or PERSON_ID_AUTHORITIES
    if oid in authorities:
        return validate_person_id(value, oid, **person_options)
    check = _REGISTER_CHECKS.get(oid)
    return check(value) if check is not None else None


def _register_id_reason(value: str, label: str) -> str | None:
    if not value or not value.isascii() or not value.isdigit():
        return f"{_a(label)} is digits only"
    if len(value) > MAX_REGISTER_ID_DIGITS:
        return f"{_a(label)} has at most {MAX_REGISTER_ID_DIGITS} digits"
    if value[0] == "0":
        return f"{_a(label)} does not start with 0"
    return None


def _a(label: str) -> str:
    """The label with its English article, as read aloud ("an FH-nummer", "a D-nummer")."""
    return f"{'an' if label in _AN_LABELS else 'a'} {label}"


_AN_LABELS = frozenset({"FH-nummer", "H-nummer", "HPR-nummer"})


def _is_digits(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isdigit()


_REGISTER_CHECKS = {
    HPR_OID: validate_hpr_number,
    ORGNR_OID: validate_organization_number,
    RESH_OID: validate_resh_id,
    HER_OID: validate_her_id,
}
