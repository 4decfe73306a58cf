"""sigcli.mute on both dispatchers, and the cases that broke factory_boy's mute_signals.

Each test runs on sigcli's ``Signal`` and on ``django.dispatch.Signal``,
with ``use_caching=True`` as the model signals have: the cache is where
mutes that swap ``signal.receivers`` go wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django.dispatch
import pytest

import sigcli
from sigcli import dispatcher


class Sender:
    pass


class Other:
    pass


@pytest.fixture(params=["sigcli", "django"])
def Signal(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return dispatcher.Signal if request.param == "sigcli" else django.dispatch.Signal


class Calls:
    """Receivers that write their name down when called."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def receiver(self, name: str) -> Callable[..., None]:
        def receive(**kwargs: Any) -> None:
            self.names.append(name)

        receive.__qualname__ = name
        return receive

    def take(self) -> list[str]:
        names, self.names = self.names, []
        return names


def connected(Signal: Callable[..., Any], *names: str) -> tuple[Any, Calls, dict[str, Any]]:
    signal = Signal(use_caching=True)
    calls = Calls()
    receivers = {name: calls.receiver(name) for name in names}
    for receive in receivers.values():
        signal.connect(receive)
    return signal, calls, receivers


def test_a_muted_signal_calls_nobody_then_everyone_in_order(Signal):
    signal, calls, _r = connected(Signal, "a", "b", "c")
    signal.send(Sender)
    with sigcli.mute(signal):
        assert signal.send(Sender) == []
        assert not signal.has_listeners(Sender)
    signal.send(Sender)
    assert calls.take() == ["a", "b", "c", "a", "b", "c"]


def test_a_receiver_connected_inside_the_block_is_kept_and_the_others_come_back_factory_boy_212(
    Signal,
):
    # factory_boy #212: the connect inside the block cached the new
    # receiver alone, and after the block only it ran; #799: it was lost.
    signal, calls, _r = connected(Signal, "a", "b")
    late = calls.receiver("late")
    with sigcli.mute(signal):
        signal.connect(late)
        signal.send(Sender)
    assert calls.take() == []
    signal.send(Sender)
    assert calls.take() == ["a", "b", "late"]


def test_order_after_the_block_is_the_connection_order_factory_boy_1043(Signal):
    # factory_boy PR #1043 (and #895): receivers came back in another order,
    # which broke receivers that must run in sequence (django-dirtyfields).
    signal, calls, receivers = connected(Signal, "a", "b")
    late = calls.receiver("late")
    with sigcli.mute(signal, receiver=receivers["a"]):
        signal.connect(late)
        signal.send(Sender)
    signal.send(Sender)
    assert calls.take() == ["b", "late", "a", "b", "late"]


def test_reconnecting_inside_the_block_does_not_connect_twice(Signal):
    # factory_boy 3.3 appends the saved list to the one built in the block:
    # a receiver connected again there runs twice afterwards.
    signal, calls, receivers = connected(Signal, "a", "b")
    with sigcli.mute(signal):
        signal.connect(receivers["a"])
    signal.send(Sender)
    assert calls.take() == ["a", "b"]


def test_a_receiver_disconnected_inside_the_block_stays_disconnected(Signal):
    # factory_boy 3.3: disconnect finds nothing (False) and the receiver is back after.
    signal, calls, receivers = connected(Signal, "a", "b", "c")
    with sigcli.mute(signal):
        assert signal.disconnect(receivers["b"]) is True
    signal.send(Sender)
    assert calls.take() == ["a", "c"]


def test_one_receiver_muted_on_every_signal_factory_boy_505(Signal):
    first, calls, receivers = connected(Signal, "a", "b")
    second = Signal()
    second.connect(receivers["b"])
    with sigcli.mute(receiver=receivers["b"]):
        first.send(Sender)
        second.send(Sender)
        assert calls.take() == ["a"]
    first.send(Sender)
    second.send(Sender)
    assert calls.take() == ["a", "b", "b"]


def test_one_receiver_muted_for_one_sender_only(Signal):
    signal, calls, receivers = connected(Signal, "a", "b")
    with sigcli.mute(signal, receiver=receivers["b"], sender=Sender):
        signal.send(Sender)
        signal.send(Other)
        assert calls.take() == ["a", "a", "b"]
    signal.send(Sender)
    assert calls.take() == ["a", "b"]


def test_a_signal_muted_for_one_sender_still_reaches_the_others(Signal):
    signal, calls, _r = connected(Signal, "a")
    with sigcli.mute(signal, sender=Sender):
        signal.send(Sender)
        signal.send(Other)
    assert calls.take() == ["a"]


def test_a_bound_method_is_muted_by_any_access_to_it(Signal):
    calls = Calls()

    class Listener:
        def on_send(self, **kwargs: Any) -> None:
            calls.names.append("method")

    listener = Listener()
    signal = Signal(use_caching=True)
    signal.connect(listener.on_send)
    with sigcli.mute(receiver=listener.on_send):
        signal.send(Sender)
    signal.send(Sender)
    assert calls.take() == ["method"]


def test_a_decorated_function_that_reenters_its_mute_restores_every_receiver(Signal):
    # factory_boy #183 (still so in 3.3): a mute keeps one saved list per
    # object, so entering it again (a factory creating another in
    # post_generation) loses the receivers for good.
    signal, calls, _r = connected(Signal, "a", "b")

    @sigcli.mute(signal)
    def create(levels: int) -> None:
        signal.send(Sender)
        if levels:
            create(levels - 1)
        signal.send(Sender)

    create(2)
    assert calls.take() == []
    signal.send(Sender)
    assert calls.take() == ["a", "b"]


def test_nested_mutes_each_lift_only_their_own_rule(Signal):
    signal, calls, receivers = connected(Signal, "a", "b")
    with sigcli.mute(receiver=receivers["a"]):
        with sigcli.mute(signal):
            signal.send(Sender)
        signal.send(Sender)
    signal.send(Sender)
    assert calls.take() == ["b", "a", "b"]


def test_the_block_raising_still_unmutes(Signal):
    signal, calls, _r = connected(Signal, "a")
    with pytest.raises(KeyError), sigcli.mute(signal):
        raise KeyError("inside")
    signal.send(Sender)
    assert calls.take() == ["a"]


def test_mute_without_arguments_is_refused():
    with pytest.raises(TypeError, match="give a signal, a receiver"):
        sigcli.mute()


def test_a_muted_receiver_of_a_model_signal_skips_its_work_for_that_model_only():
    from sigcli import models
    from sigcli.signals import post_save

    registry = models.Registry()
    with models.use_registry(registry):

        class User(models.Model):
            username = models.CharField(max_length=20)

        class Profile(models.Model):
            user = models.OneToOneField(User, on_delete=models.CASCADE)

        def create_profile(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
            if created:
                Profile.objects.create(user=instance)

        post_save.connect(create_profile, sender=User)
        try:
            registry.migrate()
            with sigcli.mute(post_save, receiver=create_profile, sender=User):
                User.objects.create(username="ann")
            assert Profile.objects.count() == 0
            User.objects.create(username="bob")
            assert [p.user.username for p in Profile.objects.all()] == ["bob"]
        finally:
            post_save.disconnect(create_profile, sender=User)
            registry.close()
