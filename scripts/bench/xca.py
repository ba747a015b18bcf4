"""Benchmark: the XCA Initiating Gateway in front of ten slow communities.

Run by hand, not a test:  python -m scripts.bench.xca

What the XCA issue asks, in one run: ten simulated communities, each adding 200 ms latency;
FindDocuments latency through the Initiating Gateway against the slowest single community
measured in the same run (aim <= 1.2x); throughput of fan-out queries with 50 concurrent
consumers.

Starts --communities (10) fake Responding Gateways, each its own process (a SoapRouter on
waitress with --fake-threads threads) answering ITI-38 FindDocuments with --documents
DocumentEntries (LeafClass) after sleeping --latency-ms plus a fixed spread: community k of N
sleeps latency + spread * k / (N - 1), so the last is the slowest and all are otherwise alike.
For each --bounds entry OUTBOUND/CONNECTIONS[xWORKERS] it starts one real `xdsno serve --actor
xca_initiating` process (waitress with --gateway-threads threads; gunicorn with WORKERS worker
processes of as many threads each when WORKERS > 1; one deadline of 60 s) whose settings are
xca_max_outbound_requests = OUTBOUND and every community's max_connections = CONNECTIONS.
Then, for each --consumers cell (1 and 50), with the same client (one keep-alive SoapClient
per consumer thread and target):
  - FindDocuments ITI-38 to the slowest community directly: the floor;
  - the consumer sending ITI-38 to all communities itself, concurrently (one thread each): the
    same ten exchanges without the gateway's hop, merge and audit;
  - FindDocuments ITI-18 through each gateway (answer: N x documents).
p50/p95 and req/s are given with their ratio to the floor of the same cell. With 50 consumers
the floor is the slowest community's own capacity (its sleep x its threads). Targets are
measured in alternating windows (--rounds), so load drifting on a shared machine hits them
alike; a window opens once every consumer has finished its first request (steady state).
"bound" is the req/s the concurrency limits alone allow: min(consumers, threads, outbound
slots / N, connections per community) / the slowest latency. "CPU ms/req" is
the CPU time of the processes answering the consumers (the gateway and its workers; the one
community; the N communities) over the requests answered in the window. The load average of the
machine is printed before and after.
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
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from lxml import etree  # noqa: E402

from profiles.errors import Status  # noqa: E402
from profiles.responses import adhoc_query_response, read_registry_response  # noqa: E402
from profiles.vocabulary import QUERY, RIM  # noqa: E402
from scripts.processes import stop_process  # noqa: E402
from soap.client import SoapClient  # noqa: E402

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI38 = "urn:ihe:iti:2007:CrossGatewayQuery"
FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
COMMUNITY_ROOT = "urn:oid:2.16.578.1.12.4.1.7.1.9"
GATEWAY_HOME = "urn:oid:2.16.578.1.12.4.1.7.1.1"
DEADLINE_SECONDS = 60
MAX_REQUESTS_PER_CONSUMER = 100_000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# --- the fake Responding Gateway (child process) ----------------------------------------------


def serve_fake(home: str, documents: int, delay: float, threads: int) -> None:
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

    def answer(request):
        time.sleep(delay)  # the community's latency: a worker thread held, no CPU
        return SoapResponse(adhoc_query_response([], stored))

    router = SoapRouter()
    router.register(ITI38, answer)
    server = waitress.create_server(router, host="127.0.0.1", port=0, threads=threads,
                                    connection_limit=max(100, 4 * threads))
    print(server.effective_port, flush=True)
    server.run()


# --- processes ----------------------------------------------------------------------------------


@dataclass
class Fake:
    home: str
    name: str
    delay: float
    documents: int
    process: subprocess.Popen
    url: str


@dataclass
class Gateway:
    outbound: int
    connections: int
    workers: int
    node: object  # scripts.federation.Node

    @property
    def label(self) -> str:
        return f"{self.outbound}/{self.connections}" + (f" x{self.workers}" if self.workers > 1 else "")


def start_fakes(count: int, documents: int, latency: float, spread: float, threads: int) -> list[Fake]:
    fakes = []
    try:
        for index in range(count):
            home = f"{COMMUNITY_ROOT}.{index + 1}"
            delay = latency + (spread * index / (count - 1) if count > 1 else 0.0)
            process = subprocess.Popen(
                [sys.executable, "-m", "scripts.bench.xca", "--serve-fake", home, "--documents", str(documents),
                 "--fake-delay", repr(delay), "--fake-threads", str(threads)],
                cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, env=_env({}))
            fakes.append(Fake(home, f"Fake {index + 1}", delay, documents, process, ""))
            fakes[-1].url = f"http://127.0.0.1:{int(process.stdout.readline())}/xca"
    except BaseException:
        for fake in fakes:
            stop_process(fake.process)
        raise
    return fakes


def start_gateway(fakes: list[Fake], folder: Path, outbound: int, connections: int, workers: int,
                  threads: int) -> Gateway:
    from scripts.federation import start_node, wait_healthy

    folder.mkdir(parents=True, exist_ok=True)
    communities = folder / "communities.toml"
    communities.write_text("".join(
        f'[[community]]\nhome_community_id = "{fake.home}"\nname = "{fake.name}"\nquery_url = "{fake.url}"\n'
        f'timeout_seconds = {DEADLINE_SECONDS}\nmax_connections = {connections}\n\n'
        for fake in fakes), encoding="utf-8")
    node = start_node(f"initiating-{outbound}-{connections}-{workers}", folder / "data", 0,
                      ["--actor", "xca_initiating", "--home-community-id", GATEWAY_HOME],
                      {"XDSNO_COMMUNITIES_FILE": str(communities),
                       "XDSNO_XCA_DEADLINE_SECONDS": str(DEADLINE_SECONDS),
                       "XDSNO_XCA_MAX_OUTBOUND_REQUESTS": str(outbound),
                       "XDSNO_THREADS": str(threads), "XDSNO_WORKERS": str(workers)})
    gateway = Gateway(outbound, connections, workers, node)
    wait_healthy(node)
    return gateway


def _env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of the processes and their children (gunicorn workers), from
    Linux /proc; None elsewhere."""
    try:
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    except OSError:
        return None
    if not all(pid in stats for pid in pids):
        return None
    wanted = set(pids) | {pid for pid, (parent, _) in stats.items() if parent in pids}
    return sum(stats[pid][1] for pid in wanted) / CLOCK_TICKS


