"""One test per dispatcher behaviour, each run on Django's Signal and on sigcli's.

Every expectation is written out in full (the exact responses, the exact
order receivers ran in), so the same assertion passing on both
implementations pins sigcli to Django's behaviour.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import weakref
from typing import Any

import pytest
from asgiref.sync import markcoroutinefunction

from tests.dispatcher.conftest import Impl


class Sender:
    """A weak-referenceable, hashable sender."""


class OtherSender:
    pass


def assert_clean(signal: Any) -> None:
    """No listeners and, after the clean-up has_listeners triggers, no entries."""
    assert signal.has_listeners(Sender) is False
    assert signal.receivers == []


def value_receiver(value: object):
    def receive(**kwargs: object) -> object:
        return value

    return receive


# ---------------------------------------------------------------- validation


def test_validation_rejects_receiver_without_kwargs(impl: Impl) -> None:
    signal = impl.Signal()

    def no_kwargs(signal, sender):
        return None

    with impl.validating(), pytest.raises(ValueError) as excinfo:
        signal.connect(no_kwargs)
    assert str(excinfo.value) == "Signal receivers must accept keyword arguments (**kwargs)."
    assert signal.receivers == []


def test_validation_rejects_non_callable(impl: Impl) -> None:
    signal = impl.Signal()

    with impl.validating(), pytest.raises(TypeError) as excinfo:
        signal.connect(Sender(), weak=False)
    assert str(excinfo.value) == "Signal receivers must be callable."
    assert signal.receivers == []


def test_validation_accepts_callable_with_kwargs(impl: Impl) -> None:
    signal = impl.Signal()

    def ok(signal, sender, **kwargs):
        return "ok"

    with impl.validating():
        signal.connect(ok)
    assert signal.send(Sender) == [(ok, "ok")]


def test_without_validation_bad_receiver_fails_only_when_called(impl: Impl) -> None:
    signal = impl.Signal()

    def no_kwargs():
        return None

    signal.connect(no_kwargs)
    assert len(signal.receivers) == 1
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        signal.send(Sender)


def test_without_validation_non_weakrefable_receiver_fails_at_connect(impl: Impl) -> None:
    signal = impl.Signal()

    with pytest.raises(TypeError, match="cannot create weak reference to 'int' object"):
        signal.connect(42)
    assert signal.receivers == []


# ---------------------------------------------------------------- sending


def test_send_to_registered_sender_then_disconnect(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("value")

    signal.connect(receive, sender=Sender)
    assert signal.send(sender=Sender, val="test") == [(receive, "value")]
    assert signal.disconnect(receive, sender=Sender) is True
    assert_clean(signal)


def test_send_with_no_receivers_returns_empty_list(impl: Impl) -> None:
    signal = impl.Signal()

    assert signal.send(Sender, val="test") == []
    assert signal.send(None) == []


def test_any_sender_receiver_is_reached_by_every_sender(impl: Impl) -> None:
    signal = impl.Signal()
    calls: list[object] = []

    def receive(sender, **kwargs):
        calls.append(sender)
        return "any"

    signal.connect(receive)
    assert signal.send(Sender) == [(receive, "any")]
    assert signal.send(OtherSender) == [(receive, "any")]
    assert signal.send(None) == [(receive, "any")]
    assert calls == [Sender, OtherSender, None]


def test_receiver_for_one_sender_ignores_another(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("mine")

    signal.connect(receive, sender=Sender)
    assert signal.send(OtherSender) == []
    assert signal.send(None) == []
    assert signal.send(Sender) == [(receive, "mine")]


def test_sender_matching_is_by_identity_not_subclass_or_equality(impl: Impl) -> None:
    signal = impl.Signal()

    class Child(Sender):
        pass

    receive = value_receiver(1)
    signal.connect(receive, sender=Sender)
    assert signal.send(Child) == []

    equal_a, equal_b = frozenset([1000]), frozenset([1000])
    assert equal_a == equal_b and equal_a is not equal_b
    signal.connect(receive, sender=equal_a)
    assert signal.send(equal_b) == []
    assert signal.send(equal_a) == [(receive, 1)]


def test_receivers_are_called_with_keywords_and_share_named_objects(impl: Impl) -> None:
    signal = impl.Signal()
    seen: list[tuple[str, dict[str, object]]] = []
    shared: set[int] = {1}

    def first(**kwargs):
        seen.append(("first", dict(kwargs)))
        kwargs["pk_set"].add(2)

    def second(*args, **kwargs):
        assert args == ()
        seen.append(("second", dict(kwargs)))

    signal.connect(first)
    signal.connect(second)
    signal.send(Sender, pk_set=shared)
    assert seen == [
        ("first", {"signal": signal, "sender": Sender, "pk_set": {1, 2}}),
        ("second", {"signal": signal, "sender": Sender, "pk_set": {1, 2}}),
    ]
    assert seen[0][1]["pk_set"] is shared
    assert seen[1][1]["pk_set"] is shared


def test_named_signal_argument_clashes_only_with_receivers(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver(1)

    assert signal.send(Sender, signal=1) == []
    signal.connect(receive)
    with pytest.raises(TypeError, match="got multiple values for keyword argument 'signal'"):
        signal.send(Sender, signal=1)
    [(receiver, err)] = signal.send_robust(Sender, signal=1)
    assert receiver is receive
    assert isinstance(err, TypeError)
    assert "got multiple values for keyword argument 'signal'" in str(err)


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_named_sender_argument_clashes_with_the_sender_parameter(impl: Impl, method: str) -> None:
    signal = impl.Signal()

    with pytest.raises(TypeError, match="got multiple values for argument 'sender'"):
        getattr(signal, method)(Sender, sender=1)


def test_send_propagates_first_error_and_stops(impl: Impl) -> None:
    signal = impl.Signal()
    calls: list[str] = []

    def ok(**kwargs):
        calls.append("ok")

    def fails(**kwargs):
        calls.append("fails")
        raise ValueError("boom")

    def later(**kwargs):
        calls.append("later")

    async def later_async(**kwargs):
        calls.append("later_async")

    for r in (ok, fails, later, later_async):
        signal.connect(r)
    with pytest.raises(ValueError, match="boom"):
        signal.send(Sender)
    assert calls == ["ok", "fails"]


def test_send_logs_nothing_on_error(impl: Impl, caplog: pytest.LogCaptureFixture) -> None:
    signal = impl.Signal()

    def fails(**kwargs):
        raise ValueError("boom")

    signal.connect(fails)
    with caplog.at_level(logging.DEBUG), pytest.raises(ValueError):
        signal.send(Sender)
    assert caplog.records == []


# ---------------------------------------------------------------- weak references


def test_weak_bound_method_dies_with_its_instance(impl: Impl) -> None:
    signal = impl.Signal()

    class Listener:
        def receive(self, **kwargs):
            return "alive"

    listener = Listener()
    signal.connect(listener.receive)
    gc.collect()
    assert signal.send(Sender) == [(listener.receive, "alive")]
    del listener
    gc.collect()
    assert signal.send(Sender) == []
    assert_clean(signal)


def test_bound_method_connects_once_per_instance(impl: Impl) -> None:
    signal = impl.Signal()

    class Listener:
        def __init__(self, name):
            self.name = name

        def receive(self, **kwargs):
            return self.name

    a, b = Listener("a"), Listener("b")
    signal.connect(a.receive)
    signal.connect(a.receive)
    signal.connect(b.receive)
    assert signal.send(Sender) == [(a.receive, "a"), (b.receive, "b")]
    assert signal.disconnect(a.receive) is True
    assert signal.send(Sender) == [(b.receive, "b")]


def test_weak_local_function_vanishes_when_unreferenced(impl: Impl) -> None:
    signal = impl.Signal()

    def make():
        def local(**kwargs):
            return "local"

        return local

    local = make()
    signal.connect(local)
    assert signal.has_listeners(Sender) is True
    del local
    gc.collect()
    assert signal.send(Sender) == []
    assert_clean(signal)


def test_lambda_needs_weak_false(impl: Impl) -> None:
    signal = impl.Signal()

    signal.connect(lambda **kwargs: "weak")
    gc.collect()
    assert signal.send(Sender) == []
    assert signal.has_listeners(Sender) is False

    signal.connect(lambda **kwargs: "strong", weak=False)
    gc.collect()
    [(receiver, response)] = signal.send(Sender)
    assert response == "strong"
    assert receiver(signal=signal, sender=Sender) == "strong"


def test_strong_reference_keeps_receiver_alive(impl: Impl) -> None:
    signal = impl.Signal()

    def make():
        def local(**kwargs):
            return "kept"

        return local

    local = make()
    ref = weakref.ref(local)
    signal.connect(local, weak=False)
    del local
    gc.collect()
    assert ref() is not None
    assert signal.send(Sender) == [(ref(), "kept")]
    assert signal.disconnect(ref()) is True
    gc.collect()
    assert ref() is None


def test_weak_connection_does_not_keep_receiver_alive(impl: Impl) -> None:
    signal = impl.Signal()

    class Listener:
        def __call__(self, **kwargs):
            return 1

    listener = Listener()
    ref = weakref.ref(listener)
    signal.connect(listener)
    del listener
    gc.collect()
    assert ref() is None
    assert signal.send(Sender) == []


def test_caching_signal_does_not_keep_sender_alive(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)
    any_sender = value_receiver("any")
    signal.connect(any_sender)

    sender = Sender()
    signal.connect(value_receiver("specific"), sender=sender, weak=False)
    ref = weakref.ref(sender)
    assert [r for _, r in signal.send(sender)] == ["any", "specific"]
    assert signal.has_listeners(sender) is True
    del sender
    gc.collect()
    assert ref() is None


def test_caching_signal_forgets_dead_receiver(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)

    class Listener:
        def receive(self, **kwargs):
            return "alive"

    listener = Listener()
    keep = value_receiver("kept")
    signal.connect(listener.receive, sender=Sender)
    signal.connect(keep, sender=Sender)
    assert [r for _, r in signal.send(Sender)] == ["alive", "kept"]
    del listener
    gc.collect()
    assert signal.send(Sender) == [(keep, "kept")]
    assert signal.has_listeners(Sender) is True
    assert len(signal.receivers) == 1


def test_mixed_cleanup_paths_leave_signal_clean(impl: Impl) -> None:
    signal = impl.Signal()

    def make():
        def local(**kwargs):
            return None

        return local

    first, second, third = make(), make(), make()
    signal.connect(first)
    signal.connect(second)
    signal.connect(third)
    assert signal.disconnect(first) is True
    del second
    gc.collect()
    assert signal.disconnect(third) is True
    assert_clean(signal)


# ---------------------------------------------------------------- duplicates and dispatch_uid


def test_same_callable_object_connected_six_times_is_one_entry(impl: Impl) -> None:
    signal = impl.Signal()

    class Callable:
        def __call__(self, **kwargs):
            return "called"

    target = Callable()
    for _ in range(6):
        signal.connect(target)
    assert len(signal.receivers) == 1
    assert signal.send(Sender) == [(target, "called")]
    assert signal.disconnect(target) is True
    assert_clean(signal)


def test_dispatch_uid_first_connection_wins(impl: Impl) -> None:
    signal = impl.Signal()
    first, second = value_receiver("first"), value_receiver("second")

    signal.connect(first, dispatch_uid="uid")
    signal.connect(second, dispatch_uid="uid")
    assert len(signal.receivers) == 1
    assert signal.send(Sender) == [(first, "first")]
    assert signal.disconnect(dispatch_uid="uid") is True
    assert_clean(signal)


def test_dispatch_uid_entry_is_not_removed_by_receiver(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver(1)

    signal.connect(receive, dispatch_uid="uid")
    assert signal.disconnect(receive) is False
    assert signal.send(Sender) == [(receive, 1)]
    assert signal.disconnect(value_receiver("ignored"), dispatch_uid="uid") is True
    assert_clean(signal)


def test_dispatch_uid_with_different_senders_gives_separate_entries(impl: Impl) -> None:
    signal = impl.Signal()
    first, second = value_receiver("first"), value_receiver("second")

    signal.connect(first, sender=Sender, dispatch_uid="uid")
    signal.connect(second, sender=OtherSender, dispatch_uid="uid")
    assert signal.send(Sender) == [(first, "first")]
    assert signal.send(OtherSender) == [(second, "second")]
    assert signal.disconnect(dispatch_uid="uid") is False
    assert signal.disconnect(dispatch_uid="uid", sender=Sender) is True
    assert signal.send(Sender) == []
    assert signal.send(OtherSender) == [(second, "second")]


@pytest.mark.parametrize("uid", ["", 0, None])
def test_falsy_dispatch_uid_is_ignored(impl: Impl, uid: object) -> None:
    signal = impl.Signal()
    first, second = value_receiver("first"), value_receiver("second")

    signal.connect(first, dispatch_uid=uid)
    signal.connect(second, dispatch_uid=uid)
    assert signal.send(Sender) == [(first, "first"), (second, "second")]
    assert signal.disconnect(first, dispatch_uid=uid) is True
    assert signal.send(Sender) == [(second, "second")]


def test_first_connection_wins_for_same_receiver_and_sender(impl: Impl) -> None:
    signal = impl.Signal()
    a, b = value_receiver("a"), value_receiver("b")

    signal.connect(a)
    signal.connect(b)
    signal.connect(a, weak=False)
    assert signal.send(Sender) == [(a, "a"), (b, "b")]
    assert len(signal.receivers) == 2


def test_same_receiver_for_any_sender_and_specific_sender_is_called_twice(impl: Impl) -> None:
    signal = impl.Signal()
    calls: list[object] = []

    def receive(sender, **kwargs):
        calls.append(sender)
        return len(calls)

    other = value_receiver("other")
    signal.connect(receive)
    signal.connect(other, sender=Sender)
    signal.connect(receive, sender=Sender)
    assert signal.send(Sender) == [(receive, 1), (other, "other"), (receive, 2)]
    assert signal.send(OtherSender) == [(receive, 3)]
    assert calls == [Sender, Sender, OtherSender]


def test_receivers_keep_connection_order_across_any_and_specific_senders(impl: Impl) -> None:
    signal = impl.Signal()
    names = ["any1", "spec1", "any2", "other", "spec2"]
    receivers = {name: value_receiver(name) for name in names}
    senders = {"any1": None, "spec1": Sender, "any2": None, "other": OtherSender, "spec2": Sender}
    for name in names:
        signal.connect(receivers[name], sender=senders[name])
    assert [r for _, r in signal.send(Sender)] == ["any1", "spec1", "any2", "spec2"]
    assert [r for _, r in signal.send(OtherSender)] == ["any1", "any2", "other"]


# ---------------------------------------------------------------- disconnect


def test_disconnect_reports_whether_it_removed_something(impl: Impl) -> None:
    signal = impl.Signal()
    a, b = value_receiver("a"), value_receiver("b")

    signal.connect(a)
    signal.connect(b)
    assert signal.disconnect(a) is True
    assert signal.disconnect(a) is False
    assert signal.disconnect(b) is True
    assert signal.disconnect(b) is False
    assert signal.disconnect(value_receiver("never")) is False
    assert_clean(signal)


def test_disconnect_needs_the_sender_used_to_connect(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("mine")

    signal.connect(receive, sender=Sender)
    assert signal.disconnect(receive) is False
    assert signal.disconnect(receive, sender=OtherSender) is False
    assert signal.send(Sender) == [(receive, "mine")]
    assert signal.disconnect(receive, sender=Sender) is True
    assert signal.send(Sender) == []


def test_disconnect_with_sender_returns_true_then_false_and_stops_calls(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)
    calls: list[str] = []

    def receive(**kwargs):
        calls.append("receive")

    signal.connect(receive, sender=Sender)
    signal.send(Sender)
    assert signal.disconnect(receive, sender=Sender) is True
    assert signal.disconnect(receive, sender=Sender) is False
    assert signal.send(Sender) == []
    assert calls == ["receive"]


def test_disconnect_removes_only_the_specific_sender_entry(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("r")

    signal.connect(receive)
    signal.connect(receive, sender=Sender)
    assert signal.disconnect(receive, sender=Sender) is True
    assert signal.send(Sender) == [(receive, "r")]


# ---------------------------------------------------------------- has_listeners


def test_has_listeners(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver(1)

    assert signal.has_listeners() is False
    assert signal.has_listeners(Sender) is False
    signal.connect(receive)
    assert signal.has_listeners() is True
    assert signal.has_listeners(Sender) is True
    signal.disconnect(receive)
    assert signal.has_listeners() is False
    assert signal.has_listeners(Sender) is False


def test_has_listeners_follows_sender_filter_and_counts_async(impl: Impl) -> None:
    signal = impl.Signal()

    async def receive(**kwargs):
        return 1

    signal.connect(receive, sender=Sender)
    assert signal.has_listeners(Sender) is True
    assert signal.has_listeners(OtherSender) is False
    assert signal.has_listeners() is False


# ---------------------------------------------------------------- receiver decorator


def test_receiver_decorator_connects_to_one_signal(impl: Impl) -> None:
    signal = impl.Signal()

    def receive(**kwargs):
        return "decorated"

    decorated = impl.receiver(signal)(receive)
    assert decorated is receive
    assert signal.send(Sender) == [(receive, "decorated")]


@pytest.mark.parametrize("container", [list, tuple])
def test_receiver_decorator_connects_to_each_signal(impl: Impl, container: type) -> None:
    first, second = impl.Signal(), impl.Signal()

    @impl.receiver(container([first, second]), sender=Sender)
    def receive(**kwargs):
        return "both"

    assert first.send(Sender) == [(receive, "both")]
    assert second.send(Sender) == [(receive, "both")]
    assert first.send(OtherSender) == []
    assert second.disconnect(receive, sender=Sender) is True


def test_receiver_decorator_passes_dispatch_uid_and_weak(impl: Impl) -> None:
    signal = impl.Signal()

    def make():
        @impl.receiver(signal, weak=False, dispatch_uid="uid")
        def receive(**kwargs):
            return "kept"

        @impl.receiver(signal, dispatch_uid="uid")
        def ignored(**kwargs):
            return "ignored"

    make()
    gc.collect()
    assert [r for _, r in signal.send(Sender)] == ["kept"]


# ---------------------------------------------------------------- send_robust


def test_send_robust_returns_values(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("value")

    signal.connect(receive, sender=Sender)
    assert signal.send_robust(sender=Sender, val="test") == [(receive, "value")]


def test_send_robust_with_no_receivers(impl: Impl) -> None:
    signal = impl.Signal()

    assert signal.send_robust(sender=Sender) == []


def test_send_robust_reaches_any_sender_receivers(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("any")

    signal.connect(receive)
    assert signal.send_robust(Sender) == [(receive, "any")]
    assert signal.send_robust(None) == [(receive, "any")]


def failing(**kwargs):
    raise ValueError("this is an error")


def test_send_robust_returns_and_logs_the_error(
    impl: Impl, caplog: pytest.LogCaptureFixture
) -> None:
    signal = impl.Signal()
    after = value_receiver("after")

    signal.connect(failing)
    signal.connect(after)
    with caplog.at_level(logging.ERROR, logger=impl.logger_name):
        result = signal.send_robust(Sender)
    [(receiver, err), (second, value)] = result
    assert receiver is failing
    assert isinstance(err, ValueError)
    assert err.args == ("this is an error",)
    assert err.__traceback__ is not None
    assert (second, value) == (after, "after")

    [record] = caplog.records
    assert record.name == impl.logger_name
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        "Error calling failing in Signal.send_robust() (this is an error)"
    )
    assert record.exc_info is not None
    assert record.exc_info[1] is err


def test_send_robust_logs_qualified_name(impl: Impl, caplog: pytest.LogCaptureFixture) -> None:
    signal = impl.Signal()

    class Holder:
        def method(self, **kwargs):
            raise KeyError("k")

    holder = Holder()
    signal.connect(holder.method)
    with caplog.at_level(logging.ERROR, logger=impl.logger_name):
        [(_, err)] = signal.send_robust(Sender)
    assert isinstance(err, KeyError)
    [record] = caplog.records
    assert record.getMessage() == (
        "Error calling test_send_robust_logs_qualified_name.<locals>.Holder.method "
        "in Signal.send_robust() ('k')"
    )


def test_send_robust_does_not_catch_base_exceptions(impl: Impl) -> None:
    signal = impl.Signal()
    calls: list[str] = []

    def interrupted(**kwargs):
        calls.append("interrupted")
        raise KeyboardInterrupt

    def later(**kwargs):
        calls.append("later")

    signal.connect(interrupted)
    signal.connect(later)
    with pytest.raises(KeyboardInterrupt):
        signal.send_robust(Sender)
    assert calls == ["interrupted"]


def test_send_robust_does_not_catch_base_exceptions_from_async(impl: Impl) -> None:
    signal = impl.Signal()

    async def exits(**kwargs):
        raise SystemExit(3)

    signal.connect(exits)
    with pytest.raises(SystemExit):
        signal.send_robust(Sender)


class CallableFailing:
    """A failing receiver without ``__qualname__`` on the instance."""

    def __call__(self, **kwargs):
        raise ValueError("no qualname")

    def __repr__(self) -> str:
        return "<CallableFailing>"


def test_django_send_robust_crashes_on_receiver_without_qualname() -> None:
    from django.dispatch import Signal

    signal = Signal()
    target = CallableFailing()
    signal.connect(target)
    with pytest.raises(AttributeError):
        signal.send_robust(Sender)


def test_sigcli_send_robust_logs_repr_of_receiver_without_qualname(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sigcli.dispatcher import Signal

    signal = Signal()
    target = CallableFailing()
    after = value_receiver("after")
    signal.connect(target)
    signal.connect(after)
    with caplog.at_level(logging.ERROR, logger="sigcli.dispatch"):
        [(receiver, err), second] = signal.send_robust(Sender)
    assert receiver is target
    assert isinstance(err, ValueError) and err.args == ("no qualname",)
    assert second == (after, "after")
    [record] = caplog.records
    assert record.getMessage() == (
        "Error calling <CallableFailing> in Signal.send_robust() (no qualname)"
    )


def test_sigcli_send_robust_logs_repr_of_failing_partial(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from sigcli.dispatcher import Signal

    signal = Signal()
    target = functools.partial(failing)
    signal.connect(target)
    with caplog.at_level(logging.ERROR, logger="sigcli.dispatch"):
        [(receiver, err)] = signal.send_robust(Sender)
    assert receiver is target
    [record] = caplog.records
    assert record.getMessage() == (
        f"Error calling {target!r} in Signal.send_robust() (this is an error)"
    )


# ---------------------------------------------------------------- snapshot per send


def test_receivers_disconnecting_themselves_during_dispatch(impl: Impl) -> None:
    signal = impl.Signal()
    calls: list[str] = []

    def make(name):
        def receive(**kwargs):
            calls.append(name)
            signal.disconnect(receive)
            return name

        return receive

    first, second, third = make("first"), make("second"), make("third")
    for r in (first, second, third):
        signal.connect(r)
    assert signal.send(Sender) == [(first, "first"), (second, "second"), (third, "third")]
    assert calls == ["first", "second", "third"]
    assert_clean(signal)


def test_receiver_disconnecting_a_later_one_does_not_stop_it(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)
    later = value_receiver("later")

    removed: list[bool] = []

    def remover(**kwargs):
        removed.append(signal.disconnect(later, sender=Sender))
        return "remover"

    signal.connect(remover, sender=Sender)
    signal.connect(later, sender=Sender)
    assert signal.send_robust(Sender) == [(remover, "remover"), (later, "later")]
    assert signal.send(Sender) == [(remover, "remover")]
    assert removed == [True, False]


def test_receiver_connected_during_send_runs_from_next_send(impl: Impl) -> None:
    signal = impl.Signal()
    added = value_receiver("added")

    def connector(**kwargs):
        signal.connect(added)
        return "connector"

    signal.connect(connector)
    assert signal.send(Sender) == [(connector, "connector")]
    assert signal.send(Sender) == [(connector, "connector"), (added, "added")]


def test_nested_send_from_a_receiver(impl: Impl) -> None:
    outer, inner = impl.Signal(), impl.Signal()
    calls: list[str] = []

    def inner_receiver(**kwargs):
        calls.append("inner")
        return "inner"

    def outer_receiver(**kwargs):
        calls.append("outer-start")
        result = inner.send(Sender)
        calls.append("outer-end")
        return result

    def outer_last(**kwargs):
        calls.append("outer-last")

    inner.connect(inner_receiver)
    outer.connect(outer_receiver)
    outer.connect(outer_last)
    assert outer.send(Sender) == [
        (outer_receiver, [(inner_receiver, "inner")]),
        (outer_last, None),
    ]
    assert calls == ["outer-start", "inner", "outer-end", "outer-last"]


# ---------------------------------------------------------------- caching sharp edges


@pytest.mark.parametrize("sender", [None, "str", 42])
def test_caching_signal_rejects_non_weakrefable_sender(impl: Impl, sender: object) -> None:
    signal = impl.Signal(use_caching=True)

    assert signal.send(sender) == []
    receive = value_receiver(1)
    signal.connect(receive)
    kind = type(sender).__name__
    with pytest.raises(TypeError, match=f"cannot create weak reference to '{kind}' object"):
        signal.send(sender)
    with pytest.raises(TypeError, match=f"cannot create weak reference to '{kind}' object"):
        signal.send_robust(sender)
    with pytest.raises(TypeError, match=f"cannot create weak reference to '{kind}' object"):
        asyncio.run(signal.asend(sender))


def test_caching_signal_has_listeners_needs_a_sender(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)

    with pytest.raises(TypeError, match="cannot create weak reference to 'NoneType' object"):
        signal.has_listeners()
    receive = value_receiver(1)
    signal.connect(receive)
    with pytest.raises(TypeError, match="cannot create weak reference to 'NoneType' object"):
        signal.has_listeners()
    assert signal.has_listeners(Sender) is True


def test_caching_signal_sees_new_connections(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)
    first, second = value_receiver("first"), value_receiver("second")

    assert signal.send(Sender) == []
    assert signal.has_listeners(Sender) is False
    signal.connect(first, sender=OtherSender)
    assert signal.send(Sender) == []
    signal.connect(second)
    assert signal.send(Sender) == [(second, "second")]
    signal.connect(first, sender=Sender)
    assert signal.send(Sender) == [(second, "second"), (first, "first")]
    assert signal.send(OtherSender) == [(first, "first"), (second, "second")]


def test_non_caching_signal_unhashable_sender_fails_only_with_receivers(impl: Impl) -> None:
    signal = impl.Signal()

    assert signal.send([]) == []
    assert signal.send_robust({}) == []
    receive = value_receiver(1)
    signal.connect(receive)
    with pytest.raises(TypeError, match="unhashable type: 'list'"):
        signal.send([])
    with pytest.raises(TypeError, match="unhashable type: 'dict'"):
        signal.send_robust({})


def test_non_caching_signal_accepts_non_weakrefable_senders(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver(1)

    signal.connect(receive, sender="label")
    signal.connect(receive)
    assert signal.send("label") == [(receive, 1), (receive, 1)]
    assert signal.send(42) == [(receive, 1)]
    assert signal.has_listeners() is True


# ---------------------------------------------------------------- sync and async receivers


def make_logged(log: list[str], name: str, *, is_async: bool, fails: bool = False):
    if is_async:

        async def receive(**kwargs):
            log.append(name)
            if fails:
                raise ValueError(name)
            return name

    else:

        def receive(**kwargs):
            log.append(name)
            if fails:
                raise ValueError(name)
            return name

    receive.__qualname__ = name
    return receive


def connect_mixed(signal: Any, log: list[str]) -> dict[str, Any]:
    receivers = {
        "a1": make_logged(log, "a1", is_async=True),
        "s1": make_logged(log, "s1", is_async=False),
        "a2": make_logged(log, "a2", is_async=True),
        "s2": make_logged(log, "s2", is_async=False),
    }
    for r in receivers.values():
        signal.connect(r)
    return receivers


@pytest.mark.parametrize("method", ["send", "send_robust"])
def test_sync_send_runs_sync_receivers_first_then_async(impl: Impl, method: str) -> None:
    signal = impl.Signal()
    log: list[str] = []
    r = connect_mixed(signal, log)

    result = getattr(signal, method)(Sender)
    assert result == [(r["s1"], "s1"), (r["s2"], "s2"), (r["a1"], "a1"), (r["a2"], "a2")]
    assert log == ["s1", "s2", "a1", "a2"]


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_async_send_returns_sync_first_but_starts_async_first(impl: Impl, method: str) -> None:
    signal = impl.Signal()
    log: list[str] = []
    r = connect_mixed(signal, log)

    result = asyncio.run(getattr(signal, method)(Sender))
    assert result == [(r["s1"], "s1"), (r["s2"], "s2"), (r["a1"], "a1"), (r["a2"], "a2")]
    assert log == ["a1", "a2", "s1", "s2"]


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_async_receivers_run_concurrently(impl: Impl, method: str) -> None:
    signal = impl.Signal()
    log: list[str] = []

    def make(name):
        async def receive(**kwargs):
            log.append(f"{name}-start")
            await asyncio.sleep(0)
            log.append(f"{name}-end")
            return name

        return receive

    a1, a2 = make("a1"), make("a2")
    signal.connect(a1)
    signal.connect(a2)
    call = getattr(signal, method)(Sender)
    result = asyncio.run(call) if method.startswith("a") else call
    assert result == [(a1, "a1"), (a2, "a2")]
    assert log == ["a1-start", "a2-start", "a1-end", "a2-end"]


def test_asend_one_sync_one_async(impl: Impl) -> None:
    signal = impl.Signal()
    log: list[str] = []
    async_receiver = make_logged(log, "async", is_async=True)
    sync_receiver = make_logged(log, "sync", is_async=False)
    signal.connect(async_receiver)
    signal.connect(sync_receiver)

    result = asyncio.run(signal.asend(Sender))
    assert result == [(sync_receiver, "sync"), (async_receiver, "async")]


def test_send_one_sync_one_async(impl: Impl) -> None:
    signal = impl.Signal()
    log: list[str] = []
    async_receiver = make_logged(log, "async", is_async=True)
    sync_receiver = make_logged(log, "sync", is_async=False)
    signal.connect(async_receiver)
    signal.connect(sync_receiver)

    assert signal.send(Sender) == [(sync_receiver, "sync"), (async_receiver, "async")]
    assert log == ["sync", "async"]


@pytest.mark.parametrize("method", ["send_robust", "asend_robust"])
def test_robust_ordering_with_failing_async_receiver(
    impl: Impl, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    signal = impl.Signal()
    log: list[str] = []
    failing_async = make_logged(log, "failing_async", is_async=True, fails=True)
    async_ok = make_logged(log, "async_ok", is_async=True)
    sync_ok = make_logged(log, "sync_ok", is_async=False)
    for r in (failing_async, async_ok, sync_ok):
        signal.connect(r)

    with caplog.at_level(logging.ERROR, logger=impl.logger_name):
        call = getattr(signal, method)(Sender)
        result = asyncio.run(call) if method.startswith("a") else call
    [(r1, v1), (r2, v2), (r3, v3)] = result
    assert (r1, v1) == (sync_ok, "sync_ok")
    assert r2 is failing_async
    assert isinstance(v2, ValueError) and v2.args == ("failing_async",)
    assert (r3, v3) == (async_ok, "async_ok")
    assert [rec.getMessage() for rec in caplog.records] == [
        "Error calling failing_async in Signal.send_robust() (failing_async)"
    ]


def test_asend_robust_captures_sync_errors_individually(
    impl: Impl, caplog: pytest.LogCaptureFixture
) -> None:
    signal = impl.Signal()
    log: list[str] = []
    s1 = make_logged(log, "s1", is_async=False, fails=True)
    s2 = make_logged(log, "s2", is_async=False)
    signal.connect(s1)
    signal.connect(s2)

    with caplog.at_level(logging.ERROR, logger=impl.logger_name):
        [(r1, v1), (r2, v2)] = asyncio.run(signal.asend_robust(Sender))
    assert r1 is s1 and isinstance(v1, ValueError)
    assert (r2, v2) == (s2, "s2")
    assert log == ["s1", "s2"]
    assert len(caplog.records) == 1


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_async_send_with_only_async_receivers(impl: Impl, method: str) -> None:
    signal = impl.Signal()
    log: list[str] = []
    a1 = make_logged(log, "a1", is_async=True)
    a2 = make_logged(log, "a2", is_async=True)
    signal.connect(a1)
    signal.connect(a2)

    assert asyncio.run(getattr(signal, method)(Sender)) == [(a1, "a1"), (a2, "a2")]
    assert log == ["a1", "a2"]


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_async_send_with_no_receivers(impl: Impl, method: str) -> None:
    signal = impl.Signal()

    assert asyncio.run(getattr(signal, method)(Sender)) == []


@pytest.mark.parametrize("method", ["asend", "asend_robust"])
def test_async_send_with_only_sync_receivers(impl: Impl, method: str) -> None:
    signal = impl.Signal()
    log: list[str] = []
    s1 = make_logged(log, "s1", is_async=False)
    s2 = make_logged(log, "s2", is_async=False)
    signal.connect(s1)
    signal.connect(s2, sender=Sender)

    assert asyncio.run(getattr(signal, method)(Sender)) == [(s1, "s1"), (s2, "s2")]
    assert asyncio.run(getattr(signal, method)(OtherSender)) == [(s1, "s1")]
    assert log == ["s1", "s2", "s1"]


def test_asend_propagates_errors(impl: Impl) -> None:
    signal = impl.Signal()
    log: list[str] = []
    bad = make_logged(log, "bad", is_async=True, fails=True)
    signal.connect(bad)

    with pytest.raises(ValueError, match="bad"):
        asyncio.run(signal.asend(Sender))


def test_send_propagates_async_error(impl: Impl) -> None:
    signal = impl.Signal()
    log: list[str] = []
    ok = make_logged(log, "ok", is_async=False)
    bad = make_logged(log, "bad", is_async=True, fails=True)
    signal.connect(ok)
    signal.connect(bad)

    with pytest.raises(ValueError, match="bad"):
        signal.send(Sender)
    assert log == ["ok", "bad"]


def test_send_with_async_receiver_inside_running_loop_raises(impl: Impl) -> None:
    signal = impl.Signal()
    log: list[str] = []
    sync_receiver = make_logged(log, "sync", is_async=False)
    async_receiver = make_logged(log, "async", is_async=True)
    signal.connect(sync_receiver)
    signal.connect(async_receiver)

    async def main():
        with pytest.raises(RuntimeError):
            signal.send(Sender)

    asyncio.run(main())
    assert "async" not in log


def test_send_with_only_sync_receivers_inside_running_loop_works(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("sync")
    signal.connect(receive)

    async def main():
        return signal.send(Sender)

    assert asyncio.run(main()) == [(receive, "sync")]


class AsyncCallable:
    async def __call__(self, **kwargs):
        return "instance"


async def async_with_arg(value, **kwargs):
    return value


def marked_factory():
    def marked(**kwargs):
        async def run():
            return "marked"

        return run()

    return markcoroutinefunction(marked)


class AsyncMethodHolder:
    async def method(self, **kwargs):
        return "method"


@pytest.mark.parametrize(
    ("kind", "expected_async"),
    [("partial", True), ("marked", True), ("bound", True), ("instance", False)],
)
def test_async_detection_matches_django(impl: Impl, kind: str, expected_async: bool) -> None:
    holder = AsyncMethodHolder()
    targets = {
        "partial": lambda: functools.partial(async_with_arg, "partial"),
        "marked": marked_factory,
        "bound": lambda: holder.method,
        "instance": AsyncCallable,
    }
    signal = impl.Signal()
    target = targets[kind]()
    signal.connect(target, weak=False)

    [(receiver, response)] = signal.send(Sender)
    if expected_async:
        assert response == {"partial": "partial", "marked": "marked", "bound": "method"}[kind]
    else:
        assert asyncio.iscoroutine(response)
        assert asyncio.run(response) == "instance"


def test_partial_of_marked_function_is_sync(impl: Impl) -> None:
    signal = impl.Signal()
    target = functools.partial(marked_factory())
    signal.connect(target, weak=False)

    [(receiver, response)] = signal.send(Sender)
    assert receiver is target
    assert asyncio.iscoroutine(response)
    assert asyncio.run(response) == "marked"


def test_unhashable_dispatch_uid_is_accepted(impl: Impl) -> None:
    signal = impl.Signal()
    first, second = value_receiver("first"), value_receiver("second")

    signal.connect(first, dispatch_uid=["uid"])
    signal.connect(second, dispatch_uid=["uid"])
    assert signal.send(Sender) == [(first, "first")]
    assert signal.disconnect(dispatch_uid=["uid"]) is True
    assert_clean(signal)


class EqualSender:
    """Distinct objects that compare and hash equal."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EqualSender)

    def __hash__(self) -> int:
        return 1


