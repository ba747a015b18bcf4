"""HL7 v2.5 datatypes as XDS metadata uses them (ITI TF-3 4.2.3.1.7, Table 4.2.3.1.7-2 "Data Types").

Owns: HL7 escaping (HL7 v2.5 Chapter 2.7), the composite types HD, CX, XCN, XON and XTN, the
XDS date-time DTM, and `is_oid` for ISO OIDs (the table's OID row: at most 64 characters).

Parsing is lenient (missing components are empty, unknown escapes are kept as written) so that
a registry can read anything a source sends and then *report* what is wrong: each type has an
`xds_problems()` giving human-readable reasons why a value breaks the XDS rules for that type.
`format()` writes the canonical form: trailing empty components and subcomponents trimmed.

One value of a type is one repetition: `split_repetitions` splits a field on `~` first.
Components this module does not name are kept raw (still escaped) in `others`, so a value read
and written again loses nothing and problems such as "CX.2 must be empty" can still be seen.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, ClassVar, Self

COMPONENT = "^"
SUBCOMPONENT = "&"
REPETITION = "~"

# Escape letter -> the character it stands for (field, component, subcomponent, repetition, escape).
_UNESCAPED = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\"}
_ESCAPED = {char: f"\\{letter}\\" for letter, char in _UNESCAPED.items()}

_OID = re.compile(r"[012](?:\.(?:0|[1-9][0-9]*))+")
_OID_MAX_LENGTH = 64


def is_oid(text: str) -> bool:
    """True for an ISO OID usable as an XDS uniqueId: `[012](.arc)+`, no leading zeros, <= 64 chars."""
    return len(text) <= _OID_MAX_LENGTH and _OID.fullmatch(text) is not None


def escape(text: str) -> str:
    """Escape the HL7 delimiters in component or subcomponent text."""
    return "".join(_ESCAPED.get(char, char) for char in text)


def unescape(text: str) -> str:
    """Undo `escape`; unknown (e.g. `\\X0D\\`) or unterminated escapes are kept as written."""
    out: list[str] = []
    start = 0
    while (begin := text.find("\\", start)) != -1:
        end = text.find("\\", begin + 1)
        if end == -1:
            break
        out.append(text[start:begin])
        letter = text[begin + 1 : end]
        out.append(_UNESCAPED.get(letter, text[begin : end + 1]))
        start = end + 1
    out.append(text[start:])
    return "".join(out)


def split_repetitions(text: str) -> list[str]:
    """Split a field into its repetitions; empty text has none."""
    return text.split(REPETITION) if text else []


def _join(parts: list[str], separator: str) -> str:
    """Join, dropping trailing empty parts: the canonical form."""
    end = len(parts)
    while end and not parts[end - 1]:
        end -= 1
    return separator.join(parts[:end])


@dataclass(frozen=True, slots=True)
class HD:
    """Hierarchic designator. In XDS only `&OID&ISO` (universal id + type "ISO") is allowed."""

    namespace_id: str = ""
    universal_id: str = ""
    universal_id_type: str = ""

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse a standalone HD (`ns^uid^type`)."""
        return cls._from_parts(text.split(COMPONENT))

    @classmethod
    def parse_subcomponents(cls, text: str) -> Self:
        """Parse an HD nested in a component (`ns&uid&type`), as in CX.4 or XCN.9."""
        return cls._from_parts(text.split(SUBCOMPONENT))

    @classmethod
    def _from_parts(cls, parts: list[str]) -> Self:
        # HD has three components; anything beyond is not HL7 and is dropped.
        values = [unescape(part) for part in parts[:3]]
        return cls(*values)

    def format(self) -> str:
        return self._format_with(COMPONENT)

    def format_subcomponents(self) -> str:
        return self._format_with(SUBCOMPONENT)

    def _format_with(self, separator: str) -> str:
        parts = [self.namespace_id, self.universal_id, self.universal_id_type]
        return _join([escape(part) for part in parts], separator)

    @property
    def is_empty(self) -> bool:
        return not (self.namespace_id or self.universal_id or self.universal_id_type)

    def xds_problems(self, label: str = "HD") -> list[str]:
        """Reasons this is not the XDS form `&OID&ISO`; `label` names it (e.g. "CX.4")."""
        problems = []
        if self.namespace_id:
            problems.append(f"{label}.1 (namespace id) must be empty, found {self.namespace_id!r}")
        if not self.universal_id:
            problems.append(f"{label}.2 (universal id) is missing")
        elif not is_oid(self.universal_id):
            problems.append(f"{label}.2 (universal id) must be an ISO OID, found {self.universal_id!r}")
        if self.universal_id_type != "ISO":
            problems.append(f"{label}.3 (universal id type) must be 'ISO', found {self.universal_id_type!r}")
        return problems


