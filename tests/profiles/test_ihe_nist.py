"""IHE_PROFILE on the NIST XDS Toolkit conformance submissions (../shared/conformance/nist):
every submission the toolkit expects a registry to accept passes, and those it expects to be
rejected for something the metadata itself shows fail with the code the toolkit looks for.

Symbols (`$patientid$`, ids recorded by earlier steps) are filled in as the manifest describes,
with stable stand-ins: a valid patient, fresh OIDs for uniqueIds, `urn:uuid:` ids otherwise.
"""
from __future__ import annotations

import json
import re
import uuid
from itertools import count

import pytest
from lxml import etree

from profiles.ebrim import decode_provide_and_register, decode_submit_objects_request
from profiles.errors import ErrorCode
from profiles.ihe import IHE_PROFILE
from profiles.rules import Transaction, ValidationContext
from profiles.vocabulary import DocumentEntryScheme, FolderScheme, SubmissionSetScheme
from tests.profiles import samples
from tests.profiles.xml_support import NIST, require, safe_parser

TRANSACTIONS = {"ITI-41": Transaction.PROVIDE_AND_REGISTER, "ITI-42": Transaction.REGISTER,
                "ITI-57": Transaction.UPDATE}
UNIQUE_ID_SCHEMES = {DocumentEntryScheme.UNIQUE_ID, SubmissionSetScheme.UNIQUE_ID, FolderScheme.UNIQUE_ID}
PATIENT_ID_SCHEMES = {DocumentEntryScheme.PATIENT_ID, SubmissionSetScheme.PATIENT_ID, FolderScheme.PATIENT_ID}

#: rejected steps whose reason is in the metadata: (test/section/step) -> code and codeContext fragment
EXPECTED_FAILURES = {
    "11986/submit/submit": (ErrorCode.PATIENT_ID_DOES_NOT_MATCH, "patientId"),
    "12084/submit/submit": (ErrorCode.REGISTRY_METADATA_ERROR, "repositoryUniqueId"),
    "21000/submit/submissionset_update_target_self": (ErrorCode.REGISTRY_METADATA_ERROR, "SubmissionSet"),
    "20002b/eval/missing_slot_submissionsetstatus": (ErrorCode.REGISTRY_METADATA_ERROR, "SubmissionSetStatus"),
    "20002b/eval/slot_submissionsetstatus_invalid_value": (ErrorCode.REGISTRY_METADATA_ERROR, "SubmissionSetStatus"),
    **{
        f"11998a/{attribute}/submit": (ErrorCode.REGISTRY_METADATA_ERROR, f"{attribute} is required")
        for attribute in ("classCode", "confidentialityCode", "creationTime", "formatCode",
                          "healthcareFacilityTypeCode", "languageCode", "practiceSettingCode",
                          "sourcePatientId", "typeCode")
    },
}


def steps() -> list[tuple[str, str, dict, str]]:
    found = []
    for manifest_path in sorted(NIST.glob("*/manifest.json")) if NIST.exists() else []:
        manifest = json.loads(manifest_path.read_text())
        for section in manifest["sections"]:
            for step in section["steps"]:
                if step.get("transaction") in TRANSACTIONS and step.get("body"):
                    name = f"{manifest['test']}/{section['name']}/{step['id']}"
                    found.append((name, str(manifest_path.parent / step["body"]), step, step["expect"]["status"]))
    return found


STEPS = steps()
ACCEPTED = [s for s in STEPS if s[3] == "Success"]
REJECTED = [s for s in STEPS if s[0] in EXPECTED_FAILURES]


def fill_symbols(text: str, step: dict, oids) -> str:
    """Replace the manifest's symbols; leftovers become urn:uuid ids (they name earlier objects)."""
    patient = samples.PATIENT_ID.replace("&", "&amp;")
    for symbol in step.get("symbols") or []:
        source = symbol["from"]
        if source["kind"] == "patient":
            value = patient
        elif source.get("map") == "AssignedUids":
            value = next(oids)
        else:
            value = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, symbol['symbol'])}"
        text = text.replace(symbol["symbol"], value)
    text = re.sub(r"\$patient_?id\d*\$", patient, text)
    return re.sub(r"\$\w+\$", lambda m: f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, m.group(0))}", text)


def assign(root: etree._Element, step: dict, oids) -> None:
    """What the toolkit does before sending: fresh uniqueIds, the current patient, the source id."""
    rules = step.get("assign") or {}
    if not rules.get("submission"):
        return
    keep = set(rules.get("keep_unique_ids_of") or [])
    for identifier in root.iter("{*}ExternalIdentifier"):
        scheme = identifier.get("identificationScheme")
        if rules.get("unique_ids") and scheme in UNIQUE_ID_SCHEMES and identifier.get("registryObject") not in keep:
            identifier.set("value", next(oids))
        elif rules.get("patient_id") == "current" and scheme in PATIENT_ID_SCHEMES:
            identifier.set("value", samples.PATIENT_ID)
        elif rules.get("source_id") and scheme == SubmissionSetScheme.SOURCE_ID:
            identifier.set("value", samples.SOURCE_ID)


def validate_step(body_path: str, step: dict):
    oids = (f"1.3.6.1.4.1.21367.2005.3.99.9.{n}" for n in count(1))
    with open(body_path, encoding="utf-8") as body:
        text = fill_symbols(body.read(), step, oids)
    root = etree.fromstring(text.encode("utf-8"), safe_parser())
    assign(root, step, oids)
    transaction = TRANSACTIONS[step["transaction"]]
    if transaction is Transaction.PROVIDE_AND_REGISTER:
        submission, documents, _ = decode_provide_and_register(root)
        context = ValidationContext(transaction, documents_attached=frozenset(documents))
    else:
        submission, _ = decode_submit_objects_request(root)
        context = ValidationContext(transaction)
    return IHE_PROFILE.validate(submission, context)


@pytest.mark.parametrize("body_path, step", [(s[1], s[2]) for s in ACCEPTED], ids=[s[0] for s in ACCEPTED])
def test_accepted_nist_submission_passes(body_path, step):
    issues = validate_step(body_path, step)
    assert issues == [], "\n".join(issue.context for issue in issues)


@pytest.mark.parametrize("name, body_path, step", [s[:3] for s in REJECTED], ids=[s[0] for s in REJECTED])
def test_rejected_nist_submission_fails_with_the_expected_code(name, body_path, step):
    code, fragment = EXPECTED_FAILURES[name]
    issues = validate_step(body_path, step)
    assert any(issue.code is code and fragment in issue.context for issue in issues), issues


def test_nist_submissions_are_present():
    require(NIST)
    assert len(ACCEPTED) >= 70
    assert len(REJECTED) == len(EXPECTED_FAILURES)
