"""``sigcli record``: run a Python program in this process, as ``coverage run``
does, with Django's signals observed from before Django is imported, and
keep what was sent as a trace.

The program is a file (``manage.py test``, ``runtests.py``) or ``-m module``
(``-m pytest``). Its output, input and exit status are its own: nothing is
captured. The trace's steps are the program's natural units: one per test
(its unittest id, or its pytest node id), else one per HTTP request
(``request_started`` to ``request_finished``), else one for the whole
command; what happens before the first one (``django.setup()``, migrations,
``post_migrate``) is the trace's ``setup``.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigcli.djangoengine.observer import Observation, observe_django
from sigcli.recorder import Recorder, fewer_collections
from sigcli.trace import Dispatch, Step, Trace

#: Deeper than Python's own recursion limit lets signals nest: recording
#: never stops a program that Django alone would run.
MAX_DEPTH = 200


class ProgramNotFound(ValueError):
    """The file or module to run does not exist."""


@dataclass
class Recording:
    """What ``record`` gives back: the trace, the program's exit status, and
    the sends not recorded (signals nobody listens to), by signal name."""

    trace: Trace
    exit_status: int
    unheard: dict[str, int] = field(default_factory=dict)


def record(
    program: list[str], *, module: bool = False, sql: bool = False, unheard: bool = False
) -> Recording:
    """Run ``program`` (a file and its arguments, or with ``module`` a module
    name and its arguments) and record every Django signal it sends."""
    if not program:
        raise ProgramNotFound("nothing to run: give a Python file or -m MODULE")
    target, *arguments = program
    if module:
        import importlib.util

        sys.path.insert(0, os.getcwd())
        try:
            found = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            found = None
        finally:
            sys.path.pop(0)
        if found is None:
            raise ProgramNotFound(f"no module named {target!r}: check the name, or the virtualenv")
    elif not Path(target).is_file():
        raise ProgramNotFound(
            f"{target}: no such file. Give the path of a Python file, or -m MODULE"
        )
    trace = Trace(scenario=" ".join(["-m", *program] if module else program))
    recorder = Recorder(trace, max_depth=MAX_DEPTH)
    steps = _Steps(recorder)
    with ExitStack() as stack:
        observation = stack.enter_context(observe_django(recorder, unheard=unheard, sql=sql))
        steps.watch(observation)
        stack.enter_context(_test_steps(steps))
        stack.enter_context(_setup_mark(steps))
        stack.enter_context(fewer_collections())
        status = _run(target, arguments, module)
        steps.finish_all()
    steps.whole_command(trace.scenario or "")
    return Recording(trace, status, dict(observation.unheard_counts))


class _Steps:
    """Which step is open: a test, a request, or none yet."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.open: str | None = None  # "test" or "request"
        self.started = False
        self.setup_end: int | None = None
        self.lock = threading.RLock()

    def start(self, kind: str, label: str, function: str) -> None:
        with self.lock:
            if self.open == "test" and kind == "request":
                return  # a request a test makes belongs to the test
            if self.open is not None:
                self.recorder.finish_step(None)
            self.recorder.start_step(label, function)
            self.open = kind
            self.started = True

    def finish(self, kind: str, error: BaseException | None = None) -> None:
        with self.lock:
            if self.open == kind:
                self.recorder.finish_step(error)
                self.open = None

    def finish_all(self) -> None:
        with self.lock:
            if self.open is not None:
                self.recorder.finish_step(None)
                self.open = None

    def watch(self, observation: Observation) -> None:
        observation.before["request_started"] = self._request_started
        observation.after["request_finished"] = self._request_finished

    def _request_started(self, named: dict[str, Any]) -> None:
        self.start("request", _request_label(named), "request")

    def _request_finished(self, named: dict[str, Any]) -> None:
        self.finish("request")

    def mark_setup(self) -> None:
        """``django.setup()`` returned: what comes after is the command's."""
        if self.setup_end is None:
            self.setup_end = len(self.recorder.trace.setup)

    def whole_command(self, command: str) -> None:
        """No test and no request ran: the run after setup is one step."""
        if self.started:
            return
        trace = self.recorder.trace
        split = self.setup_end if self.setup_end is not None else 0
        step = Step(label=command, function="command", children=trace.setup[split:])
        del trace.setup[split:]
        trace.steps.append(step)


def _request_label(named: dict[str, Any]) -> str:
    environ = named.get("environ") or {}
    scope = named.get("scope") or {}
    method = environ.get("REQUEST_METHOD") or scope.get("method") or "?"
    path = environ.get("PATH_INFO") or scope.get("path") or "?"
    return f"{method} {path}"