class _Composite:
    """Shared parse/format for composites: `_FIELDS` maps a 1-based position to an attribute.

    Attributes typed `HD` are nested as subcomponents; the others are plain text. A plain text
    component is unescaped whole, so a stray `&` in it is kept as text, not split off and lost.
    Positions without a name go to `others` as (position, raw escaped text), sorted.
    """

    __slots__ = ()
    _FIELDS: ClassVar[dict[int, str]]
    _HD_FIELDS: ClassVar[frozenset[str]] = frozenset({"assigning_authority"})
    _TYPE: ClassVar[str]

    @classmethod
    def parse(cls, text: str) -> Self:
        """Lenient: missing components are empty, extra ones are kept in `others`."""
        values: dict[str, object] = {}
        others: list[tuple[int, str]] = []
        for position, raw in enumerate(text.split(COMPONENT), start=1):
            name = cls._FIELDS.get(position)
            if name is None:
                if raw:
                    others.append((position, raw))
            elif name in cls._HD_FIELDS:
                values[name] = HD.parse_subcomponents(raw)
            else:
                values[name] = unescape(raw)
        return cls(**values, others=tuple(others))

    def format(self) -> str:
        parts = [""] * max([*self._FIELDS, *(position for position, _ in self.others)])
        for position, name in self._FIELDS.items():
            value = getattr(self, name)
            parts[position - 1] = value.format_subcomponents() if isinstance(value, HD) else escape(value)
        for position, raw in self.others:
            parts[position - 1] = raw
        return _join(parts, COMPONENT)

    def _check_others(self) -> None:
        """Keep `others` canonical (sorted) and refuse entries `format` could not write back."""
        others = tuple(sorted(self.others))
        positions = [position for position, _ in others]
        if len(set(positions)) != len(positions):
            raise ValueError(f"{self._TYPE}: a component position appears twice in others")
        for position, raw in others:
            if position < 1 or position in self._FIELDS:
                raise ValueError(f"{self._TYPE}.{position} is not an unnamed component")
            if not raw or COMPONENT in raw:
                raise ValueError(f"{self._TYPE}.{position}: raw text must be non-empty without '^'")
        object.__setattr__(self, "others", others)

    def _unexpected(self, allowed: set[int]) -> list[str]:
        """Problems for every non-empty component outside `allowed`."""
        present = {position for position, _ in self.others}
        for position, name in self._FIELDS.items():
            value = getattr(self, name)
            if (not value.is_empty) if isinstance(value, HD) else value:
                present.add(position)
        return [f"{self._TYPE}.{position} must be empty in XDS" for position in sorted(present - allowed)]


