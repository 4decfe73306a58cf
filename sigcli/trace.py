"""Recording a run as a tree of plain records, and saving it as JSON.

The :class:`Recorder` implements both observer interfaces (the dispatcher's
send observer and the model layer's ORM observer) and builds, while the run
happens, a tree of slotted dataclasses: step → operation → dispatch →
receiver → nested operations and dispatches. Values are converted to
JSON-safe data at the moment they are seen, so that later mutations of an
instance never rewrite history. Nothing here draws anything: see ``render``.

A trace file is data. :func:`load` parses it with ``json`` and checks its
shape; it never imports or evaluates anything named in it.
"""

from __future__ import annotations

import enum
import gc
import io
import json
import math
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigcli import dispatcher, safefile
from sigcli.models.observe import safe_repr

FORMAT_VERSION = 1
INIT_SIGNALS = frozenset({"pre_init", "post_init"})


class SkipReason(enum.Enum):
    """Why a connected receiver was not called by a dispatch."""

    SENDER_MISMATCH = "sender_mismatch"
    DEAD_REFERENCE = "dead_reference"
    NOT_REACHED = "not_reached"


class TraceFormatError(ValueError):
    """A trace file that is not JSON, not a sigcli trace, or of another version."""


class DepthLimitExceeded(RecursionError):
    """Raised into a run when dispatches nest deeper than the recorder allows.

    ``cycle`` is the repeating chain of dispatches and receivers that led
    there, each link written as ``"post_save User › touch"``.
    """

    def __init__(self, limit: int, cycle: list[str]) -> None:
        self.limit = limit
        self.cycle = cycle
        loop = " → ".join([*cycle, cycle[0]]) if cycle else "?"
        super().__init__(
            f"signals nested deeper than {limit} levels; this cycle repeats: {loop}. "
            "A receiver causes the dispatch that calls it again: guard it (check "
            "`created` or `update_fields`), or write with QuerySet.update(), which "
            "sends no signals"
        )


@dataclass(slots=True)
class ReceiverCall:
    """One receiver connected to a signal at the moment it was sent."""

    name: str
    module: str | None
    file: str | None
    line: int | None
    sender_filter: str | None
    weak: bool
    dispatch_uid: str | None
    called: bool = False
    skipped_reason: SkipReason | None = None
    result: Any = None
    error: str | None = None
    error_propagated: bool = False
    children: list[Node] = field(default_factory=list)


@dataclass(slots=True)
class Dispatch:
    """One ``send`` of a signal, with every receiver it considered."""

    seq: int
    signal: str
    sender: str | None
    depth: int
    kwargs: dict[str, Any]
    receivers: list[ReceiverCall] = field(default_factory=list)
    robust: bool = False
    error: str | None = None


@dataclass(slots=True)
class Operation:
    """An ORM call made by a step or a receiver, with what it caused."""

    label: str
    model: str | None
    children: list[Node] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class SqlStatement:
    """A statement sent to SQLite, with ``?`` placeholders and its parameters."""

    sql: str
    params: list[Any]


@dataclass(slots=True)
class Output:
    """Text the scenario printed, kept where it was printed."""

    text: str


Node = Operation | Dispatch | SqlStatement | Output


@dataclass(slots=True)
class Step:
    """One ``@step`` function (or the scenario's ``run()``)."""

    label: str
    function: str
    children: list[Node] = field(default_factory=list)
    error: str | None = None
    error_at: str | None = None


@dataclass(slots=True)
class Trace:
    """Everything recorded for one scenario: loading (``setup``) and its steps."""

    scenario: str | None
    setup: list[Node] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    error: str | None = None
    interrupted: bool = False
    not_run: list[str] = field(default_factory=list)

    def dispatches(self, *, setup: bool = False) -> Iterator[Dispatch]:
        """Every dispatch of the steps (and of setup if asked), in send order."""
        roots: list[list[Node]] = [self.setup] if setup else []
        roots += [step.children for step in self.steps]
        for nodes in roots:
            yield from walk_dispatches(nodes)

    @property
    def failed(self) -> bool:
        return self.error is not None or any(step.error for step in self.steps)


def walk_dispatches(nodes: list[Node]) -> Iterator[Dispatch]:
    """Dispatches under ``nodes``, depth first, in the order they were sent."""
    for node in nodes:
        if isinstance(node, Dispatch):
            yield node
            for call in node.receivers:
                yield from walk_dispatches(call.children)
        elif isinstance(node, Operation):
            yield from walk_dispatches(node.children)


# -- values as seen at send time ------------------------------------------------


