"""xdsno.registry_node and xdsno.patients_cli: the registry built from the settings (one engine
per process, schema created at start), its routes in the app, and `xdsno patients`."""
import io
import json

import pytest
from sqlalchemy import inspect

from xdsno import registry_node
from xdsno.app import build_app
from xdsno.cli import main
from xdsno.settings import Settings

PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", actors=("registry",), profile="ihe")


def _call(app, method, path, body=b""):
    answer = {}

    def start_response(status, headers):
        answer.update(status=status, headers=dict(headers))

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "REMOTE_ADDR": "127.0.0.1",
               "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body)}
    data = b"".join(app(environ, start_response))
    return answer["status"], data


def test_engine_is_built_once_per_process_with_the_schema(settings, monkeypatch):
    engine = registry_node.registry_engine(settings)
    assert registry_node.registry_engine(settings) is engine
    assert "known_patient" in inspect(engine).get_table_names()
    monkeypatch.setattr(registry_node.os, "getpid", lambda: -1)  # as in a forked worker
    assert registry_node.registry_engine(settings) is not engine


def test_service_follows_the_settings(settings):
    service = registry_node.registry_service(
        Settings(**{**settings.__dict__, "known_patients_only": True, "query_result_limit": 5,
                    "patient_domains": ("1.2.3",)}))
    assert service.policy.known_patients_only and service.policy.patient_domains == ("1.2.3",)
    assert service.context.patient_domains == ("1.2.3",) and service.query_result_limit == 5
    assert service.profile.name == "ihe"


def test_app_serves_registry_actions_and_admin_patients(settings):
    app = build_app(settings)
    status, body = _call(app, "GET", "/health")
    actions = json.loads(body)["actors"]["registry"]["actions"]
    assert actions == ["urn:ihe:iti:2007:RegisterDocumentSet-b", "urn:ihe:iti:2007:RegistryStoredQuery",
                       "urn:ihe:iti:2009:MultiPatientStoredQuery", "urn:ihe:iti:2010:DeleteDocumentSet"]
    status, body = _call(app, "POST", "/admin/patients", json.dumps({"patients": [PATIENT]}).encode())
    assert status.startswith("200") and json.loads(body) == {"added": [PATIENT]}
    status, body = _call(app, "GET", "/admin/patients")
    assert json.loads(body) == {"patients": [PATIENT]}
    assert _call(app, "GET", "/admin/patients/x")[0].startswith("404")


def test_without_the_registry_there_is_no_admin_call(tmp_path):
    app = build_app(Settings(data_dir=tmp_path / "data", actors=("repository",),
                             registry_url="http://127.0.0.1:9/registry"))
    assert _call(app, "GET", "/admin/patients")[0].startswith("404")


def test_patients_cli_adds_and_lists(tmp_path, capsys):
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["patients", "add", PATIENT, PATIENT + "^", *data]) == 0
    assert "1 patient(s) added" in capsys.readouterr().out
    assert main(["patients", "add", PATIENT, *data]) == 0
    assert "0 patient(s) added, 1 already known" in capsys.readouterr().out
    assert main(["patients", "list", *data]) == 0
    assert capsys.readouterr().out.splitlines() == [PATIENT]


def test_patients_cli_refuses_bad_ids(tmp_path, capsys):
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["patients", "add", PATIENT, "12345", *data]) == 1
    assert "'12345' is not an XDS patient id" in capsys.readouterr().err
    assert main(["patients", "list", *data]) == 0
    assert capsys.readouterr().out == ""


def test_patients_without_an_action_prints_usage(capsys):
    assert main(["patients"]) == 2
    assert "add" in capsys.readouterr().err