def test_caching_signal_cache_is_keyed_by_sender_equality(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)
    first, second = EqualSender(), EqualSender()
    receive = value_receiver("first only")
    signal.connect(receive, sender=first)

    assert signal.send(first) == [(receive, "first only")]
    assert signal.send(second) == [(receive, "first only")]
    signal.connect(receive, sender=OtherSender)
    assert signal.send(second) == []
    assert signal.send(first) == []
    assert signal.has_listeners(first) is False


def test_non_caching_signal_matches_equal_senders_by_identity(impl: Impl) -> None:
    signal = impl.Signal()
    first, second = EqualSender(), EqualSender()
    receive = value_receiver("first only")
    signal.connect(receive, sender=first)

    assert signal.send(second) == []
    assert signal.send(first) == [(receive, "first only")]
    assert signal.send(second) == []


def test_caching_has_listeners_without_sender_still_prunes_dead_receivers(impl: Impl) -> None:
    signal = impl.Signal(use_caching=True)

    def make():
        def local(**kwargs):
            return None

        return local

    local = make()
    signal.connect(local)
    del local
    gc.collect()
    assert len(signal.receivers) == 1
    with pytest.raises(TypeError, match="cannot create weak reference to 'NoneType' object"):
        signal.has_listeners()
    assert signal.receivers == []