def json_safe(value: object, _depth: int = 0) -> Any:
    """A JSON-safe picture of ``value``, taken now.

    A model instance becomes ``{"model", "pk", "repr"}``, a model class its
    name, a queryset ``{"queryset": model}``, a set a sorted list; anything
    else unknown becomes its repr. Containers nested absurdly deep (or
    containing themselves) are cut off with their repr.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if _depth > 8:
        return _repr(value)
    if isinstance(value, set | frozenset):
        return sorted((json_safe(v, _depth + 1) for v in value), key=_sort_key)
    if isinstance(value, list | tuple):
        return [json_safe(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {_key_text(k): json_safe(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, type) and getattr(value, "_meta", None) is not None:
        return value.__name__
    if getattr(type(value), "_meta", None) is not None and hasattr(value, "pk"):
        return {"model": type(value).__name__, "pk": json_safe(value.pk, 8), "repr": _repr(value)}
    if any(cls.__name__ == "QuerySet" for cls in type(value).__mro__):
        model = getattr(value, "model", None)
        return {"queryset": getattr(model, "__name__", _repr(model))}
    return _repr(value)


def _key_text(key: object) -> str:
    """A dict key as JSON needs it: text. A key whose ``str()`` raises is
    shown by its (safe) repr."""
    if type(key) is str:
        return key
    try:
        return str(key)
    except Exception:
        return _repr(key)


def _sort_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, json.dumps(value, sort_keys=True))


#: The longest repr a trace keeps. Each dispatch takes its own, so a
#: ``__repr__`` of a megabyte sent in a loop would otherwise fill memory.
LONGEST_REPR = 10_000


def _repr(value: object) -> str:
    text = safe_repr(value)
    if len(text) <= LONGEST_REPR:
        return text
    return f"{text[:LONGEST_REPR]}… ({len(text) - LONGEST_REPR} more characters)"


def sender_label(sender: object) -> str | None:
    """A model class by its name, other senders by name or repr, ``None`` as null."""
    if sender is None:
        return None
    name = getattr(sender, "__name__", None)
    return name if isinstance(name, str) else _repr(sender)


def signal_label(signal: dispatcher.Signal) -> str:
    return signal.name or f"<Signal at {id(signal):#x}>"


#: C0 and C1 controls (tab and newline aside), and the invisible Unicode
#: format characters: bidirectional overrides and isolates, which can make a
#: line read differently from what it contains, and zero-width characters.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def printable(text: str) -> str:
    """``text`` with terminal control characters and invisible format characters
    written as escapes, so that a scenario's or a trace file's strings can
    neither drive the terminal nor hide what they say."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def describe_error(error: BaseException) -> str:
    """``"ValueError: message"``; an exception whose ``str()`` fails is still named."""
    try:
        text = str(error)
    except Exception:
        text = "<message could not be shown: its __str__ failed>"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# -- the recorder -----------------------------------------------------------------

_STEP, _OPERATION, _FOLDED, _DISPATCH, _INLINE, _RECEIVER = range(6)


class _Frame:
    """An open step, operation, dispatch or receiver call while the tree is built.

    ``plan``, ``calls`` and ``cursor`` belong to a dispatch: the receivers
    it planned, the positions in the plan of those to call, and (inline) how
    many of those have started, or (explicit) where the next receiver to
    start most likely sits in the plan.
    ``info`` and ``owner`` belong to a receiver call: its description, and
    the frame of the dispatch that called it.
    """

    __slots__ = ("kind", "container", "node", "plan", "calls", "cursor", "info", "owner")

    def __init__(
        self,
        kind: int,
        container: list[Node],
        node: Any = None,
        plan: Any = None,
        info: dispatcher.ReceiverInfo | None = None,
        owner: _Frame | None = None,
        calls: tuple[int, ...] = (),
    ) -> None:
        self.kind = kind
        self.container = container
        self.node = node
        self.plan = plan
        self.calls = calls
        self.cursor = 0
        self.info = info
        self.owner = owner


# The recorder's own events, beside the dispatcher's SEND, CALL, DONE and END.
_OPERATION_STARTED, _OPERATION_FINISHED, _SQL, _PRINTED = "op", "op end", "sql", "print"
_EVENT_FIELDS = {
    **dispatcher.EVENT_FIELDS,
    _OPERATION_STARTED: 4,
    _OPERATION_FINISHED: 3,
    _SQL: 4,
    _PRINTED: 3,
}


