"""Who may call the node's administrative endpoints (`/admin/*`) and read the innsynslogg
(`/innsynslogg`): one guard wrapped around each of them by the composition root (xdsno.app).

Audit records name patients and users, and the admin calls change who is known and what is
blocked (PROFILE.md §6); the innsynslogg is the citizen's. A caller is let in by the first of:

1. `Authorization: Bearer <token>` (RFC 6750 §2.1) whose SHA-256 is in `admin_tokens_file`
   (xdsno.admin_tokens; `xdsno admin token` makes one) — judged whenever tokens are configured;
2. on `/innsynslogg` only, `Authorization: SAML <base64 assertion>`: a citizen's own
   Helsenorge XUA assertion for their own patient (xdsno.citizen_auth) — judged whenever XUA
   is configured (`xua_issuer_certs`);
3. a verified TLS client certificate (ITI TF-2 3.19, xdsno.client_certificate) whose subject
   DN or common name is in `admin_client_subjects`;
4. with neither `admin_tokens_file` nor `admin_client_subjects` set: a loopback caller
   (REMOTE_ADDR 127.0.0.0/8 or ::1). Behind a reverse proxy on the same machine every caller
   is loopback: configure tokens or certificates there.

A bearer token or assertion that is judged and fails refuses the call, whatever else the
caller has; a credential of a scheme not judged here is ignored. Refusals are JSON `{"error": why, "send": [what
would be accepted]}`: 401 with a `WWW-Authenticate` challenge per scheme the endpoint accepts
(RFC 9110 §11.6.1; `Bearer realm="xdsno"`, `error="invalid_token"` for a token or assertion
that is not valid, RFC 6750 §3.1) when sending credentials could help, else 403. The guard
sits inside the audit wrapper (xdsno.audit.capture.AuditedAdmin), so every call — refused ones
too, their outcome a failure — leaves its one record; the guard's decision goes into that
record's policy note (rule "admin-access", the reason naming the token label, certificate
subject, loopback address or citizen), and a citizen's verified assertion — also one refused
for asking about another patient — into its user.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .admin_tokens import TokenFile, TokenFileError
from .audit.capture import NOTES_KEY
from .audit.http import ACCESS_LOG_PATH
from .audit.user import XUA_ENVIRON_KEY as XUA_KEY
from .citizen_auth import SCHEME as SAML_SCHEME
from .citizen_auth import CitizenRefused, citizen_access
from .client_certificate import ENVIRON_KEY as CERTIFICATE_KEY
from .jsonhttp import json_response
from .settings import Settings, SettingsError, admin_subject_names
from .xua import XuaConfig

REALM = "xdsno"
RULE = "admin-access"
ADMIN_PREFIX = "/admin/"


@dataclass(frozen=True, slots=True)
class Admission:
    """How a caller got in (for the audit record)."""

    via: str
    who: str

    def __str__(self) -> str:
        return f"{self.via} {self.who}".strip()


class Refused(Exception):
    def __init__(self, status: int, reason: str, error: str = ""):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.error = error  # RFC 6750 §3.1 error code for the challenge


class AdminAccess:
    """The credentials this node accepts on its admin endpoints (module docstring)."""

    def __init__(self, *, tokens: TokenFile | None = None, client_subjects: tuple[str, ...] = (),
                 citizen: XuaConfig | None = None):
        self.tokens = tokens
        self.client_subjects = client_subjects
        self._dns, self._cns = admin_subject_names(client_subjects)
        self.citizen = citizen

    @property
    def loopback_only(self) -> bool:
        return self.tokens is None and not self.client_subjects

    def admit(self, environ: MutableMapping[str, Any], *, access_log: bool) -> Admission:
        """How the caller is let in; Refused when it is not."""
        scheme, _, credentials = (environ.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")
        if scheme.lower() == "bearer" and self.tokens is not None:
            return self._bearer(credentials.strip())
        if scheme.lower() == SAML_SCHEME.lower() and access_log and self.citizen is not None:
            return self._citizen(credentials, environ)
        certificate = environ.get(CERTIFICATE_KEY)
        if certificate is not None and (certificate.subject in self._dns or certificate.common_name in self._cns):
            return Admission("client certificate", certificate.subject)
        address = environ.get("REMOTE_ADDR") or ""
        if self.loopback_only and is_loopback(address):
            return Admission("loopback", address)
        if certificate is not None and self.client_subjects:
            raise Refused(401, f"client certificate {certificate.subject!r} is not in admin_client_subjects")
        if self.loopback_only:
            raise Refused(401, "no admin credentials are configured on this node (admin_tokens_file, "
                               "admin_client_subjects): only loopback callers are let in")
        raise Refused(401, "credentials are required")

    def _bearer(self, token: str) -> Admission:
        stored = self.tokens.match(token) if token else None
        if stored is None:
            raise Refused(401, "the bearer token is not valid here", "invalid_token")
        return Admission("admin token", repr(stored.label or stored.sha256[:12] + "…"))

    def _citizen(self, credentials: str, environ: MutableMapping[str, Any]) -> Admission:
        try:
            assertion = citizen_access(credentials, environ, self.citizen)
        except CitizenRefused as exc:
            if exc.assertion is not None:  # valid, but not for this log: the audit names who asked
                environ[XUA_KEY] = exc.assertion
            raise Refused(exc.status, exc.reason, "invalid_token" if exc.status == 401 else "") from None
        environ[XUA_KEY] = assertion
        return Admission("citizen", f"{assertion.user_name or assertion.subject!r} on their own innsynslogg")

    def challenges(self, *, access_log: bool, error: str = "") -> list[str]:
        """The WWW-Authenticate challenges of an endpoint (one per scheme it accepts)."""
        schemes = (["Bearer"] if self.tokens is not None else []) + \
                  ([SAML_SCHEME] if access_log and self.citizen is not None else [])
        suffix = f', error="{error}"' if error else ""
        return [f'{scheme} realm="{REALM}"{suffix}' for scheme in schemes]

    def accepted(self, *, access_log: bool) -> list[str]:
        """What a caller may send, for the refusal's body."""
        send = []
        if self.tokens is not None:
            send.append("Authorization: Bearer <admin token> (made by `xdsno admin token`)")
        if access_log and self.citizen is not None:
            send.append("Authorization: SAML <base64 of the citizen's own XUA assertion naming this patient>")
        if self.client_subjects:
            send.append("a TLS client certificate whose subject or common name is in admin_client_subjects")
        if self.loopback_only:
            send.append("the request from this node's own machine (loopback)")
        return send


