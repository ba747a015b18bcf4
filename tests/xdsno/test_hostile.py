"""Hostile and broken requests (tests/messages/hostile) against the real server over loopback.

Each gets the SOAP fault named in cases.json; none makes the server reach the network or
expand entities (its peak memory stays small); and the server still serves afterwards.
"""
import io
import json
import socket
from pathlib import Path

import httpx
import pytest
from soap.faults import SoapFault
from soap.message import read_message
from tests.server import running_server

SAMPLES = Path(__file__).resolve().parent.parent / "messages" / "hostile"
CASES = json.loads((SAMPLES / "cases.json").read_text())


@pytest.fixture(scope="module")
def listener():
    """A loopback port the XXE samples point at; any connection to it is a failure."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("hostile") / "data", "--profile", "ihe") as running:
        yield running


def _body(case, listener) -> bytes:
    data = (SAMPLES / case["file"]).read_bytes()
    return data.replace(b"127.0.0.1:9/", f"127.0.0.1:{listener.getsockname()[1]}/".encode())


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}|{c['content_type'].split(';')[0]}" for c in CASES])
def test_hostile_request_gets_a_clear_answer(server, listener, case):
    reply = httpx.post(server.url("/registry"), content=_body(case, listener),
                       headers={"Content-Type": case["content_type"]}, timeout=30)
    if "status" in case:
        assert reply.status_code == case["status"]
        return
    answer = read_message(io.BytesIO(reply.content), reply.headers["Content-Type"])
    assert answer.is_mtom == case["content_type"].startswith("multipart/")
    fault = SoapFault.from_element(answer.body)
    assert fault.code == case["fault"]
    assert case["reason"].lower() in fault.reason.lower()
    assert reply.status_code == (400 if case["fault"] == "Sender" else 500)


def test_no_connection_was_made_to_the_xxe_target(server, listener):
    for case in CASES:
        httpx.post(server.url("/registry"), content=_body(case, listener),
                   headers={"Content-Type": case["content_type"]}, timeout=30)
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_server_memory_stays_small_and_it_still_serves(server, listener):
    for _ in range(5):
        for case in CASES:
            httpx.post(server.url("/registry"), content=_body(case, listener),
                       headers={"Content-Type": case["content_type"]}, timeout=30)
    assert server.process.poll() is None
    assert httpx.get(server.url("/health")).status_code == 200
    status = Path(f"/proc/{server.process.pid}/status")
    if status.exists():
        peak_kib = int(next(line.split()[1] for line in status.read_text().splitlines()
                            if line.startswith("VmHWM:")))
        # An expanded billion-laughs document alone would need gigabytes.
        assert peak_kib < 512 * 1024