class Recorder(dispatcher.Journal):
    """Builds a :class:`Trace` from what the dispatcher and the ORM report.

    While the run happens, the recorder only keeps events: the dispatcher
    appends a tuple per send and per receiver call (see
    :class:`~sigcli.dispatcher.Journal`), the ORM observer methods and
    :meth:`printed` do the same, and values that may change later are
    turned into JSON-safe data at once. The tree is built from the events
    later: when a step starts or finishes, when recording ends, when
    :attr:`trace` is read, or, with ``live``, as each event arrives.

    Building keeps a stack of open steps, operations, dispatches and
    receiver calls per thread: a signal sent from a thread the scenario
    started lands at the step's level, not inside whatever another thread
    happened to be running. Before :meth:`start_step`, everything goes into
    ``trace.setup``. Async receivers of one dispatch run concurrently, so a
    receiver frame is closed by identity and its still-running siblings stay
    open; ``asend`` calls sync receivers in a worker thread, whose stack then
    starts at the dispatch on the sending thread's stack.
    """

    inline = True

    def __init__(self, trace: Trace, max_depth: int = 50, live: bool = False) -> None:
        super().__init__(_Applying(self) if live else None, max_depth=max_depth)
        self._trace = trace
        self._lock = threading.RLock()
        self._base = _Frame(_STEP, trace.setup)
        self._stacks: dict[int, list[_Frame]] = {}
        self._seq = 0
        # The exception a receiver last finished with: the same object
        # reaching an enclosing receiver has passed through from inside.
        self._last_error: BaseException | None = None
        # Per plan (the dispatcher keeps one per sender until receivers
        # change): each receiver's fields, and the positions of those to
        # call. Keyed by the plan's id, kept with the plan.
        self._plans: dict[int, tuple[Any, list[tuple[Any, ...]], tuple[int, ...]]] = {}
        self._labels: dict[dispatcher.Signal, str] = {}
        self._handlers: dict[str, Callable[[Sequence[Any]], None]] = {
            dispatcher.SEND: self._send_started,
            dispatcher.CALL: self._receiver_started,
            dispatcher.DONE: self._receiver_finished,
            dispatcher.END: self._send_finished,
            dispatcher.SEND_INLINE: self._send_started,
            dispatcher.LAST: self._last_finished,
            dispatcher.FAILED: self._inline_failed,
            _OPERATION_STARTED: self._operation_started,
            _OPERATION_FINISHED: self._operation_finished,
            _SQL: self._sql_executed,
            _PRINTED: self._printed,
        }

    @property
    def trace(self) -> Trace:
        """The trace, with every event so far in its tree."""
        self.flush()
        return self._trace

    def flush(self) -> None:
        """Put the events kept so far into the tree.

        The cyclic garbage collector is held off meanwhile: building makes
        no garbage, only a great many small records that it would otherwise
        walk again and again as they pile up.
        """
        with self._lock, _collector_paused():
            events = self.events
            count = len(events)
            if not count:
                return
            handlers = self._handlers
            fields = _EVENT_FIELDS
            send_inline, last = dispatcher.SEND_INLINE, dispatcher.LAST
            index = 0
            try:
                while index < count:
                    start = index
                    kind = events[start]
                    end = start + fields[kind]
                    if (
                        kind is send_inline
                        and end < count
                        and events[end] is last
                        and events[end + 1] == events[start + 1]
                    ):
                        # The common case: one receiver that did nothing observable.
                        index = end + fields[last]
                        self._new_dispatch(events[start:end], True, events[end + 4])
                        continue
                    index = end
                    handlers[kind](events[start:end])
            finally:
                # Events a thread wrote meanwhile stay for the next flush; one
                # whose handling failed is not handled again.
                del events[:index]

    # steps

    def start_step(self, label: str, function: str) -> Step:
        step = Step(label=label, function=function)
        with self._lock:
            self.flush()
            if not self._trace.steps:
                self._seq = 0  # setup keeps its own numbering
            self._trace.steps.append(step)
            self._base = _Frame(_STEP, step.children, step)
            self._stacks = {}
            self._last_error = None
        return step

    def finish_step(self, error: BaseException | None) -> None:
        with self._lock:
            self.flush()
            step = self._base.node
            if step is not None and error is not None:
                step.error = describe_error(error)
            self._stacks = {}
            self._last_error = None

    # what the dispatcher keeps of values (Journal's hooks)

    def snapshot(self, value: Any) -> Any:
        return json_safe(value)

    def label_sender(self, sender: object) -> Any:
        return sender_label(sender)

    def failure(self, error: BaseException) -> tuple[str, bool]:
        """The error's description, and whether it came out of the receiver
        that finished last (it passed through from inside)."""
        propagated = error is self._last_error
        self._last_error = error
        return describe_error(error), propagated

    def too_deep(self, depth: int) -> None:
        with self._lock:
            self.flush()
            raise DepthLimitExceeded(depth - 1, self._cycle(self._top(threading.get_ident())))

    def take(self, event: Sequence[Any]) -> None:
        """Keep an event written by a plain :class:`~sigcli.dispatcher.Journal`
        (raw values), as if the dispatcher had written it to this recorder."""
        kind = event[0]
        if kind == dispatcher.SEND:
            _, thread, signal, sender, named, plan, robust = event
            kwargs = {k: v if type(v) in _SCALARS else json_safe(v) for k, v in named.items()}
            if sender is not None and not isinstance(sender, type):
                sender = sender_label(sender)
            event = (kind, thread, signal, sender, kwargs, plan, robust)
        elif kind == dispatcher.DONE:
            _, thread, signal, info, result, error = event
            if error is not None:
                event = (kind, thread, signal, info, None, self.failure(error))
            elif type(result) not in _SCALARS:
                event = (kind, thread, signal, info, json_safe(result), None)
        elif kind == dispatcher.END and event[3] is not None:
            event = (*event[:3], self.failure(event[3]))
        self.events.extend(event)

    # ORM observer

    def operation_started(self, label: str, model: str | None) -> None:
        self.events.extend((_OPERATION_STARTED, threading.get_ident(), label, model))

    def operation_finished(self, error: BaseException | None) -> None:
        failure = None if error is None else describe_error(error)
        self.events.extend((_OPERATION_FINISHED, threading.get_ident(), failure))

    def sql_executed(self, sql: str, params: tuple[object, ...]) -> None:
        kept = [json_safe(p) for p in params]
        self.events.extend((_SQL, threading.get_ident(), sql, kept))

    def printed(self, text: str) -> None:
        """Keep ``text`` (written to stdout by the scenario) where it was written."""
        self.events.extend((_PRINTED, threading.get_ident(), text))

    # building the tree, one event at a time (with the lock held)

    def _stack(self, thread: int) -> list[_Frame]:
        """The stack of open frames of ``thread``, above the step's."""
        stack = self._stacks.get(thread)
        if stack is None:
            stack = self._stacks[thread] = [self._base]
        return stack

    def _top(self, thread: int) -> list[_Frame]:
        """The stack of ``thread``, with the receiver that runs now open: an
        inline dispatch starts its receivers without events, so the next
        one has started when something happens above the dispatch."""
        stack = self._stacks.get(thread) or self._stack(thread)
        frame = stack[-1]
        if frame.kind == _INLINE and frame.cursor < len(frame.calls):
            index = frame.calls[frame.cursor]
            frame.cursor += 1
            call = frame.node.receivers[index]
            call.called = True
            info = frame.plan[index].info
            stack.append(_Frame(_RECEIVER, call.children, call, info=info, owner=frame))
        return stack

    def _operation_started(self, event: Sequence[Any]) -> None:
        _, thread, label, model = event
        stack = self._top(thread)
        top = stack[-1]
        if top.kind == _OPERATION or top.kind == _FOLDED:
            stack.append(_Frame(_FOLDED, top.container, top.node))
            return
        operation = Operation(label=label, model=model)
        top.container.append(operation)
        stack.append(_Frame(_OPERATION, operation.children, operation))

    def _operation_finished(self, event: Sequence[Any]) -> None:
        _, thread, failure = event
        stack = self._stack(thread)
        frame = _pop_to(stack, lambda f: f.kind == _OPERATION or f.kind == _FOLDED)
        if frame is not None and frame.kind == _OPERATION and failure is not None:
            frame.node.error = failure

    def _sql_executed(self, event: Sequence[Any]) -> None:
        _, thread, sql, params = event
        self._top(thread)[-1].container.append(SqlStatement(sql, params))

    def _printed(self, event: Sequence[Any]) -> None:
        _, thread, text = event
        container = self._top(thread)[-1].container
        if container and isinstance(container[-1], Output):
            # Take the text out of the node first: a string nothing else
            # refers to grows in place, so printing in a loop stays linear.
            output = container[-1]
            printed, output.text = output.text, ""
            printed += text
            output.text = printed
        else:
            container.append(Output(text))

    def _send_started(self, event: Sequence[Any]) -> None:
        stack, dispatch, plan, to_call = self._new_dispatch(event)
        frame_kind = _INLINE if event[0] == dispatcher.SEND_INLINE else _DISPATCH
        stack.append(_Frame(frame_kind, stack[-1].container, dispatch, plan, calls=to_call))

    def _new_dispatch(
        self, event: Sequence[Any], quiet: bool = False, result: Any = None
    ) -> tuple[list[_Frame], Dispatch, Any, tuple[int, ...]]:
        """The dispatch a SEND or SEND_INLINE event starts, put in place on
        its thread's stack. A ``quiet`` one is an inline dispatch whose one
        receiver returned ``result`` with nothing in between: it is complete
        at once, and needs no frame. Most dispatches of a big run are quiet,
        which is why this is written out rather than split up."""
        _, thread, signal, sender, kwargs, plan, robust = event
        stack = self._stacks.get(thread) or self._stack(thread)
        if stack[-1].kind == _INLINE:
            stack = self._top(thread)
        if isinstance(sender, type):
            sender = sender.__name__
        if plan:
            known = self._plans.get(id(plan))
            if known is None or known[0] is not plan:
                known = self._learn(plan)
            templates = known[1]
            if len(templates) == 1:
                receivers = [ReceiverCall(*templates[0])]
            else:
                receivers = [ReceiverCall(*fields) for fields in templates]
            to_call = known[2]
        else:
            plan, receivers, to_call = (), [], ()
        if quiet:
            call = receivers[to_call[0]]
            call.called = True
            call.result = result
        label = self._labels.get(signal)
        if label is None:
            label = self._labels[signal] = signal_label(signal)
        self._seq += 1
        dispatch = Dispatch(self._seq, label, sender, _depth(stack), kwargs, receivers, robust)
        stack[-1].container.append(dispatch)
        return stack, dispatch, plan, to_call

    def _learn(self, plan: list[dispatcher.ReceiverPlan]) -> tuple[Any, Any, tuple[int, ...]]:
        """What every dispatch with this plan starts from: each receiver's
        fields (a :class:`ReceiverCall`'s, up to its skip reason) and the
        positions of those the send calls."""
        if len(self._plans) > 1000:
            self._plans.clear()
        fields = []
        for entry in plan:
            info = entry.info
            uid = None if info.dispatch_uid is None else str(info.dispatch_uid)
            skipped = _SKIPS.get(entry.decision)
            fixed = (info.name, info.module, info.file, info.line, info.sender_label)
            fields.append((*fixed, info.weak, uid, False, skipped))
        to_call = tuple(i for i, entry in enumerate(plan) if entry.decision is _CALL)
        known = self._plans[id(plan)] = (plan, fields, to_call)
        return known

    def _receiver_started(self, event: Sequence[Any]) -> None:
        _, thread, _signal, info = event
        stack = self._stack(thread)
        # The dispatch is on top of this thread's stack unless async
        # siblings run; on another thread's for asend's worker thread.
        for frames in (stack, *self._stacks.values()):
            for frame in reversed(frames):
                if frame.kind == _DISPATCH:
                    plan = frame.plan
                    index = frame.cursor
                    if index >= len(plan) or plan[index].info is not info:
                        index = next((i for i, p in enumerate(plan) if p.info is info), -1)
                        if index < 0:
                            continue
                    frame.cursor = index + 1
                    call = frame.node.receivers[index]
                    call.called = True
                    stack.append(_Frame(_RECEIVER, call.children, call, info=info, owner=frame))
                    return

    def _receiver_finished(self, event: Sequence[Any]) -> None:
        _, thread, _signal, info, result, failure = event
        stack = self._stacks.get(thread) or self._stack(thread)
        top = stack[-1]
        if top.kind == _INLINE and failure is None and top.cursor < len(top.calls):
            # A receiver of an inline dispatch that did nothing observable:
            # it needs no frame.
            quiet: ReceiverCall = top.node.receivers[top.calls[top.cursor]]
            top.cursor += 1
            quiet.called = True
            quiet.result = result
            return
        stack = self._top(thread)
        top = stack[-1]
        if top.kind == _RECEIVER and top.info is info:
            stack.pop()
            frame = top
        else:
            found = _close_receiver(stack, info)
            if found is None:
                return
            frame = found
        call: ReceiverCall = frame.node
        if failure is None:
            call.result = result
        else:
            call.error, call.error_propagated = failure

    def _send_finished(self, event: Sequence[Any]) -> None:
        _, thread, signal, failure = event
        stack = self._stack(thread)
        if stack[-1].kind == _DISPATCH:
            frame: _Frame | None = stack.pop()
        else:
            name = signal_label(signal)
            frame = _pop_to(stack, lambda f: f.kind == _DISPATCH and f.node.signal == name)
        if frame is None:
            return
        _dispatch_ended(frame.node, failure)

    def _last_finished(self, event: Sequence[Any]) -> None:
        """The last receiver of an inline dispatch returned, so did the send."""
        _, thread, signal, info, result = event
        self._receiver_finished((dispatcher.DONE, thread, signal, info, result, None))
        stack = self._stacks[thread]
        if stack[-1].kind == _INLINE:
            stack.pop()
        else:
            name = signal_label(signal)
            _pop_to(stack, lambda f: f.kind == _INLINE and f.node.signal == name)

    def _inline_failed(self, event: Sequence[Any]) -> None:
        """The running receiver of an inline dispatch raised, ending the send."""
        _, thread, signal, failure = event
        stack = self._top(thread)
        name = signal_label(signal)
        for index in range(len(stack) - 1, 0, -1):
            frame = stack[index]
            if frame.kind == _INLINE and frame.node.signal == name:
                break
        else:
            return
        running = next(
            (f for f in reversed(stack[index + 1 :]) if f.kind == _RECEIVER and f.owner is frame),
            None,
        )
        if running is not None:
            running.node.error, running.node.error_propagated = failure
        del stack[index:]
        _dispatch_ended(frame.node, failure)

    def _cycle(self, stack: list[_Frame]) -> list[str]:
        """The shortest repeating tail of the open dispatch › receiver chain."""
        links = [
            f"{f.owner.node.signal} {f.owner.node.sender} › {f.node.name}"
            for f in stack
            if f.kind == _RECEIVER and f.owner is not None
        ]
        for period in range(1, len(links) // 2 + 1):
            if links[-2 * period : -period] == links[-period:]:
                return links[-period:]
        return links[-3:]


class _Applying:
    """The events list of a live recorder: each event goes into the tree as
    it is written, so the trace is complete at every moment."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def __len__(self) -> int:
        return 0

    def extend(self, event: Sequence[Any]) -> None:
        recorder = self._recorder
        with recorder._lock:
            recorder._handlers[event[0]](event)


def _dispatch_ended(dispatch: Dispatch, failure: tuple[str, bool] | None) -> None:
    """The send is over: its error, if any, and the receivers it never reached."""
    if failure is not None:
        dispatch.error = failure[0]
    for call in dispatch.receivers:
        if not call.called and call.skipped_reason is None:
            call.skipped_reason = SkipReason.NOT_REACHED


def _depth(stack: list[_Frame]) -> int:
    """One more than the dispatch whose receiver is running, or 1 outside any."""
    for frame in reversed(stack):
        if frame.kind == _RECEIVER:
            return frame.owner.node.depth + 1  # type: ignore[union-attr, no-any-return]
    return 1


def _close_receiver(stack: list[_Frame], info: dispatcher.ReceiverInfo) -> _Frame | None:
    """Close the receiver frame of ``info`` that is not on top of ``stack``.

    Frames above it that never got their ``finished`` event are dropped,
    except receiver frames of the same dispatch: async receivers run
    concurrently, so a sibling may still be running.
    """
    for index in range(len(stack) - 1, 0, -1):
        frame = stack[index]
        if frame.kind == _RECEIVER and frame.info is info:
            siblings = [
                f for f in stack[index + 1 :] if f.kind == _RECEIVER and f.owner is frame.owner
            ]
            del stack[index:]
            stack.extend(siblings)
            return frame
    return None


def _pop_to(stack: list[_Frame], wanted: Callable[[_Frame], bool]) -> _Frame | None:
    """Pop frames down to and including the nearest ``wanted`` one.

    Unwinding through frames that never got their ``finished`` event (an
    exception between two events) keeps the stack consistent.
    """
    for index in range(len(stack) - 1, 0, -1):
        frame = stack[index]
        if wanted(frame):
            del stack[index:]
            return frame
    return None


_SCALARS = dispatcher.SCALARS
_CALL = dispatcher.Decision.CALL

_SKIPS = {
    dispatcher.Decision.SKIP_SENDER: SkipReason.SENDER_MISMATCH,
    dispatcher.Decision.SKIP_DEAD: SkipReason.DEAD_REFERENCE,
}


class PrintedOutput(io.TextIOBase):
    """A stand-in for ``sys.stdout`` that hands what a scenario prints to a recorder."""

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    def __repr__(self) -> str:
        return "<stdout>"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._recorder.printed(text)
        return len(text)


@contextmanager
def recording(recorder: Any) -> Iterator[Any]:
    """Install ``recorder`` (or an observer wrapping one) as the send observer
    and the ORM observer."""
    from sigcli import models

    with ExitStack() as stack:
        stack.enter_context(dispatcher.observe(recorder))
        stack.enter_context(models.observe_orm(recorder))
        stack.enter_context(_fewer_collections())
        stack.callback(recorder.flush)
        yield recorder


#: Python's default is 700. Every dispatch leaves a few small records that
#: live until the run ends, and at the default the cyclic collector walks
#: them again and again: a fifth of a traced send at 200,000 dispatches.
_RECORDING_GC_THRESHOLD = 10_000


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during the block (unless it was off already)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the youngest garbage collection less often for the block."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], _RECORDING_GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def capture(max_depth: int = 50) -> Iterator[Trace]:
    """Record every dispatch and ORM call made inside the block.

    For tests of your own receivers::

        with sigcli.capture() as trace:
            User.objects.create(username="ann")
        assert [d.signal for d in trace.dispatches()] == [...]

    Everything lands in one step labelled ``capture``.
    """
    trace = Trace(scenario=None)
    recorder = Recorder(trace, max_depth=max_depth, live=True)
    recorder.start_step("capture", "capture")
    error: BaseException | None = None
    with recording(recorder):
        try:
            yield trace
        except BaseException as exc:
            error = exc
            raise
        finally:
            recorder.finish_step(error)


# -- JSON -------------------------------------------------------------------------


@contextmanager
def recursion_room(limit: int) -> Iterator[None]:
    """Let Python recurse at least ``limit`` frames deep for the block.

    Traces nest as deep as the signals did (``--max-depth`` up to 200), and
    both running them and writing them as JSON recurse once per level.
    """
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def dumps(traces: list[Trace]) -> str:
    """The JSON text of one trace, or of several under ``"runs"``."""
    with recursion_room(_JSON_RECURSION):
        return "".join(_chunks(traces))


_JSON_RECURSION = 5000


def save(traces: list[Trace], path: Path, *, force: bool = False) -> None:
    """Write the traces to ``path``, replacing it only once the whole file is written.

    The JSON is streamed node by node, so that a run of 200,000 dispatches
    is never held as one document or one string. The file is written by
    :mod:`sigcli.safefile`: an interrupted save leaves the previous file as
    it was, and a file there that is not a trace is replaced only with
    ``force`` (:class:`~sigcli.safefile.UnsafeTarget` otherwise).
    """
    with recursion_room(_JSON_RECURSION), safefile.writing(path, "trace", force=force) as file:
        file.writelines(_chunks(traces))
        file.write("\n")


#: What ``json`` leaves as is with ``ensure_ascii=False`` that a terminal may
#: act on or that hides text: C1 controls, bidirectional and zero-width ones.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def json_text(text: str) -> str:
    """JSON ``text`` with those characters written as ``\\uXXXX``: the same JSON,
    safe to print. They can only occur inside strings, where the escape is valid."""
    if text.isascii():
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _make_encode() -> Callable[[Any], str]:
    """The encoder's C part, made once: ``JSONEncoder.encode`` makes it
    anew at every call, which is most of the time of writing a big trace
    one node at a time. Without the C accelerator, ``encode`` itself."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _encoder.encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    # (markers, default, encode a string, indent, key separator, item
    # separator, sort keys, skip keys, allow nan): JSONEncoder's defaults.
    encoder = make(
        None, refuse, json.encoder.encode_basestring, None, ": ", ", ", False, False, False
    )

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return _encoder.encode(value)
        return "".join(encoder(value, 0))

    return encode


_fast_encode = _make_encode()


def _encode(value: Any) -> str:
    """``value`` as strict JSON. JSON has no NaN or infinities: a float that
    is one (a keyword argument, a result) is written as text, ``"nan"``."""
    try:
        return json_text(_fast_encode(value))
    except ValueError:
        return json_text(_fast_encode(_finite(value)))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


#: What a trace file written elsewhere may hold that JSON does not: read as
#: the text sigcli writes for them.
_CONSTANTS = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}


