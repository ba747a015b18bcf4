"""xdsno.devcerts and `xdsno certs`: the development CA, node certificates (TLS server and
client, ATNA ITI-19) and SAML issuer signing certificates (XUA)."""
from __future__ import annotations

import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from xdsno import devcerts
from xdsno.cli import main


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ca")
    devcerts.create_ca(folder)
    return folder


def test_ca_is_a_self_signed_ten_year_ec_ca(ca):
    cert = load(ca / "ca-cert.pem")
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days >= 3650
    cert.verify_directly_issued_by(cert)


def test_private_keys_are_owner_only(ca, tmp_path):
    files = devcerts.create_node("registry", ca, tmp_path)
    for key in (ca / "ca-key.pem", files.key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_node_certificate_serves_and_presents_tls_for_the_loopback_names(ca, tmp_path):
    files = devcerts.create_node("helse-nord", ca, tmp_path)
    cert = load(files.cert)
    cert.verify_directly_issued_by(load(ca / "ca-cert.pem"))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "helse-nord"
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_node_names_and_key_type_are_chosen(ca, tmp_path):
    files = devcerts.create_node("gw", ca, tmp_path, dns=["xca.example", "localhost"], ips=["::1"], key_type="rsa")
    cert = load(files.cert)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["xca.example", "localhost"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["::1"]
    assert isinstance(cert.public_key(), rsa.RSAPublicKey)


def test_issuer_certificate_is_rsa_for_signing_only(ca, tmp_path):
    cert = load(devcerts.create_issuer("test-idp", ca, tmp_path).cert)
    assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 2048
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


@pytest.mark.parametrize("name", ["", "../evil", "two words", "a" * 64])
def test_a_name_that_is_no_file_name_is_refused(ca, tmp_path, name):
    with pytest.raises(devcerts.DevCertError, match="name"):
        devcerts.create_node(name, ca, tmp_path)


def test_a_missing_ca_is_named(tmp_path):
    with pytest.raises(devcerts.DevCertError, match="xdsno certs ca"):
        devcerts.create_node("node", tmp_path / "nowhere", tmp_path)


def test_certs_command_makes_ca_node_and_issuer(tmp_path, capsys):
    assert main(["certs", "ca", "--out", str(tmp_path / "ca")]) == 0
    assert main(["certs", "node", "registry", "--ca", str(tmp_path / "ca"), "--out", str(tmp_path),
                 "--dns", "registry.local", "--ip", "127.0.0.1"]) == 0
    assert main(["certs", "issuer", "idp", "--ca", str(tmp_path / "ca"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"tls_cert_file = \"{tmp_path / 'registry-cert.pem'}\"" in out
    names = load(tmp_path / "registry-cert.pem").extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["registry.local"]
    assert (tmp_path / "idp-cert.pem").exists() and (tmp_path / "idp-key.pem").exists()


def test_certs_command_keeps_an_existing_ca_unless_forced(tmp_path, capsys):
    assert main(["certs", "ca", "--out", str(tmp_path)]) == 0
    before = (tmp_path / "ca-cert.pem").read_bytes()
    assert main(["certs", "ca", "--out", str(tmp_path)]) == 1
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "ca-cert.pem").read_bytes() == before
    assert main(["certs", "ca", "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "ca-cert.pem").read_bytes() != before


def test_certs_command_reports_a_missing_ca(tmp_path, capsys):
    assert main(["certs", "node", "n", "--ca", str(tmp_path / "none"), "--out", str(tmp_path)]) == 1
    assert "no development CA" in capsys.readouterr().err


# --- the CA's revocation list -----------------------------------------------------------------


def load_crl(path) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(path.read_bytes())


def crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_crl_is_the_cas_valid_for_seven_days_and_renewed_with_a_higher_number(tmp_path):
    devcerts.create_ca(tmp_path / "ca")
    crl_file = devcerts.create_crl(tmp_path / "ca")
    assert crl_file == tmp_path / "ca" / "ca-crl.pem"
    crl = load_crl(crl_file)
    assert crl.is_signature_valid(load(tmp_path / "ca" / "ca-cert.pem").public_key())
    assert crl.next_update_utc - crl.last_update_utc == devcerts.dt.timedelta(days=7, minutes=5)
    assert (crl_number(crl), len(crl)) == (1, 0)
    assert crl_number(load_crl(devcerts.create_crl(tmp_path / "ca"))) == 2


def test_revoke_adds_the_serial_and_keeps_the_earlier_ones(tmp_path):
    devcerts.create_ca(tmp_path / "ca")
    first, second = (load(devcerts.create_node(name, tmp_path / "ca", tmp_path).cert) for name in ("a", "b"))
    devcerts.revoke(tmp_path / "a-cert.pem", tmp_path / "ca")
    crl = load_crl(devcerts.revoke(tmp_path / "b-cert.pem", tmp_path / "ca"))
    assert {entry.serial_number for entry in crl} == {first.serial_number, second.serial_number}
    assert crl_number(crl) == 2


def test_revoking_a_certificate_of_another_ca_is_refused(tmp_path):
    devcerts.create_ca(tmp_path / "ca")
    devcerts.create_ca(tmp_path / "other", name="other CA")
    devcerts.create_node("stranger", tmp_path / "other", tmp_path)
    with pytest.raises(devcerts.DevCertError, match="stranger-cert.pem is issued by CN=other CA,O=xdsno "
                                                    "development, not by the CA in"):
        devcerts.revoke(tmp_path / "stranger-cert.pem", tmp_path / "ca")
    assert not (tmp_path / "ca" / "ca-crl.pem").exists()


def test_a_crl_of_another_ca_is_not_overwritten(tmp_path):
    devcerts.create_ca(tmp_path / "ca")
    devcerts.create_ca(tmp_path / "other", name="other CA")
    foreign = devcerts.create_crl(tmp_path / "other")
    with pytest.raises(devcerts.DevCertError, match="is not one of the CA CN=xdsno development CA"):
        devcerts.create_crl(tmp_path / "ca", foreign)


def test_certs_command_revokes_a_node_by_name(tmp_path, capsys):
    assert main(["certs", "ca", "--out", str(tmp_path / "ca")]) == 0
    assert main(["certs", "node", "registry", "--ca", str(tmp_path / "ca"), "--out", str(tmp_path)]) == 0
    assert main(["certs", "crl", "--ca", str(tmp_path / "ca")]) == 0
    assert len(load_crl(tmp_path / "ca" / "ca-crl.pem")) == 0
    assert main(["certs", "revoke", "registry", "--ca", str(tmp_path / "ca"), "--days", "2"]) == 0
    crl = load_crl(tmp_path / "ca" / "ca-crl.pem")
    assert [entry.serial_number for entry in crl] == [load(tmp_path / "registry-cert.pem").serial_number]
    assert crl.next_update_utc - crl.last_update_utc == devcerts.dt.timedelta(days=2, minutes=5)
    assert f"tls_crl_file = \"{tmp_path / 'ca' / 'ca-crl.pem'}\"" in capsys.readouterr().out
    assert main(["certs", "revoke", "nobody", "--ca", str(tmp_path / "ca")]) == 1
    assert f"no certificate {tmp_path / 'nobody-cert.pem'}" in capsys.readouterr().err