@dataclass(frozen=True, slots=True)
class CX(_Composite):
    """Extended composite ID, e.g. `13116900216^^^&2.16.578.1.12.4.1.4.1&ISO` (a patient id)."""

    _FIELDS: ClassVar[dict[int, str]] = {1: "id_number", 4: "assigning_authority", 5: "identifier_type_code"}
    _TYPE: ClassVar[str] = "CX"

    id_number: str = ""
    assigning_authority: HD = field(default_factory=HD)
    identifier_type_code: str = ""
    others: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        self._check_others()

    def xds_problems(self) -> list[str]:
        """Reasons this is not a valid XDS patient id: CX.1 and CX.4 (`&OID&ISO`) only."""
        problems = [] if self.id_number else ["CX.1 (id number) is missing"]
        problems += self._unexpected({1, 4})
        if self.assigning_authority.is_empty:
            problems.append("CX.4 (assigning authority) is missing")
        else:
            problems += self.assigning_authority.xds_problems("CX.4")
        return problems


@dataclass(frozen=True, slots=True)
class XCN(_Composite):
    """Person with an id, e.g. `565505933^Lege^Kari^^^^^^&2.16.578.1.12.4.1.4.4&ISO`."""

    _FIELDS: ClassVar[dict[int, str]] = {
        1: "id_number", 2: "family_name", 3: "given_name", 4: "second_names", 5: "suffix",
        6: "prefix", 7: "degree", 9: "assigning_authority", 13: "identifier_type_code",
    }  # fmt: skip
    _TYPE: ClassVar[str] = "XCN"

    id_number: str = ""
    family_name: str = ""
    given_name: str = ""
    second_names: str = ""
    suffix: str = ""
    prefix: str = ""
    degree: str = ""
    assigning_authority: HD = field(default_factory=HD)
    identifier_type_code: str = ""
    others: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        self._check_others()

    @property
    def id_without_authority(self) -> bool:
        """XCN.1 without XCN.9: allowed, since TF-3 wants XCN.9 only "if available"; worth a warning."""
        return bool(self.id_number) and self.assigning_authority.is_empty

    def xds_problems(self) -> list[str]:
        """Reasons this breaks TF-3: no name (XCN.2) and no id (XCN.1), or XCN.9 not `&OID&ISO`."""
        problems = []
        if not (self.id_number or self.family_name):
            problems.append("XCN needs an id number (XCN.1) or a family name (XCN.2)")
        if not self.assigning_authority.is_empty:
            problems += self.assigning_authority.xds_problems("XCN.9")
        return problems


@dataclass(frozen=True, slots=True)
class XON(_Composite):
    """Organization, e.g. `Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880`."""

    _FIELDS: ClassVar[dict[int, str]] = {1: "organization_name", 6: "assigning_authority", 10: "identifier"}
    _TYPE: ClassVar[str] = "XON"

    organization_name: str = ""
    assigning_authority: HD = field(default_factory=HD)
    identifier: str = ""
    others: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        self._check_others()

    def xds_problems(self) -> list[str]:
        """XON.1 required; only XON.1, XON.6 and XON.10; an XON.10 without XON.6 must be an OID."""
        problems = [] if self.organization_name else ["XON.1 (organization name) is missing"]
        problems += self._unexpected({1, 6, 10})
        if not self.assigning_authority.is_empty:
            problems += self.assigning_authority.xds_problems("XON.6")
        elif self.identifier and not is_oid(self.identifier):
            # Without an assigning authority the identifier must be globally unique by itself.
            problems.append(f"XON.10 must be an OID when XON.6 is absent, found {self.identifier!r}")
        return problems


# HL7 table 0202 equipment types that carry a telephone number rather than an address.
_PHONE_TYPES = frozenset({"PH", "FX", "MD", "CP", "BP", "TDD", "TTY", "SAT"})