def _chunks(traces: list[Trace]) -> Iterator[str]:
    """The JSON text in pieces: one line per node, so a file reads and greps well."""
    if len(traces) == 1:
        yield f'{{"sigcli_trace": {FORMAT_VERSION}, '
        yield from _trace_chunks(traces[0])
        yield "}"
        return
    yield f'{{"sigcli_trace": {FORMAT_VERSION}, "runs": ['
    for index, trace in enumerate(traces):
        yield "\n{" if index == 0 else ",\n{"
        yield from _trace_chunks(trace)
        yield "}"
    yield "]}"


def _open(fields: dict[str, Any], key: str) -> str:
    """``fields`` as an unfinished object whose last member ``key`` is a list."""
    return f'{_encode(fields)[:-1]}, "{key}": ['


def _trace_chunks(trace: Trace) -> Iterator[str]:
    head = {
        "scenario": trace.scenario,
        "error": trace.error,
        "interrupted": trace.interrupted,
        "not_run": trace.not_run,
    }
    yield _open(head, "setup")[1:]
    yield from _list_chunks(trace.setup)
    yield '], "steps": ['
    for index, step in enumerate(trace.steps):
        fields = {
            "label": step.label,
            "function": step.function,
            "error": step.error,
            "error_at": step.error_at,
        }
        yield ("\n" if index == 0 else ",\n") + _open(fields, "children")
        yield from _list_chunks(step.children)
        yield "]}"
    yield "]"


