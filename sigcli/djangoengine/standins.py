"""Sends the observer lets Django run itself, with a stand-in per receiver.

``send_robust``, ``asend`` and ``asend_robust``, a ``send`` with async
receivers, and any send whose receivers another tool's ``_live_receivers``
changes, go through Django's own method. While it runs, the send is in a
context variable, so that the observer's ``_live_receivers`` acts for it
alone (``has_listeners()``, the deletion collector and the m2m descriptors
call it too, without dispatching): it writes the send's plan, and hands
Django a stand-in per live receiver that writes the receiver's start and
end. Whatever Django (or another tool's patch) returns decides who is
called: the stand-ins follow it. ``send`` returns the user's own
receivers, never the stand-ins; a stand-in passes every other attribute
through (a receiver without ``__qualname__`` still has none, as Django's
robust logging expects).

How deep a send is nested is the depth of the send in this context (a
task or a worker thread inherits it), plus the sends the observer runs
itself (:data:`levels`) on this thread since: those nest strictly, so a
per-thread count serves them at no allocation.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from threading import get_ident
from typing import Any

from sigcli import observation
from sigcli.djangoengine.entries import make_id
from sigcli.djangoengine.plans import DjangoSignal, Plan, SignalState, describe_receiver
from sigcli.observation import (
    CALL,
    DONE,
    SCALARS,
    SEND,
    Journal,
    ReceiverInfo,
    ReceiverPlan,
    shown_sender,
    snapshot_all,
    write_done,
    write_end,
)

__all__ = ["levels", "run_asend", "run_send", "stand_ins_for", "sending"]

#: Per thread: sends the observer runs itself that are open on it, above the
#: send of :data:`sending` (see the module's docstring).
levels: dict[int, int] = {}


class RunningSend:
    """A send Django runs, observed: what ``_live_receivers`` needs to know
    that it is looked up for this send, and what the stand-ins write to."""

    __slots__ = (
        "signal",
        "sender",
        "named",
        "robust",
        "journal",
        "state",
        "depth",
        "claimed",
        "written",
        "token",
    )

    def __init__(
        self,
        signal: Any,
        sender: object,
        named: dict[str, Any],
        robust: bool,
        journal: Journal,
        state: SignalState,
        depth: int,
    ) -> None:
        self.signal = signal
        self.sender = sender
        self.named = named
        self.robust = robust
        self.journal = journal
        self.state = state
        self.depth = depth
        self.claimed = False
        self.written = False

    @property
    def label(self) -> DjangoSignal:
        return self.state.label

    def write_send(self, plan: list[ReceiverPlan]) -> None:
        journal = self.journal
        shown = shown_sender(journal, self.sender)
        kwargs = snapshot_all(journal, self.named)
        journal.write((SEND, get_ident(), self.label, shown, kwargs, plan, self.robust))
        self.written = True

    def __enter__(self) -> None:
        """Django's own send runs in the block, with this send in the context
        (where the observer's ``_live_receivers`` finds it); its end is
        written after the block."""
        self.token = sending.set(self)

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        try:
            if error is not None:
                self.finish(error)
        finally:
            sending.reset(self.token)
        if error is None:
            self.finish(None)

    def finish(self, error: BaseException | None) -> None:
        if not self.written:
            self.write_send(self.early_plan())
        write_end(self.journal, self.label, error)  # type: ignore[arg-type]

    def early_plan(self) -> list[ReceiverPlan]:
        """The plan of a send that Django ended before looking receivers up."""
        if not self.signal.receivers:
            return []
        return self.state.plan_for(self.signal, self.sender).plan


sending: ContextVar[RunningSend | None] = ContextVar("sigcli_django_send", default=None)


def depth_here(thread: int) -> int:
    """How deep a send starting now on ``thread`` is nested (1 at the top)."""
    outer = sending.get()
    return (0 if outer is None else outer.depth) + levels.get(thread, 0) + 1


def _start(
    signal: Any,
    sender: object,
    named: dict[str, Any],
    robust: bool,
    journal: Journal,
    state: SignalState,
) -> RunningSend:
    depth = depth_here(get_ident())
    if journal.max_depth is not None and depth > journal.max_depth:
        journal.too_deep(depth)
    return RunningSend(signal, sender, named, robust, journal, state, depth)


def run_send(
    original: Callable[..., Any],
    signal: Any,
    sender: object,
    named: dict[str, Any],
    robust: bool,
    journal: Journal,
    state: SignalState,
) -> Any:
    """Django's ``send`` or ``send_robust``, observed through stand-ins."""
    thread = get_ident()
    level = levels.get(thread, 0)
    with _start(signal, sender, named, robust, journal, state):
        levels[thread] = 0  # counted from this send, which is in the context now
        try:
            responses = original(signal, sender, **named)
        finally:
            levels[thread] = level
    return own(responses)


async def run_asend(
    original: Callable[..., Any],
    signal: Any,
    sender: object,
    named: dict[str, Any],
    robust: bool,
    journal: Journal,
    state: SignalState,
) -> Any:
    """Django's ``asend`` or ``asend_robust``, observed through stand-ins."""
    with _start(signal, sender, named, robust, journal, state):
        responses = await original(signal, sender, **named)
    return own(responses)


def stand_ins_for(running: RunningSend, made: Plan, live: Any) -> Any:
    """What the observer's ``_live_receivers`` returns for ``running``:
    Django's ``live`` (a list on 4.2, ``(sync, async)`` on 5.0+) with a
    stand-in per receiver, after writing the send's plan ``made``."""
    shown: Any
    if isinstance(live, tuple):
        sync, asynchronous = live
        shown = (
            _stand_ins(sync, made.sync, running, Receiver),
            _stand_ins(asynchronous, made.asynchronous, running, AsyncReceiver),
        )
    else:
        shown = _stand_ins(live, made.sync, running, Receiver)
    running.write_send(made.plan)
    return shown


class Receiver:
    """Stands in for a receiver during one send: writes its start and end, and
    otherwise looks like it (every attribute is the receiver's)."""

    __slots__ = ("receiver", "info", "send")

    def __init__(self, receiver: Any, info: ReceiverInfo, send: RunningSend) -> None:
        self.receiver = receiver
        self.info = info
        self.send = send

    def __call__(self, **named: Any) -> Any:
        send = self.send
        journal = send.journal
        thread = get_ident()
        journal.write((CALL, thread, send.label, self.info))
        try:
            result = self.receiver(**named)
        except BaseException as error:
            write_done(journal, thread, send.label, self.info, None, error)  # type: ignore[arg-type]
            raise
        kept = result if type(result) in SCALARS else journal.snapshot(result)
        journal.write((DONE, thread, send.label, self.info, kept, None))
        return result

    def __getattr__(self, name: str) -> Any:
        if name in Receiver.__slots__:
            raise AttributeError(name)
        return getattr(self.receiver, name)

    def __repr__(self) -> str:
        return repr(self.receiver)


class AsyncReceiver(Receiver):
    """The stand-in of an async receiver: calling it gives a coroutine."""

    __slots__ = ()

    def __call__(self, **named: Any) -> Any:
        return self._run(named)

    async def _run(self, named: dict[str, Any]) -> Any:
        send = self.send
        journal = send.journal
        journal.write((CALL, get_ident(), send.label, self.info))
        try:
            result = await self.receiver(**named)
        except BaseException as error:
            write_done(journal, get_ident(), send.label, self.info, None, error)  # type: ignore[arg-type]
            raise
        write_done(journal, get_ident(), send.label, self.info, result, None)  # type: ignore[arg-type]
        return result


def _stand_ins(
    receivers: list[Any], expected: list[tuple[Any, ReceiverInfo]], send: RunningSend, kind: type
) -> list[Any]:
    """``receivers`` (as Django is about to call them) replaced by stand-ins
    carrying the plan's descriptions. Django's list is expected to be the
    plan's callable receivers in order; one that is not (another tool's
    patch may wrap or drop receivers) is found by identity, then through
    ``__wrapped__``; one the plan shows muted is left out."""
    out = []
    for index, receiver in enumerate(receivers):
        ident = make_id(receiver)
        if index < len(expected) and expected[index][0] == ident:
            info = expected[index][1]
        else:
            found = _match(receiver, expected)
            if found is None:
                if _muted(send, receiver):
                    continue
                found = describe_receiver(receiver, None, True, None, False)
            info = found
        out.append(kind(receiver, info, send))
    return out


def _muted(send: RunningSend, receiver: Any) -> bool:
    """Whether ``sigcli.mute`` silences ``receiver`` for this send: the plan
    shows it so, and (wherever the mute's own filter sits) it gets no
    stand-in, so it is not called."""
    muted = observation.muted
    return muted is not None and muted(send.signal, send.sender, receiver)


def _match(receiver: Any, expected: list[tuple[Any, ReceiverInfo]]) -> ReceiverInfo | None:
    target = receiver
    for _hop in range(10):
        ident = make_id(target)
        for known, info in expected:
            if known == ident:
                return info
        target = getattr(target, "__wrapped__", None)
        if target is None:
            return None
    return None


def own(responses: Any) -> list[tuple[Any, Any]]:
    """Send's return value with each stand-in replaced by its receiver."""
    return [(r.receiver if isinstance(r, Receiver) else r, response) for r, response in responses]
