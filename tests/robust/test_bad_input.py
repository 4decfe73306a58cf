"""Each kind of bad input, tried as a user would: one clear message that names
the file (and line) and what to do, the documented exit status, no traceback,
and whatever was recorded so far saved in ``.sigcli/last-trace.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.robust.conftest import Invoke, lines

SAVED = Path(".sigcli") / "last-trace.json"
SCREEN = 40  # lines: what fits on a terminal without scrolling


def saved() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SAVED.read_text(encoding="utf-8"))
    return document


def assert_one_screen(result: Result) -> None:
    assert "Traceback" not in result.output
    assert len(result.output.splitlines()) <= SCREEN


# -- the path on the command line ---------------------------------------------------


def test_a_missing_path_names_it_and_lists_the_bundled_scenarios(sigcli: Invoke) -> None:
    result = sigcli("run", "nowhere/scenario.py")
    assert result.exit_code == 2
    assert result.stdout == ""
    first, second = result.stderr.splitlines()
    assert first == "Error: No file 'nowhere/scenario.py' and no bundled scenario of that name."
    assert second.startswith("Bundled scenarios: async_receivers, ")
    assert not SAVED.exists()


def test_a_directory_is_refused_with_a_file_in_it_to_try(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "orders.py").write_text("")
    result = sigcli("run", "shop")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: shop is a directory; pass a scenario .py file such as shop/orders.py.\n"
    )


def test_a_file_that_is_not_python_points_to_sigcli_trace(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "trace.json").write_text("{}")
    result = sigcli("run", "trace.json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: trace.json is not a Python file; a scenario is a .py file "
        "(to look at a saved trace, use `sigcli trace FILE.json`).\n"
    )


# -- the scenario file ----------------------------------------------------------------


def test_a_syntax_error_shows_the_line_and_the_caret(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(
        "import sigcli\n\n\n@sigcli.step\ndef go()\n    pass\n", encoding="utf-8"
    )
    result = sigcli("run", "typo.py")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: typo.py:5: SyntaxError: expected ':'\n"
        "    def go()\n"
        "            ^\n"
        "Fix the syntax and run again.\n"
    )
    assert saved()["error"] == result.stderr.removeprefix("Error: ").removesuffix("\n")
    assert saved()["steps"] == []


def test_an_exception_while_importing_names_the_line_that_raised(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "config.py").write_text(
        "import sigcli\n\nSETTINGS = {}\nTIMEOUT = SETTINGS['timeout']\n", encoding="utf-8"
    )
    result = sigcli("run", "config.py")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: config.py:4: error while importing the scenario: KeyError: 'timeout'\n"
        "    TIMEOUT = SETTINGS['timeout']\n"
    )
    assert saved()["error"].startswith("config.py:4: error while importing the scenario")


def test_an_exception_in_a_module_the_scenario_imports_names_the_import_line(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "imports.py").write_text("import sigcli\nimport no_such_module_here\n")
    result = sigcli("run", "imports.py")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: imports.py:2: error while importing the scenario: "
        "ModuleNotFoundError: No module named 'no_such_module_here'\n"
        "    import no_such_module_here\n"
    )


def test_a_scenario_with_no_steps_says_how_to_add_them(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "models_only.py").write_text(
        "from sigcli import models\n\n\nclass Tag(models.Model):\n"
        "    name = models.CharField(max_length=10)\n"
    )
    result = sigcli("run", "models_only.py")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: models_only.py defines no steps. Decorate functions with @sigcli.step "
        "(they run in file order), or define a function run().\n"
    )
    assert saved()["error"] == result.stderr.removeprefix("Error: ").removesuffix("\n")


def test_a_receiver_without_kwargs_is_reported_at_connect_time_with_its_location(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "strict.py").write_text(
        "import sigcli\n"
        "from sigcli import Signal\n\n"
        "ping = Signal()\n\n\n"
        "def pong(sender):\n"
        "    pass\n\n\n"
        "ping.connect(pong)\n\n\n"
        "@sigcli.step\n"
        "def never_reached():\n"
        "    ping.send(sender=None)\n"
    )
    result = sigcli("run", "strict.py")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: strict.py:11: error while importing the scenario: ValueError: "
        "Signal receivers must accept keyword arguments (**kwargs).\n"
        "    ping.connect(pong)\n"
        "Give the receiver pong a **kwargs parameter, for example: "
        "def handler(sender, **kwargs): ...\n"
    )


# -- running it ---------------------------------------------------------------------

RAISING = """\
import sigcli
from sigcli import Signal, receiver