LOCAL_LOOKING_NAMES = [
    "r",
    "r0",
    "r1",
    "ref",
    "refs",
    "live",
    "receivers",
    "result",
    "results",
    "caller",
    "names",
    "named",
    "kwargs",
    "args",
    "signal_",
    "sender_",
    "_r0",
    "__r0",
    "__refs",
    "__signal",
    "__sender",
    "__live",
    "__r",
    "__ref",
    "__named",
    "_call",
]


def test_named_arguments_with_any_names_reach_every_receiver_in_order(impl: Impl) -> None:
    signal = impl.Signal()
    seen: list[list[tuple[str, object]]] = []

    def make():
        def receive(**kwargs):
            seen.append(list(kwargs.items()))
            return len(seen)

        return receive

    receivers = [make() for _ in range(3)]
    for r in receivers:
        signal.connect(r)
    named = {name: index for index, name in enumerate(LOCAL_LOOKING_NAMES)}
    named.update({"class": "keyword", "not-an-identifier": "dash", "ünï": "unicode"})

    for _attempt in range(2):
        seen.clear()
        result = signal.send(Sender, **named)
        assert result == [(receivers[0], 1), (receivers[1], 2), (receivers[2], 3)]
        expected = [("signal", signal), ("sender", Sender), *named.items()]
        assert seen == [expected] * 3


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_any_number_of_receivers_with_a_mix_of_references(impl: Impl, count: int) -> None:
    signal = impl.Signal()

    class Listener:
        def __init__(self, index):
            self.index = index

        def receive(self, **kwargs):
            return ("method", self.index, kwargs["value"])

    def make(index):
        def receive(**kwargs):
            return ("function", index, kwargs["value"])

        return receive

    keep = []
    expected = []
    for index in range(count):
        if index % 2:
            listener = Listener(index)
            keep.append(listener)
            signal.connect(listener.receive, weak=index % 3 == 0)
            expected.append((listener.receive, ("method", index, "v")))
        else:
            function = make(index)
            keep.append(function)
            signal.connect(function, weak=index % 4 == 0, sender=Sender)
            expected.append((function, ("function", index, "v")))
    assert signal.send(Sender, value="v") == expected
    assert signal.send(Sender, value="v") == expected
    assert signal.send_robust(Sender, value="v") == expected


