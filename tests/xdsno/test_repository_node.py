"""The repository's wiring from the settings: blob store, index location, registry client."""
import pytest

from repository.registry_client import InProcessRegistryClient, SoapRegistryClient
from repository.store.filesystem import FilesystemBlobStore
from xdsno.repository_node import index_url, registry_client, repository_service
from xdsno.settings import SettingsError, load_settings


def settings(tmp_path, **overrides):
    return load_settings(environ={}, overrides={"data_dir": tmp_path, "profile": "ihe", **overrides})


def test_defaults_folder_blobs_own_sqlite_index_and_in_process_registry(tmp_path):
    chosen = settings(tmp_path)
    service = repository_service(chosen)
    assert isinstance(service.blob_store, FilesystemBlobStore)
    assert service.blob_store.root == tmp_path / "blobs"
    assert index_url(chosen) == f"sqlite:///{(tmp_path / 'repository.sqlite3').resolve()}"
    assert isinstance(service.registry_client, InProcessRegistryClient)
    assert service.repository_unique_id == chosen.repository_unique_id
    assert repository_service(chosen) is service  # one per process and settings


def test_database_url_holds_the_index_too(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    assert index_url(settings(tmp_path, database_url=url)) == url


def test_registry_url_means_iti42_over_soap(tmp_path):
    client = registry_client(settings(tmp_path, registry_url="http://registry.example/registry"))
    assert isinstance(client, SoapRegistryClient) and client.url == "http://registry.example/registry"


def test_repository_without_a_registry_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="registry_url"):
        registry_client(settings(tmp_path, actors=("repository",)))


def test_unusable_blob_store_is_a_settings_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(SettingsError, match="blob store"):
        repository_service(settings(tmp_path, blob_dir=str(blocked / "blobs")))
