"""Recording a run: events while it happens, a tree of records afterwards.

:class:`Recorder` is an inline journal (see :mod:`sigcli.observation`) and
the model layer's ORM observer. While the run happens it only keeps events;
it builds the :class:`~sigcli.trace.Trace` tree from them afterwards (when
a step starts or finishes, when recording stops, when :attr:`Recorder.trace`
is read, or when a send is refused for depth). :func:`capture` builds as
events arrive, so a test can read its trace inside the block.
"""

from __future__ import annotations

import gc
import io
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import IO, Any

from sigcli import observation
from sigcli.observation import Decision, Journal, ReceiverInfo, ReceiverPlan
from sigcli.snapshot import json_safe, sender_label, signal_label, traceback_of
from sigcli.text import describe_error
from sigcli.trace import (
    Connection,
    DepthLimitExceeded,
    Dispatch,
    Node,
    Operation,
    Output,
    ReceiverCall,
    SkipReason,
    SqlStatement,
    Step,
    Trace,
    Traceback,
)

__all__ = ["PrintedOutput", "Recorder", "capture", "recording", "recursion_room"]

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
        info: ReceiverInfo | None = None,
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
_CONNECTION = "connection"
_EVENT_FIELDS = {
    **observation.EVENT_FIELDS,
    _CONNECTION: 3,
    _OPERATION_STARTED: 4,
    _OPERATION_FINISHED: 3,
    _SQL: 4,
    _PRINTED: 3,
}


