"""The checks of a verified SAML 2.0 assertion besides its signature (IHE ITI TF-2 3.40.4.2,
X-Service Provider; SAML Core §2.5 Conditions, §2.4.1 Subject; SAML Profiles §3.3 bearer):

- Version 2.0 and an ID; IssueInstant not in the future;
- Conditions NotBefore ≤ now < NotOnOrAfter, each widened by the clock skew; NotOnOrAfter is
  required (an assertion living forever is no assertion of a ~1 h HelseID session);
- every AudienceRestriction names an accepted audience, and there is at least one;
- Subject with a NameID, and a SubjectConfirmation of method bearer whose
  SubjectConfirmationData, when it has NotBefore/NotOnOrAfter, holds now;
- OneTimeUse (§2.5.1.5): at most one such condition, and an assertion carrying it is accepted
  once per process (xdsno.xua.one_time_use) — checked last, so an assertion refused for another
  reason is not used up. A second use is wsse:InvalidSecurityToken, like an expired assertion:
  a condition no longer met makes the assertion invalid (§2.5.1), whereas FailedCheck is for
  signatures and FailedAuthentication for tokens whose issuer or audience is not ours;
- ProxyRestriction (§2.5.1.6) is not checked: it binds a relying party that issues assertions
  of its own from this one, and no actor here does — the initiating gateway forwards the
  consumer's signed assertion as it is (ITI-40 to the communities), it does not re-issue it.

Each check reads only the element signxml verified (xdsno.xua.signature).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lxml import etree

from soap.wsse import FAILED_AUTHENTICATION, INVALID_SECURITY_TOKEN, UNSUPPORTED_SECURITY_TOKEN

from .config import XuaConfig, XuaError
from .names import BEARER, SAML
from .one_time_use import ONE_TIME_USE, OneTimeUseCache

_S = f"{{{SAML}}}"


def check_assertion(signed: etree._Element, config: XuaConfig, now: datetime) -> None:
    """Raise XuaError for the first condition `signed` does not meet at `now`."""
    _check_header(signed, now, config.clock_skew)
    conditions = signed.find(_S + "Conditions")
    if conditions is None:
        raise XuaError(INVALID_SECURITY_TOKEN, "the assertion has no saml:Conditions (validity period)")
    check_validity(conditions, now, config.clock_skew, "the assertion", required_end=True)
    check_audience(conditions, config.audiences)
    check_subject(signed, now, config.clock_skew)
    check_one_time_use(signed, conditions, now, config.clock_skew)


def check_one_time_use(signed: etree._Element, conditions: etree._Element, now: datetime, skew: timedelta,
                       cache: OneTimeUseCache = ONE_TIME_USE) -> None:
    """An assertion with saml:OneTimeUse is accepted the first time only (SAML Core §2.5.1.5)."""
    marks = len(conditions.findall(_S + "OneTimeUse"))
    if marks == 0:
        return
    if marks > 1:
        raise XuaError(INVALID_SECURITY_TOKEN, f"the assertion has {marks} saml:OneTimeUse conditions; "
                                               "at most one is allowed")
    issuer = (signed.findtext(_S + "Issuer") or "").strip()
    until = parse_time(conditions.get("NotOnOrAfter"), "NotOnOrAfter") + skew
    if not cache.first_use(issuer, signed.get("ID") or "", until, now):
        raise XuaError(INVALID_SECURITY_TOKEN, f"the assertion {signed.get('ID')} of {issuer} is for one-time "
                                               "use (saml:OneTimeUse) and was used before")


def _check_header(signed: etree._Element, now: datetime, skew: timedelta) -> None:
    if signed.get("Version") != "2.0":
        raise XuaError(UNSUPPORTED_SECURITY_TOKEN, f"assertion Version {signed.get('Version')!r} is not 2.0")
    issued = parse_time(signed.get("IssueInstant"), "IssueInstant")
    if issued is None:
        raise XuaError(INVALID_SECURITY_TOKEN, "the assertion has no IssueInstant")
    if issued - skew > now:
        raise XuaError(INVALID_SECURITY_TOKEN, f"the assertion is issued in the future ({_iso(issued)})")


def check_validity(element: etree._Element, now: datetime, skew: timedelta, what: str,
                   *, required_end: bool = False) -> None:
    """NotBefore - skew ≤ now < NotOnOrAfter + skew."""
    not_before = parse_time(element.get("NotBefore"), "NotBefore")
    not_on_or_after = parse_time(element.get("NotOnOrAfter"), "NotOnOrAfter")
    if not_on_or_after is None and required_end:
        raise XuaError(INVALID_SECURITY_TOKEN, f"{what} has no NotOnOrAfter")
    if not_before is not None and now < not_before - skew:
        raise XuaError(INVALID_SECURITY_TOKEN, f"{what} is not yet valid: NotBefore {_iso(not_before)}, "
                                               f"now {_iso(now)} (clock skew {_seconds(skew)} s)")
    if not_on_or_after is not None and now >= not_on_or_after + skew:
        raise XuaError(INVALID_SECURITY_TOKEN, f"{what} has expired: NotOnOrAfter {_iso(not_on_or_after)}, "
                                               f"now {_iso(now)} (clock skew {_seconds(skew)} s)")


def check_audience(conditions: etree._Element, accepted: frozenset[str]) -> None:
    """Each AudienceRestriction must include an accepted audience (SAML Core §2.5.1.4)."""
    restrictions = conditions.findall(_S + "AudienceRestriction")
    if not restrictions:
        raise XuaError(FAILED_AUTHENTICATION, "the assertion has no saml:AudienceRestriction; expected "
                                              + " or ".join(sorted(accepted)))
    for restriction in restrictions:
        audiences = [(a.text or "").strip() for a in restriction.iterfind(_S + "Audience")]
        if not accepted.intersection(audiences):
            raise XuaError(FAILED_AUTHENTICATION, f"the assertion is for audience {', '.join(audiences)}, "
                                                  f"not for {' or '.join(sorted(accepted))}")


def check_subject(signed: etree._Element, now: datetime, skew: timedelta) -> None:
    """A Subject with a NameID, confirmed by method bearer (WSS SAML Token Profile 1.1 §3.4)."""
    subject = signed.find(_S + "Subject")
    name_id = subject.find(_S + "NameID") if subject is not None else None
    if name_id is None or not (name_id.text or "").strip():
        raise XuaError(INVALID_SECURITY_TOKEN, "the assertion has no saml:Subject/saml:NameID")
    bearers = [c for c in subject.iterfind(_S + "SubjectConfirmation") if c.get("Method") == BEARER]
    if not bearers:
        methods = [c.get("Method") for c in subject.iterfind(_S + "SubjectConfirmation")]
        raise XuaError(UNSUPPORTED_SECURITY_TOKEN, f"the assertion is not a bearer assertion "
                                                   f"(SubjectConfirmation methods: {methods or 'none'})")
    errors = []
    for confirmation in bearers:
        data = confirmation.find(_S + "SubjectConfirmationData")
        try:
            if data is not None:
                check_validity(data, now, skew, "the bearer SubjectConfirmationData")
            return
        except XuaError as exc:
            errors.append(exc)
    raise errors[0]


def parse_time(value: str | None, name: str) -> datetime | None:
    """An xs:dateTime of SAML (UTC; a value without zone is taken as UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise XuaError(INVALID_SECURITY_TOKEN, f"{name} {value!r} is not an xs:dateTime") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(skew: timedelta) -> str:
    return f"{skew.total_seconds():g}"