paid = Signal()


@receiver(paid)
def send_receipt(sender, **kwargs):
    raise ConnectionError("mail server down")


@receiver(paid)
def update_ledger(sender, **kwargs):
    pass


@sigcli.step
def pay():
    \"\"\"the customer pays\"\"\"
    paid.send(sender="shop", amount=10)


@sigcli.step
def ship():
    \"\"\"the order ships\"\"\"
"""


def test_a_receiver_that_raises_is_shown_in_the_tree_and_exits_1(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "pay.py").write_text(RAISING)
    result = sigcli("run", "pay.py")
    assert result.exit_code == 1
    assert lines(result.stdout) == (
        "pay.py · 1 of 2 steps run · 1 dispatch · 1 error\n"
        "├── 1 · the customer pays  ✗ stopped: ConnectionError: mail server down\n"
        "│   └── paid  'shop'  amount=10\n"
        "│       ├── ✗ send_receipt   any sender  → raised ConnectionError: mail server down\n"
        "│       └── · update_ledger  not called: an earlier receiver raised\n"
        "└── 2 · the order ships  not run: an earlier step failed"
    )
    assert result.stderr == (
        "Error: pay.py step 1 (the customer pays) stopped: "
        "ConnectionError: mail server down (pay.py:9)\n"
    )
    receivers = saved()["steps"][0]["children"][0]["receivers"]
    assert [(r["name"], r["called"], r["error"], r["skipped_reason"]) for r in receivers] == [
        ("send_receipt", True, "ConnectionError: mail server down", None),
        ("update_ledger", False, None, "not_reached"),
    ]


SELF_SAVE = """\
import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Page(models.Model):
    title = models.CharField(max_length=20)


@receiver(post_save, sender=Page)
def touch(sender, instance, **kwargs):
    instance.save()


@sigcli.step
def publish():
    Page.objects.create(title="home")
