"""ITI-62 Remove Metadata and ITI-86 Remove Documents take the admin credentials (xdsno.removal_access)."""
from __future__ import annotations

import uuid

import httpx
import pytest

from profiles.errors import ErrorCode, Status
from profiles.responses import read_registry_response
from registry.endpoints import DELETE_DOCUMENT_SET, REGISTRY_STORED_QUERY
from registry.store import open_engine
from soap.client import SoapClient
from soap.faults import SoapFault
from soap.router import SoapRequest
from tests.registry.test_removal import remove_request
from tests.server import running_server
from tests.xca_gateway.initiating_support import find_documents
from xdsno.admin_auth import AdminAccess
from xdsno.admin_tokens import add_token
from xdsno.audit.record import Outcome
from xdsno.audit.store import AuditStore
from xdsno.removal_access import REMOVE_DOCUMENTS, RemovalGuard


def _request(action: str, **environ) -> SoapRequest:
    return SoapRequest(action=action, addressing=None, header=None, body=remove_request(), attachments={},
                       xop=None, is_mtom=False, environ=environ)


def test_without_admin_credentials_configured_only_loopback_may_remove():
    guard = RemovalGuard(AdminAccess())
    guard(_request(DELETE_DOCUMENT_SET, REMOTE_ADDR="127.0.0.1"))
    guard(_request(REMOVE_DOCUMENTS, REMOTE_ADDR="::1"))
    with pytest.raises(SoapFault) as refused:
        guard(_request(DELETE_DOCUMENT_SET, REMOTE_ADDR="10.1.2.3"))
    assert refused.value.code == "Sender"
    assert refused.value.reason == (
        "ITI-62 Remove Metadata is for the node's administrators: no admin credentials are configured on this "
        "node (admin_tokens_file, admin_client_subjects): only loopback callers are let in. Send: the request "
        "from this node's own machine (loopback)")


def test_other_transactions_are_not_the_guards_business():
    RemovalGuard(AdminAccess())(_request(REGISTRY_STORED_QUERY, REMOTE_ADDR="10.1.2.3"))


def test_with_a_tokens_file_a_removal_needs_a_token(tmp_path):
    from xdsno.admin_tokens import TokenFile

    tokens = tmp_path / "tokens"
    token = add_token(tokens, "administrator")
    guard = RemovalGuard(AdminAccess(tokens=TokenFile(tokens)))
    guard(_request(REMOVE_DOCUMENTS, REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=f"Bearer {token}"))
    with pytest.raises(SoapFault, match="^ITI-86 Remove Documents is for the node's administrators: "
                                        "credentials are required. Send: Authorization: Bearer"):
        guard(_request(REMOVE_DOCUMENTS, REMOTE_ADDR="127.0.0.1"))


@pytest.mark.integration
def test_a_removal_without_the_token_is_refused_and_audited(tmp_path):
    tokens = tmp_path / "tokens"
    token = add_token(tokens, "administrator")
    with running_server(tmp_path / "data", "--actor", "registry", env={"XDSNO_ADMIN_TOKENS_FILE": str(tokens)}) as node:
        store = AuditStore(open_engine(f"sqlite:///{node.data_dir / 'audit.sqlite3'}"))
        missing = f"urn:uuid:{uuid.uuid4()}"
        with SoapClient(node.url("/registry")) as client:
            refused = client.call(DELETE_DOCUMENT_SET, remove_request(missing))
            answered = client.call(REGISTRY_STORED_QUERY, find_documents())
        with SoapClient(node.url("/registry"), http_client=httpx.Client(
                headers={"Authorization": f"Bearer {token}"})) as admin:
            allowed = admin.call(DELETE_DOCUMENT_SET, remove_request(missing))
        records = store.records()
        store.engine.dispose()
    assert refused.fault is not None and "is for the node's administrators" in refused.fault.reason
    assert answered.fault is None
    # let in: the registry judges the request (the object does not exist)
    assert allowed.fault is None
    status, issues = read_registry_response(allowed.body)
    assert (status, [i.code for i in issues]) == (Status.FAILURE, [ErrorCode.UNRESOLVED_REFERENCE])
    removals = [r for r in records if r.event.transaction == "ITI-62"]
    assert [r.outcome for r in removals] == [Outcome.SERIOUS_FAILURE, Outcome.SERIOUS_FAILURE]
    assert "is for the node's administrators" in removals[0].outcome_description