def load_average() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


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
        raise RuntimeError(f"unexpected answer from {client.url}: {status} {issues}")


@dataclass
class Target:
    """What the consumers call: one community directly, all of them (the consumer fanning out
    itself, one thread per community), or a gateway."""

    label: str
    urls: list[str]
    action: str
    expected_objects: int  # per url
    pids: list[int]
    bound: float  # req/s the concurrency limits alone allow, at the cell's consumers


@dataclass
class Cell:
    """Every window of one target at one number of consumers, added up."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: float | None = 0.0

    @property
    def counted(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.counted / self.elapsed

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1e3

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1e3

    @property
    def cpu_ms(self) -> float | None:
        return None if self.cpu is None or not self.counted else self.cpu / self.counted * 1e3


def measure_window(target: Target, consumers: int, seconds: float, cell: Cell) -> None:
    """`consumers` threads, each with its own keep-alive client(s), call `target` back to back.
    The window opens once every consumer has finished its first request (connections open, the
    start's burst dispersed: steady state) and lasts `seconds`; what completes in it, and the
    answering processes' CPU time meanwhile, is added to `cell`."""
    completed: list[list[tuple[float, float]]] = [[] for _ in range(consumers)]
    failures: list[BaseException] = []
    done = threading.Event()

    def consumer(index: int) -> None:
        clients = [SoapClient(url, timeout=DEADLINE_SECONDS + 30) for url in target.urls]
        pool = ThreadPoolExecutor(len(clients)) if len(clients) > 1 else None

        def request() -> None:
            if pool is None:
                return one_call(clients[0], target.action, target.expected_objects)
            calls = [pool.submit(one_call, client, target.action, target.expected_objects) for client in clients]
            for call in calls:
                call.result()

        own = completed[index]
        try:
            while not done.is_set() and len(own) < MAX_REQUESTS_PER_CONSUMER:
                started = time.perf_counter()
                request()
                ended = time.perf_counter()
                own.append((ended, ended - started))
        except BaseException as error:  # noqa: BLE001 - reported after the window
            failures.append(error)
            done.set()
        finally:
            for client in clients:
                client.close()
            if pool is not None:
                pool.shutdown()

    threads = [threading.Thread(target=consumer, args=(index,), daemon=True) for index in range(consumers)]
    for thread in threads:
        thread.start()
    # the first request of each consumer opens its connections: the window opens after them
    settle_until = time.monotonic() + DEADLINE_SECONDS + 30
    while not done.is_set() and not all(completed) and time.monotonic() < settle_until:
        time.sleep(0.02)
    cpu_before = cpu_seconds(target.pids)
    began = time.perf_counter()
    done.wait(seconds)
    done.set()
    stopped = time.perf_counter()
    cpu_after = cpu_seconds(target.pids)
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 60)
    if failures:
        raise RuntimeError(f"{target.label}: {failures[0]}") from failures[0]
    cell.latencies.extend(latency for own in completed for ended, latency in own if began < ended <= stopped)
    cell.elapsed += stopped - began
    if cell.cpu is not None and cpu_before is not None and cpu_after is not None:
        cell.cpu += cpu_after - cpu_before
    else:
        cell.cpu = None


