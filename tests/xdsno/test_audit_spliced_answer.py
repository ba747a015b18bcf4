"""The audit reads a spliced ITI-18 answer (registry.queries.QueryAnswer: stand-ins in the tree,
stored XML as bytes) as it reads the whole tree: the same returned documents and patients."""
from __future__ import annotations

from registry.queries import QueryOptions, answer_query
from registry.store import create_schema, open_engine
from tests.registry.queries.support import APPROVED, Registry, q, ql, request
from tests.registry.store.builders import OTHER_PATIENT, PATIENT, document
from xdsno.audit.extract import message_facts

DE = "$XDSDocumentEntry"


def test_stand_ins_give_the_audit_the_facts_of_the_whole_answer(tmp_path):
    engine = open_engine(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    create_schema(engine)
    try:
        reg = Registry(engine)
        reg.submit(document(repository_unique_id="1.2.3.7"), document())
        reg.submit(document(patient_id=OTHER_PATIENT))
        query = request("FindDocuments", **{DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)})
        with engine.connect() as conn:
            answer = answer_query(conn, query, QueryOptions(home_community_id="urn:oid:1.2.3"))
        spliced = message_facts(query, answer.body)
        whole = message_facts(query, answer.tree())
    finally:
        engine.dispose()
    assert len(spliced.documents) == 2 and spliced.documents[0].repository_unique_id == "1.2.3.7"
    assert all(d.returned and d.home_community_id == "urn:oid:1.2.3" for d in spliced.documents)
    assert (spliced.documents, spliced.patients, spliced.status) == (whole.documents, whole.patients, whole.status)