"""


def test_runaway_recursion_stops_at_the_default_depth_on_one_screen(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "loop.py").write_text(SELF_SAVE)
    result = sigcli("run", "loop.py")
    assert result.exit_code == 1
    assert_one_screen(result)
    out = lines(result.stdout)
    assert out.startswith(
        "loop.py · 1 step · 100 dispatches · 2 pre_init/post_init with no receiver folded · 1 error\n"
        "└── 1 · publish  ✗ stopped: DepthLimitExceeded: signals nested deeper than 50 levels; "
        "this cycle\n"
        "    repeats: post_save Page › touch → post_save Page › touch."
    )
    assert out.endswith(
        "└── ⋮ post_save Page › touch again: the cycle repeats, 94\n"
        "                                            more dispatches further down (--all draws them)"
    )
    assert result.stderr == (
        "Error: loop.py step 1 (publish) stopped: DepthLimitExceeded: signals nested deeper "
        "than 50 levels; this cycle repeats: post_save Page › touch → post_save Page › touch. "
        "A receiver causes the dispatch that calls it again: guard it (check `created` or "
        "`update_fields`), or write with QuerySet.update(), which sends no signals (loop.py:12)\n"
    )
    document = saved()
    depths = []
    nodes = document["steps"][0]["children"]
    while nodes:
        dispatches = [n for n in nodes if n["type"] == "dispatch"]
        operations = [n for n in nodes if n["type"] == "operation"]
        depths += [d["depth"] for d in dispatches if d["signal"] == "post_save"]
        nodes = [c for d in dispatches for r in d["receivers"] for c in r["children"]]
        nodes += [c for o in operations for c in o["children"]]
    assert depths == list(range(1, 51))


def test_max_depth_sets_the_limit(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "loop.py").write_text(SELF_SAVE)
    result = sigcli("run", "loop.py", "--max-depth", "3")
    assert result.exit_code == 1
    assert result.stdout.startswith("loop.py · 1 step · 6 dispatches")
    assert "signals nested deeper than 3 levels" in result.stderr
    assert sigcli("run", "loop.py", "--max-depth", "0").exit_code == 2


# -- traces and filters ---------------------------------------------------------------


def test_a_corrupt_trace_file_is_named_with_the_line(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "cut.json").write_text('{"sigcli_trace": 1,\n "steps": [\n')
    result = sigcli("trace", "cut.json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: cut.json is not a sigcli trace (invalid JSON at line 3: Expecting value)\n"
    )


def test_a_trace_of_another_format_version_says_to_record_again(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "future.json").write_text('{"sigcli_trace": 2, "steps": []}')
    result = sigcli("trace", "future.json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: future.json is a sigcli trace of format version 2; this sigcli reads "
        "version 1. Record it again with `sigcli run`.\n"
    )


def test_a_damaged_last_trace_is_an_error_too(sigcli: Invoke) -> None:
    SAVED.parent.mkdir()
    SAVED.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = sigcli("trace")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: .sigcli/last-trace.json is not a sigcli trace (not text: invalid start byte)\n"
    )


def test_unknown_sender_and_signal_names_list_the_known_ones(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "pay.py").write_text(RAISING)
    sigcli("run", "pay.py")
    result = sigcli("trace", "--sender", "shp")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--sender': no sender named 'shp' in this trace. "
        "Did you mean \"'shop'\"?\n"
        "Known senders: 'shop'\n"
    )
    result = sigcli("trace", "--signal", "payd")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-2] == (
        "Error: Invalid value for '--signal': no signal named 'payd' in this trace. "
        "Did you mean 'paid'?"
    )


# -- files sigcli writes ----------------------------------------------------------------


def test_a_save_folder_that_is_a_file_is_refused_before_the_run(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "pay.py").write_text(RAISING.replace("raise ConnectionError", "return"))
    (tmp_path / "taken").write_text("a file, not a directory")
    result = sigcli("run", "pay.py", "--save", "taken/trace.json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--save': taken/trace.json: the folder taken is not a "
        "folder; create it first or choose another file.\n"
    )
    assert not SAVED.exists()


def test_a_save_into_a_missing_folder_is_refused_and_creates_nothing(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "pay.py").write_text(RAISING)
    result = sigcli("run", "pay.py", "--save", "missing/dir/t.json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--save': missing/dir/t.json: the folder missing/dir does "
        "not exist; create it first or choose another file.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pay.py"]


VANISHING = """\
import shutil

import sigcli


@sigcli.step
def tidy():
    \"\"\"removes the folder the trace goes to\"\"\"
    shutil.rmtree("out")
"""


def test_a_trace_that_cannot_be_saved_is_still_shown_then_reported(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "tidy.py").write_text(VANISHING)
    (tmp_path / "out").mkdir()
    result = sigcli("run", "tidy.py", "--save", "out/trace.json")
    assert result.exit_code == 2
    assert result.stdout.startswith("tidy.py · 1 step · 0 dispatches · no errors\n")
    assert result.stderr == (
        "Error: could not save the trace (out/trace.json: the folder out does not exist; "
        "create it first or choose another file.)\n"
    )
    assert not Path("out").exists()


def test_an_export_into_a_missing_folder_fails_before_the_run(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "pay.py").write_text(RAISING)
    (tmp_path / "taken").write_text("a file, not a directory")
    for export, problem in [
        ("missing-dir/x.html", "the folder missing-dir does not exist"),
        ("taken/tree.svg", "the folder taken is not a folder"),
    ]:
        result = sigcli("run", "pay.py", "--export", export)
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == (
            f"Error: --export {export}: {problem}; create it first or choose another file.\n"
        )
    assert not SAVED.exists()
