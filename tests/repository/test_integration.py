"""The Document Repository of a real `xdsno serve` node over loopback, on every storage
combination (folder or S3 blobs; SQLite or PostgreSQL): ITI-41 (SoapClient, plain and MTOM,
and the `xdsno publish` command) → ITI-18 → ITI-43 (SoapClient and `xdsno retrieve`) round
trips byte for byte, PartialSuccess, all-or-nothing submissions, ITI-86. Every message sent and
received is checked against the IHE schemas when ../shared has them."""
from __future__ import annotations

import base64
import copy
import re

import pytest
from profiles.ebrim import encode_provide_and_register
from profiles.errors import Status
from profiles.responses import read_registry_response
from profiles.vocabulary import RS, XDSB, AssociationType
from repository.actions import PROVIDE_AND_REGISTER, REMOVE_DOCUMENTS, RETRIEVE
from scripts.federation_check import entries, find_documents
from soap.client import SoapClient
from tests.profiles import samples
from tests.profiles.xml_support import assert_valid

from . import support
from .nodes import BACKEND_IDS, BACKENDS, cli, file_sha1, repository_node
from .support import OTHER_REPOSITORY_ID, REPOSITORY_ID, codes, sha1

REGISTRY_STORED_QUERY = "urn:ihe:iti:2007:RegistryStoredQuery"


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKEND_IDS)
def node(request, tmp_path_factory):
    blobs, database = request.param
    with repository_node(tmp_path_factory.mktemp(f"{blobs}-{database}") / "data", blobs, database) as running:
        yield running


@pytest.fixture
def repository(node):
    with SoapClient(node.repository_url, timeout=120) as client:
        yield client


def provide(client, built, documents, *, mtom=True):
    assert_valid(encode_provide_and_register(built, list(documents.items())), "xdsb")  # the XOP infoset
    if mtom:
        body, parts = support.mtom_parts(built, documents)
    else:
        body, parts = encode_provide_and_register(built, list(documents.items())), []
    reply = client.call(PROVIDE_AND_REGISTER, body, attachments=parts, mtom=mtom).raise_for_fault()
    assert reply.is_mtom is mtom
    assert_valid(reply.body, "rs")
    return read_registry_response(reply.body)


def published(client, count: int = 2, **changes) -> dict[str, bytes]:
    """A fresh submission of `count` documents, provided: uniqueId → bytes."""
    built = support.submission(count, **changes)
    documents = support.contents(built)
    assert provide(client, built, documents) == (Status.SUCCESS, [])
    return {entry.unique_id: documents[entry.id] for entry in built.document_entries}


def retrieve(client, items):
    request = support.retrieve_request(items)
    assert_valid(request, "xdsb")
    reply = client.call(RETRIEVE, request, mtom=True).raise_for_fault()
    assert reply.is_mtom
    response = reply.body
    contents = {}
    infoset = copy.deepcopy(response)  # what the XOP package stands for: includes replaced by content
    for answer, document in zip(response.iterfind(f"{{{XDSB}}}DocumentResponse"),
                                infoset.iterfind(f"{{{XDSB}}}DocumentResponse/{{{XDSB}}}Document")):
        data = reply.content_of(answer.find(f"{{{XDSB}}}Document")).read_bytes()
        contents[answer.findtext(f"{{{XDSB}}}DocumentUniqueId")] = data
        document.remove(document[0])
        document.text = base64.b64encode(data).decode()
    assert_valid(infoset, "xdsb")
    reply.close()
    status, issues = read_registry_response(response.find(f"{{{RS}}}RegistryResponse"))
    return status, issues, contents


def query_entries(node, patient_id: str = samples.PATIENT_ID) -> dict[str, dict]:
    request = find_documents(patient_id)
    assert_valid(request, "query")
    with SoapClient(node.registry_url, timeout=60) as client:
        reply = client.call(REGISTRY_STORED_QUERY, request).raise_for_fault()
    assert_valid(reply.body, "query")
    assert read_registry_response(reply.body)[0] is Status.SUCCESS
    return {entry["unique_id"]: entry for entry in entries(reply.body)}


def test_publish_query_retrieve_round_trip(node, repository):
    documents = published(repository)
    found = query_entries(node)
    for unique_id, data in documents.items():
        entry = found[unique_id]
        assert (entry["hash"], entry["size"]) == (sha1(data), str(len(data)))
        assert (entry["repository"], entry["mime_type"]) == (REPOSITORY_ID, "text/xml")
    status, issues, contents = retrieve(repository, [(REPOSITORY_ID, uid) for uid in documents])
    assert (status, issues) == (Status.SUCCESS, [])
    assert contents == documents


def test_inline_documents_in_plain_soap(repository):
    built = support.submission()
    documents = support.contents(built)
    assert provide(repository, built, documents, mtom=False) == (Status.SUCCESS, [])
    uids = [entry.unique_id for entry in built.document_entries]
    _, _, contents = retrieve(repository, [(REPOSITORY_ID, uid) for uid in uids])
    assert contents == {entry.unique_id: documents[entry.id] for entry in built.document_entries}


