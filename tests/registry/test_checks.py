"""registry.checks: each registry-state check, one broken thing per test, the exact error code.

The registry is seeded through the service; the checks then judge a new submission (as sent,
with symbolic ids) on both databases.
"""
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from profiles.model import Association
from profiles.vocabulary import AssociationType, ObjectType, SubmissionSetStatus
from registry import checks
from registry.checks import RegistryPolicy, RegistryState, run_checks
from registry.patients import add_patients
from registry.relationships import documents_to_deprecate, replaced_targets
from profiles.ebrim import canonical_bytes
from registry.store import StoredObject, find_by_unique_ids, store_submission, write_transaction
from tests.registry.store import builders
from tests.profiles import samples

from .support import (  # noqa: F401  (fixtures)
    SAMPLE_DOMAIN, database_url, fresh_submission, register_ok, registry_engine, relationship_submission,
    reference_submission, service, uuid_of,
)

POLICY = RegistryPolicy((SAMPLE_DOMAIN,))
OTHER_DOMAIN_PATIENT = "ST-1000^^^&1.2.3.4.5&ISO"


def judge(engine, submission, policy=POLICY, check=None):
    with engine.connect() as conn:
        if check is None:
            return run_checks(conn, submission, policy)
        return list(check(submission, RegistryState(conn, submission, policy)))


def error_codes(issues):
    return [str(issue.code) for issue in issues]


@pytest.fixture
def existing(service, registry_engine):
    """A registered sample submission (returned: its uniqueIds find what was stored)."""
    return register_ok(service, fresh_submission())


def test_a_new_valid_submission_passes_every_check(registry_engine, existing):
    assert judge(registry_engine, fresh_submission()) == []


# --- entryUUIDs ---------------------------------------------------------------------------

def test_taken_entry_uuid_is_a_registry_metadata_error(registry_engine, existing):
    taken = uuid_of(registry_engine, existing)
    submission = fresh_submission(
        doc=lambda d: d.with_changes(id=taken),
        associations=lambda a: tuple(x.with_changes(target=taken) if x.target == samples.DOCUMENT_1 else x
                                     for x in a))
    issues = judge(registry_engine, submission, check=checks.entry_uuids_new)
    assert error_codes(issues) == ["XDSRegistryMetadataError"]
    assert taken in issues[0].context and issues[0].location == taken


# --- uniqueIds ----------------------------------------------------------------------------

def test_submission_set_unique_id_in_registry(registry_engine, existing):
    submission = fresh_submission(submission_set=lambda s: s.with_changes(
        unique_id=existing.submission_set.unique_id))
    issues = judge(registry_engine, submission, check=checks.unique_ids_in_registry)
    assert error_codes(issues) == ["XDSDuplicateUniqueIdInRegistry"]
    assert issues[0].location == samples.SUBMISSION_SET


def test_folder_unique_id_in_registry(registry_engine, existing):
    submission = fresh_submission(folder=lambda f: f.with_changes(unique_id=existing.folders[0].unique_id))
    assert error_codes(judge(registry_engine, submission)) == ["XDSDuplicateUniqueIdInRegistry"]


def test_document_unique_id_used_by_a_submission_set(registry_engine, existing):
    submission = fresh_submission(doc=lambda d: d.with_changes(unique_id=existing.submission_set.unique_id))
    assert error_codes(judge(registry_engine, submission)) == ["XDSDuplicateUniqueIdInRegistry"]


def test_same_document_registered_again_with_same_hash_and_size_is_accepted(registry_engine, existing):
    again = existing.document_entries[0]
    submission = fresh_submission(doc=lambda d: d.with_changes(unique_id=again.unique_id, hash=again.hash.upper()))
    assert judge(registry_engine, submission) == []


def test_same_unique_id_different_hash(registry_engine, existing):
    submission = fresh_submission(doc=lambda d: d.with_changes(
        unique_id=existing.document_entries[0].unique_id, hash="0" * 40))
    issues = judge(registry_engine, submission)
    assert error_codes(issues) == ["XDSNonIdenticalHash"]
    assert existing.document_entries[0].unique_id in issues[0].context


def test_same_unique_id_different_size(registry_engine, existing):
    submission = fresh_submission(doc=lambda d: d.with_changes(
        unique_id=existing.document_entries[0].unique_id, size="37"))
    assert error_codes(judge(registry_engine, submission)) == ["XDSNonIdenticalSize"]


