"""SQL storage of the Document Registry (ITI TF-2 3.42 Register Document Set-b, 3.18 Registry
Stored Query, ITI-62 Remove Metadata): schema, engines, the submission writer, the removal of
objects and the lookups and query builders.

    engine = open_engine(settings.effective_database_url)
    create_schema(engine)
    with write_transaction(engine) as conn:
        store_submission(conn, [StoredObject(obj, canonical_bytes(obj)) for obj in objects])
        set_status(conn, replaced_uuids, AvailabilityStatus.DEPRECATED)
    with write_transaction(engine) as conn:
        remove_objects(conn, entry_uuids)            # every row of them (ITI-62)
"""
from .engine import open_engine, write_transaction
from .filters import DocumentCriteria, TimeRange, document_query, folder_query, submission_set_query
from .reader import (
    AssociationSummary, ObjectSummary, StoredXml, associations_touching, document_uuids, documents_by_lid,
    documents_with_xml, find_by_lids, find_by_unique_ids, get_associations, get_by_uuids, patient_ids_of,
    stored_xml, uuids_of, xml_of,
)
from .removal import remove_objects
from .schema import SCHEMA_VERSION, ObjectKind, create_schema, drop_schema
from .times import sortable_time
from .writer import StoredObject, set_status, store_submission

__all__ = [
    "AssociationSummary", "DocumentCriteria", "ObjectKind", "ObjectSummary", "SCHEMA_VERSION",
    "StoredObject", "StoredXml", "TimeRange", "associations_touching", "create_schema", "document_query",
    "document_uuids", "documents_by_lid", "documents_with_xml", "drop_schema", "find_by_lids", "find_by_unique_ids", "folder_query",
    "get_associations", "get_by_uuids",
    "open_engine", "patient_ids_of", "remove_objects", "set_status", "sortable_time", "store_submission", "stored_xml",
    "submission_set_query", "uuids_of", "write_transaction", "xml_of",
]