def _list_chunks(nodes: list[Node]) -> Iterator[str]:
    for index, node in enumerate(nodes):
        yield "\n" if index == 0 else ",\n"
        yield from _node_chunks(node)


def _node_chunks(node: Node) -> Iterator[str]:
    """One node; only nodes with children are split, the rest is one encode."""
    if isinstance(node, Dispatch) and any(call.children for call in node.receivers):
        fields = node_json(node, children=False)
        receivers = fields.pop("receivers")
        yield _open(fields, "receivers")
        for index, (call, call_fields) in enumerate(zip(node.receivers, receivers, strict=True)):
            del call_fields["children"]
            yield ("\n" if index == 0 else ",\n") + _open(call_fields, "children")
            yield from _list_chunks(call.children)
            yield "]}"
        yield "]}"
    elif isinstance(node, Operation) and node.children:
        fields = node_json(Operation(node.label, node.model, [], node.error))
        del fields["children"]
        yield _open(fields, "children")
        yield from _list_chunks(node.children)
        yield "]}"
    else:
        yield _encode(node_json(node))


def load(path: Path) -> list[Trace]:
    """Read a trace file written by :func:`save`; never runs code from it."""
    try:
        with recursion_room(_JSON_RECURSION):
            text = path.read_text(encoding="utf-8-sig")
            document = json.loads(text, parse_constant=_CONSTANTS.__getitem__)
    except RecursionError:
        raise TraceFormatError(f"{path} is not a sigcli trace (nested too deeply)") from None
    except UnicodeDecodeError as exc:
        raise TraceFormatError(f"{path} is not a sigcli trace (not text: {exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise TraceFormatError(
            f"{path} is not a sigcli trace (invalid JSON at line {exc.lineno}: {exc.msg})"
        ) from None
    except ValueError:  # an integer literal longer than Python converts
        raise TraceFormatError(
            f"{path} is not a sigcli trace (a number with too many digits)"
        ) from None
    if not isinstance(document, dict) or "sigcli_trace" not in document:
        raise TraceFormatError(f'{path} is not a sigcli trace (no "sigcli_trace" version key)')
    version = document["sigcli_trace"]
    if type(version) is not int or version != FORMAT_VERSION:  # true == 1 in Python
        raise TraceFormatError(
            f"{path} is a sigcli trace of format version {version!r}; this sigcli reads "
            f"version {FORMAT_VERSION}. Record it again with `sigcli run`."
        )
    try:
        runs = document["runs"] if "runs" in document else [document]
        with recursion_room(_JSON_RECURSION):
            traces = [_trace_from(_obj(run)) for run in _list(runs)]
        for loaded in traces:
            _check_nesting(loaded)
        return traces
    except RecursionError:
        raise TraceFormatError(f"{path} is a damaged sigcli trace (nested too deeply)") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceFormatError(f"{path} is a damaged sigcli trace ({exc})") from None


