"""What observing Django costs: Django's own ``send`` with sigcli's observer
installed, against the same send without it; and a real app's test suite run
under ``sigcli record`` against the same suite run alone.

    python benchmarks/bench_django.py [--repeat 21] [--batch 0.02]
    python benchmarks/bench_django.py --suite DIR -- COMMAND...   (see below)

Sends. Cases: ``1`` and ``10`` receivers connected for any sender, and
``100 senders`` (100 receivers, each for its own sender, one of which sends),
on ``Signal()`` and on ``Signal(use_caching=True)`` (the model signals').
"Observed" is a recorder (the journal ``sigcli record`` uses) that keeps
every event, emptied between batches. Batches interleave in a shuffled order
within each of ``--repeat`` rounds, in one process; a ratio is taken round
by round, and the median reported. Times are the process's CPU time, so
that other work on a shared machine does not count. Target: observed <= 2x
unobserved in every case.

A suite. ``--suite DIR -- COMMAND...`` runs ``python COMMAND...`` in DIR,
alone and under ``sigcli record``, alternately, ``--runs`` times each, and
compares wall times (median ratio) and the test outcome lines. For example,
with django-reversion's sdist (its tests are in the sdist; nothing of it
is kept in this repository)::

    pip download --no-deps --no-binary :all: django-reversion==6.1.0
    tar xzf django-reversion-6.1.0.tar.gz
    python benchmarks/bench_django.py --suite django-reversion-6.1.0 \\
        -- tests/manage.py test tests

(With a settings module that points its three databases at SQLite, since
its Postgres and MySQL tests need servers.) Target: the same tests pass
and fail, in at most 1.3x the time (wall time, and the children's CPU
time, which a loaded machine disturbs less).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE)]

from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(DEBUG=False)

from django.dispatch import Signal  # noqa: E402

from sigcli.djangoengine.observer import observe_django  # noqa: E402
from sigcli.recorder import Recorder, fewer_collections  # noqa: E402
from sigcli.trace import Trace  # noqa: E402

CASES = ("1", "10", "100 senders")


def make_receivers(count: int) -> list[Callable[..., Any]]:
    receivers = []
    for index in range(count):

        def receive(sender: Any, **kwargs: Any) -> None:
            return None

        receive.__qualname__ = f"receiver_{index}"
        receivers.append(receive)
    return receivers


class _ObservedTimer:
    """A timer whose batches run observed by a fresh recorder, with the
    garbage collector tuned as ``sigcli record`` tunes it."""

    def __init__(self, timer: timeit.Timer) -> None:
        self.timer = timer

    def timeit(self, number: int) -> float:
        recorder = Recorder(Trace(scenario=None), max_depth=200)
        with observe_django(recorder), fewer_collections():
            return self.timer.timeit(number)


def build_case(case: str, caching: bool) -> dict[str, Any]:
    if case == "100 senders":
        receivers = make_receivers(100)
        senders = [type(f"Sender{i}", (), {}) for i in range(100)]
        pairs = list(zip(receivers, senders, strict=True))
        sender = senders[57]
        expected = [(receivers[57], None)]
    else:
        receivers = make_receivers(int(case))
        sender = type("Sender", (), {})
        pairs = [(r, None) for r in receivers]
        expected = [(r, None) for r in receivers]
    signal = Signal(use_caching=caching)
    for r, s in pairs:
        signal.connect(r, sender=s)
    assert signal.send(sender, instance=None) == expected
    recorder = Recorder(Trace(scenario=None), max_depth=200)
    with observe_django(recorder):
        assert signal.send(sender, instance=None) == expected
    assert len(list(recorder.trace.dispatches(setup=True))) == 1
    timer = timeit.Timer(
        "s.send(S, instance=None)",  # looked up at each send: the class is patched
        globals={"s": signal, "S": sender},
        timer=time.process_time,
    )
    return {"django": timer, "observed": _ObservedTimer(timer), "keep": receivers}


def calibrate(timer: Any, batch_seconds: float) -> int:
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= batch_seconds / 4:
            return max(1, int(number * batch_seconds / elapsed))
        number *= 4


def measure_sends(repeat: int, batch_seconds: float) -> list[str]:
    rng = random.Random(0)
    lines = [
        f"{'case':<24}{'django µs':>12}{'observed µs':>14}{'ratio':>8}  target <= 2x",
        "-" * 70,
    ]
    failed = False
    for caching in (False, True):
        for case in CASES:
            built = build_case(case, caching)
            timers = {name: built[name] for name in ("django", "observed")}
            numbers = {name: calibrate(t, batch_seconds) for name, t in timers.items()}
            samples: dict[str, list[float]] = {name: [] for name in timers}
            for _ in range(repeat):
                order = list(timers)
                rng.shuffle(order)
                for name in order:
                    samples[name].append(timers[name].timeit(numbers[name]) / numbers[name])
            ratio = statistics.median(
                o / d for o, d in zip(samples["observed"], samples["django"], strict=True)
            )
            label = f"{case}{' (caching)' if caching else ''}"
            verdict = "ok" if ratio <= 2 else "MISSED"
            failed |= ratio > 2
            lines.append(
                f"{label:<24}{statistics.median(samples['django']) * 1e6:>12.3f}"
                f"{statistics.median(samples['observed']) * 1e6:>14.3f}{ratio:>8.2f}  {verdict}"
            )
    lines.append("")
    lines.append("targets: " + ("MISSED" if failed else "all met"))
    return lines


#: The lines of a test run's output that say how it went (unittest, pytest).
_OUTCOME = re.compile(r"^(Ran \d+ tests?|OK\b.*|FAILED \(.*|=+ .*(passed|failed|error).* =+)$")


def measure_suite(folder: Path, command: list[str], runs: int) -> list[str]:
    """Wall times and outcomes of ``python COMMAND`` in ``folder``, alone and
    recorded, alternately."""
    alone = [sys.executable, *command]
    saved = str(folder / ".sigcli-bench.json")
    recorded = [sys.executable, "-m", "sigcli", "record", "--save", saved, "--", *command]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(HERE), str(folder)])}
    times: dict[str, list[float]] = {"alone": [], "recorded": []}
    cpu: dict[str, list[float]] = {"alone": [], "recorded": []}
    outcomes: dict[str, set[tuple[int, tuple[str, ...]]]] = {"alone": set(), "recorded": set()}
    summary = ""
    for _ in range(runs):
        for name, argv in (("alone", alone), ("recorded", recorded)):
            start, used = time.perf_counter(), _children_cpu()
            done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(_children_cpu() - used)
            text = (done.stdout + done.stderr).splitlines()
            outcome = tuple(
                re.sub(r" in [\d.]+s", "", line)
                for line in text
                if _OUTCOME.match(line) and not line.startswith("Ran")
            )
            ran = tuple(re.sub(r" in [\d.]+s", "", line) for line in text if line.startswith("Ran"))
            outcomes[name].add((done.returncode, ran + outcome))
            if name == "recorded":
                summary = "\n".join(line for line in text if line.startswith(("sigcli:", "  ")))
    ratio = statistics.median(r / a for r, a in zip(times["recorded"], times["alone"], strict=True))
    cpu_ratio = statistics.median(r / a for r, a in zip(cpu["recorded"], cpu["alone"], strict=True))
    same = outcomes["alone"] == outcomes["recorded"] and len(outcomes["alone"]) == 1
    return [
        f"suite: python {' '.join(command)} in {folder}, {runs} runs each, interleaved",
        f"  alone:    median {statistics.median(times['alone']):.2f} s  {sorted(outcomes['alone'])}",
        f"  recorded: median {statistics.median(times['recorded']):.2f} s  "
        f"{sorted(outcomes['recorded'])}",
        f"  recorded / alone: wall {ratio:.2f}x, CPU {cpu_ratio:.2f}x "
        f"(CPU median {statistics.median(cpu['alone']):.2f} s alone; target <= 1.3x: "
        f"{'ok' if min(ratio, cpu_ratio) <= 1.3 else 'MISSED'})",
        f"  same outcome: {'yes' if same else 'NO'}",
        "  last recording's summary:",
        summary,
    ]


def _children_cpu() -> float:
    """CPU seconds used so far by finished child processes: on a shared
    machine, what a suite costs, whatever else runs meanwhile."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--batch", type=float, default=0.02)
    parser.add_argument("--suite", type=Path, help="a third-party app's folder (see above)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("command", nargs="*", help="the suite's command, after --")
    args = parser.parse_args()
    if args.suite is not None:
        if not args.command:
            parser.error("--suite needs the command that runs its tests, after --")
        lines = measure_suite(args.suite.resolve(), args.command, args.runs)
    else:
        lines = measure_sends(args.repeat, args.batch)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
