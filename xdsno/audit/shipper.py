"""The shipper: a background thread delivering the audit outbox to its destinations.

Requests only insert records (xdsno.audit.store); this thread claims due outbox rows per
destination, hands them to the destination's sender (syslog RFC 5425, FHIR BALP) and marks
them delivered. A destination that fails is left alone for a backoff that doubles with every
consecutive failure (1 s up to `max_backoff`), its rows rescheduled to then; they stay in the
outbox, so neither an unreachable destination nor a restart loses a record. Delivery is at
least once: a record whose delivery was cut off may arrive twice (each carries its id).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

from .record import AuditRecord
from .store import AuditStore

log = logging.getLogger("xdsno.audit")


class Sender(Protocol):
    """A destination: `name` keys its outbox rows; `send` raises when not all were delivered."""

    name: str

    def send(self, records: Sequence[AuditRecord]) -> None: ...

    def close(self) -> None: ...


class PartialDelivery(Exception):
    """The first `delivered` records of a batch reached the destination, the rest did not."""

    def __init__(self, delivered: int, reason: str):
        super().__init__(reason)
        self.delivered = delivered


class Shipper:
    """Delivers the outbox of `store` to `senders` from one daemon thread."""

    def __init__(self, store: AuditStore, senders: Sequence[Sender], *, batch_size: int = 100,
                 lease_seconds: float = 60.0, poll_seconds: float = 5.0, min_backoff: float = 1.0,
                 max_backoff: float = 300.0):
        self.store = store
        self.senders = list(senders)
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self._failures = {sender.name: 0 for sender in self.senders}
        self._resume_at = {sender.name: 0.0 for sender in self.senders}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.senders and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="xdsno-audit-shipper", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Something was queued: deliver now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for sender in self.senders:
            _quietly(sender.close)

    def ship_once(self) -> bool:
        """One pass over every destination that is not backing off; True when anything was delivered."""
        delivered = False
        for sender in self.senders:
            if time.time() >= self._resume_at[sender.name]:
                delivered |= self._ship(sender)
        return delivered

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = self.ship_once()
            except Exception:  # the store itself failed: keep the thread, try again later
                log.exception("audit shipper pass failed")
                busy = False
            if not busy:
                self._wake.wait(self._idle_seconds())

    def _idle_seconds(self) -> float:
        now = time.time()
        waits = [self.poll_seconds] + [max(0.05, at - now) for at in self._resume_at.values() if at > now]
        return min(waits)

    def _ship(self, sender: Sender) -> bool:
        batch = self.store.claim(sender.name, limit=self.batch_size, lease_seconds=self.lease_seconds)
        if not batch:
            return False
        ids = [pending.outbox_id for pending in batch]
        try:
            sender.send([pending.record for pending in batch])
        except PartialDelivery as exc:
            self.store.delivered(ids[:exc.delivered])
            self._failed(sender, ids[exc.delivered:], str(exc))
            return exc.delivered > 0
        except Exception as exc:  # any failure of the destination: retry later, keep the rows
            self._failed(sender, ids, f"{type(exc).__name__}: {exc}")
            return False
        self.store.delivered(ids)
        self._failures[sender.name] = 0
        return True

    def _failed(self, sender: Sender, ids: list[int], reason: str) -> None:
        failures = self._failures[sender.name] = self._failures[sender.name] + 1
        delay = min(self.max_backoff, self.min_backoff * 2 ** (failures - 1))
        retry_at = time.time() + delay
        self._resume_at[sender.name] = retry_at
        self.store.failed(ids, reason, retry_at)
        log.warning("audit destination %s failed (%s); %d record(s) kept, next attempt in %.0f s",
                    sender.name, reason, len(ids), delay)


def _quietly(action) -> None:
    try:
        action()
    except Exception:
        log.debug("closing an audit sender failed", exc_info=True)
