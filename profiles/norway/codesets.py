"""Norwegian code lists as data (HIS 1169 code bindings; PROFILE.md §4).

Each list is one JSON file under `profiles/norway/data/` (bundled) or in a deployment's own
folder (`extra_dir`), of the form::

    {"list": "9602", "oid": "2.16.578.1.12.4.1.1.9602", "name": "...",
     "source": "...", "retrieved": "YYYY-MM-DD", "complete": false,
     "aliases": [], "any_scheme": false, "merge": false,
     "codes": [{"code": "A00-1", "display": "Epikriser og sammenfatninger"}, ...]}

`complete` says whether the file holds the whole official list; a partial list names what
it lacks in `source`. `aliases` are further codingScheme values accepted for the list, and
`any_scheme: true` means the codingScheme is not judged (used where HIS 1169's scheme could
not be sourced). A deployment file with the same `list` replaces the bundled one, or with
`"merge": true` adds to and re-labels its codes; a file with a new `list` extends the set.

Volven list 9602 holds both classCode (codes ending `00-1`) and typeCode (all others); a
type belongs to the class with the same leading letter (A03-2 -> A00-1).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

VOLVEN_OID_PREFIX = "2.16.578.1.12.4.1.1."
DOCUMENT_TYPE_LIST = "9602"
_REQUIRED_KEYS = ("list", "oid", "name", "source", "retrieved", "complete", "codes")
_DOCUMENT_TYPE_CODE = re.compile(r"^[A-Z]\d{2}-\d$")


class CodeSetError(ValueError):
    """A code-list file is malformed; the message names the file and the fault."""


def strip_oid_urn(value: str) -> str:
    """`urn:oid:1.2.3` -> `1.2.3`; anything else unchanged (codingScheme may carry either)."""
    value = value.strip()
    return value[8:] if value.lower().startswith("urn:oid:") else value


@dataclass(frozen=True, slots=True)
class CodeSet:
    """One code list: its identity, provenance and codes (code -> display name)."""

    list_id: str
    oid: str
    name: str
    codes: Mapping[str, str]
    source: str
    retrieved: date
    complete: bool
    aliases: tuple[str, ...] = ()
    any_scheme: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", MappingProxyType(dict(self.codes)))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self.codes

    def __len__(self) -> int:
        return len(self.codes)

    def display(self, code: str) -> str | None:
        return self.codes.get(code)

    @property
    def schemes(self) -> tuple[str, ...]:
        """Every codingScheme value naming this list (its OID first)."""
        return (self.oid, *self.aliases)

    def accepts_scheme(self, scheme: str) -> bool:
        """Whether a Classification's codingScheme names this list."""
        return self.any_scheme or strip_oid_urn(scheme) in self.schemes

    def merged_with(self, other: "CodeSet") -> "CodeSet":
        """This list with `other`'s codes added (and their display names taking precedence)."""
        return replace(other, codes={**self.codes, **other.codes},
                       aliases=tuple(dict.fromkeys((*self.aliases, *other.aliases))))

    def to_json(self) -> dict:
        """The data-file form (see the module docstring)."""
        data = {"list": self.list_id, "oid": self.oid, "name": self.name, "source": self.source,
                "retrieved": self.retrieved.isoformat(), "complete": self.complete}
        if self.aliases:
            data["aliases"] = list(self.aliases)
        if self.any_scheme:
            data["any_scheme"] = True
        data["codes"] = [{"code": c, "display": d} for c, d in self.codes.items()]
        return data


@dataclass(frozen=True, slots=True)
class CodeSets:
    """All loaded lists, found by list id (`"9602"`) or by OID / alias (with or without urn:oid:)."""

    by_list: Mapping[str, CodeSet]
    _by_scheme: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for list_id, code_set in self.by_list.items():
            for scheme in code_set.schemes:
                index.setdefault(scheme, list_id)
        object.__setattr__(self, "by_list", MappingProxyType(dict(self.by_list)))
        object.__setattr__(self, "_by_scheme", MappingProxyType(index))

    def get(self, list_or_oid: str) -> CodeSet | None:
        """The list named by its id or one of its schemes, or None."""
        if list_or_oid in self.by_list:
            return self.by_list[list_or_oid]
        list_id = self._by_scheme.get(strip_oid_urn(list_or_oid))
        return self.by_list[list_id] if list_id is not None else None

    def __getitem__(self, list_or_oid: str) -> CodeSet:
        code_set = self.get(list_or_oid)
        if code_set is None:
            raise KeyError(list_or_oid)
        return code_set

    def __contains__(self, list_or_oid: object) -> bool:
        return isinstance(list_or_oid, str) and self.get(list_or_oid) is not None

    def __iter__(self) -> Iterator[CodeSet]:
        return iter(self.by_list.values())

    def __len__(self) -> int:
        return len(self.by_list)

    def contains(self, list_or_oid: str, code: str) -> bool:
        """Whether `code` is in the named list (False when the list is unknown)."""
        code_set = self.get(list_or_oid)
        return code_set is not None and code in code_set

    def display(self, list_or_oid: str, code: str) -> str | None:
        code_set = self.get(list_or_oid)
        return code_set.display(code) if code_set is not None else None

    def type_codes(self) -> dict[str, str]:
        """The typeCode part of list 9602."""
        return {c: d for c, d in self._document_types().items() if is_type_code(c)}

    def class_codes(self) -> dict[str, str]:
        """The classCode part of list 9602."""
        return {c: d for c, d in self._document_types().items() if is_class_code(c)}

    def _document_types(self) -> Mapping[str, str]:
        code_set = self.get(DOCUMENT_TYPE_LIST)
        return code_set.codes if code_set is not None else {}


# --- 9602 class / type split -------------------------------------------------------------

