"""FindDocuments / FindSubmissionSets / FindFolders filters (ITI TF-2 3.18.4.1.2.3.7)."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from profiles.model import Author
from profiles.vocabulary import ObjectType
from registry.store import (
    DocumentCriteria, TimeRange, document_query, folder_query, store_submission,
    submission_set_query, uuids_of, write_transaction,
)

from .builders import (
    APPROVED, DEPRECATED, OTHER_PATIENT, PATIENT, code, document, folder, stored, submission_set,
    with_submission_set,
)

SCHEME = "2.16.578.1.12.4.1.1.9602"


def _store(engine, *objects, ss=None):
    with write_transaction(engine) as conn:
        store_submission(conn, stored(*with_submission_set(*objects, ss=ss)))


def _found(engine, **criteria) -> list[str]:
    with engine.connect() as conn:
        return uuids_of(conn, document_query(DocumentCriteria(**criteria)))


def test_patient_and_status(store):
    a, b = document(), document(status=DEPRECATED)
    c = document(patient_id=OTHER_PATIENT)
    _store(store, a, b)
    _store(store, c)
    assert _found(store, patient_ids=[PATIENT], statuses=[APPROVED]) == [a.id]
    assert _found(store, patient_ids=[PATIENT], statuses=[APPROVED, DEPRECATED]) == [a.id, b.id]
    assert _found(store, patient_ids=[PATIENT, OTHER_PATIENT], statuses=[APPROVED]) == [a.id, c.id]
    assert _found(store) == [a.id, b.id, c.id]
    assert _found(store, statuses=[]) == []


def test_codes_are_ored_within_one_list_and_anded_across_attributes(store):
    a = document(class_code=code("A"), type_code=code("T1"))
    b = document(class_code=code("B"), type_code=code("T2"))
    c = document(class_code=code("C", "other-scheme"), type_code=code("T1"))
    _store(store, a, b, c)
    assert _found(store, class_codes=[("A", SCHEME), ("B", SCHEME)]) == [a.id, b.id]
    assert _found(store, class_codes=[("A", SCHEME), ("C", SCHEME)]) == [a.id]
    assert _found(store, class_codes=[("C", None)]) == [c.id]
    assert _found(store, class_codes=[("A", SCHEME), ("B", SCHEME)], type_codes=[("T1", SCHEME)]) == [a.id]
    assert _found(store, class_codes=[]) == []


@pytest.mark.parametrize("field, criterion", [
    ("practice_setting_code", "practice_setting_codes"),
    ("healthcare_facility_type_code", "healthcare_facility_type_codes"),
    ("format_code", "format_codes"),
    ("type_code", "type_codes"),
])
def test_each_single_code_attribute_filters(store, field, criterion):
    a, b = document(**{field: code("X")}), document(**{field: code("Y")})
    _store(store, a, b)
    assert _found(store, **{criterion: [("Y", SCHEME)]}) == [b.id]
    assert _found(store, **{criterion: [("X", SCHEME), ("Y", SCHEME)]}) == [a.id, b.id]


def test_event_codes_and_across_lists_or_within_each(store):
    ab = document(event_codes=(code("a"), code("b")))
    a = document(event_codes=(code("a"),))
    c = document(event_codes=(code("c"),))
    none = document(event_codes=())
    _store(store, ab, a, c, none)
    assert _found(store, event_codes=[[("a", SCHEME)]]) == [ab.id, a.id]
    assert _found(store, event_codes=[[("a", SCHEME), ("c", SCHEME)]]) == [ab.id, a.id, c.id]
    assert _found(store, event_codes=[[("a", SCHEME)], [("b", SCHEME)]]) == [ab.id]
    assert _found(store, event_codes=[[("a", SCHEME)], [("b", SCHEME), ("c", SCHEME)]]) == [ab.id]
    assert _found(store, event_codes=[[("a", "wrong-scheme")]]) == []


def test_confidentiality_codes_and_across_lists(store):
    nr = document(confidentiality_codes=(code("N"), code("R")))
    n = document(confidentiality_codes=(code("N"),))
    _store(store, nr, n)
    assert _found(store, confidentiality_codes=[[("N", SCHEME)]]) == [nr.id, n.id]
    assert _found(store, confidentiality_codes=[[("N", SCHEME)], [("R", SCHEME)]]) == [nr.id]
    # event codes and confidentiality codes are separate attributes
    assert _found(store, event_codes=[[("N", SCHEME)]]) == []


def test_creation_time_from_inclusive_to_exclusive_with_partial_precision(store):
    early = document(creation_time="20231231235959")
    new_year = document(creation_time="20240101000000")
    mid = document(creation_time="20240615")  # partial: 2024-06-15 00:00:00
    late = document(creation_time="20250101000000")
    undated = document(creation_time=None)
    _store(store, early, new_year, mid, late, undated)
    assert _found(store, creation_time=TimeRange("2024", "2025")) == [new_year.id, mid.id]
    assert _found(store, creation_time=TimeRange("20240101000000")) == [new_year.id, mid.id, late.id]
    assert _found(store, creation_time=TimeRange(end="2024")) == [early.id]
    assert _found(store, creation_time=TimeRange("202406", "20240615")) == []
    assert _found(store, creation_time=TimeRange("20240615", "2024061500")) == []
    assert _found(store, creation_time=TimeRange("20240615", "2024061501")) == [mid.id]
    # an offset in the parameter is converted to UTC: 01:00+0100 is midnight UTC
    one_second = TimeRange("20240101010000+0100", "20240101010001+0100")
    assert _found(store, creation_time=one_second) == [new_year.id]


def test_service_start_and_stop_ranges(store):
    a = document(service_start_time="20240101", service_stop_time="20240110")
    b = document(service_start_time="20240201", service_stop_time=None)
    _store(store, a, b)
    assert _found(store, service_start_time=TimeRange("202401", "202402")) == [a.id]
    assert _found(store, service_start_time=TimeRange("202401")) == [a.id, b.id]
    assert _found(store, service_stop_time=TimeRange(end="20240111")) == [a.id]
    assert _found(store, service_stop_time=TimeRange(end="20240110")) == []
    assert _found(store, service_start_time=TimeRange("2024"), service_stop_time=TimeRange("2024")) == [a.id]


def test_invalid_time_parameters_are_refused(store):
    with pytest.raises(ValueError):
        document_query(DocumentCriteria(creation_time=TimeRange("last week")))


def test_author_person_wildcards(store):
    kari = document(authors=(Author(person="^Hansen^Kari^^^Dr"),))
    two = document(authors=(Author(person="^Olsen^Per"), Author(person="^Hansen^Kari")))
    escaped = document(authors=(Author(person="\\T\\^Berg^Ola"),))
    nobody = document(authors=(Author(institutions=("Hansen Sykehus",)),))
    _store(store, kari, two, escaped, nobody)
    assert _found(store, author_persons=["^Hansen^Kari^^^Dr"]) == [kari.id]
    assert _found(store, author_persons=["%Hansen%"]) == [kari.id, two.id]
    assert _found(store, author_persons=["%hansen%"]) == [kari.id, two.id]  # case-insensitive
    assert _found(store, author_persons=["^_lsen^%"]) == [two.id]
    assert _found(store, author_persons=["^_sen^%"]) == []
    assert _found(store, author_persons=["%Olsen%", "%Dr"]) == [kari.id, two.id]
    assert _found(store, author_persons=["\\T\\%"]) == [escaped.id]  # backslash is literal
    assert _found(store, author_persons=["\\%"]) == [escaped.id]
    assert _found(store, author_persons=["%Sykehus%"]) == []


def test_object_types(store):
    stable, on_demand = document(), document(object_type=ObjectType.ON_DEMAND_DOCUMENT.value)
    _store(store, stable, on_demand)
    assert _found(store, object_types=[ObjectType.STABLE_DOCUMENT.value]) == [stable.id]
    assert _found(store, object_types=[ObjectType.ON_DEMAND_DOCUMENT.value]) == [on_demand.id]
    assert _found(store, object_types=list(ObjectType)[:2]) == [stable.id, on_demand.id]


def test_reference_ids(store):
    a = document(reference_ids=("r1^^^&1.2&ISO", "r2^^^&1.2&ISO"))
    b = document(reference_ids=("r3^^^&1.2&ISO",))
    _store(store, a, b, document())
    assert _found(store, reference_ids=[["r2^^^&1.2&ISO"]]) == [a.id]
    assert _found(store, reference_ids=[["r1^^^&1.2&ISO", "r3^^^&1.2&ISO"]]) == [a.id, b.id]
    assert _found(store, reference_ids=[["r1^^^&1.2&ISO"], ["r2^^^&1.2&ISO"]]) == [a.id]
    assert _found(store, reference_ids=[["r1^^^&1.2&ISO"], ["r3^^^&1.2&ISO"]]) == []
    assert _found(store, reference_ids=[[]]) == []


def test_limit_and_insert_order(store):
    docs = [document() for _ in range(5)]
    _store(store, *docs[:3])
    _store(store, *docs[3:])
    assert _found(store, patient_ids=[PATIENT]) == [d.id for d in docs]
    assert _found(store, patient_ids=[PATIENT], limit=2) == [d.id for d in docs[:2]]
    assert _found(store, entry_uuids=[docs[4].id, docs[1].id]) == [docs[1].id, docs[4].id]


def test_only_document_entries_are_found(store):
    _store(store, folder())
    assert _found(store, patient_ids=[PATIENT]) == []


def test_every_filter_together_is_one_statement(store):
    doc = document(event_codes=(code("E"),))
    _store(store, doc)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(store, "before_cursor_execute", listener)
    try:
        found = _found(
            store, patient_ids=[PATIENT], statuses=[APPROVED], object_types=[doc.object_type],
            class_codes=[("A00-1", SCHEME)], type_codes=[("A03-1", SCHEME)],
            practice_setting_codes=[("ALL", SCHEME)], healthcare_facility_type_codes=[("86.211", SCHEME)],
            format_codes=[(doc.format_code.code, doc.format_code.scheme)],
            event_codes=[[("E", SCHEME)]], confidentiality_codes=[[("N", "2.16.840.1.113883.5.25")]],
            creation_time=TimeRange("2024", "2025"), service_start_time=TimeRange("2024"),
            author_persons=["%Kari%"], limit=10)
    finally:
        event.remove(store, "before_cursor_execute", listener)
    assert found == [doc.id]
    assert len([s for s in statements if "SELECT" in s.upper()]) == 1


def test_submission_set_query(store):
    ss1 = submission_set(source_id="1.1", submission_time="20240105", authors=(Author(person="^Berg^Ola"),))
    ss2 = submission_set(source_id="2.2", submission_time="20240210", content_type_code=code("other"),
                         patient_id=OTHER_PATIENT, authors=(Author(person="^Dahl^Eva"),))
    _store(store, document(), ss=ss1)
    _store(store, document(patient_id=OTHER_PATIENT), ss=ss2)
    with store.connect() as conn:
        def found(**criteria):
            return uuids_of(conn, submission_set_query(**criteria))
        assert found(patient_ids=[PATIENT]) == [ss1.id]
        assert found(source_ids=["1.1", "2.2"]) == [ss1.id, ss2.id]
        assert found(submission_time=TimeRange("202402")) == [ss2.id]
        assert found(author_persons=["%berg%"]) == [ss1.id]
        assert found(content_type_codes=[("other", SCHEME)]) == [ss2.id]
        assert found(statuses=[DEPRECATED]) == []


def test_folder_query(store):
    f1 = folder(codes=(code("x"), code("y")), last_update_time="20240105")
    f2 = folder(codes=(code("x"),), last_update_time="20240301")
    _store(store, f1, f2)
    with store.connect() as conn:
        def found(**criteria):
            return uuids_of(conn, folder_query(**criteria))
        assert found(patient_ids=[PATIENT], statuses=[APPROVED]) == [f1.id, f2.id]
        assert found(codes=[[("x", SCHEME)], [("y", SCHEME)]]) == [f1.id]
        assert found(codes=[[("y", SCHEME), ("x", SCHEME)]]) == [f1.id, f2.id]
        assert found(last_update_time=TimeRange("202403", "202404")) == [f2.id]
        assert found(limit=1) == [f1.id]