#: A run nests at most ``--max-depth`` (200) dispatches, each under an
#: operation; values are cut at 8 levels when recorded. Anything deeper in a
#: file was not written by sigcli, and would only exhaust the stack of
#: whatever walks it next (filters, the tree, JSON output).
_MAX_NODE_NESTING = 2 * 200 + 10
_MAX_VALUE_NESTING = 20


def _check_nesting(trace: Trace) -> None:
    """Reject a loaded trace nested deeper than any run records; iterative."""
    pending: list[tuple[list[Node], int]] = [(trace.setup, 1)]
    pending += [(step.children, 1) for step in trace.steps]
    while pending:
        nodes, level = pending.pop()
        if nodes and level > _MAX_NODE_NESTING:
            raise ValueError(f"nodes nested more than {_MAX_NODE_NESTING} levels deep")
        for node in nodes:
            if isinstance(node, Dispatch):
                _check_value(node.kwargs, "kwargs")
                for call in node.receivers:
                    _check_value(call.result, "a result")
                    pending.append((call.children, level + 1))
            elif isinstance(node, Operation):
                pending.append((node.children, level + 1))
            elif isinstance(node, SqlStatement):
                _check_value(node.params, "SQL params")


def _check_value(value: Any, what: str) -> None:
    pending = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if level > _MAX_VALUE_NESTING:
            raise ValueError(f"{what} nested more than {_MAX_VALUE_NESTING} levels deep")
        if isinstance(item, dict):
            pending.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, level + 1) for v in item)


