"""The ``sigcli`` command line: parse options, call the core, print, exit.

Only click and the package root load at start-up, so ``--help`` and
``--version`` stay fast; rich, sqlite3 and the model layer load inside the
commands that draw or run something. Exit statuses: 0 success, 1 a scenario
failed (could not load, or a step raised), 2 a usage error (bad option,
missing or unusable file, unknown filter name), 130 interrupted with Ctrl-C.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from sigcli import __version__

if TYPE_CHECKING:
    from sigcli.render import ViewOptions
    from sigcli.scenario import RunResult
    from sigcli.trace import Trace

DEFAULT_TRACE = Path(".sigcli") / "last-trace.json"


class _Group(click.Group):
    """Maps the core's exceptions to click's, in this one place."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["sigcli.args"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as error:
            arguments = ctx.meta.get("sigcli.args", [])
            files = [a for a in arguments if a.startswith("-") and Path(a).is_file()]
            if not files:
                raise
            raise click.UsageError(
                f"{error.format_message()} To pass the file {files[0]}, put -- before it: "
                f"sigcli {ctx.invoked_subcommand} -- {files[0]}",
                ctx=error.ctx,
            ) from None
        except KeyboardInterrupt:
            # Outside a scenario's steps (loading a big trace, drawing it):
            # the documented status, not click's "Aborted!" and 1.
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except OSError as error:
            if error.filename is None and error.errno in _OUTPUT_ERRORS:
                _silence_stdout()
                click.echo(f"Error: could not write the output: {error.strerror}", err=True)
                ctx.exit(1)
            if error.filename is None:
                raise
            raise click.UsageError(_file_problem(error)) from None
        except Exception as error:
            mapped = _as_click_error(error)
            if mapped is None:
                raise
            raise mapped from None


#: Writing the tree to stdout failed: a full disk, a closed descriptor, a pipe
#: whose reader left.
_OUTPUT_ERRORS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EPIPE, errno.EFBIG, errno.EDQUOT}


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail
    a second time with a traceback of its own."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _file_problem(error: OSError) -> str:
    """``"out/t.svg: Not a directory"``: a file sigcli could not read or write."""
    from sigcli.text import printable

    return printable(f"{error.filename}: {error.strerror or error}")


def _as_click_error(error: Exception) -> click.ClickException | None:
    if not type(error).__module__.startswith("sigcli."):
        return None
    from sigcli.explain import UnknownSignal
    from sigcli.query import FilterError
    from sigcli.scenario import ScenarioError, ScenarioPathError
    from sigcli.text import printable
    from sigcli.trace import TraceFormatError

    if isinstance(error, UnknownSignal):
        return click.BadParameter(str(error), param_hint="'SIGNAL'")
    if isinstance(error, FilterError):
        return click.BadParameter(printable(_clipped(str(error))), param_hint=f"'{error.option}'")
    if isinstance(error, ScenarioPathError | TraceFormatError):
        return click.UsageError(printable(_clipped(str(error))))
    if isinstance(error, ScenarioError):
        return click.ClickException(printable(_clipped(str(error))))
    from sigcli.djangoengine.configure import DjangoSetupError

    if isinstance(error, DjangoSetupError):
        return click.UsageError(printable(_clipped(str(error))))
    return None


