"""sigcli's pytest plugin (the ``pytest11`` entry point ``sigcli``).

It offers the ``signals`` fixture (:class:`sigcli.testing.Signals` over a
live recording of the test) and ``--sigcli-trace=DIR``, which saves one
trace per test for ``sigcli trace`` to open. Nothing is recorded for a test
that uses neither, and loading the plugin imports nothing heavy.

A recording made for a test has one step per phase: ``setup``, ``call``
and ``teardown``; the fixture's assertions look at the call (or, used from
another fixture before the call, at what was sent since it was set up).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sigcli.testing import SignalRecorder, Signals


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, None, None]:
    """Under pytest-django, hook into Django's dispatcher before its
    ``pytest_load_initial_conftests`` calls ``django.setup()``, so that the
    receivers connected at import and in ``AppConfig.ready()`` are seen
    connecting (with their sender and ``dispatch_uid``, which Django keeps
    only as ids). Until a test records, the hooks only pass calls through."""
    if early_config.pluginmanager.has_plugin("django"):
        from sigcli.djangoengine import observer

        observer._install()
        early_config.add_cleanup(observer._uninstall)
    return (yield)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sigcli", "signals recorded by sigcli")
    group.addoption(
        "--sigcli-trace",
        metavar="DIR",
        help="save a sigcli trace of each test as DIR/<test id>.json (open it with `sigcli trace`)",
    )
    group.addoption(
        "--sigcli-trace-failed",
        action="store_true",
        help="with --sigcli-trace, keep the traces of failing tests only",
    )


@dataclass
class _TestRecording:
    """The recording of one test, open from its setup to the end of its teardown."""

    recorder: SignalRecorder
    stack: ExitStack
    signals: list[Signals] = field(default_factory=list)
    failed: bool = False

    def start_phase(self, phase: str) -> None:
        self.recorder.start_step(phase, phase)
        if phase == "call":
            for signals in self.signals:
                signals.since = len(self.recorder.trace.steps) - 1

    def finish_phase(self, error: BaseException | None = None) -> None:
        self.recorder.finish_step(error)


_recording_key = pytest.StashKey["_TestRecording | None"]()


def _start(item: pytest.Item, phase: str) -> _TestRecording:
    from sigcli.testing import SignalRecorder, observing
    from sigcli.trace import Trace

    recorder = SignalRecorder(Trace(scenario=item.nodeid))
    stack = ExitStack()
    stack.enter_context(observing(recorder))
    recording = _TestRecording(recorder, stack)
    recording.start_phase(phase)
    item.stash[_recording_key] = recording
    return recording


def _recording(item: pytest.Item) -> _TestRecording | None:
    return item.stash.get(_recording_key, None)


def _trace_dir(config: pytest.Config) -> Path | None:
    value = config.getoption("sigcli_trace")
    return Path(value) if value else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    if _trace_dir(item.config) is not None:
        _start(item, "setup")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    recording = _recording(item)
    if recording is None:
        return (yield)
    recording.start_phase("call")
    try:
        return (yield)
    finally:
        recording.finish_phase()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    recording = _recording(item)
    if recording is None:
        return (yield)
    recording.start_phase("teardown")
    try:
        return (yield)
    finally:
        recording.finish_phase()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note a failure (with a pointer to where its trace goes); after the
    teardown, the last report of a test, stop recording and save."""
    report = yield
    recording = _recording(item)
    if recording is None:
        return report
    directory = _trace_dir(item.config)
    if report.failed:
        recording.failed = True
        if directory is not None:
            path = _trace_path(directory, item.nodeid)
            report.sections.append(("sigcli", f"signals of this test: sigcli trace {path}"))
    if call.when == "teardown":
        item.stash[_recording_key] = None
        recording.stack.close()
        if directory is not None and (recording.failed or not _only_failed(item.config)):
            _save(recording, _trace_path(directory, item.nodeid))
    return report


def _save(recording: _TestRecording, path: Path) -> None:
    """Write the trace; a file that cannot be written is a warning, not an
    error in pytest's own machinery."""
    from sigcli.safefile import UnsafeTarget
    from sigcli.tracefile import save

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        save([recording.recorder.trace], path)
    except (OSError, UnsafeTarget) as error:
        warnings.warn(
            pytest.PytestWarning(f"sigcli could not save the trace {path}: {error}"),
            stacklevel=1,
        )


def _only_failed(config: pytest.Config) -> bool:
    return bool(config.getoption("sigcli_trace_failed"))


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _trace_path(directory: Path, nodeid: str) -> Path:
    """``DIR/tests_test_app.py__test_create[ann].json`` made safe for any file
    system: other characters become ``_``, and a long id is cut and given a
    short hash so that two ids never share a file."""
    safe = _UNSAFE.sub("_", nodeid.replace("::", "__")).strip("._") or "test"
    if len(safe) > 120:
        digest = hashlib.sha1(nodeid.encode()).hexdigest()[:10]
        safe = f"{safe[:100]}-{digest}"
    return directory / f"{safe}.json"


@pytest.fixture
def signals(request: pytest.FixtureRequest) -> Iterator[Signals]:
    """The signals this test sends, recorded live, with assertions that
    explain themselves: ``signals.assert_sent(post_save, sender=User,
    created=True)``, ``assert_called(create_profile)``, ``assert_order(...)``."""
    from sigcli.testing import Signals

    item = request.node
    recording = _recording(item) or _start(item, "setup")
    signals = Signals(recording.recorder, since=len(recording.recorder.trace.steps) - 1)
    recording.signals.append(signals)
    yield signals
