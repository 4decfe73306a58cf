"""The commands' work, driven without the command line: what a command
passes to the core, and what it gets back (an exit status, lines for
stderr), as the click layer maps them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sigcli import runs, tracefile, viewing
from sigcli.drawing import ViewOptions
from sigcli.query import Filters
from sigcli.scenario import ScenarioPathError
from tests.cli.conftest import ENV, SCENARIOS, lines
from tests.cli.test_cli import FAILING_TREE


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in ENV.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    shutil.copy(SCENARIOS / "failing.py", tmp_path / "failing.py")


def run(scenario: str, notes: list[str]) -> tuple[int, bool]:
    """``sigcli run SCENARIO``'s work, saving the trace where a run does."""
    return runs.run(
        [scenario],
        engine_name="sigcli",
        settings=None,
        step=False,
        max_depth=50,
        database=None,
        keep_going=False,
        save=runs.DEFAULT_TRACE,
        force=False,
        as_json=False,
        options=ViewOptions(),
        export=None,
        note=notes.append,
    )


def test_run_shows_the_tree_notes_the_failed_step_and_saves_the_trace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    notes: list[str] = []
    assert run("failing.py", notes) == (1, False)
    assert lines(capsys.readouterr().out) == FAILING_TREE
    assert notes == [
        "Error: failing.py step 2 (order 9) stopped: ValueError: only 5 in stock, 9 ordered "
        "(failing.py:16)"
    ]
    (saved,) = tracefile.load(runs.DEFAULT_TRACE)
    assert [step.label for step in saved.steps] == ["order 2", "order 9"]


def test_a_trace_that_cannot_be_saved_is_noted_after_the_run_with_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path(".sigcli").write_text("not a folder")
    Path("ok.py").write_text("import sigcli\n\n\n@sigcli.step\ndef nothing():\n    '''nothing'''\n")
    notes: list[str] = []
    status = run("ok.py", notes)
    assert status == (2, False)
    assert capsys.readouterr().out.startswith("ok.py · 1 step · 0 dispatches")
    assert notes == [
        "Error: could not save the trace (.sigcli is not a folder; sigcli keeps its last trace "
        "in a folder .sigcli of its own. Rename or remove it.)"
    ]


def test_trace_without_a_saved_trace_says_how_to_make_one() -> None:
    with pytest.raises(ScenarioPathError) as raised:
        viewing.traces_for(None, 50, print)
    assert str(raised.value) == (
        "No saved trace in .sigcli/last-trace.json. Run `sigcli run SCENARIO` first, "
        "or pass a trace file or a scenario."
    )


def show_last(filters: Filters, fmt: str, notes: list[str]) -> tuple[int, bool]:
    """``sigcli trace``'s work on the last trace."""
    return viewing.show_trace(
        None,
        filters,
        fmt=fmt,
        options=ViewOptions(),
        export=None,
        force=False,
        max_depth=50,
        note=notes.append,
    )


def test_trace_draws_the_saved_trace_filtered_and_names_it_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run("failing.py", [])
    capsys.readouterr()
    notes: list[str] = []
    status = show_last(Filters(receiver="reserve"), "table", notes)
    assert (status, notes) == ((0, False), [])
    table = lines(capsys.readouterr().out).splitlines()
    assert table[:2] == [
        ".sigcli/last-trace.json · filter: receiver~reserve · 2 of 2 dispatches",
        "seq   depth   signal         sender   instance   receivers called          errors",
    ]
    assert set(table[2]) == {"─"}
    assert table[3:] == [
        "  1       1   order_placed   Shop     -          reserve_stock,            -",
        "                                                 send_invoice",
        "  2       1   order_placed   Shop     -          reserve_stock             ✗ reserve_stock:",
        "                                                                           ValueError: only 5 in",
        "                                                                           stock, 9 ordered",
    ]
    status = show_last(Filters(), "tree", notes)
    assert status == (0, False)
    assert lines(capsys.readouterr().out) == FAILING_TREE
    (shown,) = notes
    assert shown.startswith("Showing .sigcli/last-trace.json, saved ")
