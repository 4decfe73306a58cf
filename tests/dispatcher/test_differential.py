"""Random programs against ``django.dispatch.Signal`` and sigcli's Signal.

Each program is a sequence of connect (weak or strong, for any sender or
one of a few senders, with or without ``dispatch_uid``), disconnect, dropping
a receiver's last reference followed by ``gc.collect()``, replacing a sender
(senders are classes, or distinct objects that compare equal), ``has_listeners``,
``send``, ``send_robust`` and ``asend``/``asend_robust``. It runs in four
worlds: Django, sigcli, sigcli with a send observer installed, and sigcli
under the recorder (whose sends take the inline fast path). Every
receiver exists as twins, one per world, that log their calls (some also
connect or disconnect another receiver while they run); after each step the worlds must agree on the outcome (return value or exception), on
which receivers ran in which order, and on the length of ``receivers``.

``CI=1`` runs 500 programs per signal flavour; locally fewer.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sigcli.dispatcher as sigcli_dispatch
from tests.dispatcher.conftest import IMPLS

settings.register_profile("dispatcher-ci", max_examples=500)
settings.register_profile("dispatcher-dev", max_examples=60)
PROFILE = settings.get_profile("dispatcher-ci" if os.environ.get("CI") else "dispatcher-dev")

CLASS_SENDERS = [type(f"S{i}", (), {}) for i in range(3)]
EQUAL_SENDERS = 2


class EqualSender:
    """Senders that compare and hash equal while being distinct objects;
    they can be replaced by new ones mid-program, so ids get reused."""

    def __init__(self, generation: int) -> None:
        self.__name__ = f"E{generation}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EqualSender)

    def __hash__(self) -> int:
        return 1


SLOTS = 6
KINDS = ("function", "method", "instance", "async")
UIDS = (None, "u0", "u1")


class Listener:
    """Owner of a bound-method receiver."""

    def __init__(self, world: World, slot: int, gen: int, fails: bool) -> None:
        self.world, self.slot, self.gen, self.fails = world, slot, gen, fails

    def receive(self, sender: Any, **kwargs: Any) -> str:
        return self.world.called(self.slot, self.gen, self.fails, sender)


class CallableReceiver(Listener):
    """A callable object receiver. It carries a ``__qualname__`` because
    Django's ``send_robust`` crashes on a failing receiver without one."""

    def __init__(self, world: World, slot: int, gen: int, fails: bool) -> None:
        super().__init__(world, slot, gen, fails)
        self.__qualname__ = "CallableReceiver"

    def __call__(self, sender: Any, **kwargs: Any) -> str:
        return self.world.called(self.slot, self.gen, self.fails, sender)


class NullObserver:
    def send_started(self, *args: Any) -> None:
        pass

    def receiver_started(self, *args: Any) -> None:
        pass

    def receiver_finished(self, *args: Any) -> None:
        pass

    def send_finished(self, *args: Any) -> None:
        pass


@dataclass
class World:
    name: str
    signal: Any
    #: None, or a factory of the observer installed around every action.
    observed: Any = None
    log: list[tuple[Any, ...]] = field(default_factory=list)
    holders: dict[int, Any] = field(default_factory=dict)
    actions: dict[int, tuple[str, int] | None] = field(default_factory=dict)

    def called(self, slot: int, gen: int, fails: bool, sender: Any) -> str:
        self.log.append((slot, gen, getattr(sender, "__name__", repr(sender))))
        action = self.actions.get(slot)
        if action is not None:
            self.act(*action)
        if fails:
            raise ValueError(f"{slot}:{gen}")
        return f"{slot}:{gen}"

    def act(self, verb: str, target: int) -> None:
        """Connect or disconnect another slot's receiver from inside a send."""
        receiver = self.receiver(target)
        if receiver is None:
            self.log.append(("gone", verb, target))
        elif verb == "connect":
            self.log.append((verb, target, self.signal.connect(receiver)))
        else:
            self.log.append((verb, target, self.signal.disconnect(receiver)))

    def make(self, kind: str, slot: int, gen: int, fails: bool) -> tuple[Any, Any]:
        """A new receiver and the object whose life is the receiver's."""
        if kind == "method":
            owner = Listener(self, slot, gen, fails)
            return owner.receive, owner
        if kind == "instance":
            owner = CallableReceiver(self, slot, gen, fails)
            return owner, owner
        world = self
        if kind == "async":

            async def receive(sender: Any, **kwargs: Any) -> str:
                return world.called(slot, gen, fails, sender)

        else:

            def receive(sender: Any, **kwargs: Any) -> str:  # type: ignore[misc]
                return world.called(slot, gen, fails, sender)

        receive.slot, receive.gen = slot, gen  # type: ignore[attr-defined]
        return receive, receive

    def receiver(self, slot: int) -> Any:
        owner = self.holders.get(slot)
        if owner is None:
            return None
        return owner.receive if isinstance(owner, Listener) and not callable(owner) else owner