class Recorder(Journal):
    """Builds a :class:`Trace` from what the dispatcher and the ORM report.

    While the run happens, the recorder only keeps events: the dispatcher
    appends a tuple per send and per receiver call (see
    :class:`~sigcli.Journal`), the ORM observer methods and
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
        super().__init__(max_depth=max_depth)
        if live:
            self.write = self._apply
        #: A recorder that was observing when this one was installed (a
        #: capture inside a capture): it is written every event too, so that
        #: it misses nothing while this one observes, and it takes the
        #: snapshots, so that both trees hold the same values.
        self.forward: Recorder | None = None
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
        self._labels: dict[Any, str] = {}
        # Threads an earlier scenario left running, and those this one starts.
        self._foreign: list[threading.Thread] = []
        self._own: list[threading.Thread] = []
        self._handlers: dict[str, Callable[[Sequence[Any]], None]] = {
            observation.SEND: self._send_started,
            observation.CALL: self._receiver_started,
            observation.DONE: self._receiver_finished,
            observation.END: self._send_finished,
            observation.SEND_INLINE: self._send_started,
            observation.LAST: self._last_finished,
            observation.FAILED: self._inline_failed,
            _OPERATION_STARTED: self._operation_started,
            _OPERATION_FINISHED: self._operation_finished,
            _SQL: self._sql_executed,
            _PRINTED: self._printed,
            _CONNECTION: self._connection_changed,
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
        with self._lock, collector_paused():
            events = self.events
            count = len(events)
            if not count:
                return
            ignored = self._ignored()
            handlers = self._handlers
            fields = _EVENT_FIELDS
            send_inline, last = observation.SEND_INLINE, observation.LAST
            index = 0
            try:
                while index < count:
                    start = index
                    kind = events[start]
                    end = start + fields[kind]
                    if ignored and events[start + 1] in ignored:
                        index = end
                        continue
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

    def ignore_threads(self, foreign: list[threading.Thread], own: list[threading.Thread]) -> None:
        """Record nothing sent from ``foreign`` threads: those an earlier
        scenario left running, whose sends would otherwise land in this
        scenario's trace. ``own`` is the list of the threads this scenario
        starts, as it grows: one of them may take the ident of a foreign
        thread that ended, and is recorded. (The last sends of that ended
        thread, if not yet put in the tree, are then recorded too.)"""
        with self._lock:
            self._foreign = list(foreign)
            self._own = own

    def _ignored(self) -> set[int]:
        """The idents of the threads whose events are dropped."""
        if not self._foreign:
            return set()
        own = {thread.ident for thread in self._own}
        return {t.ident for t in self._foreign if t.ident is not None and t.ident not in own}

    def stop(self) -> None:
        """Keep nothing from now on (after Ctrl-C): what threads still send
        while sigcli saves what it has is dropped, not recorded. (A send
        already under way finishes writing its events.)"""
        self.write = _drop

    def finish_step(self, error: BaseException | None) -> None:
        with self._lock:
            self.flush()
            step = self._base.node
            if step is not None and error is not None:
                step.error = describe_error(error)
                if error is not self._last_error:  # else a receiver's traceback has it
                    step.traceback = traceback_of(error)
            self._stacks = {}
            self._last_error = None

    # what the dispatcher keeps of values (Journal's hooks)

    def snapshot(self, value: Any) -> Any:
        if self.forward is not None:
            return self.forward.snapshot(value)
        return json_safe(value)

    def label_sender(self, sender: object) -> Any:
        return sender_label(sender)

    def note_failure(self, error: BaseException) -> tuple[str, bool, Traceback | None]:
        """The error's description, whether it came out of the receiver
        that finished last (it passed through from inside), and, if not,
        its traceback: read now, when it holds the frames from where it
        was caught (the call of the receiver) to where it was raised."""
        propagated = error is self._last_error
        self._last_error = error
        return describe_error(error), propagated, None if propagated else traceback_of(error)

    def too_deep(self, depth: int) -> None:
        with self._lock:
            self.flush()
            raise DepthLimitExceeded(depth - 1, self._cycle(self._top(threading.get_ident())))

    def write_raw(self, event: Sequence[Any]) -> None:
        """Keep an event written by a plain :class:`~sigcli.Journal`
        (raw values), as if the dispatcher had written it to this recorder."""
        kind = event[0]
        if kind == observation.SEND:
            _, thread, signal, sender, named, plan, robust = event
            kwargs = {k: v if type(v) in _SCALARS else json_safe(v) for k, v in named.items()}
            if sender is not None and not isinstance(sender, type):
                sender = sender_label(sender)
            event = (kind, thread, signal, sender, kwargs, plan, robust)
        elif kind == observation.DONE:
            _, thread, signal, info, result, error = event
            if error is not None:
                event = (kind, thread, signal, info, None, self.note_failure(error))
            elif type(result) not in _SCALARS:
                event = (kind, thread, signal, info, json_safe(result), None)
        elif kind == observation.END and event[3] is not None:
            event = (*event[:3], self.note_failure(event[3]))
        self.write(tuple(event))

    def _apply(self, event: tuple[Any, ...]) -> None:
        """A live recorder's ``write``: the event goes into the tree at once."""
        if self._foreign and event[1] in self._ignored():
            return
        with self._lock:
            self._handlers[event[0]](event)
        if self.forward is not None:
            self.forward.write(event)

    def connection_changed(self, change: observation.ConnectionChange) -> None:
        self.write((_CONNECTION, threading.get_ident(), change))

    def _connection_changed(self, event: Sequence[Any]) -> None:
        """A connect or disconnect, placed after the dispatches recorded so far."""
        change: observation.ConnectionChange = event[2]
        info = change.info
        self._trace.connections.append(
            Connection(
                signal=signal_label(change.signal),
                name=info.name,
                module=info.module,
                file=info.file,
                line=info.line,
                sender_filter=info.sender_label,
                weak=info.weak,
                dispatch_uid=None if info.dispatch_uid is None else str(info.dispatch_uid),
                outcome=change.outcome,
                called_from=change.called_from,
                holder=None if change.holder is None else change.holder.name,
                step=len(self._trace.steps) or None,
                after=self._seq,
            )
        )

    # ORM observer

    def operation_started(self, label: str, model: str | None) -> None:
        self.write((_OPERATION_STARTED, threading.get_ident(), label, model))

    def operation_finished(self, error: BaseException | None) -> None:
        failure = None if error is None else describe_error(error)
        self.write((_OPERATION_FINISHED, threading.get_ident(), failure))

    def sql_executed(self, sql: str, params: tuple[object, ...]) -> None:
        kept = [json_safe(p) for p in params]
        self.write((_SQL, threading.get_ident(), sql, kept))

    def printed(self, text: str) -> None:
        """Keep ``text`` (written to stdout by the scenario) where it was written."""
        self.write((_PRINTED, threading.get_ident(), text))

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
        frame_kind = _INLINE if event[0] == observation.SEND_INLINE else _DISPATCH
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

    def _learn(self, plan: list[ReceiverPlan]) -> tuple[Any, Any, tuple[int, ...]]:
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
            call.error, call.error_propagated, call.traceback = failure

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
        self._receiver_finished((observation.DONE, thread, signal, info, result, None))
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
            running.node.error, running.node.error_propagated, running.node.traceback = failure
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


def _dispatch_ended(dispatch: Dispatch, failure: tuple[str, bool, Any] | None) -> None:
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