def test_receiver_dropped_during_send_is_still_called_in_that_send(impl: Impl) -> None:
    signal = impl.Signal()
    holder: dict[str, Any] = {}
    calls: list[str] = []

    class Listener:
        def receive(self, **kwargs):
            calls.append("method")
            return "method"

    def make():
        def later(**kwargs):
            calls.append("later")
            return "later"

        return later

    def dropper(**kwargs):
        calls.append("dropper")
        holder.clear()
        gc.collect()
        return "dropper"

    holder["later"] = make()
    holder["listener"] = Listener()
    signal.connect(dropper)
    signal.connect(holder["later"])
    signal.connect(holder["listener"].receive)

    [first, second, third] = signal.send(Sender)
    assert first == (dropper, "dropper")
    assert second[1] == "later" and third[1] == "method"
    del first, second, third
    gc.collect()
    assert signal.send(Sender) == [(dropper, "dropper")]
    assert calls == ["dropper", "later", "method", "dropper"]
    assert len(signal.receivers) == 1


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_sender_may_be_passed_by_keyword(impl: Impl, method: str) -> None:
    signal = impl.Signal()
    receive = value_receiver("kw")
    signal.connect(receive, sender=Sender)

    call = getattr(signal, method)(sender=Sender, extra=1)
    result = asyncio.run(call) if method.startswith("a") else call
    assert result == [(receive, "kw")]


