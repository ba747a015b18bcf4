"""xdsno.xua.verify_assertion: the X-Service Provider's checks of an ITI-40 assertion (unit).

Assertions are built and signed here (tests/xdsno/xua_support.py) with a test CA's issuer key;
the clock is fixed at NOW. Each test changes one thing and asserts the WS-Security fault
subcode and the reason.
"""
from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from lxml import etree

from soap import wsse
from xdsno.xua import CodedValue, XuaConfig, XuaError, verify_assertion
from xdsno.xua import names as n

from .xua_support import (
    ACP_EXPLICIT,
    AUDIENCE,
    HOME,
    ISSUER,
    NOW,
    OTHER_ISSUER,
    PATIENT,
    AssertionSpec,
    attacker_keys,
    build_assertion,
    config,
    issuer_keys,
    security_header,
    sign,
    signed_assertion,
)

S = f"{{{n.SAML}}}"
DS = f"{{{n.DS}}}"


def refused(header_or_assertion, cfg: XuaConfig | None = None) -> XuaError:
    with pytest.raises(XuaError) as caught:
        verify_assertion(header_or_assertion, cfg or config())
    return caught.value


def attribute_value(assertion: etree._Element, name: str) -> etree._Element:
    return assertion.find(f"{S}AttributeStatement/{S}Attribute[@Name='{name}']/{S}AttributeValue")


# --- valid assertions and their attributes ------------------------------------------------


def test_valid_assertion_is_accepted_and_its_attributes_read():
    assertion = verify_assertion(security_header(signed_assertion()), config())
    assert (assertion.issuer, assertion.subject, assertion.audiences) == (ISSUER, "Kari Nordmann", (AUDIENCE,))
    assert assertion.not_on_or_after == NOW - timedelta(minutes=1) + timedelta(hours=1)
    assert assertion.user_name == "Kari Nordmann"
    assert assertion.hpr_number == "565505933"
    assert assertion.role == CodedValue("LE", n.ROLE_CODE_SYSTEM, "Lege")
    assert (assertion.organization, assertion.organization_id) == ("Helse Vest RHF", "983658725")
    assert (assertion.point_of_care, assertion.point_of_care_name) == ("974557746", "Haukeland universitetssjukehus")
    assert (assertion.department, assertion.department_name) == ("4208723", "Medisinsk avdeling")
    assert assertion.purpose_of_use == CodedValue("TREAT", n.PURPOSE_OF_USE_CODE_SYSTEM, "Treatment")
    assert assertion.patient_id == PATIENT
    assert assertion.home_community_id == HOME
    assert assertion.acp == (ACP_EXPLICIT,)


def test_pre_2024_attribute_names_are_read_as_the_current_ones():
    current = verify_assertion(security_header(signed_assertion()), config())
    former = verify_assertion(security_header(signed_assertion(AssertionSpec(pre_2024_names=True))), config())
    assert former.attributes[n.SUBJECT_ID[0]] == ("Kari Nordmann",)
    for field in ("user_name", "hpr_number", "role", "purpose_of_use", "patient_id", "organization_id", "acp"):
        assert getattr(former, field) == getattr(current, field), field
    assert former.values("urn:oasis:names:tc:xspa:1.0:subject:purposeOfUse") == (current.purpose_of_use,)


def test_both_names_in_one_assertion_give_the_current_name_first():
    spec = AssertionSpec()
    spec.attributes["urn:oasis:names:tc:xspa:1.0:subject:subject-id"] = ["Old Name"]
    assertion = verify_assertion(security_header(signed_assertion(spec)), config())
    assert assertion.values(n.SUBJECT_ID) == ("Kari Nordmann", "Old Name")
    assert assertion.user_name == "Kari Nordmann"


def test_plain_text_purpose_of_use_is_read_as_a_code():
    spec = AssertionSpec()
    spec.attributes[n.PURPOSE_OF_USE[0]] = ["ETREAT"]
    assert verify_assertion(security_header(signed_assertion(spec)), config()).purpose_of_use == CodedValue("ETREAT")


def test_bare_assertion_element_is_accepted_too():
    assertion = verify_assertion(signed_assertion(), config())
    assert assertion.security_header is None and assertion.element is not None


def test_the_raw_elements_for_forwarding_are_the_received_ones_with_their_signature():
    header = security_header(signed_assertion())
    assertion = verify_assertion(header, config())
    assert assertion.security_header is header
    assert assertion.element is header[0] and assertion.element.find(DS + "Signature") is not None


def test_a_second_key_of_the_issuer_verifies_during_a_rollover():
    cfg = config()
    rolled = XuaConfig({ISSUER: (attacker_keys().cert, issuer_keys().cert)}, now=cfg.now)
    assert verify_assertion(security_header(signed_assertion()), rolled).issuer == ISSUER


