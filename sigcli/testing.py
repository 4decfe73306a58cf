"""Assertions about the signals a test sent, that explain themselves when they fail.

:class:`Signals` is what the pytest fixture ``signals`` gives a test (see
``sigcli.pytest_plugin``), and works on any recording made with
:func:`recording_signals`. A failed assertion says what was sent instead,
as a compact tree of the test's dispatches without SQL, and, for a receiver
that did not run, why: it listens to another sender, its weak reference
died, an earlier receiver raised, or it was never connected to what was sent.
"""

from __future__ import annotations

import functools
import io
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

from sigcli import dispatcher
from sigcli import recorder as recorder_module
from sigcli.observation import receiver_name
from sigcli.recorder import Recorder
from sigcli.snapshot import json_safe, sender_label
from sigcli.trace import (
    SIGNAL_NAMERS,
    Dispatch,
    Node,
    Operation,
    ReceiverCall,
    SkipReason,
    Step,
    Trace,
    is_dispatch_of,
    signal_name,
    walk_dispatches,
)


class SignalRecorder(Recorder):
    """A live recorder that also keeps the objects behind each snapshot, so
    that ``assert_sent(post_save, instance=user)`` matches ``user`` itself,
    not only a picture of it taken when its pk was still ``None``."""

    def __init__(self, trace: Trace, max_depth: int = 50) -> None:
        super().__init__(trace, max_depth=max_depth, live=True)
        self.originals: dict[int, tuple[Any, Any]] = {}

    def snapshot(self, value: Any) -> Any:
        kept = json_safe(value)
        if kept is not value:
            self.originals[id(kept)] = (kept, value)
        return kept


@contextmanager
def recording_signals(max_depth: int = 50) -> Iterator[Signals]:
    """Record every dispatch and ORM call made inside the block, with the
    assertions of :class:`Signals` over them. The recording has one step,
    ``test``; the pytest plugin makes one per phase of a test."""
    recorder = SignalRecorder(Trace(scenario=None), max_depth=max_depth)
    with recorder_module.recording_block(recorder, "test", django_sources()):
        yield Signals(recorder)


@contextmanager
def observing(recorder: Recorder) -> Iterator[Recorder]:
    """Install ``recorder`` for sigcli's dispatcher and ORM, and for
    Django's dispatcher once Django is imported."""
    with recorder_module.observing(recorder), ExitStack() as stack:
        for source in django_sources():
            stack.enter_context(source(recorder))
        yield recorder


def django_sources() -> list[Callable[[Recorder], AbstractContextManager[Any]]]:
    """Django's observer, if Django is imported: a project that never
    imports Django never loads it."""
    if "django.dispatch" not in sys.modules:
        return []
    from sigcli.djangoengine.observer import observe_django

    return [observe_django]


@contextmanager
def capture(max_depth: int = 50) -> Iterator[Trace]:
    """``sigcli.capture()``: :func:`sigcli.recorder.capture` of sigcli's
    signals and, once Django is imported, of Django's."""
    with recorder_module.capture(max_depth, sources=django_sources()) as trace:
        yield trace


SignalRef = object
"""A signal given as the object (sigcli's or Django's) or by its name."""


