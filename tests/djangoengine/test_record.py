"""``sigcli record``: a Django program runs as it would alone (output, input,
exit status), and its signals land in a trace, one step per test or one for
the whole command. Each test starts a fresh process, as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"
SHOP = PROGRAMS / "shop.py"


def run(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


def dispatches(nodes: list[dict]) -> list[tuple[str, str, list[tuple[str, bool]]]]:
    found = []
    for node in nodes:
        if node["type"] == "dispatch":
            found.append(
                (
                    node["signal"],
                    node["sender"],
                    [(r["name"], r["called"]) for r in node["receivers"]],
                )
            )
            for receiver in node["receivers"]:
                found.extend(dispatches(receiver["children"]))
        else:
            found.extend(dispatches(node.get("children", [])))
    return found


def test_a_command_runs_unchanged_and_its_signals_form_one_step(tmp_path: Path) -> None:
    alone = run(str(SHOP), "3", cwd=tmp_path, stdin="hello")
    recorded = run("-m", "sigcli", "record", "--", str(SHOP), "3", cwd=tmp_path, stdin="hello")
    assert (
        (recorded.returncode, recorded.stdout)
        == (alone.returncode, alone.stdout)
        == (
            3,
            "ordered tea; input was 'hello'\n",
        )
    )
    trace = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    assert trace["scenario"] == f"{SHOP} 3"
    (step,) = trace["steps"]
    (operation,) = step["children"]
    assert operation["label"] == "Order.objects.create(item='tea')"
    assert dispatches(step["children"]) == [("post_save", "Order", [("confirm", True)])]
    assert recorded.stderr.splitlines() == [
        "sigcli: 1 dispatch recorded in 1 step; 5 sends of signals without receivers "
        "counted, not recorded",
        "  busiest signals: post_save 1",
        "  busiest senders: Order 1",
        "  busiest receivers: confirm 1",
        "  trace saved in .sigcli/last-trace.json (sigcli trace .sigcli/last-trace.json)",
    ]
    shown = run("-m", "sigcli", "trace", "--format", "json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr


def test_each_test_is_a_step_and_the_result_is_the_programs(tmp_path: Path) -> None:
    alone = run(str(SHOP), "test", cwd=tmp_path)
    saved = tmp_path / "shop.json"
    recorded = run(
        "-m",
        "sigcli",
        "record",
        "--save",
        str(saved),
        "--all",
        "--",
        str(SHOP),
        "test",
        cwd=tmp_path,
    )
    assert recorded.returncode == alone.returncode == 1
    assert "FAILED (errors=1)" in recorded.stderr
    trace = json.loads(saved.read_text())
    assert [s["label"] for s in trace["steps"]] == [
        "shopapp.tests.OrderTests.test_broken",
        "shopapp.tests.OrderTests.test_tea",
    ]
    assert [d[0] for d in dispatches(trace["setup"])] == ["class_prepared", "connection_created"]
    # sigcli trace's header counts the 8 of the steps.
    summary = recorded.stderr.splitlines()
    assert "sigcli: 10 dispatches recorded (2 in setup) in 2 steps" in summary
    assert "  1 dispatch with a receiver that raised" in summary
    for step, item in zip(trace["steps"], ["broken", "tea"], strict=True):
        assert dispatches(step["children"]) == [
            ("pre_init", "Order", []),
            ("post_init", "Order", []),
            ("pre_save", "Order", []),
            ("post_save", "Order", [("confirm", True)]),
        ]
        assert step["children"][0]["label"] == f"Order.objects.create(item='{item}')"
    broken = trace["steps"][0]["children"][0]
    assert broken["error"] == "ValueError: cannot confirm a broken order"


def test_sql_is_recorded_only_when_asked(tmp_path: Path) -> None:
    run("-m", "sigcli", "record", "--sql", "--", str(SHOP), cwd=tmp_path)
    trace = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    children = trace["steps"][0]["children"]
    assert [n["type"] for n in children][-1] == "operation"
    assert {n["type"] for n in children[:-1]} == {"sql"}  # the table is made
    operation = children[-1]
    kinds = [node["type"] for node in operation["children"]]
    assert kinds == ["sql", "dispatch"]
    assert operation["children"][0]["params"] == ["tea"]


def test_a_missing_program_is_a_usage_error(tmp_path: Path) -> None:
    missing = run("-m", "sigcli", "record", "--", "nowhere.py", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere.py: no such file" in missing.stderr
    module = run("-m", "sigcli", "record", "--", "-m", "no_such_module_here", cwd=tmp_path)
    assert module.returncode == 2
    assert "no module named 'no_such_module_here'" in module.stderr


def test_recording_a_program_loads_no_terminal_rendering(tmp_path: Path) -> None:
    """sigcli record prints plain lines: importing rich would add its start-up
    to every recorded program (a fifth of a second on a loaded machine,
    noticeable on a suite that runs in one)."""
    (tmp_path / "empty.py").write_text("pass\n")
    recorded = run("-X", "importtime", "-m", "sigcli", "record", "--", "empty.py", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    imported = {line.rpartition("|")[2].strip() for line in recorded.stderr.splitlines()}
    assert "sigcli.djangoengine.record" in imported
    assert not {name for name in imported if name.partition(".")[0] == "rich"}