# --- validity period and clock skew -------------------------------------------------------


def test_expired_assertion_is_refused():
    error = refused(security_header(signed_assertion()), config(now=NOW + timedelta(hours=1, minutes=5)))
    assert error.subcode == wsse.INVALID_SECURITY_TOKEN and "has expired" in error.reason


def test_expired_within_the_clock_skew_is_accepted():
    cfg = config(now=NOW + timedelta(hours=1, minutes=3))  # NotOnOrAfter was NOW + 59 min
    assert verify_assertion(security_header(signed_assertion()), cfg).subject == "Kari Nordmann"


def test_not_yet_valid_beyond_the_skew_is_refused():
    spec = AssertionSpec(issued=NOW + timedelta(minutes=6))
    error = refused(security_header(signed_assertion(spec)))
    assert error.subcode == wsse.INVALID_SECURITY_TOKEN
    assert "issued in the future" in error.reason or "not yet valid" in error.reason


def test_not_yet_valid_within_the_skew_is_accepted():
    spec = AssertionSpec(issued=NOW + timedelta(minutes=4))
    assert verify_assertion(security_header(signed_assertion(spec)), config()).subject == "Kari Nordmann"


def test_not_before_beyond_the_skew_is_refused_even_when_issued_earlier():
    assertion = build_assertion()
    assertion.find(S + "Conditions").set("NotBefore", "2025-03-04T10:10:00Z")
    error = refused(security_header(sign(assertion)))
    assert error.subcode == wsse.INVALID_SECURITY_TOKEN
    assert "not yet valid: NotBefore 2025-03-04T10:10:00Z" in error.reason


def test_zero_skew_is_exact():
    cfg = config(now=NOW + timedelta(minutes=59), skew=timedelta(0))
    assert refused(security_header(signed_assertion()), cfg).subcode == wsse.INVALID_SECURITY_TOKEN


def test_expired_bearer_confirmation_is_refused():
    assertion = build_assertion()
    assertion.find(f"{S}Subject/{S}SubjectConfirmation/{S}SubjectConfirmationData").set(
        "NotOnOrAfter", "2025-03-04T09:50:00Z")
    error = refused(security_header(sign(assertion)))
    assert error.subcode == wsse.INVALID_SECURITY_TOKEN and "SubjectConfirmationData has expired" in error.reason


def test_assertion_without_a_validity_period_is_refused():
    assertion = build_assertion()
    del assertion.find(S + "Conditions").attrib["NotOnOrAfter"]
    error = refused(security_header(sign(assertion)))
    assert error.subcode == wsse.INVALID_SECURITY_TOKEN and "no NotOnOrAfter" in error.reason


# --- audience, issuer, keys ---------------------------------------------------------------


def test_wrong_audience_is_refused():
    error = refused(security_header(signed_assertion(AssertionSpec(audiences=("https://other.example/sp",)))))
    assert error.subcode == wsse.FAILED_AUTHENTICATION
    assert "audience https://other.example/sp, not for nhn:dokumentdeling-saml" in error.reason


def test_one_accepted_audience_among_several_is_enough():
    spec = AssertionSpec(audiences=("https://other.example/sp", AUDIENCE))
    assert verify_assertion(security_header(signed_assertion(spec)), config()).audiences[1] == AUDIENCE


def test_a_second_audience_restriction_without_ours_is_refused():
    assertion = build_assertion()
    restriction = etree.SubElement(assertion.find(S + "Conditions"), S + "AudienceRestriction")
    etree.SubElement(restriction, S + "Audience").text = "https://other.example/sp"
    assert refused(security_header(sign(assertion))).subcode == wsse.FAILED_AUTHENTICATION


def test_unknown_issuer_is_refused():
    error = refused(security_header(signed_assertion(AssertionSpec(issuer="https://idp.example/evil"))))
    assert error.subcode == wsse.FAILED_AUTHENTICATION
    assert "issuer 'https://idp.example/evil' is not trusted" in error.reason


def test_issuer_claimed_but_signed_with_another_trusted_issuers_key_is_refused():
    # Signed by Helsenorge's key while claiming to be HelseID: the key must be the claimed issuer's.
    error = refused(security_header(signed_assertion(keys=issuer_keys("Helsenorge test signing"))))
    assert error.subcode == wsse.FAILED_AUTHENTICATION
    assert "does not verify with the issuer's certificate" in error.reason


def test_other_trusted_issuer_with_its_own_key_is_accepted():
    spec = AssertionSpec(issuer=OTHER_ISSUER)
    assertion = verify_assertion(security_header(signed_assertion(spec, issuer_keys("Helsenorge test signing"))),
                                 config())
    assert assertion.issuer == OTHER_ISSUER


