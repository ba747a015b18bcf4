"""Bundled Norwegian code lists, the 9602 class/type split and deployment overrides."""
from __future__ import annotations

import json
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from profiles.norway.codesets import (
    VOLVEN_OID_PREFIX, CodeSet, CodeSetError, class_of_type, is_class_code, is_type_code,
    load_code_sets, parse_code_set, read_code_set_file, type_belongs_to_class, write_code_set,
)

REPO = Path(__file__).resolve().parents[3]
DATA_DIR = REPO / "profiles" / "norway" / "data"
EXPECTED_LISTS = {"9602", "9603", "hl7-confidentiality", "1303", "8651", "8653", "8654", "8655",
                  "8663", "7210", "9034", "7426", "9060", "formatcode", "1305"}


@pytest.fixture(scope="module")
def code_sets():
    return load_code_sets()


def write_json(folder: Path, name: str, data: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def a_list(list_id="9602", codes=(("A00-1", "Epikriser og sammenfatninger"),), **extra) -> dict:
    return {"list": list_id, "oid": VOLVEN_OID_PREFIX + list_id if list_id.isdigit() else "1.2.3",
            "name": f"list {list_id}", "source": "test", "retrieved": "2026-01-02",
            "complete": False, "codes": [{"code": c, "display": d} for c, d in codes], **extra}


# --- bundled files ------------------------------------------------------------------------

def test_every_expected_list_is_bundled(code_sets):
    assert EXPECTED_LISTS <= {code_set.list_id for code_set in code_sets}


def test_each_bundled_file_names_its_source_and_date(code_sets):
    for code_set in code_sets:
        assert len(code_set.source) > 20, code_set.list_id
        assert date(2020, 1, 1) <= code_set.retrieved <= date.today()
        assert isinstance(code_set.complete, bool)


def test_partial_lists_say_so_in_their_source(code_sets):
    for code_set in code_sets:
        if not code_set.complete:
            assert any(word in code_set.source.lower()
                       for word in ("partial", "only", "limited", "no codes", "left out")), \
                code_set.list_id


def test_volven_lists_carry_their_volven_oid(code_sets):
    for code_set in code_sets:
        if code_set.list_id.isdigit():
            assert code_set.oid == VOLVEN_OID_PREFIX + code_set.list_id


def test_each_bundled_file_is_named_after_its_list():
    for path in DATA_DIR.glob("*.json"):
        code_set, merge = read_code_set_file(path)
        assert path.stem == code_set.list_id
        assert merge is False


def test_bundled_files_are_package_data():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "norway/data/*.json" in pyproject["tool"]["setuptools"]["package-data"]["profiles"]


def test_complete_lists_are_the_sourced_full_lists(code_sets):
    assert {c.list_id for c in code_sets if c.complete} == {"9603", "9060"}


def test_confidentiality_codes_of_the_profile(code_sets):
    for code in ("N", "NORS", "NORU", "NORN_ALL", "NORN_ANG", "NORN_DUP", "NORN_EPO", "NORN_FFH",
                 "NORN_FFL", "NORN_FOR", "NORN_FORANS", "NORN_FPB", "NORN_KUT", "NORN_UNGDOM"):
        assert code_sets.contains("9603", code), code
    assert len(code_sets["9603"]) == 14
    assert set(code_sets["hl7-confidentiality"].codes) == {"N", "R", "V"}
    assert code_sets["hl7-confidentiality"].oid == "2.16.840.1.113883.5.25"


def test_profile_examples_are_present(code_sets):
    examples = {"1303": ("86.101", "86.211", "86.212", "86.901", "87.102"),
                "8663": ("KP01", "KP02"), "9034": ("3", "4", "6"), "7426": ("1", "2", "3"),
                "9060": ("LE", "SP"), "formatcode": ("urn:no:ehelse:document:pdf",
                                                     "urn:ihe:iti:xds:2017:mimeTypeSufficient")}
    for list_id, codes in examples.items():
        for code in codes:
            assert code_sets.contains(list_id, code), (list_id, code)
    assert code_sets.display("1303", "86.101") == "Alminnelige somatiske sykehus"
    assert code_sets.display("9034", "6") == "Fastlege"


def test_lookup_by_list_id_oid_or_urn(code_sets):
    by_id = code_sets.get("9602")
    assert by_id is code_sets.get("2.16.578.1.12.4.1.1.9602")
    assert by_id is code_sets.get("urn:oid:2.16.578.1.12.4.1.1.9602")
    assert code_sets.contains("urn:oid:2.16.578.1.12.4.1.1.9602", "A03-2")
    assert code_sets.display("2.16.578.1.12.4.1.1.9602", "A03-2") == "Epikrise"


def test_unknown_lists_and_codes(code_sets):
    assert code_sets.get("1.2.3.4") is None
    assert not code_sets.contains("1.2.3.4", "A03-2")
    assert code_sets.display("9602", "Z99-9") is None
    assert not code_sets.contains("9602", "Z99-9")
    with pytest.raises(KeyError):
        code_sets["no-such-list"]


def test_coding_scheme_judgement(code_sets):
    assert code_sets["9602"].accepts_scheme("urn:oid:2.16.578.1.12.4.1.1.9602")
    assert not code_sets["9602"].accepts_scheme("2.16.578.1.12.4.1.1.9603")
    # the Norwegian format codes' scheme could not be sourced: not judged (configurable)
    assert code_sets["formatcode"].any_scheme
    assert code_sets["formatcode"].accepts_scheme("anything")


def test_event_code_list_has_no_bundled_codes(code_sets):
    event_codes = code_sets["7210"]
    assert len(event_codes) == 0 and not event_codes.complete


def test_code_sets_are_frozen(code_sets):
    with pytest.raises(TypeError):
        code_sets["9602"].codes["X00-1"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        code_sets["9602"].name = "x"  # type: ignore[misc]


# --- 9602 class / type split --------------------------------------------------------------

@pytest.mark.parametrize("code, is_class, is_type", [
    ("A00-1", True, False), ("S00-1", True, False), ("A03-2", False, True),
    ("D13-2", False, True), ("A00-2", False, True), ("a03-2", False, False),
    ("A3-2", False, False), ("A03-20", False, False), ("", False, False), ("NORS", False, False),
])
def test_class_and_type_codes(code, is_class, is_type):
    assert is_class_code(code) is is_class
    assert is_type_code(code) is is_type


@pytest.mark.parametrize("type_code, class_code, belongs", [
    ("A03-2", "A00-1", True), ("A13-2", "A00-1", True), ("J01-2", "J00-1", True),
    ("A03-2", "B00-1", False), ("A00-1", "A00-1", False), ("A03-2", "A03-2", False),
    ("x", "A00-1", False),
])
def test_type_belongs_to_class(type_code, class_code, belongs):
    assert type_belongs_to_class(type_code, class_code) is belongs


def test_bundled_9602_splits_into_classes_and_types(code_sets):
    classes, types = code_sets.class_codes(), code_sets.type_codes()
    assert set(classes) == {f"{letter}00-1" for letter in "ABCDEFIJS"}
    assert set(classes) | set(types) == set(code_sets["9602"].codes)
    for type_code in types:
        assert class_of_type(type_code) in classes, type_code
        assert sum(type_belongs_to_class(type_code, c) for c in classes) == 1


def test_class_of_type():
    assert class_of_type("A03-2") == "A00-1"
    assert class_of_type("A00-1") is None


# --- deployment folder --------------------------------------------------------------------

def test_deployment_file_replaces_a_bundled_list(tmp_path, code_sets):
    write_json(tmp_path, "9602.json", a_list(codes=[("A00-1", "Epikriser"), ("A99-2", "Ny")]))
    loaded = load_code_sets(tmp_path)
    assert set(loaded["9602"].codes) == {"A00-1", "A99-2"}
    assert loaded.display("9602", "A00-1") == "Epikriser"
    assert loaded["9603"] == code_sets["9603"]


def test_deployment_file_can_merge_into_a_bundled_list(tmp_path, code_sets):
    write_json(tmp_path, "more.json",
               a_list(codes=[("A99-2", "Ny type"), ("A03-2", "Epikrise (ny tekst)")], merge=True))
    merged = load_code_sets(tmp_path)["9602"]
    assert set(merged.codes) == set(code_sets["9602"].codes) | {"A99-2"}
    assert merged.display("A03-2") == "Epikrise (ny tekst)"


def test_deployment_file_can_add_a_list(tmp_path):
    write_json(tmp_path, "local.json", a_list("local-roles", [("X", "Lokal rolle")]))
    loaded = load_code_sets(tmp_path)
    assert loaded.contains("local-roles", "X") and loaded.contains("1.2.3", "X")
    assert "9602" in loaded


def test_bundled_lists_are_untouched_by_an_override(tmp_path, code_sets):
    write_json(tmp_path, "9602.json", a_list(codes=[("A00-1", "x")]))
    load_code_sets(tmp_path)
    assert load_code_sets()["9602"] == code_sets["9602"]


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("source"), "missing source"),
    (lambda d: d.update(retrieved="21.11.2026"), "YYYY-MM-DD"),
    (lambda d: d.update(complete="yes"), "complete"),
    (lambda d: d["codes"].append(dict(d["codes"][0])), "twice"),
    (lambda d: d.update(codes=[{"display": "no code"}]), "code"),
    (lambda d: d.update(aliases="1.2.3"), "aliases"),
])
def test_malformed_deployment_files_are_refused(tmp_path, change, message):
    data = a_list()
    change(data)
    write_json(tmp_path, "bad.json", data)
    with pytest.raises(CodeSetError, match=message):
        load_code_sets(tmp_path)


