"""Composing the XCA Responding Gateway from the settings (xdsno.xca_node)."""
from __future__ import annotations

import pytest

from xca_gateway.local import SoapRegistry, SoapRepository
from xdsno.settings import SettingsError, load_settings
from xdsno.xca_node import responding_gateway, responding_router

HOME = "urn:oid:2.16.578.1.12.4.1.7.1.101"


def settings(tmp_path, **overrides):
    return load_settings(environ={}, overrides={"data_dir": tmp_path, "home_community_id": HOME, **overrides})


def test_remote_repositories_are_parsed_from_id_equals_url(tmp_path):
    s = settings(tmp_path, responding_repositories=("1.2.3=http://a:1/repository", " 1.2.4 = https://b/r "))
    assert s.responding_repository_urls == {"1.2.3": "http://a:1/repository", "1.2.4": "https://b/r"}


def test_remote_repositories_from_the_environment(tmp_path):
    s = load_settings(environ={"XDSNO_RESPONDING_REPOSITORIES": "1.2.3=http://a/r,1.2.4=http://b/r"},
                      overrides={"data_dir": tmp_path})
    assert list(s.responding_repository_urls) == ["1.2.3", "1.2.4"]


@pytest.mark.parametrize("entry", ["1.2.3", "=http://a/r", "1.2.3=ftp://a/r"])
def test_malformed_remote_repository_is_a_settings_error(tmp_path, entry):
    with pytest.raises(SettingsError, match="responding_repositories"):
        settings(tmp_path, responding_repositories=(entry,))


def test_a_repository_named_twice_is_a_settings_error(tmp_path):
    with pytest.raises(SettingsError, match="twice"):
        settings(tmp_path, repository_unique_id="1.2.3", responding_repositories=("1.2.3=http://a/r",))


def test_co_located_registry_and_repository_are_used_in_process(tmp_path):
    gateway = responding_gateway(settings(tmp_path, repository_unique_id="1.2.3"))
    assert gateway.home_community_id == HOME
    assert type(gateway.registry).__name__ == "RegistryService"
    assert type(gateway.repositories["1.2.3"]).__name__ == "RepositoryService"


def test_gateway_alone_fronts_a_remote_registry_and_repositories(tmp_path):
    gateway = responding_gateway(settings(
        tmp_path, actors=("xca_responding",), responding_registry_url="http://reg/registry",
        responding_repositories=("1.2.3=http://a/repository", "1.2.4=http://b/repository")))
    assert isinstance(gateway.registry, SoapRegistry) and gateway.registry.url == "http://reg/registry"
    assert {k: (type(v), v.url) for k, v in gateway.repositories.items()} == {
        "1.2.3": (SoapRepository, "http://a/repository"), "1.2.4": (SoapRepository, "http://b/repository")}


def test_gateway_without_any_registry_does_not_start(tmp_path):
    with pytest.raises(SettingsError, match="needs a registry"):
        responding_gateway(settings(tmp_path, actors=("xca_responding",)))


def test_home_community_id_must_be_a_urn_oid(tmp_path):
    with pytest.raises(SettingsError, match="urn:oid"):
        responding_router(settings(tmp_path, home_community_id="2.16.578.1.12.4.1.7.1.101"))
