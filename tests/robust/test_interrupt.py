"""Ctrl-C in a real process: a SIGINT while a scenario runs exits 130 and
keeps what was recorded up to that moment."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ENDLESS = """\
from pathlib import Path

import sigcli
from sigcli import Signal, receiver

tick = Signal()


@receiver(tick)
def count(sender, n, **kwargs):
    if n == 1000:
        Path("looping").touch()


@sigcli.step
def warm_up():
    \"\"\"one tick\"\"\"
    tick.send(sender="clock", n=0)


@sigcli.step
def forever():
    \"\"\"ticks until interrupted\"\"\"
    n = 0
    while True:
        n += 1
        tick.send(sender="clock", n=n)


@sigcli.step
def after():
    \"\"\"never reached\"\"\"
"""


#: sigcli as a user runs it, from this checkout, with output that does not
#: depend on the machine.
COMMAND = [sys.executable, "-m", "sigcli"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100", NO_COLOR="1", TERM="dumb")


def start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*COMMAND, *args],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell starts background jobs with SIGINT ignored; a terminal's
        # Ctrl-C reaches a foreground process with the default handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def wait_for_memory(process: subprocess.Popen[str], size: int, timeout: float = 60) -> None:
    """Wait until ``process`` holds more than ``size`` bytes of resident memory."""
    status = Path(f"/proc/{process.pid}/status")
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
        if found and int(found.group(1)) * 1024 > size:
            return
        assert process.poll() is None, "sigcli ended before it read the file"
        assert time.monotonic() < deadline, f"sigcli never held {size} bytes"
        time.sleep(0.005)


def test_sigint_during_a_step_exits_130_and_saves_the_partial_trace(tmp_path: Path) -> None:
    (tmp_path / "endless.py").write_text(ENDLESS)
    process = start(tmp_path, "run", "endless.py")
    wait_for(tmp_path / "looping")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert stderr == "Interrupted; the partial trace is saved in .sigcli/last-trace.json.\n"
    tree = stdout.splitlines()
    assert tree[0].startswith("endless.py · 2 of 3 steps run · ")
    assert tree[0].endswith(" · interrupted · no errors")
    assert tree[1:3] == ["├── 1 · one tick", "│   └── tick  'clock'  n=0"]
    assert "├── 2 · ticks until interrupted  ✗ interrupted (Ctrl-C)" in tree
    assert "├── 3 · never reached  not run: the run was interrupted" in tree
    assert tree[-2].startswith("└── ✂ --limit 500: ")

    saved = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    assert (saved["interrupted"], saved["not_run"]) == (True, ["never reached"])
    ticks = [d["kwargs"]["n"] for d in saved["steps"][1]["children"] if d["type"] == "dispatch"]
    assert ticks[:1001] == list(range(1, 1002))
    assert ticks == list(range(1, len(ticks) + 1))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmRSS from /proc")
def test_sigint_while_loading_a_big_trace_exits_130(tmp_path: Path) -> None:
    steps = [
        {
            "label": "many",
            "function": "many",
            "children": [
                {
                    "type": "dispatch",
                    "seq": n,
                    "signal": "tick",
                    "sender": None,
                    "depth": 1,
                    "kwargs": {"n": n},
                    "receivers": [],
                }
                for n in range(1, 300_001)
            ],
        }
    ]
    (tmp_path / "big.json").write_text(json.dumps({"sigcli_trace": 1, "steps": steps}))
    process = start(tmp_path, "trace", "big.json")
    # Loading is under way once the file's text is in memory. (A Ctrl-C
    # while Python still imports is no test of sigcli: one that lands in code
    # run by exec(), as making a dataclass is, makes Python 3.11 end by
    # SIGINT at exit even after sigcli caught it and chose 130.)
    wait_for_memory(process, 2 * (tmp_path / "big.json").stat().st_size)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert (process.returncode, stdout, stderr) == (130, "", "Interrupted.\n")


# -- threads a scenario leaves running ----------------------------------------------------

WRITER = """\
import threading
import time