class Signals:
    """The dispatches of one test, and assertions about them.

    ``signal`` arguments take the signal object or its name (``"post_save"``);
    ``sender`` takes the sender (a model class) or its name. Dispatches are
    counted from the first step this object looks at (``since``): the pytest
    plugin points it at the test's call, leaving out what fixtures sent
    while they were set up.
    """

    def __init__(self, recorder: SignalRecorder, since: int = 0) -> None:
        self._recorder = recorder
        self.since = since

    @property
    def trace(self) -> Trace:
        """Everything recorded, fixtures' setup and teardown included."""
        return self._recorder.trace

    def steps(self) -> list[Step]:
        return self.trace.steps[self.since :]

    def dispatches(self, signal: SignalRef = None, sender: object = None) -> list[Dispatch]:
        """The recorded dispatches in send order, nested ones included,
        optionally only those of ``signal`` and ``sender``."""
        name = _name_or_none(signal)
        return [
            dispatch
            for step in self.steps()
            for dispatch in walk_dispatches(step.children)
            if is_dispatch_of(dispatch, name, sender)
        ]

    # -- signals ------------------------------------------------------------

    def assert_sent(
        self, signal: SignalRef, sender: object = None, times: int | None = None, **kwargs: Any
    ) -> list[Dispatch]:
        """Assert that ``signal`` was sent (by ``sender``), ``times`` times if
        given, else at least once, with keyword arguments equal to ``kwargs``
        (a model instance matches itself, or a recorded one of the same model
        and pk). Returns the matching dispatches."""
        __tracebackhide__ = True
        candidates = self.dispatches(signal, sender)
        matching = [d for d in candidates if self._kwargs_match(d, kwargs)]
        if (times is None and matching) or len(matching) == times:
            return matching
        wanted = _what(signal, sender, kwargs)
        if times is None:
            head = f"{wanted} was not sent."
        else:
            head = f"{wanted} was sent {_times(len(matching))}, expected {_times(times)}."
        lines = [head]
        others = [d for d in candidates if d not in matching]
        if kwargs and others:
            lines.append(f"Sent with other arguments ({len(others)}):")
            lines.extend(f"  {_dispatch_text(d)}" for d in others[:10])
            if len(others) > 10:
                lines.append(f"  … and {len(others) - 10} more")
        elif not candidates and sender is not None and self.dispatches(signal):
            senders = sorted({str(d.sender) for d in self.dispatches(signal)})
            lines.append(f"{_name(signal)} was sent by {', '.join(senders)} only.")
        raise AssertionError(self._explained(lines))

    def assert_not_sent(self, signal: SignalRef, sender: object = None) -> None:
        """Assert that ``signal`` was not sent (by ``sender``)."""
        __tracebackhide__ = True
        found = self.dispatches(signal, sender)
        if not found:
            return
        lines = [f"{_what(signal, sender, {})} was sent {_times(len(found))}:"]
        lines.extend(f"  {_dispatch_text(d)}{self._cause(d)}" for d in found[:10])
        if len(found) > 10:
            lines.append(f"  … and {len(found) - 10} more")
        raise AssertionError(self._explained(lines))

    def assert_order(self, expected: Sequence[SignalRef | tuple[SignalRef, object]]) -> None:
        """Assert that these dispatches happened in this order, each given as
        a signal or a ``(signal, sender)`` pair; others may come between."""
        __tracebackhide__ = True
        wanted = [item if isinstance(item, tuple) else (item, None) for item in expected]
        dispatches = self.dispatches()
        position = 0
        matched: list[Dispatch] = []
        for signal, sender in wanted:
            for index in range(position, len(dispatches)):
                if is_dispatch_of(dispatches[index], _name_or_none(signal), sender):
                    matched.append(dispatches[index])
                    position = index + 1
                    break
            else:
                break
        if len(matched) == len(wanted):
            return
        signal, sender = wanted[len(matched)]
        missing = _what(signal, sender, {})
        if matched:
            last = matched[-1]
            earlier = [d for d in self.dispatches(signal, sender) if d.seq < last.seq]
            head = f"{missing} was not sent after {_dispatch_text(last)}"
            head += f" (it was sent before it, #{earlier[-1].seq})." if earlier else "."
        else:
            head = f"{missing} was not sent."
        lines = [
            "Expected, in order: " + ", then ".join(_what(s, r, {}) for s, r in wanted),
            head,
        ]
        raise AssertionError(self._explained(lines))

    # -- receivers ----------------------------------------------------------

    def assert_called(self, receiver: Any, times: int | None = None) -> list[ReceiverCall]:
        """Assert that ``receiver`` (the function, or its name) ran, ``times``
        times if given, else at least once. Returns its calls."""
        __tracebackhide__ = True
        calls = self._calls_of(receiver)
        ran = [call for _dispatch, call in calls if call.called]
        if (times is None and ran) or len(ran) == times:
            return ran
        name = _receiver_name(receiver)
        if times is None:
            lines = [f"{name} was not called."]
        else:
            lines = [f"{name} was called {_times(len(ran))}, expected {_times(times)}."]
        lines.extend(self._why_not_called(receiver, calls))
        raise AssertionError(self._explained(lines))

    def assert_not_called(self, receiver: Any) -> None:
        """Assert that ``receiver`` (the function, or its name) did not run."""
        __tracebackhide__ = True
        ran = [(d, call) for d, call in self._calls_of(receiver) if call.called]
        if not ran:
            return
        lines = [f"{_receiver_name(receiver)} was called {_times(len(ran))}:"]
        lines.extend(f"  by {_dispatch_text(d)}{self._cause(d)}" for d, _call in ran[:10])
        if len(ran) > 10:
            lines.append(f"  … and {len(ran) - 10} more")
        raise AssertionError(self._explained(lines))

    # -- explaining ---------------------------------------------------------

    def _calls_of(self, receiver: Any) -> list[tuple[Dispatch, ReceiverCall]]:
        return [
            (dispatch, call)
            for dispatch in self.dispatches()
            for call in dispatch.receivers
            if _is_receiver(call, receiver)
        ]

    def _why_not_called(
        self, receiver: Any, calls: list[tuple[Dispatch, ReceiverCall]]
    ) -> list[str]:
        lines = []
        skipped = [(d, call) for d, call in calls if not call.called]
        for dispatch, call in skipped[:10]:
            lines.append(f"  {_dispatch_text(dispatch)}: {_skip_reason(dispatch, call)}")
        if len(skipped) > 10:
            lines.append(f"  … and {len(skipped) - 10} more skipped")
        if calls:
            return ["Skipped by:", *lines] if lines else []
        connections = _connections(receiver)
        if not connections:
            return [
                "It was not connected to any signal the test sent, and it is not connected "
                "now: is the module that connects it imported (a @receiver in a module "
                "nobody imports never connects), or was it connected weakly and collected?"
            ]
        sent = {d.signal for d in self.dispatches()}
        lines = ["It is connected to:"]
        for connected_to, listens in connections:
            where = f"{connected_to} ({listens})"
            if connected_to in sent:
                lines.append(
                    f"  {where}, sent during the test but without it among the receivers: "
                    "it was connected later, or muted (sigcli.mute)"
                )
            else:
                lines.append(f"  {where}, which the test never sent")
        return lines

    def _cause(self, dispatch: Dispatch) -> str:
        """`` (from receiver r of post_save User)`` for a nested dispatch."""
        for step in self.steps():
            parent = _parent_of(step.children, dispatch)
            if parent is not None:
                outer, call = parent
                return f"  (sent from {call.name}, receiver of {_dispatch_text(outer)})"
        return ""

    def _explained(self, lines: list[str]) -> str:
        return "\n".join([*lines, "", "What the test sent (SQL left out):", self.tree()])

    def tree(self) -> str:
        """The test's dispatches as a compact text tree, without SQL."""
        from rich.console import Console

        from sigcli.render import ViewOptions, run_view

        trace = Trace(scenario="the test", steps=self.steps())
        console = Console(
            file=io.StringIO(), width=100, no_color=True, color_system=None, emoji=False
        )
        console.print(run_view(trace, ViewOptions(limit=60, sql=False)))
        return console.file.getvalue().rstrip()  # type: ignore[attr-defined, no-any-return]

    def _kwargs_match(self, dispatch: Dispatch, expected: dict[str, Any]) -> bool:
        originals = self._recorder.originals
        for key, value in expected.items():
            if key not in dispatch.kwargs:
                return False
            if not _value_matches(value, dispatch.kwargs[key], originals):
                return False
        return True


