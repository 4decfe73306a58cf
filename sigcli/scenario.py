"""Loading a scenario file into a fresh registry, and running its steps.

There is one way in: :func:`loaded` imports the file with importlib under a
module name never used before, in a new :class:`~sigcli.models.Registry`
(its own models and SQLite database), and on the way out puts back the
built-in signals' receiver lists and forgets the module, so that nothing of
one scenario leaks into the next. While a scenario is loaded, ``connect``
validates receivers as Django does with ``DEBUG`` on: a receiver without
``**kwargs`` is reported where it is connected, not when a signal first
reaches it.
"""

from __future__ import annotations

import builtins
import difflib
import importlib.util
import itertools
import keyword
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext, redirect_stdout
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, TypeVar

from sigcli import dispatcher
from sigcli.recorder import PrintedOutput, Recorder, recording, recursion_room
from sigcli.text import describe_error, safe_repr
from sigcli.trace import Connection, Trace
from sigcli.why import refused_at

F = TypeVar("F", bound=Callable[..., Any])


class ScenarioPathError(ValueError):
    """The command line names no usable scenario: missing, a directory, not Python."""


class ScenarioError(Exception):
    """The scenario file itself is broken; the message names the file and line."""


class ScenarioExit(SystemExit):
    """Raised in place of ``os._exit()`` called by a scenario, so that the run
    is recorded and shown instead of ending unsaved."""


@dataclass(slots=True)
class StepFunction:
    label: str
    name: str
    function: Callable[[], Any]


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


# -- @step ----------------------------------------------------------------------

_collecting: list[Callable[[], Any]] | None = None


def step(function: F | None = None) -> F:
    """Mark ``function`` as a step of the scenario being loaded.

    Steps run in the order they are defined; the label shown is the first
    line of the docstring, else the function's name. The function is returned
    unchanged, so a step can still be called directly.
    """
    if function is None or not callable(function):
        raise TypeError(
            "@sigcli.step takes no arguments: write @sigcli.step, without parentheses, "
            "above a function"
        )
    if _collecting is not None:
        _collecting.append(function)
    return function


def _label(function: Callable[..., Any]) -> str:
    own = function.__doc__ is not type(function).__doc__  # a partial's is partial's own
    doc = (function.__doc__ or "").strip() if own else ""
    return doc.splitlines()[0].strip() if doc else _name(function)


def _name(function: Callable[..., Any]) -> str:
    """A step's name: a partial or a callable instance has no ``__name__``."""
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) else safe_repr(function)


def _step_problem(path: Path, function: Callable[..., Any]) -> str | None:
    """Why ``function`` cannot run as a step, naming where it is defined, or None.

    A generator function called runs none of its body, and a step is called
    with no arguments; both would otherwise pass silently or fail without a line.
    """
    import inspect

    code = getattr(function, "__code__", None)
    where = f"{path}:{code.co_firstlineno}" if code is not None else str(path)
    name = _name(function)
    if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
        return (
            f"{where}: step {name} is a generator function (it contains yield), so calling "
            "it would run none of its body. Remove the yield."
        )
    try:
        inspect.signature(function).bind()
    except TypeError:
        return f"{where}: step {name} needs arguments; a step is called with none."
    except ValueError:  # no signature to inspect (some builtins): let the call tell
        pass
    return None


# -- finding a scenario ---------------------------------------------------------


def bundled_paths() -> dict[str, Path]:
    """The scenarios shipped with sigcli, by name (file name without ``.py``)."""
    from importlib import resources

    try:
        root = Path(str(resources.files("sigcli.scenarios")))
    except ModuleNotFoundError:
        # A source checkout run without installing: the directory that
        # pyproject.toml maps to the package sigcli.scenarios.
        root = Path(__file__).resolve().parent.parent / "scenarios"
    if not root.is_dir():
        return {}
    return {p.stem: p for p in sorted(root.glob("*.py")) if not p.stem.startswith("_")}