import sigcli
from sigcli import models
from sigcli.dispatcher import current_observer


class Row(models.Model):
    n = models.IntegerField()


first_row = threading.Event()


def fill():
    Row.objects.create(n=1)
    first_row.set()
    while current_observer() is not None:  # until sigcli stops recording
        time.sleep(0.001)
    n = 1
    while True:
        n += 1
        Row.objects.create(n=n)


@sigcli.step
def start():
    \"\"\"starts a thread that writes a row, and rows for ever once recording ends\"\"\"
    threading.Thread(target=fill, name="filler", daemon=DAEMON).start()
    first_row.wait()
"""


def test_a_thread_still_writing_after_the_scenario_keeps_its_database(tmp_path: Path) -> None:
    (tmp_path / "writer.py").write_text(WRITER.replace("DAEMON", "False"))
    process = start(tmp_path, "run", "writer.py")
    stdout, stderr = process.communicate(timeout=60)
    # The thread's first row is written during the step; the rest once recording ended.
    assert (process.returncode, stdout.splitlines()) == (
        0,
        [
            "writer.py · 1 step · 2 dispatches · 2 pre_init/post_init with no receiver folded · "
            "no errors",
            "└── 1 · starts a thread that writes a row, and rows for ever once recording ends",
            "    └── Row.objects.create(n=1)",
            "        ├── pre_save  Row  instance=<Row: Row object (None)>  (no receivers)",
            '        ├── SQL  INSERT INTO "app_row" ("n") VALUES (1)',
            "        └── post_save  Row  instance=<Row: Row object (1)>  created=True  (no receivers)",
        ],
    )
    assert stderr == (
        "Warning: writer.py left 1 thread running (filler); sigcli exits without waiting for it.\n"
    )
    saved = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    assert saved["error"] is None
    assert [node["label"] for node in saved["steps"][0]["children"]] == ["Row.objects.create(n=1)"]


def test_the_shell_ends_beside_a_thread_still_writing(tmp_path: Path) -> None:
    (tmp_path / "writer.py").write_text(WRITER.replace("DAEMON", "False"))
    shell = subprocess.run(
        [*COMMAND, "shell", "writer.py"],
        cwd=tmp_path,
        env=ENV,
        input="start()\nimport time; time.sleep(0.3)\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0
    assert shell.stderr.endswith(
        "Ctrl-D leaves.\n\n"
        "Warning: writer.py left 1 thread running (filler); sigcli exits without waiting for it.\n"
    )
    assert "Row.objects.create(n=1)" in shell.stdout


PINGER = """\
import threading
from pathlib import Path

import sigcli
from sigcli import Signal, receiver

ping = Signal()


@receiver(ping)
def pong(sender, n, **kwargs):
    if n == COUNT:
        Path("busy").touch()


def loop():
    n = 0
    while True:
        n += 1
        ping.send(sender="pinger", n=n)


@sigcli.step
def start():
    \"\"\"a thread pings for ever, the step waits for it\"\"\"
    thread = threading.Thread(target=loop, name="pinger")
    thread.start()
    thread.join()
