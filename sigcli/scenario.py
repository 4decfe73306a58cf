"""Loading a scenario into a fresh registry, and running its steps.

There is one way in: :func:`loaded` imports the file (:mod:`sigcli.scenariofile`)
under a module name never used before, in a new world of the engine's (for
sigcli's own, a :class:`~sigcli.models.Registry` with its own models and
SQLite database), and on the way out puts back the built-in signals'
receiver lists, the process (:mod:`sigcli.isolation`) and forgets the
module, so that nothing of one scenario leaks into the next. While a
scenario is loaded, ``connect`` validates receivers as Django does with
``DEBUG`` on: a receiver without ``**kwargs`` is reported where it is
connected, not when a signal first reaches it.

The names of :mod:`sigcli.scenariofile` and :mod:`sigcli.isolation` that
callers use are importable from here too.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from sigcli import dispatcher
from sigcli.evidence import refused_at
from sigcli.isolation import (
    close_when_done,
    importable_neighbours,
    left_running,
    process_restored,
    quiet_robust_log,
    running,
    thread_errors_reported,
    threads_started_since,
    threads_tracked,
    validating_receivers,
)
from sigcli.recorder import PrintedOutput, Recorder, recording, recursion_room
from sigcli.scenariofile import (
    LARGEST_SCENARIO,
    ScenarioError,
    ScenarioExit,
    ScenarioPathError,
    StepFunction,
    bundled_paths,
    fresh_module_name,
    import_file,
    import_message,
    name_signals,
    never_defined,
    resolve,
    scenario_line,
    step,
    steps_of,
)
from sigcli.text import describe_error
from sigcli.trace import Connection, Trace

__all__ = [
    "LARGEST_SCENARIO",
    "OWN_ENGINE",
    "Engine",
    "LoadedScenario",
    "RunResult",
    "ScenarioError",
    "ScenarioExit",
    "ScenarioPathError",
    "StepFunction",
    "bundled_paths",
    "check_new_database",
    "left_running",
    "loaded",
    "model_parents",
    "project_files",
    "receivers",
    "resolve",
    "run",
    "run_steps",
    "running",
    "step",
    "threads_started_since",
]


@dataclass(slots=True)
class LoadedScenario:
    """A scenario imported into its own registry, ready to run."""

    path: Path
    module: ModuleType
    registry: Any
    steps: list[StepFunction]
    signals: dict[str, dispatcher.Signal]
    thread_errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RunResult:
    """What ``sigcli run`` produced: one trace per scenario started.

    ``thread_errors`` are exceptions that ended a thread a scenario started
    (each a line naming the scenario, the thread and the line that raised);
    ``threads_left`` names, per scenario, the threads still running after it.
    """

    traces: list[Trace] = field(default_factory=list)
    interrupted: bool = False
    thread_errors: list[str] = field(default_factory=list)
    threads_left: dict[str, list[str]] = field(default_factory=dict)

    @property
    def exit_status(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.thread_errors or any(t.failed for t in self.traces) else 0


# -- loading --------------------------------------------------------------------


class Engine:
    """What a scenario runs on: sigcli's own dispatcher and models (this class),
    or real Django (:class:`sigcli.djangoscenario.DjangoEngine`).

    :func:`loaded` does what every engine shares (a fresh module, the process
    put back, steps collected) and asks the engine for the rest.
    """

    name = "sigcli"

    @contextmanager
    def world(
        self, path: Path, database: str | None, module_name: str, threads: list[threading.Thread]
    ) -> Iterator[Any]:
        """A fresh registry of models for the block (the scenario will be imported
        as ``module_name``), its database copied into the file ``database`` at the
        end when one is given, and closed once ``threads`` have ended; built-in
        signals put back after it."""
        from sigcli import models, signals

        registry = models.Registry()
        saved = [(signal, signal._snapshot()) for signal in signals.BUILTIN_SIGNALS]
        with ExitStack() as stack:
            stack.callback(close_when_done, registry, threads)
            if database is not None:
                stack.callback(_keep_database, registry, Path(database))
            for signal, snapshot in saved:
                stack.callback(signal._restore, snapshot)
            stack.enter_context(validating_receivers())
            stack.enter_context(models.use_registry(registry))
            yield registry

    def recording(self, recorder: Any) -> Any:
        """Install ``recorder`` as the observer of sends and ORM calls."""
        return recording(recorder)

    def module_globals(self) -> dict[str, Any]:
        """Names the scenario module holds before its first line runs."""
        return {}

    def prepare(self, path: Path, module: ModuleType, registry: Any) -> dict[str, Any]:
        """After the import: check lazy references, make the tables; the signals by name."""
        from sigcli import signals

        named = name_signals(module)
        pending = registry.pending_references()
        if pending:
            raise ScenarioError(never_defined(path, pending))
        try:
            registry.migrate()
        except Exception as error:
            raise ScenarioError(import_message(path, error, "creating the tables")) from None
        return {s.name or "": s for s in signals.BUILTIN_SIGNALS} | named

    def starting_names(self) -> dict[str, Any]:
        """What ``sigcli shell`` offers beside the scenario's own names (and
        ``sigcli`` itself, unless the engine gives its own)."""
        from sigcli import models, signals
        from sigcli.dispatcher import Signal, receiver

        names: dict[str, Any] = {"models": models, "receiver": receiver, "Signal": Signal}
        names.update({signal.name: signal for signal in signals.BUILTIN_SIGNALS if signal.name})
        return names

    def receiver_infos(self, signal: Any) -> list[dispatcher.ReceiverInfo]:
        return signal.receiver_infos()  # type: ignore[no-any-return]


OWN_ENGINE = Engine()


@contextmanager
def loaded(
    path: Path,
    *,
    database: str | None = None,
    recorder: Any = None,
    thread_errors: list[str] | None = None,
    threads: list[threading.Thread] | None = None,
    engine: Engine = OWN_ENGINE,
) -> Iterator[LoadedScenario]:
    """Import the scenario at ``path`` into a fresh registry of ``engine``, for the block.

    With a ``recorder`` (or an observer that wraps one), everything from the
    first ``class_prepared`` on is recorded (loading lands in the trace's
    setup section). Exceptions that end the scenario's threads meanwhile are
    appended to ``thread_errors`` (a new list by default), one line each;
    the threads it starts are appended to ``threads``. The database stays
    open for threads still running after the block, until they end.
    """
    module_name = fresh_module_name(path)
    threads = [] if threads is None else threads
    with ExitStack() as stack:
        stack.callback(sys.modules.pop, module_name, None)
        thread_errors = [] if thread_errors is None else thread_errors
        stack.enter_context(process_restored(path.resolve().parent))
        stack.enter_context(thread_errors_reported(path, thread_errors))
        stack.enter_context(threads_tracked(threads))
        stack.enter_context(quiet_robust_log())
        stack.enter_context(importable_neighbours(path))
        registry = stack.enter_context(engine.world(path, database, module_name, threads))
        if recorder is not None:
            stack.enter_context(engine.recording(recorder))
        module, functions = import_file(path, module_name, engine.module_globals())
        all_signals = engine.prepare(path, module, registry)
        steps = steps_of(path, module, functions)
        yield LoadedScenario(path, module, registry, steps, all_signals, thread_errors)


def _keep_database(registry: Any, path: Path) -> None:
    """Copy the scenario's database (kept in memory while it runs) into ``path``,
    through :mod:`sigcli.safefile`: the file appears whole, or not at all."""
    import sqlite3

    from sigcli import safefile

    with safefile.replacing(path) as temporary:
        copy = sqlite3.connect(temporary)
        try:
            registry.db.connection.backup(copy)
        finally:
            copy.close()


# -- running --------------------------------------------------------------------


def run_steps(scenario: LoadedScenario, recorder: Recorder, *, keep_going: bool = False) -> None:
    """Run each step under the recorder; a step that raises ends the scenario,
    unless ``keep_going``.

    The exception is recorded on the step (and on the receiver it came from);
    the steps after it are listed as not run. ``KeyboardInterrupt`` is
    recorded the same way and then re-raised, keep going or not.
    """
    for index, entry in enumerate(scenario.steps):
        recorder.start_step(entry.label, entry.name)
        try:
            _call_step(entry.function)
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                recorder.stop()
            recorder.finish_step(error)
            line, _ = scenario_line(scenario.path, error.__traceback__)
            step = recorder.trace.steps[-1]
            step.error_at = refused_at(step) or (f"{scenario.path}:{line}" if line else None)
            recorder.trace.not_run = [s.label for s in scenario.steps[index + 1 :]]
            if isinstance(error, KeyboardInterrupt):
                # Ctrl-C is recorded by name; ``q`` in step mode by what it says.
                recorder.trace.steps[-1].error = str(error) or describe_error(error)
                recorder.trace.interrupted = True
                raise
            if keep_going:
                recorder.trace.not_run = []
                continue
            return
        recorder.finish_step(None)


def _call_step(function: Callable[[], Any]) -> None:
    import inspect

    if inspect.iscoroutinefunction(function):
        import asyncio

        asyncio.run(function())
    else:
        function()


def run(
    names: list[str],
    *,
    max_depth: int = 50,
    database: str | None = None,
    watch: Callable[[Recorder], Any] | None = None,
    keep_going: bool = False,
    engine: Engine = OWN_ENGINE,
) -> RunResult:
    """Load and run each scenario, each recorded into its own trace.

    A scenario that fails to load, or a step that raises, is recorded and
    the next scenario runs (with ``keep_going``, the next step of the same
    scenario); Ctrl-C stops everything, keeping what was recorded.
    ``watch(recorder)`` may return an observer that wraps the recorder (it
    then receives the callbacks and passes them on), as ``run --step`` does.
    """
    paths = [resolve(name) for name in names]
    if database is not None and len(paths) > 1:
        raise ScenarioPathError("--db keeps the database of one scenario; pass a single scenario.")
    if database is not None:
        check_new_database(database)
    result = RunResult()
    with recursion_room(1000 + 60 * max_depth):
        _run_all(names, paths, result, max_depth, database, watch, keep_going, engine)
    return result


def _run_all(
    names: list[str],
    paths: list[Path],
    result: RunResult,
    max_depth: int,
    database: str | None,
    watch: Callable[[Recorder], Any] | None,
    keep_going: bool,
    engine: Engine,
) -> None:
    earlier: list[threading.Thread] = []  # the threads of the scenarios run so far
    for name, path in zip(names, paths, strict=True):
        trace = Trace(scenario=str(path) if Path(name).exists() else name)
        result.traces.append(trace)
        recorder = Recorder(trace, max_depth=max_depth)
        threads: list[threading.Thread] = []
        recorder.ignore_threads(running(earlier), threads)
        # What the scenario prints is kept in the trace, where it was printed;
        # under a watching observer (run --step) it shows on the terminal too.
        echo = None if watch is None else sys.stdout
        output = redirect_stdout(PrintedOutput(recorder, echo))
        observer = recorder if watch is None else watch(recorder)
        try:
            with (
                output,
                loaded(
                    path,
                    database=database,
                    recorder=observer,
                    thread_errors=result.thread_errors,
                    threads=threads,
                    engine=engine,
                ) as scenario,
            ):
                trace.proxies, trace.parents = model_parents(scenario.registry.models.values())
                if not scenario.steps:
                    raise ScenarioError(
                        f"{path} defines no steps. Decorate functions with @sigcli.step "
                        "(they run in file order), or define a function run()."
                    )
                run_steps(scenario, recorder, keep_going=keep_going)
        except ScenarioError as error:
            trace.error = str(error)
        except KeyboardInterrupt:
            trace.interrupted = True
            result.interrupted = True
            break
        finally:
            earlier += threads
            left = left_running(threads)
            if left:
                result.threads_left[trace.scenario or name] = left


def check_new_database(name: str) -> Path:
    """The file ``--db name`` will create, or :class:`ScenarioPathError` saying why not.

    Only a plain path of a file that does not exist yet is accepted: SQLite
    would read ``file:...`` as a URI naming an existing database (which a
    scenario would then change) and ``:memory:`` as no file at all, and a
    link (even one leading nowhere) could put the database anywhere.
    """
    fix = "--db takes the plain path of a new file, such as --db run.sqlite3."
    if not name:
        raise ScenarioPathError(f"The --db file name is empty; {fix}")
    if name.lower().startswith("file:"):
        raise ScenarioPathError(
            f"--db {name}: SQLite would read this as a URI and open an existing database, "
            f"which the scenario would change. {fix}"
        )
    if name.startswith(":"):
        raise ScenarioPathError(
            f"--db {name}: SQLite would keep this database in memory, not in a file "
            f"(without --db it is in memory anyway). {fix}"
        )
    path = Path(name)
    if path.is_symlink():
        raise ScenarioPathError(f"--db {name} is a symbolic link; {fix}")
    if path.exists():
        raise ScenarioPathError(f"{name} already exists; --db needs a new file name.")
    if not path.parent.is_dir():
        raise ScenarioPathError(
            f"--db {name}: the folder {path.parent} does not exist; create it first."
        )
    return path


def receivers(
    name: str, connections: list[Connection] | None = None, engine: Engine = OWN_ENGINE
) -> list[tuple[str, list[dispatcher.ReceiverInfo]]]:
    """Per signal with receivers, the receivers connected once ``name`` is loaded.

    Receivers defined in the scenario itself are credited to the file's name
    rather than to the module name the loader made up for it. The connects
    and disconnects made while loading are added to ``connections`` if given.
    """
    recorder = None if connections is None else Recorder(Trace(scenario=name))
    with loaded(resolve(name), recorder=recorder, engine=engine) as scenario:
        if recorder is not None and connections is not None:
            connections += recorder.trace.connections
        own = scenario.module.__name__
        return [
            (
                signal_name,
                [
                    replace(info, module=scenario.path.stem) if info.module == own else info
                    for info in infos
                ],
            )
            for signal_name, signal in scenario.signals.items()
            if (infos := engine.receiver_infos(signal))
        ]


def model_parents(classes: Iterable[Any]) -> tuple[dict[str, str], dict[str, str]]:
    """By model name, the model each proxy model is a proxy of, and the
    model (with a table of its own, or abstract) each other model inherits from."""
    proxies: dict[str, str] = {}
    parents: dict[str, str] = {}
    for model in classes:
        parent = next(
            (base for base in model.__mro__[1:] if getattr(base, "_meta", None) is not None),
            None,
        )
        if parent is not None:
            found = proxies if getattr(model._meta, "proxy", False) else parents
            found[model.__name__] = parent.__name__
    return proxies, parents


#: How many files of a project ``project_files`` reads at most.
_MOST_FILES = 2000


def project_files(traces: list[Trace]) -> list[Path]:
    """The scenario files the traces were recorded from, then the other Python
    files of their folders (hidden folders and virtual environments aside):
    where ``sigcli why`` looks for a function nobody connected."""
    files: dict[Path, None] = {}
    for trace in traces:
        if trace.scenario is None:
            continue
        try:
            path = resolve(trace.scenario)
        except (ScenarioPathError, OSError):
            continue
        files.setdefault(path)
        for other in itertools.islice(path.parent.rglob("*.py"), _MOST_FILES):
            parts = other.relative_to(path.parent).parts[:-1]
            if not any(p.startswith(".") or p in {"site-packages", "node_modules"} for p in parts):
                files.setdefault(other)
    return list(files)
