"""What sigcli tells a person on stderr about a command: the errors of a run,
an interruption, the threads a scenario left, a file that could not be read
or written.

Each function returns text (printable, clipped); the command writes it, so
that a piped tree still tells what went wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sigcli.text import clip, printable

if TYPE_CHECKING:
    from pathlib import Path

    from sigcli.scenario import RunResult

#: The most characters of one error message written to stderr (the trace
#: keeps what was recorded).
LONGEST_MESSAGE = 1000


def clipped(text: str, limit: int = LONGEST_MESSAGE) -> str:
    """``text`` printable and at most ``limit`` characters, for one line on stderr."""
    return printable(clip(text, limit))


def file_problem(error: OSError) -> str:
    """``"out/t.svg: Not a directory"``: a file sigcli could not read or write."""
    return printable(f"{error.filename}: {error.strerror or error}")


def problems(result: RunResult, saved: Path | None) -> list[str]:
    """One line per scenario or step that failed, the interruption (naming
    the file the partial trace is ``saved`` in), then the exceptions that
    ended a scenario's threads and the threads still running."""
    lines = []
    for t in result.traces:
        if t.error:
            lines.append(f"Error: {clipped(t.error)}")
        for number, step in enumerate(t.steps, 1):
            if step.error and not result.interrupted:
                where = f" ({step.error_at})" if step.error_at else ""
                stopped = f"step {number} ({step.label}) stopped: {clip(step.error, LONGEST_MESSAGE)}{where}"
                lines.append(printable(f"Error: {t.scenario} {stopped}"))
    if result.interrupted:
        kept = f"; the partial trace is saved in {saved}" if saved else ""
        lines.append(f"Interrupted{kept}.")
    lines += [f"Error: {clipped(error)}" for error in result.thread_errors]
    lines += [threads_left(name, threads) for name, threads in result.threads_left.items()]
    return lines


def threads_left(name: str, threads: list[str]) -> str:
    """The warning that ``name`` left ``threads`` running, which sigcli does not wait for."""
    count = f"{len(threads)} thread{'s' if len(threads) > 1 else ''}"
    what = "them" if len(threads) > 1 else "it"
    return printable(
        f"Warning: {name} left {count} running ({clip(', '.join(threads), 200)}); "
        f"sigcli exits without waiting for {what}."
    )


def unsaved(path: Path, error: Exception) -> str:
    """Why the trace was not saved in ``path``: the end of a message that
    starts "could not save the trace"."""
    if isinstance(error, OSError):
        return (
            f"in {path}: {error.strerror or error}. "
            "Choose another file with --save FILE, or pass --no-save."
        )
    return f"({error})"
