"""Huge runs: the tree is cut at ``--limit`` with a count of what was left
out, the whole trace is still saved, and 200,000 dispatches stay within the
memory bound README states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.robust.conftest import Invoke, lines

ROOT = Path(__file__).resolve().parents[2]

#: README, "Limits": the peak resident memory of `sigcli run` for 200,000 dispatches.
MEMORY_BOUND_MB = 300

SCENARIO = '''\
import os

import sigcli
from sigcli import models
from sigcli.dispatcher import Signal, receiver
from sigcli.signals import post_save

N = int(os.environ.get("TICKS", "20000"))
tick = Signal()


class Item(models.Model):
    name = models.CharField(max_length=20)


@receiver(tick)
def on_tick(sender, n, **kwargs):
    pass


@receiver(post_save, sender=Item)
def on_save(sender, instance, created, **kwargs):
    pass


@sigcli.step
def ticks():
    """ticks in a loop"""
    for n in range(N):
        tick.send(sender=Item, n=n)


@sigcli.step
def saves():
    """a few saves"""
    for n in range(3):
        Item.objects.create(name=f"item {n}")
'''


@pytest.mark.slow
def test_a_huge_run_draws_up_to_the_limit_and_counts_the_rest(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "ticks.py").write_text(SCENARIO)
    result = sigcli("run", "ticks.py")
    assert result.exit_code == 0
    out = lines(result.stdout).splitlines()
    assert out[0] == (
        "ticks.py · 2 steps · 20006 dispatches · 6 pre_init/post_init with no receiver folded "
        "· no errors"
    )
    assert out[1:4] == [
        "├── 1 · ticks in a loop",
        "│   ├── tick  Item  n=0",
        "│   │   └── ✓ on_tick  any sender",
    ]
    assert out[-7:] == [
        "│   ├── tick  Item  n=499",
        "│   │   └── ✓ on_tick  any sender",
        "│   └── ⋮ 19500 more dispatches not drawn",
        "├── 2 · a few saves",
        "│   └── ⋮ 6 more dispatches and 3 more ORM calls not drawn",
        "└── ✂ --limit 500: 19506 more dispatches and 3 more ORM calls not drawn. Draw more with "
        "--limit N (0",
        "    draws everything), or pick dispatches with `sigcli trace --signal NAME` or "
        "--sender NAME.",
    ]
    assert len(out) == 1 + 1 + 2 * 500 + 1 + 2 + 2

    saved = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    ticks = saved["steps"][0]["children"]
    assert [d["kwargs"]["n"] for d in ticks] == list(range(20_000))


def test_the_limit_cuts_inside_a_step_and_zero_draws_everything(
    sigcli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ticks.py").write_text(SCENARIO)
    monkeypatch.setenv("TICKS", "3")
    result = sigcli("run", "ticks.py", "--limit", "5")
    assert result.exit_code == 0
    assert lines(result.stdout).splitlines()[1:] == [
        "├── 1 · ticks in a loop",
        "│   ├── tick  Item  n=0",
        "│   │   └── ✓ on_tick  any sender",
        "│   ├── tick  Item  n=1",
        "│   │   └── ✓ on_tick  any sender",
        "│   └── tick  Item  n=2",
        "│       └── ✓ on_tick  any sender",
        "├── 2 · a few saves",
        "│   ├── Item.objects.create(name='item 0')",
        "│   │   ├── pre_save  Item  instance=<Item: Item object (None)>  (no receivers)",
        '│   │   ├── SQL  INSERT INTO "app_item" ("name") VALUES (\'item 0\')',
        "│   │   └── ⋮ 1 more dispatch not drawn",
        "│   └── ⋮ 4 more dispatches and 2 more ORM calls not drawn",
        "└── ✂ --limit 5: 5 more dispatches and 2 more ORM calls not drawn. Draw more with "
        "--limit N (0 draws",
        "    everything), or pick dispatches with `sigcli trace --signal NAME` or --sender NAME.",
    ]
    everything = sigcli("run", "ticks.py", "--limit", "0")
    assert "✂" not in everything.stdout and "not drawn" not in everything.stdout
    assert everything.stdout.count("✓ on_save") == 3


@pytest.mark.slow
def test_filtered_views_and_the_table_are_cut_too(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(SCENARIO)
    sigcli("run", "ticks.py")
    result = sigcli("trace", "--signal", "tick", "--limit", "2")
    assert result.exit_code == 0
    assert lines(result.stdout) == (
        "filter: signal=tick · 20000 of 20006 dispatches shown · 6 hidden (signal pre_save ×3, "
        "post_save ×3)\n"
        "├── 1 · ticks in a loop\n"
        "│   ├── tick  Item  n=0\n"
        "│   │   └── ✓ on_tick  any sender\n"
        "│   └── tick  Item  n=1\n"
        "│       └── ✓ on_tick  any sender\n"
        "└── ✂ --limit 2: 19998 more dispatches not drawn. Draw more with --limit N (0 draws "
        "everything), or\n"
        "    narrow the filter."
    )
    table = sigcli("trace", "--format", "table", "--limit", "3")
    assert table.exit_code == 0
    rows = lines(table.stdout).splitlines()
    assert len(rows) == 1 + 2 + 3 + 2
    assert rows[-2].startswith("✂ --limit 3: 20003 more dispatches not drawn.")
    assert len(json.loads(sigcli("trace", "--format", "json").stdout)["dispatches"]) == 20006


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_200000_dispatches_run_save_and_print_within_the_memory_bound(tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(SCENARIO)
    done, peak_mb = measured(tmp_path, "run", "ticks.py")
    assert peak_mb < MEMORY_BOUND_MB
    printed = done.stdout.splitlines()
    assert printed[0].startswith("ticks.py · 2 steps · 200006 dispatches")
    assert len(printed) < 1020
    saved = tmp_path / ".sigcli" / "last-trace.json"
    assert saved.read_text().count('"signal": "tick", "sender"') == 200_000
    printed_json, peak_mb = measured(tmp_path, "run", "ticks.py", "--json", "--no-save")
    assert peak_mb < MEMORY_BOUND_MB
    assert printed_json.stdout.count('"signal": "tick", "sender"') == 200_000
    # README, "Limits": reading a trace takes at most 3× the file's size.
    shown, peak_mb = measured(tmp_path, "trace", "--sender", "Item")
    assert peak_mb * 2**20 < 3 * saved.stat().st_size
    assert shown.stdout.startswith("filter: sender=Item · 200006 of 200006 dispatches shown")
    as_json, peak_mb = measured(tmp_path, "trace", "--format", "json")
    assert peak_mb * 2**20 < 3 * saved.stat().st_size
    assert json.loads(as_json.stdout)["shown"] == 200_006
    # Drawing every dispatch too: each step's nodes are made as they are printed.
    drawn, peak_mb = measured(tmp_path, "trace", "--limit", "0")
    assert peak_mb * 2**20 < 3 * saved.stat().st_size
    assert drawn.stdout.count("✓ on_tick  any sender\n") == 200_000


def measured(folder: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``sigcli ARGS`` run in ``folder`` in a fresh process, and its peak resident
    memory in MB: VmHWM, not ru_maxrss, which a child started with vfork
    inherits from its (bigger) parent."""
    measure = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "from sigcli.cli import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "finally:\n"
        "    status = Path('/proc/self/status').read_text()\n"
        "    print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1), file=sys.stderr)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), TICKS="200000", COLUMNS="100", NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-c", measure],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done, int(done.stderr.splitlines()[-1]) / 1024