def resolve(name: str) -> Path:
    """The file ``name`` points to: an existing path, else a bundled scenario."""
    if name == "-":
        raise ScenarioPathError(
            "sigcli does not read a scenario from standard input; "
            "save it in a .py file and pass its name."
        )
    path = Path(name)
    if path.is_dir():
        found = sorted(path.glob("*.py"))
        hint = f" such as {found[0]}" if found else ""
        raise ScenarioPathError(f"{name} is a directory; pass a scenario .py file{hint}.")
    if path.is_symlink() and not path.exists():
        raise ScenarioPathError(
            f"{name} is a symbolic link that leads to no file (a loop, or its target is "
            "missing); point it at a scenario .py file."
        )
    if path.exists():
        if not path.is_file():  # a FIFO would block the import until someone writes to it
            raise ScenarioPathError(f"{name} is not a regular file; pass a scenario .py file.")
        if path.suffix != ".py":
            raise ScenarioPathError(
                f"{name} is not a Python file; a scenario is a .py file "
                "(to look at a saved trace, use `sigcli trace FILE.json`)."
            )
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            raise ScenarioPathError(
                f"{name} cannot be read ({error.strerror or error}); check its permissions."
            ) from None
        size = path.stat().st_size
        if size > LARGEST_SCENARIO:
            raise ScenarioPathError(
                f"{name} is {size:,} bytes; a scenario is a hand-written .py file of at most "
                f"{LARGEST_SCENARIO:,} bytes. Move data it needs into a file it reads."
            )
        return path
    bundled = bundled_paths()
    stem = name.removesuffix(".py")
    if "/" not in name and stem in bundled:
        return bundled[stem]
    message = f"No file {name!r} and no bundled scenario of that name."
    close = difflib.get_close_matches(stem, list(bundled), n=1)
    if close:
        message += f" Did you mean {close[0]!r}?"
    if bundled:
        message += "\nBundled scenarios: " + ", ".join(bundled)
    raise ScenarioPathError(message)


# -- loading --------------------------------------------------------------------

_module_numbers = itertools.count(1)

#: A scenario is written by hand; compiling a 40 MB generated file would
#: take gigabytes of memory before anything could be shown.
LARGEST_SCENARIO = 1_000_000


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
            stack.callback(_close_when_done, registry, threads)
            if database is not None:
                stack.callback(_keep_database, registry, Path(database))
            for signal, snapshot in saved:
                stack.callback(signal._restore, snapshot)
            stack.enter_context(_validating_receivers())
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

        named = _name_signals(module)
        pending = registry.pending_references()
        if pending:
            raise ScenarioError(
                f"{path}: a lazy model reference (a relation or a sender string) names a "
                f"model that is never defined: {', '.join(pending)}. Check the spelling."
            )
        try:
            registry.migrate()
        except Exception as error:
            raise ScenarioError(_import_message(path, error, "creating the tables")) from None
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
    module_name = _module_name(path)
    threads = [] if threads is None else threads
    with ExitStack() as stack:
        stack.callback(sys.modules.pop, module_name, None)
        thread_errors = [] if thread_errors is None else thread_errors
        stack.enter_context(_process_restored(path.resolve().parent))
        stack.enter_context(_thread_errors_reported(path, thread_errors))
        stack.enter_context(_threads_tracked(threads))
        stack.enter_context(_quiet_robust_log())
        stack.enter_context(_importable_neighbours(path))
        registry = stack.enter_context(engine.world(path, database, module_name, threads))
        if recorder is not None:
            stack.enter_context(engine.recording(recorder))
        module, functions = _import(path, module_name, engine.module_globals())
        all_signals = engine.prepare(path, module, registry)
        steps = [StepFunction(_label(f), _name(f), f) for f in functions]
        run = module.__dict__.get("run")
        if not steps and callable(run):
            steps = [StepFunction(_label(run), "run", run)]
        for entry in steps:
            problem = _step_problem(path, entry.function)
            if problem is not None:
                raise ScenarioError(problem)
        yield LoadedScenario(path, module, registry, steps, all_signals, thread_errors)


@contextmanager
def _threads_tracked(started: list[threading.Thread]) -> Iterator[None]:
    """Append every thread started during the block to ``started``.

    ``threading.enumerate()`` cannot tell: a thread whose ``join()`` was
    interrupted by Ctrl-C is dropped from it while it still runs.
    """
    original = threading.Thread.start

    def start(thread: threading.Thread) -> None:
        started.append(thread)
        original(thread)

    threading.Thread.start = start  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]


