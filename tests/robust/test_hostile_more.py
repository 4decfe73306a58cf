"""More hostile input, each tried once: odd paths, scenarios that sabotage the
process they run in, and trace files whose strings try to forge lines. Each
gets one clear message with the documented exit status, never a traceback
or a hang, and what was recorded is kept."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.robust.conftest import Invoke, lines

ROOT = Path(__file__).resolve().parents[2]
SAVED = Path(".sigcli") / "last-trace.json"

ONE_STEP = """\
import sigcli


@sigcli.step
def go():
    \"\"\"one step\"\"\"
"""


def saved() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SAVED.read_text(encoding="utf-8"))
    return document


def scenario(tmp_path: Path, name: str, body: str) -> str:
    (tmp_path / name).write_text("import os, sys, threading\n\nimport sigcli\n\n" + body)
    return name


def in_process(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m sigcli ARGS`` in ``tmp_path``: for what only a real process shows."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100", NO_COLOR="1", TERM="dumb")
    return subprocess.run(
        [sys.executable, "-m", "sigcli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- paths that are not plain files ---------------------------------------------------


def test_a_symlink_loop_is_named_as_a_broken_link(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "a.py").symlink_to("b.py")
    (tmp_path / "b.py").symlink_to("a.py")
    result = sigcli("run", "a.py")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: a.py is a symbolic link that leads to no file (a loop, or its target is "
        "missing); point it at a scenario .py file.\n"
    )
    assert not SAVED.exists()


@pytest.mark.parametrize("command", [["run"], ["trace"], ["receivers"], ["shell"]])
def test_a_fifo_is_refused_without_waiting_for_a_writer(
    sigcli: Invoke, tmp_path: Path, command: list[str]
) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    result = sigcli(*command, "pipe.py")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: pipe.py is not a regular file; pass a scenario .py file.\n"
    )


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_a_device_is_not_read_as_a_trace(sigcli: Invoke, device: str) -> None:
    result = sigcli("trace", device)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        f"Error: {device} is not a regular file; pass a trace .json file or a scenario .py file.\n"
    )


def test_a_directory_given_to_trace_offers_both_kinds_of_file(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "runs").mkdir()
    result = sigcli("trace", "runs")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: runs is a directory; pass a trace .json file or a scenario .py file.\n"
    )


def test_a_missing_trace_file_is_not_looked_up_as_a_bundled_scenario(sigcli: Invoke) -> None:
    result = sigcli("trace", "old-run.json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: No trace file 'old-run.json'; `sigcli trace` alone shows the last run.\n"
    )


def test_a_dash_says_scenarios_are_read_from_files(sigcli: Invoke) -> None:
    result = sigcli("run", "-")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: sigcli does not read a scenario from standard input; "
        "save it in a .py file and pass its name.\n"
    )


def test_an_unreadable_scenario_names_the_problem(
    sigcli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "locked.py").write_text(ONE_STEP)
    real_open = open

    def refusing(file: Any, *args: Any, **kwargs: Any) -> Any:  # root reads any mode
        if str(file).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("sigcli.scenariofile.open", refusing, raising=False)
    result = sigcli("run", "locked.py")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: locked.py cannot be read (Permission denied); check its permissions.\n"
    )


def test_a_newline_in_a_file_name_does_not_forge_a_line(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "a\n└── 9 · forged.py").write_text(ONE_STEP)
    result = sigcli("run", "a\n└── 9 · forged.py")
    assert result.exit_code == 0
    assert lines(result.stdout).splitlines() == [
        "a\\n└── 9 · forged.py · 1 step · 0 dispatches · no errors",
        "└── 1 · one step",
    ]


# -- scenarios that end or damage the process -----------------------------------------


def test_generator_exit_while_importing_is_a_scenario_error(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(tmp_path, "gen.py", 'raise GeneratorExit("bye")\n')
    result = sigcli("run", name)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: gen.py:5: error while importing the scenario: GeneratorExit: bye\n"
        '    raise GeneratorExit("bye")\n'
    )
    assert saved()["error"].startswith("gen.py:5: error while importing the scenario")


def test_generator_exit_in_a_step_stops_that_step(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path,
        "gen.py",
        '@sigcli.step\ndef first():\n    raise GeneratorExit("bye")\n\n\n'
        "@sigcli.step\ndef second():\n    pass\n",
    )
    result = sigcli("run", name)
    assert result.exit_code == 1
    assert result.stderr == "Error: gen.py step 1 (first) stopped: GeneratorExit: bye (gen.py:7)\n"
    assert [s["error"] for s in saved()["steps"]] == ["GeneratorExit: bye"]
    assert saved()["not_run"] == ["second"]


def test_os_exit_in_a_step_is_recorded_and_the_trace_kept(tmp_path: Path) -> None:
    scenario(
        tmp_path,
        "quit.py",
        '@sigcli.step\ndef first():\n    print("before")\n    os._exit(5)\n\n\n'
        "@sigcli.step\ndef second():\n    pass\n",
    )
    done = in_process(tmp_path, "run", "quit.py")
    assert done.returncode == 1
    assert done.stderr == (
        "Error: quit.py step 1 (first) stopped: ScenarioExit: os._exit(5) called; "
        "a scenario must not end the process (quit.py:8)\n"
    )
    document = json.loads((tmp_path / SAVED).read_text(encoding="utf-8"))
    assert document["steps"][0]["children"] == [{"type": "output", "text": "before\n"}]
    assert document["not_run"] == ["second"]


def test_changing_directory_does_not_move_the_saved_trace(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    name = scenario(tmp_path, "move.py", '@sigcli.step\ndef go():\n    os.chdir("elsewhere")\n')
    result = sigcli("run", name, "--export", "tree.mmd")
    assert result.exit_code == 0
    assert Path.cwd() == tmp_path
    assert saved()["scenario"] == "move.py"
    assert Path("tree.mmd").exists()
    assert not (tmp_path / "elsewhere" / ".sigcli").exists()


def test_builtins_a_scenario_replaces_are_put_back_and_named(
    sigcli: Invoke, tmp_path: Path
) -> None:
    name = scenario(
        tmp_path,
        "sabotage.py",
        "import builtins\n\nbuiltins.len = None\nbuiltins.open = None\nbuiltins.extra = 1\n\n"
        "@sigcli.step\ndef go():\n    pass\n",
    )
    result = sigcli("run", name)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: sabotage.py: the scenario replaced the builtins len, open, which sigcli and "
        "Python itself rely on. Leave builtins as they are.\n"
    )
    assert len("ab") == 2
    assert "extra" not in dir(builtins)


def test_modules_a_scenario_deletes_are_put_back(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path,
        "forget.py",
        "for name in [n for n in sys.modules if n.startswith(('sigcli', 'json', 'rich'))]:\n"
        "    del sys.modules[name]\n\n\n"
        "@sigcli.step\ndef go():\n    pass\n",
    )
    result = sigcli("run", name)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: forget.py: the scenario removed sigcli's own modules from sys.modules "
        "(sigcli, sigcli.callloops, sigcli.cli, ...), so its steps and receivers cannot be "
        "found. Delete only modules the scenario imported.\n"
    )
    assert "sigcli.scenario" in sys.modules
    assert saved()["error"] == result.stderr.removeprefix("Error: ").removesuffix("\n")


def test_closing_the_real_stdout_still_shows_the_tree(tmp_path: Path) -> None:
    scenario(tmp_path, "close.py", "@sigcli.step\ndef go():\n    os.close(1)\n    os.close(2)\n")
    done = in_process(tmp_path, "run", "close.py")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        "close.py · 1 step · 0 dispatches · no errors",
        "└── 1 · go",
    ]


def test_an_exception_in_a_thread_is_one_escaped_line(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path,
        "thread.py",
        "def boom():\n    raise ValueError('\\x1b[31mred')\n\n\n"
        "@sigcli.step\ndef go():\n"
        "    worker = threading.Thread(target=boom, name='worker')\n"
        "    worker.start()\n    worker.join()\n",
    )
    result = sigcli("run", name)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: thread.py: thread 'worker' stopped: ValueError: \\x1b[31mred (thread.py:6)\n"
    )


def test_a_thread_left_running_does_not_hang_the_command(tmp_path: Path) -> None:
    scenario(
        tmp_path,
        "spin.py",
        "import time\n\n\ndef spin():\n    while True:\n        time.sleep(0.01)\n\n\n"
        "@sigcli.step\ndef go():\n    threading.Thread(target=spin, name='spinner').start()\n",
    )
    done = in_process(tmp_path, "run", "spin.py", timeout=30)
    assert done.returncode == 0
    assert done.stderr == (
        "Warning: spin.py left 1 thread running (spinner); sigcli exits without waiting for it.\n"
    )
    assert json.loads((tmp_path / SAVED).read_text(encoding="utf-8"))["scenario"] == "spin.py"


def test_a_huge_error_message_is_cut_on_stderr(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path, "loud.py", "@sigcli.step\ndef go():\n    raise ValueError('x' * 50_000)\n"
    )
    result = sigcli("run", name)
    assert result.exit_code == 1
    assert len(result.stderr) < 1200
    assert result.stderr.endswith(" more characters) (loud.py:7)\n")


# -- where the output and the trace go ------------------------------------------------


def test_an_empty_save_path_is_a_usage_error(sigcli: Invoke) -> None:
    result = sigcli("run", "profiles", "--save", "")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith("Error: Invalid value for '--save': the file name is empty.\n")


def test_saving_over_something_that_is_not_a_file_is_refused(
    sigcli: Invoke, tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "pipe.json")
    result = sigcli("run", "profiles", "--save", "pipe.json", "--force")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--save': pipe.json is not a regular file; "
        "choose another file name.\n"
    )
    assert (tmp_path / "pipe.json").is_fifo()


def test_a_full_disk_on_stdout_is_one_line(tmp_path: Path) -> None:
    if not Path("/dev/full").is_char_device():
        pytest.skip("no /dev/full")
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100", NO_COLOR="1", TERM="dumb")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "sigcli", "run", "profiles"],
            cwd=tmp_path,
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr == "Error: could not write the output: No space left on device\n"
    assert (tmp_path / SAVED).exists()


# -- trace files ------------------------------------------------------------------------


def forged() -> dict[str, Any]:
    receiver = {"name": "r\n└── forged", "called": True, "children": [], "error": None}
    dispatch = {
        "type": "dispatch",
        "seq": 1,
        "signal": "tick\n└── forged",
        "sender": "S\n└── forged",
        "depth": 1,
        "kwargs": {"k\nforged": 1},
        "receivers": [receiver],
    }
    step = {"label": "step\n└── 2 · forged", "function": "f", "children": [dispatch]}
    return {"sigcli_trace": 1, "scenario": "s\n└── forged.py", "steps": [step], "not_run": ["x\ny"]}


def test_newlines_in_names_are_shown_escaped(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "forged.json").write_text(json.dumps(forged()))
    result = sigcli("trace", "forged.json")
    assert result.exit_code == 0
    assert lines(result.stdout).splitlines() == [
        "s\\n└── forged.py · 1 of 2 steps run · 1 dispatch · no errors",
        "├── 1 · step\\n└── 2 · forged",
        "│   └── tick\\n└── forged  S\\n└── forged  k\\nforged=1",
        "│       └── ✓ r\\n└── forged  any sender",
        "└── 2 · x\\ny  not run: an earlier step failed",
    ]


def test_newlines_in_the_table_are_shown_escaped(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "forged.json").write_text(json.dumps(forged()))
    result = sigcli("trace", "forged.json", "--format", "table")
    assert result.exit_code == 0
    assert len(lines(result.stdout).splitlines()) == 1 + 3


def test_a_trace_with_no_runs_says_so(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "none.json").write_text('{"sigcli_trace": 1, "runs": []}')
    result = sigcli("trace", "none.json")
    assert (result.exit_code, result.stdout) == (0, "none.json holds no runs.\n")


def test_an_empty_receiver_filter_is_refused(sigcli: Invoke) -> None:
    assert sigcli("run", "profiles").exit_code == 0
    result = sigcli("trace", "--receiver", "")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--receiver': give part of a receiver's name.\n"
    )


def test_an_instance_filter_skips_model_names_that_are_not_strings(
    sigcli: Invoke, tmp_path: Path
) -> None:
    def saved_instance(seq: int, model: Any) -> dict[str, Any]:
        instance = {"model": model, "pk": 1}
        return {
            "type": "dispatch",
            "seq": seq,
            "signal": "post_save",
            "sender": "User",
            "depth": 1,
            "kwargs": {"instance": instance},
            "receivers": [],
        }

    children = [saved_instance(1, ["User"]), saved_instance(2, 5), saved_instance(3, "User")]
    step = {"label": "step", "function": "f", "children": children}
    (tmp_path / "odd.json").write_text(
        json.dumps({"sigcli_trace": 1, "scenario": "s.py", "steps": [step]})
    )
    result = sigcli("trace", "odd.json", "--instance", "Order:1")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--instance': no model named 'Order' in this trace.\n"
        "Known models: User\n"
    )


def test_a_scenario_that_is_not_utf8_says_how_to_save_it(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b'import sigcli\n\nNAME = "caf\xe9"\n')
    result = sigcli("run", "latin.py")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: latin.py:3: the file is not UTF-8 text (can't decode byte 0xe9: "
        "unexpected end of data).\n"
        "Save it as UTF-8, or declare its encoding on the first line, "
        "for example: # -*- coding: latin-1 -*-\n"
    )


def test_a_huge_scenario_file_is_refused_before_compiling(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "huge.py").write_text("X = [" + "1," * 600_000 + "]\n")
    result = sigcli("run", "huge.py")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: huge.py is 1,200,007 bytes; a scenario is a hand-written .py file of at most "
        "1,000,000 bytes. Move data it needs into a file it reads.\n"
    )


def test_a_huge_version_number_is_cut_in_the_message(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "v.json").write_text('{"sigcli_trace": ' + "9" * 4000 + "}")
    result = sigcli("trace", "v.json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("Error: v.json is a sigcli trace of format version 999")
    assert result.stderr.endswith(" more characters)\n")
    assert len(result.stderr) < 1100


def test_receivers_does_not_hang_on_a_thread_started_at_import(tmp_path: Path) -> None:
    scenario(
        tmp_path,
        "spin.py",
        "import time\n\n\ndef spin():\n    while True:\n        time.sleep(0.01)\n\n\n"
        "threading.Thread(target=spin, name='spinner').start()\n",
    )
    done = in_process(tmp_path, "receivers", "spin.py", timeout=30)
    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == "spin.py · 0 receivers connected"
    assert done.stderr == (
        "Warning: spin.py left 1 thread running (spinner); sigcli exits without waiting for it.\n"
    )


# -- values and receivers whose str() or repr() raise ---------------------------------------

BAD_STR = """\
class Unprintable:
    def __str__(self):
        raise RuntimeError("no str")

    def __repr__(self):
        raise RuntimeError("no repr")

    __hash__ = object.__hash__


