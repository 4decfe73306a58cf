"""The same random programs of signals and receivers, run on sigcli's own
dispatcher and on Django's, recorded by the same recorder: the traces must be
identical, down to the JSON text. And Django observed must do exactly what
Django unobserved does: the same receivers called, in the same order, with
the same results and the same exceptions.

A program is nested sends (``send`` or ``send_robust``), receivers that
raise, return values (some mutable, changed after the send), print, listen
to one sender or any, are weak, strong, or weak and already dead.
"""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sigcli import dispatcher
from sigcli.djangoengine.observer import name_signal, observe_django
from sigcli.trace import DepthLimitExceeded, Recorder, Trace, dumps

settings.register_profile("djdiff-ci", max_examples=80, deadline=None)
settings.register_profile("djdiff-dev", max_examples=30, deadline=None)
PROFILE = settings.get_profile("djdiff-ci" if os.environ.get("CI") else "djdiff-dev")

SIGNALS = 2
SENDERS = ("A", "B", None)

send_action = st.tuples(
    st.just("send"),
    st.integers(0, SIGNALS - 1),
    st.sampled_from(SENDERS),
    st.booleans(),  # robust
    st.sampled_from(["scalar", "list", "none"]),
)
receiver_action = st.one_of(
    send_action,
    st.tuples(st.just("raise")),
    st.tuples(st.just("return"), st.sampled_from([None, 1, "text", "list"])),
    st.tuples(st.just("print")),
)
receiver_spec = st.tuples(
    st.integers(0, SIGNALS - 1),
    st.sampled_from(SENDERS),
    st.sampled_from(["strong", "weak", "dead"]),
    st.lists(receiver_action, max_size=3),
)
program = st.tuples(
    st.lists(receiver_spec, min_size=1, max_size=6),
    st.lists(send_action, min_size=1, max_size=5),
    st.sampled_from([3, 50]),
)


class World:
    """One copy of a program on one dispatcher; ``log`` is what happened."""

    def __init__(self, engine: str, specs: list[Any]) -> None:
        self.signals: list[Any] = []
        for index in range(SIGNALS):
            if engine == "django":
                from django.dispatch import Signal

                signal = Signal()
                name_signal(signal, f"s{index}")
            else:
                signal = dispatcher.Signal()
                signal.name = f"s{index}"
            self.signals.append(signal)
        self.senders: dict[Any, Any] = {name: type(name, (), {}) for name in SENDERS if name}
        self.senders[None] = None
        self.keep: list[Any] = []
        self.log: list[Any] = []
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
        gc.collect()

    def make(self, index: int, actions: list[Any]) -> Any:
        def receiver(sender: Any, **kwargs: Any) -> Any:
            self.log.append(("called", index))
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
        }[kwargs]
        self.depth += 1
        try:
            method = signal.send_robust if robust else signal.send
            responses = method(sender=self.senders[sender], **values)
            self.log.append(
                [
                    (r.__qualname__, type(v).__name__ if isinstance(v, Exception) else v)
                    for r, v in responses
                ]
            )
            if "items" in values:
                values["items"].append("changed after the send")
        finally:
            self.depth -= 1


@contextlib.contextmanager
def _quiet_robust_logging() -> Any:
    """send_robust logs each failure; on Django 4.2 the test settings' admin
    mail handler would fail to render it (no SECRET_KEY). Not what is tested."""
    logger = logging.getLogger("django.dispatch")
    previous = logger.propagate
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = previous


def run(engine: str, specs: list[Any], sends: list[Any], max_depth: int, observed: bool) -> Any:
    trace = Trace(scenario="events")
    recorder = Recorder(trace, max_depth=max_depth)
    recorder.start_step("step", "step")
    printed = io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet_robust_logging())
        if observed:
            if engine == "django":
                stack.enter_context(observe_django(recorder))
            else:
                stack.enter_context(dispatcher.observe(recorder))
        stack.enter_context(contextlib.redirect_stdout(printed))
        world = World(engine, specs)
        # Twice: the second time round, plans and caches are warm.
        for action in sends + sends:
            try:
                world.send(action)
            except (ValueError, DepthLimitExceeded) as error:
                world.log.append(("stopped", type(error).__name__))
                print(f"stopped: {error}")
            recorder.printed(printed.getvalue())
            printed.seek(0)
            printed.truncate()
    recorder.finish_step(None)
    return dumps([recorder.trace]), world.log


@PROFILE
@given(program)
def test_djangos_dispatcher_observed_gives_the_trace_of_sigclis_own(case: Any) -> None:
    specs, sends, max_depth = case
    sigcli_trace, _ = run("sigcli", specs, sends, max_depth, observed=True)
    django_trace, _ = run("django", specs, sends, max_depth, observed=True)
    assert django_trace == sigcli_trace


@PROFILE
@given(program)
def test_observing_django_changes_nothing_django_does(case: Any) -> None:
    specs, sends, _ = case
    _, plain = run("django", specs, sends, 1000, observed=False)
    _, observed = run("django", specs, sends, 1000, observed=True)
    assert observed == plain