def test_signed_by_an_untrusted_key_is_refused():
    # Same subject name as the issuer's certificate and that certificate in KeyInfo: only the
    # configured certificate counts.
    error = refused(security_header(signed_assertion(keys=attacker_keys())))
    assert error.subcode == wsse.FAILED_AUTHENTICATION and "not signed by the key of" in error.reason


# --- integrity ----------------------------------------------------------------------------


def test_missing_signature_is_refused():
    assertion = build_assertion()
    assertion.remove(assertion.find(DS + "Signature"))
    error = refused(security_header(assertion))
    assert error.subcode == wsse.FAILED_AUTHENTICATION and "not signed" in error.reason


def test_attribute_tampered_after_signing_is_refused():
    assertion = signed_assertion()
    attribute_value(assertion, n.PURPOSE_OF_USE[0])[0].set("code", "BTG")
    error = refused(security_header(assertion))
    assert error.subcode == wsse.FAILED_CHECK and "altered after it was signed" in error.reason


def test_audience_tampered_after_signing_is_refused():
    assertion = signed_assertion(AssertionSpec(audiences=("https://other.example/sp",)))
    assertion.find(f"{S}Conditions/{S}AudienceRestriction/{S}Audience").text = AUDIENCE
    assert refused(security_header(assertion)).subcode == wsse.FAILED_CHECK


def test_validity_extended_after_signing_is_refused():
    assertion = signed_assertion()
    assertion.find(S + "Conditions").set("NotOnOrAfter", "2035-01-01T00:00:00Z")
    assert refused(security_header(assertion), config(now=NOW + timedelta(hours=3))).subcode == wsse.FAILED_CHECK


def test_inclusive_c14n_is_an_unsupported_algorithm():
    signed = sign(build_assertion(), c14n="http://www.w3.org/2006/12/xml-c14n11")
    error = refused(security_header(signed))
    assert error.subcode == wsse.UNSUPPORTED_ALGORITHM and "exclusive c14n" in error.reason


