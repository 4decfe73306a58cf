"""The send observer sees every send, every connected receiver with this
send's decision for it, each call's result or exception, and the end of the
dispatch; nested sends nest; with no observer nothing is recorded."""

from __future__ import annotations

import asyncio
import gc
import inspect
from typing import Any

import pytest

from sigcli.dispatcher import (
    Decision,
    ReceiverInfo,
    ReceiverPlan,
    Signal,
    current_observer,
    observe,
)

CALL, SKIP_SENDER, SKIP_DEAD = Decision.CALL, Decision.SKIP_SENDER, Decision.SKIP_DEAD


class Sender:
    pass


class OtherSender:
    pass


def error_name(error: BaseException | None) -> str | None:
    return None if error is None else type(error).__name__


class Recorder:
    """Records every observer call as a plain tuple, with signal labels."""

    def __init__(self, labels: dict[Signal, str]) -> None:
        self.labels = labels
        self.events: list[tuple[Any, ...]] = []
        self.plans: list[list[ReceiverPlan]] = []
        self.started_infos: list[ReceiverInfo] = []

    def send_started(
        self,
        signal: Signal,
        sender: object,
        named: dict[str, Any],
        plan: list[ReceiverPlan],
        robust: bool,
    ) -> None:
        self.plans.append(plan)
        self.events.append(
            (
                "send_started",
                self.labels[signal],
                sender,
                dict(named),
                [(p.info.name, p.info.sender_label, p.decision) for p in plan],
                robust,
            )
        )

    def receiver_started(self, signal: Signal, info: ReceiverInfo) -> None:
        self.started_infos.append(info)
        self.events.append(("receiver_started", self.labels[signal], info.name))

    def receiver_finished(
        self, signal: Signal, info: ReceiverInfo, result: Any, error: BaseException | None
    ) -> None:
        self.events.append(
            ("receiver_finished", self.labels[signal], info.name, result, error_name(error))
        )

    def send_finished(self, signal: Signal, error: BaseException | None) -> None:
        self.events.append(("send_finished", self.labels[signal], error_name(error)))


def named(name: str, result: object = None, *, fails: BaseException | None = None):
    def receive(**kwargs):
        if fails is not None:
            raise fails
        return result

    receive.__qualname__ = name
    return receive


def named_async(name: str, result: object = None, *, fails: BaseException | None = None):
    async def receive(**kwargs):
        if fails is not None:
            raise fails
        return result

    receive.__qualname__ = name
    return receive


@pytest.fixture
def signal() -> Signal:
    return Signal()


@pytest.fixture
def recorder(signal: Signal) -> Recorder:
    return Recorder({signal: "sig"})


def test_plan_lists_every_connected_receiver_with_its_decision(
    signal: Signal, recorder: Recorder
) -> None:
    any_sender = named("any_sender", 1)
    mine = named("mine", 2)
    theirs = named("theirs", 3)
    signal.connect(any_sender)
    signal.connect(mine, sender=Sender)
    signal.connect(theirs, sender=OtherSender)

    with observe(recorder):
        result = signal.send(Sender, value=7)
    assert result == [(any_sender, 1), (mine, 2)]
    assert recorder.events == [
        (
            "send_started",
            "sig",
            Sender,
            {"value": 7},
            [
                ("any_sender", None, CALL),
                ("mine", "Sender", CALL),
                ("theirs", "OtherSender", SKIP_SENDER),
            ],
            False,
        ),
        ("receiver_started", "sig", "any_sender"),
        ("receiver_finished", "sig", "any_sender", 1, None),
        ("receiver_started", "sig", "mine"),
        ("receiver_finished", "sig", "mine", 2, None),
        ("send_finished", "sig", None),
    ]


def test_dead_weak_receiver_is_planned_as_skipped(signal: Signal, recorder: Recorder) -> None:
    alive = named("alive", "yes")
    dying = named("dying", "no")
    signal.connect(dying)
    signal.connect(alive)
    del dying
    gc.collect()

    with observe(recorder):
        assert signal.send(Sender) == [(alive, "yes")]
        assert signal.send(Sender) == [(alive, "yes")]
    first, second = (e[4] for e in recorder.events if e[0] == "send_started")
    assert first == [("dying", None, SKIP_DEAD), ("alive", None, CALL)]
    assert second == [("alive", None, CALL)]


