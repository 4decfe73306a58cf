"""Patterns of real third-party Django apps, in miniature, on both engines.

django-simple-history connects the bound method ``finalize`` of each of its
``HistoricalRecords`` objects to ``class_prepared`` (``weak=False``): one name
then stands for many receivers, each called once per send. sigcli once
flagged each as "connected twice" in the tree, in ``sigcli receivers`` and
in ``sigcli why``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.djangoengine.helpers import invoke, scenario_folder

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


@pytest.fixture
def scenario_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return scenario_folder(tmp_path, monkeypatch, {"many.py": MANY_OBJECTS})


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


ABSTRACT_MIXIN = """\
import sigcli
from django.db import models as django_models


class Stamped(django_models.Model):
    class Meta:
        abstract = True


@sigcli.step
def nothing():
    pass
"""


def test_a_scenario_that_needs_django_on_the_own_engine_says_to_use_it(tmp_path: Path) -> None:
    """A third-party app's abstract model (django-model-utils'
    TimeStampedModel) needs Django set up, which only --engine django does."""
    (tmp_path / "mixin.py").write_text(ABSTRACT_MIXIN)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "sigcli", "run", "mixin.py"],
        cwd=tmp_path,
        env=dict(env, COLUMNS="200", NO_COLOR="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: mixin.py:5: error while importing the scenario: ")
    assert lines[1:] == [
        "    class Stamped(django_models.Model):",
        "The scenario imports code that needs Django itself: run it on real Django with "
        "--engine django, or against a project with --settings PROJECT.settings.",
    ]
    assert "Traceback" not in result.stderr
    ran = subprocess.run(
        [sys.executable, "-m", "sigcli", "run", "mixin.py", "--engine", "django"],
        cwd=tmp_path,
        env=dict(env, COLUMNS="200", NO_COLOR="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == "mixin.py · 1 step · 0 dispatches · no errors"