def _check_export(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() not in (".svg", ".html", ".mmd"):
        raise click.BadParameter("the file name must end in .svg, .html or .mmd")
    return value


def _check_outputs(save: Path | None, export: Path | None, force: bool) -> None:
    """Before anything runs: the files asked for can be written, and replace
    nothing that sigcli did not write (unless ``--force``). A trace that
    cannot be saved is a usage error (2); an export, output that cannot be
    written (1)."""
    from sigcli import render, safefile
    from sigcli.text import printable

    if save is not None:
        try:
            safefile.check_target(save, "trace", force=force)
        except safefile.UnsafeTarget as error:
            raise click.BadParameter(printable(str(error)), param_hint="'--save'") from None
    if export is not None:
        try:
            safefile.check_target(export, render.export_kind(export), force=force)
        except safefile.UnsafeTarget as error:
            raise click.ClickException(f"--export {printable(str(error))}") from None


def _view_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option(
                "-v",
                "--verbose",
                is_flag=True,
                help="Show receiver locations, full SQL and every keyword argument.",
            ),
            click.option(
                "--all",
                "show_all",
                is_flag=True,
                help="Unfold pre_init/post_init with no receiver and the setup section.",
            ),
            click.option(
                "--hide-skipped",
                is_flag=True,
                help="Count skipped receivers on their dispatch's line instead of drawing them.",
            ),
            click.option("--no-sql", is_flag=True, help="Leave SQL statements out of the tree."),
            click.option(
                "--compact",
                is_flag=True,
                help="One line per dispatch, its receivers on that line; no ORM calls or SQL.",
            ),
            click.option(
                "--export",
                type=click.Path(path_type=Path),
                callback=_check_export,
                help="Also write the view to FILE.svg, FILE.html or FILE.mmd (Mermaid).",
            ),
            click.option(
                "--force",
                is_flag=True,
                help="Let --save and --export replace a file that sigcli did not write.",
            ),
            click.option(
                "--max-depth",
                type=click.IntRange(1, 200),
                default=50,
                show_default=True,
                help="Stop a run whose signals nest deeper than this (runaway recursion).",
            ),
            click.option(
                "--limit",
                type=click.IntRange(min=0),
                default=500,
                show_default=True,
                help="Draw at most N dispatches and ORM calls per tree (0: all); "
                "a line counts what was left out.",
            ),
        ]
    ):
        command = option(command)
    return command


def _engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--settings",
        metavar="PROJECT.settings",
        help="Run on this Django project (implies --engine django); a run uses a test "
        "database that Django creates and destroys.",
    )(command)
    return click.option(
        "--engine",
        type=click.Choice(["sigcli", "django"]),
        default="sigcli",
        show_default=True,
        help="sigcli's own dispatcher and models, or real Django (pip install 'sigcli[django]').",
    )(command)


@contextmanager
def _engine(engine: str, settings: str | None) -> Iterator[Any]:
    """The engine to run scenarios on, for the block; with ``settings``, on the
    project's test databases, destroyed after the block."""
    from sigcli import scenario

    if engine == "sigcli" and settings is None:
        yield scenario.OWN_ENGINE
        return
    from sigcli.djangoengine import project
    from sigcli.djangoscenario import DjangoEngine

    if settings is None:
        yield DjangoEngine()
        return
    with project.test_databases(settings, report=_note):
        yield DjangoEngine()


def _note(message: str) -> None:
    click.echo(message, err=True)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="sigcli")
def main() -> None:
    """Run Django-style signal scenarios and see every dispatch as a tree."""


