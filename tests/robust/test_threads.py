"""Signals sent from several threads at once are recorded where each was sent:
a thread's dispatch never lands inside what another thread was running."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.robust.conftest import Invoke, lines

THREADS = """\
import threading

import sigcli
from sigcli import Signal, receiver

ping = Signal()
pong = Signal()


@receiver(ping)
def on_ping(sender, n, **kwargs):
    pong.send(sender=sender, n=n)


@receiver(pong)
def on_pong(sender, n, **kwargs):
    pass


@sigcli.step
def threads():
    \"\"\"four threads ping at once\"\"\"

    def work(name):
        for n in range(1000):
            ping.send(sender=name, n=n)

    workers = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
"""


@pytest.mark.slow
def test_each_threads_dispatches_nest_under_its_own_receivers(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "threads.py").write_text(THREADS)
    result = sigcli("run", "threads.py", "--limit", "0")
    assert result.exit_code == 0
    assert result.stdout.startswith("threads.py · 1 step · 8000 dispatches · no errors\n")
    step = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())["steps"][0]
    pings = step["children"]
    assert len(pings) == 4000
    seen = set()
    for ping in pings:
        assert (ping["signal"], ping["depth"]) == ("ping", 1)
        [on_ping] = ping["receivers"]
        [pong] = on_ping["children"]
        assert (pong["signal"], pong["depth"], pong["sender"]) == ("pong", 2, ping["sender"])
        assert pong["kwargs"] == ping["kwargs"]
        assert [r["children"] for r in pong["receivers"]] == [[]]
        seen.add((ping["sender"], ping["kwargs"]["n"]))
    assert seen == {(f"'t{i}'", n) for i in range(4) for n in range(1000)}


ASEND = """\
import sigcli
from sigcli import Signal, receiver

shipped = Signal()
logged = Signal()


@receiver(shipped)
def write_log(sender, **kwargs):
    logged.send(sender=sender)


@receiver(shipped)
async def notify(sender, **kwargs):
    return "notified"


@receiver(logged)
def count(sender, **kwargs):
    pass


@sigcli.step
async def ship():
    \"\"\"asend: write_log runs in a worker thread\"\"\"
    await shipped.asend(sender="order")
"""


def test_a_send_from_asends_worker_thread_nests_under_its_receiver(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "asend.py").write_text(ASEND)
    result = sigcli("run", "asend.py")
    assert result.exit_code == 0
    assert lines(result.stdout) == (
        "asend.py · 1 step · 2 dispatches · no errors\n"
        "└── 1 · asend: write_log runs in a worker thread\n"
        "    └── shipped  'order'\n"
        "        ├── ✓ write_log  any sender\n"
        "        │   └── logged  'order'\n"
        "        │       └── ✓ count  any sender\n"
        "        └── ✓ notify     any sender  → returned notified"
    )


@pytest.mark.parametrize("taken_over", [False, True])
def test_a_recorder_drops_what_foreign_threads_send_unless_an_own_thread_has_their_ident(
    taken_over: bool,
) -> None:
    """Sends from a thread an earlier scenario left running are dropped; a
    thread of this scenario that took the ident of one that ended is recorded."""
    import threading

    from sigcli import Signal
    from sigcli.recorder import Recorder, recording
    from sigcli.trace import Trace

    beat = Signal()
    here = threading.current_thread()
    recorder = Recorder(Trace(scenario="second"))
    recorder.ignore_threads([here], [here] if taken_over else [])
    recorder.start_step("one", "one")
    with recording(recorder):
        beat.send(sender="clock")
    recorder.finish_step(None)
    (step,) = recorder.trace.steps
    sent = [(type(node).__name__, getattr(node, "sender", None)) for node in step.children]
    assert sent == ([("Dispatch", "'clock'")] if taken_over else [])


def test_asking_whether_a_scenarios_threads_run_keeps_no_frame_of_another_thread() -> None:
    """The thread that closes a scenario's database polls :func:`running`
    while the rest of the process goes on. It asks the interpreter for its
    threads; the frames that come with the answer must not outlive it, or a
    call another thread was in keeps its locals after it returned (a
    receiver that a later test dropped stayed alive, and was called)."""
    import gc
    import threading
    import weakref

    from sigcli.isolation import running

    class SaysStopped(threading.Thread):
        """Runs on after saying it stopped, as one whose join() Ctrl-C interrupted."""

        def is_alive(self) -> bool:
            return False

    asked, go_on, done = threading.Event(), threading.Event(), threading.Event()

    class AskedLast(threading.Thread):
        """Holds the poll up after the interpreter was asked about ``stray``."""

        def is_alive(self) -> bool:
            asked.set()
            go_on.wait(10)
            return True

    class Local:
        pass

    stray = SaysStopped(target=done.wait, daemon=True)
    stray.start()
    last = AskedLast()
    poller = threading.Thread(target=running, args=([stray, last],), daemon=True)

    def call() -> weakref.ref[Local]:
        local = Local()
        poller.start()
        assert asked.wait(10)
        return weakref.ref(local)

    try:
        kept = call()
        gc.collect()
        assert kept() is None
    finally:
        go_on.set()
        done.set()
        poller.join(10)
        stray.join(10)