def test_send_started_even_with_no_receivers(signal: Signal, recorder: Recorder) -> None:
    with observe(recorder):
        assert signal.send(Sender, x=1) == []
        assert signal.send_robust(None) == []
    assert recorder.events == [
        ("send_started", "sig", Sender, {"x": 1}, [], False),
        ("send_finished", "sig", None),
        ("send_started", "sig", None, {}, [], True),
        ("send_finished", "sig", None),
    ]


def test_send_with_only_other_senders_receivers(signal: Signal, recorder: Recorder) -> None:
    theirs = named("theirs")
    signal.connect(theirs, sender=OtherSender)

    with observe(recorder):
        assert signal.send(Sender) == []
    assert recorder.events == [
        ("send_started", "sig", Sender, {}, [("theirs", "OtherSender", SKIP_SENDER)], False),
        ("send_finished", "sig", None),
    ]


def test_send_robust_reports_each_exception_and_continues(
    signal: Signal, recorder: Recorder
) -> None:
    bad = named("bad", fails=ValueError("boom"))
    good = named("good", "fine")
    signal.connect(bad)
    signal.connect(good)

    with observe(recorder):
        [(r1, err), (r2, value)] = signal.send_robust(Sender)
    assert r1 is bad and isinstance(err, ValueError)
    assert (r2, value) == (good, "fine")
    assert recorder.events[1:] == [
        ("receiver_started", "sig", "bad"),
        ("receiver_finished", "sig", "bad", None, "ValueError"),
        ("receiver_started", "sig", "good"),
        ("receiver_finished", "sig", "good", "fine", None),
        ("send_finished", "sig", None),
    ]
    assert recorder.events[0][5] is True


def test_send_reports_the_exception_then_propagates(signal: Signal, recorder: Recorder) -> None:
    bad = named("bad", fails=KeyError("k"))
    never = named("never")
    signal.connect(bad)
    signal.connect(never)

    with observe(recorder), pytest.raises(KeyError):
        signal.send(Sender)
    assert recorder.events[0][4] == [("bad", None, CALL), ("never", None, CALL)]
    assert recorder.events[1:] == [
        ("receiver_started", "sig", "bad"),
        ("receiver_finished", "sig", "bad", None, "KeyError"),
        ("send_finished", "sig", "KeyError"),
    ]


def test_base_exception_in_robust_send_is_reported_and_propagates(
    signal: Signal, recorder: Recorder
) -> None:
    stop = named("stop", fails=KeyboardInterrupt())
    signal.connect(stop)

    with observe(recorder), pytest.raises(KeyboardInterrupt):
        signal.send_robust(Sender)
    assert recorder.events[1:] == [
        ("receiver_started", "sig", "stop"),
        ("receiver_finished", "sig", "stop", None, "KeyboardInterrupt"),
        ("send_finished", "sig", "KeyboardInterrupt"),
    ]


def test_nested_sends_nest_inside_the_receiver(recorder: Recorder) -> None:
    outer, inner = Signal(), Signal()
    recorder.labels.update({outer: "outer", inner: "inner"})
    inner_receiver = named("inner_receiver", "in")

    def outer_receiver(**kwargs):
        inner.send(Sender, depth=2)
        return "out"

    outer_receiver.__qualname__ = "outer_receiver"
    inner.connect(inner_receiver)
    outer.connect(outer_receiver)

    with observe(recorder):
        outer.send(Sender, depth=1)
    assert recorder.events == [
        ("send_started", "outer", Sender, {"depth": 1}, [("outer_receiver", None, CALL)], False),
        ("receiver_started", "outer", "outer_receiver"),
        ("send_started", "inner", Sender, {"depth": 2}, [("inner_receiver", None, CALL)], False),
        ("receiver_started", "inner", "inner_receiver"),
        ("receiver_finished", "inner", "inner_receiver", "in", None),
        ("send_finished", "inner", None),
        ("receiver_finished", "outer", "outer_receiver", "out", None),
        ("send_finished", "outer", None),
    ]


def test_no_observer_records_nothing(signal: Signal, recorder: Recorder) -> None:
    receive = named("receive", 1)
    signal.connect(receive)

    assert current_observer() is None
    signal.send(Sender)
    with observe(recorder):
        signal.send(Sender)
    assert current_observer() is None
    signal.send(Sender)
    signal.send_robust(Sender)
    asyncio.run(signal.asend(Sender))
    assert [e[0] for e in recorder.events] == [
        "send_started",
        "receiver_started",
        "receiver_finished",
        "send_finished",
    ]


