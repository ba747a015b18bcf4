"""`xdsno serve` as a real process over loopback: one port, every actor at its path, /health."""
import httpx
import pytest
from lxml import etree

from soap.client import SoapClient
from tests.server import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("node") / "data"
    with running_server(data_dir, "--profile", "ihe", "--patient-domain", "1.3.6.1.4.1.21367.2005.3.7") as running:
        yield running


def test_health_names_version_actors_and_endpoint_urls(server):
    reply = httpx.get(server.url("/health"))
    assert reply.status_code == 200
    health = reply.json()
    assert health["status"] == "ok"
    assert health["profile"] == "ihe"
    assert health["actors"]["registry"]["url"] == server.url("/registry")
    assert health["actors"]["repository"]["url"] == server.url("/repository")
    assert health["actors"]["xca_responding"]["url"] == server.url("/xca")
    assert health["actors"]["xca_initiating"]["url"] == server.url("/xca/initiating")


def test_data_folder_is_created(server):
    assert server.data_dir.is_dir()


def test_unknown_path_is_404(server):
    assert httpx.post(server.url("/nothing"), content=b"x").status_code == 404


@pytest.mark.parametrize("path", ["/registry", "/repository", "/xca", "/xca/initiating"])
def test_each_actor_path_speaks_soap(server, path):
    body = etree.Element("{urn:example:test}Ping")
    with SoapClient(server.url(path)) as client:
        reply = client.call("urn:example:NoSuchAction", body)
    assert reply.fault is not None
    assert reply.fault.subcode == "{http://www.w3.org/2005/08/addressing}ActionNotSupported"
    assert "urn:example:NoSuchAction" in reply.fault.reason


def test_get_on_a_soap_endpoint_is_405(server):
    assert httpx.get(server.url("/registry")).status_code == 405


def test_actor_selection(tmp_path):
    with running_server(tmp_path / "data", "--actor", "registry") as running:
        actors = httpx.get(running.url("/health")).json()["actors"]
        assert set(actors) == {"registry"}
        assert httpx.post(running.url("/repository"), content=b"x").status_code == 404
