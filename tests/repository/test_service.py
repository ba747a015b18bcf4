"""ITI-41 at the Document Repository (ITI TF-2 3.41.4.1.3): documents stored as they arrive,
paired with their DocumentEntries, checked, registered; all or nothing."""
import pytest
from lxml import etree

from profiles.ebrim import decode_submit_objects_request, encode_provide_and_register
from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from repository import documents as documents_module
from repository.documents import IncomingDocument
from tests.profiles import samples
from tests.soap.support import call_wsgi

from . import support
from .support import REPOSITORY_ID, FakeRegistry, InlineRequest, codes, make_node, sha1

MODES = ("inline", "mtom")


def provide(node, mode, built, documents, **options):
    if mode == "inline":
        return node.provide(built, documents)
    return node.provide_mtom(built, documents, **options)


@pytest.fixture
def node(tmp_path):
    return make_node(tmp_path)


@pytest.fixture
def registered(tmp_path):
    """A repository registering with a real RegistryService on SQLite."""
    _service, client = support.real_registry(tmp_path)
    return make_node(tmp_path, client)


def assert_nothing_stored(node):
    assert node.store.blobs == {}
    assert node.service.index.count() == 0


@pytest.mark.parametrize("mode", MODES)
def test_documents_are_stored_indexed_and_registered(registered, mode):
    built = support.submission()
    documents = support.contents(built)
    status, issues = provide(registered, mode, built, documents)
    assert (status, issues) == (Status.SUCCESS, [])
    stored = registered.service.index.get_many(e.unique_id for e in built.document_entries)
    assert len(stored) == 2 and len(registered.store.blobs) == 2
    for entry in built.document_entries:
        row = stored[entry.unique_id]
        assert registered.store.blobs[row.blob_key] == documents[entry.id]
        assert (row.sha1, row.size) == (sha1(documents[entry.id]), len(documents[entry.id]))
        assert (row.mime_type, row.repository_unique_id) == ("text/xml", REPOSITORY_ID)


def test_registry_gets_hash_size_and_repository_id(node):
    built = support.submission(doc=lambda d: d.with_changes(repository_unique_id="1.2.3.4"))
    documents = support.contents(built)
    assert node.provide(built, documents)[0] is Status.SUCCESS
    sent, issues = decode_submit_objects_request(node.registry.requests[0])
    assert not [issue for issue in issues if issue.is_error]
    for entry in sent.document_entries:
        assert entry.hash == sha1(documents[entry.id])
        assert entry.size == str(len(documents[entry.id]))
        assert entry.repository_unique_id == REPOSITORY_ID  # the source's value is replaced


def test_registry_request_is_a_valid_submit_objects_request(node):
    from tests.profiles.xml_support import assert_valid

    built = support.submission()
    node.provide(built, support.contents(built))
    assert_valid(node.registry.requests[0], "lcm")


@pytest.mark.parametrize("mode", MODES)
def test_registry_failure_leaves_no_blob_and_no_row(tmp_path, mode):
    node = make_node(tmp_path, support.refusing_registry())
    built = support.submission()
    status, issues = provide(node, mode, built, support.contents(built))
    assert status is Status.FAILURE
    assert codes(issues) == ["XDSUnknownPatientId"]
    assert_nothing_stored(node)


def test_real_registry_refusal_removes_the_blobs(tmp_path):
    _service, client = support.real_registry(tmp_path, known_patients_only=True)
    node = make_node(tmp_path, client)
    built = support.submission()
    status, issues = node.provide(built, support.contents(built))
    assert status is Status.FAILURE
    assert "XDSUnknownPatientId" in codes(issues)
    assert_nothing_stored(node)


def test_in_process_registry_crash_is_a_failure_without_blobs(tmp_path):
    from repository.registry_client import InProcessRegistryClient

    def crash(_request):
        raise RuntimeError("database gone")

    node = make_node(tmp_path, InProcessRegistryClient(crash))
    built = support.submission()
    status, issues = node.provide(built, support.contents(built))
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSRegistryError"])
    assert_nothing_stored(node)


@pytest.mark.parametrize("mode", MODES)
def test_any_exception_after_storing_removes_everything(node, mode, monkeypatch):
    def broken_register(_request):
        raise RuntimeError("connection reset")

    monkeypatch.setattr(node.registry, "register", broken_register)
    built = support.submission()
    status, issues = provide(node, mode, built, support.contents(built))
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSRepositoryError"])
    assert_nothing_stored(node)


