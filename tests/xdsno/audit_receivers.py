"""Audit destinations run inside the tests on loopback: a syslog receiver (RFC 5425 octet
counting over TCP, or TLS) and a FHIR AuditEvent receiver (HTTP POST). Each can be stopped —
listening socket and open connections closed, as a receiver that dies — and started again on
the same port."""
from __future__ import annotations

import json
import socket
import socketserver
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.server import free_port
from xdsno.audit.syslog import read_frames


class _Receiver:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    def start(self):
        self._server = self._make_server()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self.lock:
            for connection in list(self._connections):
                _close(connection)
            self._connections.clear()
        self._thread.join(5)
        self._server = None

    def track(self, connection: socket.socket) -> None:
        with self.lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self.lock:
            self._connections.discard(connection)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()


def _close(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    connection.close()


class SyslogReceiver(_Receiver):
    """Keeps every syslog message received (bytes, framing removed) and the client subjects seen."""

    def __init__(self, port: int | None = None, *, ssl_context: ssl.SSLContext | None = None):
        super().__init__(port)
        self.ssl_context = ssl_context
        self.messages: list[bytes] = []
        self.client_subjects: list[str] = []

    def _make_server(self):
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                connection = self.request
                if receiver.ssl_context is not None:
                    connection = receiver.ssl_context.wrap_socket(connection, server_side=True)
                    peer = connection.getpeercert() or {}
                    receiver.client_subjects.append(str(peer.get("subject", "")))
                receiver.track(connection)
                try:
                    receiver._read(connection)
                finally:
                    receiver.untrack(connection)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler, bind_and_activate=False)
        server.allow_reuse_address = True
        server.daemon_threads = True
        server.server_bind()
        server.server_activate()
        return server

    def _read(self, connection: socket.socket) -> None:
        pending = b""
        while True:
            try:
                data = connection.recv(65536)
            except OSError:
                return
            if not data:
                return
            messages, pending = read_frames(pending + data)
            with self.lock:
                self.messages.extend(messages)

    def record_ids(self) -> set[str]:
        """The record ids in the messages' structured data."""
        with self.lock:
            messages = list(self.messages)
        ids = set()
        for message in messages:
            marker = message.find(b'[xdsno@32473 id="')
            if marker >= 0:
                start = marker + len(b'[xdsno@32473 id="')
                ids.add(message[start:message.index(b'"', start)].decode())
        return ids


class FhirReceiver(_Receiver):
    """Keeps every AuditEvent POSTed to /fhir/AuditEvent; answers 201."""

    def __init__(self, port: int | None = None):
        super().__init__(port)
        self.events: list[dict] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"

    def _make_server(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                receiver.track(self.connection)

            def finish(self):
                receiver.untrack(self.connection)
                super().finish()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/fhir/AuditEvent" or "fhir+json" not in self.headers.get("Content-Type", ""):
                    self._answer(400)
                    return
                with receiver.lock:
                    receiver.events.append(json.loads(body))
                self._answer(201)

            def _answer(self, status: int):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        return server

    def record_ids(self) -> set[str]:
        with self.lock:
            events = list(self.events)
        return {tag["code"] for event in events for tag in event["meta"]["tag"]
                if tag["system"] == "urn:xdsno:audit-record"}
