"""sigcli.mute on Django's dispatcher with the observer installed: a muted
receiver is not called and shows as muted, whether the mute or the observer
came first, and the factory_boy regression cases hold as they do without
the observer (they run here again, on observed Django, on every Django
version CI tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import django.dispatch
import pytest

import sigcli
from sigcli import why
from sigcli.djangoengine.observer import observe_django
from sigcli.trace import Recorder, Trace
from tests.djangoengine.helpers import django_capture, receivers_of
from tests.testing import test_mute as cases


@pytest.fixture(params=["django", "django observed"])
def Signal(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    if request.param == "django":
        yield django.dispatch.Signal
        return
    with observe_django(Recorder(Trace(scenario=None), max_depth=50)):
        yield django.dispatch.Signal


# The own engine's cases, collected here with this module's Signal fixture.
test_a_muted_signal_calls_nobody_then_everyone_in_order = (
    cases.test_a_muted_signal_calls_nobody_then_everyone_in_order
)
test_a_receiver_connected_inside_the_block_is_kept_factory_boy_212 = cases.test_a_receiver_connected_inside_the_block_is_kept_and_the_others_come_back_factory_boy_212
test_order_after_the_block_is_the_connection_order_factory_boy_1043 = (
    cases.test_order_after_the_block_is_the_connection_order_factory_boy_1043
)
test_reconnecting_inside_the_block_does_not_connect_twice = (
    cases.test_reconnecting_inside_the_block_does_not_connect_twice
)
test_a_receiver_disconnected_inside_the_block_stays_disconnected = (
    cases.test_a_receiver_disconnected_inside_the_block_stays_disconnected
)
test_one_receiver_muted_on_every_signal_factory_boy_505 = (
    cases.test_one_receiver_muted_on_every_signal_factory_boy_505
)
test_one_receiver_muted_for_one_sender_only = cases.test_one_receiver_muted_for_one_sender_only
test_a_signal_muted_for_one_sender_still_reaches_the_others = (
    cases.test_a_signal_muted_for_one_sender_still_reaches_the_others
)
test_a_bound_method_is_muted_by_any_access_to_it = (
    cases.test_a_bound_method_is_muted_by_any_access_to_it
)
test_a_decorated_function_that_reenters_its_mute_restores_every_receiver = (
    cases.test_a_decorated_function_that_reenters_its_mute_restores_every_receiver
)
test_nested_mutes_each_lift_only_their_own_rule = (
    cases.test_nested_mutes_each_lift_only_their_own_rule
)
test_the_block_raising_still_unmutes = cases.test_the_block_raising_still_unmutes


class Sender:
    pass


class Other:
    pass


class Listener:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def on_send(self, **kwargs: Any) -> None:
        self.calls.append("method")


@pytest.fixture
def signal() -> Iterator[tuple[Any, list[str], dict[str, Any]]]:
    """A caching signal (as the model signals are) with receivers a, b and a
    bound method; the list their calls are written to; the receivers."""
    calls: list[str] = []
    made = django.dispatch.Signal(use_caching=True)

    def a(**kwargs: Any) -> None:
        calls.append("a")

    def b(**kwargs: Any) -> None:
        calls.append("b")

    a.__qualname__, b.__qualname__ = "a", "b"
    listener = Listener(calls)
    receivers = {"a": a, "b": b, "listener": listener}
    made.connect(a)
    made.connect(listener.on_send)
    made.connect(b)
    yield made, calls, receivers


def _shown(trace: Trace) -> list[list[tuple[str, bool, str | None]]]:
    return [receivers_of(d) for d in trace.dispatches()]


ALL_CALLED = [("a", True, None), ("Listener.on_send", True, None), ("b", True, None)]


def test_a_mute_entered_with_the_observer_installed_silences_and_shows_muted(signal) -> None:
    made, calls, receivers = signal
    with django_capture() as trace:
        made.send(Sender)  # fills Django's cache before the mute
        with sigcli.mute(made, receiver=receivers["a"]):
            assert made.send(Sender) == [
                (receivers["listener"].on_send, None),
                (receivers["b"], None),
            ]
        with sigcli.mute(made, receiver=receivers["listener"].on_send, sender=Sender):
            made.send(Sender)
            made.send(Other)
        made.send(Sender)
    everyone = ["a", "method", "b"]
    assert calls == everyone + ["method", "b"] + ["a", "b"] + everyone + everyone
    assert _shown(trace) == [
        ALL_CALLED,
        [("a", False, "muted"), ("Listener.on_send", True, None), ("b", True, None)],
        [("a", True, None), ("Listener.on_send", False, "muted"), ("b", True, None)],
        ALL_CALLED,
        ALL_CALLED,
    ]


def test_a_mute_entered_before_the_observer_is_installed_silences_and_shows_muted(signal) -> None:
    made, calls, receivers = signal
    made.send(Sender)
    with sigcli.mute(made, receiver=receivers["a"]):
        made.send(Sender)
        with django_capture() as trace:
            made.send(Sender)
        made.send(Sender)
    made.send(Sender)
    assert calls == ["a", "method", "b"] + ["method", "b"] * 3 + ["a", "method", "b"]
    assert _shown(trace) == [
        [("a", False, "muted"), ("Listener.on_send", True, None), ("b", True, None)]
    ]
    assert "_live_receivers" in vars(django.dispatch.Signal)
    assert (
        vars(django.dispatch.Signal)["_live_receivers"].__module__ == "django.dispatch.dispatcher"
    )


def test_the_observer_ending_inside_a_mute_leaves_the_mute_working(signal) -> None:
    made, calls, receivers = signal
    with django_capture() as trace, sigcli.mute(made):
        made.send(Sender)
    with sigcli.mute(made):
        with django_capture() as second:
            made.send(Sender)
        made.send(Sender)
    made.send(Sender)
    assert calls == ["a", "method", "b"]
    muted = [("a", False, "muted"), ("Listener.on_send", False, "muted"), ("b", False, "muted")]
    assert _shown(trace) == _shown(second) == [muted]
    assert (
        vars(django.dispatch.Signal)["_live_receivers"].__module__ == "django.dispatch.dispatcher"
    )


def test_nested_mutes_under_the_observer_each_lift_their_own_rule(signal) -> None:
    made, calls, receivers = signal
    with django_capture() as trace:
        with sigcli.mute(receiver=receivers["b"]):
            with sigcli.mute(made, sender=Sender):
                made.send(Sender)
                made.send(Other)
            made.send(Sender)
        made.send(Sender)
    assert calls == ["a", "method", "a", "method", "a", "method", "b"]
    assert _shown(trace) == [
        [("a", False, "muted"), ("Listener.on_send", False, "muted"), ("b", False, "muted")],
        [("a", True, None), ("Listener.on_send", True, None), ("b", False, "muted")],
        [("a", True, None), ("Listener.on_send", True, None), ("b", False, "muted")],
        ALL_CALLED,
    ]


def test_why_says_muted_for_a_muted_django_receiver(signal) -> None:
    made, _calls, receivers = signal
    with django_capture() as trace:
        with sigcli.mute(made, receiver=receivers["a"]):
            made.send(Sender)
        made.send(Sender)
    answer = why.explain("a", [trace])
    assert [v.reason for v in answer.verdicts] == ["ran", "muted"]
