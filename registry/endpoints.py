"""The Document Registry's SOAP endpoint (ITI TF-2 3.42.5 / 3.18.5 / 3.51.5, RMD 3.62.5 and
Appendix V: SOAP 1.2, WS-Addressing actions of the XDS.b_DocumentRegistry and
RMD_DocumentRegistry WSDLs and IPF's iti51.wsdl).

    urn:ihe:iti:2007:RegisterDocumentSet-b    lcm:SubmitObjectsRequest → rs:RegistryResponse     ITI-42
    urn:ihe:iti:2007:RegistryStoredQuery      query:AdhocQueryRequest  → query:AdhocQueryResponse ITI-18
    urn:ihe:iti:2009:MultiPatientStoredQuery  query:AdhocQueryRequest  → query:AdhocQueryResponse ITI-51
    urn:ihe:iti:2010:DeleteDocumentSet        lcm:RemoveObjectsRequest → rs:RegistryResponse     ITI-62

Envelope problems are SOAP faults (soap.router). Everything inside the Body is answered with
the transaction's response element (DESIGN.md §3), including a Body that carries the wrong
request element: a Failure with XDSRegistryError, which every XDS client can read, rather
than a fault some clients would only log. An unexpected error is logged and answered the same
way; no traceback reaches the peer.
"""
from __future__ import annotations

import logging

from lxml import etree

from profiles.errors import ErrorCode, Issue, Status
from profiles.responses import adhoc_query_response, registry_response
from soap.router import SoapRequest, SoapResponse, SoapRouter

from .service import INTERNAL_ERROR, RegistryService

log = logging.getLogger(__name__)

REGISTER_DOCUMENT_SET_B = "urn:ihe:iti:2007:RegisterDocumentSet-b"
REGISTRY_STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"
MULTI_PATIENT_STORED_QUERY = "urn:ihe:iti:2009:MultiPatientStoredQuery"
DELETE_DOCUMENT_SET = "urn:ihe:iti:2010:DeleteDocumentSet"


def build_registry_router(service: RegistryService, *, max_xml_bytes: int) -> SoapRouter:
    """A SoapRouter serving ITI-42, ITI-18, ITI-51 and ITI-62 from `service`; mount it at the registry's path."""
    router = SoapRouter(max_xml_bytes=max_xml_bytes)
    router.register(REGISTER_DOCUMENT_SET_B, _handler(lambda request: service.register(request.body),
                                                      _register_failure))
    # the request's environ travels with the query: the access policy screens by what it holds
    router.register(REGISTRY_STORED_QUERY, _handler(lambda request: _spliced(service.query_answer(request.body,
                                                                                                 request.environ)),
                                                    _query_failure))
    router.register(MULTI_PATIENT_STORED_QUERY,
                    _handler(lambda request: service.multi_patient_query(request.body, request.environ),
                             _query_failure))
    router.register(DELETE_DOCUMENT_SET, _handler(lambda request: service.remove_metadata(request.body, request.environ),
                                                  _register_failure))
    return router


def _register_failure() -> etree._Element:
    return registry_response([Issue(ErrorCode.REGISTRY_ERROR, INTERNAL_ERROR)])


def _query_failure() -> etree._Element:
    return adhoc_query_response([Issue(ErrorCode.REGISTRY_ERROR, INTERNAL_ERROR)], [], status=Status.FAILURE)


def _spliced(answer) -> SoapResponse:
    # LeafClass objects go out as the registry stored them, unparsed (soap.splice)
    return SoapResponse(answer.body, spliced=answer.spliced)


def _handler(answer, failure):
    def handle(request: SoapRequest) -> SoapResponse:
        try:
            answered = answer(request)
            return answered if isinstance(answered, SoapResponse) else SoapResponse(answered)
        except Exception:  # the service answers its own errors; this is the last guard
            log.exception("registry handler failed answering %s", request.action)
            return SoapResponse(failure())

    return handle
