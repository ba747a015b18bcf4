"""ITI-41 with the co-located registry taking the decoded submission (repository.provide "One
judgement", RegistryService.register_submission): it refuses exactly what the
SubmitObjectsRequest path refused, with the same RegistryResponse, leaves the same registry
metadata and stays all or nothing.

Each case runs on two twins: a repository whose in-process registry gets the
SubmitObjectsRequest (as before) and one whose registry gets the model; same settings, fresh
stores, the same submissions."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from profiles.catalog import load_profile
from profiles.ebrim import encode_provide_and_register, encode_submit_objects_request
from profiles.errors import ErrorCode, Issue, Severity, Status
from profiles.ihe.optionality import IHE_OPTIONALITY, Optionality
from profiles.model import DocumentEntry, Submission
from profiles.norway.options import norway_extras, options_for
from profiles.responses import read_registry_response, registry_response
from profiles.rules import Rule, Transaction, ValidationContext
from profiles.vocabulary import RIM, AssociationType, DocumentEntryScheme
from registry.service import RegistryService
from registry.store import create_schema, open_engine
from repository.index import open_document_index
from repository.registry_client import InProcessRegistryClient
from repository.service import RepositoryService
from repository.store.memory import MemoryBlobStore
from tests.profiles import samples
from tests.registry.support import row_counts, stored_xml

from . import support
from .support import REPOSITORY_ID, SAMPLE_DOMAIN, InlineRequest

FIXED_NOW = "20250102030405"


@dataclass
class Twin:
    node: support.Node
    registry: RegistryService

    def provide(self, built: Submission):
        return read_registry_response(self.node.service.provide_and_register(
            support.inline_request(built, contents(built))))

    def answer(self, built: Submission) -> tuple[Status, list[tuple]]:
        status, issues = self.provide(built)
        return status, [(str(i.code), i.severity, i.context, i.location) for i in issues]

    def state(self) -> tuple:
        """Blobs, index rows and registry rows: what a refused submission must leave unchanged."""
        return len(self.node.store.blobs), self.node.service.index.count(), row_counts(self.registry.engine)


def contents(built: Submission) -> dict[str, bytes]:
    """The same bytes for the same submission on both twins."""
    return {entry.id: f"<doc uniqueId='{entry.unique_id}'/>".encode() for entry in built.document_entries}


def make_twin(directory: Path, *, takes_model: bool, known_patients_only: bool = False,
              registry_profile=None) -> Twin:
    directory.mkdir()
    engine = open_engine(f"sqlite:///{directory / 'registry.sqlite3'}")
    create_schema(engine)
    registry = RegistryService(engine, registry_profile or load_profile("ihe"), patient_domains=(SAMPLE_DOMAIN,),
                               known_patients_only=known_patients_only, clock=lambda: FIXED_NOW)
    client = InProcessRegistryClient(registry.register, registry.register_submission if takes_model else None)
    return Twin(support.make_node(directory, client), registry)


def make_twins(directory: Path, **options) -> tuple[Twin, Twin]:
    return (make_twin(directory / "before", takes_model=False, **options),
            make_twin(directory / "model", takes_model=True, **options))


def source(entry: DocumentEntry) -> DocumentEntry:
    return samples.source_metadata(entry.with_changes(unique_id=support.new_oid()))


def with_entry_id(built: Submission, old: str, new: str) -> Submission:
    """`built` with DocumentEntry `old` renamed `new` (a given urn:uuid entryUUID), ends included."""
    def end(value: str) -> str:
        return new if value == old else value

    return built.with_changes(
        document_entries=tuple(e.with_changes(id=end(e.id)) for e in built.document_entries),
        associations=tuple(a.with_changes(source=end(a.source), target=end(a.target)) for a in built.associations))


def one_document(*, patient: str = samples.PATIENT_ID, entry_id: str | None = None,
                 unique_id: str | None = None, relation: tuple[AssociationType, str] | None = None) -> Submission:
    """A new SubmissionSet with one new DocumentEntry of `patient`, optionally related to an
    existing one; `entry_id` gives the entry a urn:uuid, `unique_id` its uniqueId."""
    def entry(e: DocumentEntry) -> DocumentEntry:
        e = source(e).with_changes(patient_id=patient)
        return e.with_changes(unique_id=unique_id) if unique_id else e

    def shape(built: Submission) -> Submission:
        links = (samples.relationship("Rel01", relation[0], samples.DOCUMENT_1, relation[1]),) if relation else ()
        built = built.with_changes(associations=built.associations + links)
        return with_entry_id(built, samples.DOCUMENT_1, entry_id) if entry_id else built

    return support.submission(1, doc=lambda e: entry(e), then=lambda b: shape(b.with_changes(
        submission_sets=tuple(s.with_changes(patient_id=patient) for s in b.submission_sets),
        folders=tuple(f.with_changes(patient_id=patient) for f in b.folders))))


def new_uuid() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


# --- the cases: (what is there before, the submission), each refused by the registry ---------


def duplicate_submission_set_unique_id():
    first = one_document()
    again = one_document().with_changes(submission_sets=tuple(
        s.with_changes(unique_id=first.submission_set.unique_id) for s in first.submission_sets))
    return [first], again


def entry_uuid_taken():
    taken = new_uuid()
    return [one_document(entry_id=taken)], one_document(entry_id=taken)


def replacing_a_deprecated_document():
    original = new_uuid()
    return ([one_document(entry_id=original), one_document(relation=(AssociationType.REPLACE, original))],
            one_document(relation=(AssociationType.REPLACE, original)))


def replacing_another_patients_document():
    original = new_uuid()
    return ([one_document(entry_id=original, patient=samples.OTHER_PATIENT_ID)],
            one_document(relation=(AssociationType.REPLACE, original)))


def appending_to_an_unknown_document():
    return [], one_document(relation=(AssociationType.APPEND, new_uuid()))


CASES = {
    "XDSDuplicateUniqueIdInRegistry": duplicate_submission_set_unique_id,
    "XDSRegistryMetadataError (entryUUID taken)": entry_uuid_taken,
    "XDSRegistryDeprecatedDocumentError": replacing_a_deprecated_document,
    "XDSPatientIdDoesNotMatch": replacing_another_patients_document,
    "XDSRegistryMetadataError (unknown target)": appending_to_an_unknown_document,
}


@pytest.mark.parametrize("name", list(CASES))
def test_registry_refuses_the_model_exactly_as_the_request(tmp_path, name):
    accepted, refused = CASES[name]()
    twins = make_twins(tmp_path)
    for twin in twins:
        for built in accepted:
            assert twin.provide(built) == (Status.SUCCESS, [])
    before = [twin.state() for twin in twins]
    answers = [twin.answer(refused) for twin in twins]
    assert answers[0][0] is Status.FAILURE
    assert [code for code, *_ in answers[0][1]] == [name.split()[0]]
    assert answers[1] == answers[0]
    assert [twin.state() for twin in twins] == before  # all or nothing, on both paths


def test_registry_refuses_an_unknown_patient_exactly_as_before(tmp_path):
    twins = make_twins(tmp_path, known_patients_only=True)
    built = one_document()
    answers = [twin.answer(built) for twin in twins]
    assert [code for code, *_ in answers[0][1]] == [ErrorCode.UNKNOWN_PATIENT_ID.value]
    assert answers[1] == answers[0]
    assert [twin.state()[:2] for twin in twins] == [(0, 0), (0, 0)]


def test_document_registered_elsewhere_with_other_content_is_refused_exactly_as_before(tmp_path):
    twins = make_twins(tmp_path)
    elsewhere = one_document()
    entry = elsewhere.document_entries[0]
    registered = elsewhere.with_changes(document_entries=(entry.with_changes(
        hash="f" * 40, size="1", repository_unique_id=support.OTHER_REPOSITORY_ID),))
    for twin in twins:  # in the registry, not in this repository: the registry finds the clash
        assert read_registry_response(twin.registry.register(encode_submit_objects_request(registered)))[0] \
            is Status.SUCCESS
    answers = [twin.answer(one_document(unique_id=entry.unique_id)) for twin in twins]
    assert [code for code, *_ in answers[0][1]] == ["XDSNonIdenticalHash", "XDSNonIdenticalSize"]
    assert answers[1] == answers[0]


def test_repository_refusals_are_unchanged(tmp_path):
    twins = make_twins(tmp_path)
    built = support.submission(doc=lambda e: e.with_changes(patient_id=None))
    answers = [twin.answer(built) for twin in twins]
    assert answers[0][0] is Status.FAILURE
    assert {code for code, *_ in answers[0][1]} == {ErrorCode.REPOSITORY_METADATA_ERROR.value}
    assert answers[1] == answers[0]


def normalized(xml: list[etree._Element]) -> list[str]:
    """Stored XML with each registry-made urn:uuid replaced by its order of appearance."""
    text = "\n".join(etree.tostring(element, encoding="unicode") for element in xml)
    seen: dict[str, str] = {}
    return re.sub(r"urn:uuid:[0-9a-f-]{36}", lambda m: seen.setdefault(m.group(), f"uuid-{len(seen)}"),
                  text).splitlines()


def test_registry_stores_the_same_metadata_from_the_model(tmp_path):
    twins = make_twins(tmp_path)
    built = support.submission()
    for twin in twins:
        assert twin.provide(built) == (Status.SUCCESS, [])
    stored = [normalized(stored_xml(twin.registry.engine)) for twin in twins]
    assert len(stored[0]) > 5 and stored[1] == stored[0]


# --- what the repository hands over ---------------------------------------------------------


class RecordingRegistry:
    """A registry client taking both forms; records which one came and answers Success."""

    def __init__(self):
        self.calls: list[tuple[str, object]] = []

    def register(self, request: etree._Element) -> etree._Element:
        self.calls.append(("request", request))
        return registry_response([])

    def register_submission(self, submission: Submission, judged=None) -> etree._Element:
        self.calls.append(("model", judged))
        return registry_response([])


def recording_node(tmp_path, repository_unique_id: str = REPOSITORY_ID) -> tuple[RepositoryService, RecordingRegistry]:
    registry = RecordingRegistry()
    index = open_document_index(f"sqlite:///{tmp_path / 'repository.sqlite3'}")
    service = RepositoryService(MemoryBlobStore(), index, registry, load_profile("ihe"),
                                repository_unique_id=repository_unique_id, patient_domains=(SAMPLE_DOMAIN,))
    return service, registry


def test_clean_submission_goes_over_as_the_model_with_its_judgement(tmp_path):
    service, registry = recording_node(tmp_path)
    built = support.submission()
    service.provide_and_register(support.inline_request(built, support.contents(built)))
    [(form, judged)] = registry.calls
    profile, context = judged
    assert form == "model" and profile == load_profile("ihe")
    assert context == ValidationContext(Transaction.PROVIDE_AND_REGISTER, patient_domains=(SAMPLE_DOMAIN,),
                                        documents_attached=frozenset(e.id for e in built.document_entries))


def with_extra_slot_on_type_code(body: etree._Element) -> etree._Element:
    """The ITI-41 body with a slot the codec does not keep on the typeCode (a decode warning)."""
    coded = next(c for c in body.iter(f"{{{RIM}}}Classification")
                 if c.get("classificationScheme") == DocumentEntryScheme.TYPE_CODE)
    slot = etree.Element(f"{{{RIM}}}Slot", name="urn:example:extra")
    etree.SubElement(etree.SubElement(slot, f"{{{RIM}}}ValueList"), f"{{{RIM}}}Value").text = "1"
    coded.insert(0, slot)  # slots come first in a rim:Classification
    return body


def test_submission_with_a_warning_goes_over_as_the_request(tmp_path):
    service, registry = recording_node(tmp_path)
    built = support.submission()
    documents = support.contents(built)
    body = with_extra_slot_on_type_code(encode_provide_and_register(built, list(documents.items())))
    status, issues = read_registry_response(service.provide_and_register(InlineRequest(body)))
    assert (status, [(i.code, i.severity) for i in issues]) == (
        Status.SUCCESS, [(ErrorCode.EXTRA_METADATA_NOT_SAVED, Severity.WARNING)])
    assert [form for form, _ in registry.calls] == ["request"]


def test_no_judgement_is_handed_over_for_a_repository_id_that_is_no_oid(tmp_path):
    service, registry = recording_node(tmp_path, repository_unique_id="repository-1")
    built = support.submission()
    service.provide_and_register(support.inline_request(built, support.contents(built)))
    assert [form for form, _ in registry.calls] == ["request"]


# --- the registry's side --------------------------------------------------------------------


def refuse_everything() -> Rule:
    return Rule("test.refuse", lambda submission, context: [Issue(ErrorCode.REGISTRY_METADATA_ERROR, "refused")])


def test_registry_with_other_rules_judges_the_model_itself(tmp_path):
    registry_profile = load_profile("ihe").extend("stricter", refuse_everything())
    twin = make_twin(tmp_path / "model", takes_model=True, registry_profile=registry_profile)
    status, issues = twin.provide(support.submission())
    assert (status, [(str(i.code), i.context) for i in issues]) == (
        Status.FAILURE, [("XDSRegistryMetadataError", "refused")])
    assert twin.state()[:2] == (0, 0)


def test_registry_without_a_judgement_runs_its_rules_on_the_model(tmp_path):
    twin = make_twin(tmp_path / "model", takes_model=True)
    built = samples.submission(doc=lambda e: e.with_changes(hash=None))
    status, issues = read_registry_response(twin.registry.register_submission(built))
    assert (status, [str(i.code) for i in issues]) == (Status.FAILURE, ["XDSRegistryMetadataError"])
    assert "hash is required" in issues[0].context


def test_registry_judges_like_the_same_rules_with_the_same_options_only():
    profile = load_profile("ihe")
    registry = RegistryService(None, profile, patient_domains=(SAMPLE_DOMAIN,))
    same = ValidationContext(Transaction.PROVIDE_AND_REGISTER, documents_attached=frozenset({"Document01"}),
                             patient_domains=(SAMPLE_DOMAIN,))
    assert registry.judges_like(profile, same)
    assert not registry.judges_like(profile, same.with_changes(strict=False))
    assert not registry.judges_like(profile, same.with_changes(patient_domains=("1.2.3",)))
    assert not registry.judges_like(profile, same.with_changes(extras={"norway.allow_synthetic": True}))
    assert not registry.judges_like(profile.extend("more", refuse_everything()), same)
    assert not registry.judges_like(load_profile("norway"), same)


@pytest.mark.parametrize("table", [IHE_OPTIONALITY, options_for(ValidationContext(
    Transaction.REGISTER, extras=norway_extras())).optionality], ids=["ihe", "norway"])
def test_iti41_and_iti42_columns_differ_only_in_what_the_repository_sets(table):
    """The premise of handing over the judgement (repository.provide "One judgement")."""
    differing = {attribute for attribute in table.attributes(DocumentEntry)
                 if table.requirement(DocumentEntry, attribute, "xds_ds")
                 != table.requirement(DocumentEntry, attribute, "xds_dr")}
    assert differing == {"hash", "size", "repositoryUniqueId"}
    assert {table.requirement(DocumentEntry, a, "xds_dr") for a in differing} == {Optionality.REQUIRED}
    for kind in ("SubmissionSet", "Folder"):
        rows = table.rows.get(kind, {})
        columns = [table.columns.index("xds_ds"), table.columns.index("xds_dr")]
        assert all(codes[columns[0]] == codes[columns[1]] for codes in rows.values())


@pytest.mark.parametrize("profile", ["ihe", "norway"])
@pytest.mark.parametrize("strict", [True, False])
def test_deployment_registry_judges_like_its_repository(tmp_path, profile, strict):
    """The composition root gives both actors one rule set, so the judgement is taken over."""
    from xdsno.registry_node import registry_service
    from xdsno.repository_node import repository_service
    from xdsno.settings import load_settings

    settings = load_settings(environ={}, overrides={"data_dir": tmp_path, "profile": profile, "strict": strict})
    config = repository_service(settings).config
    assert registry_service(settings).judges_like(config.profile, config.context(["Document01"]))
