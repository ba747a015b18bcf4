"""`python -m scripts.federation --check`: one patient's documents across the federation.

1. ITI-38 FindDocuments straight to each Responding Gateway: every object carries that
   community's homeCommunityId (ITI TF-2 3.38.4.1.3);
2. ITI-18 FindDocuments to the Initiating Gateway: the union of the communities' answers;
3. ITI-43 to the Initiating Gateway for one document of each community (routed by
   HomeCommunityId, ITI TF-2 3.39): each document's SHA-1 and size match its metadata.
With XUA on, every request carries an assertion naming the patient (`security_headers`), and
the refusals are checked too (scripts/federation_xua_check.py).
Prints what it saw; the exit code is 0 only when every step passed.
"""
from __future__ import annotations

import hashlib
from collections import Counter

from lxml import etree

from profiles.errors import Status
from profiles.responses import read_registry_response
from profiles.vocabulary import QUERY, RIM, XDSB
from soap.client import SoapClient
from soap.mtom import MtomError

from scripts.federation_data import PATIENTS

FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
UNIQUE_ID_SCHEME = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
CROSS_GATEWAY_QUERY = "urn:ihe:iti:2007:CrossGatewayQuery"
REGISTRY_STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
RETRIEVE_DOCUMENT_SET = "urn:ihe:iti:2007:RetrieveDocumentSet"


def find_documents(patient_id: str) -> etree._Element:
    """query:AdhocQueryRequest FindDocuments (LeafClass, Approved) for one patient."""
    request = etree.Element(f"{{{QUERY}}}AdhocQueryRequest", nsmap={"query": QUERY, "rim": RIM})
    etree.SubElement(request, f"{{{QUERY}}}ResponseOption", returnComposedObjects="true", returnType="LeafClass")
    query = etree.SubElement(request, f"{{{RIM}}}AdhocQuery", id=FIND_DOCUMENTS)
    for name, value in (("$XDSDocumentEntryPatientId", f"'{patient_id}'"),
                        ("$XDSDocumentEntryStatus", "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')")):
        slot = etree.SubElement(query, f"{{{RIM}}}Slot", name=name)
        etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = value
    return request


def entries(response: etree._Element) -> list[dict[str, str]]:
    """home, uniqueId, repositoryUniqueId, hash, size, mimeType of each returned ExtrinsicObject."""
    found = []
    for obj in response.iterfind(f"{{{RIM}}}RegistryObjectList/{{{RIM}}}ExtrinsicObject"):
        slots = {slot.get("name"): slot.findtext(f"{{{RIM}}}ValueList/{{{RIM}}}Value") for slot in obj.iterfind(f"{{{RIM}}}Slot")}
        unique_id = next((e.get("value") for e in obj.iterfind(f"{{{RIM}}}ExternalIdentifier")
                          if e.get("identificationScheme") == UNIQUE_ID_SCHEME), "")
        found.append({"home": obj.get("home") or "", "unique_id": unique_id, "mime_type": obj.get("mimeType"),
                      "repository": slots.get("repositoryUniqueId") or "", "hash": (slots.get("hash") or "").lower(),
                      "size": slots.get("size") or ""})
    return found


def retrieve_request(documents: list[dict[str, str]]) -> etree._Element:
    root = etree.Element(f"{{{XDSB}}}RetrieveDocumentSetRequest", nsmap={"xdsb": XDSB})
    for document in documents:
        request = etree.SubElement(root, f"{{{XDSB}}}DocumentRequest")
        etree.SubElement(request, f"{{{XDSB}}}HomeCommunityId").text = document["home"]
        etree.SubElement(request, f"{{{XDSB}}}RepositoryUniqueId").text = document["repository"]
        etree.SubElement(request, f"{{{XDSB}}}DocumentUniqueId").text = document["unique_id"]
    return root