def test_index_failure_removes_the_blobs(node, monkeypatch):
    def broken(_rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(node.service.index, "add_all", broken)
    built = support.submission()
    assert node.provide(built, support.contents(built))[0] is Status.FAILURE
    assert node.store.blobs == {} and node.registry.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_wrong_hash_is_a_repository_metadata_error_naming_both_values(node, mode):
    built = support.submission(doc=lambda d: d.with_changes(hash="0" * 40))
    documents = support.contents(built)
    status, issues = provide(node, mode, built, documents)
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSRepositoryMetadataError"])
    assert "0" * 40 in issues[0].context and sha1(documents[samples.DOCUMENT_1]) in issues[0].context
    assert issues[0].location == samples.DOCUMENT_1
    assert node.registry.requests == []
    assert_nothing_stored(node)


@pytest.mark.parametrize("mode", MODES)
def test_wrong_size_is_a_repository_metadata_error_naming_both_values(node, mode):
    built = support.submission(doc2=lambda d: d.with_changes(size="7"))
    documents = support.contents(built)
    status, issues = provide(node, mode, built, documents)
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSRepositoryMetadataError"])
    assert "size 7" in issues[0].context and str(len(documents[samples.DOCUMENT_2])) in issues[0].context
    assert_nothing_stored(node)


def test_correct_hash_and_size_in_any_case_are_accepted(node):
    built = support.submission()
    documents = support.contents(built)
    built = built.with_changes(document_entries=tuple(
        e.with_changes(hash=sha1(documents[e.id]).upper(), size=str(len(documents[e.id])))
        for e in built.document_entries))
    assert node.provide(built, documents) == (Status.SUCCESS, [])


@pytest.mark.parametrize("mode", MODES)
def test_entry_without_document_is_missing_document(node, mode):
    built = support.submission()
    documents = support.contents(built)
    del documents[samples.DOCUMENT_2]
    status, issues = provide(node, mode, built, documents)
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSMissingDocument"])
    assert issues[0].location == samples.DOCUMENT_2
    assert_nothing_stored(node)


@pytest.mark.parametrize("mode", MODES)
def test_document_without_entry_is_missing_document_metadata(node, mode):
    built = support.submission()
    documents = {**support.contents(built), "Stray01": b"no metadata for me"}
    status, issues = provide(node, mode, built, documents)
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSMissingDocumentMetadata"])
    assert issues[0].location == "Stray01"
    assert_nothing_stored(node)


def test_missing_mime_type_is_reported_once(node):
    built = support.submission(doc=lambda d: d.with_changes(mime_type=None))
    status, issues = node.provide(built, support.contents(built))
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSRepositoryMetadataError"])
    assert "mimeType" in issues[0].context and issues[0].location == samples.DOCUMENT_1
    assert_nothing_stored(node)


def test_profile_rules_run_with_the_repository_error_code(node):
    built = support.submission(doc=lambda d: d.with_changes(class_code=None))
    status, issues = node.provide(built, support.contents(built))
    assert status is Status.FAILURE
    assert set(codes(issues)) == {"XDSRepositoryMetadataError"}
    assert any("classCode" in issue.context for issue in issues)
    assert_nothing_stored(node)


def test_duplicate_unique_id_in_message(node):
    built = support.submission()
    same = built.document_entries[0].unique_id
    built = built.with_changes(document_entries=(built.document_entries[0],
                                                 built.document_entries[1].with_changes(unique_id=same)))
    status, issues = node.provide(built, support.contents(built))
    assert status is Status.FAILURE
    assert "XDSRepositoryDuplicateUniqueIdInMessage" in codes(issues)
    assert_nothing_stored(node)


def test_known_unique_id_with_other_content_is_non_identical_hash(node):
    first = support.submission(documents=1)
    documents = support.contents(first)
    assert node.provide(first, documents)[0] is Status.SUCCESS
    before = dict(node.store.blobs)
    again = support.submission(documents=1, doc=lambda d: d.with_changes(
        unique_id=first.document_entries[0].unique_id))
    status, issues = node.provide(again, {samples.DOCUMENT_1: b"other bytes"})
    assert (status, codes(issues)) == (Status.FAILURE, ["XDSNonIdenticalHash"])
    assert issues[0].location == first.document_entries[0].unique_id
    assert sha1(b"other bytes") in issues[0].context
    assert node.store.blobs == before and node.service.index.count() == 1


def test_known_unique_id_with_same_content_keeps_the_stored_copy(node):
    first = support.submission(documents=1)
    documents = support.contents(first)
    assert node.provide(first, documents)[0] is Status.SUCCESS
    before = dict(node.store.blobs)
    again = support.submission(documents=1, doc=lambda d: d.with_changes(
        unique_id=first.document_entries[0].unique_id))
    assert node.provide(again, documents)[0] is Status.SUCCESS  # the (fake) registry decides
    assert node.store.blobs == before and node.service.index.count() == 1


def test_identical_resubmission_is_registered_and_one_stored_copy_serves_it(registered):
    first = support.submission(documents=1)
    documents = support.contents(first)
    assert registered.provide(first, documents)[0] is Status.SUCCESS
    before = dict(registered.store.blobs)
    again = support.submission(documents=1, doc=lambda d: d.with_changes(
        unique_id=first.document_entries[0].unique_id))
    assert registered.provide(again, documents) == (Status.SUCCESS, [])
    assert registered.store.blobs == before and registered.service.index.count() == 1


def test_invalid_inline_base64_is_a_repository_error(node):
    built = support.submission()
    documents = support.contents(built)
    body = encode_provide_and_register(built, [(samples.DOCUMENT_1, "not*base64"),
                                               (samples.DOCUMENT_2, documents[samples.DOCUMENT_2])])
    status, issues = read_registry_response(node.service.provide_and_register(InlineRequest(body)))
    assert status is Status.FAILURE
    assert codes(issues) == ["XDSRepositoryError"] and issues[0].location == samples.DOCUMENT_1
    assert_nothing_stored(node)


def test_inline_base64_is_decoded_in_chunks_across_whitespace(node, monkeypatch):
    monkeypatch.setattr(documents_module, "BASE64_CHUNK", 7)
    built = support.submission(documents=1)
    data = bytes(range(256)) * 5
    import base64
    text = base64.encodebytes(data).decode()  # a newline every 76 characters
    body = encode_provide_and_register(built, [(samples.DOCUMENT_1, text)])
    status, _ = read_registry_response(node.service.provide_and_register(InlineRequest(body)))
    assert status is Status.SUCCESS
    assert list(node.store.blobs.values()) == [data]


def test_empty_document_is_stored(node):
    built = support.submission(documents=1)
    assert node.provide(built, {samples.DOCUMENT_1: b""})[0] is Status.SUCCESS
    assert list(node.store.blobs.values()) == [b""]


def test_mtom_parts_go_straight_into_the_store(node, monkeypatch):
    made = []
    original = node.service.document_sink

    def sink(cid, ctype):
        made.append(original(cid, ctype))
        return made[-1]

    monkeypatch.setattr(node.service, "document_sink", sink)
    built = support.submission()
    assert node.provide_mtom(built, support.contents(built))[0] is Status.SUCCESS
    assert len(made) == 2 and all(isinstance(s, IncomingDocument) for s in made)
    assert {s.key for s in made} == set(node.store.blobs)


def test_mtom_part_nobody_refers_to_is_dropped(node):
    built = support.submission()
    status, _ = node.provide_mtom(built, support.contents(built), extra_parts=[b"unreferenced"])
    assert status is Status.SUCCESS
    assert len(node.store.blobs) == 2 and b"unreferenced" not in node.store.blobs.values()


def test_truncated_mtom_request_is_a_fault_and_leaves_no_blob(node):
    built = support.submission()
    content_type, body = support.mtom_request(built, support.contents(built))
    result = call_wsgi(node.router, body[: len(body) - 60], content_type)
    assert result.status == 400
    assert_nothing_stored(node)


def test_mtom_request_refused_after_parsing_leaves_no_blob(node):
    from repository.actions import PROVIDE_AND_REGISTER
    from soap.mtom import OutgoingAttachment, include_element
    from soap.xml import SOAP12_NS
    from tests.soap.support import request_bytes

    built = support.submission(documents=1)
    header = etree.Element("{urn:example:unknown}Secret")
    header.set(f"{{{SOAP12_NS}}}mustUnderstand", "true")
    body = encode_provide_and_register(built, [(samples.DOCUMENT_1, include_element("d1@x"))])
    content_type, raw = request_bytes(PROVIDE_AND_REGISTER, body, mtom=True, extra_headers=[header],
                                      attachments=[OutgoingAttachment.from_bytes("d1@x", b"data")])
    result = call_wsgi(node.router, raw, content_type)
    assert result.status == 500  # env:MustUnderstand
    assert node.store.blobs == {}


def test_plain_soap_request_with_inline_documents_through_the_router(node):
    from repository.actions import PROVIDE_AND_REGISTER
    from tests.soap.support import request_bytes

    built = support.submission()
    documents = support.contents(built)
    content_type, raw = request_bytes(PROVIDE_AND_REGISTER, encode_provide_and_register(built, list(documents.items())))
    result = call_wsgi(node.router, raw, content_type)
    assert read_registry_response(result.message().body)[0] is Status.SUCCESS
    assert sorted(node.store.blobs.values()) == sorted(documents.values())


def test_warnings_travel_with_success(tmp_path):
    from profiles.errors import Issue, Severity

    warning = Issue(ErrorCode.EXTRA_METADATA_NOT_SAVED, "slot x not saved", Severity.WARNING)
    node = make_node(tmp_path, FakeRegistry(Status.SUCCESS, [warning]))
    built = support.submission()
    status, issues = node.provide(built, support.contents(built))
    assert status is Status.SUCCESS and issues == [warning]
    assert len(node.store.blobs) == 2


def test_one_part_named_by_two_documents_gives_each_its_own_blob(node):
    from repository.actions import PROVIDE_AND_REGISTER
    from soap.mtom import OutgoingAttachment, include_element
    from tests.soap.support import request_bytes

    built = support.submission()
    body = encode_provide_and_register(built, [(samples.DOCUMENT_1, include_element("same@x")),
                                               (samples.DOCUMENT_2, include_element("same@x"))])
    content_type, raw = request_bytes(PROVIDE_AND_REGISTER, body, mtom=True,
                                      attachments=[OutgoingAttachment.from_bytes("same@x", b"shared bytes")])
    assert read_registry_response(call_wsgi(node.router, raw, content_type).message().body)[0] is Status.SUCCESS
    rows = node.service.index.get_many(e.unique_id for e in built.document_entries)
    assert len({row.blob_key for row in rows.values()}) == 2
    assert list(node.store.blobs.values()) == [b"shared bytes"] * 2


@pytest.mark.parametrize("mode", MODES)
def test_store_failing_mid_document_is_a_repository_error_and_nothing_stays(tmp_path, mode):
    """The blob store (S3) goes down while a document arrives: Failure with XDSRepositoryError
    (the rest of the request is read and ignored), the registry is not asked, and no blob stays."""
    store = support.UnreliableStore(fail_after=1000)
    node = make_node(tmp_path, store=store)
    built = support.submission()
    documents = {entry_id: data * 100 for entry_id, data in support.contents(built).items()}
    store.down = True
    status, issues = provide(node, mode, built, documents)
    assert (status, sorted(set(codes(issues)))) == (Status.FAILURE, ["XDSRepositoryError"])
    assert {issue.location for issue in issues} == {samples.DOCUMENT_1, samples.DOCUMENT_2}
    assert all("document store failed" in issue.context for issue in issues)
    assert "unreachable" not in str(issues)  # the store's details stay in the log
    assert node.registry.requests == []
    assert_nothing_stored(node)


def test_blobs_the_store_could_not_remove_are_removed_once_it_is_back(tmp_path):
    """The registry refuses, and the store is down when the blobs are to be removed: the
    removals wait in the store's janitor and happen once the store answers again."""
    store = support.UnreliableStore()
    node = make_node(tmp_path, support.refusing_registry(), store=store)
    built = support.submission()
    registry = node.service._provide._registry
    real_register = registry.register

    def register_then_store_down(request):
        store.down = True  # after the blobs were written, before they are removed
        return real_register(request)

    registry.register = register_then_store_down
    assert node.provide_mtom(built, support.contents(built))[0] is Status.FAILURE
    assert len(store.blobs) == 2 and len(store.janitor.pending()) == 2
    assert store.janitor.run_due() == 2  # still down: kept for later
    store.down = False
    assert store.janitor.run_due() == 0
    assert_nothing_stored(node)