def running(threads: list[threading.Thread]) -> list[threading.Thread]:
    """Those of ``threads`` that still run.

    A thread whose ``join()`` Ctrl-C interrupted says it has stopped while it
    runs on; for one that says so, the system is asked (Linux), else the
    interpreter (whose thread idents a new thread may reuse).
    """
    frames = sys._current_frames().keys()

    def runs(thread: threading.Thread) -> bool:
        if thread.is_alive():
            return True
        if thread.ident is None or thread.ident not in frames:
            return False
        if thread.native_id is not None and os.path.isdir("/proc/self/task"):
            return os.path.isdir(f"/proc/self/task/{thread.native_id}")
        return True

    return [t for t in threads if runs(t)]


def _close_when_done(registry: Any, threads: list[threading.Thread]) -> None:
    """Close the registry's database now, or, while threads the scenario
    started still run (and may use it), once they have all ended: closing a
    connection under a running statement crashes the interpreter."""
    if not running(threads):
        registry.close()
        return

    def close_later() -> None:
        while running(threads):
            time.sleep(0.05)
        registry.close()

    threading.Thread(target=close_later, name="sigcli-database-closer", daemon=True).start()


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


@contextmanager
def _process_restored(folder: Path) -> Iterator[None]:
    """Put back what a scenario may change in the process it shares with sigcli.

    The working directory (the trace is saved relative to it), the builtins,
    the modules already loaded (and the modules it imported from ``folder``
    are forgotten, so that a scenario elsewhere gets its own ``helpers.py``), ``sys.stdout``/``sys.stderr`` and the file
    descriptors under them, the trace and profile functions; and ``os._exit`` raises :class:`ScenarioExit`
    meanwhile, except in a forked child, which really ends.
    """
    cwd = os.getcwd()
    names = dict(vars(builtins))
    modules = dict(sys.modules)
    streams = {"stdout": (sys.stdout, 1), "stderr": (sys.stderr, 2)}
    descriptors = {}
    for fd in (1, 2):
        try:
            descriptors[fd] = os.dup(fd)
        except OSError:  # already closed before sigcli started
            pass
    real_exit, pid = os._exit, os.getpid()
    tracer, profiler = sys.gettrace(), sys.getprofile()

    def refuse_exit(status: int) -> None:
        if os.getpid() != pid:
            real_exit(status)
        raise ScenarioExit(f"os._exit({status}) called; a scenario must not end the process")

    os._exit = refuse_exit  # type: ignore[assignment]
    try:
        yield
    finally:
        # Only what the scenario changed: a profiler or coverage tool that
        # runs sigcli itself installs C-level hooks, which reading and
        # setting back again would replace with slow (or uncallable) ones.
        if sys.gettrace() is not tracer:
            sys.settrace(tracer if callable(tracer) else None)
        if sys.getprofile() is not profiler:
            sys.setprofile(profiler if callable(profiler) else None)
        os._exit = real_exit
        for fd, copy in descriptors.items():
            os.dup2(copy, fd)
            os.close(copy)
        for name, (stream, fd) in streams.items():
            if stream is not None and stream.closed:
                stream = open(fd, "w", encoding="utf-8", errors="replace", closefd=False)
            setattr(sys, name, stream)
        for name, module in modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        for name in [n for n in sys.modules if n not in modules]:
            if _imported_from(folder, name, sys.modules[name]):
                del sys.modules[name]
        _put_back_builtins(names)
        try:
            os.chdir(cwd)
        except OSError:
            pass


def _imported_from(folder: Path, name: str, module: ModuleType) -> bool:
    """Whether module ``name`` was found in ``folder`` itself, as the scenario's
    neighbour (``helpers.py``, a package ``helpers/``); sigcli's own modules,
    even when a scenario sits in sigcli's checkout, never are."""
    top = name.partition(".")[0]
    where = getattr(module, "__file__", None) or next(iter(getattr(module, "__path__", [])), None)
    if top == "sigcli" or not isinstance(where, str):
        return False
    try:
        first = Path(where).resolve().relative_to(folder).parts[0]
    except (ValueError, OSError, RuntimeError, IndexError):
        return False
    return first == top or first.startswith(f"{top}.")


def _put_back_builtins(names: dict[str, Any]) -> list[str]:
    """Make the builtins ``names`` again; the names that had been replaced or deleted."""
    current = vars(builtins)
    for name in [n for n in current if n not in names]:
        del current[name]
    changed = [n for n, value in names.items() if current.get(n) is not value]
    for name in changed:
        current[name] = names[name]
    return changed