@dataclass(frozen=True, slots=True)
class XTN(_Composite):
    """Telecommunication address; XDS authorTelecommunication is e.g. `^^Internet^name@example.org`."""

    _HD_FIELDS: ClassVar[frozenset[str]] = frozenset()
    _FIELDS: ClassVar[dict[int, str]] = {
        2: "use_code", 3: "equipment_type", 4: "email", 5: "country_code", 6: "area_code",
        7: "local_number", 8: "extension", 12: "unformatted_number",
    }  # fmt: skip
    _TYPE: ClassVar[str] = "XTN"

    use_code: str = ""
    equipment_type: str = ""
    email: str = ""
    country_code: str = ""
    area_code: str = ""
    local_number: str = ""
    extension: str = ""
    unformatted_number: str = ""
    others: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        self._check_others()

    def xds_problems(self) -> list[str]:
        """XTN.3 required; Internet needs XTN.4 (use code empty or NET); phones need a number."""
        if self.equipment_type == "Internet":
            return self._internet_problems()
        if self.equipment_type in _PHONE_TYPES:
            return self._phone_problems()
        if not self.equipment_type:
            return ["XTN.3 (telecommunication equipment type) is missing"]
        return [f"XTN.3 must be 'Internet' or a telephone type, found {self.equipment_type!r}"]

    def _internet_problems(self) -> list[str]:
        problems = [] if self.email else ["XTN.4 (email address) is missing for equipment type Internet"]
        if self.use_code not in ("", "NET"):
            problems.append(f"XTN.2 must be empty or 'NET' for Internet, found {self.use_code!r}")
        phone = (self.country_code, self.area_code, self.local_number, self.extension, self.unformatted_number)
        if any(phone):
            problems.append("XTN.5-XTN.8 and XTN.12 (telephone parts) must be empty for Internet")
        return problems

    def _phone_problems(self) -> list[str]:
        problems = [] if not self.email else ["XTN.4 (email) must be empty for a telephone"]
        if not (self.local_number or self.unformatted_number):
            problems.append("XTN.7 (local number) or XTN.12 (unformatted number) is required for a telephone")
        return problems


# YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ] (HL7 v2.5 DTM); XDS allows only the digits.
_DTM = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?"
)
_UNITS = ("month", "day", "hour", "minute", "second")
# Length of one value at day precision and finer, by digit count (month and year vary in length).
_STEP = {8: timedelta(days=1), 10: timedelta(hours=1), 12: timedelta(minutes=1), 14: timedelta(seconds=1)}


