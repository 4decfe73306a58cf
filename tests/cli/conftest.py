"""Run the ``sigcli`` command in-process, in a fresh directory, on a pinned terminal."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sigcli.cli import main

SCENARIOS = Path(__file__).parent / "scenarios"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "FORCE_COLOR": None}

Invoke = Callable[..., Result]


@pytest.fixture
def sigcli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``sigcli(*args)`` runs the command in ``tmp_path``; the test scenarios are
    copied there, so that paths in the output are short and stable."""
    monkeypatch.chdir(tmp_path)
    for scenario in SCENARIOS.glob("*.py"):
        shutil.copy(scenario, tmp_path / scenario.name)

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner(env=ENV).invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def lines(text: str) -> str:
    """Output without trailing spaces (rich pads table cells)."""
    return "\n".join(line.rstrip() for line in text.splitlines())