def test_cli_publish_then_cli_retrieve(node, tmp_path):
    files = []
    for n, data in enumerate((b"%PDF-1.4 first\n" * 1000, b"second document\n" * 333), 1):
        path = tmp_path / f"document-{n}.txt"
        path.write_bytes(data)
        files.append(path)
    result = cli("publish", *map(str, files), "--patient", samples.PATIENT_ID, "--repository", node.repository_url,
                 "--profile", "ihe", "--title", "From the command line")
    assert result.returncode == 0, result.stderr
    lines = re.findall(r"^(\S+)  (\S+)  (\d+) bytes  sha1 ([0-9a-f]{40})$", result.stdout, re.M)
    assert [(Path_, int(size), digest) for _, Path_, size, digest in lines] == [
        (str(f), f.stat().st_size, file_sha1(f)) for f in files]
    found = query_entries(node)
    for unique_id, path, size, digest in lines:
        assert (found[unique_id]["hash"], found[unique_id]["size"]) == (digest, size)
        out = tmp_path / f"{unique_id}.out"
        got = cli("retrieve", unique_id, "--out", str(out), "--repository", node.repository_url,
                  "--repository-unique-id", REPOSITORY_ID)
        assert got.returncode == 0, got.stderr
        assert f"{size} bytes, sha1 {digest}" in got.stdout
        assert out.read_bytes() == open(path, "rb").read()


def test_cli_retrieve_of_an_unknown_document_fails_and_writes_nothing(node, tmp_path):
    out = tmp_path / "nothing.bin"
    got = cli("retrieve", "1.2.3.404", "--out", str(out), "--repository", node.repository_url,
              "--repository-unique-id", REPOSITORY_ID)
    assert got.returncode == 1 and "XDSDocumentUniqueIdError" in got.stderr
    assert list(tmp_path.iterdir()) == []


def test_retrieve_known_and_unknown_is_partial_success(repository):
    documents = published(repository, 1)
    [uid] = documents
    status, issues, contents = retrieve(repository, [(REPOSITORY_ID, uid), (REPOSITORY_ID, "1.2.3.404"),
                                                     (OTHER_REPOSITORY_ID, uid)])
    assert status is Status.PARTIAL_SUCCESS
    assert codes(issues) == ["XDSDocumentUniqueIdError", "XDSUnknownRepositoryId"]
    assert [issue.location for issue in issues] == ["1.2.3.404", uid]
    assert contents == documents


def test_retrieve_of_unknown_only_is_failure(repository):
    status, issues, contents = retrieve(repository, [(REPOSITORY_ID, "1.2.3.404")])
    assert (status, codes(issues), contents) == (Status.FAILURE, ["XDSDocumentUniqueIdError"], {})


def test_submission_the_repository_rejects_stores_nothing(node, repository):
    before = node.blob_names()
    built = support.submission(doc=lambda d: d.with_changes(hash="0" * 40))
    status, issues = provide(repository, built, support.contents(built))
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSRepositoryMetadataError"])
    assert node.blob_names() == before


def test_submission_the_registry_rejects_stores_nothing(node, repository):
    before = node.blob_names()
    replacing = samples.relationship("Rel01", AssociationType.REPLACE, samples.DOCUMENT_1, samples.EXISTING_DOCUMENT)
    built = support.submission(then=lambda s: s.with_changes(associations=s.associations + (replacing,)))
    status, issues = provide(repository, built, support.contents(built))
    assert status is Status.FAILURE and issues
    assert node.blob_names() == before
    uid = built.document_entries[0].unique_id
    assert retrieve(repository, [(REPOSITORY_ID, uid)])[0] is Status.FAILURE
    assert uid not in query_entries(node)


def test_remove_documents(node, repository):
    documents = published(repository)
    first, second = documents
    before = node.blob_names()
    request = support.remove_request([(REPOSITORY_ID, first), (REPOSITORY_ID, "1.2.3.404")])
    assert_valid(request, "rmd")
    reply = repository.call(REMOVE_DOCUMENTS, request).raise_for_fault()
    assert reply.addressing.action == REMOVE_DOCUMENTS + "Response"
    assert_valid(reply.body, "rs")
    status, issues = read_registry_response(reply.body)
    assert (status, codes(issues)) == (Status.PARTIAL_SUCCESS, ["XDSDocumentUniqueIdError"])
    assert len(node.blob_names()) == len(before) - 1
    status, issues, contents = retrieve(repository, [(REPOSITORY_ID, first), (REPOSITORY_ID, second)])
    assert (status, codes(issues)) == (Status.PARTIAL_SUCCESS, ["XDSDocumentUniqueIdError"])
    assert contents == {second: documents[second]}
    assert first in query_entries(node)  # ITI-86 removes the bytes, not the registry's metadata


def test_health_lists_the_repository_actions(node):
    import httpx

    actions = httpx.get(node.server.url("/health")).json()["actors"]["repository"]["actions"]
    assert actions == sorted([PROVIDE_AND_REGISTER, RETRIEVE, REMOVE_DOCUMENTS])


def test_no_unfinished_upload_or_part_file_is_left(node):
    assert not [name for name in node.blob_names() if name.endswith(".part")]
