"""sigcli.capture(): no settings left changed, nested captures, filters, exports."""

from __future__ import annotations

import gc
from typing import Any

import sigcli
from sigcli import trace as trace_module
from sigcli.dispatcher import Signal
from sigcli.testing import recording_signals


def named(name: str) -> Signal:
    signal = Signal()
    signal.name = name
    return signal


class Sender:
    pass


def test_the_garbage_collector_is_left_as_it_was() -> None:
    before = gc.get_threshold(), gc.isenabled()
    ping = named("ping")
    ping.connect(print_nothing)
    try:
        with sigcli.capture():
            assert (gc.get_threshold(), gc.isenabled()) == before
            ping.send(sender=None)
            assert (gc.get_threshold(), gc.isenabled()) == before
        assert (gc.get_threshold(), gc.isenabled()) == before
    finally:
        ping.disconnect(print_nothing)


def print_nothing(sender: Any, **kwargs: Any) -> None:
    pass


def test_a_capture_inside_another_leaves_the_outer_one_complete() -> None:
    a, b, c, d = (named(name) for name in "abcd")

    def on_b(sender: Any, **kwargs: Any) -> str:
        c.send(sender=Sender)
        return "b done"

    b.connect(on_b)
    with sigcli.capture() as outer:
        a.send(sender=None)
        with sigcli.capture() as inner:
            b.send(sender=Sender, n=1)
        d.send(sender=None)
    assert [(x.seq, x.signal, x.sender, x.depth) for x in outer.dispatches()] == [
        (1, "a", None, 1),
        (2, "b", "Sender", 1),
        (3, "c", "Sender", 2),
        (4, "d", None, 1),
    ]
    assert [(x.seq, x.signal, x.depth) for x in inner.dispatches()] == [(1, "b", 1), (2, "c", 2)]
    [outer_b] = outer.dispatches("b")
    [inner_b] = inner.dispatches("b")
    for dispatch in (outer_b, inner_b):
        assert [(r.name, r.called, r.result) for r in dispatch.receivers] == [
            (
                "test_a_capture_inside_another_leaves_the_outer_one_complete.<locals>.on_b",
                True,
                "b done",
            )
        ]
    assert inner_b.kwargs == outer_b.kwargs == {"n": 1}


def test_a_capture_inside_a_test_recording_leaves_the_fixture_complete() -> None:
    ping = named("ping")
    with recording_signals() as signals:
        ping.send(sender=Sender)
        with sigcli.capture() as trace:
            ping.send(sender=None)
        ping.send(sender=Sender)
    assert [(x.signal, x.sender) for x in trace.dispatches()] == [("ping", None)]
    assert [(x.seq, x.sender) for x in signals.dispatches(ping)] == [
        (1, "Sender"),
        (2, None),
        (3, "Sender"),
    ]
    signals.assert_sent(ping, sender=Sender, times=2)


def test_dispatches_filter_by_signal_and_sender_as_objects_or_names() -> None:
    ping, pong = named("ping"), named("pong")
    with sigcli.capture() as trace:
        ping.send(sender=Sender)
        pong.send(sender=Sender)
        ping.send(sender=None)
    assert [x.seq for x in trace.dispatches(ping)] == [1, 3]
    assert [x.seq for x in trace.dispatches("ping", sender=Sender)] == [1]
    assert [x.seq for x in trace.dispatches(sender="Sender")] == [1, 2]
    assert [x.seq for x in trace.dispatches(pong, sender=object)] == []


def test_the_trace_types_are_exported_from_sigcli() -> None:
    for name in ("Trace", "Step", "Dispatch", "ReceiverCall", "Operation", "SqlStatement"):
        assert getattr(sigcli, name) is getattr(trace_module, name)
    assert sigcli.SkipReason.SENDER_MISMATCH.value == "sender_mismatch"
    with sigcli.capture() as trace:
        named("ping").send(sender=None)
    assert isinstance(trace, sigcli.Trace)
    assert all(isinstance(x, sigcli.Dispatch) for x in trace.dispatches())


def test_capture_records_djangos_signals_too_and_nests_over_them() -> None:
    from django.db import transaction
    from django.db.models.signals import post_save

    from tests.djangoapp.models import Author

    def stamp(sender: Any, instance: Any, **kwargs: Any) -> str:
        return f"stamped {instance.name}"

    post_save.connect(stamp, sender=Author)
    try:
        with transaction.atomic(), sigcli.capture() as outer:
            with sigcli.capture() as inner:
                Author.objects.create(name="ann")
            transaction.set_rollback(True)
    finally:
        post_save.disconnect(stamp, sender=Author)
    for trace in (outer, inner):
        assert [(x.signal, x.sender) for x in trace.dispatches()] == [
            ("pre_init", "Author"),
            ("post_init", "Author"),
            ("pre_save", "Author"),
            ("post_save", "Author"),
        ]
        [saved] = trace.dispatches(post_save, sender=Author)
        assert [(r.name, r.called, r.result) for r in saved.receivers] == [
            (
                "test_capture_records_djangos_signals_too_and_nests_over_them.<locals>.stamp",
                True,
                "stamped ann",
            )
        ]
