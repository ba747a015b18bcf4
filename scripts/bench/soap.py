"""Benchmark: the SOAP router against a bare WSGI app answering the same bytes.

Run by hand, not a test:  python scripts/bench/soap.py --seconds 5

Measures requests/s for an echo action through the full SoapRouter pipeline and for a bare
WSGI application that reads the request and returns the same response bytes, both over
loopback HTTP (waitress, one keep-alive httpx client) and in-process (the WSGI callables
called directly with a prepared environ). The bare app is the floor: the ratio soap/bare is
the share of the floor the SOAP layer keeps.
"""
from __future__ import annotations

import argparse
import io
import sys
import threading
import time
from pathlib import Path

# This file is named soap.py: keep its own folder off sys.path so `import soap` finds the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parents[1]))

import httpx  # noqa: E402
import waitress  # noqa: E402
from lxml import etree  # noqa: E402

from soap.addressing import request_headers  # noqa: E402
from soap.message import write_message  # noqa: E402
from soap.router import SoapResponse, SoapRouter  # noqa: E402

ACTION = "urn:bench:Echo"
NS = "urn:bench"
MAX_REQUESTS = 2_000_000  # a bound on every loop, whatever --seconds says
ROUNDS = 5


def request_payload() -> etree._Element:
    """About 1 KB of body: the size of a small stored query."""
    query = etree.Element(f"{{{NS}}}Query", nsmap={None: NS})
    for index in range(8):
        slot = etree.SubElement(query, f"{{{NS}}}Slot", name=f"$Parameter{index}")
        etree.SubElement(slot, f"{{{NS}}}Value").text = f"'urn:oid:2.16.578.1.12.4.1.4.{index}'"
    return query


def build_router() -> SoapRouter:
    router = SoapRouter()
    router.register(ACTION, lambda request: SoapResponse(request.body))
    return router


def build_request() -> tuple[str, bytes]:
    message = write_message(request_headers(ACTION), request_payload())
    return message.content_type, b"".join(message.body)


def environ_for(content_type: str, body: bytes) -> dict:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/", "SCRIPT_NAME": "", "SERVER_NAME": "bench",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.version": (1, 0), "wsgi.multithread": False,
        "wsgi.multiprocess": False, "wsgi.run_once": False,
    }


def bare_app_for(response_type: str, response_body: bytes):
    length = str(len(response_body))

    def bare(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", response_type), ("Content-Length", length)])
        return [response_body]

    return bare


def call_in_process(app, content_type: str, body: bytes) -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    chunks = app(environ_for(content_type, body), start_response)
    data = b"".join(chunks)
    if hasattr(chunks, "close"):
        chunks.close()
    return seen["status"], seen["headers"], data


def in_process_runner(app, content_type: str, body: bytes):
    def start_response(status, headers, exc_info=None):
        pass

    def run(deadline: float) -> int:
        count = 0
        while count < MAX_REQUESTS:
            for _ in range(100):
                for _chunk in app(environ_for(content_type, body), start_response):
                    pass
            count += 100
            if time.perf_counter() >= deadline:
                return count
        return count

    return run


def http_runner(client: httpx.Client, url: str, content_type: str, body: bytes):
    headers = {"Content-Type": content_type}
    for _ in range(50):  # warm up the connection and the server threads
        client.post(url, content=body, headers=headers).raise_for_status()

    def run(deadline: float) -> int:
        count = 0
        while count < MAX_REQUESTS:
            for _ in range(20):
                response = client.post(url, content=body, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"unexpected HTTP {response.status_code} from {url}")
            count += 20
            if time.perf_counter() >= deadline:
                return count
        return count

    return run


def alternate(run_soap, run_bare, seconds: float, rounds: int = ROUNDS) -> tuple[float, float]:
    """Requests/s of each, measured in alternating slices so that a machine busy with other
    work weighs on both alike."""
    totals = {"soap": [0, 0.0], "bare": [0, 0.0]}
    for _ in range(rounds):
        for name, run in (("soap", run_soap), ("bare", run_bare)):
            started = time.perf_counter()
            count = run(started + seconds / rounds)
            totals[name][0] += count
            totals[name][1] += time.perf_counter() - started
    return tuple(count / elapsed for count, elapsed in totals.values())


def serve(app) -> tuple[str, callable]:
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop():
        server.close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.effective_port}/", stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="time spent on each app per mode (in alternating slices)")
    args = parser.parse_args()
    seconds = max(0.2, min(args.seconds, 120.0))

    router = build_router()
    content_type, body = build_request()
    status, headers, response_body = call_in_process(router, content_type, body)
    assert status.startswith("200"), response_body
    bare = bare_app_for(headers["Content-Type"], response_body)

    rows = []
    soap_url, stop_soap = serve(router)
    bare_url, stop_bare = serve(bare)
    try:
        with httpx.Client(timeout=10) as client:  # one client, keep-alive to both servers
            http = alternate(http_runner(client, soap_url, content_type, body),
                             http_runner(client, bare_url, content_type, body), seconds)
    finally:
        stop_soap()
        stop_bare()
    rows.append(("HTTP loopback (waitress, keep-alive)", *http))
    local = alternate(in_process_runner(router, content_type, body),
                      in_process_runner(bare, content_type, body), seconds)
    rows.append(("in-process WSGI call", *local))
    local_soap, local_bare = local

    print(f"request {len(body)} bytes, response {len(response_body)} bytes, {seconds:g} s per cell,"
          f" Python {sys.version.split()[0]}")
    print(f"{'':38} {'soap req/s':>12} {'bare req/s':>12} {'soap/bare':>10}")
    for label, soap_rate, bare_rate in rows:
        print(f"{label:38} {soap_rate:12,.0f} {bare_rate:12,.0f} {soap_rate / bare_rate:10.2f}")
    per_call = (1 / local_soap - 1 / local_bare) * 1e6
    print(f"SOAP pipeline cost per request (in-process): {per_call:.0f} µs")


if __name__ == "__main__":
    main()
