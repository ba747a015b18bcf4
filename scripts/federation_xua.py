"""XUA (IHE ITI-40) in the federation on one machine: a development assertion issuer and the
settings that make every node require its assertions.

`make_federation_xua(folder)` makes a development CA and the signing certificate of the issuer
`federation-idp` in `folder` (xdsno.devcerts, as `xdsno certs issuer` does). Every node then
trusts that issuer (`xua_issuer_certs`) and requires an assertion on every SOAP endpoint
(`xua_required = "*"`); `FederationXUA.security_header(patient)` is a wsse:Security header with
a fresh assertion signed by it (xdsno.xua.issuer) for the checking physician `CHECKER`: HPR
number, role LE (lege), a legal entity, purpose of use TREAT, the patient asked about.
Real assertions come from HelseID; the people and numbers here are made up.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

ISSUER_NAME = "federation-idp"


@dataclass(frozen=True)
class Clinician:
    """Who a federation assertion names (PROFILE.md §6 attributes)."""

    name: str
    hpr_number: str
    organization_id: str
    organization_name: str
    role: str = "LE"


#: The physician `--check` asks as (made up; orgnr of the synthetic Helse Nord hospital).
CHECKER = Clinician("Lars Lege", "9100199", "999999905", "Syntetisk sykehus Nord HF")


@dataclass(frozen=True)
class FederationXUA:
    """The federation's development issuer: its certificate and key files."""

    cert_file: Path
    key_file: Path
    issuer: str = ISSUER_NAME

    def node_env(self) -> dict[str, str]:
        """XDSNO_XUA_* of every node: trust this issuer, require an assertion everywhere."""
        return {"XDSNO_XUA_ISSUER_CERTS": f"{self.issuer}={self.cert_file}", "XDSNO_XUA_REQUIRED": "*"}

    def assertion(self, patient: str | None, *, who: Clinician = CHECKER, purpose: str = "TREAT",
                  acp: str | None = None) -> etree._Element:
        """A signed assertion, valid for an hour from now, naming `patient` (CX)."""
        from xdsno.xua import issuer as dev_issuer
        from xdsno.xua.config import load_certificates

        attributes = dev_issuer.personnel_attributes(
            user_name=who.name, hpr_number=who.hpr_number, role=who.role, organization_id=who.organization_id,
            organization_name=who.organization_name, purpose_of_use=purpose, patient=patient, acp=acp)
        spec = dev_issuer.AssertionSpec(issuer=self.issuer, attributes=attributes, name_id=who.name)
        return dev_issuer.sign(dev_issuer.build_assertion(spec), self.key_file.read_bytes(),
                               load_certificates(self.cert_file))

    def security_header(self, patient: str | None, **who) -> etree._Element:
        """wsse:Security carrying `assertion(patient, **who)`."""
        from xdsno.xua.issuer import security_header

        return security_header(self.assertion(patient, **who))

    def assertion_command(self, patient: str) -> str:
        """How a person makes an assertion this federation accepts (`xdsno xua assertion`)."""
        return (f"python -m xdsno.cli xua assertion --key {self.key_file} --cert {self.cert_file} "
                f"--user-name '{CHECKER.name}' --hpr-number {CHECKER.hpr_number} "
                f"--organization-id {CHECKER.organization_id} --patient '{patient}' --out assertion.xml")


def make_federation_xua(folder: Path) -> FederationXUA:
    """A development CA and the issuer's RSA signing certificate in `folder`."""
    from xdsno import devcerts

    devcerts.create_ca(folder / "ca", name="xdsno federation XUA CA")
    files = devcerts.create_issuer(ISSUER_NAME, folder / "ca", folder)
    return FederationXUA(files.cert, files.key)
