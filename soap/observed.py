"""Observed outbound SOAP requests: what an actor that calls another tells an observer about
each request it sent (ATNA: both ends of a transaction audit it — ITI TF-2 3.38.6 and 3.39.6
for an Initiating Gateway, 3.42.5.1.1 for a Document Repository sending ITI-42; the audit
itself is the deployment's, xdsno.audit.outbound).

`ObservedClient` wraps a SoapClient: after every call — answered, faulted, or failed in
transport — it calls `observer(exchange)` on the thread that made it, before the answer is read
further, and it adds the caller's extra header blocks (a forwarded XUA assertion) to each call.
`context` is whatever the caller hands along for the request that caused the call (an
actor endpoint passes the consumer's WSGI environ: its XUA assertion names the user);
`home_community_id` names the community called, when there is one. An observer must not
raise; if it does, the failure is logged and the exchange goes on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .client import SoapClient, SoapReply

log = logging.getLogger("soap.observed")


@dataclass(frozen=True)
class Exchange:
    """One outbound request and how it ended: the reply (`fault` set when it was a SOAP fault),
    or `failure`, why there was none."""

    url: str
    action: str
    request: etree._Element
    reply: SoapReply | None = None
    failure: str | None = None
    context: Any = None
    home_community_id: str = ""


Observer = Callable[[Exchange], None]


class ObservedClient:
    """A SoapClient view for the calls one request causes: adds its header blocks to each call
    and tells the observer how each call ended."""

    def __init__(self, client: SoapClient, *, headers: list[etree._Element] | None = None,
                 observer: Observer | None = None, context: Any = None, home_community_id: str = ""):
        self._client = client
        self._home_community_id = home_community_id
        self._headers = headers or []
        self._observer = observer
        self._context = context

    @property
    def url(self) -> str:
        return self._client.url

    def call(self, action: str, body: etree._Element, **options) -> SoapReply:
        try:
            reply = self._client.call(action, body, headers=[*self._headers, *(options.pop("headers", None) or ())],
                                      **options)
        except Exception as exc:
            self._tell(action, body, failure=f"{type(exc).__name__}: {exc}")
            raise
        self._tell(action, body, reply=reply)
        return reply

    def _tell(self, action: str, body: etree._Element, **ending) -> None:
        if self._observer is None:
            return
        try:
            self._observer(Exchange(self._client.url, action, body, context=self._context,
                                    home_community_id=self._home_community_id, **ending))
        except Exception:
            log.exception("observer of the exchange with %s failed", self._client.url)
