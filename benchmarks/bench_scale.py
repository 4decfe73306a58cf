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
* **reading a big trace**: ``sigcli trace FILE --sender X`` on two traces
  of about 300,000 dispatches: one saved by a ``--trace-size`` run of the
  scenario above (one custom signal in a loop, ``--sender Item``), and one
  made by ``sigcli record`` of a Django test suite (``--django-tests`` tests,
  one step each, creating, reading, saving and deleting rows: init and save
  signals with 0 to 3 receivers, receivers that save in turn; ``--sender
  Author``, a sender of one dispatch in fifteen). Against only parsing the
  same file with ``json.loads``, and with orjson and msgspec (into plain
  objects). ``--sender`` is also measured with ``--busy`` (default 2)
  processes spinning beside it, as on a shared machine. On the Django
  suite's trace, the reads that build every record are measured too: the
  default view (no filter) and ``--format json``. Target: ``--sender`` ≤ 3 s
  (loaded too), and every read ≤ 3× the file's size in memory.
* ``--parts million``: ``sigcli run`` of 1,000,000 dispatches, saving the
  trace and printing it with ``--json``; ``--parts limit0``: ``sigcli trace
  --limit 0`` (drawing every dispatch) of the scenario's big trace. Each
  takes minutes.
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
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
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


#: A Django program whose test suite ``sigcli record`` turns into a big trace:
#: file name → text, written into a folder of its own.
DJANGO_SUITE = {
    "bookapp/__init__.py": "",
    "bookapp/apps.py": """\
from django.apps import AppConfig


class BookConfig(AppConfig):
    name = "bookapp"

    def ready(self):
        from bookapp import receivers  # noqa: F401
""",
    "bookapp/models.py": """\
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=40)
    books = models.IntegerField(default=0)

    class Meta:
        app_label = "bookapp"


class Book(models.Model):
    title = models.CharField(max_length=40)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

    class Meta:
        app_label = "bookapp"


class Review(models.Model):
    book = models.ForeignKey(Book, on_delete=models.CASCADE)
    stars = models.IntegerField()

    class Meta:
        app_label = "bookapp"
""",
    "bookapp/receivers.py": """\
from django.db.models.signals import post_delete, post_init, post_save, pre_save
from django.dispatch import receiver

from bookapp.models import Author, Book, Review


@receiver(post_init, sender=Book)
def remember_title(sender, instance, **kwargs):
    instance._loaded_title = instance.title


@receiver(pre_save)
def audit(sender, instance, **kwargs):
    return None


@receiver(pre_save, sender=Book)
def clean_title(sender, instance, **kwargs):
    instance.title = instance.title.strip()


@receiver(post_save, sender=Book)
def count_books(sender, instance, created, **kwargs):
    if created:
        Author.objects.filter(pk=instance.author_id).update(books=instance.author.books + 1)


@receiver(post_save, sender=Review)
def touch_book(sender, instance, created, **kwargs):
    if instance.stars == 5:
        instance.book.save()


@receiver(post_delete, sender=Review)
def forget_review(sender, instance, **kwargs):
    return None
""",
    "suite.py": """\
import os
import sys
import unittest

import django
from django.conf import settings

settings.configure(
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=["bookapp"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=False,
)
django.setup()

from django.db import connection  # noqa: E402

from bookapp.models import Author, Book, Review  # noqa: E402

with connection.schema_editor() as editor:
    for model in (Author, Book, Review):
        editor.create_model(model)


class LibraryTests(unittest.TestCase):
    pass


def make_test(n):
    def test(self):
        author = Author.objects.create(name=f"author {n}")
        books = [Book.objects.create(title=f" book {n}.{i} ", author=author) for i in range(3)]
        for i, book in enumerate(books):
            Review.objects.create(book=book, stars=1 + (n + i) % 5)
        self.assertEqual(len(list(Book.objects.filter(author=author))), 3)
        for review in Review.objects.filter(book__author=author):
            review.stars = 5
            review.save()
        books[0].delete()
        self.assertEqual(Book.objects.filter(author=author).count(), 2)

    return test


for n in range(int(os.environ["SIGCLI_BENCH_TESTS"])):
    setattr(LibraryTests, f"test_library_{n:05}", make_test(n))

result = unittest.main(argv=["suite"], exit=False, verbosity=0).result
sys.exit(0 if result.wasSuccessful() else 1)
""",
}


