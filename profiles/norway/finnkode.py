"""Import Helsedirektoratet's published code-list exports into `CodeSet`s (PROFILE.md §4).

So a deployment can load the full official lists without code changes
(`xdsno codes import FILE` -> `import_finnkode` -> `codesets.write_code_set`). Shapes read:

- FinnKode JSON, as served by Helsedirektoratet's terminology API behind FinnKode
  (`https://fat.kote.helsedirektoratet.no/api/code-systems/adm/codelist/{list}`):
  `{"id": "9603", "name": ..., "status": ..., "statusLastChanged": ..., "owner": {...},
  "codeValues": [{"id": "9603-NORS", "name": "Sperret", "value": "NORS", "sortKey": "130",
  "description": ..., "validFrom": ..., "active": true}, ...], "validFrom": ..., "active": true}`
  (property names matched case-insensitively), or a bare JSON array of such codeValues.
- FHIR CodeSystem JSON, as HL7 Norway publishes the Volven lists (`CodeSystem` with an
  `urn:oid:2.16.578.1.12.4.1.1.<list>` identifier and nested `concept`s).
- Delimited text (`;`, `,`, tab or `|`), UTF-8 or Windows-1252, with a header naming the code
  and text columns (kode/verdi/value/code, navn/tekst/betegnelse/name/display, optional
  aktiv/active/status and kodeverk/oid), or without a header as `code;text` rows. The exact
  column layout of FinnKode's own file download could not be confirmed, so the header names
  are matched loosely.

The list id comes from the `list_id` argument, else the file's content, else the first
3-5 digit number in the file name; a numeric list id gets the Volven OID
2.16.578.1.12.4.1.1.<list>.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

from .codesets import VOLVEN_OID_PREFIX, CodeSet, CodeSetError, strip_oid_urn

_CODE_COLUMNS = ("kode", "verdi", "kodeverdi", "value", "code", "codevalue")
_TEXT_COLUMNS = ("navn", "tekst", "kodetekst", "betegnelse", "term", "name", "display",
                 "beskrivelse", "description")
_ACTIVE_COLUMNS = ("aktiv", "active", "status", "gyldig")
_LIST_COLUMNS = ("kodeverk", "kodeverkid", "kodeverknummer", "oid", "codesystem")
_INACTIVE_WORDS = {"false", "nei", "no", "0", "inaktiv", "inactive", "utgått", "retired", "n"}


def import_finnkode(path: Path, *, list_id: str | None = None, oid: str | None = None,
                    name: str | None = None, retrieved: date | None = None,
                    include_inactive: bool = False, complete: bool = True) -> CodeSet:
    """Read one exported code list (any shape in the module docstring) into a CodeSet."""
    path = Path(path)
    raw = _read_text(path)
    parsed = _parse(raw, path.name, include_inactive)
    list_id = list_id or parsed.list_id or _list_id_from_name(path.name)
    if not list_id:
        raise CodeSetError(f"{path}: cannot tell which list this is; give list_id")
    return CodeSet(
        list_id=list_id, oid=_oid(list_id, oid or parsed.oid, path),
        name=name or parsed.name or f"Volven {list_id}", codes=parsed.codes,
        source=f"Imported from {path.name} ({parsed.shape}); Helsedirektoratet code-list export",
        retrieved=retrieved or date.today(),
        complete=complete if parsed.complete is None else parsed.complete and complete)


class _Parsed:
    """What a file said about itself; None where it said nothing."""

    def __init__(self, shape: str, codes: dict[str, str], list_id: str | None = None,
                 oid: str | None = None, name: str | None = None,
                 complete: bool | None = None) -> None:
        self.shape, self.codes, self.list_id = shape, codes, list_id
        self.oid, self.name, self.complete = oid, name, complete


def _parse(raw: str, origin: str, include_inactive: bool) -> _Parsed:
    stripped = raw.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise CodeSetError(f"{origin}: {exc}") from exc
        return _parse_json(data, origin, include_inactive)
    return _parse_delimited(raw, origin, include_inactive)


# --- JSON ---------------------------------------------------------------------------------

def _parse_json(data: object, origin: str, include_inactive: bool) -> _Parsed:
    if isinstance(data, list):
        return _finnkode_values(data, origin, include_inactive, shape="FinnKode JSON codeValues")
    if not isinstance(data, dict):
        raise CodeSetError(f"{origin}: expected a JSON object or array")
    data = {k.lower(): v for k, v in data.items()}
    if data.get("resourcetype") == "CodeSystem":
        return _fhir_code_system(data, origin)
    if "codevalues" in data:
        return _finnkode_list(data, origin, include_inactive)
    raise CodeSetError(f"{origin}: neither a FinnKode code list (codeValues) "
                       "nor a FHIR CodeSystem")


def _finnkode_list(data: dict, origin: str, include_inactive: bool) -> _Parsed:
    parsed = _finnkode_values(data["codevalues"], origin, include_inactive,
                              shape="FinnKode JSON")
    if data.get("id") is not None:
        parsed.list_id = str(data["id"]).strip() or parsed.list_id
    name = data.get("name")
    if isinstance(name, str) and name.strip():
        name = name.strip()
        prefix = parsed.list_id or ""
        parsed.name = name if name.startswith(prefix) else f"{prefix} {name}"
    return parsed


def _finnkode_values(values: object, origin: str, include_inactive: bool,
                     shape: str) -> _Parsed:
    if not isinstance(values, list):
        raise CodeSetError(f"{origin}: codeValues must be an array")
    codes: dict[str, str] = {}
    list_ids: set[str] = set()
    for entry in values:
        value = _finnkode_value(entry, origin)
        if value is None or not (include_inactive or value[2]):
            continue
        _add_code(codes, value[0], value[1], origin)
        list_ids.update(_list_id_from_value_id(entry))
    return _Parsed(shape, codes, list_id=list_ids.pop() if len(list_ids) == 1 else None)


def _finnkode_value(entry: object, origin: str) -> tuple[str, str, bool] | None:
    if not isinstance(entry, dict):
        raise CodeSetError(f"{origin}: each codeValue must be an object")
    entry = {k.lower(): v for k, v in entry.items()}
    code = entry.get("value")
    if not isinstance(code, str) or not code.strip():
        return None
    display = entry.get("name") or entry.get("description") or ""
    return code.strip(), str(display).strip(), entry.get("active", True) is not False


def _list_id_from_value_id(entry: dict) -> set[str]:
    value_id = next((v for k, v in entry.items() if k.lower() == "id"), None)
    match = re.match(r"^(\d{3,5})-", value_id) if isinstance(value_id, str) else None
    return {match.group(1)} if match else set()


def _fhir_code_system(data: dict, origin: str) -> _Parsed:
    codes: dict[str, str] = {}
    for code, display in _fhir_concepts(data.get("concept", []), origin):
        _add_code(codes, code, display, origin)
    oid = _fhir_oid(data)
    list_id = _volven_list(oid) if oid else None
    name = data.get("title") or data.get("name")
    content = data.get("content")
    return _Parsed("FHIR CodeSystem JSON", codes, list_id=list_id, oid=oid,
                   name=name if isinstance(name, str) else None,
                   complete=None if content is None else content == "complete")


def _fhir_concepts(concepts: object, origin: str):
    if not isinstance(concepts, list):
        raise CodeSetError(f"{origin}: concept must be an array")
    for concept in concepts:
        if not isinstance(concept, dict) or not isinstance(concept.get("code"), str):
            raise CodeSetError(f"{origin}: each concept needs a string code")
        yield concept["code"].strip(), str(concept.get("display", "")).strip()
        yield from _fhir_concepts(concept.get("concept", []), origin)


def _fhir_oid(data: dict) -> str | None:
    identifiers = data.get("identifier", [])
    identifiers = identifiers if isinstance(identifiers, list) else [identifiers]
    for identifier in identifiers:
        value = identifier.get("value") if isinstance(identifier, dict) else None
        if isinstance(value, str) and value.lower().startswith("urn:oid:"):
            return strip_oid_urn(value)
    url = data.get("url")
    if isinstance(url, str) and url.lower().startswith("urn:oid:"):
        return strip_oid_urn(url)
    return None


# --- delimited text -----------------------------------------------------------------------

def _parse_delimited(raw: str, origin: str, include_inactive: bool) -> _Parsed:
    rows = [row for row in csv.reader(io.StringIO(raw), _dialect(raw))
            if any(cell.strip() for cell in row)]
    if not rows:
        raise CodeSetError(f"{origin}: no rows")
    columns = _columns(rows[0])
    body = rows[1:] if columns else rows
    columns = columns or {"code": 0, "text": 1}
    codes: dict[str, str] = {}
    list_ids: set[str] = set()
    for row in body:
        code, text, active, list_ref = _row(row, columns)
        if code and (include_inactive or active):
            _add_code(codes, code, text, origin)
            list_ids.update([_volven_list(list_ref)] if list_ref else [])
    list_ids.discard(None)
    return _Parsed("delimited text", codes, list_id=list_ids.pop() if len(list_ids) == 1 else None)


def _dialect(raw: str) -> type[csv.Dialect] | csv.Dialect:
    sample = "\n".join(raw.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        return csv.excel


def _columns(header: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    found = {role: _first_index(names, aliases) for role, aliases in
             (("code", _CODE_COLUMNS), ("text", _TEXT_COLUMNS),
              ("active", _ACTIVE_COLUMNS), ("list", _LIST_COLUMNS))}
    if found["code"] is None:
        return {}
    return {role: index for role, index in found.items() if index is not None}


def _first_index(names: list[str], aliases: tuple[str, ...]) -> int | None:
    for alias in aliases:
        if alias in names:
            return names.index(alias)
    return None


def _row(row: list[str], columns: dict[str, int]) -> tuple[str, str, bool, str]:
    def cell(role: str) -> str:
        index = columns.get(role)
        return row[index].strip() if index is not None and index < len(row) else ""
    active = cell("active").lower() not in _INACTIVE_WORDS
    return cell("code"), cell("text"), active, cell("list")


# --- helpers ------------------------------------------------------------------------------

def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodeSetError(f"{path}: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _add_code(codes: dict[str, str], code: str, display: str, origin: str) -> None:
    if code in codes and codes[code] != display:
        raise CodeSetError(f"{origin}: code {code!r} appears twice with different texts")
    codes[code] = display


def _volven_list(reference: str) -> str | None:
    """`2.16.578.1.12.4.1.1.9602`, `urn:oid:...9602` or `9602` -> `9602`."""
    reference = strip_oid_urn(reference)
    if reference.startswith(VOLVEN_OID_PREFIX):
        reference = reference[len(VOLVEN_OID_PREFIX):]
    return reference if reference.isdigit() else None


def _list_id_from_name(file_name: str) -> str | None:
    match = re.search(r"(?<!\d)(\d{3,5})(?!\d)", file_name)
    return match.group(1) if match else None


def _oid(list_id: str, oid: str | None, path: Path) -> str:
    if oid:
        return strip_oid_urn(oid)
    if list_id.isdigit():
        return VOLVEN_OID_PREFIX + list_id
    raise CodeSetError(f"{path}: list {list_id!r} is not a Volven number; give its oid")