def test_observe_restores_the_previous_observer(signal: Signal) -> None:
    outer, inner = Recorder({signal: "sig"}), Recorder({signal: "sig"})

    with observe(outer):
        with observe(inner):
            assert current_observer() is inner
            signal.send(Sender)
        assert current_observer() is outer
        signal.send(Sender, second=True)
    assert current_observer() is None
    assert [e[3] for e in inner.events if e[0] == "send_started"] == [{}]
    assert [e[3] for e in outer.events if e[0] == "send_started"] == [{"second": True}]


def test_observed_and_unobserved_sends_return_the_same(signal: Signal) -> None:
    log: list[str] = []

    def make(name: str, fails: bool = False):
        def receive(**kwargs):
            log.append(name)
            if fails:
                raise ValueError(name)
            return name

        return receive

    receivers = [make("a"), make("b", fails=True), make("c")]
    for r in receivers:
        signal.connect(r)
    signal.connect(receivers[2], sender=Sender)

    plain = signal.send_robust(Sender, x=1)
    with observe(Recorder({signal: "sig"})):
        observed = signal.send_robust(Sender, x=1)
    assert [(r, type(v)) for r, v in observed] == [(r, type(v)) for r, v in plain]
    assert log == ["a", "b", "c", "c"] * 2


def test_same_receiver_for_any_and_specific_sender_reports_each_entry(
    signal: Signal, recorder: Recorder
) -> None:
    receive = named("receive", "r")
    signal.connect(receive)
    signal.connect(receive, sender=Sender)

    with observe(recorder):
        assert signal.send(Sender) == [(receive, "r"), (receive, "r")]
    [plan] = recorder.plans
    assert [(p.info.sender_label, p.decision) for p in plan] == [(None, CALL), ("Sender", CALL)]
    assert recorder.started_infos == [p.info for p in plan]


def test_started_infos_are_the_planned_ones(signal: Signal, recorder: Recorder) -> None:
    class Listener:
        def method(self, **kwargs):
            return "method"

    listener = Listener()
    uid_receiver = named("uid_receiver", "uid")
    plain = named("plain", "plain")
    signal.connect(uid_receiver, sender=Sender, dispatch_uid="the-uid")
    signal.connect(listener.method)
    signal.connect(plain, sender=Sender, weak=False)

    with observe(recorder):
        signal.send(Sender)
    [plan] = recorder.plans
    assert recorder.started_infos == [p.info for p in plan]
    assert [(i.name, i.dispatch_uid, i.weak) for i in recorder.started_infos] == [
        ("uid_receiver", "the-uid", True),
        ("test_started_infos_are_the_planned_ones.<locals>.Listener.method", None, True),
        ("plain", None, False),
    ]


def test_receiver_info_describes_the_receiver(signal: Signal, recorder: Recorder) -> None:
    async def described(**kwargs):
        return None

    signal.connect(described, sender=Sender, weak=False, dispatch_uid="uid")
    signal.connect(described, sender="label", weak=False)

    with observe(recorder):
        signal.send(Sender)
    [plan] = recorder.plans
    assert plan[0].info == ReceiverInfo(
        name="test_receiver_info_describes_the_receiver.<locals>.described",
        module=__name__,
        file=__file__,
        line=inspect.getsourcelines(described)[1],
        sender_label="Sender",
        weak=False,
        dispatch_uid="uid",
        is_async=True,
    )
    assert plan[1].info.sender_label == "'label'"
    assert plan[1].decision is SKIP_SENDER


@pytest.mark.parametrize("method", ["send", "send_robust", "asend", "asend_robust"])
def test_async_receivers_are_observed(signal: Signal, recorder: Recorder, method: str) -> None:
    a1 = named_async("a1", "A1")
    s1 = named("s1", "S1")
    signal.connect(a1)
    signal.connect(s1)

    with observe(recorder):
        call = getattr(signal, method)(Sender)
        result = asyncio.run(call) if method.startswith("a") else call
    assert result == [(s1, "S1"), (a1, "A1")]
    robust = method.endswith("robust")
    assert recorder.events[0] == (
        "send_started",
        "sig",
        Sender,
        {},
        [("a1", None, CALL), ("s1", None, CALL)],
        robust,
    )
    assert recorder.events[-1] == ("send_finished", "sig", None)
    assert sorted(recorder.events[1:-1]) == sorted(
        [
            ("receiver_started", "sig", "a1"),
            ("receiver_finished", "sig", "a1", "A1", None),
            ("receiver_started", "sig", "s1"),
            ("receiver_finished", "sig", "s1", "S1", None),
        ]
    )
    if method in ("send", "send_robust"):
        assert [e[2] for e in recorder.events[1:-1]] == ["s1", "s1", "a1", "a1"]