def record_django_suite(folder: Path, tests: int) -> Path:
    """The trace ``sigcli record`` saves of the Django suite with ``tests`` tests
    (46 dispatches each)."""
    for name, text in DJANGO_SUITE.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    trace = folder / "suite.json"
    env = dict(os.environ, SIGCLI_BENCH_TESTS=str(tests), PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-m", "sigcli", "record", "--save", str(trace), "--", "suite.py"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )
    return trace


def dropping_journal() -> Any:
    """A journal that keeps nothing: what being observed costs a send itself."""
    from collections import deque

    from sigcli import dispatcher

    journal = dispatcher.Journal(max_depth=50)
    journal.write = deque(maxlen=0).extend
    journal.inline = True
    return journal


# -- children (one measurement each, in a fresh interpreter) ---------------------


def child_run(scenario: Path, mode: str | None = None) -> dict[str, float]:
    """The whole command in-process; stdout goes to a file, as when piped.
    The trace is saved beside the scenario, or with mode ``--json`` printed
    instead."""
    from sigcli.cli import main

    where = (
        ["--json", "--no-save"]
        if mode == "--json"
        else ["--save", str(scenario.with_suffix(".json"))]
    )
    start = time.perf_counter()
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        try:
            main(["run", str(scenario), *where])
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


def child_read(trace: Path, mode: str, sender: str) -> dict[str, float]:
    """Seconds and peak memory of reading a big trace file one way: the whole
    ``sigcli trace FILE --sender SENDER`` command (or ``--limit 0``, drawing
    everything; no filter; ``--format json``), or only parsing its JSON with
    the standard library, orjson or msgspec into plain objects (for
    comparison)."""
    start = time.perf_counter()
    if mode.startswith("sigcli trace"):
        from sigcli.cli import main

        args = {
            "sigcli trace --sender": ["--sender", sender],
            "sigcli trace --limit 0": ["--limit", "0"],
            "sigcli trace --format json": ["--format", "json"],
            "sigcli trace": [],
        }[mode.removesuffix(BUSY)]
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            try:
                main(["trace", str(trace), *args])
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


#: Marks a mode measured with ``--busy`` processes spinning beside it.
BUSY = " (busy)"


def read_modes(busy: int) -> list[str]:
    """The ways of reading compared: the JSON libraries only where installed."""
    import importlib.util

    modes = ["sigcli trace --sender"] + ["sigcli trace --sender" + BUSY] * bool(busy)
    modes.append("json.loads")
    for name, mode in (("orjson", "orjson.loads"), ("msgspec", "msgspec decode")):
        if importlib.util.find_spec(name) is not None:
            modes.append(mode)
    return modes


# -- the parent --------------------------------------------------------------------


@contextmanager
def spinning(count: int) -> Iterator[None]:
    """``count`` processes running ``while 1: pass`` for the block: a loaded machine."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


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
        help="dispatches in the scenario's trace that `sigcli trace` reads (0: skip)",
    )
    parser.add_argument(
        "--django-tests",
        type=int,
        default=6_500,
        help="tests of the Django suite recorded for `sigcli trace` to read, 46 dispatches "
        "each (0: skip)",
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=["run", "dispatch", "read", "million", "limit0"],
        default=["run", "dispatch", "read"],
        help="what to measure; `million` (sigcli run of 1,000,000 dispatches, saved and "
        "--json) and `limit0` (sigcli trace --limit 0 of the scenario's big trace) take minutes",
    )
    parser.add_argument(
        "--busy",
        type=int,
        default=2,
        help="processes spinning beside `sigcli trace --sender` in its loaded measurement "
        "(0: none)",
    )
    parser.add_argument("--child", choices=["run", "dispatch", "read"], help=argparse.SUPPRESS)
    parser.add_argument("--scenario", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--sender", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child == "run":
        print(json.dumps(child_run(options.scenario, options.mode)))
        return
    if options.child == "dispatch":
        print(json.dumps(child_dispatch(options.scenario, options.mode)))
        return
    if options.child == "read":
        print(json.dumps(child_read(options.scenario, options.mode, options.sender)))
        return

    small, large = options.sizes
    with tempfile.TemporaryDirectory() as directory:
        scenario = Path(directory) / "scale.py"
        scenario.write_text(SCENARIO)
        if "run" in options.parts:
            runs: dict[int, list[dict[str, float]]] = {0: [], small: [], large: []}
            for _ in range(options.repeat):
                for n in runs:
                    runs[n].append(spawn(["--child", "run", "--scenario", str(scenario)], n))
            show_runs(runs, options.repeat, small, large)
        if "dispatch" in options.parts:
            per_dispatch: dict[str, list[float]] = {}
            for _ in range(options.repeat):
                for mode in ("untraced", "journal", "traced"):
                    measured = spawn(
                        ["--child", "dispatch", "--scenario", str(scenario), "--mode", mode], large
                    )
                    for key, seconds in measured.items():
                        per_dispatch.setdefault(key, []).append(seconds)
            show_per_dispatch(per_dispatch, options.repeat, large)
        if "read" in options.parts:
            big_traces: list[tuple[str, Path, str, list[str]]] = []
            if options.trace_size:
                big = Path(directory) / "big.py"
                big.write_text(SCENARIO)
                spawn(["--child", "run", "--scenario", str(big)], options.trace_size)
                modes = read_modes(options.busy)
                modes += ["sigcli trace --limit 0"] * ("limit0" in options.parts)
                big_traces.append(("the scenario's", big.with_suffix(".json"), "Item", modes))
            if options.django_tests:
                folder = Path(directory) / "django"
                trace = record_django_suite(folder, options.django_tests)
                modes = read_modes(options.busy) + ["sigcli trace", "sigcli trace --format json"]
                big_traces.append(("a Django suite's", trace, "Author", modes))
            for label, trace, sender, modes in big_traces:
                reads: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
                for _ in range(options.repeat):
                    for mode in modes:
                        args = ["--child", "read", "--scenario", str(trace), "--mode", mode]
                        with spinning(options.busy if mode.endswith(BUSY) else 0):
                            reads[mode].append(spawn([*args, "--sender", sender], 0))
                show_reads(label, trace, sender, reads, options.repeat)
        if "million" in options.parts:
            million: dict[str, list[dict[str, float]]] = {"saved": [], "--json": []}
            for _ in range(options.repeat):
                for mode, samples in million.items():
                    args = ["--child", "run", "--scenario", str(scenario), "--mode", mode]
                    samples.append(spawn(args, 1_000_000))
            print(f"\nsigcli run of 1,000,200 dispatches (medians of {options.repeat})")
            for mode, samples in million.items():
                seconds = statistics.median(s["seconds"] for s in samples)
                peak = statistics.median(s["peak_mb"] for s in samples)
                print(f"{mode:>10} {seconds:>9.1f} s {peak:>7.0f} MB peak")


def show_runs(runs: dict[int, list[dict[str, float]]], repeat: int, small: int, large: int) -> None:
    print(f"sigcli run, whole command (medians of {repeat}, each in its own process)")
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


def show_per_dispatch(per_dispatch: dict[str, list[float]], repeat: int, large: int) -> None:
    print(f"\nper dispatch, loop step of {large:,} sends (medians of {repeat})")
    us = {mode: statistics.median(values) * 1e6 for mode, values in per_dispatch.items()}
    for mode, value in us.items():
        print(f"{mode:>14} {value:8.2f} µs  {value / us['untraced']:5.1f}× untraced")
    ratio = us["traced"] / us["untraced"]
    print(f"traced/untraced: {ratio:.1f}× (target ≤ 3×): {'ok' if ratio <= 3 else 'MISSED'}")
    print(
        f"building the tree after the run: {us['traced + tree'] - us['traced']:.2f} µs "
        f"per dispatch; traced + tree is {us['traced + tree'] / us['untraced']:.1f}× untraced"
    )


def show_reads(
    label: str, trace: Path, sender: str, reads: dict[str, list[dict[str, float]]], repeat: int
) -> None:
    size = trace.stat().st_size
    dispatches = trace.read_bytes().count(b'{"type": "dispatch"')
    print(
        f"\nreading {label} trace: {dispatches:,} dispatches, {size / 1e6:.0f} MB "
        f"(medians of {repeat}, each in its own process; --sender {sender})"
    )
    print(f"{'':>28} {'seconds':>9} {'peak MB':>9} {'× file':>8} {'× json.loads time':>18}")
    baseline = statistics.median(s["seconds"] for s in reads["json.loads"])
    for mode, samples in reads.items():
        seconds = statistics.median(s["seconds"] for s in samples)
        peak = statistics.median(s["peak_mb"] for s in samples)
        print(
            f"{mode:>28} {seconds:>9.2f} {peak:>9.0f} {peak * 2**20 / size:>8.2f} "
            f"{seconds / baseline:>18.2f}"
        )
    for mode, samples in reads.items():
        if not mode.startswith("sigcli trace"):
            continue
        seconds = statistics.median(s["seconds"] for s in samples)
        ratio = statistics.median(s["peak_mb"] for s in samples) * 2**20 / size
        timed = mode.startswith("sigcli trace --sender")
        target = "(target ≤ 3 s) " if timed else ""
        met = ratio <= 3 and (seconds <= 3 or not timed)
        print(
            f"{mode}: {seconds:.1f} s {target}at {ratio:.2f}× the file "
            f"(target ≤ 3×): {'ok' if met else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
