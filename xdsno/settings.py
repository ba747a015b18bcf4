"""Typed deployment settings: embedded defaults, overridden by a TOML file, then by environment.

Precedence (lowest first): defaults → TOML file (`--config FILE` or `XDSNO_CONFIG`) →
environment variables `XDSNO_<FIELD>` (upper case; lists comma-separated; booleans
1/0/true/false/yes/no) → command-line options. The defaults need no file and no other
service: SQLite and a local blob folder under `data_dir`.
"""
from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, get_args, get_origin, get_type_hints

ENV_PREFIX = "XDSNO_"
ACTORS = ("registry", "repository", "xca_responding", "xca_initiating")
PROFILES = ("ihe", "norway")
BLOB_STORES = ("filesystem", "s3")
CHECK_DIGIT_SCHEMES = ("auto", "classic", "2032", "transition")
TLS_CLIENT_AUTH = ("none", "optional", "required")
AUDIT_SYSLOG_FORMATS = ("dicom", "balp")


class SettingsError(ValueError):
    """A setting has a value the software cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Every knob of one deployment. Field names are the TOML keys and, upper-cased after
    `XDSNO_`, the environment variable names."""

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    #: worker processes; 1 serves with waitress, more with gunicorn
    workers: int = 1
    threads: int = 8
    log_level: str = "INFO"
    actors: tuple[str, ...] = ACTORS
    #: base URL under which this node is reached (for /health); derived from host/port when empty
    public_url: str = ""

    # --- metadata profile (DESIGN.md §7)
    profile: str = "norway"
    strict: bool = True
    patient_domains: tuple[str, ...] = (
        "2.16.578.1.12.4.1.4.1",  # fødselsnummer
        "2.16.578.1.12.4.1.4.2",  # D-nummer
    )
    known_patients_only: bool = False
    home_community_id: str = "urn:oid:2.16.578.1.12.4.1.7.1.999"
    repository_unique_id: str = "2.16.578.1.12.4.1.7.1.999.1"

    # --- Norwegian profile options (PROFILE.md §3-§4; profiles.norway.options)
    #: folder of code-list files overriding/extending the bundled ones; empty means data_dir/code-sets
    code_sets_dir: str = ""
    #: accept synthetic test persons (month + 65 / + 80) as patients
    allow_synthetic_persons: bool = False
    #: person-number check digits: auto (classic before 2032, both after), classic, 2032, transition
    check_digit_scheme: str = "auto"
    #: accepted languageCode values; `en-*` is any en- tag
    language_codes: tuple[str, ...] = ("nb-NO", "nn-NO", "se-NO", "en-*")
    #: patient assigning authorities of the norway profile; `OID=fnr|dnr|fhn|hnr` adds a local one
    norway_patient_authorities: tuple[str, ...] = (
        "2.16.578.1.12.4.1.4.1", "2.16.578.1.12.4.1.4.2", "2.16.578.1.12.4.1.4.3",
    )
    #: optionality overrides `Kind.attribute=R|R2|O|X` (PROFILE.md §4 items marked unsure)
    norway_optionality: tuple[str, ...] = ("DocumentEntry.practiceSettingCode=R2",)
    #: a code missing from a code list marked partial: error or warning
    partial_code_lists: str = "error"
    #: `attribute=list+list` replacing the code lists an attribute is judged by (e.g. 1303+1305)
    norway_code_bindings: tuple[str, ...] = ()

    # --- registry storage
    #: SQLAlchemy URL; empty means SQLite in data_dir/registry.sqlite3
    database_url: str = ""
    query_result_limit: int = 1000

    # --- repository blob store
    blob_store: str = "filesystem"
    #: folder of the filesystem blob store; empty means data_dir/blobs
    blob_dir: str = ""
    s3_endpoint: str = ""
    s3_bucket: str = "xdsno"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_region: str = ""
    s3_secure: bool = True
    #: registry the repository registers to; empty means the co-located registry in-process
    registry_url: str = ""

    # --- SOAP
    max_xml_bytes: int = 64 * 1024 * 1024

    # --- XUA, ITI-40 (xdsno.xua): assertions in wsse:Security verified when xua_issuer_certs is set
    #: trusted assertion issuers, each `ISSUER=CERT_FILE` (saml:Issuer as sent; PEM may hold several)
    xua_issuer_certs: tuple[str, ...] = ()
    #: endpoints refusing a request without a valid assertion: actor names, endpoint paths or `*`
    xua_required: tuple[str, ...] = ()
    #: accepted saml:Audience values (HelseID's for document sharing by default)
    xua_audiences: tuple[str, ...] = ("nhn:dokumentdeling-saml",)
    #: clock skew allowed on NotBefore, NotOnOrAfter and IssueInstant
    xua_clock_skew_seconds: int = 300

    # --- access policy (xdsno.policy): who sees which documents (PROFILE.md §5-§6)
    #: TOML policy file (format: xdsno/policy/default_policy.toml); empty means that bundled default
    policy_file: str = ""

    # --- XCA initiating gateway
    #: TOML file listing the Responding Gateways (xca_gateway.communities); empty means none
    communities_file: str = ""
    #: one deadline for a whole fan-out: what has not answered by then is XDSUnavailableCommunity
    xca_deadline_seconds: float = 20.0
    #: most outbound ITI-38/ITI-39 requests in flight at once, per process (all consumers together)
    xca_max_outbound_requests: int = 32

    # --- XCA responding gateway
    #: registry behind the responding gateway (ITI-18); empty means the co-located one in-process
    responding_registry_url: str = ""
    #: more repositories behind the responding gateway, each `repositoryUniqueId=URL` (ITI-43)
    responding_repositories: tuple[str, ...] = ()

    # --- ATNA secure node, ITI-19 (xdsno.tls): TLS served when tls_cert_file is set
    #: PEM certificate (chain) and private key of this node; empty key: the key is in the cert file
    tls_cert_file: str = ""
    tls_key_file: str = ""
    #: PEM CAs trusted for client certificates and for verifying servers on outbound https
    tls_ca_file: str = ""
    #: client certificates: none, optional (only /health without one) or required (at the handshake)
    tls_client_auth: str = "required"
    #: certificate and key presented on outbound https; empty means the node's own
    tls_client_cert_file: str = ""
    tls_client_key_file: str = ""
    #: PEM CRLs, one per CA of tls_ca_file: peers' certificates checked for revocation both ways
    tls_crl_file: str = ""

    # --- audit, ATNA / BALP (xdsno.audit): every request recorded locally, then delivered to these
    #: syslog receiver `host:port` (RFC 5424 over TCP, octet counting); empty means none
    audit_syslog: str = ""
    #: syslog over TLS (RFC 5425) with the node's outbound TLS (tls_ca_file, tls_client_cert_file)
    audit_syslog_tls: bool = False
    #: syslog MSG: dicom (DICOM audit message, MSGID IHE+RFC-3881) or balp (FHIR AuditEvent JSON)
    audit_syslog_format: str = "dicom"
    #: FHIR server (base or .../AuditEvent) receiving BALP AuditEvents by POST; empty means none
    audit_fhir_url: str = ""
    #: AuditSourceID of this node's records; empty means the base URL
    audit_source_id: str = ""
    #: longest wait between two attempts to reach a destination that is down
    audit_retry_max_seconds: float = 300.0

    # --- administrative endpoints /admin/* and /innsynslogg (xdsno.admin_auth). With neither
    # setting, only loopback callers are let in (behind a local reverse proxy everyone is loopback:
    # set one of them there). A citizen reads their own /innsynslogg with their XUA assertion
    # (verified by the xua_* settings above) whatever these say.
    #: file of SHA-256 hashes of admin bearer tokens, `HASH [label]` per line (`xdsno admin token`
    #: adds one); read again when it changes; must exist when the node starts
    admin_tokens_file: str = ""
    #: client-certificate subjects allowed over mutual TLS: an RFC 4514 DN as /health shows it
    #: (`CN=ops,O=Example`; in the TOML file: a DN holds commas) or a common name (`ops`)
    admin_client_subjects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_choice("profile", self.profile, PROFILES)
        _check_choice("blob_store", self.blob_store, BLOB_STORES)
        _check_choice("check_digit_scheme", self.check_digit_scheme, CHECK_DIGIT_SCHEMES)
        _check_choice("partial_code_lists", self.partial_code_lists, ("error", "warning"))
        self._check_xua()
        for actor in self.actors:
            _check_choice("actors", actor, ACTORS)
        for name in ("port", "workers", "threads", "query_result_limit", "max_xml_bytes",
                     "xca_max_outbound_requests"):
            if getattr(self, name) < (0 if name == "port" else 1):
                raise SettingsError(f"{name} must be positive, got {getattr(self, name)}")
        if not self.xca_deadline_seconds > 0:
            raise SettingsError(f"xca_deadline_seconds must be positive, got {self.xca_deadline_seconds}")
        self.responding_repository_urls  # checks the entries
        if self.blob_store == "s3" and not self.s3_endpoint:
            raise SettingsError("blob_store = 's3' needs s3_endpoint (host:port of the S3 server)")
        self._check_tls()
        self._check_audit()
        self._check_admin()

    def _check_admin(self) -> None:
        if self.admin_client_subjects and (not self.tls_enabled or self.tls_client_auth == "none"):
            raise SettingsError("admin_client_subjects needs mutual TLS: tls_cert_file and tls_client_auth "
                                "optional or required")
        admin_subject_names(self.admin_client_subjects)

    def _check_audit(self) -> None:
        _check_choice("audit_syslog_format", self.audit_syslog_format, AUDIT_SYSLOG_FORMATS)
        if self.audit_syslog:
            host, _, port = self.audit_syslog.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise SettingsError(f"audit_syslog = {self.audit_syslog!r} is not host:port")
        if self.audit_fhir_url and not self.audit_fhir_url.startswith(("http://", "https://")):
            raise SettingsError(f"audit_fhir_url = {self.audit_fhir_url!r} is not an http(s) URL")
        if not self.audit_retry_max_seconds >= 1:
            raise SettingsError(f"audit_retry_max_seconds must be at least 1, got {self.audit_retry_max_seconds}")

    def _check_tls(self) -> None:
        _check_choice("tls_client_auth", self.tls_client_auth, TLS_CLIENT_AUTH)
        if self.tls_key_file and not self.tls_cert_file:
            raise SettingsError("tls_key_file is set but tls_cert_file is not")
        if self.tls_client_key_file and not self.tls_client_cert_file:
            raise SettingsError("tls_client_key_file is set but tls_client_cert_file is not")
        if self.tls_enabled and self.tls_client_auth != "none" and not self.tls_ca_file:
            raise SettingsError(f"tls_client_auth = {self.tls_client_auth!r} needs tls_ca_file "
                                "(the CAs client certificates are verified against)")
        if self.tls_crl_file:
            if not self.tls_ca_file:
                raise SettingsError("tls_crl_file needs tls_ca_file (the CAs whose CRLs it holds)")
            from .revocation import load_crls

            load_crls(self.tls_crl_file)  # exists and parses

    @property
    def tls_enabled(self) -> bool:
        """Whether this node serves HTTPS (ATNA secure node, ITI-19)."""
        return bool(self.tls_cert_file)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'registry.sqlite3').resolve()}"

    @property
    def effective_code_sets_dir(self) -> Path:
        return Path(self.code_sets_dir) if self.code_sets_dir else self.data_dir / "code-sets"

    def _check_xua(self) -> None:
        if self.xua_required and not self.xua_issuer_certs:
            raise SettingsError("xua_required needs xua_issuer_certs (ISSUER=CERT_FILE of the trusted issuers)")
        if self.xua_issuer_certs and not self.xua_audiences:
            raise SettingsError("xua_audiences must name at least one audience")
        if self.xua_clock_skew_seconds < 0:
            raise SettingsError(f"xua_clock_skew_seconds must not be negative, got {self.xua_clock_skew_seconds}")

    @property
    def responding_repository_urls(self) -> dict[str, str]:
        """`responding_repositories` as repositoryUniqueId → ITI-43 URL."""
        urls: dict[str, str] = {}
        for entry in self.responding_repositories:
            unique_id, _, url = (part.strip() for part in entry.partition("="))
            if not unique_id or not url.startswith(("http://", "https://")):
                raise SettingsError(f"responding_repositories entry {entry!r} is not repositoryUniqueId=http(s)://URL")
            if unique_id in urls or unique_id == self.repository_unique_id and "repository" in self.actors:
                raise SettingsError(f"responding_repositories names repository {unique_id} twice")
            urls[unique_id] = url
        return urls

    @property
    def effective_blob_dir(self) -> Path:
        return Path(self.blob_dir) if self.blob_dir else self.data_dir / "blobs"

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls_enabled else "http"
        return self.public_url.rstrip("/") or f"{scheme}://{self.host}:{self.port}"

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with secrets masked, for display."""
        data = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        for secret in ("s3_secret_key", "s3_access_key"):
            if data[secret]:
                data[secret] = "***"
        if "@" in data["database_url"]:
            scheme, _, rest = data["database_url"].partition("://")
            data["database_url"] = f"{scheme}://***@{rest.split('@', 1)[1]}"
        return data


def load_settings(
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from defaults, an optional TOML file, the environment and overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = config_file or environ.get(ENV_PREFIX + "CONFIG")
    if config_file:
        values.update(_read_toml(Path(config_file)))
    values.update(_read_environment(environ))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _build(values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
    # Sections are for the reader's convenience only: [registry] database_url = ... is the same key.
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return flat


def _read_environment(environ: Mapping[str, str]) -> dict[str, str]:
    names = {f.name for f in fields(Settings)}
    found = {}
    for key, value in environ.items():
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG":
            name = key[len(ENV_PREFIX):].lower()
            if name in names:
                found[name] = value
    return found


def _build(values: Mapping[str, Any]) -> Settings:
    hints = get_type_hints(Settings)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    converted = {name: _convert(name, value, hints[name]) for name, value in values.items()}
    return Settings(**converted)


def _convert(name: str, value: Any, hint: Any) -> Any:
    try:
        if hint is bool:
            return _to_bool(value)
        if hint is int:
            return int(value)
        if hint is float:
            return float(value)
        if hint is Path:
            return Path(value)
        if get_origin(hint) is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            item_type = get_args(hint)[0]
            return tuple(item_type(item.strip() if isinstance(item, str) else item) for item in items if str(item).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: cannot use {value!r} ({exc})") from None


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def admin_subject_names(entries: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """`admin_client_subjects` as (distinguished names, common names): an entry with `=` is a DN,
    put in the RFC 4514 form xdsno.client_certificate gives; any other a common name."""
    from cryptography import x509

    dns, cns = set(), set()
    for entry in entries:
        if "=" not in entry:
            cns.add(entry)
            continue
        try:
            dns.add(x509.Name.from_rfc4514_string(entry).rfc4514_string())
        except ValueError:
            raise SettingsError(f"admin_client_subjects: {entry!r} is not an RFC 4514 distinguished name "
                                "(CN=name,O=organisation) or a common name") from None
    return frozenset(dns), frozenset(cns)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SettingsError(f"{name} = {value!r} is not one of {', '.join(allowed)}")


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def replace(settings: Settings, **changes: Any) -> Settings:
    return dataclasses.replace(settings, **changes)