@dataclass(frozen=True, slots=True)
class DTM:
    """XDS date-time `YYYY[MM[DD[hh[mm[ss]]]]]` in UTC, keeping the precision it was given.

    Fractional seconds and a time zone offset are HL7 but not XDS: they are read and kept so
    `xds_problems()` can report them. Bounds are naive datetimes in UTC.
    """

    year: int
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None
    fraction: str = ""  # digits after the decimal point of the seconds, 1-4 of them
    offset: str = ""  # "+HHMM" / "-HHMM"

    def __post_init__(self) -> None:
        self._check_nesting()
        self._check_ranges()
        self._check_suffixes()

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse and validate; raises ValueError naming the value and what is wrong with it."""
        match = _DTM.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"invalid date-time {text!r}: expected YYYY[MM[DD[hh[mm[ss]]]]] "
                "(4, 6, 8, 10, 12 or 14 digits)"
            )
        *numbers, fraction, offset = match.groups()
        try:
            return cls(*(int(n) if n else None for n in numbers), fraction or "", offset or "")
        except ValueError as error:
            raise ValueError(f"invalid date-time {text!r}: {error}") from None

    @classmethod
    def from_datetime(cls, moment: datetime, digits: int = 14) -> Self:
        """The first `digits` (4, 6, ..., 14) of `moment` in UTC (aware datetimes are converted)."""
        if digits not in (4, 6, 8, 10, 12, 14):
            raise ValueError(f"digits must be 4, 6, 8, 10, 12 or 14, not {digits}")
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        parts = [moment.month, moment.day, moment.hour, moment.minute, moment.second]
        kept = (digits - 4) // 2
        return cls(moment.year, *parts[:kept], *([None] * (5 - kept)))

    def format(self) -> str:
        text = f"{self.year:04d}" + "".join(f"{value:02d}" for value in self._units() if value is not None)
        if self.fraction:
            text += "." + self.fraction
        return text + self.offset

    def __str__(self) -> str:
        return self.format()

    @property
    def digits(self) -> int:
        """Precision as the number of digits before any fraction: 4, 6, 8, 10, 12 or 14."""
        return 4 + 2 * sum(value is not None for value in self._units())

    def xds_problems(self) -> list[str]:
        problems = []
        if self.fraction:
            problems.append("fractional seconds are not allowed in XDS date-times")
        if self.offset:
            problems.append("a time zone offset is not allowed in XDS date-times (they are UTC)")
        return problems

    def lower_bound(self) -> datetime:
        """First instant (UTC) this value covers: `2004` -> 2004-01-01T00:00:00."""
        return _clamp(lambda: self._local_start() - self._offset_delta(), near_end=self.year >= 5000)

    def upper_bound(self) -> datetime:
        """First instant (UTC) after this value: `2004` -> 2005-01-01T00:00:00 (exclusive)."""
        return _clamp(lambda: self._local_end() - self._offset_delta(), near_end=self.year >= 5000)

    def _units(self) -> tuple[int | None, ...]:
        return (self.month, self.day, self.hour, self.minute, self.second)

    def _local_start(self) -> datetime:
        microsecond = int(self.fraction.ljust(6, "0")) if self.fraction else 0
        return datetime(
            self.year, self.month or 1, self.day or 1, self.hour or 0, self.minute or 0,
            self.second or 0, microsecond,
        )  # fmt: skip

    def _local_end(self) -> datetime:
        start = self._local_start()
        if self.fraction:
            return start + timedelta(microseconds=10 ** (6 - len(self.fraction)))
        if self.month is None:
            return start.replace(year=self.year + 1)
        if self.day is None:
            if self.month == 12:
                return start.replace(year=self.year + 1, month=1)
            return start.replace(month=self.month + 1)
        return start + _STEP[self.digits]

    def _offset_delta(self) -> timedelta:
        if not self.offset:
            return timedelta(0)
        sign = -1 if self.offset[0] == "-" else 1
        return sign * timedelta(hours=int(self.offset[1:3]), minutes=int(self.offset[3:5]))

    def _check_nesting(self) -> None:
        # A unit may only be given when every larger unit is: no day without a month.
        values = self._units()
        for index in range(1, len(values)):
            if values[index] is not None and values[index - 1] is None:
                raise ValueError(f"{_UNITS[index]} given without {_UNITS[index - 1]}")
        if self.fraction and self.second is None:
            raise ValueError("fractional seconds given without seconds")

    def _check_ranges(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is out of range 0001-9999")
        if self.month is not None:
            _check_range("month", self.month, 1, 12)
        if self.day is not None:
            last = calendar.monthrange(self.year, self.month or 1)[1]
            _check_range("day", self.day, 1, last, f" for {self.year:04d}-{self.month:02d}")
        clock = (("hour", self.hour, 23), ("minute", self.minute, 59), ("second", self.second, 59))
        for name, value, top in clock:
            if value is not None:
                _check_range(name, value, 0, top)

    def _check_suffixes(self) -> None:
        if self.fraction and not (self.fraction.isdigit() and len(self.fraction) <= 4):
            raise ValueError(f"fraction {self.fraction!r} must be 1-4 digits")
        if self.offset:
            if re.fullmatch(r"[+-]\d{4}", self.offset) is None:
                raise ValueError(f"time zone offset {self.offset!r} must be +HHMM or -HHMM")
            _check_range("time zone hour", int(self.offset[1:3]), 0, 23)
            _check_range("time zone minute", int(self.offset[3:5]), 0, 59)


def _check_range(name: str, value: int, low: int, high: int, where: str = "") -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is out of range {low}-{high}{where}")


def _clamp(compute: Callable[[], datetime], near_end: bool) -> datetime:
    """Bounds beyond what datetime holds (year 9999 at year precision, or an offset pushing year
    1 or 9999 over the edge) saturate at datetime.min / datetime.max instead of failing."""
    try:
        return compute()
    except (OverflowError, ValueError):
        return datetime.max if near_end else datetime.min

