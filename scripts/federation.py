"""A federation of Norwegian health enterprises on one machine (PROFILE.md §1), over loopback.

Starts three health enterprises — Helse Nord, Helse Vest, Helse Sør-Øst — each an
`xdsno serve` process with registry, repository and XCA Responding Gateway, its own
community OID under 2.16.578.1.12.4.1.7.1, port and data folder, and one national XCA
Initiating Gateway (community 2.16.578.1.12.4.1.7.1.1) whose communities file lists the
three. Publishes synthetic Norwegian documents for shared patients into each enterprise with
ITI-41 (scripts/federation_data.py), prints the endpoints and stays up until Ctrl-C.

    python -m scripts.federation                     # ports 8100 (national), 8101-8103
    python -m scripts.federation --base-port 0       # free ports
    python -m scripts.federation --check             # query + retrieve one patient, then exit
    python -m scripts.federation --tls --check       # the same over mutual TLS (ATNA ITI-19)
    python -m scripts.federation --tls --xua --check # ... with XUA assertions required (ITI-40)

`--check` asks every Responding Gateway directly (ITI-38), then the Initiating Gateway
(ITI-18 FindDocuments for one patient across the federation, ITI-43 retrieve of one
document per community) and exits 0 only when all of it worked. Tests reuse
`start_federation` and `publish_documents`.

`--tls` makes a development CA and a certificate per node in `<data>/tls` (xdsno.devcerts),
serves every node over HTTPS with client certificates required, lists the communities with
https URLs (the initiating gateway presents its own certificate to them), and calls the nodes
with the certificate `federation-client`.

`--xua` makes the signing certificate of a development assertion issuer in `<data>/xua`
(scripts/federation_xua.py) and starts every node trusting it with an assertion required on
every SOAP endpoint; the documents are published, and every `--check` request sent, with an
assertion of a physician (purpose TREAT) naming the patient. The check then also shows the
refusals (scripts/federation_xua_check.py): no assertion is a wsse fault, an assertion naming
another patient is refused by the access policy, and a patient's block on one enterprise for
the physician hides its documents until a break-the-glass (BTG) assertion shows them.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts.federation_data import ENTERPRISES, HOLDINGS, PATIENTS, Enterprise, provide_and_register_request
from scripts.federation_xua import FederationXUA, make_federation_xua
from scripts.processes import stop_process

REPO_ROOT = Path(__file__).resolve().parent.parent
NATIONAL_COMMUNITY = "urn:oid:2.16.578.1.12.4.1.7.1.1"
PROVIDE_AND_REGISTER = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
ENTERPRISE_ACTORS = ("registry", "repository", "xca_responding")
MARKER = ".xdsno-federation"


@dataclass
class Node:
    """One running `xdsno serve` process."""

    name: str
    base_url: str
    data_dir: Path
    process: subprocess.Popen
    log_path: Path
    #: TLS context this script calls the node with (True: plain http or system CAs)
    verify: ssl.SSLContext | bool = True

    def url(self, path: str) -> str:
        return self.base_url + path


@dataclass
class EnterpriseNode:
    enterprise: Enterprise
    node: Node

    @property
    def repository_url(self) -> str:
        return self.node.url("/repository")

    @property
    def registry_url(self) -> str:
        return self.node.url("/registry")

    @property
    def gateway_url(self) -> str:
        return self.node.url("/xca")


@dataclass
class Federation:
    enterprises: list[EnterpriseNode]
    initiating: Node | None
    communities_file: Path
    published: list[dict] = field(default_factory=list)
    tls: FederationTLS | None = None
    xua: FederationXUA | None = None

    def client_options(self) -> dict:
        """SoapClient/httpx options calling the federation's nodes (the client certificate)."""
        return {"verify": self.tls.client} if self.tls else {}

    def security_headers(self, patient: str | None, **who) -> list:
        """SOAP header blocks of a request about `patient`: wsse:Security with a fresh
        assertion (FederationXUA.assertion options in `who`) when XUA is on, else none."""
        return [self.xua.security_header(patient, **who)] if self.xua else []

    def by_key(self, key: str) -> EnterpriseNode:
        return next(item for item in self.enterprises if item.enterprise.key == key)

    @property
    def initiating_url(self) -> str:
        return self.initiating.url("/xca/initiating") if self.initiating else ""


@dataclass
class FederationTLS:
    """The federation's development PKI (ATNA ITI-19): one CA, a certificate per node."""

    folder: Path
    ca_file: Path
    client: ssl.SSLContext

    def node_env(self, name: str) -> dict[str, str]:
        """XDSNO_TLS_* of node `name`: HTTPS with client certificates required."""
        return {"XDSNO_TLS_CERT_FILE": str(self.folder / f"{name}-cert.pem"),
                "XDSNO_TLS_KEY_FILE": str(self.folder / f"{name}-key.pem"),
                "XDSNO_TLS_CA_FILE": str(self.ca_file), "XDSNO_TLS_CLIENT_AUTH": "required"}


