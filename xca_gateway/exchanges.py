"""What the Initiating Gateway tells an observer about each request it sends to a community
(ITI TF-2 3.38.6 and 3.39.6: the Initiating Gateway audits its Cross Gateway Query and
Retrieve as a Document Consumer would; the audit itself is the deployment's, xdsno.audit.outbound).

After every outbound ITI-38 or ITI-39 — answered, faulted, or failed in transport — the
gateway calls `observer(exchange)` on the outbound worker that made it, before the answer is
read further. `context` is what the endpoint handed the gateway with the consumer's request
(the WSGI environ: its XUA assertion names the user the request was made for). An observer
must not raise; if it does, the failure is logged and the exchange goes on.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from soap.client import SoapClient, SoapReply

from .communities import Community

log = logging.getLogger("xca_gateway.exchanges")


@dataclass(frozen=True)
class Exchange:
    """One outbound request and how it ended: the reply (`fault` set when it was a SOAP fault),
    or `failure`, why there was none."""

    community: Community
    url: str
    action: str
    request: etree._Element
    reply: SoapReply | None = None
    failure: str | None = None
    context: Any = None


Observer = Callable[[Exchange], None]


class ObservedClient:
    """A SoapClient view for one consumer request: adds its header blocks (the forwarded XUA
    assertion) to each call and tells the observer how each call ended."""

    def __init__(self, client: SoapClient, community: Community, *, headers: list[etree._Element],
                 observer: Observer | None, context: Any):
        self._client = client
        self._community = community
        self._headers = headers
        self._observer = observer
        self._context = context

    def call(self, action: str, body: etree._Element, **options) -> SoapReply:
        try:
            reply = self._client.call(action, body, headers=self._headers, **options)
        except Exception as exc:
            self._tell(action, body, failure=f"{type(exc).__name__}: {exc}")
            raise
        self._tell(action, body, reply=reply)
        return reply

    def _tell(self, action: str, body: etree._Element, **ending) -> None:
        if self._observer is None:
            return
        try:
            self._observer(Exchange(self._community, self._client.url, action, body,
                                    context=self._context, **ending))
        except Exception:
            log.exception("observer of the exchange with %s failed", self._community.home_community_id)
