"""Outbound calls of the Initiating Gateway: one HTTP client per community and a bounded,
deadline-driven fan-out (DESIGN.md §3; ITI TF-2 3.38.4.1.3 and 3.39.4.1.3, Initiating Gateway).

`FanOut.run` starts one call per community on a shared thread pool whose size is the fixed
maximum of outstanding outbound requests of this process: a storm of consumer requests queues
for those workers instead of opening unbounded connections. It waits for the calls until ONE
deadline and returns then, whatever is still running: calls not yet started are cancelled,
calls in flight finish in the background and their results are discarded (`discard` releases
what they hold, e.g. spooled attachments). Nothing waits on a slow community past the deadline.

`CommunityClients` keeps an httpx.Client per community, with that community's connection limit
and its timeout, cut to the deadline plus a short grace: an answer after the deadline is thrown
away anyway, and the grace lets the deadline, not a timeout racing it, name why it is missing.
Its TLS client context (server verified, client certificate presented: ATNA ITI-19) comes from
`tls(community)`, given by the composition root; without it, httpx's default verification.
"""
from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from soap.client import SoapClient, SoapTransportError

from .communities import Community

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

DEFAULT_MAX_OUTBOUND = 32
DEADLINE_GRACE_SECONDS = 1.0


class Unavailable(Exception):
    """A community gave no usable answer; the message says why (becomes the codeContext)."""


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What one call came to: its value, or why there is none."""

    value: T | None = None
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


class FanOut:
    """A fixed pool of outbound workers shared by every request of the gateway."""

    def __init__(self, max_outstanding: int = DEFAULT_MAX_OUTBOUND):
        if max_outstanding < 1:
            raise ValueError("max_outstanding must be at least 1")
        self.max_outstanding = max_outstanding
        self._pool = ThreadPoolExecutor(max_workers=max_outstanding, thread_name_prefix="xca-outbound")

    def run(
        self,
        calls: Mapping[K, Callable[[], T]],
        deadline_seconds: float,
        *,
        discard: Callable[[T], None] | None = None,
    ) -> dict[K, Outcome[T]]:
        """Run the calls concurrently; return after at most `deadline_seconds`."""
        if not calls:
            return {}
        deadline = time.monotonic() + deadline_seconds
        futures = {key: self._pool.submit(call) for key, call in calls.items()}
        wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
        return {key: self._settle(future, deadline_seconds, discard) for key, future in futures.items()}

    def _settle(self, future: Future, deadline_seconds: float,
                discard: Callable[[T], None] | None) -> Outcome[T]:
        if not future.done():
            if future.cancel():
                return Outcome(failure=f"not sent within the gateway's deadline of {deadline_seconds:g} s: "
                                       f"all {self.max_outstanding} outbound request slots were busy")
            if not future.done():
                if discard is not None:
                    future.add_done_callback(lambda late: _discard_late(late, discard))
                return Outcome(failure=f"no answer within the gateway's deadline of {deadline_seconds:g} s")
        error = future.exception()
        if error is None:
            return Outcome(value=future.result())
        return Outcome(failure=describe_failure(error))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def describe_failure(error: BaseException) -> str:
    """The reason text of a failed call, for the RegistryError's codeContext."""
    if isinstance(error, Unavailable):
        return str(error)
    if isinstance(error, SoapTransportError):
        return f"transport error: {error}"
    log.error("outbound call failed unexpectedly", exc_info=error)
    return f"internal error while calling it ({type(error).__name__})"


def _discard_late(future: Future, discard: Callable) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    try:
        discard(future.result())
    except Exception:  # a late answer's cleanup must never reach the worker
        log.exception("discarding a late answer failed")


class CommunityClients:
    """SOAP clients of every community, one connection pool per community."""

    def __init__(self, communities: Iterable[Community], deadline_seconds: float,
                 tls: Callable[[Community], ssl.SSLContext | bool] | None = None):
        self._http: dict[str, httpx.Client] = {}
        self._query: dict[str, SoapClient] = {}
        self._retrieve: dict[str, SoapClient] = {}
        for community in communities:
            http = httpx.Client(
                timeout=httpx.Timeout(min(community.timeout_seconds,
                                          deadline_seconds + DEADLINE_GRACE_SECONDS)),
                limits=httpx.Limits(max_connections=community.max_connections,
                                    max_keepalive_connections=community.max_connections),
                verify=tls(community) if tls is not None else True,
            )
            key = community.home_community_id
            self._http[key] = http
            self._query[key] = SoapClient(community.query_url, http_client=http)
            self._retrieve[key] = SoapClient(community.retrieve_url, http_client=http)

    def query(self, community: Community) -> SoapClient:
        return self._query[community.home_community_id]

    def retrieve(self, community: Community) -> SoapClient:
        return self._retrieve[community.home_community_id]

    def close(self) -> None:
        for http in self._http.values():
            http.close()
