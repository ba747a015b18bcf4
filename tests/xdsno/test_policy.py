"""The access policy's rules (xdsno.policy; PROFILE.md §5, §6): each rule of the default policy
allows and denies the cases it should, the policy file is checked whole, the subject is read
from a real XUA Assertion, and the enforcement answers the actors and leaves its Decision for
the audit."""
from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from xdsno.policy import (
    Block, DocumentFacts, PolicyDecisionPoint, PolicyEnforcement, PolicyError, Subject, SubjectKind, from_assertion,
    load_policy, new_block,
)
from xdsno.policy.blocks import BlockError
from xdsno.policy.config import DEFAULT_POLICY_FILE
from xdsno.xua.assertion import read_assertion
from tests.profiles import samples
from tests.profiles.norway import norway_samples as ns
from tests.xdsno import xua_support

PATIENT = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
OTHER_PATIENT = "53116900048^^^&2.16.578.1.12.4.1.4.2&ISO"
HPR = "565505933"
OTHER_HPR = "9144889"
ORGNR = "983658725"          # the subject's legal entity
AUTHOR_ORGNR = "983974880"   # Finnmarkssykehuset HF, author institution of the documents
ACP = "urn:oid:2.16.578.1.12.4.1.7.2.1."
NOW = datetime(2026, 11, 21, 12, 0, 0)


def doctor(**changes) -> Subject:
    values = dict(kind=SubjectKind.PERSONNEL, user_name="Kari Lege", hpr_number=HPR, role="LE",
                  role_system="2.16.578.1.12.4.1.1.9060", organisation=ORGNR, point_of_care="974557746",
                  purpose="TREAT", patient_id=PATIENT)
    return Subject(**{**values, **changes})


def citizen(**changes) -> Subject:
    return Subject(**{**dict(kind=SubjectKind.CITIZEN, user_name="Kari Nordmann", purpose="13",
                             patient_id=PATIENT), **changes})


def document(uid: str = "2.25.1", *, codes=("N",), class_code="A00-1", type_code="A03-2", patient=PATIENT,
             created="20260101120000", authors=(AUTHOR_ORGNR,)) -> DocumentFacts:
    return DocumentFacts(entry_uuid=f"urn:uuid:{uid}", unique_id=uid, patient_id=patient, confidentiality_codes=codes,
                         class_code=class_code, type_code=type_code, author_organisations=frozenset(authors),
                         creation_time=created)


def pdp(**policy_changes) -> PolicyDecisionPoint:
    return PolicyDecisionPoint(dataclasses.replace(load_policy(), **policy_changes), clock=lambda: NOW)


def shown(subject, *documents, blocks=(), channel="registry", **policy_changes):
    visible, decision = pdp(**policy_changes).decide_query(subject, [PATIENT], list(documents), blocks=blocks,
                                                          channel=channel)
    return [d.unique_id for d in visible], decision


# --- the policy file ------------------------------------------------------------------------

def test_default_policy_names_its_source_and_date_and_trusts_nodes_without_xua():
    policy = load_policy()
    assert policy.date == "2026-11-21" and "PROFILE.md §5" in policy.source and "§6" in policy.source
    assert policy.trusts_requests_without_assertion and not policy.time_windows_enabled
    assert policy.personnel_purposes == {"TREAT", "ETREAT", "COC", "BTG"} and policy.citizen_purposes == {"13"}
    assert load_policy() is policy  # loaded once


