"""Router and client over real loopback HTTP (waitress), both wire formats."""
import hashlib
import socket
import threading

import httpx
import pytest
import waitress
from lxml import etree

from soap import faults
from soap.client import SoapClient, SoapTransportError
from soap.faults import SoapFault
from soap.mount import PathDispatcher
from soap.mtom import OutgoingAttachment, include_element
from soap.router import SoapResponse, SoapRouter

from .support import ECHO, NS, payload
from .test_router import STORE, store

DIGEST = "urn:test:Digest"


def digest(request):
    """Hashes each attachment as the sink wrote it, and answers with the hashes."""
    answer = etree.Element(f"{{{NS}}}Digests")
    for cid, attachment in sorted(request.attachments.items()):
        etree.SubElement(answer, f"{{{NS}}}Digest", id=cid, sha1=attachment.handle.hexdigest())
    return SoapResponse(answer)


class HashSink:
    def __init__(self, *_):
        self._hash = hashlib.sha1()

    def write(self, data):
        self._hash.update(data)

    def hexdigest(self):
        return self._hash.hexdigest()


@pytest.fixture(scope="module")
def base_url():
    router = SoapRouter()
    router.register(ECHO, lambda request: SoapResponse(request.body))
    router.register(STORE, store)
    router.register(DIGEST, digest, sink_factory=HashSink)
    server = waitress.create_server(PathDispatcher({"/svc": router}), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def client(base_url):
    with SoapClient(base_url + "/svc", timeout=10) as client:
        yield client


def test_plain_round_trip(client):
    reply = client.call(ECHO, payload(text="over the wire"))
    assert reply.status_code == 200 and not reply.is_mtom and reply.fault is None
    assert reply.raise_for_fault() is reply
    assert reply.body.text == "over the wire"
    assert reply.addressing.action == ECHO + "Response"
    assert reply.addressing.relates_to == reply.request_message_id


def test_mtom_round_trip_with_attachments(client):
    body = payload("Docs", None)
    body.append(include_element("one@x"))
    data = b"\r\n--" + bytes(range(256)) * 1000
    reply = client.call(STORE, body, attachments=[
        OutgoingAttachment.from_bytes("one@x", data, "application/pdf"),
        OutgoingAttachment("two@x", "text/plain", iter([b"a", b"b", b"c"])),  # size unknown: chunked
    ])
    assert reply.status_code == 200 and reply.is_mtom
    assert reply.attachments["back-one@x"].read_bytes() == data
    assert reply.attachments["back-two@x"].read_bytes() == b"abc"
    assert reply.addressing.action == STORE + "Response"
    reply.close()


def test_mtom_without_attachments_gets_mtom_reply(client):
    reply = client.call(ECHO, payload(), mtom=True)
    assert reply.is_mtom and reply.body.text == "hello"


def test_several_megabytes_streamed_into_a_hashing_sink(client):
    chunk = bytes(range(256)) * 1024
    expected = hashlib.sha1(chunk * 32).hexdigest()
    reply = client.call(DIGEST, payload("Docs", None), attachments=[
        OutgoingAttachment("big@x", "application/octet-stream", (chunk for _ in range(32)), len(chunk) * 32),
    ])
    assert reply.body[0].get("sha1") == expected


def test_fault_reply(client):
    reply = client.call("urn:test:Unknown", payload())
    assert reply.status_code == 400 and reply.fault is not None
    assert reply.addressing.action == faults.WSA_FAULT_ACTION
    with pytest.raises(SoapFault) as caught:
        reply.raise_for_fault()
    assert caught.value.subcode == faults.ACTION_NOT_SUPPORTED
    assert "urn:test:Unknown" in caught.value.reason


def test_extra_headers_take_part_in_must_understand(client):
    security = etree.Element("{urn:test:sec}Security")
    security.set("{http://www.w3.org/2003/05/soap-envelope}mustUnderstand", "true")
    reply = client.call(ECHO, payload(), headers=[security])
    assert reply.status_code == 500 and reply.fault.code == "MustUnderstand"


def test_non_soap_answers_are_transport_errors(base_url):
    with SoapClient(base_url + "/nowhere") as client:
        with pytest.raises(SoapTransportError) as caught:
            client.call(ECHO, payload())
    assert caught.value.status_code == 404


def test_connection_refused_is_a_transport_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with SoapClient(f"http://127.0.0.1:{port}/svc", timeout=2) as client:
        with pytest.raises(SoapTransportError):
            client.call(ECHO, payload())


def test_shared_http_client_is_left_open(base_url):
    with httpx.Client() as http:
        SoapClient(base_url + "/svc", http_client=http).close()
        assert SoapClient(base_url + "/svc", http_client=http).call(ECHO, payload()).status_code == 200
