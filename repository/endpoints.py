"""The Document Repository's SOAP endpoint: ITI-41, ITI-43 and ITI-86 on one `SoapRouter`.

ITI-41 is registered with the service's sink factory, so the router streams each MTOM
document part into the blob store while the request arrives (DESIGN.md §3). A request sent
as MTOM is answered as MTOM; ITI-43 answers are MTOM whenever they carry documents (the
router does both). Actions: ITI TF-2 3.41.4.1.2, 3.43.4.1.2; RMD 3.86.4.1.2.
"""
from __future__ import annotations

from soap.router import SoapRequest, SoapResponse, SoapRouter
from soap.xml import DEFAULT_MAX_XML_BYTES

from .actions import PROVIDE_AND_REGISTER, REMOVE_DOCUMENTS, RETRIEVE
from .service import RepositoryService


def build_repository_router(service: RepositoryService, *, max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
                            router: SoapRouter | None = None) -> SoapRouter:
    """Register the repository's transactions on `router` (a new one when None)."""
    router = router or SoapRouter(max_xml_bytes=max_xml_bytes)

    def provide_and_register(request: SoapRequest) -> SoapResponse:
        return SoapResponse(service.provide_and_register(request))

    def retrieve(request: SoapRequest) -> SoapResponse:
        result = service.retrieve(request.body, request.environ)
        return SoapResponse(result.response, attachments=result.attachments)

    def remove_documents(request: SoapRequest) -> SoapResponse:
        return SoapResponse(service.remove_documents(request.body))

    router.register(PROVIDE_AND_REGISTER, provide_and_register, sink_factory=service.document_sink)
    router.register(RETRIEVE, retrieve)
    router.register(REMOVE_DOCUMENTS, remove_documents)
    return router
