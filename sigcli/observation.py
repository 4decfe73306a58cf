"""Watching sends: the events an observed send writes, and who reads them.

An observer is installed with :func:`observe`. It is either a
:class:`Journal`, an event sink the dispatcher writes each event to (cheap
enough to trace huge runs), or a :class:`SendObserver`, called back as each
event happens through a journal that turns events into calls.

This module also counts how deeply observed sends nest, per thread and per
asyncio context, so that a journal can refuse runaway recursion, and
describes receivers (:class:`ReceiverInfo`) the way observers see them.

Like the dispatcher, it imports nothing of sigcli's.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import Enum
from threading import get_ident
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sigcli.dispatcher import Signal

__all__ = [
    "ConnectionChange",
    "ConnectionOutcome",
    "Decision",
    "EventSink",
    "Journal",
    "ReceiverInfo",
    "ReceiverPlan",
    "SendObserver",
    "current_observer",
    "observe",
]


class Decision(Enum):
    """What one send decided for one connected receiver."""

    CALL = "called"
    SKIP_SENDER = "sender filter is another sender"
    SKIP_DEAD = "weak reference is dead"
    #: Django 6.0+ only: the sender the receiver listens to was collected.
    SKIP_DEAD_SENDER = "sender is dead"
    SKIP_MUTED = "muted by sigcli.mute"


@dataclass(frozen=True, slots=True)
class ReceiverInfo:
    """A description of a receiver taken at connect time, so that it can
    still be named after its weak reference has died."""

    name: str
    module: str | None
    file: str | None
    line: int | None
    sender_label: str | None
    weak: bool
    dispatch_uid: Any
    is_async: bool
    #: A bound method: held weakly, it lives as long as its object.
    bound: bool = False


@dataclass(frozen=True, slots=True)
class ReceiverPlan:
    """One connected receiver as a send saw it, and what it decided for it."""

    info: ReceiverInfo
    decision: Decision


def describe(
    receiver: Any, sender: object, weak: bool, dispatch_uid: Any, is_async: bool
) -> ReceiverInfo:
    """Describe ``receiver`` as connected for ``sender``."""
    code = _code_of(receiver)
    return ReceiverInfo(
        name=receiver_name(receiver),
        module=getattr(_inner(receiver), "__module__", None),
        file=code.co_filename if code is not None else None,
        line=code.co_firstlineno if code is not None else None,
        sender_label=None if sender is None else name_of(sender, "__name__"),
        weak=weak,
        dispatch_uid=dispatch_uid,
        is_async=is_async,
        bound=hasattr(receiver, "__self__") and hasattr(receiver, "__func__"),
    )


class ConnectionOutcome(Enum):
    """What one ``connect`` or ``disconnect`` call did, or a receiver list
    replaced by hand (as factory_boy's ``mute_signals`` does)."""

    CONNECTED = "connected"
    #: Ignored: the same receiver (or dispatch_uid) and sender were connected.
    ALREADY_CONNECTED = "already_connected"
    #: Ignored: another receiver holds this dispatch_uid for this sender.
    DISPATCH_UID_TAKEN = "dispatch_uid_taken"
    #: A lazy string sender (``"app.Model"``) waits for its model to exist.
    WAITING = "waiting"
    DISCONNECTED = "disconnected"
    #: A disconnect that found nothing to remove.
    NOT_FOUND = "not_found"
    #: Taken off the receiver list by hand (``signal.receivers = [...]``).
    MUTED = "muted"
    #: Put back on the receiver list by hand.
    RESTORED = "restored"


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    """A change to a signal's receivers, as an observer sees it: what it did,
    and the line of code outside sigcli that asked for it (``"file:line"``).
    ``signal`` is the signal, or what names it (the Django observer's label)."""

    signal: Any
    info: ReceiverInfo
    outcome: ConnectionOutcome
    called_from: str | None
    #: The receiver already holding the dispatch_uid (``DISPATCH_UID_TAKEN``).
    holder: ReceiverInfo | None = None


def describe_lazy(receiver: Any, sender: str, weak: bool, dispatch_uid: Any) -> ReceiverInfo:
    """Describe ``receiver`` as connected for a lazy string ``sender``
    (``"app.Model"``), written as given."""
    return replace(describe(receiver, None, weak, dispatch_uid, False), sender_label=sender)


def receiver_name(receiver: object) -> str:
    """How every view names ``receiver``: its ``__qualname__``; a
    ``functools.partial`` as ``partial(function)``; anything else by its repr
    less the memory address (``at 0x...``, a Mock's ``id=...``), which differs
    in every run and says nothing to a reader."""
    if isinstance(receiver, functools.partial):
        return f"partial({receiver_name(receiver.func)})"
    return _ADDRESS.sub("", name_of(receiver, "__qualname__"))


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+| id='\d+'")


def _inner(receiver: Any) -> Any:
    """The function a ``functools.partial`` (however nested) wraps."""
    while isinstance(receiver, functools.partial):
        receiver = receiver.func
    return receiver


def _code_of(receiver: Any) -> Any:
    target = getattr(receiver, "__func__", receiver)
    code = getattr(target, "__code__", None)
    if code is None:
        code = getattr(_inner(target), "__code__", None)
    if code is None:
        call = type(receiver).__dict__.get("__call__")
        code = getattr(call, "__code__", None)
    return code


def name_of(target: object, attribute: str) -> str:
    """``target``'s ``__qualname__`` or ``__name__``, else its repr; a repr
    that raises (or an attribute lookup that does) still gives a name."""
    try:
        name = getattr(target, attribute, None)
        if isinstance(name, str) and name:
            return name
        return repr(target)
    except Exception:
        return f"<{type(target).__qualname__} object at {id(target):#x}>"


class SendObserver(Protocol):
    """Sees sends as they happen, through one method call per event. Calls
    nest: a send made inside a receiver reports ``send_started`` before the
    outer ``receiver_finished``. (A :class:`Journal` sees the same events at a
    fraction of the cost.)"""

    def send_started(
        self,
        signal: Signal,
        sender: object,
        named: dict[str, Any],
        plan: list[ReceiverPlan],
        robust: bool,
    ) -> None: ...

    def receiver_started(self, signal: Signal, info: ReceiverInfo) -> None: ...

    def receiver_finished(
        self, signal: Signal, info: ReceiverInfo, result: Any, error: BaseException | None
    ) -> None: ...

    def send_finished(self, signal: Signal, error: BaseException | None) -> None: ...


class EventSink(Protocol):
    """Takes the events of observed sends, one ``write`` per event."""

    def write(self, event: tuple[Any, ...], /) -> None: ...


# The kinds of event a journal receives. An event is a tuple of a few fields,
# the first its kind and the second the id of the thread it happened on,
# given to the journal's ``write`` in one call. Each kind has a fixed number
# of fields, ``EVENT_FIELDS``:
#   (SEND, thread, signal, sender, kwargs, plan, robust)
#   (CALL, thread, signal, info)                 a receiver is about to run
#   (DONE, thread, signal, info, result, failure)
#   (END, thread, signal, failure)               the send is over
# ``failure`` is None, or what :meth:`Journal.note_failure` made of the exception.
#
# A journal whose ``inline`` is true also receives, from the common case of a
# send (sync receivers only, all alive, non-robust), shorter events:
#   (SEND_INLINE, thread, signal, sender, kwargs, plan, robust)
#       the receivers called are the plan's CALL entries, in order, each
#       started without a CALL event: what happens in one (nested sends...)
#       comes after the DONE of the one before, or after this event;
#   (LAST, thread, signal, info, result)      DONE of the last one, then END;
#   (FAILED, thread, signal, failure)         the running one raised; END.
SEND, CALL, DONE, END = "send", "call", "done", "end"
SEND_INLINE, LAST, FAILED = "send inline", "last", "failed"
EVENT_FIELDS = {SEND: 7, CALL: 4, DONE: 6, END: 4, SEND_INLINE: 7, LAST: 5, FAILED: 4}

#: Values that cannot change after the send, so a journal keeps them as they are.
SCALARS = frozenset({type(None), bool, int, float, str})


class Journal:
    """An observer the dispatcher writes to instead of calling back: an
    event sink. By default each event's fields go flat into :attr:`events`
    (one list for the whole run, no object per event for the garbage
    collector to walk), so being observed costs a send little more than
    that. Reading the events (the recorder builds its tree from them)
    happens later, at the reader's pace. A subclass that acts on each event
    as it comes defines its own :meth:`write`.

    Values that may change after the send (model instances in ``kwargs``, a
    receiver's result, a sender that is not a class) pass through
    :meth:`snapshot` and :meth:`label_sender` at once; scalars are kept as
    they are. The base class keeps everything as it is.
    """

    #: Whether the reader takes the shorter events of the common case
    #: (SEND_INLINE, LAST, FAILED). A reader that acts as receivers start
    #: needs CALL events, so the default is no. An inline journal must
    #: have a ``max_depth``.
    inline: bool = False

    #: Takes one event (see the event kinds above).
    write: Callable[[tuple[Any, ...]], None]

    def __init__(self, max_depth: int | None = None) -> None:
        #: The events' fields one after another, unless a subclass writes
        #: them elsewhere.
        self.events: list[Any] = []
        if not hasattr(type(self), "write"):
            # The list's own ``extend``: writing an event is one C call.
            self.write = self.events.extend
        #: Sends nested deeper than this (counted per thread and per asyncio
        #: task) call :meth:`too_deep` before they start; None for no limit.
        self.max_depth = max_depth

    def snapshot(self, value: Any) -> Any:
        """What to keep of a keyword argument's value or a receiver's result."""
        return value

    def label_sender(self, sender: object) -> Any:
        """What to keep of a sender that is neither a class nor None."""
        return sender

    def note_failure(self, error: BaseException) -> Any:
        """What to keep of an exception a receiver raised or a send ended
        with. A recorder notes which exception it saw last, so this is
        called once per event, as the event is written."""
        return error

    def too_deep(self, depth: int) -> None:
        """Called instead of starting a send ``depth`` levels deep; raises."""
        raise RecursionError(f"signals nested deeper than {self.max_depth} levels")

    def connection_changed(self, change: ConnectionChange) -> None:
        """Called after each connect and disconnect while installed (and when
        a receiver list is replaced by hand); the base class keeps nothing."""


class _CallingBack(Journal):
    """The journal of a :class:`SendObserver`: each event becomes a call."""

    def __init__(self, observer: SendObserver) -> None:
        super().__init__()
        self.observer = observer

    def write(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == SEND:
            self.observer.send_started(*event[2:])
        elif kind == CALL:
            self.observer.receiver_started(event[2], event[3])
        elif kind == DONE:
            self.observer.receiver_finished(*event[2:])
        else:
            self.observer.send_finished(event[2], event[3])

    def connection_changed(self, change: ConnectionChange) -> None:
        """Passed on to an observer that has a ``connection_changed`` method."""
        method = getattr(self.observer, "connection_changed", None)
        if method is not None:
            method(change)


#: The observer given to :func:`observe`, and the journal sends write to
#: (the dispatcher reads ``journal`` at every send).
_observer: SendObserver | Journal | None = None
journal: Journal | None = None


@contextmanager
def observe(
    observer: SendObserver | Journal | None,
) -> Iterator[SendObserver | Journal | None]:
    """Install ``observer`` (a :class:`Journal`, or a :class:`SendObserver`
    called back as events happen) for every signal until the block ends,
    then put back whatever was installed before."""
    global _observer, journal
    if isinstance(observer, Journal) and observer.inline and observer.max_depth is None:
        raise ValueError("an inline journal needs a max_depth (its fast path checks it)")
    previous = _observer, journal
    _observer = observer
    if observer is None or isinstance(observer, Journal):
        journal = observer
    else:
        journal = _CallingBack(observer)
    try:
        yield observer
    finally:
        _observer, journal = previous


def current_observer() -> SendObserver | Journal | None:
    """What :func:`observe` installed, or None."""
    return _observer


#: What ``sigcli.mute`` silences while a mute is active, else None: called as
#: ``muted(signal, sender, receiver)`` with the receiver itself. Both
#: dispatchers ask it, so that a muted receiver is skipped, and shown as
#: muted, the same way on each. ``mute_changes`` counts the changes of the
#: rule: a plan kept from before a change is made again.
muted: Callable[[Any, object, Any], bool] | None = None
mute_changes = 0


def set_muted(rule: Callable[[Any, object, Any], bool] | None) -> None:
    """Install ``rule`` as :data:`muted` (None when nothing is muted)."""
    global muted, mute_changes
    muted = rule
    mute_changes += 1


#: Frames in this folder are sigcli's own (a bundled scenario aside): the
#: line that asked for a connect is the first frame outside it.
_OWN_FOLDER = os.path.dirname(__file__)
_BUNDLED = os.path.join(_OWN_FOLDER, "scenarios")


def is_own_file(file: str) -> bool:
    """Whether code in ``file`` is sigcli's own (a bundled scenario aside),
    a generated call loop included, not the code of someone using it."""
    if file.startswith(_OWN_FOLDER):
        return not file.startswith(_BUNDLED)
    return file.startswith(_LOOP_FILES)


#: The file names the generated call loops are compiled under (see
#: :mod:`sigcli.callloops`).
_LOOP_FILES = "<sigcli "


def called_from(*also_inside: str) -> str | None:
    """``"file:line"`` of the innermost frame outside sigcli (a bundled
    scenario aside) and outside the folders ``also_inside``."""
    inside = (_OWN_FOLDER, *also_inside)
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        file = frame.f_code.co_filename
        if not file.startswith(inside) or file.startswith(_BUNDLED):
            return f"{file}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def report_change(
    signal: Signal,
    info: ReceiverInfo,
    outcome: ConnectionOutcome,
    holder: ReceiverInfo | None = None,
) -> None:
    """Tell the installed observer about a change to ``signal``'s receivers.
    Costs one global lookup when nobody observes."""
    current = journal
    if current is not None:
        current.connection_changed(ConnectionChange(signal, info, outcome, called_from(), holder))


def report_replaced(
    signal: Signal, infos: dict[int, ReceiverInfo], before: list[Any], after: list[Any]
) -> None:
    """Report receivers taken off or put back by assigning ``receivers``."""
    kept = {id(entry) for entry in after}
    had = {id(entry) for entry in before}
    for entry in before:
        info = infos.get(id(entry))
        if id(entry) not in kept and info is not None:
            report_change(signal, info, ConnectionOutcome.MUTED)
    for entry in after:
        info = infos.get(id(entry))
        if id(entry) not in had and info is not None:
            report_change(signal, info, ConnectionOutcome.RESTORED)


def report_disconnect(
    signal: Signal, removed: ReceiverInfo | None, receiver: Any, sender: object, dispatch_uid: Any
) -> None:
    """Report a disconnect: the receiver it removed, or that it found none."""
    if removed is not None:
        report_change(signal, removed, ConnectionOutcome.DISCONNECTED)
    elif receiver is not None:
        info = describe(receiver, sender, True, dispatch_uid, False)
        report_change(signal, info, ConnectionOutcome.NOT_FOUND)


# How deep an observed send is nested: the sync sends open in its thread
# (a plain per-thread count: sync sends nest strictly, and counting them
# costs no allocation) plus what the context it runs in started from. An
# ``asend``, or the gathering of a send's async receivers, sets that for its
# tasks and worker threads to its own depth, less the sync sends open in the
# thread they run on, so that nothing is counted twice.
sync_depths: dict[int, int] = {}
async_depth: ContextVar[int] = ContextVar("sigcli_async_depth", default=0)


@contextmanager
def counting_from(depth: int) -> Iterator[None]:
    """Make the current context (an ``asend``, a task, a worker thread) count
    from ``depth`` for the block."""
    token = async_depth.set(depth - sync_depths.get(get_ident(), 0))
    try:
        yield
    finally:
        async_depth.reset(token)


# What an observed send writes, outside the written-out fast paths.


def snapshot_all(journal: Journal, named: dict[str, Any]) -> dict[str, Any]:
    """``named`` with every value that may change replaced by the journal's snapshot."""
    return {k: v if type(v) in SCALARS else journal.snapshot(v) for k, v in named.items()}


def shown_sender(journal: Journal, sender: object) -> Any:
    """The sender as the trace keeps it: a class or None as it is, an
    instance through the journal (it may change after the send)."""
    if sender is None or isinstance(sender, type):
        return sender
    return journal.label_sender(sender)


def write_send(
    journal: Journal,
    signal: Signal,
    sender: object,
    named: dict[str, Any],
    plan: list[ReceiverPlan] | None,
    robust: bool,
) -> int:
    """Write the start of a send, after checking its depth; returns the depth."""
    thread = get_ident()
    depth = async_depth.get() + sync_depths.get(thread, 0) + 1
    if journal.max_depth is not None and depth > journal.max_depth:
        journal.too_deep(depth)
    shown = shown_sender(journal, sender)
    journal.write((SEND, thread, signal, shown, snapshot_all(journal, named), plan, robust))
    return depth


def write_end(journal: Journal, signal: Signal, error: BaseException | None) -> None:
    """Write the end of a send, and the exception it ends with."""
    failure = None if error is None else journal.note_failure(error)
    journal.write((END, get_ident(), signal, failure))


def write_done(
    journal: Journal,
    thread: int,
    signal: Signal,
    info: ReceiverInfo | None,
    result: Any,
    error: BaseException | None,
) -> None:
    """Write that a receiver returned ``result`` or raised ``error``."""
    if error is not None:
        journal.write((DONE, thread, signal, info, None, journal.note_failure(error)))
    else:
        kept = result if type(result) in SCALARS else journal.snapshot(result)
        journal.write((DONE, thread, signal, info, kept, None))


def write_failed_inline(
    journal: Journal, thread: int, signal: Signal, error: BaseException
) -> None:
    """Write that the running receiver of an inline send raised, ending it."""
    journal.write((FAILED, thread, signal, journal.note_failure(error)))


def receiver_raised(
    journal: Journal,
    thread: int,
    signal: Signal,
    r: Any,
    info: ReceiverInfo | None,
    error: BaseException,
    robust: bool,
) -> Any:
    """Write a receiver's exception; in a robust send an ``Exception``
    becomes the response, anything else propagates."""
    write_done(journal, thread, signal, info, None, error)
    if robust and isinstance(error, Exception):
        log_robust_failure(r, error)
        return error
    raise error


def log_robust_failure(receiver: Any, error: Exception) -> None:
    """Log as Django's ``send_robust`` does. Django reads ``__qualname__`` and
    crashes for receivers without one (a callable instance, a partial);
    sigcli falls back to ``repr()`` instead."""
    import logging

    name = name_of(receiver, "__qualname__")
    logging.getLogger("sigcli.dispatch").error(
        "Error calling %s in Signal.send_robust() (%s)", name, error, exc_info=error
    )


def report_nothing_sent(
    signal: Signal, journal: Journal, sender: object, named: dict[str, Any], robust: bool
) -> None:
    """Write a send that Django ends before looking at its receivers: every
    connected one is in the plan, none is called."""
    plan = signal._prepare(sender, lookup=False)[0] if signal.receivers else []
    write_send(journal, signal, sender, named, plan, robust)
    write_end(journal, signal, None)


def send_observed(
    signal: Signal, journal: Journal, sender: object, named: dict[str, Any], robust: bool
) -> list[tuple[Any, Any]]:
    """An observed ``send`` or ``send_robust`` of ``signal``, from the plan
    the signal keeps per sender (``Signal._prepare``). The common case (sync
    receivers only, all alive as planned) is written out here, since it is
    what a traced run spends its sends on; anything else takes the signal's
    reference send, observed."""
    if signal._nothing_to_send(sender):
        report_nothing_sent(signal, journal, sender, named, robust)
        return []
    prepared = signal._plans.get(id(sender))
    if prepared is None or signal._dead_receivers:
        prepared = signal._prepare(sender)
    plan, sync_refs, async_refs = prepared
    calls = []
    for ref, info in sync_refs:
        r = ref()
        if r is None:  # died since the plan was made
            return signal._send_generic(journal, sender, named, robust)
        calls.append((r, info))
    if async_refs:
        return signal._send_generic(journal, sender, named, robust)

    thread = get_ident()
    level = sync_depths.get(thread, 0)
    depth = async_depth.get() + level + 1
    if journal.max_depth is not None and depth > journal.max_depth:
        journal.too_deep(depth)
    kwargs = named
    for value in named.values():
        if type(value) not in SCALARS:
            kwargs = snapshot_all(journal, named)
            break
    shown = sender
    if sender is not None and not isinstance(sender, type):
        shown = journal.label_sender(sender)
    record = journal.write
    record((SEND, thread, signal, shown, kwargs, plan, robust))
    sync_depths[thread] = level + 1
    responses = []
    try:
        for r, info in calls:
            record((CALL, thread, signal, info))
            try:
                result = r(signal=signal, sender=sender, **named)
            except BaseException as error:
                record((DONE, thread, signal, info, None, journal.note_failure(error)))
                if not robust or not isinstance(error, Exception):
                    raise
                log_robust_failure(r, error)
                result = error
            else:
                kept = result if type(result) in SCALARS else journal.snapshot(result)
                record((DONE, thread, signal, info, kept, None))
            responses.append((r, result))
    except BaseException as error:
        record((END, thread, signal, journal.note_failure(error)))
        raise
    finally:
        sync_depths[thread] = level
    record((END, thread, signal, None))
    return responses
