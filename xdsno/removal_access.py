"""Who may remove: ITI-62 Remove Metadata and ITI-86 Remove Documents (IHE RMD, the Document
Administrator) are administrative transactions, let in by the same credentials as the node's
`/admin/*` endpoints (xdsno.admin_auth): a client certificate named in `admin_client_subjects`,
an `Authorization: Bearer` token of `admin_tokens_file`, or — when neither is configured — a
loopback caller. RMD leaves access control to local policy; this is xdsno's.

`RemovalGuard` is a before-dispatch hook of the registry's and the repository's SoapRouter. A
refusal is an env:Sender fault whose reason says which credential to send; the audit wrapper
records it as a failure of the removal (xdsno.audit). Queries, retrieves and submissions are
not affected.
"""
from __future__ import annotations

from collections.abc import Mapping

from soap import faults
from soap.faults import SoapFault
from soap.router import SoapRequest, SoapRouter

from .admin_auth import AdminAccess, Refused

REMOVE_METADATA = "urn:ihe:iti:2010:DeleteDocumentSet"
REMOVE_DOCUMENTS = "urn:ihe:iti:2017:RemoveDocuments"
REMOVALS = {REMOVE_METADATA: "ITI-62 Remove Metadata", REMOVE_DOCUMENTS: "ITI-86 Remove Documents"}


class RemovalGuard:
    """Refuses a removal whose caller the admin credentials do not let in."""

    def __init__(self, access: AdminAccess):
        self.access = access

    def __call__(self, request: SoapRequest) -> None:
        transaction = REMOVALS.get(request.action or "")
        if transaction is None:
            return
        try:
            self.access.admit(request.environ, access_log=False)
        except Refused as refused:
            accepted = "; or ".join(self.access.accepted(access_log=False))
            raise SoapFault(faults.SENDER, f"{transaction} is for the node's administrators: "
                                           f"{refused.reason}. Send: {accepted}") from None


def install_removal_guard(routers: Mapping[str, SoapRouter], access: AdminAccess) -> None:
    """A RemovalGuard on every router serving a removal (the registry's, the repository's)."""
    guard = RemovalGuard(access)
    for router in routers.values():
        if router.actions & REMOVALS.keys():
            router.add_before_dispatch(guard)