"""


def test_a_dict_key_whose_str_raises_is_recorded_not_raised(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path,
        "keys.py",
        "from sigcli import Signal\n\ntick = Signal()\n\n" + BAD_STR + "@sigcli.step\n"
        "def go():\n    tick.send(sender='s', table={Unprintable(): 1})\n",
    )
    result = sigcli("run", name)
    assert (result.exit_code, result.stderr) == (0, "")


def test_a_receiver_whose_repr_raises_can_be_connected(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path,
        "callable.py",
        "from sigcli import Signal\n\ntick = Signal()\n\n"
        + BAD_STR
        + "class Handler(Unprintable):\n"
        "    def __call__(self, sender, **kwargs):\n        return 1\n\n\n"
        "tick.connect(Handler(), weak=False)\n\n\n"
        "@sigcli.step\ndef go():\n    tick.send(sender='s')\n",
    )
    result = sigcli("run", name)
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.slow
def test_a_trace_of_a_million_small_nodes_is_cut_at_twenty_lines_per_limit_item(
    sigcli: Invoke, tmp_path: Path
) -> None:
    outputs = [{"type": "output", "text": "x"}] * 100_000
    step = {"label": "step", "function": "f", "children": outputs}
    (tmp_path / "loud.json").write_text(
        json.dumps({"sigcli_trace": 1, "scenario": "s.py", "steps": [step] * 3})
    )
    result = sigcli("trace", "loud.json", "--limit", "2")
    assert result.exit_code == 0
    out = lines(result.stdout).splitlines()
    assert out[:3] == [
        "s.py · 3 steps · 0 dispatches · no errors",
        "├── 1 · step",
        "│   ├── print  x",
    ]
    assert len(out) == 1 + 40 + 2
    assert out[-3:] == [
        "│   └── print  x",
        "└── ✂ --limit 2: the tree stops at 40 lines; 299963 more lines not drawn. Draw more with "
        "--limit N",
        "    (0 draws everything), or pick dispatches with `sigcli trace --signal NAME` or --sender "
        "NAME.",
    ]


def test_an_export_over_a_fifo_is_refused_before_running(sigcli: Invoke, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "tree.svg")
    result = sigcli("run", "profiles", "--export", "tree.svg")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: --export tree.svg is not a regular file; choose another file name.\n"
    )
    assert not SAVED.exists()


def test_a_last_trace_that_is_not_a_file_is_not_read(sigcli: Invoke, tmp_path: Path) -> None:
    SAVED.parent.mkdir()
    os.mkfifo(SAVED)
    result = sigcli("trace")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: .sigcli/last-trace.json is not a regular file; remove it, then run "
        "`sigcli run SCENARIO` to save a trace there.\n"
    )


# -- steps that cannot run as steps -----------------------------------------------------


def test_a_generator_step_is_refused_with_its_line(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(tmp_path, "gen.py", "@sigcli.step\ndef go():\n    yield 1\n")
    result = sigcli("run", name)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: gen.py:5: step go is a generator function (it contains yield), so calling it "
        "would run none of its body. Remove the yield.\n"
    )


def test_a_step_that_needs_arguments_is_refused_with_its_line(
    sigcli: Invoke, tmp_path: Path
) -> None:
    name = scenario(tmp_path, "args.py", "@sigcli.step\ndef go(user):\n    pass\n")
    result = sigcli("run", name)
    assert (result.exit_code, result.stdout) == (1, "")
    assert (
        result.stderr == "Error: args.py:5: step go needs arguments; a step is called with none.\n"
    )


def test_step_with_parentheses_says_to_drop_them(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(tmp_path, "paren.py", "@sigcli.step()\ndef go():\n    pass\n")
    result = sigcli("run", name)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: paren.py:5: error while importing the scenario: TypeError: @sigcli.step takes "
        "no arguments: write @sigcli.step, without parentheses, above a function\n"
        "    @sigcli.step()\n"
    )


def test_a_partial_and_a_callable_instance_run_as_steps(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path,
        "callables.py",
        "import functools\n\n\ndef say(text):\n    print(text)\n\n\n"
        "class Step:\n    def __call__(self):\n        print('called')\n\n    def __repr__(self):\n"
        "        return 'Step()'\n\n\n"
        "sigcli.step(functools.partial(say, 'hi'))\nsigcli.step(Step())\n",
    )
    result = sigcli("run", name)
    assert result.exit_code == 0
    out = lines(result.stdout).splitlines()
    assert out[0] == "callables.py · 2 steps · 0 dispatches · no errors"
    assert out[1].startswith("├── 1 · functools.partial(<function say at 0x")
    assert out[1].endswith(">, 'hi')")
    assert out[2:] == ["│   └── print  hi", "└── 2 · Step()", "    └── print  called"]


def test_two_scenarios_each_get_their_own_neighbour_module(sigcli: Invoke, tmp_path: Path) -> None:
    for folder, value in (("one", "first"), ("two", "second")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "helpers.py").write_text(f"VALUE = {value!r}\n")
        (tmp_path / folder / "s.py").write_text(
            "import sigcli\n\nimport helpers\n\n\n@sigcli.step\ndef go():\n    print(helpers.VALUE)\n"
        )
    result = sigcli("run", "one/s.py", "two/s.py")
    assert result.exit_code == 0
    assert [line for line in lines(result.stdout).splitlines() if "print" in line] == [
        "    └── print  first",
        "    └── print  second",
    ]
    assert "helpers" not in sys.modules


def test_a_file_name_starting_with_a_dash_says_to_put_two_dashes_first(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "-draft.py").write_text(ONE_STEP)
    result = sigcli("run", "-draft.py")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: No such option '-d'. To pass the file -draft.py, put -- before it: "
        "sigcli run -- -draft.py\n"
    )
    assert sigcli("run", "--", "-draft.py").exit_code == 0


def test_sigcli_started_with_stderr_closed_still_runs(tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text(ONE_STEP)
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100", NO_COLOR="1", TERM="dumb")
    done = subprocess.run(
        [sys.executable, "-m", "sigcli", "run", "one.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(2),
    )
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "one.py · 1 step · 0 dispatches · no errors",
        "└── 1 · one step",
    ]


def test_run_json_is_strict_json_even_for_nan(sigcli: Invoke, tmp_path: Path) -> None:
    name = scenario(
        tmp_path,
        "nan.py",
        "from sigcli import Signal\n\ntick = Signal()\n\n\n@sigcli.step\ndef go():\n"
        "    tick.send(sender='s', ratio=float('nan'), top=float('inf'))\n",
    )
    result = sigcli("run", name, "--json")
    assert result.exit_code == 0

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    document = json.loads(result.stdout, parse_constant=refuse)
    kwargs = document["steps"][0]["children"][0]["kwargs"]
    assert kwargs == {"ratio": "nan", "top": "inf"}


def test_sigcli_runs_under_a_profiler_and_leaves_it_installed(tmp_path: Path) -> None:
    """cProfile's hook is C-level: putting "it" back with sys.setprofile
    after a scenario would fail (it is not callable) or replace it."""
    result = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(tmp_path / "run.prof"), "-m", "sigcli"]
        + ["run", "profile_on_signup", "--no-save"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    import pstats

    calls = pstats.Stats(str(tmp_path / "run.prof")).stats  # type: ignore[attr-defined]
    profiled = {function for (_, _, function) in calls}
    assert "send_observed" in profiled or "call_loop" in profiled