# -- matching -----------------------------------------------------------------


def _django_signal_name(signal: object) -> str | None:
    """A Django signal's name in traces, as the Django observer gives it."""
    observer = sys.modules.get("sigcli.djangoengine.observer")
    dispatch = sys.modules.get("django.dispatch")
    if observer is None or dispatch is None or not isinstance(signal, dispatch.Signal):
        return None
    return observer.signal_label(signal).name  # type: ignore[no-any-return]


SIGNAL_NAMERS.append(_django_signal_name)

_DJANGO_SIGNAL_MODULES = (
    "django.db.models.signals",
    "django.core.signals",
    "django.db.backends.signals",
    "django.test.signals",
)


def _name_or_none(signal: SignalRef) -> str | None:
    return None if signal is None else signal_name(signal)


def _name(signal: SignalRef) -> str:
    return signal_name(signal)


def _sender_name(sender: object) -> str | None:
    return sender if isinstance(sender, str) else sender_label(sender)


def _is_receiver(call: ReceiverCall, receiver: Any) -> bool:
    if isinstance(receiver, str):
        return call.name == receiver or f"{call.module}.{call.name}" == receiver
    target = getattr(receiver, "__func__", receiver)
    while isinstance(target, functools.partial):
        target = target.func
    return call.name == receiver_name(receiver) and call.module == getattr(
        target, "__module__", None
    )


def _is_model_instance(value: object) -> bool:
    return getattr(type(value), "_meta", None) is not None and hasattr(value, "pk")


