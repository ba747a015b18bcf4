"""Helpers for the Document Registry tests: fresh submissions, registering them, reading back
what the store holds, counting rows.

Every submission built here has new uniqueIds, so a test can register as many as it likes in
one database. Relationship submissions hold one new DocumentEntry (Document01) and its
relationship to an existing DocumentEntry.
"""
from __future__ import annotations

import uuid
from typing import Callable

import pytest
from lxml import etree
from sqlalchemy import Engine, func, select

from profiles.catalog import load_profile
from profiles.ebrim import encode_submit_objects_request
from profiles.errors import Issue, Status
from profiles.model import Submission
from profiles.responses import read_registry_response
from profiles.vocabulary import AssociationType, SubmissionSetStatus
from registry.service import RegistryService
from registry.store import ObjectKind, ObjectSummary, create_schema, find_by_unique_ids, open_engine
from registry.store.schema import metadata, registry_object
from tests.databases import database_url  # noqa: F401  (fixture re-exported for test modules)
from tests.profiles import samples

#: the assigning authority of samples.PATIENT_ID / OTHER_PATIENT_ID
SAMPLE_DOMAIN = "1.3.6.1.4.1.21367.2003.3.9"
RELATIONSHIPS = (AssociationType.REPLACE, AssociationType.APPEND, AssociationType.TRANSFORM,
                 AssociationType.TRANSFORM_AND_REPLACE, AssociationType.SIGNS)


def new_oid() -> str:
    return f"2.25.{uuid.uuid4().int}"


def fresh_submission(*, doc: Callable | None = None, doc2: Callable | None = None,
                     submission_set: Callable | None = None, folder: Callable | None = None,
                     associations: Callable | None = None, then: Callable | None = None) -> Submission:
    """samples.submission() with new uniqueIds everywhere (the same changes are accepted)."""
    def unique(change):
        def apply(obj):
            obj = obj.with_changes(unique_id=new_oid())
            return change(obj) if change else obj
        return apply

    return samples.submission(doc=unique(doc), doc2=unique(doc2), submission_set=unique(submission_set),
                              folder=unique(folder), associations=associations, then=then)


def relationship_submission(kind: str, target: str, *, doc: Callable | None = None,
                            extra: tuple = ()) -> Submission:
    """A SubmissionSet with one new DocumentEntry related by `kind` to the existing `target`."""
    def shape(submission: Submission) -> Submission:
        return submission.with_changes(
            document_entries=submission.document_entries[:1], folders=(),
            associations=(samples.has_member("SsDoc01", samples.SUBMISSION_SET, samples.DOCUMENT_1,
                                             SubmissionSetStatus.ORIGINAL),
                          samples.relationship("Rel01", kind, samples.DOCUMENT_1, target), *extra))

    return fresh_submission(doc=doc, then=shape)


def reference_submission(target: str, *, patient: str = samples.PATIENT_ID) -> Submission:
    """A SubmissionSet (of `patient`) holding only a HasMember by Reference to an existing DocumentEntry."""
    return fresh_submission(
        submission_set=lambda s: s.with_changes(patient_id=patient),
        then=lambda s: s.with_changes(document_entries=(), folders=(), associations=(
            samples.has_member("SsRef01", samples.SUBMISSION_SET, target, SubmissionSetStatus.REFERENCE),)))


def make_service(engine: Engine, *, profile: str = "ihe", domains: tuple[str, ...] = (SAMPLE_DOMAIN,),
                 known_patients_only: bool = False, **options) -> RegistryService:
    return RegistryService(engine, load_profile(profile), patient_domains=domains,
                           known_patients_only=known_patients_only, **options)


@pytest.fixture
def registry_engine(database_url):  # noqa: F811
    """An engine on a fresh database (SQLite, and PostgreSQL when configured) with the schema."""
    engine = open_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def service(registry_engine) -> RegistryService:
    return make_service(registry_engine)


def register(service: RegistryService, submission: Submission) -> tuple[Status, list[Issue]]:
    response = service.register(encode_submit_objects_request(submission))
    return read_registry_response(response)


def register_ok(service: RegistryService, submission: Submission) -> Submission:
    status, issues = register(service, submission)
    assert status is Status.SUCCESS, issues
    return submission


def codes(issues: list[Issue]) -> list[str]:
    return [str(issue.code) for issue in issues if issue.is_error]


def stored_document(engine: Engine, unique_id: str) -> ObjectSummary:
    """The one stored DocumentEntry with this uniqueId."""
    with engine.connect() as conn:
        found = find_by_unique_ids(conn, ObjectKind.DOCUMENT_ENTRY, [unique_id])
    assert len(found) == 1, found
    return found[0]


def uuid_of(engine: Engine, submission: Submission, index: int = 0) -> str:
    """entryUUID the registry gave the submission's DocumentEntry number `index`."""
    return stored_document(engine, submission.document_entries[index].unique_id).entry_uuid


def status_of(engine: Engine, entry_uuid: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(registry_object.c.status)
                            .where(registry_object.c.entry_uuid == entry_uuid)).scalar_one()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every registry table: what a rejected submission must leave unchanged."""
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in metadata.tables.items()}


def stored_xml(engine: Engine) -> list[etree._Element]:
    with engine.connect() as conn:
        rows = conn.execute(select(registry_object.c.xml).order_by(registry_object.c.submission_id,
                                                                   registry_object.c.position))
        return [etree.fromstring(bytes(xml)) for xml in rows.scalars()]