def test_same_unique_id_different_hash_and_size_reports_both(registry_engine, existing):
    submission = fresh_submission(doc=lambda d: d.with_changes(
        unique_id=existing.document_entries[0].unique_id, size="1", hash="1" * 40))
    assert error_codes(judge(registry_engine, submission)) == ["XDSNonIdenticalHash", "XDSNonIdenticalSize"]


# --- patients -----------------------------------------------------------------------------

def test_patient_of_an_unconfigured_domain_is_unknown(registry_engine):
    submission = fresh_submission()
    issues = judge(registry_engine, submission, RegistryPolicy(("1.2.3.4.5",)), checks.patients_known)
    assert error_codes(issues) == ["XDSUnknownPatientId"]
    assert samples.PATIENT_ID in issues[0].context and SAMPLE_DOMAIN in issues[0].context


def test_each_unknown_patient_is_reported_once(registry_engine):
    submission = fresh_submission(
        submission_set=lambda s: s.with_changes(patient_id=OTHER_DOMAIN_PATIENT),
        doc=lambda d: d.with_changes(patient_id=OTHER_DOMAIN_PATIENT),
        doc2=lambda d: d.with_changes(patient_id=OTHER_DOMAIN_PATIENT),
        folder=lambda f: f.with_changes(patient_id=OTHER_DOMAIN_PATIENT))
    assert error_codes(judge(registry_engine, submission, check=checks.patients_known)) == ["XDSUnknownPatientId"]


def test_no_configured_domain_accepts_any_authority(registry_engine):
    submission = fresh_submission(then=lambda s: s)
    assert judge(registry_engine, submission, RegistryPolicy(()), checks.patients_known) == []


def test_known_patients_only_needs_the_patient_fed(registry_engine):
    policy = RegistryPolicy((SAMPLE_DOMAIN,), known_patients_only=True)
    submission = fresh_submission()
    assert error_codes(judge(registry_engine, submission, policy)) == ["XDSUnknownPatientId"]
    with write_transaction(registry_engine) as conn:
        add_patients(conn, [samples.PATIENT_ID + "^^"])  # another spelling of the same CX
    assert judge(registry_engine, submission, policy) == []


def test_known_patient_must_still_be_in_a_configured_domain(registry_engine):
    with write_transaction(registry_engine) as conn:
        add_patients(conn, [samples.PATIENT_ID])
    policy = RegistryPolicy(("1.2.3.4.5",), known_patients_only=True)
    assert error_codes(judge(registry_engine, fresh_submission(), policy)) == ["XDSUnknownPatientId"]


# --- references to existing objects -------------------------------------------------------

UNKNOWN = "urn:uuid:6f1c1b5e-2d4b-4b8e-9a55-000000000001"


@pytest.mark.parametrize("kind", [AssociationType.REPLACE, AssociationType.APPEND, AssociationType.TRANSFORM,
                                  AssociationType.TRANSFORM_AND_REPLACE, AssociationType.SIGNS])
def test_relationship_to_an_unknown_document_is_unresolved(registry_engine, kind):
    issues = judge(registry_engine, relationship_submission(kind, UNKNOWN))
    assert error_codes(issues) == ["XDSRegistryMetadataError"]
    assert UNKNOWN in issues[0].context and issues[0].location == "Rel01"


def test_reference_to_an_unknown_document_is_unresolved(registry_engine):
    assert error_codes(judge(registry_engine, reference_submission(UNKNOWN))) == ["XDSRegistryMetadataError"]


def test_relationship_target_must_be_a_document_entry(registry_engine, existing):
    with registry_engine.connect() as conn:
        target = find_by_unique_ids(conn, None, [existing.submission_set.unique_id])[0].entry_uuid
    issues = judge(registry_engine, relationship_submission(AssociationType.REPLACE, target))
    assert error_codes(issues) == ["XDSRegistryMetadataError"]
    assert "SubmissionSet" in issues[0].context


def test_is_snapshot_of_needs_an_on_demand_target(registry_engine, existing):
    target = uuid_of(registry_engine, existing)
    issues = judge(registry_engine, relationship_submission(AssociationType.IS_SNAPSHOT_OF, target),
                   check=checks.referenced_kinds)
    assert error_codes(issues) == ["XDSRegistryMetadataError"]
    assert "On-Demand" in issues[0].context


