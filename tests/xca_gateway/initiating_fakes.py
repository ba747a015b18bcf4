"""Fake Responding Gateways for the Initiating Gateway tests: real SoapRouters on waitress.

A `FakeCommunity` answers ITI-38 with one DocumentEntry per document it holds (LeafClass) or
ObjectRefs, and ITI-39 with its documents as MTOM parts. Knobs: `delay` (seconds before
answering), `mode` ("ok", "fault", "garbage", "refs-for-leafclass", "no-home"). Every fake
shares a `Gauge` counting requests in flight, so a test can assert the gateway's bound on
outbound concurrency.
"""
from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import waitress
from lxml import etree

from profiles.ebrim import encode_object
from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import adhoc_query_response, registry_response
from profiles.vocabulary import QUERY, RIM, XDSB
from soap import faults
from soap.faults import SoapFault
from soap.mtom import OutgoingAttachment, include_element, new_content_id
from soap.router import SoapRequest, SoapResponse, SoapRouter
from tests.profiles.samples import make_document_entry

CROSS_GATEWAY_QUERY = "urn:ihe:iti:2007:CrossGatewayQuery"
CROSS_GATEWAY_RETRIEVE = "urn:ihe:iti:2007:CrossGatewayRetrieve"
REPOSITORY = "1.3.6.1.4.1.21367.2010.1.2.1125"


class Gauge:
    """Requests in flight across all fakes, and the most seen at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0
        self.total = 0

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        with self._lock:
            self.current += 1
            self.total += 1
            self.peak = max(self.peak, self.current)
        try:
            yield
        finally:
            with self._lock:
                self.current -= 1


@dataclass
class FakeCommunity:
    home: str
    name: str
    documents: dict[str, bytes] = field(default_factory=dict)  # uniqueId → content
    delay: float = 0.0
    mode: str = "ok"
    gauge: Gauge = field(default_factory=Gauge)
    received: list[etree._Element] = field(default_factory=list)
    headers: list[etree._Element | None] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        """End every pending `delay` at once (before stopping the server)."""
        self.released.set()

    def router(self) -> SoapRouter:
        router = SoapRouter()
        router.register(CROSS_GATEWAY_QUERY, self._query)
        router.register(CROSS_GATEWAY_RETRIEVE, self._retrieve)
        return router

    def _enter(self, request: SoapRequest) -> None:
        self.received.append(request.body)
        self.headers.append(request.header)
        if self.delay:
            self.released.wait(self.delay)
        if self.mode == "fault":
            raise SoapFault(faults.RECEIVER, f"{self.name} is down for maintenance")

    def _query(self, request: SoapRequest) -> SoapResponse:
        with self.gauge.counting():
            self._enter(request)
            if self.mode == "garbage":
                return SoapResponse(etree.Element("{urn:test}Nonsense"))
            return_type = request.body.find(f"{{{QUERY}}}ResponseOption").get("returnType")
            refs = return_type == "ObjectRef" or self.mode == "refs-for-leafclass"
            objects = [self._object(unique_id, refs) for unique_id in self.documents]
            return SoapResponse(adhoc_query_response([], objects))

    def _object(self, unique_id: str, as_ref: bool) -> etree._Element:
        entry_id = entry_uuid(self.home, unique_id)
        if as_ref:
            element = etree.Element(f"{{{RIM}}}ObjectRef", nsmap={"rim": RIM})
            element.set("id", entry_id)
        else:
            element = encode_object(make_document_entry(entry_id, unique_id))
        if self.mode != "no-home":
            element.set("home", self.home)
        return element

    def _retrieve(self, request: SoapRequest) -> SoapResponse:
        with self.gauge.counting():
            self._enter(request)
            issues, responses, parts = [], [], []
            for document_request in request.body.iterchildren(f"{{{XDSB}}}DocumentRequest"):
                unique_id = document_request.findtext(f"{{{XDSB}}}DocumentUniqueId")
                if unique_id not in self.documents:
                    issues.append(Issue(ErrorCode.MISSING_DOCUMENT, f"no document {unique_id}", location=unique_id))
                    continue
                content_id = new_content_id()
                responses.append(document_response(self.home, unique_id, content_id,
                                                   with_home=self.mode != "no-home"))
                parts.append(OutgoingAttachment.from_bytes(content_id, self.documents[unique_id], "text/plain"))
            status = Status.SUCCESS if not issues else Status.PARTIAL_SUCCESS if responses else Status.FAILURE
            body = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetResponse", nsmap={"xdsb": XDSB})
            body.append(registry_response(issues, status=status))
            body.extend(responses)
            return SoapResponse(body, parts)


def entry_uuid(home: str, unique_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, home + '/' + unique_id)}"


def document_response(home: str, unique_id: str, content_id: str, *, with_home: bool = True) -> etree._Element:
    response = etree.Element(f"{{{XDSB}}}DocumentResponse")
    if with_home:
        etree.SubElement(response, f"{{{XDSB}}}HomeCommunityId").text = home
    etree.SubElement(response, f"{{{XDSB}}}RepositoryUniqueId").text = REPOSITORY
    etree.SubElement(response, f"{{{XDSB}}}DocumentUniqueId").text = unique_id
    etree.SubElement(response, f"{{{XDSB}}}mimeType").text = "text/plain"
    etree.SubElement(response, f"{{{XDSB}}}Document").append(include_element(content_id))
    return response


@dataclass
class Served:
    url: str
    server: object
    thread: threading.Thread
    stopped: bool = False

    def stop(self) -> None:
        """Let the worker threads finish what they serve, then close every socket from the
        server's own loop thread: closing them from here races the loop's select, and a worker
        writing after the close would wake a trigger whose fd may already be reused."""
        if self.stopped:
            return
        self.stopped = True
        self.server.task_dispatcher.shutdown(timeout=5)

        def close_everything() -> None:
            for dispatcher in list(self.server._map.values()):
                dispatcher.close()

        try:
            self.server.trigger.pull_trigger(close_everything)
        except OSError:
            # the loop already ended and closed its trigger: there is nothing left to close
            return
        self.thread.join(timeout=5)


def serve(app, *, threads: int = 16) -> Served:
    """Serve a WSGI app on a free loopback port in a daemon thread."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    return Served(f"http://127.0.0.1:{server.effective_port}", server, thread)


@contextlib.contextmanager
def serving(app, *, threads: int = 16) -> Iterator[str]:
    served = serve(app, threads=threads)
    try:
        yield served.url
    finally:
        served.stop()