def slot_of(receiver: Any) -> tuple[int, int]:
    target = getattr(receiver, "__self__", receiver)
    return target.slot, target.gen


def describe(value: Any) -> Any:
    if isinstance(value, BaseException):
        return ("exception", type(value).__name__, str(value))
    return value


def run_async(method: Any, sender: Any, **named: Any) -> Any:
    return asyncio.run(method(sender, **named))


def outcome(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one action; return what it returned or raised, made comparable."""
    try:
        result = action(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the exception is the outcome
        return ("raised", type(error).__name__, str(error))
    if isinstance(result, list):
        return [(slot_of(r), describe(v)) for r, v in result]
    return result


@dataclass
class Slot:
    kind: str
    fails: bool
    action: tuple[str, int] | None = None
    gen: int = 0
    alive: bool = False


def async_calls_only(world: World, slots: list[Slot]) -> list[tuple[Any, ...]]:
    """The log of an ``asend`` that raised, without its sync receivers. Their
    worker thread was started alongside the failing async receiver, so in
    Django too whether they ran is a matter of timing (only the result order
    of ``asend`` is pinned down). Waits for that thread, so that calls it
    makes late do not land in the next step's log."""
    time.sleep(0.05)
    return [
        entry
        for entry in world.log
        if isinstance(entry[0], int) and slots[entry[0]].kind == "async"
    ]


def recorder() -> Any:
    """sigcli's recorder: a journal that takes the inline events of the fast path."""
    from sigcli.trace import Recorder, Trace

    recording = Recorder(Trace(scenario=None))
    recording.start_step("program", "program")
    return recording


def run_program(use_caching: bool, slots: list[Slot], steps: list[tuple[Any, ...]]) -> None:
    """Run the program in every world, comparing after each step. The
    send_robust error log is switched off: the results already carry it."""
    logging.disable(logging.ERROR)
    try:
        compare_worlds(use_caching, slots, steps)
    finally:
        logging.disable(logging.NOTSET)


def compare_worlds(use_caching: bool, slots: list[Slot], steps: list[tuple[Any, ...]]) -> None:
    worlds = [
        World("django", IMPLS["django"]().Signal(use_caching=use_caching)),
        World("sigcli", sigcli_dispatch.Signal(use_caching=use_caching)),
        World(
            "sigcli+observer",
            sigcli_dispatch.Signal(use_caching=use_caching),
            observed=NullObserver,
        ),
        World(
            "sigcli+recorder",
            sigcli_dispatch.Signal(use_caching=use_caching),
            observed=recorder,
        ),
    ]
    for world in worlds:
        world.actions = {index: slot.action for index, slot in enumerate(slots)}
    history: list[str] = []
    senders: list[Any] = [*CLASS_SENDERS, *(EqualSender(0) for _ in range(EQUAL_SENDERS))]
    renewed = 0

    def in_world(world: World, action: Any, *args: Any, **kwargs: Any) -> Any:
        if world.observed:
            with sigcli_dispatch.observe(world.observed()):
                return outcome(action, *args, **kwargs)
        return outcome(action, *args, **kwargs)

    for step in steps:
        op = step[0]
        results = []
        if op in ("connect", "disconnect"):
            _, index, sender_index, weak, uid = step
            slot = slots[index]
            if op == "connect" and not slot.alive:
                slot.gen += 1
                slot.alive = True
                for world in worlds:
                    world.holders[index] = world.make(slot.kind, index, slot.gen, slot.fails)[1]
            sender = None if sender_index is None else senders[sender_index]
            for world in worlds:
                receiver = world.receiver(index)
                if op == "connect":
                    result = in_world(
                        world, world.signal.connect, receiver, sender, weak=weak, dispatch_uid=uid
                    )
                else:
                    result = in_world(
                        world, world.signal.disconnect, receiver, sender, dispatch_uid=uid
                    )
                results.append(result)
                del receiver
        elif op == "renew_sender":
            _, index = step
            renewed += 1
            senders[len(CLASS_SENDERS) + index] = EqualSender(renewed)
            gc.collect()
            results = [None] * len(worlds)
        elif op == "drop":
            _, index = step
            slots[index].alive = False
            for world in worlds:
                world.holders.pop(index, None)
            gc.collect()
            results = [None] * len(worlds)
        elif op == "has_listeners":
            _, sender_index = step
            sender = None if sender_index is None else senders[sender_index]
            for world in worlds:
                results.append(in_world(world, world.signal.has_listeners, sender))
        else:
            _, sender_index = step
            sender = None if sender_index is None else senders[sender_index]
            for world in worlds:
                method = getattr(world.signal, op)
                if op.startswith("a"):
                    result = in_world(world, run_async, method, sender, value=1)
                else:
                    result = in_world(world, method, sender, value=1)
                log = list(world.log)
                if op == "asend" and isinstance(result, tuple) and result[0] == "raised":
                    log = async_calls_only(world, slots)
                results.append((result, log))
                world.log.clear()
        history.append(repr(step))
        lengths = [len(world.signal.receivers) for world in worlds]
        for world, result, length in zip(worlds[1:], results[1:], lengths[1:], strict=True):
            assert result == results[0], (
                f"{world.name} differs from Django after:\n  "
                + "\n  ".join(history)
                + f"\n{world.name}: {result!r}\ndjango: {results[0]!r}"
            )
            assert length == lengths[0], (
                f"{world.name} has {length} entries, Django {lengths[0]}, after:\n  "
                + "\n  ".join(history)
            )


sender_indexes = st.one_of(st.none(), st.integers(0, len(CLASS_SENDERS) + EQUAL_SENDERS - 1))
slot_indexes = st.integers(0, SLOTS - 1)
connects = st.tuples(
    st.just("connect"), slot_indexes, sender_indexes, st.booleans(), st.sampled_from(UIDS)
)
disconnects = st.tuples(
    st.just("disconnect"), slot_indexes, sender_indexes, st.just(True), st.sampled_from(UIDS)
)
steps = st.one_of(
    connects,
    connects,
    disconnects,
    st.tuples(st.just("drop"), slot_indexes),
    st.tuples(st.just("renew_sender"), st.integers(0, EQUAL_SENDERS - 1)),
    st.tuples(st.just("has_listeners"), sender_indexes),
    st.tuples(st.sampled_from(["send", "send", "send_robust", "send_robust"]), sender_indexes),
    st.tuples(st.sampled_from(["asend", "asend_robust"]), sender_indexes),
)
slot_specs = st.lists(
    st.builds(
        Slot,
        kind=st.sampled_from(KINDS),
        fails=st.booleans(),
        action=st.one_of(
            st.none(),
            st.none(),
            st.tuples(st.sampled_from(["connect", "disconnect"]), st.integers(0, SLOTS - 1)),
        ),
    ),
    min_size=SLOTS,
    max_size=SLOTS,
)
differential = settings(
    parent=PROFILE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.slow
@differential
@given(slots=slot_specs, program=st.lists(steps, max_size=30))
def test_non_caching_signal_matches_django(slots: list[Slot], program: list[Any]) -> None:
    run_program(False, slots, program)


@pytest.mark.slow
@differential
@given(slots=slot_specs, program=st.lists(steps, max_size=30))
def test_caching_signal_matches_django(slots: list[Slot], program: list[Any]) -> None:
    run_program(True, slots, program)
