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

from sqlalchemy import Connection

from profiles.model import Submission
from profiles.vocabulary import REPLACING_RELATIONSHIPS, AssociationType, AvailabilityStatus
from registry.store import ObjectKind, associations_touching, get_by_uuids

_FOLLOWERS = (AssociationType.APPEND.value, AssociationType.TRANSFORM.value)
_APPROVED = AvailabilityStatus.APPROVED.value


def replaced_targets(submission: Submission) -> list[str]:
    """entryUUIDs the submission replaces (targets of RPLC and XFRM_RPLC), in order."""
    return list(dict.fromkeys(a.target for a in submission.associations
                              if a.association_type in REPLACING_RELATIONSHIPS))


def documents_to_deprecate(conn: Connection, submission: Submission) -> list[str]:
    """The replaced DocumentEntries and, transitively, their Approved addenda and transformations."""
    deprecated: list[str] = []
    frontier = replaced_targets(submission)
    while frontier:
        deprecated.extend(uuid for uuid in frontier if uuid not in deprecated)
        followers = [a.source for a in associations_touching(conn, frontier, types=_FOLLOWERS, statuses=[_APPROVED])
                     if a.target in frontier]
        frontier = [s.entry_uuid for s in get_by_uuids(conn, followers)
                    if s.kind is ObjectKind.DOCUMENT_ENTRY and s.status == _APPROVED
                    and s.entry_uuid not in deprecated]
    return deprecated