def test_rsa_sha1_is_an_unsupported_algorithm():
    assertion = signed_assertion()
    assertion.find(f"{DS}Signature/{DS}SignedInfo/{DS}SignatureMethod").set(
        "Algorithm", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    assert refused(security_header(assertion)).subcode == wsse.UNSUPPORTED_ALGORITHM


# --- signature wrapping ---------------------------------------------------------------------


def evil_assertion(original: etree._Element, *, assertion_id: str | None = None) -> etree._Element:
    """A copy of `original` without signature, claiming BTG for another patient."""
    evil = copy.deepcopy(original)
    evil.remove(evil.find(DS + "Signature"))
    attribute_value(evil, n.PURPOSE_OF_USE[0])[0].set("code", "BTG")
    attribute_value(evil, n.RESOURCE_ID[0]).text = "01010112345^^^&2.16.578.1.12.4.1.4.1&ISO"
    if assertion_id:
        evil.set("ID", assertion_id)
    return evil


def test_wrapping_signed_assertion_moved_into_a_wrapper_and_evil_one_in_its_place():
    signed = signed_assertion()
    header = security_header(evil_assertion(signed))
    wrapper = etree.SubElement(header, "{urn:attacker}Wrapper")
    wrapper.append(copy.deepcopy(signed))
    error = refused(header)
    assert error.subcode == wsse.FAILED_AUTHENTICATION and "not signed" in error.reason


def test_wrapping_signature_moved_into_the_evil_assertion_with_the_original_inside_duplicate_ids():
    signed = signed_assertion()
    evil = evil_assertion(signed)  # same ID
    evil.insert(1, copy.deepcopy(signed.find(DS + "Signature")))
    advice = etree.Element(S + "Advice")
    advice.append(copy.deepcopy(signed))
    evil.insert(3, advice)
    error = refused(security_header(evil))
    assert error.subcode == wsse.FAILED_CHECK and "Ambiguous reference" in error.reason


def test_wrapping_signature_referencing_a_nested_signed_assertion_is_refused():
    signed = signed_assertion()
    evil = evil_assertion(signed, assertion_id="_evil")
    signature = copy.deepcopy(signed.find(DS + "Signature"))  # its Reference URI is #<original ID>
    evil.insert(1, signature)
    nested = copy.deepcopy(signed)
    nested.remove(nested.find(DS + "Signature"))  # so the digest over the nested original matches
    advice = etree.Element(S + "Advice")
    advice.append(nested)
    evil.insert(3, advice)
    error = refused(security_header(evil))
    assert error.subcode == wsse.FAILED_CHECK and "does not cover the assertion it is in" in error.reason


def test_wrapping_evil_element_with_the_signed_id_elsewhere_in_the_assertion_is_refused():
    signed = signed_assertion()
    attribute_value(signed, n.ORGANIZATION[0]).set("ID", signed.get("ID"))
    error = refused(security_header(signed))
    assert error.subcode == wsse.FAILED_CHECK


def test_two_assertions_in_the_security_header_are_refused():
    signed = signed_assertion()
    error = refused(security_header(signed, evil_assertion(signed, assertion_id="_evil")))
    assert error.subcode == wsse.INVALID_SECURITY and "2 SAML assertions" in error.reason


def test_a_comment_splitting_a_value_does_not_cut_it():
    # Comments are outside exclusive c14n (no comments): the signed element has the value whole.
    assertion = signed_assertion()
    value = attribute_value(assertion, n.SUBJECT_ID[0])
    value.text = "Kari"
    value.append(etree.Comment("x"))
    value[-1].tail = " Nordmann"
    assert verify_assertion(security_header(assertion), config()).user_name == "Kari Nordmann"


# --- token shape ------------------------------------------------------------------------------


def test_security_header_without_an_assertion_is_refused():
    error = refused(security_header())
    assert error.subcode == wsse.INVALID_SECURITY and "no SAML 2.0 assertion" in error.reason


def test_holder_of_key_is_not_supported():
    spec = AssertionSpec(method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")
    error = refused(security_header(signed_assertion(spec)))
    assert error.subcode == wsse.UNSUPPORTED_SECURITY_TOKEN and "not a bearer assertion" in error.reason


def test_missing_name_id_is_refused():
    error = refused(security_header(signed_assertion(AssertionSpec(name_id=None))))
    assert error.subcode == wsse.INVALID_SECURITY_TOKEN and "NameID" in error.reason


def test_saml_1_assertion_is_not_supported():
    header = security_header()
    etree.SubElement(header, "{urn:oasis:names:tc:SAML:1.0:assertion}Assertion")
    assert refused(header).subcode == wsse.UNSUPPORTED_SECURITY_TOKEN


# --- OneTimeUse (SAML Core 2.5.1.5) ---------------------------------------------------------


def one_time(spec: AssertionSpec | None = None, *, marks: int = 1, keys=None) -> etree._Element:
    """A signed assertion whose Conditions carry saml:OneTimeUse (`marks` times)."""
    assertion = build_assertion(spec)
    for _ in range(marks):
        etree.SubElement(assertion.find(S + "Conditions"), S + "OneTimeUse")
    return security_header(sign(assertion, keys))


def test_a_one_time_assertion_is_accepted_once():
    header = one_time()
    assert verify_assertion(header, config()).subject == "Kari Nordmann"
    error = refused(header)
    assert error.subcode == wsse.INVALID_SECURITY_TOKEN
    assertion_id = header.find(S + "Assertion").get("ID")
    assert error.reason == (f"the assertion {assertion_id} of {ISSUER} is for one-time use (saml:OneTimeUse) "
                            "and was used before")


def test_an_assertion_without_one_time_use_may_be_used_again():
    header = security_header(signed_assertion())
    for _ in range(2):
        assert verify_assertion(header, config()).subject == "Kari Nordmann"


def test_two_one_time_use_conditions_are_refused():
    error = refused(one_time(marks=2))
    assert (error.subcode, error.reason) == (
        wsse.INVALID_SECURITY_TOKEN, "the assertion has 2 saml:OneTimeUse conditions; at most one is allowed")


def test_a_one_time_assertion_refused_for_another_reason_is_not_used_up():
    header = one_time(AssertionSpec(audiences=("https://other.example/sp",)))
    assert refused(header).subcode == wsse.FAILED_AUTHENTICATION
    other_audience = XuaConfig(config().trusted_issuers, audiences=frozenset({"https://other.example/sp"}),
                               now=config().now)
    assert verify_assertion(header, other_audience).subject == "Kari Nordmann"


def test_the_same_id_from_another_issuer_is_another_assertion():
    spec = AssertionSpec()
    assert verify_assertion(one_time(spec), config()).issuer == ISSUER
    other = one_time(AssertionSpec(issuer=OTHER_ISSUER, assertion_id=spec.assertion_id),
                     keys=issuer_keys("Helsenorge test signing"))
    assert verify_assertion(other, config()).issuer == OTHER_ISSUER


def test_one_time_assertions_are_forgotten_once_expired():
    from xdsno.xua.one_time_use import OneTimeUseCache

    cache = OneTimeUseCache()
    end = NOW + timedelta(hours=1)
    assert cache.first_use(ISSUER, "_a", end, NOW) and cache.first_use(ISSUER, "_b", end + timedelta(1), NOW)
    assert not cache.first_use(ISSUER, "_a", end, end - timedelta(seconds=1))
    assert len(cache) == 2
    assert cache.first_use(ISSUER, "_c", end, end) and len(cache) == 2  # _a gone at its end, _c in
