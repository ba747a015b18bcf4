"""The repository's two ways to the registry (ITI-42): in-process and SOAP; every failure to
reach it is a Failure RegistryResponse, never an exception."""
import httpx
from lxml import etree

from profiles.ebrim import encode_submit_objects_request
from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import read_registry_response, registry_response
from repository.actions import REGISTER
from repository.registry_client import InProcessRegistryClient, SoapRegistryClient
from soap.faults import SENDER, SoapFault
from soap.router import SoapResponse, SoapRouter
from tests.server import free_port

from . import support


def request():
    return encode_submit_objects_request(support.submission())


def codes(response):
    status, issues = read_registry_response(response)
    return status, [str(issue.code) for issue in issues]


def test_in_process_passes_the_request_and_answer_through():
    seen = []

    def register(element):
        seen.append(element)
        return registry_response([])

    sent = request()
    assert codes(InProcessRegistryClient(register).register(sent)) == (Status.SUCCESS, [])
    assert seen == [sent]


def test_in_process_exception_is_registry_error():
    def register(_element):
        raise RuntimeError("bug")

    assert codes(InProcessRegistryClient(register).register(request())) == (Status.FAILURE, ["XDSRegistryError"])


def test_in_process_answer_that_is_no_registry_response_is_registry_error():
    client = InProcessRegistryClient(lambda _e: etree.Element("{urn:x}Other"))
    assert codes(client.register(request())) == (Status.FAILURE, ["XDSRegistryError"])


def registry_app(handler) -> httpx.Client:
    router = SoapRouter()
    router.register(REGISTER, handler)
    return httpx.Client(transport=httpx.WSGITransport(app=router))


def test_soap_client_sends_iti42_and_reads_the_answer():
    received = []

    def handler(soap_request):
        received.append(soap_request.body.tag)
        return SoapResponse(registry_response([Issue(ErrorCode.EXTRA_METADATA_NOT_SAVED, "w").as_warning()]))

    client = SoapRegistryClient("http://registry.test/registry", http_client=registry_app(handler))
    assert codes(client.register(request())) == (Status.SUCCESS, ["XDSExtraMetadataNotSaved"])
    assert received == ["{urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0}SubmitObjectsRequest"]


def test_soap_fault_is_registry_error():
    def handler(_request):
        raise SoapFault(SENDER, "no thanks")

    client = SoapRegistryClient("http://registry.test/registry", http_client=registry_app(handler))
    status, issues = read_registry_response(client.register(request()))
    assert status is Status.FAILURE and issues[0].code is ErrorCode.REGISTRY_ERROR
    assert "no thanks" in issues[0].context


def test_unreachable_registry_is_registry_not_available():
    url = f"http://127.0.0.1:{free_port()}/registry"
    client = SoapRegistryClient(url, timeout=2)
    status, issues = read_registry_response(client.register(request()))
    assert (status, [str(i.code) for i in issues]) == (Status.FAILURE, ["XDSRegistryNotAvailable"])
    assert url in issues[0].context
    client.close()


def test_non_soap_answer_is_registry_not_available():
    def app(environ, start_response):
        start_response("502 Bad Gateway", [("Content-Type", "text/html")])
        return [b"<html>proxy error</html>"]

    client = SoapRegistryClient("http://registry.test/registry",
                                http_client=httpx.Client(transport=httpx.WSGITransport(app=app)))
    assert codes(client.register(request())) == (Status.FAILURE, ["XDSRegistryNotAvailable"])
