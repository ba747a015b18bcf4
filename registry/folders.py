"""What an accepted submission does to existing Folders (ITI TF-3 4.2.3.4 Folder attributes,
lastUpdateTime set by the Document Registry; 4.2.2.2 document relationships).

- A Folder that gains a member (a HasMember from an existing Folder in the submission, or one
  this module adds) gets lastUpdateTime = the submission's time, in its stored XML and its
  indexed column alike.
- A replacement (RPLC, XFRM_RPLC) joins every Folder its original is an Approved member of:
  the registry adds the HasMember Folder → replacement itself, so a Folder never loses a
  document by its being replaced (as the NIST reference registry does).

Folders of the submission itself get their lastUpdateTime in `registry.service`.
"""
from __future__ import annotations

from sqlalchemy import Connection, bindparam

from profiles.ebrim import canonical_bytes, decode_registry_object_list
from profiles.model import Association, Submission
from profiles.responses import adhoc_query_response
from profiles.vocabulary import RIM, REPLACING_RELATIONSHIPS, AssociationType, AvailabilityStatus
from registry.ids import INITIAL_VERSION, new_entry_uuid
from registry.store import ObjectKind, associations_touching, get_by_uuids, sortable_time, xml_of
from registry.store.schema import folder as folder_table
from registry.store.schema import registry_object

_HAS_MEMBER = AssociationType.HAS_MEMBER.value
_APPROVED = AvailabilityStatus.APPROVED.value


def replacement_memberships(conn: Connection, submission: Submission) -> list[Association]:
    """New HasMember associations placing each replacement in its original's Folders.

    `submission` carries final ids (after `registry.ids.assign_ids`).
    """
    replacements = [(a.source, a.target) for a in submission.associations
                    if a.association_type in REPLACING_RELATIONSHIPS]
    if not replacements:
        return []
    originals = {target for _, target in replacements}
    memberships = [a for a in associations_touching(conn, originals, types=[_HAS_MEMBER], statuses=[_APPROVED])
                   if a.target in originals]
    folders = {s.entry_uuid for s in get_by_uuids(conn, {a.source for a in memberships})
               if s.kind is ObjectKind.FOLDER and s.status == _APPROVED}
    added: list[Association] = []
    for replacement, original in replacements:
        for folder in dict.fromkeys(a.source for a in memberships if a.target == original and a.source in folders):
            entry_uuid = new_entry_uuid()
            added.append(Association(id=entry_uuid, lid=entry_uuid, version_name=INITIAL_VERSION,
                                     status=_APPROVED, association_type=AssociationType.HAS_MEMBER,
                                     source=folder, target=replacement))
    return added


def existing_folders_gaining_members(submission: Submission, added: list[Association]) -> list[str]:
    """entryUUIDs of Folders outside the submission that are the source of a new HasMember.

    Only Folders can be such sources: `registry.checks.referenced_kinds` refuses the rest.
    """
    own = {obj.id for obj in submission.objects()}
    sources = (a.source for a in (*submission.associations, *added) if a.association_type == _HAS_MEMBER)
    return list(dict.fromkeys(source for source in sources if source not in own))


def touch_folders(conn: Connection, folder_uuids: list[str], last_update_time: str) -> int:
    """Set lastUpdateTime of stored Folders (stored XML re-encoded canonically); returns how many."""
    stored = xml_of(conn, folder_uuids)
    if not stored:
        return 0
    answer = adhoc_query_response([], [xml for _, xml in stored])
    folders, _ = decode_registry_object_list(answer.find(f"{{{RIM}}}RegistryObjectList"))
    rows = [{"uuid": f.id, "new_time": sortable_time(last_update_time),
             "new_xml": canonical_bytes(f.with_changes(last_update_time=last_update_time))}
            for f in folders.folders]
    if rows:
        conn.execute(registry_object.update().where(registry_object.c.entry_uuid == bindparam("uuid"))
                     .values(xml=bindparam("new_xml")), rows)
        conn.execute(folder_table.update().where(folder_table.c.entry_uuid == bindparam("uuid"))
                     .values(last_update_time=bindparam("new_time")), rows)
    return len(rows)
