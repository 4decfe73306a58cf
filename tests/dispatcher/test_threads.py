"""Several threads connect, disconnect, send and drop receivers at once.

The checks are the guarantees a lock around the receiver list gives:

* nothing raises;
* a send that *started* after ``disconnect`` returned never calls the
  disconnected receiver (a send that took its snapshot earlier may);
* no connection is lost: strong receivers that are never disconnected are
  called by every send, and a receiver is called by a send its own thread
  makes after ``connect`` returned and before it disconnects it.

Both implementations run the same test, so Django shows the test is fair.
"""

from __future__ import annotations

import gc
import itertools
import random
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dispatcher.conftest import Impl

DURATION = 2.0
SENDERS = [type(f"Sender{i}", (), {}) for i in range(4)]

_sequence = itertools.count()
_current = threading.local()


def now() -> int:
    """A global, strictly increasing tick (``next`` on a count is atomic)."""
    return next(_sequence)


class Churned:
    """A receiver that knows when its disconnect returned."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.disconnected_at: int | None = None

    def __call__(self, **kwargs: Any) -> str:
        started = getattr(_current, "send_started", None)
        if (
            self.disconnected_at is not None
            and started is not None
            and started > self.disconnected_at
        ):
            self.failures.append(
                f"called by a send started at {started}, "
                f"after disconnect returned at {self.disconnected_at}"
            )
        return "churned"

    def method(self, **kwargs: Any) -> str:
        return self(**kwargs)


@pytest.fixture
def fast_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.slow
@pytest.mark.parametrize("use_caching", [False, True])
def test_concurrent_connect_disconnect_send(
    impl: Impl, use_caching: bool, fast_switching: None
) -> None:
    stress(impl.Signal(use_caching=use_caching))


class NullObserver:
    def send_started(self, *args: Any) -> None:
        pass

    def receiver_started(self, *args: Any) -> None:
        pass

    def receiver_finished(self, *args: Any) -> None:
        pass

    def send_finished(self, *args: Any) -> None:
        pass


@pytest.mark.slow
@pytest.mark.parametrize("use_caching", [False, True])
def test_concurrent_observed_sends(use_caching: bool, fast_switching: None) -> None:
    from sigcli.dispatcher import Signal, observe

    with observe(NullObserver()):
        stress(Signal(use_caching=use_caching))


@pytest.mark.slow
@pytest.mark.parametrize("use_caching", [False, True])
def test_concurrent_sends_under_the_recorder(use_caching: bool, fast_switching: None) -> None:
    """The recorder's journal takes the inline events of the fast path, from
    every thread at once; its tree is then built without a hitch."""
    from sigcli.dispatcher import Signal, observe
    from sigcli.trace import Recorder, Trace

    recorder = Recorder(Trace(scenario=None))
    recorder.start_step("stress", "stress")
    signal = Signal(use_caching=use_caching)
    with observe(recorder):
        stress(signal)
    recorder.finish_step(None)
    dispatches = list(recorder.trace.dispatches())
    assert len(dispatches) > 200
    assert all(d.depth == 1 and not d.error for d in dispatches)
    called = [c for d in dispatches for c in d.receivers if c.called]
    assert {c.name for c in called} >= {
        "stress.<locals>.anchor_any",
        "stress.<locals>.anchor_first",
    }


def stress(signal: Any) -> None:
    """Run the threads against ``signal`` for DURATION seconds, then check."""
    failures: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    counts = {"sends": 0, "churns": 0}

    def anchor_any(**kwargs: Any) -> str:
        return "anchor-any"

    def anchor_first(**kwargs: Any) -> str:
        return "anchor-first"

    signal.connect(anchor_any, weak=False)
    signal.connect(anchor_first, sender=SENDERS[0], weak=False)

    def send_once(rng: random.Random) -> list[tuple[Any, Any]]:
        sender = rng.choice(SENDERS)
        _current.send_started = now()
        try:
            method = signal.send if rng.random() < 0.7 else signal.send_robust
            result = method(sender, value=1)
        finally:
            _current.send_started = None
        called = [r for r, _ in result]
        if called.count(anchor_any) != 1:
            failures.append(f"anchor for any sender called {called.count(anchor_any)} times")
        expected_first = 1 if sender is SENDERS[0] else 0
        if called.count(anchor_first) != expected_first:
            failures.append(f"anchor for {sender.__name__} missing or duplicated")
        counts["sends"] += 1
        return result

    def sender_loop(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                send_once(rng)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def churn_loop(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                target = Churned(failures)
                bound = rng.random() < 0.5
                receiver = target.method if bound else target
                sender = rng.choice([None, *SENDERS])
                weak = rng.random() < 0.5
                signal.connect(receiver, sender=sender, weak=weak)
                probe_sender = sender if sender is not None else rng.choice(SENDERS)
                _current.send_started = now()
                try:
                    called = [r for r, _ in signal.send(probe_sender)]
                finally:
                    _current.send_started = None
                if receiver not in called:
                    failures.append("a receiver connected before the send was not called")
                if rng.random() < 0.8:
                    if signal.disconnect(receiver, sender=sender) is not True:
                        failures.append("disconnect of a live connection returned False")
                    target.disconnected_at = now()
                    send_once(rng)
                if rng.random() < 0.05:
                    gc.collect()
                del receiver, target
                counts["churns"] += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sender_loop, args=(seed,)) for seed in range(2)]
    threads += [threading.Thread(target=churn_loop, args=(seed,)) for seed in range(10, 14)]
    for thread in threads:
        thread.start()
    time.sleep(DURATION)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert not failures, failures[:3]
    assert counts["sends"] > 100
    assert counts["churns"] > 100
