"""Recording Django's own signals into a sigcli trace, for the observer's
tests; running a scenario file through the command line on either engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sigcli.cli import main
from sigcli.djangoengine.observer import observe_django
from sigcli.trace import Dispatch, ReceiverCall, Recorder, Trace


@contextmanager
def django_capture(**options: Any) -> Iterator[Trace]:
    """Like ``sigcli.capture()``, for Django's dispatcher: the trace's one step
    holds what was sent in the block (read it after the block)."""
    trace = Trace(scenario=None)
    recorder = Recorder(trace, max_depth=50)
    recorder.start_step("capture", "capture")
    error: BaseException | None = None
    try:
        with observe_django(recorder, **options):
            yield trace
    except BaseException as exc:
        error = exc
        raise
    finally:
        recorder.finish_step(error)


def receivers_of(dispatch: Dispatch) -> list[tuple[str, bool, str | None]]:
    """Each receiver of a dispatch as (name, called, skipped reason)."""
    return [(r.name, r.called, _reason(r)) for r in dispatch.receivers]


def _reason(call: ReceiverCall) -> str | None:
    return None if call.skipped_reason is None else call.skipped_reason.value


@contextmanager
def connected(signal: Any, receiver: Any, **options: Any) -> Iterator[Any]:
    """``receiver`` connected to ``signal`` for the block."""
    signal.connect(receiver, **options)
    try:
        yield receiver
    finally:
        signal.disconnect(
            receiver, sender=options.get("sender"), dispatch_uid=options.get("dispatch_uid")
        )


def invoke(*args: str) -> str:
    """The output of a sigcli command that must succeed."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def scenario_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    """``tmp_path`` as the working folder, holding ``files``; wide, colourless output."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path