@contextmanager
def _thread_errors_reported(path: Path, errors: list[str]) -> Iterator[None]:
    """Collect exceptions that end a scenario's threads as one line each, instead
    of Python printing a traceback in the middle of the tree."""
    previous = threading.excepthook

    def collect(args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        line, _ = _scenario_line(path, args.exc_traceback)
        where = f" ({path}:{line})" if line else ""
        name = args.thread.name if args.thread is not None else "?"
        error = args.exc_value if args.exc_value is not None else args.exc_type()
        errors.append(f"{path}: thread {name!r} stopped: {describe_error(error)}{where}")

    threading.excepthook = collect
    try:
        yield
    finally:
        threading.excepthook = previous


@contextmanager
def _validating_receivers() -> Iterator[None]:
    previous = dispatcher.validate_receivers
    dispatcher.validate_receivers = True
    try:
        yield
    finally:
        dispatcher.validate_receivers = previous


@contextmanager
def _quiet_robust_log() -> Iterator[None]:
    """Keep ``send_robust``'s error log off stderr unless the scenario set up logging.

    The trace already shows each exception on its receiver; Python's
    last-resort handler would print it again, traceback and all, above the tree.
    """
    import logging

    logger = logging.getLogger("sigcli.dispatch")
    quiet = logging.NullHandler()
    logger.addHandler(quiet)
    try:
        yield
    finally:
        logger.removeHandler(quiet)


@contextmanager
def _importable_neighbours(path: Path) -> Iterator[None]:
    """Let the scenario import modules next to it, as ``python scenario.py`` would."""
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        if folder in sys.path:
            sys.path.remove(folder)


def _identifier(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def _module_name(path: Path) -> str:
    """The file's own name (``shop`` for shop.py) when no module has it, so that
    reprs, class paths and receiver modules read as the user's file; else a
    fresh ``sigcli_scenario_N_shop``. Either way no other module shares it."""
    name = _identifier(path.stem)
    if name.isidentifier() and not keyword.iskeyword(name) and name not in sys.modules:
        return name
    return f"sigcli_scenario_{next(_module_numbers)}_{name}"


def _import(
    path: Path, module_name: str, names: dict[str, Any] | None = None
) -> tuple[ModuleType, list[Callable[[], Any]]]:
    """Import ``path`` as ``module_name``, its namespace starting with ``names``;
    collect the ``@step`` functions it defines."""
    global _collecting
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ScenarioPathError(f"{path} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(names or {})
    sys.modules[module_name] = module
    ours = {n: m for n, m in sys.modules.items() if n.partition(".")[0] == "sigcli"}
    names = dict(vars(builtins))
    outer, _collecting = _collecting, []
    try:
        spec.loader.exec_module(module)
        replaced = _put_back_builtins(names)
        if replaced:
            raise ScenarioError(
                f"{path}: the scenario replaced the builtins {', '.join(sorted(replaced))}, "
                "which sigcli and Python itself rely on. Leave builtins as they are."
            )
        removed = sorted(n for n, m in ours.items() if sys.modules.get(n) is not m)
        if removed:
            raise ScenarioError(
                f"{path}: the scenario removed sigcli's own modules from sys.modules "
                f"({', '.join(removed[:3])}{', ...' if len(removed) > 3 else ''}), so its "
                "steps and receivers cannot be found. Delete only modules the scenario imported."
            )
        return module, _collecting
    except SyntaxError as error:
        raise ScenarioError(_syntax_message(path, error)) from None
    except (ScenarioError, KeyboardInterrupt):
        raise
    except BaseException as error:
        raise ScenarioError(_import_message(path, error)) from None
    finally:
        _collecting = outer


def _syntax_message(path: Path, error: SyntaxError) -> str:
    if error.lineno is None:
        return f"{path} is not Python source ({error.msg}); a scenario is a .py text file."
    where = f"{path}:{error.lineno}" if error.lineno else str(path)
    undecodable = "'utf-8' codec can't decode "
    if undecodable in error.msg:
        reason = re.sub(r" in position \d+", "", error.msg.partition(undecodable)[2])
        return (
            f"{where}: the file is not UTF-8 text (can't decode {reason}).\n"
            "Save it as UTF-8, or declare its encoding on the first line, "
            "for example: # -*- coding: latin-1 -*-"
        )
    message = f"{where}: {type(error).__name__}: {error.msg}"
    if error.text:
        line = error.text.rstrip("\n")
        message += f"\n    {line.strip()}"
        if error.offset:
            indent = len(line) - len(line.lstrip())
            message += "\n    " + " " * max(error.offset - 1 - indent, 0) + "^"
    return message + "\nFix the syntax and run again."


def _import_message(path: Path, error: BaseException, doing: str = "importing the scenario") -> str:
    line, source = _scenario_line(path, error.__traceback__)
    where = f"{path}:{line}" if line else str(path)
    message = f"{where}: error while {doing}: {describe_error(error)}"
    if source:
        message += f"\n    {source}"
    if isinstance(error, ValueError) and "**kwargs" in str(error):
        receiver = _rejected_receiver(error.__traceback__)
        name = f" {receiver}" if receiver else ""
        message += (
            f"\nGive the receiver{name} a **kwargs parameter, "
            "for example: def handler(sender, **kwargs): ..."
        )
    elif isinstance(error, SystemExit) and not isinstance(error, ScenarioExit):
        message += "\nA scenario must not call sys.exit() while it is imported."
    return message


def _scenario_line(path: Path, tb: TracebackType | None) -> tuple[int | None, str]:
    """The deepest traceback line inside the scenario file, with its source."""
    found: tuple[int | None, str] = (None, "")
    target = path.resolve()
    for frame in traceback.extract_tb(tb):
        if Path(frame.filename).resolve() == target:
            found = (frame.lineno, (frame.line or "").strip())
    return found


def _rejected_receiver(tb: TracebackType | None) -> str | None:
    """The receiver that ``connect`` refused, read from the connecting frame."""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "connect" and "receiver" in frame.f_locals:
            receiver = frame.f_locals["receiver"]
            return getattr(receiver, "__qualname__", None) or repr(receiver)
        tb = tb.tb_next
    return None


def _name_signals(module: ModuleType) -> dict[str, dispatcher.Signal]:
    """Name each unnamed signal after the module global that holds it, or
    after the class attribute (``Orders.placed``) of a class the module defines."""
    named: dict[str, dispatcher.Signal] = {}
    places = list(vars(module).items())
    for owner, value in list(places):
        if isinstance(value, type) and value.__module__ == module.__name__:
            places += [(f"{owner}.{k}", v) for k, v in vars(value).items()]
    for name, value in places:
        if isinstance(value, dispatcher.Signal):
            if value.name is None:
                value.name = name
            named[value.name] = value
    return named


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
            line, _ = _scenario_line(scenario.path, error.__traceback__)
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
    for name, path in zip(names, paths, strict=True):
        trace = Trace(scenario=str(path) if Path(name).exists() else name)
        result.traces.append(trace)
        recorder = Recorder(trace, max_depth=max_depth)
        # What the scenario prints is kept in the trace, where it was printed;
        # a watching observer (run --step) needs the terminal itself.
        output = redirect_stdout(PrintedOutput(recorder)) if watch is None else nullcontext()
        observer = recorder if watch is None else watch(recorder)
        threads: list[threading.Thread] = []
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


def left_running(threads: list[threading.Thread]) -> list[str]:
    """The names of ``threads`` still running that would keep Python from
    exiting: not daemons, and not idle workers of a ``concurrent.futures``
    pool (asyncio's, or an ``asend``'s), which the pool stops at exit by itself."""
    from concurrent.futures import thread as pool_threads

    pooled = getattr(pool_threads, "_threads_queues", {})
    # A thread that has just done its work (asyncio's executor shutdown) is
    # given a moment to be gone.
    deadline = time.monotonic() + 0.2
    while (left := running(threads)) and time.monotonic() < deadline:
        time.sleep(0.01)
    return [t.name for t in left if not t.daemon and t not in pooled]


def threads_started_since(before: set[threading.Thread]) -> list[str]:
    """The names of threads started since ``before`` that would keep Python from
    exiting: not daemons, and not idle workers of a ``concurrent.futures`` pool
    (asyncio's, or an ``asend``'s), which the pool stops at exit by itself."""
    from concurrent.futures import thread as pool_threads

    pooled = getattr(pool_threads, "_threads_queues", {})
    return [
        t.name
        for t in threading.enumerate()
        if t not in before and not t.daemon and t not in pooled and t.is_alive()
    ]


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
