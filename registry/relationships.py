"""What the document relationships of an accepted submission do to the registry (ITI TF-3
4.2.2.2 Document Relationships and Associations; ITI TF-2 3.42.4.1.3).

- RPLC and XFRM_RPLC: the original (the association's target) becomes Deprecated.
- The original's own addenda and transformations (APND/XFRM associations whose target it is)
  describe a document that is no longer current: they are deprecated with it, and so on down
  the chain (as the NIST reference registry does).
- APND, XFRM and signs change nothing stored: the association is the relationship.

The replacement is a new logical document (its lid is its own entryUUID, `registry.ids`);
in base XDS a version chain sharing one lid is made only by Update Document Set (ITI-57).
"""
from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from profiles.model import Submission
from profiles.vocabulary import REPLACING_RELATIONSHIPS, AssociationType, AvailabilityStatus
from registry.store import ObjectKind
from registry.store.reader import CHUNK
from registry.store.schema import association, registry_object

_FOLLOWERS = (AssociationType.APPEND.value, AssociationType.TRANSFORM.value)
_APPROVED = AvailabilityStatus.APPROVED.value

_LINK, _FOLLOWER = registry_object.alias("link"), registry_object.alias("follower")
#: Approved DocumentEntries linked by an Approved APND/XFRM association to one of `targets`,
#: in insert order; built once (SQLAlchemy finds its compiled form by cache key)
_APPROVED_FOLLOWERS = (
    select(_FOLLOWER.c.entry_uuid, _FOLLOWER.c.submission_id, _FOLLOWER.c.position)
    .select_from(association.join(_LINK, _LINK.c.entry_uuid == association.c.entry_uuid)
                 .join(_FOLLOWER, _FOLLOWER.c.entry_uuid == association.c.source))
    .where(association.c.type.in_(_FOLLOWERS), _LINK.c.status == _APPROVED,
           association.c.target.in_(bindparam("targets", expanding=True)),
           _FOLLOWER.c.kind == ObjectKind.DOCUMENT_ENTRY.value, _FOLLOWER.c.status == _APPROVED)
    .order_by(_FOLLOWER.c.submission_id, _FOLLOWER.c.position))


def replaced_targets(submission: Submission) -> list[str]:
    """entryUUIDs the submission replaces (targets of RPLC and XFRM_RPLC), in order."""
    return list(dict.fromkeys(a.target for a in submission.associations
                              if a.association_type in REPLACING_RELATIONSHIPS))


def documents_to_deprecate(conn: Connection, submission: Submission) -> list[str]:
    """The replaced DocumentEntries and, transitively, their Approved addenda and transformations."""
    deprecated: dict[str, None] = {}
    frontier = replaced_targets(submission)
    while frontier:
        deprecated.update(dict.fromkeys(frontier))
        frontier = [uuid for uuid in _approved_followers(conn, frontier) if uuid not in deprecated]
    return list(deprecated)


def _approved_followers(conn: Connection, targets: list[str]) -> list[str]:
    """One query per level of the chain (per CHUNK targets): follower entryUUIDs, insert order."""
    rows = [row for start in range(0, len(targets), CHUNK)
            for row in conn.execute(_APPROVED_FOLLOWERS, {"targets": targets[start:start + CHUNK]})]
    rows.sort(key=lambda row: (row.submission_id, row.position))
    return list(dict.fromkeys(row.entry_uuid for row in rows))