def test_connect_returns_none(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver(1)

    assert signal.connect(receive) is None
    assert signal.connect(receive) is None


def test_receiver_decorator_treats_other_iterables_as_one_signal(impl: Impl) -> None:
    signal = impl.Signal()

    with pytest.raises(AttributeError):
        impl.receiver({signal})(value_receiver(1))
    assert signal.receivers == []


@pytest.mark.parametrize("target", [print, dict])
def test_validation_of_callables_without_signature(impl: Impl, target: object) -> None:
    signal = impl.Signal()

    with impl.validating(), pytest.raises(ValueError):
        signal.connect(target, weak=False)
    assert signal.receivers == []


def test_validation_accepts_bound_methods_partials_and_classes(impl: Impl) -> None:
    signal = impl.Signal()

    class Receiver:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

        def method(self, sender, **kwargs):
            return "method"

    holder = Receiver()
    partial = functools.partial(failing)
    with impl.validating():
        signal.connect(holder.method)
        signal.connect(partial, weak=False)
        signal.connect(Receiver, weak=False)
    assert len(signal.receivers) == 3


def test_sync_to_async_inside_async_receiver_runs_on_sending_thread(impl: Impl) -> None:
    import threading

    from asgiref.sync import sync_to_async

    signal = impl.Signal()
    sending_thread = threading.get_ident()

    async def receive(**kwargs):
        return await sync_to_async(threading.get_ident)()

    signal.connect(receive)
    [(_, thread)] = signal.send(Sender)
    assert thread == sending_thread


@pytest.mark.parametrize("use_caching", [False, True])
def test_muting_a_signal_by_swapping_its_receivers_list(impl: Impl, use_caching: bool) -> None:
    """The pattern of factory_boy's ``mute_signals``: stash ``receivers``,
    replace it with an empty list, later put it back and clear
    ``sender_receivers_cache`` under ``lock``."""
    signal = impl.Signal(use_caching=use_caching)
    receive = value_receiver("r")
    signal.connect(receive)
    assert signal.send(Sender) == [(receive, "r")]

    paused = signal.receivers
    signal.receivers = []
    assert signal.send(Sender) == []
    assert signal.send_robust(Sender) == []
    assert asyncio.run(signal.asend(Sender)) == []
    assert signal.has_listeners(Sender) is use_caching

    signal.receivers = paused
    with signal.lock:
        signal.sender_receivers_cache.clear()
    assert signal.send(Sender) == [(receive, "r")]
    assert signal.has_listeners(Sender) is True


def test_clearing_receivers_in_place_silences_the_signal(impl: Impl) -> None:
    signal = impl.Signal()
    receive = value_receiver("r")
    signal.connect(receive)
    assert signal.send(Sender) == [(receive, "r")]

    signal.receivers.clear()
    assert signal.send(Sender) == []
    assert signal.has_listeners(Sender) is False
    signal.connect(receive)
    assert signal.send(Sender) == [(receive, "r")]


def test_non_caching_signal_reads_a_swapped_receivers_list(impl: Impl) -> None:
    first, second = impl.Signal(), impl.Signal()
    mine, theirs = value_receiver("mine"), value_receiver("theirs")
    first.connect(mine)
    second.connect(theirs)
    assert first.send(Sender) == [(mine, "mine")]

    saved = first.receivers
    first.receivers = list(second.receivers)
    assert first.send(Sender) == [(theirs, "theirs")]
    assert first.send_robust(Sender) == [(theirs, "theirs")]
    first.receivers = saved
    assert first.send(Sender) == [(mine, "mine")]


def test_non_caching_signal_sees_entries_edited_in_place(impl: Impl) -> None:
    signal, other = impl.Signal(), impl.Signal()
    first, second, extra = value_receiver("first"), value_receiver("second"), value_receiver("x")
    signal.connect(first)
    signal.connect(second)
    other.connect(extra)
    assert signal.send(Sender) == [(first, "first"), (second, "second")]

    del signal.receivers[0]
    assert signal.send(Sender) == [(second, "second")]
    signal.receivers.append(other.receivers[0])
    assert signal.send(Sender) == [(second, "second"), (extra, "x")]


def test_strongly_connected_none_is_a_receiver_that_fails_when_called(impl: Impl) -> None:
    signal = impl.Signal()

    signal.connect(None, weak=False)
    assert signal.has_listeners(Sender) is True
    with pytest.raises(TypeError, match="'NoneType' object is not callable"):
        signal.send(Sender)
    assert signal.disconnect() is True
    assert signal.receivers == []
