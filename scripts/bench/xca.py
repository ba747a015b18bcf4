"""Benchmark: fan-out overhead of the XCA Initiating Gateway.

Run by hand, not a test:  python -m scripts.bench.xca --seconds 3 --communities 1,3,5

Starts up to max(--communities) fake Responding Gateways, each its own process (a SoapRouter on
waitress answering ITI-38 FindDocuments with --documents DocumentEntries, LeafClass), and for
each N in --communities one real `xdsno serve --actor xca_initiating` process whose communities
file lists N of them. With the same client (one keep-alive SoapClient per client thread) and in
one run it measures requests/s and latency of:
  - FindDocuments (ITI-38) sent to one fake directly: the floor;
  - for N > 1, the client itself sending ITI-38 to the N fakes concurrently (the same answers
    without the extra hop: what the gateway's work is compared with);
  - FindDocuments (ITI-18) through the Initiating Gateway to N fakes (answer: N x documents).
at each --concurrency (client threads). The ratio is the gateway's req/s over the floor's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lxml import etree  # noqa: E402

from profiles.errors import Status  # noqa: E402
from profiles.responses import adhoc_query_response, read_registry_response  # noqa: E402
from profiles.vocabulary import QUERY, RIM  # noqa: E402
from soap.client import SoapClient  # noqa: E402

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI38 = "urn:ihe:iti:2007:CrossGatewayQuery"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
COMMUNITY_ROOT = "urn:oid:2.16.578.1.12.4.1.7.1.9"
MAX_REQUESTS = 1_000_000


# --- the fake Responding Gateway (child process) ----------------------------------------------


def serve_fake(home: str, documents: int) -> None:
    """Serve one fake Responding Gateway on a free port; print the port; run until killed."""
    import waitress

    from profiles.ebrim import encode_object
    from soap.router import SoapResponse, SoapRouter
    from tests.profiles.samples import make_document_entry

    stored = []
    for number in range(documents):
        element = encode_object(make_document_entry(f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
                                                    f"{home[8:]}.{number}"))
        element.set("home", home)
        stored.append(etree.tostring(element))
    router = SoapRouter()
    router.register(ITI38, lambda request: SoapResponse(adhoc_query_response([], stored)))
    server = waitress.create_server(router, host="127.0.0.1", port=0, threads=8)
    print(server.effective_port, flush=True)
    server.run()


# --- processes ----------------------------------------------------------------------------------


def start_fakes(count: int, documents: int) -> list[tuple[str, subprocess.Popen]]:
    fakes = []
    for number in range(1, count + 1):
        home = f"{COMMUNITY_ROOT}.{number}"
        process = subprocess.Popen(
            [sys.executable, "-m", "scripts.bench.xca", "--serve-fake", home, "--documents", str(documents)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, env=_env({}))
        port = int(process.stdout.readline())
        fakes.append((home, process, f"http://127.0.0.1:{port}/xca"))
    return fakes


def start_gateway(fakes, folder: Path):
    from scripts.federation import start_node, wait_healthy

    folder.mkdir(parents=True, exist_ok=True)
    communities = folder / "communities.toml"
    communities.write_text("".join(
        f'[[community]]\nhome_community_id = "{home}"\nname = "Fake {home[-1]}"\nquery_url = "{url}"\n\n'
        for home, _, url in fakes), encoding="utf-8")
    node = start_node(f"initiating-{len(fakes)}", folder / "data", 0,
                      ["--actor", "xca_initiating", "--home-community-id", "urn:oid:2.16.578.1.12.4.1.7.1.1"],
                      {"XDSNO_COMMUNITIES_FILE": str(communities), "XDSNO_XCA_DEADLINE_SECONDS": "30"})
    wait_healthy(node)
    return node


def _env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


# --- measuring ----------------------------------------------------------------------------------


def find_documents() -> etree._Element:
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnComposedObjects="true", returnType="LeafClass")
    query = etree.SubElement(request, f"{{{RIM}}}AdhocQuery", id=FIND_DOCUMENTS)
    for name, value in (("$XDSDocumentEntryPatientId", f"'{PATIENT}'"),
                        ("$XDSDocumentEntryStatus", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')")):
        slot = etree.SubElement(query, f"{{{RIM}}}Slot", name=name)
        etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
    return request


def one_call(client: SoapClient, action: str, expected_objects: int) -> None:
    reply = client.call(action, find_documents())
    status, issues = read_registry_response(reply.body)
    objects = reply.body.find(f"{{{RIM}}}RegistryObjectList")
    if status is not Status.SUCCESS or objects is None or len(objects) != expected_objects:
        raise SystemExit(f"unexpected answer from {client.url}: {status} {issues}")


def measure(urls: list[str], action: str, expected_objects: int, concurrency: int, seconds: float) -> dict:
    """One request = one call to each of `urls`, concurrently when there are several (a client
    doing the fan-out itself); `concurrency` client threads."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    start_line = threading.Barrier(concurrency + 1)
    done = threading.Event()

    def worker(index: int) -> None:
        clients = [SoapClient(url, timeout=60) for url in urls]
        pool = ThreadPoolExecutor(len(urls)) if len(urls) > 1 else None

        def request() -> None:
            if pool is None:
                return one_call(clients[0], action, expected_objects)
            for future in [pool.submit(one_call, client, action, expected_objects) for client in clients]:
                future.result()

        try:
            for _ in range(20):  # warm-up: connections, server threads, caches
                request()
            start_line.wait()
            own = latencies[index]
            while not done.is_set() and len(own) < MAX_REQUESTS:
                started = time.perf_counter()
                request()
                own.append(time.perf_counter() - started)
        finally:
            for client in clients:
                client.close()
            if pool is not None:
                pool.shutdown()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    done.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(value for own in latencies for value in own)
    return {"rate": len(every) / elapsed, "p50": statistics.median(every) * 1e3,
            "p95": every[int(0.95 * (len(every) - 1))] * 1e3}


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per cell")
    parser.add_argument("--communities", default="1,3,5", help="fan-out widths N to measure")
    parser.add_argument("--concurrency", default="1,8", help="client threads per cell")
    parser.add_argument("--documents", type=int, default=5, help="DocumentEntries per community")
    parser.add_argument("--serve-fake", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        return serve_fake(args.serve_fake, args.documents)
    widths = sorted({max(1, int(n)) for n in args.communities.split(",")})
    concurrencies = [max(1, int(n)) for n in args.concurrency.split(",")]
    seconds = max(0.5, min(args.seconds, 120.0))

    fakes = start_fakes(max(widths), args.documents)
    gateways = {}
    try:
        with tempfile.TemporaryDirectory(prefix="xdsno-bench-xca-") as folder:
            for width in widths:
                gateways[width] = start_gateway(fakes[:width], Path(folder) / f"n{width}")
            rows = run_cells(fakes, gateways, widths, concurrencies, seconds, args.documents)
            for node in gateways.values():
                stop(node.process)
    finally:
        for node in gateways.values():
            stop(node.process)
        for _, process, _ in fakes:
            stop(process)
    print_table(rows, seconds, args.documents)


def run_cells(fakes, gateways, widths, concurrencies, seconds, documents) -> list[tuple]:
    rows = []
    for concurrency in concurrencies:
        floor = measure([fakes[0][2]], ITI38, documents, concurrency, seconds)
        rows.append(("1 fake RG direct, ITI-38 (floor)", concurrency, floor, floor))
        for width in widths:
            if width > 1:
                direct = measure([url for _, _, url in fakes[:width]], ITI38, documents, concurrency, seconds)
                rows.append((f"client -> {width} RG itself, ITI-38", concurrency, direct, floor))
            result = measure([gateways[width].url("/xca/initiating")], ITI18, width * documents,
                             concurrency, seconds)
            rows.append((f"initiating GW -> {width} RG, ITI-18", concurrency, result, floor))
    return rows


def print_table(rows, seconds: float, documents: int) -> None:
    print(f"FindDocuments, {documents} DocumentEntries (LeafClass) per community, {seconds:g} s per cell, "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; every process on this machine")
    print(f"{'target':36} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'vs floor':>9} {'+p50 ms':>8}")
    for label, concurrency, result, floor in rows:
        print(f"{label:36} {concurrency:7} {result['rate']:9,.0f} {result['p50']:8.2f} {result['p95']:8.2f}"
              f" {result['rate'] / floor['rate']:9.2f} {result['p50'] - floor['p50']:8.2f}")


if __name__ == "__main__":
    main()
