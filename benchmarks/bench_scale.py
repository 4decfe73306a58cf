"""Time and peak memory of ``sigcli run`` on huge runs, and the cost of tracing.

    python benchmarks/bench_scale.py [--repeat 3] [--sizes 20000 200000]

The scenario sends a custom signal N times in a loop to one receiver, then
saves 100 model instances (each a pre_save and a post_save with a receiver).

* **run**: the whole ``sigcli run SCENARIO`` command (load, run under the
  recorder, save the trace file, print the tree cut at ``--limit 500``), in a
  fresh subprocess per measurement, so that peak memory (VmHWM) is
  that run's own. Sizes are interleaved within each of ``--repeat`` rounds;
  the table shows medians. Target: linear growth, ≤ 11× the time for 10×
  the dispatches. The same command with no loop at all (start-up, the 100
  saves, printing) is timed too, and the growth is also shown without it.
* **per dispatch**: the scenario's loop step alone, each measurement in a
  fresh interpreter as ``sigcli run`` is (a process that has just freed a
  huge trace allocates more slowly), modes interleaved, medians per
  dispatch: with no observer (the dispatcher's cached path); writing
  its events to a journal that drops them (the cost of being observed at
  all); under sigcli's recorder, which keeps the events (**traced**); and
  the same plus building the trace's tree from them once the step is over
  (**traced + tree**). Target: traced ≤ 3× untraced. The tree is built
  after the run, not during it, so that a traced send stays close to an
  untraced one; what building costs is shown beside it.
* **reading a big trace**: ``sigcli trace FILE --sender Item`` on the trace of
  a ``--trace-size`` run (300,000 dispatches, about 130 MB), against only
  parsing that file with ``json.loads``, and with orjson and msgspec where
  they are installed. Target: ≤ 3 s and ≤ 3× the file's size in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

SCENARIO = '''\
import os

import sigcli
from sigcli import models
from sigcli.dispatcher import Signal, receiver
from sigcli.signals import post_save

N = int(os.environ["SIGCLI_BENCH_N"])
tick = Signal()


class Item(models.Model):
    name = models.CharField(max_length=20)


@receiver(tick)
def on_tick(sender, n, **kwargs):
    return None


@receiver(post_save, sender=Item)
def on_save(sender, instance, created, **kwargs):
    return None


@sigcli.step
def ticks():
    """a custom signal sent in a loop"""
    for n in range(N):
        tick.send(sender=Item, n=n)


@sigcli.step
def saves():
    """a few model saves"""
    for n in range(100):
        Item.objects.create(name=f"item {n}")
'''


def dropping_journal() -> Any:
    """A journal that keeps nothing: what being observed costs a send itself."""
    from collections import deque

    from sigcli import dispatcher

    journal = dispatcher.Journal(max_depth=50)
    journal.write = deque(maxlen=0).extend
    journal.inline = True
    return journal


# -- children (one measurement each, in a fresh interpreter) ---------------------


def child_run(scenario: Path) -> dict[str, float]:
    """The whole command in-process; stdout goes to a file, as when piped."""
    from sigcli.cli import main

    start = time.perf_counter()
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        try:
            main(["run", str(scenario), "--save", str(scenario.with_suffix(".json"))])
        except SystemExit as exit:
            if exit.code:
                raise RuntimeError(f"sigcli run exited {exit.code}") from None
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mb": peak_kb() / 1024}


def peak_kb() -> int:
    """Peak resident memory of this process image. Linux's VmHWM where there is
    one: ``ru_maxrss`` also counts a vfork parent's memory before the exec."""
    status = Path("/proc/self/status")
    if status.exists():
        match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        if match:
            return int(match.group(1))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_dispatch(scenario: Path, mode: str) -> dict[str, float]:
    """Seconds per dispatch of the loop step in one ``mode``: untraced,
    observed by a journal that drops its events, or traced (then also with
    the tree built)."""
    from sigcli import dispatcher
    from sigcli import scenario as scenarios
    from sigcli.trace import Recorder, Trace, recording

    n = int(os.environ["SIGCLI_BENCH_N"])
    with scenarios.loaded(scenario) as loaded:
        ticks = loaded.steps[0].function
        if mode == "untraced":
            start = time.perf_counter()
            ticks()
            return {"untraced": (time.perf_counter() - start) / n}
        if mode == "journal":
            with dispatcher.observe(dropping_journal()):
                start = time.perf_counter()
                ticks()
                return {"journal": (time.perf_counter() - start) / n}
        recorder = Recorder(Trace(str(scenario)))
        recorder.start_step("ticks", "ticks")
        with recording(recorder):
            start = time.perf_counter()
            ticks()
            sent = time.perf_counter()
            recorder.finish_step(None)
            built = time.perf_counter()
        return {"traced": (sent - start) / n, "traced + tree": (built - start) / n}


def child_read(trace: Path, mode: str) -> dict[str, float]:
    """Seconds and peak memory of reading a big trace file one way: the whole
    ``sigcli trace FILE --sender Item`` command, or only parsing its JSON with
    the standard library, orjson or msgspec (for comparison; sigcli uses none
    of the last two)."""
    start = time.perf_counter()
    if mode == "sigcli trace --sender":
        from sigcli.cli import main

        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            try:
                main(["trace", str(trace), "--sender", "Item"])
            except SystemExit as exit:
                if exit.code:
                    raise RuntimeError(f"sigcli trace exited {exit.code}") from None
    elif mode == "json.loads":
        json.loads(trace.read_text(encoding="utf-8"))
    elif mode == "orjson.loads":
        import orjson

        orjson.loads(trace.read_bytes())
    elif mode == "msgspec decode":
        import msgspec

        msgspec.json.decode(trace.read_bytes())
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_kb() / 1024}


