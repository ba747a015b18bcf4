"""Removals a blob store could not do when they were due, retried in the background.

A submission that fails removes every blob it wrote (DESIGN.md §3). When the store itself is
what failed — the S3 server unreachable or killed mid-upload — that removal (AbortMultipartUpload,
DeleteObject) fails too, and the blob or incomplete upload would stay behind for good. A store
hands such a removal to its `Janitor`, which tries it again with growing pauses (1 s doubling
to 30 s) until it succeeds, and gives up only after `give_up_after` (6 h; then the bucket's
AbortIncompleteMultipartUpload lifecycle rule is the last resort). One daemon thread per
store, started on the first failed removal; removals are lost with the process.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Janitor"]

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
GIVE_UP_AFTER = 6 * 3600.0


@dataclass(eq=False)
class _Removal:
    what: str
    remove: Callable[[], None]
    due: float
    delay: float
    give_up_at: float
    attempts: int = 1


class Janitor:
    """Retries failed removals until they succeed; safe to share between threads."""

    def __init__(self, name: str = "blob store", *, first_delay: float = FIRST_DELAY,
                 max_delay: float = MAX_DELAY, give_up_after: float = GIVE_UP_AFTER,
                 clock: Callable[[], float] = time.monotonic, background: bool = True):
        self.name = name
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._give_up_after = give_up_after
        self._clock = clock
        self._background = background
        self._changed = threading.Condition()
        self._pending: list[_Removal] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def retry(self, what: str, remove: Callable[[], None]) -> None:
        """Try `remove()` again later (it failed just now); `what` names it in the log."""
        now = self._clock()
        with self._changed:
            if self._closed:
                log.error("%s: %s could not be removed and the store is closed; it stays", self.name, what)
                return
            self._pending.append(_Removal(what, remove, now + self._first_delay, self._first_delay,
                                          now + self._give_up_after))
            if self._background and self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"janitor {self.name}", daemon=True)
                self._thread.start()
            self._changed.notify()

    def pending(self) -> list[str]:
        """What still waits to be removed."""
        with self._changed:
            return [removal.what for removal in self._pending]

    def run_due(self) -> int:
        """Try each removal that is due once; returns how many are still pending."""
        now = self._clock()
        with self._changed:
            due = [removal for removal in self._pending if removal.due <= now]
        for removal in due:
            done = self._attempt(removal, now)
            with self._changed:
                if done:
                    self._pending.remove(removal)
        with self._changed:
            return len(self._pending)

    def close(self) -> None:
        """Stop the thread; what is still pending stays (and is logged)."""
        with self._changed:
            self._closed = True
            left = [removal.what for removal in self._pending]
            self._changed.notify()
        if left:
            log.warning("%s: closing with %d removal(s) not done: %s", self.name, len(left), ", ".join(left))

    def _attempt(self, removal: _Removal, now: float) -> bool:
        """True when the removal is done with: succeeded, or given up."""
        try:
            removal.remove()
        except Exception as exc:
            if now >= removal.give_up_at:
                log.error("%s: giving up removing %s after %d attempts: %s", self.name, removal.what,
                          removal.attempts, exc)
                return True
            removal.attempts += 1
            removal.delay = min(removal.delay * 2, self._max_delay)
            removal.due = now + removal.delay
            log.debug("%s: removing %s failed again (%s); next try in %.0f s", self.name, removal.what,
                      exc, removal.delay)
            return False
        log.info("%s: removed %s (attempt %d)", self.name, removal.what, removal.attempts + 1)
        return True

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._closed:
                    return
                wait = min((removal.due for removal in self._pending), default=None)
                if wait is None or wait > self._clock():
                    self._changed.wait(None if wait is None else wait - self._clock())
                    continue
            try:
                self.run_due()
            except Exception:  # never let the thread die: removals would silently stop
                log.exception("%s: janitor step failed", self.name)
                time.sleep(self._first_delay)
