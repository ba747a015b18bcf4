"""Helpers for the Document Repository tests: ITI-41 submissions with fresh uniqueIds and their
documents, requests inline or as MTOM through the real router, a scriptable registry fake, and
services on a MemoryBlobStore with a real registry (RegistryService on SQLite) or the fake.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from profiles.catalog import load_profile
from profiles.ebrim import encode_provide_and_register
from profiles.errors import ErrorCode, Issue, Status
from profiles.model import Submission
from profiles.responses import read_registry_response, registry_response
from profiles.vocabulary import RMD, XDSB
from repository.actions import PROVIDE_AND_REGISTER
from repository.endpoints import build_repository_router
from repository.index import open_document_index
from repository.registry_client import InProcessRegistryClient
from repository.service import RepositoryService
from repository.store.memory import MemoryBlobStore
from soap.mtom import OutgoingAttachment, XopMap, include_element, new_content_id
from tests.profiles import samples
from tests.soap.support import call_wsgi, request_bytes

REPOSITORY_ID = "1.3.6.1.4.1.21367.2010.1.2.1125"
OTHER_REPOSITORY_ID = "1.3.6.1.4.1.21367.2010.1.2.9999"
SAMPLE_DOMAIN = "1.3.6.1.4.1.21367.2003.3.9"


def new_oid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def submission(documents: int = 2, *, doc=None, doc2=None, then=None) -> Submission:
    """The samples ITI-41 submission (source metadata) with new uniqueIds; `documents` = 1 or 2
    keeps that many DocumentEntries (the folder files Document01)."""
    def fresh(change):
        def apply(obj):
            obj = samples.source_metadata(obj.with_changes(unique_id=new_oid()))
            return change(obj) if change else obj
        return apply

    def shape(built: Submission) -> Submission:
        if documents == 1:
            built = built.with_changes(
                document_entries=built.document_entries[:1],
                associations=tuple(a for a in built.associations if a.target != samples.DOCUMENT_2))
        return then(built) if then else built

    return samples.submission(
        doc=fresh(doc), doc2=fresh(doc2),
        submission_set=lambda s: s.with_changes(unique_id=new_oid()),
        folder=lambda f: f.with_changes(unique_id=new_oid()), then=shape)


def contents(built: Submission) -> dict[str, bytes]:
    """Distinct document bytes for each DocumentEntry id."""
    return {entry.id: f"<doc id='{entry.id}'>{uuid.uuid4().hex}</doc>\n".encode() * 3
            for entry in built.document_entries}


@dataclass
class InlineRequest:
    """What a handler sees of a plain (non-MTOM) ITI-41 request: inline base64 documents."""

    body: etree._Element
    attachments: dict = field(default_factory=dict)
    xop: XopMap = field(default_factory=XopMap)

    def attachment_for(self, element):
        return self.xop.attachment_for(element)


def inline_request(built: Submission, documents: dict[str, bytes]) -> InlineRequest:
    return InlineRequest(encode_provide_and_register(built, list(documents.items())))


def mtom_parts(built: Submission, documents: dict[str, bytes],
               extra_parts: Sequence[bytes] = ()) -> tuple[etree._Element, list[OutgoingAttachment]]:
    """The ITI-41 body whose xdsb:Documents are xop:Includes, and the parts they name."""
    parts, refs = [], []
    for document_id, data in documents.items():
        cid = new_content_id()
        refs.append((document_id, include_element(cid)))
        parts.append(OutgoingAttachment.from_bytes(cid, data, "text/xml"))
    parts += [OutgoingAttachment.from_bytes(new_content_id(), data) for data in extra_parts]
    return encode_provide_and_register(built, refs), parts


def mtom_request(built: Submission, documents: dict[str, bytes],
                 extra_parts: Sequence[bytes] = ()) -> tuple[str, bytes]:
    """(Content-Type, bytes) of an MTOM ITI-41 request: each document an XOP part."""
    body, parts = mtom_parts(built, documents, extra_parts)
    return request_bytes(PROVIDE_AND_REGISTER, body, attachments=parts, mtom=True)


class UnreliableStore(MemoryBlobStore):
    """A MemoryBlobStore that fails like an unreachable S3 server while `down`: a writer once it
    has taken `fail_after` bytes, and every delete. Its janitor retries only when told
    (`janitor.run_due()`), with no pause."""

    def __init__(self, fail_after: int = 0):
        from repository.store.janitor import Janitor

        super().__init__()
        self.down = False
        self.fail_after = fail_after
        self.janitor = Janitor("unreliable", first_delay=0, background=False)

    def writer(self, prefix: str = ""):
        from repository.store.base import BlobStoreError, new_key
        from repository.store.memory import _MemoryWriter

        store = self

        class Writer(_MemoryWriter):
            def _write(self, chunk: bytes) -> None:
                if store.down and self.size > store.fail_after:
                    raise BlobStoreError("S3 server unreachable (UploadPart): connection refused")
                super()._write(chunk)

        return Writer(self, new_key(prefix))

    def delete(self, key: str) -> None:
        from repository.store.base import BlobStoreError

        if self.down:
            raise BlobStoreError("S3 server unreachable (DeleteObject): connection refused")
        super().delete(key)


class FakeRegistry:
    """A registry client that records each SubmitObjectsRequest and answers as told."""

    def __init__(self, status: Status = Status.SUCCESS, issues: Sequence[Issue] = ()):
        self.status = status
        self.issues = list(issues)
        self.requests: list[etree._Element] = []

    def register(self, request: etree._Element) -> etree._Element:
        self.requests.append(request)
        return registry_response(self.issues, status=self.status)


def refusing_registry() -> FakeRegistry:
    return FakeRegistry(Status.FAILURE, [Issue(ErrorCode.UNKNOWN_PATIENT_ID, "patient not known here")])


def real_registry(directory: Path, *, known_patients_only: bool = False):
    """A RegistryService (IHE profile) on a fresh SQLite file, and its in-process client (taking
    the decoded submission, as the composition root wires it)."""
    from registry.service import RegistryService
    from registry.store import create_schema, open_engine

    engine = open_engine(f"sqlite:///{directory / 'registry.sqlite3'}")
    create_schema(engine)
    service = RegistryService(engine, load_profile("ihe"), patient_domains=(SAMPLE_DOMAIN,),
                              known_patients_only=known_patients_only)
    return service, InProcessRegistryClient(service.register, service.register_submission)


@dataclass
class Node:
    """A repository service on a MemoryBlobStore with its router."""

    service: RepositoryService
    store: MemoryBlobStore
    registry: object

    @property
    def router(self):
        return build_repository_router(self.service)

    def provide(self, built: Submission, documents: dict[str, bytes]) -> tuple[Status, list[Issue]]:
        return read_registry_response(self.service.provide_and_register(inline_request(built, documents)))

    def provide_mtom(self, built: Submission, documents: dict[str, bytes], **options):
        content_type, body = mtom_request(built, documents, **options)
        result = call_wsgi(self.router, body, content_type)
        return read_registry_response(result.message().body)


def make_node(directory: Path, registry=None, *, profile: str = "ihe", store=None) -> Node:
    store = store if store is not None else MemoryBlobStore()
    registry = registry if registry is not None else FakeRegistry()
    index = open_document_index(f"sqlite:///{directory / f'repository-{uuid.uuid4().hex[:6]}.sqlite3'}")
    service = RepositoryService(store, index, registry, load_profile(profile),
                                repository_unique_id=REPOSITORY_ID, patient_domains=(SAMPLE_DOMAIN,))
    return Node(service, store, registry)


def document_requests(tag: str, items: Sequence[tuple[str, str] | tuple[str, str, str]]) -> etree._Element:
    """A RetrieveDocumentSetRequest or RemoveDocumentsRequest: items (repository, document[, home])."""
    root = etree.Element(tag, nsmap={"xdsb": XDSB, "rmd": RMD})
    for item in items:
        request = etree.SubElement(root, f"{{{XDSB}}}DocumentRequest")
        if len(item) == 3:
            etree.SubElement(request, f"{{{XDSB}}}HomeCommunityId").text = item[2]
        etree.SubElement(request, f"{{{XDSB}}}RepositoryUniqueId").text = item[0]
        etree.SubElement(request, f"{{{XDSB}}}DocumentUniqueId").text = item[1]
    return root


def retrieve_request(items) -> etree._Element:
    return document_requests(f"{{{XDSB}}}RetrieveDocumentSetRequest", items)


def remove_request(items) -> etree._Element:
    return document_requests(f"{{{RMD}}}RemoveDocumentsRequest", items)


def codes(issues: list[Issue]) -> list[str]:
    return [str(issue.code) for issue in issues if issue.is_error]


def joined(attachment: OutgoingAttachment) -> bytes:
    return b"".join(attachment.chunks)