"""


def interrupt_pinger(tmp_path: Path, count: str, timeout: float = 30) -> subprocess.Popen[str]:
    """``sigcli run pinger.py``, sent Ctrl-C once its thread has pinged
    ``count`` times; the thread keeps pinging."""
    (tmp_path / "pinger.py").write_text(PINGER.replace("COUNT", count))
    process = start(tmp_path, "run", "pinger.py")
    wait_for(tmp_path / "busy", timeout)
    process.send_signal(signal.SIGINT)
    return process


def test_ctrl_c_during_a_join_stops_recording_and_names_the_thread(tmp_path: Path) -> None:
    process = interrupt_pinger(tmp_path, "1000")
    interrupted = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - interrupted < 20  # it never ended: the thread pings for ever
    assert process.returncode == 130
    assert stderr == (
        "Interrupted; the partial trace is saved in .sigcli/last-trace.json.\n"
        "Warning: pinger.py left 1 thread running (pinger); sigcli exits without waiting for it.\n"
    )
    saved = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    counted = int(stdout.split(" · ")[2].removesuffix(" dispatches"))
    assert saved["interrupted"] is True
    assert len(saved["steps"][0]["children"]) == counted


def test_a_second_ctrl_c_exits_at_once_leaving_a_whole_trace(tmp_path: Path) -> None:
    interrupt_pinger(tmp_path, "1").communicate(timeout=60)
    before = (tmp_path / ".sigcli" / "last-trace.json").read_bytes()
    (tmp_path / "busy").unlink()
    process = interrupt_pinger(tmp_path, "200_000", timeout=120)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    again = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - again < 2
    assert process.returncode == 130
    assert stderr.endswith("Interrupted again: exiting now.\n")
    after = (tmp_path / ".sigcli" / "last-trace.json").read_bytes()
    assert after == before or json.loads(after)["interrupted"] is True


def wait_for_trace(path: Path, timeout: float) -> float:
    """When (``time.monotonic()``) the saved trace at ``path`` is there and
    loads; it is written whole under another name, then renamed."""
    from sigcli import tracefile

    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            found = time.monotonic()
            assert tracefile.load(path)[0].interrupted
            return found
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.005)


def test_ctrl_c_saves_the_partial_trace_within_a_second_while_a_thread_keeps_sending(
    tmp_path: Path,
) -> None:
    process = interrupt_pinger(tmp_path, "1000")
    interrupted = time.monotonic()
    saved = wait_for_trace(tmp_path / ".sigcli" / "last-trace.json", timeout=30)
    assert saved - interrupted < 1
    process.communicate(timeout=60)
    assert process.returncode == 130


def test_a_second_ctrl_c_after_the_save_exits_at_once_and_keeps_the_saved_trace(
    tmp_path: Path,
) -> None:
    process = interrupt_pinger(tmp_path, "1000")
    trace = tmp_path / ".sigcli" / "last-trace.json"
    wait_for_trace(trace, timeout=30)
    saved = trace.read_bytes()
    process.send_signal(signal.SIGINT)
    again = time.monotonic()
    process.communicate(timeout=60)
    assert time.monotonic() - again < 1
    assert process.returncode == 130
    assert trace.read_bytes() == saved


# -- one scenario's threads while the next one runs ----------------------------------------

LEAVER = """\
import threading
from pathlib import Path

import sigcli
from sigcli import Signal, receiver

beat = Signal()


@receiver(beat)
def heard(sender, **kwargs):
    pass


def loop():
    while True:
        beat.send(sender="leaver's thread")
        if Path("second-started").exists():
            Path("sent-during-second").touch()


@sigcli.step
def start():
    \"\"\"a thread that keeps sending after the scenario\"\"\"
    threading.Thread(target=loop, name="beater", daemon=True).start()
"""

SECOND = """\
import time
from pathlib import Path

import sigcli
from sigcli import Signal, receiver

tock = Signal()


@receiver(tock)
def counted(sender, **kwargs):
    pass


@sigcli.step
def wait():
    \"\"\"sends once while the other scenario's thread sends too\"\"\"
    Path("second-started").touch()
    while not Path("sent-during-second").exists():
        time.sleep(0.01)
    tock.send(sender="second")
"""


def test_a_thread_left_by_one_scenario_records_nothing_into_the_next(tmp_path: Path) -> None:
    (tmp_path / "leaver.py").write_text(LEAVER)
    (tmp_path / "second.py").write_text(SECOND)
    process = start(tmp_path, "run", "leaver.py", "second.py")
    process.communicate(timeout=60)
    saved = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    second = saved["runs"][1]
    (step,) = second["steps"]
    sent = [(d["signal"], d["sender"]) for d in step["children"] if d["type"] == "dispatch"]
    assert sent == [("tock", "'second'")]