def test_a_list_defined_twice_in_one_folder_is_refused(tmp_path):
    write_json(tmp_path, "a.json", a_list())
    write_json(tmp_path, "b.json", a_list())
    with pytest.raises(CodeSetError, match="twice"):
        load_code_sets(tmp_path)


def test_missing_deployment_folder_is_refused(tmp_path):
    with pytest.raises(CodeSetError, match="not a folder"):
        load_code_sets(tmp_path / "absent")


def test_invalid_json_is_refused(tmp_path):
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(CodeSetError, match="broken.json"):
        load_code_sets(tmp_path)


# --- writing ------------------------------------------------------------------------------

def test_write_code_set_round_trips_and_loads(tmp_path, code_sets):
    path = write_code_set(code_sets["9603"], tmp_path / "codes")
    assert path.name == "9603.json"
    again, _ = read_code_set_file(path)
    assert again == code_sets["9603"]
    assert load_code_sets(tmp_path / "codes")["9603"] == code_sets["9603"]
    assert list(path.parent.iterdir()) == [path]


def test_write_code_set_keeps_scheme_settings(tmp_path, code_sets):
    path = write_code_set(code_sets["formatcode"], tmp_path)
    assert json.loads(path.read_text(encoding="utf-8"))["any_scheme"] is True


def test_write_code_set_refuses_unnameable_list(tmp_path):
    code_set = CodeSet("..", "1.2.3", "x", {}, "s", date(2026, 1, 1), False)
    with pytest.raises(CodeSetError):
        write_code_set(code_set, tmp_path)


codes_strategy = st.dictionaries(
    st.text(alphabet="ABCNORSX0123456789-_.", min_size=1, max_size=8),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30).map(str.strip),
    max_size=20)


@given(codes=codes_strategy, complete=st.booleans(), any_scheme=st.booleans(),
       aliases=st.lists(st.sampled_from(["1.2.3", "2.16.578.1.12.4.1.1.1"]), unique=True))
def test_json_form_round_trips(codes, complete, any_scheme, aliases):
    original = CodeSet("1234", VOLVEN_OID_PREFIX + "1234", "Liste", codes, "kilde",
                       date(2026, 11, 21), complete, tuple(aliases), any_scheme)
    again, merge = parse_code_set(json.loads(json.dumps(original.to_json())))
    assert again == original and merge is False
