"""A receiver without ``__qualname__`` reads the same in every view, on both
engines: ``partial(function)`` for a ``functools.partial`` (Django's test
client connects one to ``template_rendered``), and a callable instance or a
Mock by its repr less the memory address, which differs in every run."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from tests.djangoengine.helpers import invoke, scenario_folder

SCENARIO = """\
import functools
from unittest import mock

import sigcli
from sigcli import Signal

pinged = Signal()


def note(sender, tag, **kwargs):
    return f"{tag} from {sender}"


class Counter:
    def __call__(self, sender, **kwargs):
        return "counted"


counter = Counter()
pinged.connect(functools.partial(functools.partial(note), tag="partial"), weak=False)
pinged.connect(counter)
pinged.connect(mock.Mock(return_value="spied"), weak=False)


@sigcli.step
def ping():
    pinged.send(sender="tests")
"""


@pytest.fixture
def scenario_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return scenario_folder(tmp_path, monkeypatch, {"partials.py": SCENARIO})


@pytest.mark.parametrize("engine", ["sigcli", "django"])
def test_receivers_without_qualname_are_named_without_addresses(
    scenario_dir: Path, engine: str
) -> None:
    tree = invoke("run", "partials.py", "--engine", engine)
    assert tree.splitlines() == [
        "partials.py · 1 step · 1 dispatch · no errors",
        "└── 1 · ping",
        "    └── pinged  'tests'",
        "        ├── ✓ partial(note)              any sender  → returned partial from tests",
        "        ├── ✓ <partials.Counter object>  any sender  → returned counted",
        "        └── ✓ <Mock>                     any sender  → returned spied",
    ]
    data = json.loads(invoke("run", "partials.py", "--engine", engine, "--json"))
    (dispatch,) = data["steps"][0]["children"]
    assert [(r["name"], r["module"], r["line"]) for r in dispatch["receivers"]] == [
        ("partial(note)", "partials", 10),
        ("<partials.Counter object>", "partials", 15),
        ("<Mock>", "unittest.mock", None),
    ]
    listing = [
        line.split("  /")[0].rstrip()
        for line in invoke("receivers", "partials.py", "--engine", engine).splitlines()
    ]
    assert [line for line in listing if "partials" in line or "Mock" in line][1:] == [
        "    ├── partials:partial(note)  any sender  strong  partials.py:10",
        "    ├── partials:<partials.Counter object>  any sender  weak  partials.py:15",
        "    └── unittest.mock:<Mock>  any sender  strong",
    ]
    invoke("run", "partials.py", "--engine", engine)  # why reads the trace it saved
    for query in ("partial(note)", "note", "partials.note"):
        assert invoke("why", query).splitlines()[:3] == [
            "why partial(note)  partials.py:10",
            "✓ ran  #1",
            "  Called by #1 pinged 'tests'.",
        ]


def tag(sender: object, tag: str, **kwargs: Any) -> str:
    return tag


@pytest.mark.parametrize("engine", ["sigcli", "django"])
def test_assert_called_finds_a_partial_by_itself_and_names_it(signals: Any, engine: str) -> None:
    import django.dispatch

    from sigcli.dispatcher import Signal

    pinged = Signal() if engine == "sigcli" else django.dispatch.Signal()
    first = functools.partial(tag, tag="first")
    pinged.connect(first)
    pinged.send(sender=None)
    (call,) = signals.assert_called(first, times=1)
    assert (call.name, call.module, call.result) == ("partial(tag)", __name__, "first")
    with pytest.raises(AssertionError) as failed:
        signals.assert_not_called(first)
    assert str(failed.value).splitlines()[0] == "partial(tag) was called once:"