def test_failing_async_receiver_in_robust_send_is_observed(
    signal: Signal, recorder: Recorder
) -> None:
    bad = named_async("bad", fails=ValueError("x"))
    signal.connect(bad)

    with observe(recorder):
        [(_, err)] = signal.send_robust(Sender)
    assert isinstance(err, ValueError)
    assert recorder.events[1:] == [
        ("receiver_started", "sig", "bad"),
        ("receiver_finished", "sig", "bad", None, "ValueError"),
        ("send_finished", "sig", None),
    ]


class EqualSender:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, EqualSender)

    def __hash__(self) -> int:
        return 1


def test_observed_send_follows_the_caching_signals_shared_entries(recorder: Recorder) -> None:
    """On a caching signal, Django's cache is keyed by sender equality, so a
    send may call receivers for an equal sender, or none for this one; the
    observed send must return and plan what the unobserved one does."""
    signal = Signal(use_caching=True)
    recorder.labels[signal] = "cached"
    first, second = EqualSender(), EqualSender()
    receive = named("receive", "r")
    signal.connect(receive, sender=first)

    assert signal.has_listeners(second) is False
    assert signal.send(first) == []
    with observe(recorder):
        assert signal.send(first) == []
    assert [e for e in recorder.events if e[0] != "send_started"] == [
        ("send_finished", "cached", None)
    ]


def test_an_inline_journal_without_a_depth_limit_is_refused() -> None:
    from sigcli.dispatcher import Journal

    journal = Journal()
    journal.inline = True
    with pytest.raises(ValueError, match="an inline journal needs a max_depth"):
        with observe(journal):
            pass
    assert current_observer() is None


# -- journals: the events as written -------------------------------------------


def journal_events(inline: bool, send: Any) -> list[Any]:
    """The events of the second of two sends (the first makes the sender's plan)."""
    from sigcli.dispatcher import Journal

    journal = Journal(max_depth=10)
    journal.inline = inline
    with observe(journal):
        send()
        journal.events.clear()
        send()
    return list(journal.events)


def test_a_journal_gets_each_event_as_fields_in_one_flat_list() -> None:
    import threading

    signal = Signal()

    def first(sender: Any, **kwargs: Any) -> str:
        return "one"

    def second(sender: Any, **kwargs: Any) -> str:
        raise KeyError("two")

    signal.connect(first)
    signal.connect(second)
    signal.connect(first, sender=OtherSender, dispatch_uid="other")
    infos = signal.receiver_infos()
    thread = threading.get_ident()
    error: list[BaseException] = []

    def send() -> None:
        error[:] = [result for _, result in signal.send_robust(sender=Sender, x=1)][1:]

    events = journal_events(False, send)
    plan = events[5]
    assert [(entry.info, entry.decision) for entry in plan] == [
        (infos[0], CALL),
        (infos[1], CALL),
        (infos[2], SKIP_SENDER),
    ]
    assert events == [
        "send", thread, signal, Sender, {"x": 1}, plan, True,
        "call", thread, signal, infos[0],
        "done", thread, signal, infos[0], "one", None,
        "call", thread, signal, infos[1],
        "done", thread, signal, infos[1], None, error[0],
        "end", thread, signal, None,
    ]  # fmt: skip


def test_an_inline_journal_gets_the_short_events_of_a_plain_send() -> None:
    import threading

    signal = Signal()
    results = iter(range(100))

    def first(sender: Any, **kwargs: Any) -> int:
        return next(results)

    def second(sender: Any, **kwargs: Any) -> list[int]:
        return [next(results)]

    signal.connect(first)
    signal.connect(second)
    infos = signal.receiver_infos()
    thread = threading.get_ident()
    events = journal_events(True, lambda: signal.send(sender=Sender, x=1))
    plan = events[5]
    assert events == [
        "send inline", thread, signal, Sender, {"x": 1}, plan, False,
        "done", thread, signal, infos[0], 2, None,
        "last", thread, signal, infos[1], [3],
    ]  # fmt: skip