@main.command(short_help="Run scenarios and print their signal tree.")
@click.argument("scenarios", nargs=-1, required=True)
@click.option(
    "--save",
    "save_path",
    type=click.Path(path_type=Path),
    help=f"Where to save the trace (default {DEFAULT_TRACE}).",
)
@click.option("--no-save", is_flag=True, help="Do not save the trace.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON trace instead of the tree.")
@click.option("--db", help="Keep the SQLite database in this new file (a plain path, not a URI).")
@click.option(
    "--keep-going",
    is_flag=True,
    help="Run the remaining steps after a step fails (the exit status is still 1).",
)
@click.option(
    "--step",
    is_flag=True,
    help="Pause before each dispatch: Enter goes on, c runs to the end, q stops.",
)
@_engine_options
@_view_options
def run(
    scenarios: tuple[str, ...],
    save_path: Path | None,
    no_save: bool,
    as_json: bool,
    db: str | None,
    keep_going: bool,
    step: bool,
    verbose: bool,
    show_all: bool,
    hide_skipped: bool,
    no_sql: bool,
    compact: bool,
    export: Path | None,
    force: bool,
    max_depth: int,
    limit: int,
    engine: str,
    settings: str | None,
) -> None:
    """Run SCENARIO files (or bundled scenario names) and print the signal tree."""
    from sigcli import safefile, scenario, tracefile
    from sigcli.text import printable

    if step and (as_json or db):
        raise click.UsageError("--step does not combine with --json or --db.")
    if db and (engine == "django" or settings):
        raise click.UsageError("--db keeps sigcli's own database; --engine django has none.")
    saved = None if no_save else (save_path or DEFAULT_TRACE)
    _check_outputs(None if no_save else save_path, export, force)
    with _second_interrupt_exits():
        with _engine(engine, settings) as chosen:
            if step:
                from sigcli import render, stepper

                result = stepper.run_stepping(
                    list(scenarios),
                    render.make_console(),
                    max_depth=max_depth,
                    show_all=show_all,
                    keep_going=keep_going,
                    engine=chosen,
                )
            else:
                result = scenario.run(
                    list(scenarios),
                    max_depth=max_depth,
                    database=db,
                    keep_going=keep_going,
                    engine=chosen,
                )
        unsaved: str | None = None
        if saved is not None:
            try:
                _save(result.traces, saved, force or saved is DEFAULT_TRACE)
            except (OSError, safefile.UnsafeTarget) as error:  # the run is still shown first
                unsaved = _unsaved(saved, error)
                saved = None
        if as_json:
            tracefile.write(result.traces, sys.stdout)
        else:
            options = _options(verbose, show_all, limit, hide_skipped, no_sql, compact)
            _show_runs(result.traces, options, export, force)
        _report(result.traces, saved, result.interrupted)
        _report_threads(result)
        if unsaved is not None:
            click.echo(f"Error: could not save the trace {printable(unsaved)}", err=True)
        _exit(result.exit_status or (2 if unsaved else 0), bool(result.threads_left))


@main.command("trace", short_help="Show and filter a saved or fresh trace.")
@click.argument("source", required=False)
@click.option("--sender", multiple=True, help="Only dispatches from this sender (repeatable).")
@click.option("--signal", multiple=True, help="Only this signal (repeatable).")
@click.option("--receiver", help="Only dispatches that reach a receiver whose name contains TEXT.")
@click.option("--instance", help="Only dispatches about this instance, as MODEL:PK.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["tree", "table", "json"]),
    default="tree",
    show_default=True,
)
@_view_options
def trace_command(
    source: str | None,
    sender: tuple[str, ...],
    signal: tuple[str, ...],
    receiver: str | None,
    instance: str | None,
    fmt: str,
    verbose: bool,
    show_all: bool,
    hide_skipped: bool,
    no_sql: bool,
    compact: bool,
    export: Path | None,
    force: bool,
    max_depth: int,
    limit: int,
) -> None:
    """Show a saved trace (default: the last run), or run SOURCE.py first, filtered."""
    from sigcli import query
    from sigcli.text import json_text, printable

    _check_outputs(None, export, force)
    saved = _saved_trace(source)
    if saved is not None and _given(click.get_current_context(), "max_depth"):
        raise click.UsageError(
            f"--max-depth stops a run that nests too deep; {printable(str(saved))} is a saved "
            "trace, recorded already. Pass a scenario .py file to run it with --max-depth, "
            "or use --limit N to draw less."
        )
    filters = query.Filters(sender, signal, receiver, instance)
    selected: list[query.Selection] = []

    def select_saved(path: Path) -> list[Trace]:
        """A saved file read for the filters: a view reads only what it draws."""
        drawn = 0 if fmt == "json" else limit
        traces, selection = query.select_saved(path, filters, show_all=show_all, limit=drawn)
        selected.append(selection)
        return traces

    # An export holds every record, so it reads the whole file.
    traces, status, threads_left = _traces_for(
        source, max_depth, select_saved if export is None else None
    )
    if not traces and fmt != "json":
        click.echo(f"{printable(source or str(DEFAULT_TRACE))} holds no runs.")
        _exit(status, threads_left)
    options = _options(verbose, show_all, limit, hide_skipped, no_sql, compact)
    selection = selected[0] if selected else query.select(traces, filters, show_all=show_all)
    if fmt == "json":
        sys.stdout.writelines(map(json_text, selection.json_chunks()))
        sys.stdout.write("\n")
        _exit(status, threads_left)
    from sigcli import render

    if saved is not None and fmt == "tree":  # on stderr: stdout stays what a run prints
        click.echo(render.trace_source(saved), err=True)
    if fmt == "table":
        renderables: list[Any] = [
            render.timeline_header(selection, printable(str(saved)) if saved else None),
            render.timeline_table(selection, limit),
        ]
    elif filters == query.Filters():
        renderables = list(render.run_views(traces, options))
    else:
        renderables = [render.selection_view(selection, options, traces)]
    _print(renderables, traces, export, force)
    _exit(status, threads_left)