def test_is_snapshot_of_an_on_demand_document_passes_the_kind_check(registry_engine):
    # On-Demand entries arrive by ITI-61, not ITI-42: stored directly here
    on_demand = builders.document(object_type=ObjectType.ON_DEMAND_DOCUMENT, patient_id=samples.PATIENT_ID)
    with write_transaction(registry_engine) as conn:
        store_submission(conn, [StoredObject(on_demand, canonical_bytes(on_demand))])
    submission = relationship_submission(AssociationType.IS_SNAPSHOT_OF, on_demand.id)
    assert judge(registry_engine, submission, check=checks.referenced_kinds) == []


def test_existing_folder_can_gain_a_new_document(registry_engine, existing):
    with registry_engine.connect() as conn:
        folder = find_by_unique_ids(conn, None, [existing.folders[0].unique_id])[0].entry_uuid
    submission = fresh_submission(then=lambda s: s.with_changes(
        document_entries=s.document_entries[:1], folders=(), associations=(
            samples.has_member("SsDoc01", samples.SUBMISSION_SET, samples.DOCUMENT_1, SubmissionSetStatus.ORIGINAL),
            samples.has_member("FolDoc", folder, samples.DOCUMENT_1),
            samples.has_member("SsFolDoc", samples.SUBMISSION_SET, "FolDoc"))))
    assert judge(registry_engine, submission) == []


def test_existing_submission_set_cannot_gain_members(registry_engine, existing):
    with registry_engine.connect() as conn:
        old_set = find_by_unique_ids(conn, None, [existing.submission_set.unique_id])[0].entry_uuid
    submission = fresh_submission(then=lambda s: s.with_changes(
        document_entries=s.document_entries[:1], folders=(), associations=(
            samples.has_member("SsDoc01", samples.SUBMISSION_SET, samples.DOCUMENT_1, SubmissionSetStatus.ORIGINAL),
            samples.has_member("OldSs", old_set, samples.DOCUMENT_1),
            samples.has_member("SsOldSs", samples.SUBMISSION_SET, "OldSs"))))
    issues = judge(registry_engine, submission, check=checks.referenced_kinds)
    assert error_codes(issues) == ["XDSRegistryMetadataError"]
    assert issues[0].location == "OldSs"


# --- deprecated documents -----------------------------------------------------------------

@pytest.fixture
def replaced(service, registry_engine, existing):
    """entryUUID of a DocumentEntry that has been replaced (so is Deprecated)."""
    original = uuid_of(registry_engine, existing)
    register_ok(service, relationship_submission(AssociationType.REPLACE, original))
    return original


@pytest.mark.parametrize("kind", [AssociationType.REPLACE, AssociationType.APPEND, AssociationType.TRANSFORM,
                                  AssociationType.TRANSFORM_AND_REPLACE, AssociationType.SIGNS])
def test_relationship_to_a_deprecated_document(registry_engine, replaced, kind):
    issues = judge(registry_engine, relationship_submission(kind, replaced))
    assert error_codes(issues) == ["XDSRegistryDeprecatedDocumentError"]
    assert replaced in issues[0].context and "Deprecated" in issues[0].context


def test_reference_to_a_deprecated_document(registry_engine, replaced):
    assert error_codes(judge(registry_engine, reference_submission(replaced))) == [
        "XDSRegistryDeprecatedDocumentError"]


# --- patients of referenced objects -------------------------------------------------------

@pytest.mark.parametrize("kind", [AssociationType.REPLACE, AssociationType.APPEND, AssociationType.SIGNS])
def test_relationship_to_another_patients_document(registry_engine, existing, kind):
    target = uuid_of(registry_engine, existing)
    other = samples.OTHER_PATIENT_ID
    submission = relationship_submission(kind, target, doc=lambda d: d.with_changes(patient_id=other))
    submission = submission.with_changes(
        submission_sets=tuple(s.with_changes(patient_id=other) for s in submission.submission_sets))
    issues = judge(registry_engine, submission)
    assert error_codes(issues) == ["XDSPatientIdDoesNotMatch"]
    assert other in issues[0].context and samples.PATIENT_ID in issues[0].context


def test_reference_to_another_patients_document(registry_engine, existing):
    target = uuid_of(registry_engine, existing)
    submission = reference_submission(target, patient=samples.OTHER_PATIENT_ID)
    assert error_codes(judge(registry_engine, submission)) == ["XDSPatientIdDoesNotMatch"]


