"""Importing Helsedirektoratet's code-list exports (FinnKode JSON, FHIR CodeSystem, CSV)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from profiles.norway.codesets import CodeSetError, load_code_sets, write_code_set
from profiles.norway.finnkode import import_finnkode

SAMPLES = Path(__file__).parent / "data"
DAY = date(2026, 11, 21)


def test_finnkode_json_code_list():
    code_set = import_finnkode(SAMPLES / "finnkode-9603.json", retrieved=DAY)
    assert code_set.list_id == "9603"
    assert code_set.oid == "2.16.578.1.12.4.1.1.9603"
    assert code_set.name == "9603 Sperring og nekting av dokumenter"
    assert dict(code_set.codes) == {
        "N": "Normal", "NORN_FFH": "Nektet, fare for helsepersonell",
        "NORN_FPB": "Nektet, forsvarlig pasientbehandling",
        "NORU": "Utsatt innsyn for innbygger", "NORS": "Sperret"}
    assert code_set.retrieved == DAY and code_set.complete
    assert "finnkode-9603.json" in code_set.source and "FinnKode JSON" in code_set.source


def test_inactive_codes_only_on_request():
    code_set = import_finnkode(SAMPLES / "finnkode-9603.json", include_inactive=True)
    assert "NORN-FPB" in code_set
    assert code_set.retrieved == date.today()


def test_bare_codevalues_array_takes_list_from_value_ids():
    code_set = import_finnkode(SAMPLES / "codevalues-array.json")
    assert code_set.list_id == "9602"
    assert dict(code_set.codes) == {"A00-1": "Epikriser og sammenfatninger", "A03-2": "Epikrise"}


def test_fhir_code_system():
    code_set = import_finnkode(SAMPLES / "no-kodeverk-9060.codesystem.json")
    assert code_set.list_id == "9060" and code_set.oid == "2.16.578.1.12.4.1.1.9060"
    assert code_set.name == "9060 Kategori helsepersonell"
    assert dict(code_set.codes) == {"LE": "Lege", "SP": "Sykepleier", "JO": "Jordmor",
                                    "PS": "Psykolog"}
    assert code_set.complete


def test_fhir_code_system_without_content_is_not_complete(tmp_path):
    data = json.loads((SAMPLES / "no-kodeverk-9060.codesystem.json").read_text(encoding="utf-8"))
    data["content"] = "fragment"
    path = tmp_path / "fragment.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert not import_finnkode(path).complete


def test_semicolon_csv_in_windows_1252_with_header():
    code_set = import_finnkode(SAMPLES / "volven-8663.csv")
    assert code_set.list_id == "8663"
    assert dict(code_set.codes) == {"KP01": "Legetjeneste ved sykehjem mv.",
                                    "KP02": "Sykepleietjeneste", "KX18": "Barnevernvakt"}


def test_tab_separated_without_header():
    code_set = import_finnkode(SAMPLES / "8655-uten-overskrift.tsv", name="8655 Tjenestetyper")
    assert code_set.list_id == "8655" and code_set.name == "8655 Tjenestetyper"
    assert code_set.display("S10") == "Øyesykdommer" and len(code_set) == 4


def test_csv_naming_its_list_in_a_column(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("OID,Verdi,Navn\n2.16.578.1.12.4.1.1.9034,6,Fastlege\n"
                    "2.16.578.1.12.4.1.1.9034,4,Journalansvarlig\n", encoding="utf-8")
    code_set = import_finnkode(path)
    assert code_set.list_id == "9034" and code_set.display("6") == "Fastlege"


def test_explicit_list_id_and_oid_win(tmp_path):
    path = tmp_path / "roles.csv"
    path.write_text("code;display\nX;Lokal rolle\n", encoding="utf-8")
    code_set = import_finnkode(path, list_id="local-roles", oid="urn:oid:1.2.3.4",
                               complete=False)
    assert (code_set.list_id, code_set.oid, code_set.complete) == ("local-roles", "1.2.3.4", False)


def test_unknown_list_is_refused(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Kode;Tekst\nA;B\n", encoding="utf-8")
    with pytest.raises(CodeSetError, match="list_id"):
        import_finnkode(path)


def test_non_volven_list_needs_an_oid(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("Kode;Tekst\nA;B\n", encoding="utf-8")
    with pytest.raises(CodeSetError, match="oid"):
        import_finnkode(path, list_id="local")


@pytest.mark.parametrize("text, message", [
    ('{"resourceType": "ValueSet"}', "neither"),
    ('{"codeValues": {}}', "array"),
    ('{"codeValues": [', "Expecting"),
    ("", "no rows"),
    ("Kode;Tekst\nA;B\nA;C\n", "twice"),
])
def test_malformed_exports_are_refused(tmp_path, text, message):
    path = tmp_path / "1234.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CodeSetError, match=message):
        import_finnkode(path)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CodeSetError):
        import_finnkode(tmp_path / "9602.json")


def test_imported_list_replaces_the_bundled_one(tmp_path):
    deployment = tmp_path / "codes"
    write_code_set(import_finnkode(SAMPLES / "finnkode-9603.json", retrieved=DAY), deployment)
    loaded = load_code_sets(deployment)
    assert set(loaded["9603"].codes) == {"N", "NORN_FFH", "NORN_FPB", "NORU", "NORS"}
    assert loaded["9603"].retrieved == DAY
    assert load_code_sets()["9603"].display("NORN_UNGDOM") == "Nektet, ungdom"
