"""The work of ``sigcli trace`` and ``sigcli why``: find the traces to look at
(a saved file, read only for what the view draws, or a scenario run first)
and show them filtered, or say why a receiver did or did not run.

Nothing here knows the command line: a command passes what it parsed and
``note``, which writes a line on stderr, and gets back the exit status and
whether a scenario run for it left threads running.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigcli import messages
from sigcli.runs import DEFAULT_TRACE, Note
from sigcli.text import json_text, printable

if TYPE_CHECKING:
    from sigcli.drawing import ViewOptions
    from sigcli.query import Filters, Selection
    from sigcli.trace import Trace


def saved_trace(source: str | None) -> Path | None:
    """The trace file ``sigcli trace SOURCE`` reads, or None when it runs a scenario."""
    if source is None:
        return DEFAULT_TRACE
    path = Path(source)
    return path if path.suffix != ".py" and source != "-" and path.is_file() else None


def traces_for(
    source: str | None,
    max_depth: int,
    note: Note,
    read: Callable[[Path], list[Trace]] | None = None,
) -> tuple[list[Trace], int, bool]:
    """The traces to look at (a saved file read by ``read``, by default
    whole; or a scenario's, run first, its problems noted), the exit status
    they imply, and whether a scenario run for them left threads running.

    Only a regular file is read as a trace: ``/dev/zero`` would never end and
    a FIFO would wait for a writer.
    """
    from sigcli import scenario, tracefile

    read = read or tracefile.load

    if source is None:
        if DEFAULT_TRACE.exists() and not DEFAULT_TRACE.is_file():
            raise scenario.ScenarioPathError(
                f"{DEFAULT_TRACE} is not a regular file; remove it, then run "
                "`sigcli run SCENARIO` to save a trace there."
            )
        if not DEFAULT_TRACE.exists():
            raise scenario.ScenarioPathError(
                f"No saved trace in {DEFAULT_TRACE}. Run `sigcli run SCENARIO` first, "
                "or pass a trace file or a scenario."
            )
        return read(DEFAULT_TRACE), 0, False
    path = Path(source)
    if path.suffix != ".py" and source != "-":
        kinds = "pass a trace .json file or a scenario .py file."
        if path.is_dir():
            raise scenario.ScenarioPathError(f"{source} is a directory; {kinds}")
        if path.exists() and not path.is_file():
            raise scenario.ScenarioPathError(f"{source} is not a regular file; {kinds}")
        if path.is_file():
            return read(path), 0, False
        if path.suffix == ".json":
            raise scenario.ScenarioPathError(
                f"No trace file {source!r}; `sigcli trace` alone shows the last run."
            )
    result = scenario.run([source], max_depth=max_depth)
    for line in messages.problems(result, None):
        note(line)
    return result.traces, result.exit_status, bool(result.threads_left)


def show_trace(
    source: str | None,
    filters: Filters,
    *,
    fmt: str,
    options: ViewOptions,
    export: Path | None,
    force: bool,
    max_depth: int,
    note: Note,
) -> tuple[int, bool]:
    """``sigcli trace``: the traces of ``source`` that pass ``filters``, as a
    tree, a table or JSON (``fmt``). A saved file is read only for what the
    view draws, unless it is exported (an export holds every record)."""
    from sigcli import exports, query

    saved = saved_trace(source)
    selected: list[Selection] = []

    def select_saved(path: Path) -> list[Trace]:
        """A saved file read for the filters: a view reads only what it draws."""
        drawn = 0 if fmt == "json" else options.limit
        traces, selection = query.select_saved(
            path, filters, show_all=options.show_all, limit=drawn
        )
        selected.append(selection)
        return traces

    # The run's tree (no filter) draws from the traces alone, and an export
    # holds every record: both read the whole file, and select nothing.
    whole_tree = fmt == "tree" and filters == query.Filters()
    traces, status, threads_left = traces_for(
        source, max_depth, note, select_saved if export is None and not whole_tree else None
    )
    if not traces and fmt != "json":
        print(f"{printable(source or str(DEFAULT_TRACE))} holds no runs.")
        return status, threads_left
    if whole_tree:
        from sigcli import render

        if saved is not None:  # on stderr: stdout stays what a run prints
            note(render.trace_source(saved))
        exports.show(list(render.run_views(traces, options)), traces, export, force=force)
        return status, threads_left
    if selected:
        selection = selected[0]
    else:
        selection = query.select(traces, filters, show_all=options.show_all)
    if fmt == "json":
        sys.stdout.writelines(map(json_text, selection.json_chunks()))
        sys.stdout.write("\n")
        return status, threads_left
    from sigcli import render

    if saved is not None and fmt == "tree":
        note(render.trace_source(saved))
    if fmt == "table":
        renderables: list[Any] = [
            render.timeline_header(selection, printable(str(saved)) if saved else None),
            render.timeline_table(selection, options.limit),
        ]
    else:
        renderables = [render.selection_view(selection, options, traces)]
    exports.show(renderables, traces, export, force=force)
    return status, threads_left


def why(receiver_name: str, source: str | None, as_json: bool, note: Note) -> tuple[int, bool]:
    """``sigcli why``: the verdicts on ``receiver_name`` in the traces of
    ``source`` (by default the last trace), as JSON or drawn."""
    from sigcli import exports, scenario
    from sigcli import why as why_core

    traces, status, threads_left = traces_for(source, 50, note)
    answer = why_core.explain(receiver_name, traces, scenario.project_files(traces))
    if as_json:
        print(json_text(why_core.dumps(answer)))
    else:
        from sigcli.whyview import why_view

        exports.show([why_view(answer)], [])
    return status, threads_left