def _close_receiver(stack: list[_Frame], info: ReceiverInfo) -> _Frame | None:
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


_SCALARS = observation.SCALARS
_CALL = Decision.CALL

_SKIPS = {
    Decision.SKIP_SENDER: SkipReason.SENDER_MISMATCH,
    Decision.SKIP_DEAD: SkipReason.DEAD_REFERENCE,
    Decision.SKIP_DEAD_SENDER: SkipReason.DEAD_SENDER,
    Decision.SKIP_MUTED: SkipReason.MUTED,
}


class PrintedOutput(io.TextIOBase):
    """A stand-in for ``sys.stdout`` that hands what a scenario prints to a recorder.

    With ``echo`` (``run --step``, where the user watches the terminal) the
    text is also written there; the trace is the same either way, and so is
    what a receiver or a signal's argument sees as ``sys.stdout``.
    """

    def __init__(self, recorder: Recorder, echo: IO[str] | None = None) -> None:
        self._recorder = recorder
        self._echo = echo

    def __repr__(self) -> str:
        return "<stdout>"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._recorder.printed(text)
        if self._echo is not None:
            self._echo.write(text)
        return len(text)

    def flush(self) -> None:
        if self._echo is not None:
            self._echo.flush()


@contextmanager
def recording(recorder: Any) -> Iterator[Any]:
    """Install ``recorder`` (or an observer wrapping one) as the send observer
    and the ORM observer, for a run: the garbage collector runs less often
    meanwhile (see ``_RECORDING_GC_THRESHOLD``)."""
    with observing(recorder), fewer_collections():
        yield recorder


@contextmanager
def observing(recorder: Any) -> Iterator[Any]:
    """Install ``recorder`` as the send observer and the ORM observer, and
    flush it at the end. A live recorder installed over another recorder
    forwards its events to it (see :attr:`Recorder.forward`)."""
    from sigcli.models.observe import observe_orm

    previous = observation.current_observer()
    if isinstance(recorder, Recorder) and recorder.forward is None:
        if recorder.write == recorder._apply and isinstance(previous, Recorder):
            recorder.forward = previous
    with ExitStack() as stack:
        stack.enter_context(observation.observe(recorder))
        stack.enter_context(observe_orm(recorder))
        stack.callback(recorder.flush)
        yield recorder


#: Python's default is 700. Every dispatch leaves a few small records that
#: live until the run ends, and at the default the cyclic collector walks
#: them again and again: a fifth of a traced send at 200,000 dispatches.
_RECORDING_GC_THRESHOLD = 10_000


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during the block (unless it was off already)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the youngest garbage collection less often for the block."""
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], _RECORDING_GC_THRESHOLD), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def capture(
    max_depth: int = 50, sources: Sequence[Callable[[Recorder], AbstractContextManager[Any]]] = ()
) -> Iterator[Trace]:
    """Record every dispatch and ORM call made inside the block, as a trace
    that can be read while the block runs and after it::

        with sigcli.capture() as trace:
            User.objects.create(username="ann")
        assert [d.signal for d in trace.dispatches()] == [
            "pre_init", "post_init", "pre_save", "post_save",
        ]
        assert len(list(trace.dispatches("post_save", sender=User))) == 1

    (a receiver that saves something adds that save's four, nested). It
    leaves no settings changed, and a capture inside another one leaves the
    outer one complete. ``sources`` are more observers to install, each
    made from the recorder (``sigcli.capture`` adds Django's). Everything
    lands in one step labelled ``capture``.
    """
    trace = Trace(scenario=None)
    with recording_block(Recorder(trace, max_depth=max_depth, live=True), "capture", sources):
        yield trace


@contextmanager
def recording_block(
    recorder: Recorder,
    label: str,
    sources: Sequence[Callable[[Recorder], AbstractContextManager[Any]]] = (),
) -> Iterator[Recorder]:
    """Observe with ``recorder`` (and the observers ``sources`` make from it)
    for the block, recorded as one step ``label`` that ends with the
    block's error, if any."""
    recorder.start_step(label, label)
    error: BaseException | None = None
    with observing(recorder), ExitStack() as stack:
        for source in sources:
            stack.enter_context(source(recorder))
        try:
            yield recorder
        except BaseException as exc:
            error = exc
            raise
        finally:
            recorder.finish_step(error)


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


def _drop(event: tuple[Any, ...]) -> None:
    """A journal's ``write`` once it keeps nothing more."""
