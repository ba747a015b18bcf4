"""`Assertion`: what a verified XUA assertion says, read from the Norwegian attributes
(NHN "PJD – XUA – SAML-spesifikasjon"; IHE ITI TF-2 3.40.4.1.2; PROFILE.md §6).

`read_assertion` reads ONLY the element the signature verified. Each attribute is looked up
under its current name and under its pre-2024 names (xdsno.xua.names); values under both are
kept, current name first. Coded attributes (role, purpose of use) carry an HL7 v3 CE element
(`<Role code= codeSystem= displayName=/>`) in their AttributeValue; a plain text value is read
as the code alone.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from lxml import etree

from . import names
from .conditions import parse_time

_S = f"{{{names.SAML}}}"


@dataclass(frozen=True)
class CodedValue:
    """An HL7 v3 CE: code, codeSystem (OID), displayName, codeSystemName."""

    code: str
    code_system: str = ""
    display: str = ""
    code_system_name: str = ""


AttributeValue = str | CodedValue


@dataclass(frozen=True, eq=False)
class Assertion:
    """A verified XUA identity assertion. `element` and `security_header` are the blocks as
    received — with their signature — for forwarding only (ITI-38/39 onward); never read them."""

    id: str
    issuer: str
    subject: str
    issue_instant: datetime
    not_on_or_after: datetime
    not_before: datetime | None = None
    audiences: tuple[str, ...] = ()
    #: every attribute under its current name → its values (current name's values first)
    attributes: Mapping[str, tuple[AttributeValue, ...]] = field(default_factory=dict)
    element: etree._Element | None = None
    security_header: etree._Element | None = None

    def values(self, attribute: tuple[str, ...] | str) -> tuple[AttributeValue, ...]:
        """All values of an attribute (a names.* tuple, or any current or pre-2024 name)."""
        name = attribute[0] if isinstance(attribute, tuple) else names.CURRENT_NAME.get(attribute, attribute)
        return self.attributes.get(name, ())

    def text(self, attribute: tuple[str, ...] | str) -> str | None:
        """The first value of an attribute as text (a coded value gives its code)."""
        for value in self.values(attribute):
            text = value.code if isinstance(value, CodedValue) else value
            if text:
                return text
        return None

    def coded(self, attribute: tuple[str, ...] | str) -> CodedValue | None:
        for value in self.values(attribute):
            return value if isinstance(value, CodedValue) else CodedValue(value)
        return None

    # --- the Norwegian attributes (PROFILE.md §6)
    @property
    def user_name(self) -> str | None:
        """subject-id: the user's name as the issuer states it."""
        return self.text(names.SUBJECT_ID)

    @property
    def hpr_number(self) -> str | None:
        """npi: the user's HPR number (Helsepersonellregisteret)."""
        return self.text(names.NPI)

    @property
    def role(self) -> CodedValue | None:
        """role: CE from code system 9060 (LE lege, SP sykepleier, …)."""
        return self.coded(names.ROLE)

    @property
    def organization(self) -> str | None:
        """The legal entity's name."""
        return self.text(names.ORGANIZATION)

    @property
    def organization_id(self) -> str | None:
        """The legal entity's organisation number (orgnr, 2.16.578.1.12.4.1.4.101)."""
        return self.text(names.ORGANIZATION_ID)

    @property
    def point_of_care(self) -> str | None:
        """child-organization: the point of care (an orgnr under the legal entity)."""
        return self.text(names.CHILD_ORGANIZATION)

    @property
    def point_of_care_name(self) -> str | None:
        return self.text(names.CHILD_ORGANIZATION_NAME)

    @property
    def department(self) -> str | None:
        """facility: the department (RESH id)."""
        return self.text(names.FACILITY)

    @property
    def department_name(self) -> str | None:
        return self.text(names.FACILITY_NAME)

    @property
    def purpose_of_use(self) -> CodedValue | None:
        """TREAT, ETREAT, COC, BTG (2.16.840.1.113883.1.11.20448); citizens: ISO 14265 code 13."""
        return self.coded(names.PURPOSE_OF_USE)

    @property
    def patient_id(self) -> str | None:
        """resource-id: the patient, as an HL7v2 CX (`id^^^&OID&ISO`)."""
        return self.text(names.RESOURCE_ID)

    @property
    def home_community_id(self) -> str | None:
        return self.text(names.HOME_COMMUNITY_ID)

    @property
    def acp(self) -> tuple[str, ...]:
        """Access consent policies (`urn:oid:2.16.578.1.12.4.1.7.2.1.N`), in the order given."""
        return tuple(v for v in self.values(names.ACP) if isinstance(v, str))


def read_assertion(signed: etree._Element, *, element: etree._Element | None = None,
                   security_header: etree._Element | None = None) -> Assertion:
    """The Assertion of a verified, checked `signed` element (xdsno.xua.verify)."""
    conditions = signed.find(_S + "Conditions")
    return Assertion(
        id=signed.get("ID"),
        issuer=(signed.findtext(_S + "Issuer") or "").strip(),
        subject=(signed.findtext(f"{_S}Subject/{_S}NameID") or "").strip(),
        issue_instant=parse_time(signed.get("IssueInstant"), "IssueInstant"),
        not_before=parse_time(conditions.get("NotBefore"), "NotBefore"),
        not_on_or_after=parse_time(conditions.get("NotOnOrAfter"), "NotOnOrAfter"),
        audiences=tuple((a.text or "").strip() for a in conditions.iterfind(f"{_S}AudienceRestriction/{_S}Audience")),
        attributes=read_attributes(signed),
        element=element,
        security_header=security_header,
    )


def read_attributes(signed: etree._Element) -> Mapping[str, tuple[AttributeValue, ...]]:
    """Attribute name (current) → values, from every AttributeStatement of the assertion."""
    current: dict[str, list[AttributeValue]] = {}
    former: dict[str, list[AttributeValue]] = {}
    for attribute in signed.iterfind(f"{_S}AttributeStatement/{_S}Attribute"):
        name = (attribute.get("Name") or "").strip()
        canonical = names.CURRENT_NAME.get(name, name)
        target = current if canonical == name else former
        target.setdefault(canonical, []).extend(_value(v) for v in attribute.iterfind(_S + "AttributeValue"))
    merged = {name: tuple(current.get(name, []) + former.get(name, [])) for name in dict.fromkeys([*current, *former])}
    return MappingProxyType(merged)


def _value(value: etree._Element) -> AttributeValue:
    for child in value:
        if isinstance(child.tag, str) and child.get("code") is not None:
            return CodedValue(child.get("code", "").strip(), child.get("codeSystem", "").strip(),
                              child.get("displayName", "").strip(), child.get("codeSystemName", "").strip())
    return "".join(value.itertext()).strip()
