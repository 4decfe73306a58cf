"""Patterns of real third-party Django apps, in miniature, on both engines.

django-simple-history connects the bound method ``finalize`` of each of its
``HistoricalRecords`` objects to ``class_prepared`` (``weak=False``): one name
then stands for many receivers, each called once per send. sigcli once
flagged each as "connected twice" in the tree, in ``sigcli receivers`` and
in ``sigcli why``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sigcli.cli import main

MANY_OBJECTS = """\
import sigcli
from sigcli import Signal

prepared = Signal()


class History:
    def __init__(self, name):
        self.name = name
        prepared.connect(self.finalize, weak=False)

    def finalize(self, sender, **kwargs):
        return self.name


def tracker(label):
    def track(sender, **kwargs):
        return label

    return track


def audit(sender, **kwargs):
    return "audited"


histories = [History("a"), History("b")]
prepared.connect(tracker("x"), weak=False)
prepared.connect(tracker("y"), weak=False)
prepared.connect(audit)
prepared.connect(audit, dispatch_uid="audit-again")


@sigcli.step
def prepare():
    prepared.send(sender="Poll")
"""


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def scenario_dir(tmp_path: Path, monkeypatch: Any) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    (tmp_path / "many.py").write_text(MANY_OBJECTS)
    return tmp_path


@pytest.mark.parametrize("engine", ["sigcli", "django"])
def test_one_name_for_many_objects_is_not_a_receiver_connected_twice(
    scenario_dir: Path, engine: str
) -> None:
    assert invoke("run", "many.py", "--engine", engine).splitlines() == [
        "many.py · 1 step · 1 dispatch · no errors",
        "└── 1 · prepare",
        "    └── prepared  'Poll'",
        "        ├── ✓ History.finalize        any sender  → returned a",
        "        ├── ✓ History.finalize        any sender  → returned b",
        "        ├── ✓ tracker.<locals>.track  any sender  → returned x",
        "        ├── ✓ tracker.<locals>.track  any sender  → returned y",
        "        ├── ✓ audit                   any sender  → returned audited",
        "        └── ✓ audit                   any sender  → returned audited"
        "  ← connected twice (two lookup keys): runs twice per send",
    ]
    for name, verdicts in [
        ("History.finalize", ["ran"]),
        ("track", ["ran"]),
        ("audit", ["ran", "duplicate_connection"]),
    ]:
        answer = json.loads(invoke("why", name, "--json"))
        assert [v["reason"] for v in answer["verdicts"]] == verdicts
    listing = invoke("receivers", "many.py", "--engine", engine).splitlines()
    assert [line.split("  many.py:")[0] for line in listing if "many:" in line] == [
        "    ├── many:History.finalize  any sender  strong",
        "    ├── many:History.finalize  any sender  strong",
        "    ├── many:tracker.<locals>.track  any sender  strong",
        "    ├── many:tracker.<locals>.track  any sender  strong",
        "    ├── many:audit  any sender  weak",
        "    └── many:audit  any sender  weak  dispatch_uid='audit-again'",
    ]
    assert [
        line.endswith("← connected twice: runs twice per send")
        for line in listing
        if "many:" in line
    ] == [False] * 5 + [True]