def is_class_code(code: str) -> bool:
    """A 9602 classCode: one letter, `00-1` (A00-1 Epikriser og sammenfatninger)."""
    return bool(_DOCUMENT_TYPE_CODE.match(code)) and code.endswith("00-1")


def is_type_code(code: str) -> bool:
    """A 9602 typeCode: any well-formed 9602 code that is not a class code (A03-2 Epikrise)."""
    return bool(_DOCUMENT_TYPE_CODE.match(code)) and not code.endswith("00-1")


def type_belongs_to_class(type_code: str, class_code: str) -> bool:
    """Whether a 9602 typeCode falls under a classCode: same leading letter (A03-2 -> A00-1)."""
    return is_type_code(type_code) and is_class_code(class_code) and type_code[0] == class_code[0]


def class_of_type(type_code: str) -> str | None:
    """The classCode a 9602 typeCode belongs to (A03-2 -> A00-1), or None for a non-type code."""
    return f"{type_code[0]}00-1" if is_type_code(type_code) else None


# --- reading and writing files ----------------------------------------------------------

def parse_code_set(data: object, origin: str = "<data>") -> tuple[CodeSet, bool]:
    """A CodeSet from the data-file form, and whether the file asks to be merged."""
    if not isinstance(data, dict):
        raise CodeSetError(f"{origin}: expected a JSON object")
    missing = [key for key in _REQUIRED_KEYS if key not in data]
    if missing:
        raise CodeSetError(f"{origin}: missing {', '.join(missing)}")
    code_set = CodeSet(
        list_id=_text(data, "list", origin), oid=strip_oid_urn(_text(data, "oid", origin)),
        name=_text(data, "name", origin), codes=_codes(data["codes"], origin),
        source=_text(data, "source", origin), retrieved=_date(data["retrieved"], origin),
        complete=_flag(data, "complete", origin),
        aliases=tuple(strip_oid_urn(a) for a in _texts(data.get("aliases", []), origin)),
        any_scheme=_flag(data, "any_scheme", origin, default=False))
    return code_set, _flag(data, "merge", origin, default=False)


def read_code_set_file(path: Path) -> tuple[CodeSet, bool]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodeSetError(f"{path}: {exc}") from exc
    return parse_code_set(data, str(path))


def write_code_set(code_set: CodeSet, dest_dir: Path) -> Path:
    """Write `code_set` as `<dest_dir>/<list id>.json` (atomically); returns the path."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{_file_stem(code_set.list_id)}.json"
    text = json.dumps(code_set.to_json(), ensure_ascii=False, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=dest_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_code_sets(extra_dir: Path | None = None) -> CodeSets:
    """The bundled lists (read once per process), overridden/extended by `extra_dir`'s files."""
    lists = dict(_bundled_code_sets())
    if extra_dir is not None:
        for code_set, merge in _read_dir(Path(extra_dir)):
            base = lists.get(code_set.list_id)
            lists[code_set.list_id] = base.merged_with(code_set) if merge and base else code_set
    return CodeSets(lists)


@lru_cache(maxsize=1)
def _bundled_code_sets() -> tuple[tuple[str, CodeSet], ...]:
    data_dir = resources.files(__package__).joinpath("data")
    found: dict[str, CodeSet] = {}
    for entry in sorted(data_dir.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            code_set, _ = parse_code_set(json.loads(entry.read_text(encoding="utf-8")), entry.name)
            _add_unique(found, code_set, entry.name)
    return tuple(found.items())


def _read_dir(folder: Path) -> list[tuple[CodeSet, bool]]:
    if not folder.is_dir():
        raise CodeSetError(f"{folder}: not a folder")
    read = [read_code_set_file(path) for path in sorted(folder.glob("*.json"))]
    _add_all_unique(read, folder)
    return read


def _add_all_unique(read: list[tuple[CodeSet, bool]], folder: Path) -> None:
    seen: dict[str, CodeSet] = {}
    for code_set, _ in read:
        _add_unique(seen, code_set, str(folder))


def _add_unique(found: dict[str, CodeSet], code_set: CodeSet, origin: str) -> None:
    if code_set.list_id in found:
        raise CodeSetError(f"{origin}: list {code_set.list_id} is defined twice")
    found[code_set.list_id] = code_set


def _file_stem(list_id: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", list_id).strip(".-")
    if not stem:
        raise CodeSetError(f"list id {list_id!r} cannot name a file")
    return stem


def _text(data: dict, key: str, origin: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise CodeSetError(f"{origin}: {key} must be a non-empty string")
    return value.strip()


def _texts(values: object, origin: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise CodeSetError(f"{origin}: aliases must be a list of strings")
    return values


def _flag(data: dict, key: str, origin: str, default: bool | None = None) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise CodeSetError(f"{origin}: {key} must be true or false")
    return value


def _date(value: object, origin: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CodeSetError(f"{origin}: retrieved must be YYYY-MM-DD, got {value!r}") from exc


def _codes(entries: object, origin: str) -> dict[str, str]:
    if not isinstance(entries, list):
        raise CodeSetError(f"{origin}: codes must be a list")
    codes: dict[str, str] = {}
    for entry in entries:
        code, display = _code_entry(entry, origin)
        if code in codes:
            raise CodeSetError(f"{origin}: code {code!r} appears twice")
        codes[code] = display
    return codes


def _code_entry(entry: object, origin: str) -> tuple[str, str]:
    if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
        raise CodeSetError(f"{origin}: each code needs a string 'code'")
    code, display = entry["code"].strip(), entry.get("display", "")
    if not code or not isinstance(display, str):
        raise CodeSetError(f"{origin}: bad code entry {entry!r}")
    return code, display.strip()