def read_modes() -> list[str]:
    """The ways of reading compared: the JSON libraries only where installed."""
    import importlib.util

    modes = ["sigcli trace --sender", "json.loads"]
    for name, mode in (("orjson", "orjson.loads"), ("msgspec", "msgspec decode")):
        if importlib.util.find_spec(name) is not None:
            modes.append(mode)
    return modes


# -- the parent --------------------------------------------------------------------


def spawn(args: list[str], n: int) -> Any:
    env = dict(os.environ, SIGCLI_BENCH_N=str(n), PYTHONPATH=str(ROOT))
    output = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs=2, default=[20_000, 200_000])
    parser.add_argument(
        "--trace-size",
        type=int,
        default=300_000,
        help="dispatches in the trace file that `sigcli trace --sender` reads (0: skip)",
    )
    parser.add_argument("--child", choices=["run", "dispatch", "read"], help=argparse.SUPPRESS)
    parser.add_argument("--scenario", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child == "run":
        print(json.dumps(child_run(options.scenario)))
        return
    if options.child == "dispatch":
        print(json.dumps(child_dispatch(options.scenario, options.mode)))
        return
    if options.child == "read":
        print(json.dumps(child_read(options.scenario, options.mode)))
        return

    small, large = options.sizes
    with tempfile.TemporaryDirectory() as directory:
        scenario = Path(directory) / "scale.py"
        scenario.write_text(SCENARIO)
        runs: dict[int, list[dict[str, float]]] = {0: [], small: [], large: []}
        for _ in range(options.repeat):
            for n in runs:
                runs[n].append(spawn(["--child", "run", "--scenario", str(scenario)], n))
        per_dispatch: dict[str, list[float]] = {}
        for _ in range(options.repeat):
            for mode in ("untraced", "journal", "traced"):
                measured = spawn(
                    ["--child", "dispatch", "--scenario", str(scenario), "--mode", mode], large
                )
                for key, seconds in measured.items():
                    per_dispatch.setdefault(key, []).append(seconds)
        reads: dict[str, list[dict[str, float]]] = {mode: [] for mode in read_modes()}
        trace_size = 0
        if options.trace_size:
            big = Path(directory) / "big.py"
            big.write_text(SCENARIO)
            spawn(["--child", "run", "--scenario", str(big)], options.trace_size)
            trace = big.with_suffix(".json")
            trace_size = trace.stat().st_size
            for _ in range(options.repeat):
                for mode in reads:
                    args = ["--child", "read", "--scenario", str(trace), "--mode", mode]
                    reads[mode].append(spawn(args, 0))

    print(f"sigcli run, whole command (medians of {options.repeat}, each in its own process)")
    print(f"{'dispatches':>12} {'seconds':>9} {'peak MB':>9} {'µs/dispatch':>12}")
    medians = {}
    for n, samples in runs.items():
        seconds = statistics.median(s["seconds"] for s in samples)
        peak = statistics.median(s["peak_mb"] for s in samples)
        medians[n] = seconds
        dispatches = n + 200  # the loop, and a pre_save and post_save per saved item
        print(f"{dispatches:>12,} {seconds:>9.2f} {peak:>9.0f} {seconds / dispatches * 1e6:>12.1f}")
    growth = medians[large] / medians[small]
    print(
        f"growth: {growth:.1f}× the time for {large / small:.0f}× the work "
        f"(target ≤ 11×): {'ok' if growth <= 11 else 'MISSED'}"
    )
    net = (medians[large] - medians[0]) / (medians[small] - medians[0])
    print(f"growth without the fixed cost of the empty run: {net:.1f}×")

    print(f"\nper dispatch, loop step of {large:,} sends (medians of {options.repeat})")
    us = {mode: statistics.median(values) * 1e6 for mode, values in per_dispatch.items()}
    for mode, value in us.items():
        print(f"{mode:>14} {value:8.2f} µs  {value / us['untraced']:5.1f}× untraced")
    ratio = us["traced"] / us["untraced"]
    print(f"traced/untraced: {ratio:.1f}× (target ≤ 3×): {'ok' if ratio <= 3 else 'MISSED'}")
    print(
        f"building the tree after the run: {us['traced + tree'] - us['traced']:.2f} µs "
        f"per dispatch; traced + tree is {us['traced + tree'] / us['untraced']:.1f}× untraced"
    )
    if trace_size:
        megabytes = trace_size / 1e6
        print(
            f"\nreading a trace of {options.trace_size + 200:,} dispatches, {megabytes:.0f} MB "
            f"(medians of {options.repeat}, each in its own process)"
        )
        print(f"{'':>24} {'seconds':>9} {'peak MB':>9} {'× file':>8}")
        for mode, samples in reads.items():
            seconds = statistics.median(s["seconds"] for s in samples)
            peak = statistics.median(s["peak_mb"] for s in samples)
            print(f"{mode:>24} {seconds:>9.2f} {peak:>9.0f} {peak * 1.048576 / megabytes:>8.1f}")
        command = reads["sigcli trace --sender"]
        seconds = statistics.median(s["seconds"] for s in command)
        ratio = statistics.median(s["peak_mb"] for s in command) * 1.048576 / megabytes
        print(
            f"sigcli trace --sender: {seconds:.1f} s (target ≤ 3 s), {ratio:.1f}× the file "
            f"(target ≤ 3×): {'ok' if seconds <= 3 and ratio <= 3 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
