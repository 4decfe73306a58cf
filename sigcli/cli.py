"""The ``sigcli`` command line: parse options, call the core, map errors to
exit statuses.

Each command passes what it parsed to one function of the core
(:mod:`sigcli.runs`, :mod:`sigcli.viewing`, ...) and exits with the status it
gives back; the core's exceptions become click's in :class:`_Group`, in this
one place. Only click and the package root load at start-up, so ``--help``
and ``--version`` stay fast; rich, sqlite3 and the model layer load inside
the commands that draw or run something. Exit statuses: 0 success, 1 a
scenario failed (could not load, or a step raised), 2 a usage error (bad
option, missing or unusable file, unknown filter name), 130 interrupted
with Ctrl-C.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sigcli import __version__, exits
from sigcli.runs import DEFAULT_TRACE

if TYPE_CHECKING:
    from sigcli.render import ViewOptions


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
            from sigcli import messages

            if error.filename is None and error.errno in exits.OUTPUT_ERRORS:
                exits.silence_stdout()
                click.echo(f"Error: could not write the output: {error.strerror}", err=True)
                ctx.exit(1)
            if error.filename is None:
                raise
            raise click.UsageError(messages.file_problem(error)) from None
        except Exception as error:
            mapped = _as_click_error(error)
            if mapped is None:
                raise
            raise mapped from None


def _as_click_error(error: Exception) -> click.ClickException | None:
    """The click exception (and so the exit status) for one of the core's, or
    None for an error that is a bug."""
    if not type(error).__module__.startswith("sigcli."):
        return None
    from sigcli.explain import UnknownSignal
    from sigcli.exports import ExportFailed
    from sigcli.messages import clipped
    from sigcli.query import FilterError
    from sigcli.runs import SaveRefused
    from sigcli.scenario import ScenarioError, ScenarioPathError
    from sigcli.trace import TraceFormatError
    from sigcli.why import AmbiguousReceiver

    if isinstance(error, UnknownSignal):
        return click.BadParameter(str(error), param_hint="'SIGNAL'")
    if isinstance(error, AmbiguousReceiver):
        return click.BadParameter(str(error), param_hint="'RECEIVER'")
    if isinstance(error, FilterError):
        return click.BadParameter(clipped(str(error)), param_hint=f"'{error.option}'")
    if isinstance(error, SaveRefused):
        return click.BadParameter(str(error), param_hint="'--save'")
    if isinstance(error, ScenarioPathError | TraceFormatError):
        return click.UsageError(clipped(str(error)))
    if isinstance(error, ScenarioError):
        return click.ClickException(clipped(str(error)))
    if isinstance(error, ExportFailed):
        return click.ClickException(str(error))
    if not type(error).__module__.startswith("sigcli.djangoengine."):
        return None
    from sigcli.djangoengine.configure import DjangoSetupError
    from sigcli.djangoengine.record import ProgramNotFound

    if isinstance(error, DjangoSetupError | ProgramNotFound):
        return click.UsageError(clipped(str(error)))
    return None


def _check_export(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and value.suffix.lower() not in (".svg", ".html", ".mmd"):
        raise click.BadParameter("the file name must end in .svg, .html or .mmd")
    return value


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


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="sigcli")
def main() -> None:
    """Run Django-style signal scenarios and see every dispatch as a tree."""


def _note(message: str) -> None:
    """Write one line on stderr (the core's ``note``)."""
    click.echo(message, err=True)


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


def _given(name: str) -> bool:
    """Whether the option ``name`` was given, not left at its default."""
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source(name)
    return source not in (ParameterSource.DEFAULT, None)


def _exit_past_threads(name: str, threads: list[str]) -> None:
    """After a command that only loaded a scenario: name the threads it left
    running and exit without waiting for them."""
    from sigcli import messages

    if threads:
        _note(messages.threads_left(name, threads))
        exits.end(0, True)


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
    from sigcli import runs

    if step and (as_json or db):
        raise click.UsageError("--step does not combine with --json or --db.")
    if db and (engine == "django" or settings):
        raise click.UsageError("--db keeps sigcli's own database; --engine django has none.")
    runs.check_outputs(None if no_save else save_path, export, force)
    with exits.second_interrupt_exits():
        status, threads_left = runs.run(
            list(scenarios),
            engine_name=engine,
            settings=settings,
            step=step,
            max_depth=max_depth,
            database=db,
            keep_going=keep_going,
            save=None if no_save else (save_path or DEFAULT_TRACE),
            force=force,
            as_json=as_json,
            options=_options(verbose, show_all, limit, hide_skipped, no_sql, compact),
            export=export,
            note=_note,
        )
        exits.end(status, threads_left)


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
    from sigcli import query, runs, viewing
    from sigcli.text import printable

    runs.check_outputs(None, export, force)
    saved = viewing.saved_trace(source)
    if saved is not None and _given("max_depth"):
        raise click.UsageError(
            f"--max-depth stops a run that nests too deep; {printable(str(saved))} is a saved "
            "trace, recorded already. Pass a scenario .py file to run it with --max-depth, "
            "or use --limit N to draw less."
        )
    status, threads_left = viewing.show_trace(
        source,
        query.Filters(sender, signal, receiver, instance),
        fmt=fmt,
        options=_options(verbose, show_all, limit, hide_skipped, no_sql, compact),
        export=export,
        force=force,
        max_depth=max_depth,
        note=_note,
    )
    exits.end(status, threads_left)


@main.command(short_help="Say why a receiver did or did not run.")
@click.argument("receiver_name", metavar="RECEIVER")
@click.argument("source", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON.")
def why(receiver_name: str, source: str | None, as_json: bool) -> None:
    """Why RECEIVER (a name, a qualified name or FILE:LINE) did or did not run
    in SOURCE: a scenario (run first), a trace file, or by default the last trace."""
    from sigcli import viewing

    exits.end(*viewing.why(receiver_name, source, as_json, _note))


@main.command(short_help="List the receivers a scenario or a Django project connects.")
@click.argument("scenario_name", metavar="[SCENARIO]", required=False)
@_engine_options
def receivers(scenario_name: str | None, engine: str, settings: str | None) -> None:
    """List the receivers connected once SCENARIO is loaded, per signal; with
    --settings and no SCENARIO, every receiver of the Django project."""
    from sigcli import exports, runs

    if scenario_name is None and settings is None:
        raise click.UsageError("Name a SCENARIO, or a Django project with --settings.")
    if scenario_name is None:
        from sigcli.djangoengine.receivers import project_receivers
        from sigcli.tables import project_receivers_view

        exports.show([project_receivers_view(project_receivers(str(settings)))], [])
        return
    view, threads = runs.receivers(scenario_name, engine, settings, _note)
    exports.show([view], [])
    _exit_past_threads(scenario_name, threads)


@main.command("scenarios")
def scenarios_command() -> None:
    """List the bundled scenarios with the lesson each one teaches."""
    from sigcli import explain
    from sigcli.exports import show

    show([explain.scenarios_table()], [])


@main.command("explain")
@click.argument("signal_name", metavar="[SIGNAL]", required=False)
def explain_command(signal_name: str | None) -> None:
    """Django's built-in signals as a table, or one SIGNAL in detail."""
    from sigcli import explain
    from sigcli.exports import show

    if signal_name is None:
        show([explain.signal_table()], [])
    else:
        show([explain.signal_detail(signal_name)], [])


@main.command("shell")
@click.argument("scenario_name", metavar="[SCENARIO]", required=False)
@click.option("--run", "run_steps", is_flag=True, help="Run the scenario's steps first.")
@_engine_options
def shell_command(
    scenario_name: str | None, run_steps: bool, engine: str, settings: str | None
) -> None:
    """A Python console with SCENARIO loaded, printing each statement's signal tree."""
    import threading

    from sigcli import exports, runs, scenario, shell

    before = set(threading.enumerate())
    with runs.engine(engine, settings, _note) as chosen:
        shell.start(scenario_name, exports.make_console(), run_steps=run_steps, engine=chosen)
    _exit_past_threads(scenario_name or "the shell", scenario.threads_started_since(before))


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
    from sigcli import runs

    runs.check_outputs(save_path, None, False)
    sys.exit(runs.record(list(program), save_path, sql=sql, record_all=record_all, note=_note))
