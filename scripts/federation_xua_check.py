"""The refusals `python -m scripts.federation --xua --check` shows (IHE ITI-40 XUA, PROFILE.md §6).

Through the Initiating Gateway, for the checked patient:
1. FindDocuments without an assertion: a SOAP Sender fault with subcode wsse:InvalidSecurity
   (WS-Security 1.1 §12) — every endpoint requires one;
2. FindDocuments with an assertion naming another patient: every community's access policy
   refuses it (LocalPolicyRestrictionError, patient match) and no document comes back;
3. a patient's block (sperring) on one enterprise for the checking physician's HPR number
   (POST /admin/blocks): a TREAT assertion no longer sees that enterprise's documents, a
   break-the-glass (purpose BTG) assertion sees them all again. The block is removed afterwards.
Each step prints one line; `check_refusals` is True only when all of them passed.
"""
from __future__ import annotations

from collections import Counter

import httpx

from profiles.errors import ErrorCode, Status
from soap.client import SoapClient
from soap.wsse import INVALID_SECURITY

from scripts.federation_check import REGISTRY_STORED_QUERY, find_documents, query_documents
from scripts.federation_data import PATIENTS
from scripts.federation_xua import CHECKER


def check_refusals(federation, patient_id: str, found: list[dict[str, str]]) -> bool:
    results = [check_no_assertion(federation, patient_id), check_other_patient(federation, patient_id)]
    holding = [item for item in federation.enterprises if any(d["home"] == item.enterprise.home_community_id
                                                              for d in found)]
    if holding:
        results.append(check_block_and_break_the_glass(federation, patient_id, holding[-1], found))
    return all(results)


def check_no_assertion(federation, patient_id: str) -> bool:
    with SoapClient(federation.initiating_url, timeout=60, **federation.client_options()) as client:
        reply = client.call(REGISTRY_STORED_QUERY, find_documents(patient_id))
    fault = reply.fault
    good = fault is not None and (fault.code, fault.subcode) == ("Sender", INVALID_SECURITY)
    print(f"  XUA: ITI-18 without an assertion: "
          f"{'refused, ' + fault.reason if good else f'FAILED {fault and fault.subcode} {reply.status_code}'}")
    return good


def check_other_patient(federation, patient_id: str) -> bool:
    other = next(p.patient_id for p in PATIENTS if p.patient_id != patient_id)
    headers = [federation.xua.security_header(other)]
    status, issues, docs = query_documents(federation.initiating_url, REGISTRY_STORED_QUERY, patient_id, headers,
                                  **federation.client_options())
    codes = {issue.code for issue in issues}
    good = status is Status.FAILURE and not docs and codes == {ErrorCode.LOCAL_POLICY_RESTRICTION}
    print(f"  XUA: ITI-18 with an assertion naming another patient: "
          f"{'refused by the access policy' if good else f'FAILED {status} {len(docs)} document(s) {issues}'}")
    return good


def check_block_and_break_the_glass(federation, patient_id: str, blocked, found: list[dict[str, str]]) -> bool:
    home = blocked.enterprise.home_community_id
    block = _add_block(federation, blocked, patient_id)
    try:
        treat = _homes(federation, patient_id, purpose="TREAT")
        btg = _homes(federation, patient_id, purpose="BTG")
    finally:
        _remove_block(federation, blocked, block)
    expected = Counter(doc["home"] for doc in found)
    hidden_ok = home not in treat and treat == expected - Counter({home: expected[home]})
    shown_ok = btg == expected
    print(f"  XUA: block at {blocked.enterprise.name} for HPR {CHECKER.hpr_number}: TREAT sees {sum(treat.values())} "
          f"document(s) {'ok' if hidden_ok else f'FAILED {dict(treat)}'}; BTG sees {sum(btg.values())} "
          f"{'ok' if shown_ok else f'FAILED {dict(btg)}'}")
    return hidden_ok and shown_ok


def _homes(federation, patient_id: str, *, purpose: str) -> Counter:
    headers = [federation.xua.security_header(patient_id, purpose=purpose)]
    status, issues, docs = query_documents(federation.initiating_url, REGISTRY_STORED_QUERY, patient_id, headers,
                                  **federation.client_options())
    return Counter(doc["home"] for doc in docs) if status is Status.SUCCESS else Counter({f"{status} {issues}": 1})


def _add_block(federation, enterprise_node, patient_id: str) -> int:
    answer = httpx.post(enterprise_node.node.url("/admin/blocks"), timeout=30, **federation.client_options(),
                        json={"patient": patient_id, "hpr_number": CHECKER.hpr_number,
                              "note": "federation check: blocked for the checking physician"})
    answer.raise_for_status()
    return answer.json()["block"]["id"]


def _remove_block(federation, enterprise_node, block_id: int) -> None:
    httpx.delete(enterprise_node.node.url(f"/admin/blocks/{block_id}"), timeout=30,
                 **federation.client_options()).raise_for_status()
