"""Choosing the profile and its options from the settings (xdsno.profiles_setup), and
`xdsno codes import/list` feeding the code-set folder the rules then judge by."""
from __future__ import annotations

import json

import pytest

from profiles.norway.options import options_for
from profiles.rules import Transaction, ValidationContext
from tests.profiles.norway import norway_samples as ns
from xdsno.cli import main
from xdsno.profiles_setup import profile_and_extras
from xdsno.settings import SettingsError, load_settings

FINNKODE_7210 = {"id": "7210", "name": "Norsk patologikodeverk", "active": True, "codeValues": [
    {"id": "7210-M80003", "value": "M80003", "name": "Malign svulst", "active": True},
    {"id": "7210-M00000", "value": "M00000", "name": "Utgått", "active": False},
]}


def settings(tmp_path, **values):
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path / "data"), **values})


def context_for(config) -> tuple:
    profile, extras = profile_and_extras(config)
    return profile, ValidationContext(Transaction.REGISTER, strict=config.strict, extras=extras)


def test_defaults_are_the_norway_profile_and_its_default_options(tmp_path):
    profile, context = context_for(settings(tmp_path))
    assert profile.name == "norway"
    assert profile.validate(ns.submission(), context) == []
    assert options_for(context).language_codes == ("nb-NO", "nn-NO", "se-NO", "en-*")


def test_settings_reach_the_rules(tmp_path):
    profile, context = context_for(settings(tmp_path, language_codes=("nb-NO",), allow_synthetic_persons=True,
                                            check_digit_scheme="classic", norway_optionality=()))
    options = options_for(context)
    assert options.allow_synthetic and options.scheme.name == "classic" and options.language_codes == ("nb-NO",)
    issues = profile.validate(ns.submission(doc=lambda d: d.with_changes(language_code="en-GB")), context)
    assert [i.context for i in issues] == ["DocumentEntry Document01: languageCode 'en-GB' is not accepted here; "
                                           "use one of nb-NO"]


def test_environment_variables_set_the_norwegian_knobs(tmp_path):
    config = load_settings(environ={"XDSNO_LANGUAGE_CODES": "nb-NO,sv-SE", "XDSNO_CHECK_DIGIT_SCHEME": "2032",
                                    "XDSNO_NORWAY_CODE_BINDINGS": "healthcareFacilityTypeCode=1303+1305"})
    assert config.language_codes == ("nb-NO", "sv-SE") and config.check_digit_scheme == "2032"
    assert options_for(context_for(config)[1]).bindings["healthcareFacilityTypeCode"] == ("1303", "1305")


@pytest.mark.parametrize("values, fragment", [
    ({"check_digit_scheme": "2033"}, "check_digit_scheme"),
    ({"partial_code_lists": "ignore"}, "partial_code_lists"),
])
def test_bad_choices_are_settings_errors(tmp_path, values, fragment):
    with pytest.raises(SettingsError, match=fragment):
        settings(tmp_path, **values)


def test_bad_option_values_are_settings_errors(tmp_path):
    with pytest.raises(SettingsError, match="norway.optionality"):
        profile_and_extras(settings(tmp_path, norway_optionality=("DocumentEntry.nothing=R",)))


def test_profile_by_name(tmp_path):
    assert profile_and_extras(settings(tmp_path), "ihe")[0].name == "ihe"


def test_codes_import_then_rules_judge_by_the_imported_list(tmp_path, capsys):
    export = tmp_path / "7210.json"
    export.write_text(json.dumps(FINNKODE_7210), encoding="utf-8")
    data_dir = str(tmp_path / "data")
    assert main(["codes", "import", str(export), "--data-dir", data_dir]) == 0
    assert "list 7210 (2.16.578.1.12.4.1.1.7210), 1 codes, complete" in capsys.readouterr().out
    assert main(["codes", "list", "--data-dir", data_dir]) == 0
    assert "7210" in capsys.readouterr().out

    profile, context = context_for(settings(tmp_path))
    known = ns.submission(doc=lambda d: d.with_changes(event_codes=(ns.volven("7210", "M80003", "Malign svulst"),)))
    unknown = ns.submission(doc=lambda d: d.with_changes(event_codes=(ns.volven("7210", "M00000", "Utgått"),)))
    assert profile.validate(known, context) == []
    assert "eventCodeList 'M00000'" in profile.validate(unknown, context)[0].context


def test_codes_import_of_an_unreadable_file(tmp_path, capsys):
    junk = tmp_path / "junk.json"
    junk.write_text("{", encoding="utf-8")
    assert main(["codes", "import", str(junk), "--data-dir", str(tmp_path / "data")]) == 1
    assert "junk.json" in capsys.readouterr().err
