"""The recorder builds the same tree whichever events the dispatcher writes.

An observed send writes either explicit events (a CALL before each receiver)
or, on its fast path, inline ones (receivers started implicitly, the last
one's return and the end of the send as one event). Random programs of
nested sends, robust sends, failing receivers, dead weak receivers, sender
filters, mutable keyword arguments and printed output run three times:
under a recorder that takes inline events, one that takes only explicit
events, and one that builds its tree as each event arrives. The three
traces must be identical, down to the JSON text.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcli import dispatcher
from sigcli.trace import DepthLimitExceeded, Recorder, Trace, dumps

settings.register_profile("events-ci", max_examples=150, deadline=None)
settings.register_profile("events-dev", max_examples=60, deadline=None)
PROFILE = settings.get_profile("events-ci" if os.environ.get("CI") else "events-dev")

SIGNALS = 2
SENDERS = ("A", "B", None)


class ExplicitRecorder(Recorder):
    """Takes only the explicit events, as a journal that reads CALLs would."""

    inline = False


def live_recorder(trace: Trace, max_depth: int) -> Recorder:
    return Recorder(trace, max_depth=max_depth, live=True)


# A receiver's behaviour: actions run in order when it is called.
send_action = st.tuples(
    st.just("send"),
    st.integers(0, SIGNALS - 1),
    st.sampled_from(SENDERS),
    st.booleans(),  # robust
    st.sampled_from(["scalar", "list", "none", "odd"]),
)
receiver_action = st.one_of(
    send_action,
    st.tuples(st.just("raise")),
    st.tuples(st.just("return"), st.sampled_from([None, 1, "text", "list"])),
    st.tuples(st.just("print")),
)
receiver_spec = st.tuples(
    st.integers(0, SIGNALS - 1),  # connected to
    st.sampled_from(SENDERS),  # sender filter
    st.sampled_from(["strong", "weak", "dead"]),
    st.lists(receiver_action, max_size=3),
)
program = st.tuples(
    st.lists(receiver_spec, min_size=1, max_size=6),
    st.lists(send_action, min_size=1, max_size=5),
    st.sampled_from([3, 50]),  # max depth
)


class World:
    """One copy of the program: its signals, senders and receivers."""

    def __init__(self, specs: list[Any]) -> None:
        self.signals = []
        for index in range(SIGNALS):
            signal = dispatcher.Signal()
            signal.name = f"s{index}"
            self.signals.append(signal)
        self.senders = {name: type(name, (), {}) for name in SENDERS if name}
        self.senders[None] = None  # type: ignore[index]
        self.keep: list[Any] = []
        self.depth = 0
        for index, (signal_index, sender, kind, actions) in enumerate(specs):
            receiver = self.make(index, actions)
            self.signals[signal_index].connect(
                receiver, sender=self.senders[sender], weak=kind != "strong"
            )
            if kind == "weak":
                self.keep.append(receiver)
        # The loop's variable still holds the last receiver: let go of it,
        # or a "dead" one lives until this returns, and later still if
        # anything (a tracer, a debugger) holds on to this frame.
        del receiver
        gc.collect()  # the "dead" ones are gone before the first send

    def make(self, index: int, actions: list[Any]) -> Any:
        def receiver(sender: Any, **kwargs: Any) -> Any:
            result: Any = None
            for action in actions:
                if action[0] == "send" and self.depth < 6:
                    self.send(action)
                elif action[0] == "raise":
                    raise ValueError(f"r{index} fails")
                elif action[0] == "return":
                    result = [index, "mutable"] if action[1] == "list" else action[1]
                elif action[0] == "print":
                    print(f"r{index} ran")
            return result

        receiver.__qualname__ = f"r{index}"
        return receiver

    def send(self, action: Any) -> None:
        _, signal_index, sender, robust, kwargs = action
        signal = self.signals[signal_index]
        values: dict[str, Any] = {
            "scalar": {"n": 1, "word": "x"},
            "list": {"items": [1, 2]},
            "none": {},
            "odd": {"signal_x": object, "len": 3},
        }[kwargs]
        self.depth += 1
        try:
            method = signal.send_robust if robust else signal.send
            method(sender=self.senders[sender], **values)
            if "items" in values:
                values["items"].append("changed after the send")
        finally:
            self.depth -= 1


def record(specs: list[Any], sends: list[Any], max_depth: int, make: Any) -> str:
    world = World(specs)
    trace = Trace(scenario="events")
    recorder = make(trace, max_depth)
    recorder.start_step("step", "step")
    printed = io.StringIO()
    with dispatcher.observe(recorder), contextlib.redirect_stdout(printed):
        # Twice: a sender's first observed send makes its plan, the fast
        # path (and its inline events) starts with the second.
        for action in sends + sends:
            try:
                world.send(action)
            except (ValueError, DepthLimitExceeded) as error:
                print(f"stopped: {error}")
            recorder.printed(printed.getvalue())
            printed.seek(0)
            printed.truncate()
    recorder.finish_step(None)
    return dumps([recorder.trace])


@pytest.mark.slow
@PROFILE
@given(program)
def test_inline_explicit_and_live_recorders_build_the_same_trace(case: Any) -> None:
    specs, sends, max_depth = case
    inline = record(specs, sends, max_depth, Recorder)
    explicit = record(specs, sends, max_depth, ExplicitRecorder)
    live = record(specs, sends, max_depth, live_recorder)
    assert inline == explicit
    assert inline == live


def test_a_nested_send_sits_under_the_receiver_that_made_it_on_the_inline_path() -> None:
    specs = [
        (0, None, "strong", [("send", 1, "A", False, "scalar"), ("return", 1)]),
        (0, None, "strong", [("return", "text")]),
        (1, "A", "strong", [("raise",)]),
    ]
    trace = Trace(scenario="events")
    recorder = Recorder(trace)
    recorder.start_step("step", "step")
    world = World(specs)
    with dispatcher.observe(recorder):
        try:
            world.send(("send", 0, None, False, "none"))
        except ValueError:
            pass
    recorder.finish_step(None)
    (outer,) = recorder.trace.steps[0].children
    first, second = outer.receivers
    (inner,) = first.children
    assert (outer.signal, outer.error) == ("s0", "ValueError: r2 fails")
    assert (first.name, first.called, first.error, first.error_propagated) == (
        "r0",
        True,
        "ValueError: r2 fails",
        True,
    )
    assert (second.name, second.called, second.skipped_reason.value) == (
        "r1",
        False,
        "not_reached",
    )
    assert (inner.signal, inner.sender, inner.depth, inner.error) == (
        "s1",
        "A",
        2,
        "ValueError: r2 fails",
    )
    (failing,) = inner.receivers
    assert (failing.name, failing.error, failing.error_propagated) == (
        "r2",
        "ValueError: r2 fails",
        False,
    )


# -- depth across threads and asyncio ----------------------------------------


def depths(trace: Trace) -> list[tuple[str, int]]:
    return [(d.signal, d.depth) for d in trace.dispatches()]


def signals(*names: str) -> list[dispatcher.Signal]:
    made = []
    for name in names:
        signal = dispatcher.Signal()
        signal.name = name
        made.append(signal)
    return made


def chain_through_asend(hop: str) -> tuple[dispatcher.Signal, list[str]]:
    """outer → middle.asend → a task and a worker thread each send inner →
    deepest: four levels deep on both paths. ``hop`` is how outer's receiver
    gets to the asend: as an async receiver (sigcli runs it in an event loop
    on another thread), or as a sync one running an event loop in its own
    thread."""
    import asyncio

    outer, middle, inner, deepest = signals("outer", "middle", "inner", "deepest")
    reached: list[str] = []

    async def start_async(sender: Any, **kwargs: Any) -> None:
        await middle.asend(sender=None)

    def start_sync(sender: Any, **kwargs: Any) -> None:
        asyncio.run(middle.asend(sender=None))

    start = start_async if hop == "async receiver" else start_sync

    async def in_a_task(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)

    def in_the_worker(sender: Any, **kwargs: Any) -> None:
        inner.send(sender=None)

    def innermost(sender: Any, **kwargs: Any) -> None:
        deepest.send(sender=None)

    outer.connect(start, weak=False)
    middle.connect(in_a_task, weak=False)
    middle.connect(in_the_worker, weak=False)
    inner.connect(innermost, weak=False)
    deepest.connect(lambda sender, **kwargs: reached.append("deepest"), weak=False)
    return outer, reached


@pytest.mark.parametrize("hop", ["async receiver", "event loop in a receiver"])
def test_the_depth_limit_counts_through_asend_its_tasks_and_its_worker_thread(hop: str) -> None:
    for limit, expected in ((4, ["deepest"] * 4), (3, [])):
        outer, reached = chain_through_asend(hop)
        recorder = Recorder(Trace(scenario=None), max_depth=limit)
        recorder.start_step("step", "step")
        stopped = []
        with dispatcher.observe(recorder):
            for _ in range(2):  # the second time through the inline path
                try:
                    outer.send(sender=None)
                except DepthLimitExceeded as error:
                    stopped.append(error.limit)
        recorder.finish_step(None)
        assert reached == expected
        assert stopped == ([] if expected else [3, 3])
        if expected:  # and the tree nests them as they ran
            once = [("outer", 1), ("middle", 2), ("inner", 3), ("deepest", 4)]
            once += [("inner", 3), ("deepest", 4)]
            assert depths(recorder.trace) == once + once


def test_concurrent_asends_do_not_add_up_to_the_depth_limit() -> None:
    import asyncio

    (ping,) = signals("ping")

    async def slow(sender: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.001)

    ping.connect(slow)
    trace = Trace(scenario=None)
    recorder = Recorder(trace, max_depth=3)
    recorder.start_step("step", "step")

    async def many() -> None:
        await asyncio.gather(*(ping.asend(sender=None) for _ in range(20)))

    with dispatcher.observe(recorder):
        asyncio.run(many())
    recorder.finish_step(None)
    assert depths(recorder.trace) == [("ping", 1)] * 20


def test_recursion_through_asend_stops_at_the_depth_limit() -> None:
    import asyncio

    (again,) = signals("again")

    async def resend(sender: Any, **kwargs: Any) -> None:
        await again.asend(sender=None)

    again.connect(resend)
    trace = Trace(scenario=None)
    recorder = Recorder(trace, max_depth=4)
    recorder.start_step("step", "step")
    with dispatcher.observe(recorder):
        try:
            asyncio.run(again.asend(sender=None))
        except DepthLimitExceeded as error:
            stopped: DepthLimitExceeded | None = error
        else:
            stopped = None
    recorder.finish_step(None)
    assert stopped is not None and stopped.limit == 4
    assert stopped.cycle == [
        "again None › test_recursion_through_asend_stops_at_the_depth_limit.<locals>.resend"
    ]
    assert depths(recorder.trace) == [("again", 1), ("again", 2), ("again", 3), ("again", 4)]


def test_sends_from_another_thread_start_at_depth_one() -> None:
    import threading

    outer, inner = signals("outer", "inner")

    def spawn(sender: Any, **kwargs: Any) -> None:
        worker = threading.Thread(target=lambda: inner.send(sender=None))
        worker.start()
        worker.join()

    outer.connect(spawn)
    inner.connect(lambda sender, **kwargs: None, weak=False)
    trace = Trace(scenario=None)
    recorder = Recorder(trace, max_depth=1)
    recorder.start_step("step", "step")
    with dispatcher.observe(recorder):
        outer.send(sender=None)
        outer.send(sender=None)
    recorder.finish_step(None)
    assert sorted(depths(recorder.trace)) == [("inner", 1)] * 2 + [("outer", 1)] * 2