@pytest.mark.parametrize("change, problem", [
    (lambda text: text.replace('mode = "trusted"', 'mode = "sometimes"'), "mode must be one of trusted, deny"),
    (lambda text: text.replace("required = true", ""), "[patient] misses key 'required'"),
    (lambda text: text.replace("required = true", "required = true\nrequird = false"), "unknown key 'requird'"),
    (lambda text: text.replace("required = true", 'required = "yes"'), "required must be a bool"),
    (lambda text: text.replace('channels = ["xca_responding"]', 'channels = ["xca"]'), "channel 'xca'"),
    (lambda text: text.replace("years = 5", "years = 0"), "years must be at least 1"),
    (lambda text: text + "\n[extra]\n", "unknown section [extra]"),
])
def test_a_policy_file_with_a_wrong_key_or_value_is_refused_naming_it(tmp_path, change, problem):
    path = tmp_path / "policy.toml"
    path.write_text(change(DEFAULT_POLICY_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert problem in str(refused.value) and str(path) in str(refused.value)


# --- without an assertion ---------------------------------------------------------------------

def test_no_assertion_on_a_trusted_node_sees_everything_and_is_not_judged():
    visible, decision = shown(None, document("2.25.1", codes=("NORS",)), document("2.25.2", patient=OTHER_PATIENT))
    assert visible == ["2.25.1", "2.25.2"] and decision.allowed and decision.hidden == 0
    enforcement = PolicyEnforcement(pdp(), channel="registry")
    assert not enforcement.judges({})


def test_no_assertion_is_refused_when_the_policy_says_deny():
    visible, decision = shown(None, document(), no_assertion="deny")
    assert visible == [] and decision.denied and decision.rule == "no-assertion"
    assert PolicyEnforcement(pdp(no_assertion="deny"), channel="registry").judges({})


# --- request rules ------------------------------------------------------------------------------

@pytest.mark.parametrize("purpose", ["TREAT", "ETREAT", "COC", "BTG"])
def test_health_personnel_may_state_each_clinical_purpose(purpose):
    assert shown(doctor(purpose=purpose), document())[0] == ["2.25.1"]


@pytest.mark.parametrize("purpose", ["13", "PAYMENT", None])
def test_health_personnel_with_another_purpose_or_none_are_refused(purpose):
    visible, decision = shown(doctor(purpose=purpose), document())
    assert visible == [] and decision.denied and decision.rule == "purpose-of-use"
    assert f"purpose of use {purpose or '(none)'} is not allowed for personnel" in decision.reason


def test_a_citizen_states_purpose_13_and_nothing_else():
    assert shown(citizen(), document())[0] == ["2.25.1"]
    visible, decision = shown(citizen(purpose="TREAT"), document())
    assert visible == [] and decision.rule == "purpose-of-use" and "for citizen" in decision.reason


def test_an_assertion_without_hpr_number_is_a_citizen():
    assertion = read_assertion(xua_support.build_assertion(_spec_without(xua_support.n.NPI[0])))
    assert from_assertion(assertion).kind is SubjectKind.CITIZEN


@pytest.mark.parametrize("role, system, allowed", [
    ("LE", "2.16.578.1.12.4.1.1.9060", True),
    ("SP", "", True),
    ("XX", "2.16.578.1.12.4.1.1.9060", True),  # every code of 9060 by default ("*")
    ("ZZ", "2.16.578.1.12.4.1.1.9060", False),
    ("LE", "2.16.840.1.113883.6.96", False),
    (None, None, False),
])
def test_health_personnel_need_a_role_of_volven_9060(role, system, allowed):
    visible, decision = shown(doctor(role=role, role_system=system), document())
    assert decision.allowed is allowed and (allowed or decision.rule == "role")


def test_a_narrowed_role_list_refuses_the_others():
    assert shown(doctor(role="LE"), document(), personnel_roles=frozenset({"LE", "SP"}))[1].allowed
    visible, decision = shown(doctor(role="HE"), document(), personnel_roles=frozenset({"LE", "SP"}))
    assert decision.denied and decision.rule == "role" and decision.reason == "role HE may not access documents here"


def test_citizens_have_no_role_rule():
    assert shown(citizen(role=None), document())[1].allowed


def test_the_assertion_must_name_the_patient_unless_the_policy_says_otherwise():
    visible, decision = shown(doctor(patient_id=None), document())
    assert decision.denied and decision.rule == "patient-required"
    assert shown(doctor(patient_id=None), document(), patient_required=False)[0] == ["2.25.1"]


def test_a_query_for_another_patient_than_the_assertions_is_refused():
    visible, decision = pdp().decide_query(doctor(), [OTHER_PATIENT], [document()])
    assert visible == [] and decision.denied and decision.rule == "patient-match"
    spelled_otherwise = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO^^^^"
    assert pdp().decide_query(doctor(), [spelled_otherwise], [document()])[1].allowed


# --- document rules -----------------------------------------------------------------------------

def test_a_document_of_another_patient_is_hidden():
    visible, decision = shown(doctor(), document("2.25.1"), document("2.25.2", patient=OTHER_PATIENT))
    assert visible == ["2.25.1"] and decision.allowed and decision.hidden == 1
    assert decision.hidden_by_rule == (("patient-match", 1),) and decision.hidden_documents == ("2.25.2",)


def test_health_personnel_do_not_see_nors():
    visible, decision = shown(doctor(), document("2.25.1"), document("2.25.2", codes=("NORS",)))
    assert visible == ["2.25.1"] and decision.rule == "confidentiality" and not decision.override


@pytest.mark.parametrize("changes, lifted_by", [
    ({"purpose": "ETREAT"}, "purpose of use ETREAT"),
    ({"purpose": "BTG"}, "purpose of use BTG"),
    ({"acp": (ACP + "5",)}, "access consent policy " + ACP + "5"),
    ({"acp": (ACP + "7",)}, "access consent policy " + ACP + "7"),
])
def test_nors_is_shown_by_emergency_or_consent_and_marked_override(changes, lifted_by):
    visible, decision = shown(doctor(**changes), document("2.25.2", codes=("NORS",)))
    assert visible == ["2.25.2"] and decision.override and decision.overridden_documents == ("2.25.2",)
    assert decision.override_reason == f"confidentiality lifted by {lifted_by}"


def test_consent_of_another_kind_does_not_show_nors():
    assert shown(doctor(acp=(ACP + "8",)), document(codes=("NORS",)))[0] == []


@pytest.mark.parametrize("code", ["NORU", "NORN_FFL", "NORN_UNGDOM", "V"])
def test_citizens_do_not_see_postponed_refused_or_very_restricted_documents(code):
    visible, decision = shown(citizen(), document("2.25.1"), document("2.25.2", codes=(code,)))
    assert visible == ["2.25.1"] and decision.hidden_by_rule == (("confidentiality", 1),)


def test_citizens_see_their_own_nors_documents_and_cannot_override():
    assert shown(citizen(), document(codes=("NORS",)))[0] == ["2.25.1"]
    assert shown(citizen(acp=(ACP + "7",)), document(codes=("NORU",)))[0] == []


def test_health_personnel_see_noru_and_norn():
    assert shown(doctor(), document(codes=("NORU",)), document("2.25.2", codes=("NORN_ALL",)))[0] == ["2.25.1",
                                                                                                      "2.25.2"]


# --- time windows (kjernejournalforskriften) ---------------------------------------------------

WINDOWS_ON = {"time_windows_enabled": True}


def test_time_windows_are_off_by_default():
    old = document(class_code="I00-1", type_code="I01-2", created="20200101")
    assert shown(doctor(), old, channel="xca_responding")[0] == ["2.25.1"]


@pytest.mark.parametrize("class_code, type_code, created, visible", [
    ("I00-1", "I01-2", "20251122", True),    # henvisning within 1 year
    ("I00-1", "I01-2", "20251120", False),   # henvisning older than 1 year
    ("I00-1", "I02-2", "20000101", True),    # brev: no window
    ("C00-1", "C01-2", "20251120", False),   # prøvesvar: 1 year
    ("E00-1", "E01-2", "20211122", True),    # radiologi within 5 years
    ("E00-1", "E02-2", "20211120", False),   # radiologi older than 5 years
    ("A00-1", "A03-2", "19900101", True),    # epikrise: no limit
    ("C00-1", "C01-2", None, True),          # no creationTime: not judged
])
def test_time_windows_hide_old_documents_of_their_kind(class_code, type_code, created, visible):
    result, decision = shown(doctor(), document(class_code=class_code, type_code=type_code, created=created),
                             channel="xca_responding", **WINDOWS_ON)
    assert (result == ["2.25.1"]) is visible
    assert visible or decision.hidden_by_rule == (("time-window", 1),)


def test_time_windows_apply_only_to_their_channels_and_are_not_lifted_by_btg():
    old = document(class_code="C00-1", created="20200101")
    assert shown(doctor(), old, channel="registry", **WINDOWS_ON)[0] == ["2.25.1"]
    assert shown(doctor(purpose="BTG"), old, channel="xca_responding", **WINDOWS_ON)[0] == []


# --- patient blocks (sperring) ------------------------------------------------------------------

def block(**values) -> Block:
    return new_block({"patient": PATIENT, **values})


def test_a_block_for_a_named_professional_hides_from_that_one_only():
    blocks = [block(hpr_number=HPR)]
    visible, decision = shown(doctor(), document(), blocks=blocks)
    assert visible == [] and decision.allowed and decision.rule == "patient-block" and decision.hidden == 1
    assert shown(doctor(hpr_number=OTHER_HPR), document(), blocks=blocks)[0] == ["2.25.1"]


def test_a_block_for_an_organisation_hides_from_its_legal_entity_and_point_of_care():
    assert shown(doctor(), document(), blocks=[block(organisation=ORGNR)])[0] == []
    assert shown(doctor(), document(), blocks=[block(organisation="974557746")])[0] == []
    assert shown(doctor(organisation="999999999", point_of_care=None), document(),
                 blocks=[block(organisation=ORGNR)])[0] == ["2.25.1"]


def test_a_block_of_an_author_organisation_hides_what_it_wrote_from_all_personnel():
    blocks = [block(author_organisation=AUTHOR_ORGNR)]
    visible, _ = shown(doctor(), document("2.25.1"), document("2.25.2", authors=("974795787",)), blocks=blocks)
    assert visible == ["2.25.2"]
    assert shown(doctor(hpr_number=OTHER_HPR), document("2.25.1"), blocks=blocks)[0] == []


def test_a_document_block_hides_that_document_only():
    visible, _ = shown(doctor(), document("2.25.1"), document("2.25.2"), blocks=[block(document_unique_id="2.25.2")])
    assert visible == ["2.25.1"]


def test_a_block_combining_what_and_whom_needs_both():
    blocks = [block(document_unique_id="2.25.2", hpr_number=HPR)]
    assert shown(doctor(), document("2.25.1"), document("2.25.2"), blocks=blocks)[0] == ["2.25.1"]
    assert shown(doctor(hpr_number=OTHER_HPR), document("2.25.2"), blocks=blocks)[0] == ["2.25.2"]


def test_blocks_of_another_patient_and_blocks_for_citizens_do_not_apply():
    other = new_block({"patient": OTHER_PATIENT, "hpr_number": HPR})
    assert shown(doctor(), document(), blocks=[other])[0] == ["2.25.1"]
    assert shown(citizen(), document(), blocks=[block(hpr_number=HPR)])[0] == ["2.25.1"]


@pytest.mark.parametrize("changes", [{"purpose": "BTG"}, {"acp": (ACP + "7",)}])
def test_the_emergency_override_lifts_blocks_and_says_so(changes):
    visible, decision = shown(doctor(**changes), document(), blocks=[block(hpr_number=HPR)])
    assert visible == ["2.25.1"] and decision.allowed and decision.override
    assert decision.overridden_documents == ("2.25.1",) and "patient-block lifted by" in decision.override_reason


@pytest.mark.parametrize("changes", [{"purpose": "ETREAT"}, {"acp": (ACP + "5",)}])
def test_etreat_and_consent_do_not_lift_blocks(changes):
    assert shown(doctor(**changes), document(), blocks=[block(hpr_number=HPR)])[0] == []


@pytest.mark.parametrize("values, problem", [
    ({}, "a block names a document_unique_id"),
    ({"hpr_number": HPR, "organisation": ORGNR}, "either hpr_number or organisation"),
    ({"document_unique_id": "2.25.1", "author_organisation": AUTHOR_ORGNR}, "either document_unique_id"),
    ({"organisation": "12345"}, "nine-digit organisation number"),
    ({"hpr_number": "Dr X"}, "hpr_number must be digits"),
    ({"patient": "13116900216", "hpr_number": HPR}, "not an XDS patient id"),
    ({"hpr_number": HPR, "colour": "red"}, "unknown field 'colour'"),
])
def test_a_block_that_names_nothing_or_too_much_is_refused(values, problem):
    with pytest.raises(BlockError, match=problem):
        new_block({"patient": PATIENT, **values})


# --- retrieve -------------------------------------------------------------------------------------

def test_decide_retrieve_allows_and_denies_one_document():
    assert pdp().decide_retrieve(doctor(), document()).allowed
    denied = pdp().decide_retrieve(doctor(), document(codes=("NORS",)))
    assert denied.denied and denied.rule == "confidentiality" and denied.transaction == "retrieve"
    overridden = pdp().decide_retrieve(doctor(purpose="BTG"), document(), blocks=[block(hpr_number=HPR)])
    assert overridden.allowed and overridden.override


def test_a_retrieve_without_metadata_for_a_document_is_not_allowed():
    allowed, decision = pdp().decide_retrieve_set(doctor(), ["2.25.1", "2.25.9"], {"2.25.1": document()})
    assert allowed == {"2.25.1"} and decision.hidden_by_rule == (("unknown-document", 1),)


def test_a_refused_retrieve_is_denied_whole():
    allowed, decision = pdp().decide_retrieve_set(doctor(purpose="PAYMENT"), ["2.25.1"], {"2.25.1": document()})
    assert allowed == frozenset() and decision.denied and decision.rule == "purpose-of-use"


# --- the subject from a real XUA assertion; facts from a Norwegian DocumentEntry ---------------

def _spec_without(attribute: str) -> xua_support.AssertionSpec:
    spec = xua_support.AssertionSpec()
    del spec.attributes[attribute]
    return spec


def test_the_subject_is_read_from_the_xua_assertion():
    subject = from_assertion(read_assertion(xua_support.build_assertion()))
    assert subject == Subject(
        kind=SubjectKind.PERSONNEL, user_name="Kari Nordmann", hpr_number="565505933", role="LE",
        role_system="2.16.578.1.12.4.1.1.9060", organisation="983658725", point_of_care="974557746",
        department="4208723", purpose="TREAT", patient_id=xua_support.PATIENT, home_community_id=xua_support.HOME,
        acp=(xua_support.ACP_EXPLICIT,))


def test_document_facts_take_the_orgnr_of_the_author_institution_and_the_codes():
    entry = ns.submission().document_entries[0]
    facts = DocumentFacts.of(entry)
    assert facts.author_organisations == {"983974880"}  # the RESH department is no orgnr
    assert (facts.class_code, facts.type_code, facts.confidentiality_codes) == ("A00-1", "A03-2", ("N",))
    assert facts.patient_id == ns.PATIENT_ID and facts.entry_uuid == samples.DOCUMENT_1


# --- enforcement: the actors' verdict and the decision for the audit -------------------------

class _Assertion:
    """Stands in for xdsno.xua.Assertion with the properties the policy reads."""

    def __init__(self, subject: Subject):
        self._subject = subject

    def __getattr__(self, name):
        from xdsno.xua.assertion import CodedValue

        s = self._subject
        return {"hpr_number": s.hpr_number, "user_name": s.user_name, "organization_id": s.organisation,
                "point_of_care": s.point_of_care, "department": s.department, "patient_id": s.patient_id,
                "home_community_id": s.home_community_id, "acp": s.acp,
                "role": CodedValue(s.role, s.role_system or "") if s.role else None,
                "purpose_of_use": CodedValue(s.purpose) if s.purpose else None}[name]


def test_enforcement_answers_the_visible_entries_and_leaves_the_decision_for_the_audit():
    entries = [e.with_changes(confidentiality_codes=(ns.volven("9603", "NORS", "Sperret"),)) if i else e
               for i, e in enumerate(ns.submission().document_entries)]
    entries = [e.with_changes(patient_id=PATIENT) for e in entries]
    environ = {"xdsno.xua": _Assertion(doctor()), "xdsno.audit": {}}
    enforcement = PolicyEnforcement(pdp(hidden_count_slot="urn:no:xdsno:policy:HiddenDocumentCount"),
                                    channel="registry")
    assert enforcement.judges(environ)
    verdict = enforcement.visible(environ, entries, [PATIENT])
    assert verdict.allowed == {entries[0].id} and verdict.refusal is None
    assert [(s.name, s.values) for s in verdict.response_slots] == [("urn:no:xdsno:policy:HiddenDocumentCount",
                                                                     ("1",))]
    decision = environ["xdsno.audit"]["decision"]
    assert decision.hidden == 1 and environ["xdsno.policy.decisions"] == [decision]
    assert decision.as_dict()["denied"] is False and decision.as_dict()["hidden_by_rule"] == {"confidentiality": 1}


def test_enforcement_refuses_with_the_reason_and_asks_no_registry_for_a_refused_retrieve():
    asked = []
    enforcement = PolicyEnforcement(pdp(), channel="repository", documents=lambda uids: asked.append(uids) or {})
    environ = {"xdsno.xua": _Assertion(doctor(purpose="PAYMENT"))}
    verdict = enforcement.retrievable(environ, ["2.25.1"])
    assert verdict.refusal.startswith("purpose of use PAYMENT is not allowed") and asked == []
    assert environ["xdsno.policy.decisions"][0].denied


# --- the deployment's policy file -------------------------------------------------------------

def test_policy_file_setting_chooses_the_policy_and_a_bad_one_stops_the_node(tmp_path):
    from xdsno.policy_node import decision_point
    from xdsno.settings import SettingsError, load_settings

    strict = tmp_path / "strict.toml"
    strict.write_text(DEFAULT_POLICY_FILE.read_text(encoding="utf-8").replace('mode = "trusted"', 'mode = "deny"'),
                      encoding="utf-8")
    chosen = decision_point(load_settings(environ={}, overrides={"data_dir": tmp_path, "policy_file": str(strict)}))
    assert chosen.policy.no_assertion == "deny" and chosen.policy.file == str(strict) and "LE" in chosen.role_codes
    with pytest.raises(SettingsError, match="policy_file: policy file .* does not exist"):
        decision_point(load_settings(environ={}, overrides={"data_dir": tmp_path, "policy_file": str(tmp_path / "x")}))