def query_documents(url: str, action: str, patient_id: str, headers=(),
                    **options) -> tuple[Status, list, list[dict[str, str]]]:
    with SoapClient(url, timeout=60, **options) as client:
        reply = client.call(action, find_documents(patient_id), headers=headers).raise_for_fault()
    status, issues = read_registry_response(reply.body)
    return status, issues, entries(reply.body)


def check_responding_gateways(federation, patient_id: str) -> tuple[bool, int]:
    ok, total = True, 0
    for item in federation.enterprises:
        home = item.enterprise.home_community_id
        status, issues, found = query_documents(item.gateway_url, CROSS_GATEWAY_QUERY, patient_id,
                                       federation.security_headers(patient_id), **federation.client_options())
        good = status is Status.SUCCESS and all(doc["home"] == home for doc in found)
        print(f"  ITI-38 {item.enterprise.name:<14} {len(found)} document(s), home {home}: "
              f"{'ok' if good else f'FAILED {status} {issues}'}")
        ok, total = ok and good, total + len(found)
    return ok, total


def check_initiating_query(federation, patient_id: str, expected: int) -> tuple[bool, list[dict[str, str]]]:
    status, issues, found = query_documents(federation.initiating_url, REGISTRY_STORED_QUERY, patient_id,
                                   federation.security_headers(patient_id), **federation.client_options())
    homes = Counter(doc["home"] for doc in found)
    good = status is Status.SUCCESS and len(found) == expected and "" not in homes
    print(f"  ITI-18 via initiating gateway: {len(found)} document(s) of {expected}, by community "
          f"{dict(homes)}: {'ok' if good else f'FAILED {status} {issues}'}")
    return good, found


def check_initiating_retrieve(federation, found: list[dict[str, str]], patient_id: str | None = None) -> bool:
    one_per_community = list({doc["home"]: doc for doc in found}.values())
    with SoapClient(federation.initiating_url, timeout=60, **federation.client_options()) as client:
        reply = client.call(RETRIEVE_DOCUMENT_SET, retrieve_request(one_per_community), mtom=True,
                            headers=federation.security_headers(patient_id)).raise_for_fault()
        status, issues = read_registry_response(reply.body.find("{urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0}RegistryResponse"))
        by_id = {doc["unique_id"]: doc for doc in one_per_community}
        good = status is Status.SUCCESS
        for response in reply.body.iterfind(f"{{{XDSB}}}DocumentResponse"):
            expected = by_id.get(response.findtext(f"{{{XDSB}}}DocumentUniqueId"), {})
            try:
                data = reply.content_of(response.find(f"{{{XDSB}}}Document")).read_bytes()
            except MtomError:
                data = b""
            same = (hashlib.sha1(data).hexdigest() == expected.get("hash")
                    and str(len(data)) == expected.get("size")
                    and response.findtext(f"{{{XDSB}}}HomeCommunityId") == expected.get("home"))
            print(f"    {response.findtext(f'{{{XDSB}}}HomeCommunityId')} {len(data)} bytes: "
                  f"{'ok' if same else 'MISMATCH'}")
            good = good and same
            by_id.pop(response.findtext(f"{{{XDSB}}}DocumentUniqueId"), None)
        reply.close()
    good = good and not by_id
    print(f"  ITI-43 via initiating gateway, {len(one_per_community)} communities: "
          f"{'ok' if good else f'FAILED {status} {issues} missing {list(by_id)}'}")
    return good


def run_check(federation) -> int:
    patient = PATIENTS[0]
    print(f"Check: {patient.given} {patient.family} ({patient.patient_id})")
    ok, total = check_responding_gateways(federation, patient.patient_id)
    if federation.initiating is None:
        return 0 if ok else 1
    query_ok, found = check_initiating_query(federation, patient.patient_id, total)
    retrieve_ok = check_initiating_retrieve(federation, found, patient.patient_id) if found else False
    passed = ok and query_ok and retrieve_ok
    if federation.xua:
        from scripts.federation_xua_check import check_refusals

        passed = check_refusals(federation, patient.patient_id, found) and passed
    print("Check passed." if passed else "Check FAILED.")
    return 0 if passed else 1
