"""Request builders and answer readers for the Initiating Gateway tests."""
from __future__ import annotations

import base64
import contextlib
import copy
from collections.abc import Iterator, Sequence

from lxml import etree

from profiles.errors import Issue, Status
from profiles.responses import read_registry_response
from profiles.vocabulary import QUERY, RIM, RS, XDSB
from soap.client import SoapClient, SoapReply
from tests.profiles.xml_support import assert_valid
from xca_gateway.communities import Community, CommunityDirectory
from xca_gateway.initiating import InitiatingGateway
from xca_gateway.initiating_endpoints import build_initiating_router

from .initiating_fakes import serving

FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
PATIENT_ID = "ST-1000^^^&1.3.6.1.4.1.21367.2003.3.9&ISO"
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"

ITI18 = "urn:ihe:iti:2007:RegistryStoredQuery"
ITI38 = "urn:ihe:iti:2007:CrossGatewayQuery"
ITI43 = "urn:ihe:iti:2007:RetrieveDocumentSet"
ITI39 = "urn:ihe:iti:2007:CrossGatewayRetrieve"


def adhoc_query(query_id: str, slots: dict[str, Sequence[str]], *, return_type: str = "LeafClass",
                home: str | None = None) -> etree._Element:
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnComposedObjects="true", returnType=return_type)
    query = etree.SubElement(request, f"{{{RIM}}}AdhocQuery", id=query_id)
    if home:
        query.set("home", home)
    for name, values in slots.items():
        slot = etree.SubElement(query, f"{{{RIM}}}Slot", name=name)
        value_list = etree.SubElement(slot, f"{{{RIM}}}ValueList")
        for value in values:
            etree.SubElement(value_list, f"{{{RIM}}}Value").text = value
    return request


def find_documents(return_type: str = "LeafClass") -> etree._Element:
    return adhoc_query(FIND_DOCUMENTS, {
        "$XDSDocumentEntryPatientId": [f"'{PATIENT_ID}'"],
        "$XDSDocumentEntryStatus": [f"('{APPROVED}')"],
    }, return_type=return_type)


def get_documents(entry_uuids: Sequence[str], home: str | None) -> etree._Element:
    values = "(" + ",".join(f"'{value}'" for value in entry_uuids) + ")"
    return adhoc_query(GET_DOCUMENTS, {"$XDSDocumentEntryEntryUUID": [values]}, home=home)


def retrieve_request(documents: Sequence[tuple]) -> etree._Element:
    """(HomeCommunityId or None, DocumentUniqueId[, RepositoryUniqueId]) per DocumentRequest."""
    request = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetRequest", nsmap={"xdsb": XDSB})
    for home, unique_id, *repository in documents:
        document_request = etree.SubElement(request, f"{{{XDSB}}}DocumentRequest")
        if home is not None:
            etree.SubElement(document_request, f"{{{XDSB}}}HomeCommunityId").text = home
        etree.SubElement(document_request, f"{{{XDSB}}}RepositoryUniqueId").text = (
            repository[0] if repository else "1.3.6.1.4.1.21367.2010.1.2.1125")
        etree.SubElement(document_request, f"{{{XDSB}}}DocumentUniqueId").text = unique_id
    return request


def objects_of(response: etree._Element) -> list[etree._Element]:
    return list(response.find(f"{{{RIM}}}RegistryObjectList"))


def homes_by_unique_id(response: etree._Element) -> dict[str, str]:
    """uniqueId → home of each ExtrinsicObject in an AdhocQueryResponse."""
    found = {}
    for obj in objects_of(response):
        for identifier in obj.iterchildren(f"{{{RIM}}}ExternalIdentifier"):
            if identifier.get("identificationScheme") == "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab":
                found[identifier.get("value")] = obj.get("home")
    return found


def status_and_issues(response: etree._Element) -> tuple[Status, list[Issue]]:
    if response.tag == f"{{{XDSB}}}RetrieveDocumentSetResponse":
        response = response.find(f"{{{RS}}}RegistryResponse")
    return read_registry_response(response)


def retrieved(reply: SoapReply) -> dict[str, tuple[str, bytes]]:
    """DocumentUniqueId → (HomeCommunityId, content) of a RetrieveDocumentSetResponse."""
    documents = {}
    for response in reply.body.iterchildren(f"{{{XDSB}}}DocumentResponse"):
        content = reply.content_of(response.find(f"{{{XDSB}}}Document")).read_bytes()
        documents[response.findtext(f"{{{XDSB}}}DocumentUniqueId")] = (
            response.findtext(f"{{{XDSB}}}HomeCommunityId"), content)
    return documents


def assert_valid_retrieve_response(reply: SoapReply) -> None:
    """Schema-check the infoset an MTOM reply stands for: each Document as its base64 content."""
    body = copy.deepcopy(reply.body)
    for original, element in zip(reply.body.iter(f"{{{XDSB}}}Document"), body.iter(f"{{{XDSB}}}Document")):
        content = reply.content_of(original).read_bytes()
        for child in list(element):
            element.remove(child)
        element.text = base64.b64encode(content).decode()
    assert_valid(body, "xdsb")


def directory_of(fakes_and_urls, *, timeout: float = 10.0) -> CommunityDirectory:
    return CommunityDirectory(
        Community(fake.home, fake.name, url, url, timeout_seconds=timeout) for fake, url in fakes_and_urls
    )


@contextlib.contextmanager
def initiating_gateway(directory: CommunityDirectory, *, deadline: float = 10.0,
                       max_outstanding: int = 32) -> Iterator[tuple[InitiatingGateway, SoapClient]]:
    """An Initiating Gateway served on loopback and a client of it."""
    gateway = InitiatingGateway(directory, deadline_seconds=deadline, max_outstanding=max_outstanding)
    try:
        with serving(build_initiating_router(gateway), threads=32) as url, \
                SoapClient(url, timeout=60) as client:
            yield gateway, client
    finally:
        gateway.close()