class AdminGuard:
    """WSGI wrapper letting in only what `access` admits (`access_log`: the /innsynslogg mount)."""

    def __init__(self, app: Callable, access: AdminAccess, *, access_log: bool = False):
        self.app = app
        self.access = access
        self.access_log = access_log

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        try:
            admission = self.access.admit(environ, access_log=self.access_log)
        except Refused as refused:
            _note(environ, denied=True, reason=refused.reason)
            return self._refusal(refused, start_response)
        _note(environ, denied=False, reason=str(admission))
        return self.app(environ, start_response)

    def _refusal(self, refused: Refused, start_response: Callable) -> list[bytes]:
        challenges = self.access.challenges(access_log=self.access_log, error=refused.error)
        status = "401 Unauthorized" if refused.status == 401 and challenges else "403 Forbidden"
        headers = [("WWW-Authenticate", challenge) for challenge in challenges] if status[0:3] == "401" else []
        body = {"error": refused.reason, "send": self.access.accepted(access_log=self.access_log)}
        return json_response(start_response, status, body, headers)


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _note(environ: Mapping[str, Any], *, denied: bool, reason: str) -> None:
    notes = environ.get(NOTES_KEY)
    if isinstance(notes, MutableMapping):
        notes["decision"] = {"denied": denied, "rule": RULE, "reason": reason}


def admin_access(settings: Settings) -> AdminAccess:
    """The admin credentials `settings` configure; SettingsError for an unusable tokens file."""
    tokens = None
    if settings.admin_tokens_file:
        try:
            tokens = TokenFile(Path(settings.admin_tokens_file))
        except TokenFileError as exc:
            raise SettingsError(str(exc)) from None
    citizen = None
    if settings.xua_issuer_certs:
        from .xua.enforcement import xua_config

        citizen = xua_config(settings)
    return AdminAccess(tokens=tokens, client_subjects=settings.admin_client_subjects, citizen=citizen)


def is_guarded(path: str) -> bool:
    return path.startswith(ADMIN_PREFIX) or path.rstrip("/") == ACCESS_LOG_PATH


def guard_admin_mounts(mounts: Mapping[str, Any], access: AdminAccess) -> dict[str, Any]:
    """`mounts` with every /admin/* and /innsynslogg app behind one AdminGuard each."""
    return {path: AdminGuard(app, access, access_log=path.rstrip("/") == ACCESS_LOG_PATH) if is_guarded(path)
            else app for path, app in mounts.items()}
