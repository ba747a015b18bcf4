"""Requiring and exposing the XUA assertion per endpoint (IHE ITI TF-2 3.40.4.2, X-Service
Provider), as a before-dispatch hook of each actor's SoapRouter.

When `xua_issuer_certs` is set, every SOAP endpoint understands `wsse:Security` (so a
mustUnderstand="true" header is no MustUnderstand fault) and verifies the assertion it carries;
a verified one is put in `request.environ["xdsno.xua"]` (an `Assertion`) for the handlers, the
access policy and the audit. Endpoints named in `xua_required` (actor names, endpoint paths or
`*`) refuse a request without one. Every refusal is an env:Sender fault with a WS-Security 1.1
§12 subcode (soap.wsse) whose reason names what is wrong:

  no wsse:Security / no assertion in it / two of either  wsse:InvalidSecurity
  SAML 1.1, not Version 2.0, not bearer                  wsse:UnsupportedSecurityToken
  signature or digest algorithm not accepted             wsse:UnsupportedAlgorithm
  unsigned, issuer not trusted, signed by another key,
  no accepted audience                                   wsse:FailedAuthentication
  altered after signing, signature not over its assertion,
  ambiguous IDs (signature wrapping)                     wsse:FailedCheck
  expired, not yet valid, no NameID, no validity period,
  a OneTimeUse assertion used again                      wsse:InvalidSecurityToken
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta

from soap.router import SoapRequest, SoapRouter
from soap.wsse import INVALID_SECURITY, SECURITY, security_fault, security_header

from ..settings import Settings, SettingsError
from .config import XuaConfig, XuaError, issuer_certificates
from .verify import verify_assertion

log = logging.getLogger("xdsno.xua")

#: Key of the verified Assertion in the WSGI environ of a SoapRequest.
ENVIRON_KEY = "xdsno.xua"
_SAML_ASSERTIONS = ("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion",
                    "{urn:oasis:names:tc:SAML:1.0:assertion}Assertion")


class XuaGuard:
    """`SoapRouter` before-dispatch hook: verify the assertion, require it when `required`."""

    def __init__(self, config: XuaConfig, *, required: bool):
        self.config = config
        self.required = required

    def __call__(self, request: SoapRequest) -> None:
        header = security_header(request.header)
        if header is None or not _carries_assertion(header):
            if self.required:
                raise security_fault(INVALID_SECURITY, "XUA: this endpoint requires a SAML 2.0 identity "
                                                       "assertion in a wsse:Security header (IHE ITI-40)")
            return
        try:
            assertion = verify_assertion(header, self.config)
        except XuaError as exc:
            log.info("XUA assertion refused on %s: %s", request.action, exc.reason)
            raise security_fault(exc.subcode, f"XUA assertion refused: {exc.reason}") from None
        request.environ[ENVIRON_KEY] = assertion


def _carries_assertion(header) -> bool:
    return any(True for _ in header.iterchildren(*_SAML_ASSERTIONS))


def install_xua(routers: Mapping[str, SoapRouter], settings: Settings, endpoint_paths: Mapping[str, str]) -> None:
    """Put an XuaGuard on every router (actor → router) when XUA is configured."""
    if not settings.xua_issuer_certs:
        return
    config = xua_config(settings)
    required = required_actors(settings.xua_required, endpoint_paths)
    for actor, router in routers.items():
        router.understand(SECURITY)
        router.add_before_dispatch(XuaGuard(config, required=actor in required))


def xua_config(settings: Settings) -> XuaConfig:
    try:
        trusted = issuer_certificates(settings.xua_issuer_certs)
    except ValueError as exc:
        raise SettingsError(f"xua_issuer_certs: {exc}") from None
    return XuaConfig(trusted, audiences=frozenset(settings.xua_audiences),
                     clock_skew=timedelta(seconds=settings.xua_clock_skew_seconds))


def required_actors(entries: Iterable[str], endpoint_paths: Mapping[str, str]) -> frozenset[str]:
    """`xua_required` entries (actor names, endpoint paths, `*`) → actor names."""
    by_path = {path.rstrip("/"): actor for actor, path in endpoint_paths.items()}
    actors = set()
    for entry in entries:
        if entry == "*":
            actors.update(endpoint_paths)
        elif entry in endpoint_paths:
            actors.add(entry)
        elif entry.rstrip("/") in by_path:
            actors.add(by_path[entry.rstrip("/")])
        else:
            raise SettingsError(f"xua_required: {entry!r} is no actor ({', '.join(endpoint_paths)}), "
                                f"endpoint path ({', '.join(endpoint_paths.values())}) or '*'")
    return frozenset(actors)
