"""Names of the XUA assertion: SAML 2.0 namespaces and the Norwegian attribute names.

The attribute names follow NHN's "PJD – XUA – SAML-spesifikasjon" (PROFILE.md §6), itself an
application of IHE ITI TF-2 3.40.4.1.2 (ITI-40) and OASIS XSPA. The specification renamed
several attributes on 13 March 2024 (v2.0); issuers sent both sets during the transition, so
each attribute here lists its current name first and then the names it had before 2024.
"""
from __future__ import annotations

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

ASSERTION = f"{{{SAML}}}Assertion"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

#: The audience HelseID puts in health personnel assertions for document sharing.
HELSEID_AUDIENCE = "nhn:dokumentdeling-saml"

# attribute → (current name, pre-2024 names...)
SUBJECT_ID = ("urn:oasis:names:tc:xacml:1.0:subject:subject-id", "urn:oasis:names:tc:xspa:1.0:subject:subject-id")
NPI = ("urn:oasis:names:tc:xspa:1.0:subject:npi", "urn:oasis:names:tc:xspa:2.0:subject:npi")
PROVIDER_IDENTIFIER = ("urn:ihe:iti:xua:2017:subject:provider-identifier",)
ROLE = ("urn:oasis:names:tc:xacml:2.0:subject:role", "urn:oasis:names:tc:xspa:1.0:subject:role")
ORGANIZATION = ("urn:oasis:names:tc:xspa:1.0:subject:organization",)
ORGANIZATION_ID = ("urn:oasis:names:tc:xspa:1.0:subject:organization-id",)
CHILD_ORGANIZATION = ("urn:oasis:names:tc:xspa:1.0:subject:child-organization",)
CHILD_ORGANIZATION_NAME = ("urn:nhn:trust-framework:1.0:ext:subject:child-organization-name",)
FACILITY = ("urn:oasis:names:tc:xspa:1.0:subject:facility",)
FACILITY_NAME = ("urn:nhn:trust-framework:1.0:ext:subject:facility-name",)
PURPOSE_OF_USE = ("urn:oasis:names:tc:xacml:2.0:action:purpose", "urn:oasis:names:tc:xspa:1.0:subject:purposeOfUse")
RESOURCE_ID = ("urn:oasis:names:tc:xacml:1.0:resource:resource-id", "urn:oasis:names:tc:xacml:2.0:resource:resource-id")
HOME_COMMUNITY_ID = ("urn:ihe:iti:xca:2010:homeCommunityId",)
ACP = ("urn:ihe:iti:xua:2012:acp",)
BPPC_DOCID = ("urn:ihe:iti:bppc:2007:docid",)

ALL_ATTRIBUTES = (
    SUBJECT_ID, NPI, PROVIDER_IDENTIFIER, ROLE, ORGANIZATION, ORGANIZATION_ID, CHILD_ORGANIZATION,
    CHILD_ORGANIZATION_NAME, FACILITY, FACILITY_NAME, PURPOSE_OF_USE, RESOURCE_ID, HOME_COMMUNITY_ID,
    ACP, BPPC_DOCID,
)
#: Any known name (current or pre-2024) → the current one.
CURRENT_NAME = {name: names[0] for names in ALL_ATTRIBUTES for name in names}

#: Code systems of the coded attributes (PROFILE.md §6).
ROLE_CODE_SYSTEM = "2.16.578.1.12.4.1.1.9060"
PURPOSE_OF_USE_CODE_SYSTEM = "2.16.840.1.113883.1.11.20448"
#: Prefix of the Norwegian access consent policies (`urn:ihe:iti:xua:2012:acp` values) .0 … .8.
ACP_PREFIX = "urn:oid:2.16.578.1.12.4.1.7.2.1."