def _value_matches(expected: Any, recorded: Any, originals: dict[int, tuple[Any, Any]]) -> bool:
    if _is_model_instance(expected):
        # The very object that was sent, or one of the same model and pk
        # (fetched again); an unsaved one matches only itself.
        original = originals.get(id(recorded))
        if original is not None and original[0] is recorded and original[1] is expected:
            return True
        return (
            expected.pk is not None
            and isinstance(recorded, dict)
            and recorded.get("model") == type(expected).__name__
            and recorded.get("pk") == json_safe(expected.pk)
        )
    if isinstance(expected, type):
        return recorded == expected.__name__ or recorded == json_safe(expected)
    return bool(json_safe(expected) == recorded)


# -- words ----------------------------------------------------------------------


def _times(count: int) -> str:
    return {0: "0 times", 1: "once", 2: "twice"}.get(count, f"{count} times")


def _what(signal: SignalRef, sender: object, kwargs: dict[str, Any]) -> str:
    text = _name(signal) if signal is not None else "a signal"
    if sender is not None:
        text += f" from {_sender_name(sender)}"
    if kwargs:
        text += " with " + ", ".join(f"{k}={_shown(v)}" for k, v in kwargs.items())
    return text


def _shown(value: Any) -> str:
    from sigcli.render import show_value

    return show_value(json_safe(value))


def _receiver_name(receiver: Any) -> str:
    if isinstance(receiver, str):
        return receiver
    return receiver_name(receiver)


def _dispatch_text(dispatch: Dispatch) -> str:
    """``#4 post_save User``."""
    sender = f" {dispatch.sender}" if dispatch.sender is not None else ""
    return f"#{dispatch.seq} {dispatch.signal}{sender}"


def _skip_reason(dispatch: Dispatch, call: ReceiverCall) -> str:
    if call.skipped_reason is SkipReason.SENDER_MISMATCH:
        return f"it listens to sender={call.sender_filter} only"
    if call.skipped_reason is SkipReason.DEAD_REFERENCE:
        return (
            "its weak reference was dead: the function was garbage-collected "
            "(keep a reference to it, or connect it with weak=False)"
        )
    raised = next((c for c in dispatch.receivers if c.called and c.error), None)
    if raised is not None:
        return f"not reached: {raised.name} raised {raised.error} before it"
    return "not called: it was muted (sigcli.mute), or the send stopped before it"


def _connections(receiver: Any) -> list[tuple[str, str]]:
    """Where ``receiver`` is connected now, on sigcli's signals and Django's."""
    if isinstance(receiver, str):
        return []
    found = []
    name = receiver_name(receiver)
    inner = receiver
    while isinstance(inner, functools.partial):
        inner = inner.func
    module = getattr(inner, "__module__", None)
    for signal in list(dispatcher._signals):
        for info in signal.receiver_infos():
            if info.name == name and info.module == module:
                found.append((signal_name(signal), _listens(info.sender_label)))
    for signal in _django_signals():
        # An entry is (key, reference, ...) in every Django version.
        for entry in list(signal.receivers):
            stored = entry[1]
            live = stored() if isinstance(stored, weakref.ReferenceType) else stored
            if live is not None and (live is receiver or live == receiver):
                found.append((signal_name(signal), _django_listens(entry[0])))
    return found


def _django_listens(key: Any) -> str:
    """Whom a Django receiver listens to. Django keeps only the sender's id;
    a model class (the usual sender) is found by it."""
    if key[1] == dispatcher.NONE_ID:
        return "any sender"
    apps = getattr(sys.modules.get("django.apps"), "apps", None)
    if apps is not None and apps.ready:
        for model in apps.get_models(include_auto_created=True):
            if id(model) == key[1]:
                return _listens(model.__name__)
    return "one sender"


def _listens(sender: str | None) -> str:
    return "any sender" if sender is None else f"sender={sender}"


def _django_signals() -> list[Any]:
    dispatch = sys.modules.get("django.dispatch")
    if dispatch is None:
        return []
    found: list[Any] = []
    for module_name in _DJANGO_SIGNAL_MODULES:
        module = sys.modules.get(module_name)
        if module is not None:
            found.extend(v for v in vars(module).values() if isinstance(v, dispatch.Signal))
    return found


def _parent_of(
    nodes: list[Node], target: Dispatch, owner: tuple[Dispatch, ReceiverCall] | None = None
) -> tuple[Dispatch, ReceiverCall] | None:
    """The dispatch and receiver that ``target`` was sent from, if any."""
    for node in nodes:
        if node is target:
            return owner
        if isinstance(node, Dispatch):
            for call in node.receivers:
                found = _parent_of(call.children, target, (node, call))
                if found is not None:
                    return found
        elif isinstance(node, Operation):
            found = _parent_of(node.children, target, owner)
            if found is not None:
                return found
    return None