def test_a_huge_repr_is_recorded_cut_so_a_loop_cannot_fill_memory(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "huge.py").write_text(
        "import sigcli\n"
        "from sigcli import Signal\n\n"
        "blob = Signal()\n\n\n"
        "class Huge:\n"
        "    def __repr__(self):\n"
        "        return 'H' * 1_000_000\n\n\n"
        "@sigcli.step\n"
        "def go():\n"
        "    for _ in range(500):\n"
        "        blob.send(sender=None, payload=Huge())\n"
    )
    assert sigcli("run", "huge.py").exit_code == 0
    saved = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    payloads = {d["kwargs"]["payload"] for d in saved["steps"][0]["children"]}
    assert payloads == {"H" * 10_000 + "… (990000 more characters)"}


def test_printing_in_a_loop_is_kept_in_one_node_and_drawn_clipped(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "chatty.py").write_text(
        "import sigcli\n\n\n@sigcli.step\ndef go():\n"
        "    for n in range(100_000):\n        print(n)\n"
    )
    result = sigcli("run", "chatty.py")  # in a few seconds: appending stays linear
    assert result.exit_code == 0
    printed = "".join(f"{n}\n" for n in range(100_000))
    assert result.stdout.endswith(f"… ({len(printed) - 1001} more characters)\n")
    saved = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    assert saved["steps"][0]["children"] == [{"type": "output", "text": printed}]


def trace_file(runs: list[dict[str, Any]]) -> dict[str, Any]:
    if len(runs) == 1:
        return {"sigcli_trace": 1, **runs[0]}
    return {"sigcli_trace": 1, "runs": runs}


def one_dispatch_run(kwargs: dict[str, Any]) -> dict[str, Any]:
    dispatch = {
        "type": "dispatch",
        "seq": 1,
        "signal": "ping",
        "sender": None,
        "depth": 1,
        "kwargs": kwargs,
        "robust": False,
        "error": None,
        "receivers": [],
    }
    step = {"label": "s", "function": "s", "error": None, "error_at": None, "children": [dispatch]}
    return {"scenario": "x", "error": None, "interrupted": False, "not_run": [], "steps": [step]}


def test_the_line_cap_holds_for_100000_keyword_arguments(sigcli: Invoke, tmp_path: Path) -> None:
    run = one_dispatch_run({f"k{i}": i for i in range(100_000)})
    (tmp_path / "t.json").write_text(json.dumps(trace_file([run])))
    result = sigcli("trace", "t.json", env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) < 40
    assert "k49=49  … 99950 more keyword arguments  (no receivers)" in result.stdout


def test_the_line_cap_holds_for_a_value_of_a_million_items(sigcli: Invoke, tmp_path: Path) -> None:
    run = one_dispatch_run({"v": list(range(1_000_000))})
    (tmp_path / "t.json").write_text(json.dumps(trace_file([run])))
    result = sigcli("trace", "t.json", env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) < 20
    assert "… (999" in result.stdout and "more items)" in result.stdout


def test_the_line_cap_holds_across_20000_runs(sigcli: Invoke, tmp_path: Path) -> None:
    run = one_dispatch_run({})
    (tmp_path / "t.json").write_text(json.dumps(trace_file([run] * 20_000)))
    result = sigcli("trace", "t.json", "--limit", "50")
    assert result.exit_code == 0
    shown = result.stdout.splitlines()
    assert len(shown) <= 50 * 20 + 4  # the first summary line, the notes saying what was cut
    assert shown[-1] == (
        "✂ --limit 50: 19666 more runs not drawn. Draw more with --limit N (0 draws everything)."
    )
