"""xca_gateway.outbound.FanOut: one deadline, bounded workers, late answers discarded."""
from __future__ import annotations

import threading
import time

import pytest

from soap.client import SoapTransportError
from xca_gateway.outbound import FanOut, Unavailable


@pytest.fixture
def fanout():
    pool = FanOut(max_outstanding=2)
    yield pool
    pool.close()


def test_values_and_reasons_per_key(fanout):
    def unavailable():
        raise Unavailable("answered a SOAP fault (Receiver): down")

    def refused():
        raise SoapTransportError("ConnectError: refused")

    outcomes = fanout.run({"a": lambda: 1, "b": unavailable, "c": refused}, 5)
    assert outcomes["a"].ok and outcomes["a"].value == 1
    assert outcomes["b"].failure == "answered a SOAP fault (Receiver): down"
    assert outcomes["c"].failure == "transport error: ConnectError: refused"


def test_an_unexpected_error_is_named_by_type_only(fanout):
    def broken():
        raise KeyError("secret detail")

    assert fanout.run({"a": broken}, 5)["a"].failure == "internal error while calling it (KeyError)"


def test_the_deadline_is_kept_and_late_answers_are_discarded(fanout):
    release, discarded = threading.Event(), []

    def slow():
        release.wait(10)
        return "late"

    started = time.monotonic()
    outcomes = fanout.run({"fast": lambda: "fast", "slow": slow}, 0.3, discard=discarded.append)
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.0
    assert outcomes["fast"].value == "fast"
    assert outcomes["slow"].failure == "no answer within the gateway's deadline of 0.3 s"
    release.set()
    for _ in range(100):
        if discarded:
            break
        time.sleep(0.01)
    assert discarded == ["late"]


def test_calls_that_never_got_a_worker_are_cancelled(fanout):
    release, ran = threading.Event(), []

    def blocking(name):
        def call():
            ran.append(name)
            release.wait(10)
        return call

    outcomes = fanout.run({name: blocking(name) for name in "abc"}, 0.2)
    release.set()
    assert sorted(ran) == ["a", "b"]  # two workers: the third call was never started
    assert outcomes["c"].failure.startswith("not sent within the gateway's deadline of 0.2 s: all 2 outbound")


def test_nothing_to_do_returns_at_once(fanout):
    assert fanout.run({}, 5) == {}


def test_at_least_one_worker():
    with pytest.raises(ValueError):
        FanOut(0)
