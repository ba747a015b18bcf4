"""A tiny in-memory XDS node for testing the conformance harness without the real actors:
/health, a registry (ITI-42 stores, ITI-18 returns everything stored for the queried
patient) and a repository (ITI-41 stores bytes and registers, ITI-43 returns them as MTOM).

It is deliberately naive; the harness tests only need replies with known shapes.
"""
from __future__ import annotations

import hashlib
import json
from copy import deepcopy

from lxml import etree

from soap.mount import PathDispatcher
from soap.mtom import OutgoingAttachment, include_element, new_content_id
from soap.router import SoapRequest, SoapResponse, SoapRouter

RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
STATUS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
PATIENT_SCHEMES = {"urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427", "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"}
DE_UID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"

REGISTER = "urn:ihe:iti:2007:RegisterDocumentSet-b"
QUERY_ACTION = "urn:ihe:iti:2007:RegistryStoredQuery"
PROVIDE = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
RETRIEVE = "urn:ihe:iti:2007:RetrieveDocumentSet"
HOME = "urn:oid:1.2.3.4.5"


class FakeNode:
    def __init__(self, accepted_root: str, repository_unique_id: str = "1.1.1"):
        self.accepted_root = accepted_root
        self.repository_unique_id = repository_unique_id
        self.objects: list[etree._Element] = []
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.requests: list[tuple[str, etree._Element]] = []
        self.corrupt_retrieves = False  # answer ITI-43 with one byte too many
        self.known_only: set[str] | None = None  # when a set: only these patients are accepted
        registry = SoapRouter()
        registry.register(REGISTER, self.register)
        registry.register(QUERY_ACTION, self.query)
        repository = SoapRouter()
        repository.register(PROVIDE, self.provide)
        repository.register(RETRIEVE, self.retrieve)
        self.routers = {"registry": registry, "repository": repository}
        self.app = PathDispatcher({"/registry": registry, "/repository": repository, "/health": self.health,
                                   "/admin/patients": self.feed})

    def feed(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        patients = json.loads(environ["wsgi.input"].read(length))["patients"]
        if self.known_only is not None:
            self.known_only.update(patients)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]

    def health(self, environ, start_response):
        body = json.dumps({"home_community_id": HOME, "actors": {
            actor: {"url": "", "actions": sorted(router.actions)} for actor, router in self.routers.items()
        }}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    # ------------------------------------------------------------ registry

    def register(self, request: SoapRequest) -> SoapResponse:
        self.requests.append((REGISTER, deepcopy(request.body)))
        return SoapResponse(self._store(request.body))

    def _store(self, submit: etree._Element) -> etree._Element:
        patients = [e.get("value") for e in submit.iter(f"{{{RIM}}}ExternalIdentifier")
                    if e.get("identificationScheme") in PATIENT_SCHEMES]
        unknown = [p for p in patients if f"&{self.accepted_root}&" not in p
                   or (self.known_only is not None and p not in self.known_only)]
        if unknown:
            return _response("Failure", ("XDSUnknownPatientId", f"unknown patient {unknown[0]}"))
        object_list = submit.find(f"{{{RIM}}}RegistryObjectList")
        for child in object_list:
            if isinstance(child.tag, str):
                stored = deepcopy(child)
                stored.set("status", APPROVED)
                self.objects.append(stored)
        return _response("Success")

    def query(self, request: SoapRequest) -> SoapResponse:
        self.requests.append((QUERY_ACTION, deepcopy(request.body)))
        wanted = "".join(request.body.itertext())
        root = etree.Element(f"{{{QUERY}}}AdhocQueryResponse", nsmap={"query": QUERY, "rim": RIM},
                             status=STATUS + "Success")
        object_list = etree.SubElement(root, f"{{{RIM}}}RegistryObjectList")
        for stored in self.objects:
            patient = next((e.get("value") for e in stored.iter(f"{{{RIM}}}ExternalIdentifier")
                            if e.get("identificationScheme") in PATIENT_SCHEMES), None)
            if patient is None or patient in wanted:
                object_list.append(deepcopy(stored))
        return SoapResponse(root)

    # ------------------------------------------------------------ repository

    def provide(self, request: SoapRequest) -> SoapResponse:
        self.requests.append((PROVIDE, deepcopy(request.body)))
        submit = request.body.find(f"{{{LCM}}}SubmitObjectsRequest")
        for document in request.body.findall(f"{{{XDSB}}}Document"):
            data = request.content_of(document).read_bytes()
            entry = next(e for e in submit.iter(f"{{{RIM}}}ExtrinsicObject") if e.get("id") == document.get("id"))
            uid = next(e.get("value") for e in entry.findall(f"{{{RIM}}}ExternalIdentifier")
                       if e.get("identificationScheme") == DE_UID)
            self.documents[uid] = (data, entry.get("mimeType"))
            for name, value in (("hash", hashlib.sha1(data).hexdigest()), ("size", str(len(data))),
                                ("repositoryUniqueId", self.repository_unique_id)):
                slot = etree.Element(f"{{{RIM}}}Slot", name=name)
                etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
                entry.insert(0, slot)
        return SoapResponse(self._store(submit))

    def retrieve(self, request: SoapRequest) -> SoapResponse:
        self.requests.append((RETRIEVE, deepcopy(request.body)))
        root = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetResponse", nsmap={"xdsb": XDSB, "rs": RS})
        inner = etree.SubElement(root, f"{{{RS}}}RegistryResponse", status=STATUS + "Success")
        attachments = []
        for wanted in request.body.findall(f"{{{XDSB}}}DocumentRequest"):
            uid = wanted.findtext(f"{{{XDSB}}}DocumentUniqueId")
            if uid not in self.documents:
                inner.set("status", STATUS + "Failure")
                continue
            data, mime_type = self.documents[uid]
            data += b"!" if self.corrupt_retrieves else b""
            response = etree.SubElement(root, f"{{{XDSB}}}DocumentResponse")
            for name, value in (("RepositoryUniqueId", self.repository_unique_id), ("DocumentUniqueId", uid),
                                ("mimeType", mime_type)):
                etree.SubElement(response, f"{{{XDSB}}}{name}").text = value
            content_id = new_content_id()
            etree.SubElement(response, f"{{{XDSB}}}Document").append(include_element(content_id))
            attachments.append(OutgoingAttachment.from_bytes(content_id, data, mime_type))
        return SoapResponse(root, attachments=attachments)


def _response(status: str, *errors: tuple[str, str]) -> etree._Element:
    root = etree.Element(f"{{{RS}}}RegistryResponse", nsmap={"rs": RS}, status=STATUS + status)
    if errors:
        error_list = etree.SubElement(root, f"{{{RS}}}RegistryErrorList")
        for code, context in errors:
            etree.SubElement(error_list, f"{{{RS}}}RegistryError", errorCode=code, codeContext=context,
                             severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error")
    return root
