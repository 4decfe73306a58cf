"""The loader: one fresh module and registry per run, nothing left behind."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import sigcli
from sigcli import scenario, signals
from sigcli.scenario import ScenarioPathError, loaded, resolve
from sigcli.trace import Recorder, Trace

SCENARIOS = Path(__file__).parent / "scenarios"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def builtin_receivers() -> list[int]:
    return [len(signal.receivers) for signal in signals.BUILTIN_SIGNALS]


def test_loading_leaves_no_receiver_and_no_module_behind() -> None:
    before = builtin_receivers()
    with loaded(resolve("profiles")) as profiles:
        assert len(signals.post_save.receivers) == before[3] + 1
        assert profiles.module.__name__ in sys.modules
        assert [step.label for step in profiles.steps] == [
            "a user signs up",
            "rename with update_fields",
            "delete the user",
        ]
    assert builtin_receivers() == before
    assert profiles.module.__name__ not in sys.modules
    assert not [name for name in sys.modules if name.startswith("sigcli_scenario_")]


def test_each_load_gets_its_own_module_and_registry() -> None:
    with loaded(resolve("profiles")) as first, loaded(resolve("profiles")) as second:
        assert first.module is not second.module
        assert first.module.__name__ != second.module.__name__
        assert first.registry is not second.registry
        assert first.module.User is not second.module.User


def test_dataclasses_and_pickling_work_inside_a_scenario(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dc.py",
        "import dataclasses, pickle\n"
        "import sigcli\n\n\n"
        "@dataclasses.dataclass\n"
        "class Point:\n"
        "    x: 'int'\n\n\n"
        "@sigcli.step\n"
        "def roundtrip():\n"
        "    assert pickle.loads(pickle.dumps(Point(1))) == Point(1)\n",
    )
    result = scenario.run([str(path)])
    assert result.exit_status == 0
    assert result.traces[0].steps[0].error is None


def test_unnamed_signals_are_named_after_their_global() -> None:
    with loaded(SCENARIOS / "payments.py") as payments:
        assert payments.module.payment_received.name == "payment_received"
        assert payments.signals["receipt_sent"] is payments.module.receipt_sent


def test_steps_run_in_file_order_with_docstring_labels(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "order.py",
        "import sigcli\n\n\n"
        "@sigcli.step\n"
        "def zeta():\n"
        "    '''First line of the label.\n\n    More text.\n    '''\n\n\n"
        "@sigcli.step\n"
        "def alpha():\n"
        "    pass\n\n\n"
        "@sigcli.step\n"
        "async def later():\n"
        "    '''an async step'''\n",
    )
    result = scenario.run([str(path)])
    assert [(s.label, s.function, s.error) for s in result.traces[0].steps] == [
        ("First line of the label.", "zeta", None),
        ("alpha", "alpha", None),
        ("an async step", "later", None),
    ]


def test_step_returns_the_function_unchanged_outside_a_load() -> None:
    def plain() -> int:
        return 3

    assert sigcli.step(plain) is plain
    with pytest.raises(TypeError, match="@sigcli.step takes no arguments"):
        sigcli.step("label")  # type: ignore[arg-type]


def test_a_receiver_that_raises_ends_the_scenario_but_not_the_run() -> None:
    result = scenario.run([str(SCENARIOS / "failing.py"), str(SCENARIOS / "payments.py")])
    failing, payments = result.traces
    assert [s.label for s in failing.steps] == ["order 2", "order 9"]
    assert failing.not_run == ["order 1"]
    assert not payments.failed
    assert result.exit_status == 1


def test_resolve_names_the_problem() -> None:
    assert resolve("profiles").name == "profiles.py"
    assert resolve("profiles.py").name == "profiles.py"
    with pytest.raises(ScenarioPathError, match="Did you mean 'profiles'"):
        resolve("profile")
    assert "profiles" in scenario.bundled_paths()


def test_setup_dispatches_are_recorded_apart_from_the_steps() -> None:
    trace = Trace(scenario="profiles")
    recorder = Recorder(trace)
    with loaded(resolve("profiles"), recorder=recorder) as profiles:
        scenario.run_steps(profiles, recorder)
    setup = [(d.signal, d.sender) for d in trace.dispatches(setup=True)][:4]
    assert setup == [
        ("class_prepared", "User"),
        ("class_prepared", "Profile"),
        ("pre_migrate", "<AppConfig: app>"),
        ("post_migrate", "<AppConfig: app>"),
    ]
    assert [d.seq for d in trace.dispatches()][:2] == [1, 2]


def test_capture_records_the_block_for_a_users_own_tests() -> None:
    with loaded(resolve("profiles")) as profiles:
        User = profiles.module.User
        with sigcli.capture() as trace:
            User.objects.create(username="bo")
    shown = [
        (d.signal, d.sender, d.depth)
        for d in trace.dispatches()
        if d.signal not in ("pre_init", "post_init")
    ]
    assert shown == [
        ("pre_save", "User", 1),
        ("post_save", "User", 1),
        ("pre_save", "Profile", 2),
        ("post_save", "Profile", 2),
    ]
    assert trace.steps[0].children[0].label == "User.objects.create(username='bo')"


def test_capture_keeps_what_was_recorded_when_the_block_raises() -> None:
    ping = sigcli.Signal()
    ping.name = "ping"

    def answer(sender, **kwargs):
        return "pong"

    ping.connect(answer)
    with pytest.raises(LookupError), sigcli.capture() as trace:
        ping.send(sender=None)
        raise LookupError("gone")
    assert trace.steps[0].error == "LookupError: gone"
    assert [(d.signal, d.receivers[0].result) for d in trace.dispatches()] == [("ping", "pong")]
