"""The observer of ``django.dispatch.Signal``: each test runs a program on real
Django with and without the observer, and checks both what the trace says
and that Django did exactly the same thing either way."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import threading
from typing import Any
from unittest import mock

import django
import pytest
from django.dispatch import Signal

from sigcli.djangoengine.observer import installed, observe_django
from sigcli.trace import Recorder, Trace, dumps, load
from tests.djangoengine.helpers import connected, django_capture, receivers_of

#: Async receivers, asend and asend_robust came with Django 5.0.
needs_async = pytest.mark.skipif(django.VERSION < (5, 0), reason="Django 5.0+ only")

ping = Signal()
pong = Signal()


class Sender:
    pass


class Other:
    pass


def answer(sender: Any, **kwargs: Any) -> str:
    return f"answer to {kwargs.get('n')}"


def other_only(sender: Any, **kwargs: Any) -> str:
    return "never"


def fails(sender: Any, **kwargs: Any) -> None:
    raise ValueError("no")


def second(sender: Any, **kwargs: Any) -> int:
    return 2


def test_send_records_every_receiver_with_its_decision_and_returns_the_users_receivers() -> None:
    with connected(ping, answer), connected(ping, other_only, sender=Other):
        plain = ping.send(sender=Sender, n=1)
        with django_capture() as trace:
            observed = ping.send(sender=Sender, n=1)
    assert observed == plain == [(answer, "answer to 1")]
    (dispatch,) = trace.steps[0].children
    assert (dispatch.signal, dispatch.sender, dispatch.kwargs) == ("ping", "Sender", {"n": 1})
    assert receivers_of(dispatch) == [
        ("answer", True, None),
        ("other_only", False, "sender_mismatch"),
    ]
    assert dispatch.receivers[0].result == "answer to 1"
    assert dispatch.receivers[1].sender_filter == "Other"
    assert dispatch.depth == 1 and not dispatch.robust and dispatch.error is None


def test_a_receiver_that_raises_stops_send_and_the_rest_are_not_reached() -> None:
    calls: list[str] = []

    def after(sender: Any, **kwargs: Any) -> None:
        calls.append("after")

    with connected(ping, fails), connected(ping, after):
        with pytest.raises(ValueError, match="no"):
            ping.send(sender=None)
        with django_capture() as trace, pytest.raises(ValueError, match="no"):
            ping.send(sender=None)
    assert calls == []
    (dispatch,) = trace.steps[0].children
    assert receivers_of(dispatch) == [
        ("fails", True, None),
        (
            "test_a_receiver_that_raises_stops_send_and_the_rest_are_not_reached.<locals>.after",
            False,
            "not_reached",
        ),
    ]
    assert dispatch.receivers[0].error == "ValueError: no"
    assert dispatch.error == "ValueError: no"


def test_send_robust_returns_the_error_and_calls_the_rest(caplog: Any) -> None:
    with connected(ping, fails), connected(ping, second):
        with caplog.at_level(logging.ERROR, "django.dispatch"):
            plain = ping.send_robust(sender=None)
            with django_capture() as trace:
                observed = ping.send_robust(sender=None)
    assert [(r, type(v)) for r, v in observed] == [(r, type(v)) for r, v in plain]
    assert [r for r, _ in observed] == [fails, second]
    assert observed[1][1] == 2
    assert [m for _, _, m in caplog.record_tuples] == [
        "Error calling fails in Signal.send_robust() (no)"
    ] * 2
    (dispatch,) = trace.steps[0].children
    assert dispatch.robust
    assert receivers_of(dispatch) == [("fails", True, None), ("second", True, None)]
    assert (dispatch.receivers[0].error, dispatch.receivers[1].result) == ("ValueError: no", 2)


class Callable_:
    def __call__(self, sender: Any, **kwargs: Any) -> str:
        return "instance"


def test_receivers_without_qualname_work_unchanged() -> None:
    instance = Callable_()
    partial = functools.partial(answer, n=5)
    magic = mock.Mock(return_value="mocked")
    with (
        connected(ping, instance, weak=False),
        connected(ping, partial, weak=False),
        connected(ping, magic, weak=False),
    ):
        with django_capture() as trace:
            observed = ping.send(sender=None)
    assert observed == [(instance, "instance"), (partial, "answer to 5"), (magic, "mocked")]
    assert observed[2][0] is magic
    magic.assert_called_once_with(signal=ping, sender=None)
    (dispatch,) = trace.steps[0].children
    assert [r.name for r in dispatch.receivers] == [
        "<tests.djangoengine.test_observer.Callable_ object>",
        "partial(answer)",
        "<Mock>",
    ]
    assert dispatch.receivers[1].module == __name__
    assert [r.called for r in dispatch.receivers] == [True, True, True]
    assert dispatch.receivers[0].line == Callable_.__call__.__code__.co_firstlineno


def test_a_failing_receiver_without_qualname_breaks_send_robust_as_in_django() -> None:
    partial = functools.partial(fails)
    with connected(ping, partial, weak=False):
        with pytest.raises(AttributeError) as plain:
            ping.send_robust(sender=None)
        with django_capture() as trace, pytest.raises(AttributeError) as observed:
            ping.send_robust(sender=None)
    assert str(observed.value) == str(plain.value)
    (dispatch,) = trace.steps[0].children
    assert dispatch.receivers[0].error == "ValueError: no"


def test_a_caching_signal_that_returns_early_still_records_the_dispatch() -> None:
    from django.db.models.signals import post_save

    from tests.djangoapp.models import Author, Book

    def on_book(sender: Any, **kwargs: Any) -> None:
        pass

    with connected(post_save, on_book, sender=Book):
        with django_capture() as trace:
            first = post_save.send(sender=Author, instance=None, created=True)
            second = post_save.send(sender=Author, instance=None, created=True)
    assert first == second == []
    assert [d.signal for d in trace.steps[0].children] == ["post_save", "post_save"]
    name = "test_a_caching_signal_that_returns_early_still_records_the_dispatch.<locals>.on_book"
    for dispatch in trace.steps[0].children:
        assert dispatch.sender == "Author"
        assert receivers_of(dispatch) == [(name, False, "sender_mismatch")]
        assert dispatch.receivers[0].sender_filter == "Book"


def _edits(signal: Any, calls: list[str]) -> list[list[str]]:
    """Sends between changes to ``signal``'s receivers, by connect and
    disconnect and by hand; the names called by each send."""
    made = {}
    for name in "abc":

        def receive(sender: Any, name: str = name, **kwargs: Any) -> None:
            calls.append(name)

        receive.__qualname__ = name
        made[name] = receive
    called = []

    def send() -> None:
        signal.send(sender=Sender)
        called.append(calls[:])
        calls.clear()

    signal.connect(made["a"])
    signal.connect(made["b"])
    send()
    send()
    signal.connect(made["c"])
    send()
    signal.disconnect(made["a"])
    send()
    signal.receivers.insert(0, signal.receivers.pop())  # c first, by hand (cacheops' way)
    send()
    signal.receivers.clear()  # by hand
    send()
    return called


@pytest.mark.parametrize("caching", [False, True])
def test_a_plan_kept_between_sends_follows_every_change_to_the_receivers(caching: bool) -> None:
    plain = _edits(Signal(use_caching=caching), [])
    with django_capture() as trace:
        observed = _edits(Signal(use_caching=caching), [])
    # A caching signal keeps answering from its cache after the hand edit,
    # as Django does; the trace lists the receivers as connected.
    reordered = ["b", "c"] if caching else ["c", "b"]
    assert plain == observed == [["a", "b"], ["a", "b"], ["a", "b", "c"], ["b", "c"], reordered, []]
    shown = [[name for name, called, _ in receivers_of(d) if called] for d in trace.dispatches()]
    assert shown == [["a", "b"], ["a", "b"], ["a", "b", "c"], ["b", "c"], ["c", "b"], []]


def test_a_caching_signal_emptied_by_hand_calls_nobody_as_in_django() -> None:
    def run(signal: Any) -> list[Any]:
        signal.connect(answer)
        sent = [signal.send(sender=Sender, n=1), signal.send(sender=Sender, n=2)]
        signal.receivers.clear()  # the cache still holds answer, as factory_boy leaves it
        return [*sent, signal.send(sender=Sender, n=3)]

    plain = run(Signal(use_caching=True))
    with django_capture() as trace:
        observed = run(Signal(use_caching=True))
    assert plain == observed == [[(answer, "answer to 1")], [(answer, "answer to 2")], []]
    assert [receivers_of(d) for d in trace.dispatches()] == [[("answer", True, None)]] * 2 + [[]]


def test_receivers_edited_by_hand_are_recorded_and_why_says_muted() -> None:
    from sigcli import why
    from sigcli.observation import ConnectionOutcome

    with connected(ping, answer), django_capture() as trace:
        ping.send(sender=Sender, n=1)
        saved = ping.receivers
        ping.receivers = []  # factory_boy's mute_signals
        ping.send(sender=Sender, n=2)
        ping.receivers = saved
        ping.send(sender=Sender, n=3)
        ping.receivers.clear()
        ping.send(sender=Sender, n=4)
        ping.receivers[:] = saved
    edits = [(c.name, c.outcome, c.after, c.called_from) for c in trace.connections]
    assert edits == [
        ("answer", ConnectionOutcome.MUTED, 1, None),
        ("answer", ConnectionOutcome.RESTORED, 2, None),
        ("answer", ConnectionOutcome.MUTED, 3, None),
    ]
    verdicts = why.explain("answer", [trace]).verdicts
    assert [(v.reason, v.dispatches) for v in verdicts] == [("ran", [1, 3]), ("muted", [2, 4])]
    assert "replaced by hand" in verdicts[1].detail


def test_a_send_patched_by_another_tool_before_the_observer_still_runs_it() -> None:
    original = vars(Signal)["send"]
    seen: list[str] = []

    def send(self: Any, sender: Any, **named: Any) -> Any:
        seen.append("patched")
        return original(self, sender, **named)

    Signal.send = send  # type: ignore[method-assign]
    try:
        with connected(ping, answer), django_capture() as trace:
            assert ping.send(sender=Sender, n=4) == [(answer, "answer to 4")]
    finally:
        Signal.send = original  # type: ignore[method-assign]
    assert seen == ["patched"]
    (dispatch,) = trace.dispatches()
    assert receivers_of(dispatch) == [("answer", True, None)]
    assert dispatch.receivers[0].result == "answer to 4"


def test_has_listeners_is_not_a_dispatch() -> None:
    with connected(ping, answer):
        with django_capture() as trace:
            assert ping.has_listeners(Sender)
            assert not pong.has_listeners(Sender)
    assert trace.steps[0].children == []


def test_a_dead_weak_reference_shows_once_then_django_has_pruned_it() -> None:
    def temporary(sender: Any, **kwargs: Any) -> None:
        pass

    with connected(ping, answer):
        with django_capture() as trace:
            ping.connect(temporary)
            del temporary
            gc.collect()
            ping.send(sender=None, n=1)
            ping.send(sender=None, n=2)
    first, second = trace.steps[0].children
    name = "test_a_dead_weak_reference_shows_once_then_django_has_pruned_it.<locals>.temporary"
    assert receivers_of(first) == [("answer", True, None), (name, False, "dead_reference")]
    assert receivers_of(second) == [("answer", True, None)]


def test_nested_sends_sit_under_the_receiver_that_made_them() -> None:
    def relay(sender: Any, **kwargs: Any) -> str:
        pong.send(sender=sender, hop=2)
        return "relayed"

    with connected(ping, relay), connected(pong, second):
        with django_capture() as trace:
            ping.send(sender=Sender)
    (outer,) = trace.steps[0].children
    (inner,) = outer.receivers[0].children
    assert (outer.signal, outer.depth, inner.signal, inner.depth) == ("ping", 1, "pong", 2)
    assert inner.kwargs == {"hop": 2} and inner.receivers[0].result == 2
    assert outer.receivers[0].result == "relayed"


def test_sends_of_signals_nobody_listens_to_are_counted_when_asked() -> None:
    with connected(ping, answer):
        with django_capture(unheard=False) as trace:
            pong.send(sender=None)
            ping.send(sender=None)
            pong.send(sender=None)
    assert [d.signal for d in trace.steps[0].children] == ["ping"]


@needs_async
def test_asend_runs_sync_and_async_receivers_and_returns_the_users_own() -> None:
    async def later(sender: Any, **kwargs: Any) -> str:
        await asyncio.sleep(0)
        return "async"

    with connected(ping, later), connected(ping, answer):
        plain = asyncio.run(ping.asend(sender=None, n=3))
        with django_capture() as trace:
            observed = asyncio.run(ping.asend(sender=None, n=3))
            robust = asyncio.run(ping.asend_robust(sender=None, n=3))
    assert sorted(observed, key=repr) == sorted(plain, key=repr)
    assert {r for r, _ in observed} == {later, answer}
    assert sorted(robust, key=repr) == sorted(plain, key=repr)
    first, second = trace.steps[0].children
    later_name = "test_asend_runs_sync_and_async_receivers_and_returns_the_users_own.<locals>.later"
    for dispatch in (first, second):
        assert receivers_of(dispatch) == [(later_name, True, None), ("answer", True, None)]
        assert [r.result for r in dispatch.receivers] == ["async", "answer to 3"]
    assert (first.robust, second.robust) == (False, True)


@needs_async
def test_send_with_async_receivers_runs_them_after_the_sync_ones() -> None:
    order: list[str] = []

    async def first_connected(sender: Any, **kwargs: Any) -> None:
        order.append("async")

    def then_sync(sender: Any, **kwargs: Any) -> None:
        order.append("sync")

    with connected(ping, first_connected), connected(ping, then_sync):
        ping.send(sender=None)
        with django_capture() as trace:
            ping.send(sender=None)
    assert order == ["sync", "async"] * 2
    (dispatch,) = trace.steps[0].children
    assert [r.called for r in dispatch.receivers] == [True, True]


def test_another_tools_patch_of_live_receivers_keeps_working() -> None:
    """Sentry's way: wrap the class's ``_live_receivers`` and wrap every sync
    receiver with ``functools.wraps``; before and after ours."""
    seen: list[str] = []
    original = vars(Signal)["_live_receivers"]

    def wrap(receiver: Any) -> Any:
        @functools.wraps(receiver)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen.append(receiver.__name__)
            return receiver(*args, **kwargs)

        return wrapper

    def patch(old: Any) -> Any:
        def _live_receivers(self: Any, sender: Any) -> Any:
            live = old(self, sender)
            if isinstance(live, list):  # Django 4.2
                return [wrap(r) for r in live]
            sync, asynchronous = live
            return [wrap(r) for r in sync], asynchronous

        return _live_receivers

    with connected(ping, answer):
        try:
            Signal._live_receivers = patch(original)  # before ours
            with django_capture() as before:
                assert [v for _, v in ping.send(sender=None, n=1)] == ["answer to 1"]
            Signal._live_receivers = original
            with django_capture() as after:
                Signal._live_receivers = patch(Signal._live_receivers)  # after ours
                assert [v for _, v in ping.send(sender=None, n=2)] == ["answer to 2"]
        finally:
            Signal._live_receivers = original
    assert seen == ["answer", "answer"]
    for trace in (before, after):
        (dispatch,) = trace.steps[0].children
        assert receivers_of(dispatch) == [("answer", True, None)]


def test_uninstalling_leaves_djangos_class_exactly_as_it_was() -> None:
    before = dict(vars(Signal))
    with django_capture(), django_capture():
        assert installed()
        assert vars(Signal)["send"] is not before["send"]
    assert dict(vars(Signal)) == before
    assert not installed()


def test_sends_from_another_thread_are_recorded_at_the_top() -> None:
    with connected(ping, answer):
        with django_capture() as trace:
            worker = threading.Thread(target=ping.send, kwargs={"sender": None, "n": 7})
            worker.start()
            worker.join()
    (dispatch,) = trace.steps[0].children
    assert dispatch.depth == 1 and dispatch.receivers[0].result == "answer to 7"


def test_a_context_scoped_observation_sees_only_its_own_context() -> None:
    recorded: dict[str, Trace] = {}
    ready = threading.Barrier(2)

    def request(name: str) -> None:
        with django_capture(scope="context") as trace:
            ready.wait()
            ping.send(sender=None, n=name)
            ready.wait()
        recorded[name] = trace

    with connected(ping, answer):
        threads = [threading.Thread(target=request, args=(name,)) for name in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with django_capture(scope="context") as outside:
            pass
    for name in "ab":
        (dispatch,) = recorded[name].steps[0].children
        assert dispatch.kwargs == {"n": name}
    assert outside.steps[0].children == []


def test_model_saves_record_the_signals_django_sends(tmp_path: Any) -> None:
    from django.db import transaction
    from django.db.models.signals import post_save, pre_save

    from tests.djangoapp.models import Author

    def touched(sender: Any, instance: Any, created: bool, **kwargs: Any) -> str:
        return f"{instance.name} created={created}"

    with connected(post_save, touched, sender=Author), transaction.atomic():
        with django_capture() as trace:
            author = Author.objects.create(name="ann")
        transaction.set_rollback(True)
    signals = [d.signal for d in trace.dispatches()]
    assert signals == ["pre_init", "post_init", "pre_save", "post_save"]
    saved = list(trace.dispatches())[-1]
    assert saved.kwargs["instance"] == {
        "model": "Author",
        "pk": author.pk,
        "repr": f"<Author: Author object ({author.pk})>",
    }
    assert saved.receivers[-1].result == "ann created=True"
    assert pre_save.has_listeners(Author) is False
    path = tmp_path / "trace.json"
    path.write_text(dumps([trace]))
    assert dumps(load(path)) == dumps([trace])


def test_a_recorder_can_refuse_runaway_recursion() -> None:
    from sigcli.trace import DepthLimitExceeded

    def again(sender: Any, **kwargs: Any) -> None:
        ping.send(sender=sender)

    trace = Trace(scenario=None)
    recorder = Recorder(trace, max_depth=5)
    recorder.start_step("s", "s")
    with connected(ping, again), observe_django(recorder):
        with pytest.raises(DepthLimitExceeded):
            ping.send(sender=None)
    recorder.finish_step(None)
    depths = []
    node: Any = recorder.trace.steps[0].children[0]
    while True:
        depths.append(node.depth)
        if not node.receivers[0].children:
            break
        node = node.receivers[0].children[0]
    assert depths == [1, 2, 3, 4, 5]


def test_writes_appear_as_operations_with_their_signals_and_sql_inside() -> None:
    from django.db import transaction

    from tests.djangoapp.models import Author, Book

    with transaction.atomic():
        with django_capture(sql=True) as trace:
            author = Author.objects.create(name="ann")
            Book.objects.create(title="t", author=author)
            author.book_set.all().delete()
            author.save(update_fields=["name"])
        transaction.set_rollback(True)
    nodes = trace.steps[0].children
    assert [type(n).__name__ for n in nodes] == ["Operation"] * 4
    assert [n.label for n in nodes] == [
        "Author.objects.create(name='ann')",
        f"Book.objects.create(title='t', author=<Author: Author object ({author.pk})>)",
        "Book.objects.filter(…).delete()",
        "author.save(update_fields=['name'])",
    ]
    created = nodes[0].children
    assert [type(n).__name__ for n in created] == [
        "Dispatch",
        "Dispatch",
        "Dispatch",
        "SqlStatement",
        "Dispatch",
    ]
    assert created[3].sql.startswith('INSERT INTO "djangoapp_author"')
    assert created[3].params == ["ann"]


def test_describing_an_instance_never_queries() -> None:
    from django.db import connection, transaction
    from django.db.models.signals import post_save
    from django.test.utils import CaptureQueriesContext

    from tests.djangoapp.models import Author, Book

    class Loud(Book):
        class Meta:
            proxy = True
            app_label = "djangoapp"

        def __str__(self) -> str:
            return f"{self.title} by {self.author.name}"

    def noop(sender: Any, **kwargs: Any) -> None:
        pass

    with transaction.atomic():
        author = Author.objects.create(name="ann")
        book_id = Loud.objects.create(title="t", author=author).pk
        with connected(post_save, noop, sender=Loud):
            plain = Loud.objects.get(pk=book_id)
            with CaptureQueriesContext(connection) as unobserved:
                plain.save()
            quiet = Loud.objects.get(pk=book_id)
            with django_capture() as trace, CaptureQueriesContext(connection) as observed:
                quiet.save()
        transaction.set_rollback(True)
    assert len(observed) == len(unobserved)
    saved = trace.steps[0].children[0].children[-1]
    assert saved.kwargs["instance"]["repr"] == f"<Loud: Loud object ({book_id})>"


class Thing:
    pass


@pytest.mark.skipif(django.VERSION < (6, 0), reason="Django 6.0+ keeps a weak sender")
def test_a_receiver_whose_sender_died_is_skipped_even_when_a_new_sender_reuses_its_id() -> None:
    def listener(sender: Any, **kwargs: Any) -> str:
        return "heard"

    with django_capture() as trace:
        for _attempt in range(100):
            old = Thing()
            ping.connect(listener, sender=old)
            old_id = id(old)
            del old
            new = Thing()  # most often where the old one was
            responses = ping.send(sender=new)
            if id(new) == old_id:
                break
        else:
            pytest.skip("no sender reused a dead one's id")
    assert responses == []
    last = trace.steps[0].children[-1]
    assert receivers_of(last) == [
        (
            "test_a_receiver_whose_sender_died_is_skipped_even_when_a_new_sender_reuses_its_id"
            ".<locals>.listener",
            False,
            "dead_sender",
        )
    ]


def test_related_managers_report_their_writes() -> None:
    from django.db import transaction

    from tests.djangoapp.models import Pizza, Topping

    with transaction.atomic():
        pizza = Pizza.objects.create(name="margherita")
        cheese = Topping.objects.create(name="cheese")
        with django_capture() as trace:
            pizza.toppings.add(cheese)
            cheese.pizza_set.clear()
        transaction.set_rollback(True)
    added, cleared = trace.steps[0].children
    assert added.label == f"pizza.toppings.add(<Topping: Topping object ({cheese.pk})>)"
    assert cleared.label == "topping.pizza_set.clear()"
    # Django skips add()'s m2m_changed when nobody listens; clear() sends it anyway.
    assert [(d.signal, d.sender) for d in trace.dispatches()] == [
        ("pre_init", "Pizza_toppings"),
        ("post_init", "Pizza_toppings"),
        ("m2m_changed", "Pizza_toppings"),
        ("m2m_changed", "Pizza_toppings"),
    ]
    assert [d.kwargs["action"] for d in cleared.children] == ["pre_clear", "post_clear"]