def node_json(node: Node, children: bool = True) -> dict[str, Any]:
    """One node as JSON; without ``children``, receivers' nested nodes are left out."""
    if isinstance(node, Dispatch):
        return {
            "type": "dispatch",
            "seq": node.seq,
            "signal": node.signal,
            "sender": node.sender,
            "depth": node.depth,
            "robust": node.robust,
            "kwargs": node.kwargs,
            "error": node.error,
            "receivers": [
                {
                    "name": c.name,
                    "module": c.module,
                    "file": c.file,
                    "line": c.line,
                    "sender_filter": c.sender_filter,
                    "weak": c.weak,
                    "dispatch_uid": c.dispatch_uid,
                    "called": c.called,
                    "skipped_reason": c.skipped_reason.value if c.skipped_reason else None,
                    "result": c.result,
                    "error": c.error,
                    "error_propagated": c.error_propagated,
                    "children": [node_json(n) for n in c.children] if children else [],
                }
                for c in node.receivers
            ],
        }
    if isinstance(node, Operation):
        return {
            "type": "operation",
            "label": node.label,
            "model": node.model,
            "error": node.error,
            "children": [node_json(n) for n in node.children],
        }
    if isinstance(node, Output):
        return {"type": "output", "text": node.text}
    return {"type": "sql", "sql": node.sql, "params": node.params}


