"""`RepositoryService`: the Document Repository actor's logic, free of HTTP (DESIGN.md §2).

- `provide_and_register(request)`   ITI-41 (ITI TF-2 3.41.4.1.3), see repository.provide;
- `document_sink(cid, type)`        the MTOM sink factory of the ITI-41 route: document parts
                                    stream into the blob store while the request arrives;
- `retrieve(body, context)`         ITI-43 (ITI TF-2 3.43.4.1.3), see repository.retrieve;
                                    screened by the `document_access` policy (profiles.access)
                                    in the request's context when both are present;
- `remove_documents(body)`          ITI-86 (RMD 3.86.4.1.3).

Built from plain values by the composition root: a blob store (repository.store), the
repository's index, a registry client (SOAP or in-process, repository.registry_client) and
the metadata profile. The repository never imports the registry.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from lxml import etree

from profiles.access import DocumentAccess
from profiles.rules import Profile

from .documents import IncomingDocument
from .index import DocumentIndex
from .provide import ProvideAndRegister, RepositoryConfig
from .registry_client import RegistryClient
from .retrieve import DocumentLookup, RetrieveResult, Screen, remove_documents, retrieve


class RepositoryService:
    """One Document Repository: safe to share between the server's threads."""

    def __init__(
        self,
        blob_store,
        index: DocumentIndex,
        registry_client: RegistryClient,
        profile: Profile,
        *,
        repository_unique_id: str,
        strict: bool = True,
        patient_domains: tuple[str, ...] = (),
        validation_extras: Mapping[str, Any] | None = None,
        document_access: DocumentAccess | None = None,
    ):
        self.blob_store = blob_store
        self.index = index
        self.registry_client = registry_client
        self.document_access = document_access
        self.config = RepositoryConfig(
            repository_unique_id, profile, strict, tuple(patient_domains),
            MappingProxyType(dict(validation_extras or {})),
        )
        self._provide = ProvideAndRegister(blob_store, index, registry_client, self.config)
        self._lookup = DocumentLookup(blob_store, index, repository_unique_id)

    @property
    def repository_unique_id(self) -> str:
        return self.config.repository_unique_id

    def document_sink(self, _content_id: str, _content_type: str) -> IncomingDocument:
        """A fresh blob for one MTOM document part (soap.mtom sink factory signature)."""
        return IncomingDocument(self.blob_store)

    def provide_and_register(self, request) -> etree._Element:
        """ITI-41: `request` offers `body`, `attachments` and `attachment_for(element)` (a
        soap.router.SoapRequest does); the answer is an rs:RegistryResponse."""
        return self._provide(request)

    def retrieve(self, body: etree._Element, context: Mapping[str, Any] | None = None) -> RetrieveResult:
        """ITI-43: xdsb:RetrieveDocumentSetRequest → response body and streamed attachments; an
        in-process caller passing no context is answered unscreened."""
        return retrieve(self._lookup, body, self._screen(context))

    def _screen(self, context: Mapping[str, Any] | None) -> Screen | None:
        access = self.document_access
        if access is None or context is None or not access.judges(context):
            return None
        return lambda unique_ids: access.retrievable(context, unique_ids)

    def remove_documents(self, body: etree._Element) -> etree._Element:
        """ITI-86: rmd:RemoveDocumentsRequest → rs:RegistryResponse."""
        return remove_documents(self._lookup, body)

    def close(self) -> None:
        close = getattr(self.registry_client, "close", None)
        if callable(close):
            close()
        self.index.close()