@main.command(short_help="Say why a receiver did or did not run.")
@click.argument("receiver_name", metavar="RECEIVER")
@click.argument("source", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
def why(receiver_name: str, source: str | None, as_json: bool) -> None:
    """Why RECEIVER (a name, a qualified name or FILE:LINE) did or did not run
    in SOURCE: a scenario (run first), a trace file, or by default the last trace."""
    from sigcli import scenario
    from sigcli import why as why_core
    from sigcli.text import json_text

    traces, status, threads_left = _traces_for(source, 50)
    try:
        answer = why_core.explain(receiver_name, traces, scenario.project_files(traces))
    except why_core.AmbiguousReceiver as error:
        raise click.BadParameter(str(error), param_hint="'RECEIVER'") from None
    if as_json:
        click.echo(json_text(why_core.dumps(answer)))
    else:
        from sigcli.whyview import why_view

        _print([why_view(answer)], [], None)
    _exit(0 if status == 0 else status, threads_left)


@main.command(short_help="List the receivers a scenario or a Django project connects.")
@click.argument("scenario_name", metavar="[SCENARIO]", required=False)
@_engine_options
def receivers(scenario_name: str | None, engine: str, settings: str | None) -> None:
    """List the receivers connected once SCENARIO is loaded, per signal; with
    --settings and no SCENARIO, every receiver of the Django project."""
    import threading

    from sigcli import render, scenario
    from sigcli.why import receiver_flags

    if scenario_name is None and settings is None:
        raise click.UsageError("Name a SCENARIO, or a Django project with --settings.")
    if scenario_name is None:
        from sigcli.djangoengine.receivers import project_receivers

        _print([render.project_receivers_view(project_receivers(str(settings)))], [], None)
        return
    before = set(threading.enumerate())
    connections: list[Any] = []
    with _engine(engine, settings) as chosen:
        listing = scenario.receivers(scenario_name, connections, chosen)
    flags = {signal: receiver_flags(signal, infos, connections) for signal, infos in listing}
    _print([render.receivers_view(scenario_name, listing, flags)], [], None)
    _exit_past_threads(scenario_name, scenario.threads_started_since(before))


@main.command("scenarios")
def scenarios_command() -> None:
    """List the bundled scenarios with the lesson each one teaches."""
    from sigcli import explain

    _print([explain.scenarios_table()], [], None)


@main.command("explain")
@click.argument("signal_name", metavar="[SIGNAL]", required=False)
def explain_command(signal_name: str | None) -> None:
    """Django's built-in signals as a table, or one SIGNAL in detail."""
    from sigcli import explain

    if signal_name is None:
        _print([explain.signal_table()], [], None)
    else:
        _print([explain.signal_detail(signal_name)], [], None)


@main.command("shell")
@click.argument("scenario_name", metavar="[SCENARIO]", required=False)
@click.option("--run", "run_steps", is_flag=True, help="Run the scenario's steps first.")
@_engine_options
def shell_command(
    scenario_name: str | None, run_steps: bool, engine: str, settings: str | None
) -> None:
    """A Python console with SCENARIO loaded, printing each statement's signal tree."""
    import threading

    from sigcli import render, scenario, shell

    before = set(threading.enumerate())
    with _engine(engine, settings) as chosen:
        shell.start(scenario_name, render.make_console(), run_steps=run_steps, engine=chosen)
    _exit_past_threads(scenario_name or "the shell", scenario.threads_started_since(before))


# -- helpers --------------------------------------------------------------------


@main.command(
    "record",
    short_help="Run a Django program and record its signals.",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option(
    "--save",
    "save_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Save the trace here instead of {DEFAULT_TRACE}.",
)
@click.option("--sql", is_flag=True, help="Record SQL statements too.")
@click.option(
    "--all",
    "record_all",
    is_flag=True,
    help="Record sends of signals that have no receiver at all (counted otherwise).",
)
@click.argument("program", nargs=-1, required=True, type=click.UNPROCESSED)
def record_command(
    save_path: Path | None, sql: bool, record_all: bool, program: tuple[str, ...]
) -> None:
    """Run PROGRAM (a Python file, or -m MODULE) with its arguments, as
    `coverage run` does, recording every Django signal it sends:
    `sigcli record -- manage.py test`, `sigcli record -- -m pytest -x`.
    The program's output and exit status are its own; the trace is saved
    when it ends, and a summary goes to stderr."""
    from sigcli import safefile
    from sigcli.djangoengine import record
    from sigcli.text import printable

    _check_outputs(save_path, None, False)
    saved = DEFAULT_TRACE if save_path is None else save_path
    where = saved if saved is DEFAULT_TRACE else saved.resolve()
    folder = Path.cwd()
    arguments = list(program)
    module = bool(arguments) and arguments[0] == "-m"
    try:
        recording = record.record(
            arguments[1:] if module else arguments, module=module, sql=sql, unheard=record_all
        )
    except record.ProgramNotFound as error:
        raise click.UsageError(printable(str(error))) from None
    os.chdir(folder)  # the trace goes where sigcli was started, wherever the program went
    status = recording.exit_status
    shown: str | None = str(saved)
    try:
        _save([recording.trace], where, save_path is None)
    except (OSError, safefile.UnsafeTarget) as error:
        click.echo(f"Error: could not save the trace {printable(_unsaved(saved, error))}", err=True)
        shown = None
        status = status or 2
    for line in record.summary(recording, shown):
        click.echo(printable(line), err=True)
    sys.exit(status)


def _options(
    verbose: bool, show_all: bool, limit: int, hide_skipped: bool, no_sql: bool, compact: bool
) -> ViewOptions:
    from sigcli.render import ViewOptions

    return ViewOptions(
        verbose=verbose,
        show_all=show_all,
        limit=limit,
        hide_skipped=hide_skipped,
        sql=not no_sql,
        compact=compact,
    )


def _saved_trace(source: str | None) -> Path | None:
    """The trace file ``sigcli trace SOURCE`` reads, or None when it runs a scenario."""
    if source is None:
        return DEFAULT_TRACE
    path = Path(source)
    return path if path.suffix != ".py" and source != "-" and path.is_file() else None


def _given(ctx: click.Context, name: str) -> bool:
    """Whether the option ``name`` was given, not left at its default."""
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)


def _traces_for(
    source: str | None, max_depth: int, read: Callable[[Path], list[Trace]] | None = None
) -> tuple[list[Trace], int, bool]:
    """The traces ``sigcli trace`` looks at (a saved file read by ``read``,
    by default whole), the exit status they imply, and whether a scenario
    run for them left threads running.

    Only a regular file is read as a trace: ``/dev/zero`` would never end and
    a FIFO would wait for a writer.
    """
    from sigcli import scenario, tracefile

    read = read or tracefile.load

    if source is None:
        if DEFAULT_TRACE.exists() and not DEFAULT_TRACE.is_file():
            raise click.UsageError(
                f"{DEFAULT_TRACE} is not a regular file; remove it, then run "
                "`sigcli run SCENARIO` to save a trace there."
            )
        if not DEFAULT_TRACE.exists():
            raise click.UsageError(
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
    _report(result.traces, None, result.interrupted)
    _report_threads(result)
    return result.traces, result.exit_status, bool(result.threads_left)


#: ``os._exit`` as it was when sigcli started: a scenario's own call is
#: refused while it runs (see :mod:`sigcli.scenario`), never sigcli's.
_hard_exit = os._exit


@contextmanager
def _second_interrupt_exits() -> Iterator[None]:
    """The first Ctrl-C stops the run, which then saves and shows what it
    recorded; a second one ends the process at once (a file being saved is
    left as it was before). Only in the real process's main thread."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def first(number: int, frame: object) -> None:
        signal.signal(signal.SIGINT, again)
        raise KeyboardInterrupt

    def again(number: int, frame: object) -> None:
        os.write(2, b"Interrupted again: exiting now.\n")
        _hard_exit(130)

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _save(traces: list[Trace], path: Path, force: bool) -> None:
    """Save the traces; the default file's folder ``.sigcli`` is made if missing,
    and must be a real folder (a link there could lead anywhere)."""
    from sigcli import safefile, tracefile

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


def _unsaved(path: Path, error: Exception) -> str:
    """Why the trace was not saved in ``path``: the end of a message that
    starts "could not save the trace"."""
    if isinstance(error, OSError):
        return (
            f"in {path}: {error.strerror or error}. "
            "Choose another file with --save FILE, or pass --no-save."
        )
    return f"({error})"


def _show_runs(traces: list[Trace], options: ViewOptions, export: Path | None, force: bool) -> None:
    from sigcli import render

    shown = [t for t in traces if t.steps or not t.error]
    _print(list(render.run_views(shown, options)), traces, export, force)


def _print(
    renderables: list[Any], traces: list[Trace], export: Path | None, force: bool = False
) -> None:
    from sigcli import render, safefile
    from sigcli.text import printable

    console = render.make_console()
    for renderable in renderables:
        console.print(renderable)
    if export is not None:
        try:
            render.export(export, renderables, traces, force=force)
        except safefile.UnsafeTarget as error:
            raise click.ClickException(f"--export {printable(str(error))}") from None
        except OSError as error:
            problem = printable(f"{export}: {error.strerror or error}")
            raise click.ClickException(f"could not write the export {problem}") from None


def _report(traces: list[Trace], saved: Path | None, interrupted: bool) -> None:
    """One line per problem on stderr, so that a piped tree still tells."""
    from sigcli.text import printable

    for t in traces:
        if t.error:
            click.echo(f"Error: {printable(_clipped(t.error))}", err=True)
        for number, step in enumerate(t.steps, 1):
            if step.error and not interrupted:
                where = f" ({step.error_at})" if step.error_at else ""
                stopped = f"step {number} ({step.label}) stopped: {_clipped(step.error)}{where}"
                click.echo(printable(f"Error: {t.scenario} {stopped}"), err=True)
    if interrupted:
        kept = f"; the partial trace is saved in {saved}" if saved else ""
        click.echo(f"Interrupted{kept}.", err=True)


def _report_threads(result: RunResult) -> None:
    from sigcli.text import printable

    for error in result.thread_errors:
        click.echo(printable(f"Error: {_clipped(error)}"), err=True)
    for name, threads in result.threads_left.items():
        _warn_threads(name, threads)


def _warn_threads(name: str, threads: list[str]) -> None:
    from sigcli.text import printable

    count = f"{len(threads)} thread{'s' if len(threads) > 1 else ''}"
    what = "them" if len(threads) > 1 else "it"
    click.echo(
        printable(
            f"Warning: {name} left {count} running ({_clipped(', '.join(threads), 200)}); "
            f"sigcli exits without waiting for {what}."
        ),
        err=True,
    )


def _exit_past_threads(name: str, threads: list[str]) -> None:
    """After a command that only loaded a scenario: name the threads it left
    running and exit without waiting for them."""
    if threads:
        _warn_threads(name, threads)
        _exit(0, True)


#: The most characters of one error message written to stderr (the trace
#: keeps what was recorded).
_LONGEST_MESSAGE = 1000


def _clipped(text: str, limit: int = _LONGEST_MESSAGE) -> str:
    from sigcli.text import clip

    return clip(text, limit)


def _exit(status: int, threads_left: bool) -> NoReturn:
    """Exit with ``status``; past threads a scenario left running, which Python
    would wait for forever, when this is the real process (under a test
    runner's captured stdout those threads are the runner's business)."""
    if threads_left and sys.stdout is sys.__stdout__:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        _hard_exit(status)
    sys.exit(status)
