"""Settings: defaults need no file; TOML, environment and options override in that order."""
from pathlib import Path

import pytest

from xdsno.settings import Settings, SettingsError, load_settings


def test_defaults_need_no_file_and_use_sqlite_and_a_local_folder(tmp_path):
    settings = load_settings(environ={}, overrides={"data_dir": tmp_path})
    assert settings.effective_database_url == f"sqlite:///{(tmp_path / 'registry.sqlite3').resolve()}"
    assert settings.effective_blob_dir == tmp_path / "blobs"
    assert settings.blob_store == "filesystem"
    assert settings.profile == "norway"


def test_toml_sections_are_flattened(tmp_path):
    config = tmp_path / "xdsno.toml"
    config.write_text('port = 9001\n[registry]\ndatabase_url = "postgresql+psycopg://u@h/db"\n')
    settings = load_settings(config, environ={})
    assert settings.port == 9001
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_environment_overrides_file_and_options_override_environment(tmp_path):
    config = tmp_path / "xdsno.toml"
    config.write_text("port = 9001\nprofile = 'ihe'\n")
    environ = {"XDSNO_PORT": "9002", "XDSNO_PATIENT_DOMAINS": "1.2.3, 4.5.6", "XDSNO_STRICT": "no"}
    settings = load_settings(config, environ=environ, overrides={"port": 9003, "host": None})
    assert settings.port == 9003
    assert settings.profile == "ihe"
    assert settings.patient_domains == ("1.2.3", "4.5.6")
    assert settings.strict is False
    assert settings.host == "127.0.0.1"


def test_config_file_named_in_environment(tmp_path):
    config = tmp_path / "xdsno.toml"
    config.write_text("port = 9004\n")
    assert load_settings(environ={"XDSNO_CONFIG": str(config)}).port == 9004


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"XDSNO_PROFILE": "danish"}, "profile = 'danish' is not one of ihe, norway"),
        ({"XDSNO_PORT": "eighty"}, "setting port: cannot use 'eighty'"),
        ({"XDSNO_STRICT": "maybe"}, "setting strict: cannot use 'maybe'"),
        ({"XDSNO_BLOB_STORE": "s3"}, "needs s3_endpoint"),
        ({"XDSNO_ACTORS": "registry,pharmacy"}, "actors = 'pharmacy'"),
    ],
)
def test_unusable_values_are_named(values, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        load_settings(environ=values)


def test_unknown_key_in_file_is_refused(tmp_path):
    config = tmp_path / "xdsno.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings(config, environ={})


def test_missing_and_broken_files_are_named(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "absent.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("port = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(broken, environ={})


def test_redacted_masks_secrets():
    settings = Settings(database_url="postgresql+psycopg://user:pw@db:5432/x", s3_secret_key="s", s3_endpoint="h:1",
                        blob_store="s3", data_dir=Path("d"))
    shown = settings.redacted()
    assert shown["s3_secret_key"] == "***"
    assert "pw" not in shown["database_url"]
    assert shown["data_dir"] == "d"


def test_cli_settings_shows_options_over_environment(monkeypatch, capsys):
    import json

    from xdsno.cli import main

    monkeypatch.setenv("XDSNO_PORT", "7000")
    monkeypatch.setenv("XDSNO_S3_SECRET_KEY", "hidden")
    assert main(["settings", "--profile", "ihe", "--patient-domain", "1.2", "--patient-domain", "3.4"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["port"], shown["profile"], shown["patient_domains"]) == (7000, "ihe", ["1.2", "3.4"])
    assert shown["s3_secret_key"] == "***"


def test_cli_refuses_unusable_setting_with_exit_2(monkeypatch, capsys):
    from xdsno.cli import main

    monkeypatch.setenv("XDSNO_PROFILE", "swedish")
    assert main(["settings"]) == 2
    assert "profile = 'swedish'" in capsys.readouterr().err
