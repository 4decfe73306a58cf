"""Run ``sigcli`` as a user would: in a fresh directory, on a pinned terminal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sigcli.cli import main

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "FORCE_COLOR": None}

Invoke = Callable[..., Result]


@pytest.fixture
def sigcli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``sigcli(*args)`` runs the command in ``tmp_path`` and returns click's result."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
        runner = CliRunner(env={**ENV, **(env or {})})
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def lines(text: str) -> str:
    """Output without trailing spaces (rich pads lines it wraps)."""
    return "\n".join(line.rstrip() for line in text.splitlines())