def test_reference_to_the_same_patients_document_passes(registry_engine, existing):
    assert judge(registry_engine, reference_submission(uuid_of(registry_engine, existing))) == []


# --- all issues, not the first -----------------------------------------------------------

def test_every_issue_of_every_check_is_reported(registry_engine, existing):
    submission = relationship_submission(
        AssociationType.REPLACE, UNKNOWN,
        doc=lambda d: d.with_changes(unique_id=existing.document_entries[0].unique_id, hash="2" * 40))
    submission = submission.with_changes(submission_sets=tuple(
        s.with_changes(unique_id=existing.submission_set.unique_id) for s in submission.submission_sets))
    issues = judge(registry_engine, submission, RegistryPolicy(("1.2.3.4.5",)))
    assert error_codes(issues) == ["XDSNonIdenticalHash", "XDSDuplicateUniqueIdInRegistry",
                                   "XDSUnknownPatientId", "XDSRegistryMetadataError"]


# --- what replacements deprecate ----------------------------------------------------------

def test_replacement_deprecates_the_original_and_its_addenda_and_transformations(service, registry_engine,
                                                                                 existing):
    original = uuid_of(registry_engine, existing)
    addendum = relationship_submission(AssociationType.APPEND, original)
    transform = relationship_submission(AssociationType.TRANSFORM, original)
    signature = relationship_submission(AssociationType.SIGNS, original)
    for submission in (addendum, transform, signature):
        register_ok(service, submission)
    addendum_of_addendum = relationship_submission(AssociationType.APPEND, uuid_of(registry_engine, addendum))
    register_ok(service, addendum_of_addendum)
    replacement = relationship_submission(AssociationType.REPLACE, original)
    with registry_engine.connect() as conn:
        deprecated = documents_to_deprecate(conn, replacement)
    assert replaced_targets(replacement) == [original]
    assert set(deprecated) == {original, uuid_of(registry_engine, addendum), uuid_of(registry_engine, transform),
                               uuid_of(registry_engine, addendum_of_addendum)}


def test_what_a_replacement_deprecates_is_found_with_one_query_per_level(service, registry_engine, existing):
    """original ← addendum ← addendum of the addendum: three levels, three SELECTs."""
    original = uuid_of(registry_engine, existing)
    addendum = register_ok(service, relationship_submission(AssociationType.APPEND, original))
    register_ok(service, relationship_submission(AssociationType.APPEND, uuid_of(registry_engine, addendum)))
    replacement = relationship_submission(AssociationType.REPLACE, original)
    with registry_engine.connect() as conn, recorded_statements(registry_engine) as statements:
        assert len(documents_to_deprecate(conn, replacement)) == 3
    assert len(selects(statements)) == 3, statements


def test_only_rplc_and_xfrm_rplc_replace():
    submission = relationship_submission(AssociationType.APPEND, UNKNOWN).with_changes(associations=(
        Association(id="a", association_type=AssociationType.TRANSFORM_AND_REPLACE, source="d", target="t1"),
        Association(id="b", association_type=AssociationType.REPLACE, source="d", target="t2"),
        Association(id="c", association_type=AssociationType.TRANSFORM, source="d", target="t3"),
        Association(id="e", association_type=AssociationType.SIGNS, source="d", target="t4")))
    assert replaced_targets(submission) == ["t1", "t2"]


# --- lookups ------------------------------------------------------------------------------

def test_the_checks_look_stored_objects_up_in_one_query_per_kind_of_key(registry_engine, existing):
    """A given urn:uuid id and an existing association target: one entryUUID lookup for both,
    one uniqueId lookup (the default policy reads no known patients)."""
    target = uuid_of(registry_engine, existing)
    submission = relationship_submission(AssociationType.REPLACE, target)
    submission = submission.with_changes(
        submission_sets=tuple(s.with_changes(id="urn:uuid:0b0e7f27-4d6c-4b6b-9d0e-3a1c2f6e9a11")
                              for s in submission.submission_sets),
        associations=tuple(a.with_changes(source="urn:uuid:0b0e7f27-4d6c-4b6b-9d0e-3a1c2f6e9a11")
                           if a.source == samples.SUBMISSION_SET else a for a in submission.associations))
    with recorded_statements(registry_engine) as statements:
        assert judge(registry_engine, submission) == []
    assert len(selects(statements)) == 2, statements


def selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


@contextmanager
def recorded_statements(engine):
    """The SQL statements run on `engine` inside the block (SQLite's BEGIN among them)."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