def _trace_from(data: dict[str, Any]) -> Trace:
    return Trace(
        scenario=_opt(data.get("scenario"), str),
        error=_opt(data.get("error"), str),
        interrupted=bool(data.get("interrupted", False)),
        not_run=[str(label) for label in _list(data.get("not_run", []))],
        setup=[_node_from(_obj(n)) for n in _list(data.get("setup", []))],
        steps=[
            Step(
                label=_req(s, "label", str),
                function=_req(s, "function", str),
                error=_opt(s.get("error"), str),
                error_at=_opt(s.get("error_at"), str),
                children=[_node_from(_obj(n)) for n in _list(s.get("children", []))],
            )
            for s in map(_obj, _list(data["steps"]))
        ],
    )


def _node_from(data: dict[str, Any]) -> Node:
    kind = data.get("type")
    if kind == "dispatch":
        return Dispatch(
            seq=_req(data, "seq", int),
            signal=_req(data, "signal", str),
            sender=_opt(data.get("sender"), str),
            depth=_req(data, "depth", int),
            kwargs=_obj(data.get("kwargs", {})),
            robust=bool(data.get("robust", False)),
            error=_opt(data.get("error"), str),
            receivers=[_receiver_from(_obj(r)) for r in _list(data.get("receivers", []))],
        )
    if kind == "operation":
        return Operation(
            label=_req(data, "label", str),
            model=_opt(data.get("model"), str),
            error=_opt(data.get("error"), str),
            children=[_node_from(_obj(n)) for n in _list(data.get("children", []))],
        )
    if kind == "sql":
        return SqlStatement(sql=_req(data, "sql", str), params=_list(data.get("params", [])))
    if kind == "output":
        return Output(text=_req(data, "text", str))
    raise ValueError(f"unknown node type {kind!r}")


def _receiver_from(data: dict[str, Any]) -> ReceiverCall:
    reason = data.get("skipped_reason")
    return ReceiverCall(
        name=_req(data, "name", str),
        module=_opt(data.get("module"), str),
        file=_opt(data.get("file"), str),
        line=_opt(data.get("line"), int),
        sender_filter=_opt(data.get("sender_filter"), str),
        weak=bool(data.get("weak", True)),
        dispatch_uid=_opt(data.get("dispatch_uid"), str),
        called=bool(data.get("called", False)),
        skipped_reason=None if reason is None else SkipReason(reason),
        result=data.get("result"),
        error=_opt(data.get("error"), str),
        error_propagated=bool(data.get("error_propagated", False)),
        children=[_node_from(_obj(n)) for n in _list(data.get("children", []))],
    )


def _obj(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {type(value).__name__}")
    return value


def _req(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{key!r} should be {kind.__name__}, found {type(value).__name__}")
    return value


def _opt(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__} or null, found {type(value).__name__}")
    return value
