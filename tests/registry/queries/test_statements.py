"""Each stored query runs a small fixed number of SQL statements, however many objects it finds
(design §3: one query per stored query over indexed columns, never one per object)."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.registry.store.builders import PATIENT, association, document, folder, with_submission_set

from .scenario import APND, members
from .support import APPROVED, q, ql

DE = "$XDSDocumentEntry"
MANY = 40


@pytest.fixture
def big(reg):
    """One SubmissionSet with MANY documents, a folder holding them all, and MANY appendices to
    the first document."""
    docs = [document() for _ in range(MANY)]
    fld = folder()
    filed = [association(fld.id, d.id) for d in docs]
    stored = reg.submit(*docs, fld, *filed)
    appendices = [document() for _ in range(MANY)]
    links = [association(a.id, docs[0].id, APND) for a in appendices]
    reg.store(*with_submission_set(*appendices), *links)
    return {"ss": stored[0], "docs": docs, "folder": fld, "ss_links": members(stored)}


def _cases(big) -> dict[str, dict]:
    docs, ids = big["docs"], [d.id for d in big["docs"]]
    return {
        "FindDocuments": {DE + "PatientId": q(PATIENT), DE + "Status": ql(APPROVED)},
        "GetAll": {"$patientId": q(PATIENT), DE + "Status": ql(APPROVED),
                   "$XDSSubmissionSetStatus": ql(APPROVED), "$XDSFolderStatus": ql(APPROVED)},
        "GetDocuments": {DE + "EntryUUID": ql(*ids)},
        "GetFolders": {"$XDSFolderEntryUUID": ql(big["folder"].id)},
        "GetAssociations": {"$uuid": ql(*ids)},
        "GetDocumentsAndAssociations": {DE + "EntryUUID": ql(*ids)},
        "GetSubmissionSets": {"$uuid": ql(*ids)},
        "GetSubmissionSetAndContents": {"$XDSSubmissionSetEntryUUID": q(big["ss"].id),
                                        DE + "FormatCode": ql(f"{docs[0].format_code.code}^^"
                                                              f"{docs[0].format_code.scheme}")},
        "GetFolderAndContents": {"$XDSFolderEntryUUID": q(big["folder"].id)},
        "GetFoldersForDocument": {DE + "EntryUUID": q(ids[0])},
        "GetRelatedDocuments": {DE + "EntryUUID": q(ids[0]), "$AssociationTypes": ql(APND)},
    }


@pytest.mark.parametrize("query, at_most", [
    ("FindDocuments", 2), ("GetAll", 5), ("GetDocuments", 2), ("GetFolders", 2), ("GetAssociations", 2),
    ("GetDocumentsAndAssociations", 3), ("GetSubmissionSets", 3), ("GetSubmissionSetAndContents", 6),
    ("GetFolderAndContents", 4), ("GetFoldersForDocument", 4), ("GetRelatedDocuments", 4),
])
def test_statements_per_query(reg, big, query, at_most):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SELECT PG_", "SHOW")):
            statements.append(statement)

    event.listen(reg.engine, "before_cursor_execute", count)
    try:
        answer = reg.ask(query, "LeafClass", options={"result_limit": 10 * MANY}, **_cases(big)[query])
    finally:
        event.remove(reg.engine, "before_cursor_execute", count)
    assert answer.ok, answer.codes
    assert len(answer.ids) >= 1
    assert len(statements) <= at_most, statements
