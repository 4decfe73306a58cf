"""What a scenario may change in the process it shares with sigcli, put back
after it: the working directory, builtins, loaded modules, ``sys.path``,
standard streams, trace and profile functions, ``os._exit``, the receiver
check and ``send_robust``'s log; and the threads it starts, each tracked,
an exception that ends one reported as a line, the database kept open
until they end, and those left running named.
"""

from __future__ import annotations

import builtins
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from sigcli import dispatcher
from sigcli.scenariofile import ScenarioExit, put_back_builtins, scenario_line
from sigcli.text import describe_error

# -- the process -----------------------------------------------------------------


@contextmanager
def process_restored(folder: Path) -> Iterator[None]:
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
        put_back_builtins(names)
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


@contextmanager
def importable_neighbours(path: Path) -> Iterator[None]:
    """Let the scenario import modules next to it, as ``python scenario.py`` would."""
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        if folder in sys.path:
            sys.path.remove(folder)


@contextmanager
def validating_receivers() -> Iterator[None]:
    """Have ``connect`` check receivers as Django does with ``DEBUG`` on, so a
    receiver without ``**kwargs`` is refused where it is connected."""
    previous = dispatcher.validate_receivers
    dispatcher.validate_receivers = True
    try:
        yield
    finally:
        dispatcher.validate_receivers = previous


@contextmanager
def quiet_robust_log() -> Iterator[None]:
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


# -- the threads it starts --------------------------------------------------------


@contextmanager
def threads_tracked(started: list[threading.Thread]) -> Iterator[None]:
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
    runs on; for one that says so, the system is asked (Linux: is its task
    still there?), and only if it says yes the interpreter too (whose thread
    idents a new thread may reuse). ``sys._current_frames()``, polled by the
    thread that closes a scenario's database, hung a test process on
    CPython 3.11 (waiting for the interpreter's lock of its threads), so it
    is asked as rarely as that; and only its idents are kept: the frames
    that come with them would keep the locals of the call each other thread
    was in alive after it returned (a receiver a test had dropped was still
    called while this polled).
    """
    idents: set[int] | None = None

    def runs(thread: threading.Thread) -> bool:
        nonlocal idents
        if thread.is_alive():
            return True
        if thread.ident is None:
            return False
        if thread.native_id is not None and os.path.isdir("/proc/self/task"):
            if not os.path.isdir(f"/proc/self/task/{thread.native_id}"):
                return False
        if idents is None:
            idents = set(sys._current_frames())
        return thread.ident in idents

    return [t for t in threads if runs(t)]


def close_when_done(registry: Any, threads: list[threading.Thread]) -> None:
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


@contextmanager
def thread_errors_reported(path: Path, errors: list[str]) -> Iterator[None]:
    """Collect exceptions that end a scenario's threads as one line each, instead
    of Python printing a traceback in the middle of the tree."""
    previous = threading.excepthook

    def collect(args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        line, _ = scenario_line(path, args.exc_traceback)
        where = f" ({path}:{line})" if line else ""
        name = args.thread.name if args.thread is not None else "?"
        error = args.exc_value if args.exc_value is not None else args.exc_type()
        errors.append(f"{path}: thread {name!r} stopped: {describe_error(error)}{where}")

    threading.excepthook = collect
    try:
        yield
    finally:
        threading.excepthook = previous


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
