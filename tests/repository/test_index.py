"""The repository's index: uniqueId → blob key, size, SHA-1, mimeType, repositoryUniqueId."""
import pytest

from repository.index import DocumentIndex, DuplicateDocument, StoredDocument, open_document_index
from tests.databases import database_url  # noqa: F401  (SQLite, and PostgreSQL when configured)


def row(uid: str, key: str = "k") -> StoredDocument:
    return StoredDocument(uid, key + uid.replace(".", ""), 12, "A" * 40, "text/plain", "1.2.3")


@pytest.fixture
def index(database_url):  # noqa: F811
    index = open_document_index(database_url)
    yield index
    index.close()


def test_add_and_get(index):
    index.add_all([row("1.1"), row("1.2")])
    found = index.get("1.1")
    assert (found.blob_key, found.size, found.sha1, found.mime_type) == ("k11", 12, "a" * 40, "text/plain")
    assert found.repository_unique_id == "1.2.3" and found.stored_at is not None
    assert index.get("1.3") is None
    assert set(index.get_many(["1.1", "1.2", "1.3"])) == {"1.1", "1.2"}


def test_add_is_all_or_nothing(index):
    index.add_all([row("2.1")])
    with pytest.raises(DuplicateDocument):
        index.add_all([row("2.2"), row("2.1")])
    assert index.get("2.2") is None and index.count() == 1


def test_remove(index):
    index.add_all([row("3.1"), row("3.2")])
    index.remove(["3.1", "3.9"])
    assert index.get("3.1") is None and index.count() == 1


def test_many_ids_in_chunks(index):
    index.add_all([row(f"4.{n}") for n in range(1200)])
    assert len(index.get_many(f"4.{n}" for n in range(0, 1300))) == 1200
    index.remove(f"4.{n}" for n in range(1200))
    assert index.count() == 0


def test_table_is_created_once_and_reopened(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'repository.sqlite3'}"
    open_document_index(url).add_all([row("5.1")])
    assert DocumentIndex(open_document_index(url).engine).get("5.1") is not None


def test_a_table_created_by_another_process_meanwhile_is_no_error(database_url, monkeypatch):  # noqa: F811
    """gunicorn workers open the index at the same moment: one's CREATE TABLE loses the race."""
    import repository.index as module

    create_all = module.metadata.create_all

    def racing(engine, *args, **kwargs):
        create_all(engine)  # the other worker, just between the check and the CREATE TABLE
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE repository_document (x INTEGER)")

    monkeypatch.setattr(module.metadata, "create_all", racing)
    index = open_document_index(database_url)
    try:
        assert index.count() == 0
    finally:
        index.close()
