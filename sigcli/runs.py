"""The work of ``sigcli run``, ``receivers`` and ``record``: run scenarios (or
a Django program) on the engine asked for, save their traces, show them,
and say on stderr what went wrong.

Nothing here knows the command line: a command passes what it parsed and
``note``, which writes a line on stderr, and gets back the exit status.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigcli import messages, safefile
from sigcli.text import printable

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sigcli.drawing import ViewOptions
    from sigcli.scenario import Engine
    from sigcli.trace import Trace

#: Where a run saves its trace, and where ``sigcli trace`` looks, by default.
DEFAULT_TRACE = Path(".sigcli") / "last-trace.json"

#: Writes one line on stderr.
Note = Callable[[str], None]


class SaveRefused(Exception):
    """The trace cannot be saved in the file ``--save`` named (a usage error);
    the message says why and what to do."""


def check_outputs(save: Path | None, export: Path | None, force: bool) -> None:
    """Before anything runs: the files asked for can be written, and replace
    nothing that sigcli did not write (unless ``force``). A trace that
    cannot be saved raises :class:`SaveRefused`, an export
    :class:`~sigcli.exports.ExportFailed`."""
    if save is not None:
        try:
            safefile.check_target(save, "trace", force=force)
        except safefile.UnsafeTarget as error:
            raise SaveRefused(printable(str(error))) from None
    if export is not None:
        from sigcli import exports  # rich: only an export needs it here

        try:
            safefile.check_target(export, exports.export_kind(export), force=force)
        except safefile.UnsafeTarget as error:
            raise exports.ExportFailed(f"--export {printable(str(error))}") from None


@contextmanager
def engine(name: str, settings: str | None, note: Note) -> Iterator[Engine]:
    """The engine to run scenarios on (``"sigcli"`` or ``"django"``), for the
    block; with ``settings``, Django on the project's test databases,
    destroyed after the block."""
    from sigcli import scenario

    if name == "sigcli" and settings is None:
        yield scenario.OWN_ENGINE
        return
    from sigcli.djangoengine import project
    from sigcli.djangoscenario import DjangoEngine

    if settings is None:
        yield DjangoEngine()
        return
    with project.test_databases(settings, report=note):
        yield DjangoEngine()


def run(
    scenarios: list[str],
    *,
    engine_name: str,
    settings: str | None,
    step: bool,
    max_depth: int,
    database: str | None,
    keep_going: bool,
    save: Path | None,
    force: bool,
    as_json: bool,
    options: ViewOptions,
    export: Path | None,
    note: Note,
) -> tuple[int, bool]:
    """``sigcli run``: run the scenarios on the engine named (pausing at each
    dispatch with ``step``), save their traces in ``save``, print the JSON or the views, and
    note what went wrong. Returns the exit status and whether a scenario left
    threads running.

    A trace that cannot be saved is noted after the run is shown, with
    status 2 unless the run failed."""
    from sigcli import scenario, tracefile

    with engine(engine_name, settings, note) as chosen:
        if step:
            from sigcli import exports, stepper

            result = stepper.run_stepping(
                scenarios,
                exports.make_console(),
                max_depth=max_depth,
                show_all=options.show_all,
                keep_going=keep_going,
                engine=chosen,
            )
        else:
            result = scenario.run(
                scenarios,
                max_depth=max_depth,
                database=database,
                keep_going=keep_going,
                engine=chosen,
            )
    unsaved: str | None = None
    if save is not None:
        try:
            save_traces(result.traces, save, force or save is DEFAULT_TRACE)
        except (OSError, safefile.UnsafeTarget) as error:  # the run is still shown first
            unsaved = messages.unsaved(save, error)
            save = None
    if as_json:
        tracefile.write(result.traces, sys.stdout)
    else:
        show_runs(result.traces, options, export, force)
    for line in messages.problems(result, save):
        note(line)
    if unsaved is not None:
        note(f"Error: could not save the trace {printable(unsaved)}")
    return result.exit_status or (2 if unsaved else 0), bool(result.threads_left)


def show_runs(traces: list[Trace], options: ViewOptions, export: Path | None, force: bool) -> None:
    """Draw each run that got as far as a step, or failed no earlier than that."""
    from sigcli import exports, render

    shown = [t for t in traces if t.steps or not t.error]
    exports.show(list(render.run_views(shown, options)), traces, export, force=force)


def save_traces(traces: list[Trace], path: Path, force: bool) -> None:
    """Save the traces; the default file's folder ``.sigcli`` is made if missing,
    and must be a real folder (a link there could lead anywhere)."""
    from sigcli import tracefile

    if path is DEFAULT_TRACE:
        folder = DEFAULT_TRACE.parent
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            what = "a symbolic link" if folder.is_symlink() else "not a folder"
            raise safefile.UnsafeTarget(
                f"{folder} is {what}; sigcli keeps its last trace in a folder {folder} of "
                "its own. Rename or remove it."
            )
        folder.mkdir(exist_ok=True)
    tracefile.save(traces, path, force=force)


def receivers(
    scenario_name: str, engine_name: str, settings: str | None, note: Note
) -> tuple[RenderableType, list[str]]:
    """``sigcli receivers SCENARIO``: the listing of the receivers connected
    once the scenario is loaded, and the threads its loading left running."""
    from sigcli import render, scenario
    from sigcli.why import receiver_flags

    before = set(threading.enumerate())
    connections: list[Any] = []
    with engine(engine_name, settings, note) as chosen:
        listing = scenario.receivers(scenario_name, connections, chosen)
    flags = {signal: receiver_flags(signal, infos, connections) for signal, infos in listing}
    view = render.receivers_view(scenario_name, listing, flags)
    return view, scenario.threads_started_since(before)


def record(
    program: list[str], save: Path | None, *, sql: bool, record_all: bool, note: Note
) -> int:
    """``sigcli record -- PROGRAM``: run the program (a file, or ``-m`` and a
    module) with its arguments, save the trace in ``save`` (by default the
    last trace's file) and sum it up on stderr. Returns the program's exit
    status, or 2 if it succeeded but the trace could not be saved."""
    from sigcli.djangoengine import record as recorder

    saved = DEFAULT_TRACE if save is None else save
    where = saved if saved is DEFAULT_TRACE else saved.resolve()
    folder = Path.cwd()
    module = bool(program) and program[0] == "-m"
    recording = recorder.record(
        program[1:] if module else program, module=module, sql=sql, unheard=record_all
    )
    os.chdir(folder)  # the trace goes where sigcli was started, wherever the program went
    status = recording.exit_status
    shown: str | None = str(saved)
    try:
        save_traces([recording.trace], where, save is None)
    except (OSError, safefile.UnsafeTarget) as error:
        note(f"Error: could not save the trace {printable(messages.unsaved(saved, error))}")
        shown = None
        status = status or 2
    for line in recorder.summary(recording, shown):
        note(printable(line))
    return status