def make_federation_tls(folder: Path, names: list[str]) -> FederationTLS:
    """A CA, a node certificate per name and one for this script (`federation-client`)."""
    from xdsno import devcerts
    from xdsno.tls import client_context

    ca = devcerts.create_ca(folder / "ca", name="xdsno federation CA")
    for name in [*names, "federation-client"]:
        devcerts.create_node(name, folder / "ca", folder)
    client = client_context(str(ca.cert), str(folder / "federation-client-cert.pem"),
                            str(folder / "federation-client-key.pem"))
    return FederationTLS(folder, ca.cert, client)


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSNO_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["XDSNO_ALLOW_SYNTHETIC_PERSONS"] = "true"  # Test-Norge persons (PROFILE.md §3)
    env.update(extra)
    return env


def start_node(name: str, data_dir: Path, port: int, args: list[str], env: dict[str, str] | None = None,
               verify: ssl.SSLContext | None = None) -> Node:
    """Start `xdsno serve` on 127.0.0.1:port (0: a free port); returns once it is spawned.
    `verify`: the node serves HTTPS (XDSNO_TLS_* in `env`), called with this context."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    command = [sys.executable, "-m", "xdsno.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--data-dir", str(data_dir), *args]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=_child_env(env or {}),
                                   stdout=log, stderr=subprocess.STDOUT)
    scheme = "https" if verify is not None else "http"
    return Node(name, f"{scheme}://127.0.0.1:{port}", data_dir, process, log_path,
                verify if verify is not None else True)


def wait_healthy(node: Node, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError(f"{node.name} exited with {node.process.returncode}:\n"
                               + node.log_path.read_text(errors="replace")[-4000:])
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(node.url("/health"), timeout=1.0, verify=node.verify).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{node.name} did not answer /health within {timeout} s:\n"
                       + node.log_path.read_text(errors="replace")[-4000:])


def stop_node(node: Node) -> None:
    """Stop a node this script started (by its own process handle)."""
    stop_process(node.process)


def enterprise_args(enterprise: Enterprise, profile: str = "norway") -> list[str]:
    args = ["--profile", profile, "--home-community-id", enterprise.home_community_id,
            "--repository-unique-id", enterprise.repository_unique_id]
    for actor in ENTERPRISE_ACTORS:
        args += ["--actor", actor]
    return args


def write_communities_file(path: Path, enterprises: list[EnterpriseNode]) -> Path:
    """The initiating gateway's communities file (format: xca_gateway/communities.py)."""
    lines = ["# The federation's Responding Gateways (scripts/federation.py)", ""]
    for item in enterprises:
        lines += ["[[community]]",
                  f'home_community_id = "{item.enterprise.home_community_id}"',
                  f'name = "{item.enterprise.name}"',
                  f'query_url = "{item.gateway_url}"',
                  f'retrieve_url = "{item.gateway_url}"',
                  ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@contextlib.contextmanager
def start_federation(base_dir: Path, *, base_port: int = 0, enterprises: tuple[Enterprise, ...] = ENTERPRISES,
                     with_initiating: bool = True, profile: str = "norway",
                     initiating_env: dict[str, str] | None = None, tls: bool = False,
                     xua: bool = False) -> Iterator[Federation]:
    """Start the enterprises (ports base_port+1.. or free ones) and the initiating gateway
    (base_port or a free one); stop them all on leaving. `tls`: every node over mutual TLS;
    `xua`: every node requires XUA assertions of the federation's development issuer."""
    started: list[Node] = []
    pki = make_federation_tls(base_dir / "tls", [e.key for e in enterprises] + ["national"]) if tls else None
    issuer = make_federation_xua(base_dir / "xua") if xua else None
    xua_env = issuer.node_env() if issuer else {}
    try:
        nodes = []
        for number, enterprise in enumerate(enterprises, 1):
            env, verify = _tls_of(pki, enterprise.key)
            node = start_node(enterprise.name, base_dir / enterprise.key, base_port and base_port + number,
                              enterprise_args(enterprise, profile), {**env, **xua_env}, verify)
            started.append(node)
            nodes.append(EnterpriseNode(enterprise, node))
        for node in started:
            wait_healthy(node)
        communities = write_communities_file(base_dir / "communities.toml", nodes)
        initiating = None
        if with_initiating:
            env, verify = _tls_of(pki, "national")
            initiating = start_node("Nasjonal XCA (initiating)", base_dir / "national", base_port,
                                    ["--home-community-id", NATIONAL_COMMUNITY, "--actor", "xca_initiating"],
                                    {"XDSNO_COMMUNITIES_FILE": str(communities), **env, **xua_env,
                                     **(initiating_env or {})}, verify)
            started.append(initiating)
            wait_healthy(initiating)
        yield Federation(nodes, initiating, communities, tls=pki, xua=issuer)
    finally:
        for node in reversed(started):
            stop_node(node)


def _tls_of(pki: FederationTLS | None, name: str) -> tuple[dict[str, str], ssl.SSLContext | None]:
    return (pki.node_env(name), pki.client) if pki else ({}, None)


# --- data -----------------------------------------------------------------------------------


def publish_documents(federation: Federation) -> list[dict]:
    """ITI-41 the synthetic documents into each enterprise; returns what was published."""
    from profiles.errors import Status
    from profiles.responses import read_registry_response
    from soap.client import SoapClient

    published = []
    for item in federation.enterprises:
        with SoapClient(item.repository_url, timeout=60, **federation.client_options()) as client:
            for patient_index, specs in HOLDINGS.get(item.enterprise.key, {}).items():
                patient = PATIENTS[patient_index]
                body, attachments, submission = provide_and_register_request(item.enterprise, patient, specs)
                reply = client.call(PROVIDE_AND_REGISTER, body, attachments=attachments, mtom=True,
                                    headers=federation.security_headers(patient.patient_id)).raise_for_fault()
                status, issues = read_registry_response(reply.body)
                if status is not Status.SUCCESS:
                    raise RuntimeError(f"ITI-41 to {item.enterprise.name} failed: "
                                       + "; ".join(f"{i.code}: {i.context}" for i in issues))
                for entry in submission.document_entries:
                    published.append({"community": item.enterprise.home_community_id,
                                      "enterprise": item.enterprise.name, "patient": patient.patient_id,
                                      "repository": item.enterprise.repository_unique_id,
                                      "unique_id": entry.unique_id, "title": entry.name[0].value})
    federation.published = published
    return published


# --- command line ---------------------------------------------------------------------------


def print_endpoints(federation: Federation) -> None:
    for item in federation.enterprises:
        e = item.enterprise
        print(f"{e.name:<16} {e.home_community_id}")
        print(f"    registry (ITI-18/42)     {item.registry_url}")
        print(f"    repository (ITI-41/43)   {item.repository_url}   repositoryUniqueId {e.repository_unique_id}")
        print(f"    responding gw (ITI-38/39) {item.gateway_url}")
        print(f"    data, log                {item.node.data_dir}")
    if federation.initiating:
        print(f"{'Nasjonal XCA':<16} {NATIONAL_COMMUNITY}")
        print(f"    initiating gw (ITI-18/43, ITI-38/39) {federation.initiating_url}")
        print(f"    communities file         {federation.communities_file}")
    if federation.tls:
        tls = federation.tls
        print(f"Mutual TLS: CA {tls.ca_file}; node certificates in {tls.folder}; call with "
              f"{tls.folder / 'federation-client-cert.pem'} and its key")
    if federation.xua:
        xua = federation.xua
        print(f"XUA required on every endpoint; issuer {xua.issuer!r}, certificate {xua.cert_file}. "
              f"An assertion:\n    {xua.assertion_command(PATIENTS[0].patient_id)}")
    print("Patients (synthetic, Test-Norge):")
    for patient in PATIENTS:
        print(f"    {patient.patient_id}  {patient.given} {patient.family}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.federation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="folder of the nodes' data (default: a new temporary folder)")
    parser.add_argument("--base-port", type=int, default=8100, help="national gateway port; enterprises +1..+3 "
                        "(0: free ports)")
    parser.add_argument("--check", action="store_true", help="query and retrieve through the gateways, then exit")
    parser.add_argument("--tls", action="store_true", help="every node over HTTPS with client certificates "
                        "required (a development CA in <data>/tls)")
    parser.add_argument("--xua", action="store_true", help="every node requires XUA assertions of a development "
                        "issuer (its certificate in <data>/xua); the script sends them")
    args = parser.parse_args(argv)
    try:
        base_dir = _fresh_folder(args.data_dir)
    except ValueError as exc:
        print(f"federation: {exc}", file=sys.stderr)
        return 2
    with start_federation(base_dir, base_port=args.base_port, tls=args.tls, xua=args.xua) as federation:
        published = publish_documents(federation)
        print_endpoints(federation)
        print(f"Published {len(published)} documents for {len(PATIENTS)} patients in "
              f"{len(federation.enterprises)} enterprises.")
        if args.check:
            from scripts.federation_check import run_check

            result = run_check(federation)
        else:
            print("Serving; Ctrl-C stops every node.")
            _wait_for_interrupt()
            result = 0
    if args.check and result == 0 and args.data_dir is None:
        shutil.rmtree(base_dir, ignore_errors=True)  # keep the logs only when something failed
    return result


def _fresh_folder(path: Path | None) -> Path:
    """A new temporary folder, or `path` emptied — only when an earlier run made it (marker)."""
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="xdsno-federation-"))
    elif path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise ValueError(f"{path} is not empty and was not made by this script; choose another --data-dir")
        shutil.rmtree(path)  # a fresh federation each run: the documents are published anew
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by scripts/federation.py; emptied on its next run\n")
    return path


def _wait_for_interrupt() -> None:
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
