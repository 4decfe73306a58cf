"""Time ``Signal.send`` against Django's dispatcher, blinker and a plain loop.

    python benchmarks/bench_dispatch.py [--repeat 21] [--batch 0.02]

Cases:

* ``0``, ``1``, ``10``: that many receivers connected for any sender;
* ``100 senders``: 100 receivers, each for its own sender, one of which sends.

Contenders: sigcli's ``Signal()`` and ``Signal(use_caching=True)``, Django's
``Signal(use_caching=True)`` and ``Signal()``, blinker, and the plain loop
``[(r, r(signal=s, sender=S, instance=None)) for r in receivers]`` over the
receivers a send would call, with the same keyword arguments. sigcli
observed by a journal that keeps nothing is timed for the 10-receiver case.

Every contender runs in timeit-style batches (a loop compiled by ``timeit``),
interleaved in a shuffled order within each of ``--repeat`` rounds, in one
process; the tables show medians per send, and ratios taken round by
round (the two batches of a round ran close in time) with their median.
Targets:
sigcli ≤ 0.5× Django for 10 receivers and for 100 senders, ≤ 1.5× the
plain loop for 10 receivers.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE)]

import blinker  # noqa: E402
from django.dispatch import Signal as DjangoSignal  # noqa: E402

from sigcli import dispatcher  # noqa: E402

CASES = ("0", "1", "10", "100 senders")


def make_receivers(count: int) -> list[Callable[..., Any]]:
    """Distinct module-level-like functions, alive for the whole run."""
    receivers = []
    for index in range(count):

        def receive(sender: Any, **kwargs: Any) -> None:
            return None

        receive.__qualname__ = f"receiver_{index}"
        receivers.append(receive)
    return receivers


def dropping_journal() -> dispatcher.Journal:
    """A journal that keeps nothing: what being observed costs a send itself
    (the recorder's journal keeps the events, and builds its tree later)."""
    from collections import deque

    journal = dispatcher.Journal(max_depth=50)
    journal.write = deque(maxlen=0).extend
    journal.inline = True
    return journal


def build_case(case: str) -> dict[str, timeit.Timer]:
    """One timer per contender; each statement sends once from sender S."""
    if case == "100 senders":
        receivers = make_receivers(100)
        senders = [type(f"Sender{i}", (), {}) for i in range(100)]
        pairs = list(zip(receivers, senders, strict=True))
        sender = senders[57]
        matching = [receivers[57]]
    else:
        receivers = make_receivers(int(case))
        sender = type("Sender", (), {})
        pairs = [(r, None) for r in receivers]
        matching = receivers

    signals: dict[str, Any] = {
        "sigcli": dispatcher.Signal(),
        "sigcli cached": dispatcher.Signal(use_caching=True),
        "django cached": DjangoSignal(use_caching=True),
        "django": DjangoSignal(),
    }
    for signal in signals.values():
        for r, s in pairs:
            signal.connect(r, sender=s)
    blinker_signal = blinker.Signal()
    for r, s in pairs:
        blinker_signal.connect(r, sender=blinker.ANY if s is None else s)

    timers = {}
    for name, signal in signals.items():
        timers[name] = timeit.Timer(
            "send(S, instance=None)", globals={"send": signal.send, "S": sender}
        )
    timers["blinker"] = timeit.Timer(
        "send(S, signal=s, instance=None)",
        globals={"send": blinker_signal.send, "S": sender, "s": blinker_signal},
    )
    timers["plain loop"] = timeit.Timer(
        "[(r, r(signal=s, sender=S, instance=None)) for r in receivers]",
        globals={"receivers": matching, "S": sender, "s": signals["sigcli"]},
    )
    if case == "10":
        observed_timer = timeit.Timer(
            "send(S, instance=None)", globals={"send": signals["sigcli"].send, "S": sender}
        )
        timers["sigcli observed"] = _ObservedTimer(observed_timer)
    check_same_results(signals, blinker_signal, sender, matching)
    return timers


class _ObservedTimer:
    """A timer whose batches run observed by a journal that keeps nothing."""

    def __init__(self, timer: timeit.Timer) -> None:
        self.timer = timer

    def timeit(self, number: int) -> float:
        with dispatcher.observe(dropping_journal()):
            return self.timer.timeit(number)


def check_same_results(
    signals: dict[str, Any], blinker_signal: Any, sender: Any, matching: list[Any]
) -> None:
    """Every contender calls the same receivers, so the timings compare."""
    expected = [(r, None) for r in matching]
    for name, signal in signals.items():
        got = signal.send(sender, instance=None)
        assert got == expected, f"{name} called {got}, expected {expected}"
    got = blinker_signal.send(sender, signal=blinker_signal, instance=None)
    assert sorted(map(id, (r for r, _ in got))) == sorted(map(id, matching))


def calibrate(timer: Any, batch_seconds: float) -> int:
    """Loops per batch so that one batch takes about ``batch_seconds``."""
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= batch_seconds / 4:
            return max(1, int(number * batch_seconds / elapsed))
        number *= 4


Samples = dict[str, dict[str, list[float]]]


def measure(repeat: int, batch_seconds: float) -> Samples:
    """Seconds per send, per case and contender, one sample per round."""
    all_samples: Samples = {}
    rng = random.Random(0)
    for case in CASES:
        timers = build_case(case)
        numbers = {name: calibrate(timer, batch_seconds) for name, timer in timers.items()}
        samples: dict[str, list[float]] = {name: [] for name in timers}
        for _ in range(repeat):
            order = list(timers)
            rng.shuffle(order)
            for name in order:
                samples[name].append(timers[name].timeit(numbers[name]) / numbers[name])
        all_samples[case] = samples
    return all_samples


def ratio(samples: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of a/b: each round's two batches ran close in
    time, so a burst of load elsewhere on the machine mostly cancels out."""
    return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))


def report(samples: Samples) -> list[str]:
    """The tables and the target verdicts, as lines of text."""
    medians = {
        case: {name: statistics.median(times) for name, times in row.items()}
        for case, row in samples.items()
    }
    contenders = [
        "sigcli",
        "sigcli cached",
        "django cached",
        "django",
        "blinker",
        "plain loop",
    ]
    lines = ["median time per send (µs)", ""]
    header = f"{'case':<12}" + "".join(f"{name:>15}" for name in contenders)
    lines += [header, "-" * len(header)]
    for case, row in medians.items():
        lines.append(f"{case:<12}" + "".join(f"{row[n] * 1e6:>15.3f}" for n in contenders))

    ratios = [
        ("sigcli cached / django cached", "sigcli cached", "django cached"),
        ("sigcli / django", "sigcli", "django"),
        ("sigcli / django cached", "sigcli", "django cached"),
        ("sigcli / plain loop", "sigcli", "plain loop"),
        ("sigcli / blinker", "sigcli", "blinker"),
    ]
    lines += [
        "",
        "ratios: median over rounds of the per-round ratio (lower is faster for sigcli)",
        "",
    ]
    header = f"{'case':<12}" + "".join(f"{label:>32}" for label, _, _ in ratios)
    lines += [header, "-" * len(header)]
    for case in samples:
        lines.append(
            f"{case:<12}" + "".join(f"{ratio(samples[case], a, b):>32.2f}" for _, a, b in ratios)
        )
    observed = ratio(samples["10"], "sigcli observed", "sigcli")
    lines += [
        "",
        f"10 receivers, observed by a journal that keeps nothing / not observed: {observed:.2f}x",
    ]

    targets = [
        (
            "10 receivers: sigcli cached <= 0.5 x django cached",
            "10",
            "sigcli cached",
            "django cached",
            0.5,
        ),
        ("10 receivers: sigcli <= 0.5 x django", "10", "sigcli", "django", 0.5),
        (
            "100 senders: sigcli cached <= 0.5 x django cached",
            "100 senders",
            "sigcli cached",
            "django cached",
            0.5,
        ),
        ("100 senders: sigcli <= 0.5 x django", "100 senders", "sigcli", "django", 0.5),
        ("10 receivers: sigcli <= 1.5 x plain loop", "10", "sigcli", "plain loop", 1.5),
        (
            "10 receivers: sigcli cached <= 1.5 x plain loop",
            "10",
            "sigcli cached",
            "plain loop",
            1.5,
        ),
    ]
    lines += ["", "targets", ""]
    for label, case, a, b, limit in targets:
        measured = ratio(samples[case], a, b)
        verdict = "PASS" if measured <= limit else "MISS"
        lines.append(f"{verdict}  {label}  (measured {measured:.2f})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="interleaved rounds (>= 7)")
    parser.add_argument("--batch", type=float, default=0.02, help="seconds per timed batch")
    args = parser.parse_args(argv)
    print("\n".join(report(measure(max(args.repeat, 7), args.batch))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
