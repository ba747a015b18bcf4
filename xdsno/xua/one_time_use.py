"""Assertions for one-time use (SAML 2.0 Core §2.5.1.5 `saml:OneTimeUse`): which ones this
process has accepted, until they expire.

A relying party must not use such an assertion again. `OneTimeUseCache.first_use` remembers
each accepted one by (Issuer, ID) — an ID is unique only per issuer (SAML Core §1.3.4) — until
its end of validity (Conditions NotOnOrAfter plus the clock skew): after that the validity
check refuses the assertion anyway, so the entry can go. Entries leave in expiry order (a
heap), so the cache holds at most the assertions accepted within one validity period.

The cache lives in the process (`ONE_TIME_USE`): gunicorn workers (`workers` > 1) each have
their own, so a second use landing in another worker is not noticed. A shared store (the
registry database) would close that gap at one write per request carrying OneTimeUse; with one
worker process — the default, also under TLS — every use is seen.
"""
from __future__ import annotations

import heapq
import threading
from datetime import datetime


class OneTimeUseCache:
    """(Issuer, ID) of the one-time assertions accepted so far, each until it expires."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], datetime] = {}
        self._expiry: list[tuple[datetime, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def first_use(self, issuer: str, assertion_id: str, until: datetime, now: datetime) -> bool:
        """True (and remembered until `until`) the first time; False for every use after."""
        key = (issuer, assertion_id)
        with self._lock:
            self._forget_expired(now)
            if key in self._until:
                return False
            self._until[key] = until
            heapq.heappush(self._expiry, (until, key))
            return True

    def __len__(self) -> int:
        return len(self._until)

    def _forget_expired(self, now: datetime) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            _, key = heapq.heappop(self._expiry)
            self._until.pop(key, None)


#: this process's one-time assertions (see the module docstring for several workers)
ONE_TIME_USE = OneTimeUseCache()