@contextmanager
def _test_steps(steps: _Steps) -> Iterator[None]:
    """A step per unittest test (Django's runner, ``unittest``, ``runtests.py``):
    ``TestResult.startTest``/``stopTest`` are where every runner's result
    class begins and ends a test. pytest gets a plugin for its node ids."""
    import unittest

    result_class = unittest.TestResult
    original_start = result_class.__dict__["startTest"]
    original_stop = result_class.__dict__["stopTest"]

    def startTest(self: Any, test: Any) -> None:  # noqa: N802 - unittest's name
        steps.start("test", _test_id(test), getattr(test, "_testMethodName", "test"))
        original_start(self, test)

    def stopTest(self: Any, test: Any) -> None:  # noqa: N802 - unittest's name
        original_stop(self, test)
        steps.finish("test")

    result_class.startTest = startTest  # type: ignore[method-assign]
    result_class.stopTest = stopTest  # type: ignore[method-assign]
    global _pytest_steps
    _pytest_steps = steps
    addopts = os.environ.get("PYTEST_ADDOPTS")
    plugin = "-p sigcli.djangoengine.pytest_steps"
    os.environ["PYTEST_ADDOPTS"] = f"{addopts} {plugin}" if addopts else plugin
    try:
        yield
    finally:
        result_class.startTest = original_start  # type: ignore[method-assign]
        result_class.stopTest = original_stop  # type: ignore[method-assign]
        _pytest_steps = None
        if addopts is None:
            os.environ.pop("PYTEST_ADDOPTS", None)
        else:
            os.environ["PYTEST_ADDOPTS"] = addopts


#: The steps of the recording running in this process, for the pytest plugin.
_pytest_steps: _Steps | None = None


def _test_id(test: Any) -> str:
    try:
        return str(test.id())
    except Exception:  # noqa: BLE001 - a test's id is only a label
        return repr(test)


@contextmanager
def _setup_mark(steps: _Steps) -> Iterator[None]:
    """Note where ``django.setup()`` ends, once Django is imported and set up."""
    import django

    original = django.setup

    def setup(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        steps.recorder.flush()
        steps.mark_setup()
        return result

    django.setup = setup
    try:
        yield
    finally:
        django.setup = original


def _run(target: str, arguments: list[str], module: bool) -> int:
    """Run the program as ``python FILE`` or ``python -m MODULE`` would, and
    return its exit status."""
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    try:
        if module:
            sys.argv = [target, *arguments]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [target, *arguments]
            sys.path.insert(0, str(Path(target).resolve().parent))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exit_:
        return _exit_status(exit_.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    except BaseException:  # noqa: BLE001 - the program's own failure, shown as Python would
        traceback.print_exc()
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return 0


def _exit_status(code: object) -> int:
    """What ``sys.exit(code)`` makes the process exit with."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def summary(recording: Recording, saved: str | None, top: int = 5) -> list[str]:
    """A few lines for stderr: what was sent, who was busiest, what failed,
    where the trace is."""
    trace = recording.trace
    dispatches = list(trace.dispatches(setup=True))
    # sigcli trace's header counts the steps' dispatches only: say how many
    # of these were in setup, so that the two numbers add up.
    in_setup = len(dispatches) - sum(1 for _ in trace.dispatches())
    unheard = sum(recording.unheard.values())
    lines = [
        f"sigcli: {len(dispatches)} dispatch{'es' if len(dispatches) != 1 else ''} recorded"
        + (f" ({in_setup} in setup)" if in_setup else "")
        + f" in {len(trace.steps)} step{'s' if len(trace.steps) != 1 else ''}"
        + (
            f"; {unheard} sends of signals without receivers counted, not recorded"
            if unheard
            else ""
        )
    ]
    signals = Counter(d.signal for d in dispatches)
    senders = Counter(d.sender for d in dispatches if d.sender is not None)
    receivers = Counter(r.name for d in dispatches for r in d.receivers if r.called)
    for title, counter in (("signals", signals), ("senders", senders), ("receivers", receivers)):
        if counter:
            busiest = ", ".join(f"{name} {count}" for name, count in counter.most_common(top))
            lines.append(f"  busiest {title}: {busiest}")
    failed = [d for d in dispatches if _failed(d)]
    if failed:
        lines.append(
            f"  {len(failed)} dispatch{'es' if len(failed) != 1 else ''} with a receiver that raised"
        )
    if saved:
        lines.append(f"  trace saved in {saved} (sigcli trace {saved})")
    return lines


def _failed(dispatch: Dispatch) -> bool:
    return dispatch.error is not None or any(r.error for r in dispatch.receivers)