def measure(targets: list[Target], consumers: int, seconds: float, rounds: int) -> list[Cell]:
    """Every target for `seconds` in all, in `rounds` alternating windows."""
    cells = [Cell() for _ in targets]
    for _ in range(rounds):
        for target, cell in zip(targets, cells):
            measure_window(target, consumers, seconds / rounds, cell)
    return cells


def direct_medians(fakes: list[Fake], calls: int) -> list[float]:
    """Every community directly, `calls` times each, all at once: each one's p50 (a check that
    the latencies are what they were set to; the slowest is the one set slowest)."""

    def p50(fake: Fake) -> float:
        with SoapClient(fake.url, timeout=30) as client:
            timings = []
            for _ in range(calls):
                started = time.perf_counter()
                one_call(client, ITI38, fake.documents)
                timings.append(time.perf_counter() - started)
        return statistics.median(timings[1:] or timings) * 1e3

    with ThreadPoolExecutor(len(fakes)) as pool:
        return list(pool.map(p50, fakes))


# --- main ---------------------------------------------------------------------------------------


def parse_bounds(text: str) -> list[tuple[int, int, int]]:
    """`OUTBOUND/CONNECTIONS[xWORKERS]`, comma-separated."""
    bounds = []
    for item in text.split(","):
        item, _, workers = item.strip().partition("x")
        outbound, _, connections = item.partition("/")
        bounds.append((max(1, int(outbound)), max(1, int(connections or 8)), max(1, min(int(workers or 1), 16))))
    return bounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per target and cell")
    parser.add_argument("--rounds", type=int, default=2, help="alternating windows the seconds are cut into")
    parser.add_argument("--communities", type=int, default=10, help="fake Responding Gateways")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="each community's latency")
    parser.add_argument("--spread-ms", type=float, default=10.0,
                        help="the last community's extra latency (community k of N: spread*k/(N-1))")
    parser.add_argument("--documents", type=int, default=5, help="DocumentEntries per community")
    parser.add_argument("--consumers", default="1,50", help="cells: concurrent consumers (threads) of each")
    parser.add_argument("--bounds", default="32/8,64/8,500/50,64/8x2",
                        help="gateways to start, each xca_max_outbound_requests/max_connections[xworkers]")
    parser.add_argument("--no-self-fanout", dest="self_fanout", action="store_false",
                        help="leave out the consumer fanning out to the communities itself")
    parser.add_argument("--gateway-threads", type=int, default=64, help="the gateway's threads (per worker process)")
    parser.add_argument("--fake-threads", type=int, default=64, help="each community's waitress threads")
    parser.add_argument("--serve-fake", metavar="HOME", help=argparse.SUPPRESS)
    parser.add_argument("--fake-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        return serve_fake(args.serve_fake, args.documents, args.fake_delay, args.fake_threads)
    count = max(1, min(args.communities, 50))
    cells = [max(1, min(int(n), 500)) for n in args.consumers.split(",")]
    seconds = max(1.0, min(args.seconds, 300.0))
    rounds = max(1, min(args.rounds, 20))
    bounds = parse_bounds(args.bounds)
    load_before = load_average()

    fakes = start_fakes(count, args.documents, args.latency_ms / 1e3, args.spread_ms / 1e3, args.fake_threads)
    gateways: list[Gateway] = []
    try:
        with tempfile.TemporaryDirectory(prefix="xdsno-bench-xca-") as folder:
            for outbound, connections, workers in bounds:
                gateways.append(start_gateway(fakes, Path(folder) / f"g{outbound}-{connections}-{workers}",
                                              outbound, connections, workers, args.gateway_threads))
            medians = direct_medians(fakes, 6)
            slowest = max(fakes, key=lambda fake: fake.delay)
            rows = []
            for cell_consumers in cells:
                targets = [Target(f"{slowest.name} directly, ITI-38 (floor)", [slowest.url], ITI38, args.documents,
                                  [slowest.process.pid], min(cell_consumers, args.fake_threads) / slowest.delay)]
                if args.self_fanout:
                    targets.append(Target(f"consumer -> {count} itself, ITI-38", [fake.url for fake in fakes], ITI38,
                                          args.documents, [fake.process.pid for fake in fakes],
                                          min(cell_consumers, args.fake_threads) / slowest.delay))
                targets += [Target(f"gateway {gw.label} -> {count}, ITI-18", [gw.node.url("/xca/initiating")], ITI18,
                                   count * args.documents, [gw.node.process.pid],
                                   min(cell_consumers, args.gateway_threads * gw.workers,
                                       gw.outbound * gw.workers / count, gw.connections * gw.workers)
                                   / slowest.delay)
                            for gw in gateways]
                try:
                    measured = measure(targets, cell_consumers, seconds, rounds)
                except RuntimeError:
                    for gw in gateways:
                        print(f"--- {gw.node.name} (exit code {gw.node.process.poll()}), its log ends:\n"
                              + gw.node.log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
                    raise
                rows += [(target, cell_consumers, cell, measured[0]) for target, cell in zip(targets, measured)]
            logs = [gw.node.log_path.read_text(errors="replace") for gw in gateways]
    finally:
        for gw in gateways:
            stop_process(gw.node.process)
        for fake in fakes:
            stop_process(fake.process)
    print_table(args, count, fakes, slowest, medians, rows, seconds, rounds, load_before, load_average())
    errors = sum(log.count(" ERROR ") for log in logs)
    if errors:
        print(f"note: the gateways logged {errors} ERROR lines")


def print_table(args, count, fakes, slowest, medians, rows, seconds, rounds, load_before, load_after) -> None:
    print(f"{count} fake Responding Gateways, {args.latency_ms:g} ms + 0..{args.spread_ms:g} ms each, "
          f"{args.documents} DocumentEntries (LeafClass) each, {args.fake_threads} threads each; "
          f"each directly, all at once, p50 ms: {' '.join(f'{m:.0f}' for m in medians)}; "
          f"slowest: {slowest.name} ({slowest.delay * 1e3:g} ms)")
    print(f"gateways: xdsno serve --actor xca_initiating, {args.gateway_threads} threads (per worker), "
          f"deadline {DEADLINE_SECONDS} s; label OUTBOUND/CONNECTIONS[xWORKERS] = xca_max_outbound_requests/"
          f"max_connections per community[, gunicorn worker processes]")
    print(f"{seconds:g} s per target and cell in {rounds} alternating windows; Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs shared by every process; load average {load_before} before, {load_after} after")
    print(f"{'target':36} {'cons':>4} {'req/s':>7} {'bound':>6} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p50 x':>6} {'p95 x':>6} {'req/s x':>7} {'CPU ms/req':>10}")
    for target, consumers, cell, floor in rows:
        cpu = f"{cell.cpu_ms:10.1f}" if cell.cpu_ms is not None else f"{'?':>10}"
        print(f"{target.label:36} {consumers:4} {cell.rate:7.1f} {target.bound:6.0f} {cell.p50:8.1f} "
              f"{cell.percentile(0.95):8.1f} {cell.p50 / floor.p50:6.2f} "
              f"{cell.percentile(0.95) / floor.percentile(0.95):6.2f} {cell.rate / floor.rate:7.2f} {cpu}")
    print("x: ratio to the floor (the slowest community called directly with as many consumers); "
          "bound: req/s the concurrency limits alone allow; CPU: of the answering process(es)")


if __name__ == "__main__":
    main()
