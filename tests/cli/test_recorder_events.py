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
