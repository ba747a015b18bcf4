"""The janitor: removals a blob store could not do when they were due are retried (growing
pauses) until they succeed or `give_up_after` has passed; a writer's failed discard goes to it."""
from __future__ import annotations

import logging
import threading
import time

from repository.store.base import BlobStoreError
from repository.store.janitor import Janitor
from tests.repository.support import UnreliableStore


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Flaky:
    """A removal that fails `failures` times, then succeeds."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise BlobStoreError("S3 server unreachable (AbortMultipartUpload)")


def test_a_removal_is_retried_with_growing_pauses_until_it_succeeds():
    clock = Clock()
    janitor = Janitor(first_delay=1, max_delay=4, clock=clock, background=False)
    removal = Flaky(failures=3)
    janitor.retry("blob a", removal)
    assert janitor.run_due() == 1 and removal.calls == 0  # not due yet
    tried_at = []
    for _ in range(40):
        clock.now += 0.5
        calls = removal.calls
        left = janitor.run_due()
        if removal.calls > calls:
            tried_at.append(clock.now - 100)
        if not left:
            break
    assert tried_at == [1.0, 3.0, 7.0, 11.0]  # pauses 1, 2, 4, then capped at 4
    assert janitor.pending() == []


def test_a_removal_is_given_up_after_the_limit_and_logged(caplog):
    clock = Clock()
    janitor = Janitor(first_delay=1, max_delay=1, give_up_after=5, clock=clock, background=False)
    janitor.retry("blob b", Flaky(failures=1000))
    with caplog.at_level(logging.ERROR, logger="repository.store.janitor"):
        for _ in range(10):
            clock.now += 1
            if not janitor.run_due():
                break
    assert janitor.pending() == []
    assert "giving up removing blob b" in caplog.text


def test_the_background_thread_retries_on_its_own():
    janitor = Janitor(first_delay=0.01, max_delay=0.05)
    done = threading.Event()
    removal = Flaky(failures=2)

    def remove():
        removal()
        done.set()

    janitor.retry("blob c", remove)
    assert done.wait(10)
    deadline = time.monotonic() + 5
    while janitor.pending() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert janitor.pending() == [] and removal.calls == 3
    janitor.close()


def test_a_closed_janitor_takes_no_more_removals(caplog):
    janitor = Janitor(background=False)
    janitor.close()
    with caplog.at_level(logging.ERROR, logger="repository.store.janitor"):
        janitor.retry("blob d", Flaky(failures=0))
    assert janitor.pending() == [] and "it stays" in caplog.text


def test_a_writer_discard_that_fails_is_handed_to_the_janitor():
    store = UnreliableStore()
    writer = store.writer()
    writer.write(b"complete blob")
    writer.close_part()
    store.down = True
    writer.discard()  # the removal fails: logged, not raised
    assert store.blobs and store.janitor.pending() == [f"blob {writer.key}"]
    store.down = False
    assert store.janitor.run_due() == 0
    assert store.blobs == {}
