"""A Responding Gateway fronting a registry and repositories over SOAP (loopback waitress)."""
from __future__ import annotations

import threading

import pytest
import waitress

from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RIM, XDSB
from soap.mount import PathDispatcher
from soap.mtom import normalize_content_id
from soap.router import SoapResponse, SoapRouter
from tests.xca_gateway.support import (
    HOME,
    REPOSITORY,
    SECOND_REPOSITORY,
    FakeRegistry,
    FakeRepository,
    adhoc_query,
    document_bytes,
    retrieve_request,
)
from xca_gateway.local import REGISTRY_STORED_QUERY, RETRIEVE_DOCUMENT_SET, SoapRegistry, SoapRepository
from xca_gateway.responding import RespondingGateway
from xca_gateway.retrieve_set import REGISTRY_RESPONSE

DOC = "2.16.578.1.12.4.1.7.1.101.9.1"
BIG = "2.16.578.1.12.4.1.7.1.101.9.2"
BIG_BYTES = bytes(range(256)) * 8192  # 2 MiB: spools to disk on the way through


def _remote_router(repository: FakeRepository) -> SoapRouter:
    registry = FakeRegistry()
    router = SoapRouter()
    router.register(REGISTRY_STORED_QUERY, lambda request: SoapResponse(registry.query(request.body)))

    def retrieve(request):
        response, parts = repository.retrieve(request.body)
        return SoapResponse(response, attachments=parts)

    router.register(RETRIEVE_DOCUMENT_SET, retrieve)
    return router


@pytest.fixture(scope="module")
def remote_url():
    repository = FakeRepository(SECOND_REPOSITORY, {DOC: document_bytes(DOC), BIG: BIG_BYTES})
    server = waitress.create_server(PathDispatcher({"/remote": _remote_router(repository)}),
                                    host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}/remote"
    server.close()
    thread.join(timeout=5)


def parts_by_document(result) -> dict[str, bytes]:
    parts = {normalize_content_id(p.content_id): p for p in result.attachments}
    found = {}
    for item in result.response.iterchildren(f"{{{XDSB}}}DocumentResponse"):
        href = item.find(f"{{{XDSB}}}Document/{{http://www.w3.org/2004/08/xop/include}}Include").get("href")
        part = parts[normalize_content_id(href)]
        data = b"".join(part.chunks)
        getattr(part.chunks, "close", lambda: None)()
        assert part.size == len(data)
        found[item.findtext(f"{{{XDSB}}}DocumentUniqueId")] = data
    return found


def test_query_through_a_soap_registry(remote_url):
    gateway = RespondingGateway(HOME, SoapRegistry(remote_url), {})
    response = gateway.cross_gateway_query(adhoc_query())
    objects = list(response.find(f"{{{RIM}}}RegistryObjectList"))
    assert objects and all(o.get("home") == HOME for o in objects)


def test_retrieve_from_a_local_and_a_soap_repository(remote_url):
    local = FakeRepository(REPOSITORY, {"1.2.3": b"local bytes"})
    gateway = RespondingGateway(HOME, None, {REPOSITORY: local, SECOND_REPOSITORY: SoapRepository(remote_url)})
    result = gateway.cross_gateway_retrieve(retrieve_request(
        (HOME, REPOSITORY, "1.2.3"), (HOME, SECOND_REPOSITORY, DOC), (HOME, SECOND_REPOSITORY, BIG)))
    assert read_registry_response(result.response.find(REGISTRY_RESPONSE)) == (Status.SUCCESS, [])
    assert parts_by_document(result) == {"1.2.3": b"local bytes", DOC: document_bytes(DOC), BIG: BIG_BYTES}


def test_remote_repository_errors_pass_through(remote_url):
    gateway = RespondingGateway(HOME, None, {SECOND_REPOSITORY: SoapRepository(remote_url)})
    result = gateway.cross_gateway_retrieve(retrieve_request((HOME, SECOND_REPOSITORY, "9.9.9")))
    status, issues = read_registry_response(result.response.find(REGISTRY_RESPONSE))
    assert status is Status.FAILURE
    assert [(i.code, i.location) for i in issues] == [(ErrorCode.DOCUMENT_UNIQUE_ID_ERROR, "9.9.9")]


def test_unreachable_registry_and_repository():
    dead = "http://127.0.0.1:9/nothing"
    gateway = RespondingGateway(HOME, SoapRegistry(dead, timeout=2),
                                {REPOSITORY: SoapRepository(dead, timeout=2)})
    status, issues = read_registry_response(gateway.cross_gateway_query(adhoc_query()))
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.REGISTRY_NOT_AVAILABLE]
    result = gateway.cross_gateway_retrieve(retrieve_request((HOME, REPOSITORY, DOC)))
    status, issues = read_registry_response(result.response.find(REGISTRY_RESPONSE))
    assert status is Status.FAILURE and [i.code for i in issues] == [ErrorCode.REPOSITORY_ERROR]
