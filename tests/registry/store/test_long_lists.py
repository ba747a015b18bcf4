"""Filters with thousands of values (ITI TF-2 3.18.4.1.2.3.7: a list parameter has no upper
bound): one SELECT still answers exactly, on SQLite (which refuses `a OR b OR …` deeper than
1,000 terms) and PostgreSQL.
"""
from __future__ import annotations

from profiles.model import Author
from registry.store import (
    DocumentCriteria, document_query, store_submission, uuids_of, write_transaction,
)
from registry.store.filters import LIKES_PER_EXISTS, SCHEME_TERMS

from .builders import code, document, stored, with_submission_set

MANY = 10_000


def _store(engine, *objects):
    with write_transaction(engine) as conn:
        store_submission(conn, stored(*with_submission_set(*objects)))


def _found(engine, **criteria) -> list[str]:
    with engine.connect() as conn:
        return uuids_of(conn, document_query(DocumentCriteria(**criteria)))


def test_many_codes_of_one_scheme(store):
    a, b = document(class_code=code("A")), document(class_code=code("B"))
    _store(store, a, b)
    scheme = a.class_code.scheme
    codes = [(f"X{i}", scheme) for i in range(MANY)]
    assert _found(store, class_codes=[*codes, ("B", scheme)]) == [b.id]
    assert _found(store, class_codes=codes) == []


def test_many_schemes_match_code_and_scheme_together(store):
    a = document(class_code=code("A", "s-1"))
    b = document(class_code=code("B", "s-2"))
    _store(store, a, b)
    codes = [(f"X{i}", f"s-{i}") for i in range(MANY)]
    assert len({s for _, s in codes}) > SCHEME_TERMS
    assert _found(store, class_codes=[*codes, ("B", "s-2")]) == [b.id]
    # "A" of scheme s-2 and "B" of s-1 are other codes: code and scheme must match together
    crossed = [*codes, ("A", "s-2"), ("B", "s-1")]
    assert _found(store, class_codes=crossed) == []
    assert _found(store, class_codes=[*crossed, ("A", None)]) == [a.id]


def test_many_event_code_values(store):
    a = document(event_codes=(code("E1", "e"), code("E2", "e")))
    _store(store, a, document())
    many = [(f"X{i}", f"e{i}") for i in range(MANY)]
    assert _found(store, event_codes=[[*many, ("E2", "e")], [("E1", "e")]]) == [a.id]
    assert _found(store, event_codes=[many]) == []


def test_many_author_patterns(store):
    a = document(authors=(Author(person="^Smitty^Gerald"),))
    _store(store, a, document())
    patterns = [f"%nobody{i}%" for i in range(MANY)]
    assert MANY > 2 * LIKES_PER_EXISTS
    assert _found(store, author_persons=[*patterns, "%smitty%"]) == [a.id]
    assert _found(store, author_persons=patterns) == []
