"""The recorder builds the tree the dispatcher reports, and traces survive JSON.

These tests use the dispatcher alone (custom signals, no database): each
records a few sends and pins the whole recorded tree.
"""

import json
from pathlib import Path

import pytest

from sigcli import Signal, dispatcher
from sigcli.query import Filters, select_saved
from sigcli.trace import (
    DepthLimitExceeded,
    Dispatch,
    Recorder,
    SkipReason,
    Trace,
    TraceFormatError,
    dumps,
    json_safe,
    load,
    save,
)


def named(name: str) -> Signal:
    signal = Signal()
    signal.name = name
    return signal


class Stripe:
    pass


class PayPal:
    pass


def record(steps: dict[str, object], max_depth: int = 50) -> Trace:
    """Run each callable as a step under a recorder, as the scenario runner does."""
    trace = Trace(scenario="test.py")
    recorder = Recorder(trace, max_depth=max_depth)
    with dispatcher.observe(recorder):
        for label, function in steps.items():
            recorder.start_step(label, label)
            try:
                function()  # type: ignore[operator]
            except Exception as error:
                recorder.finish_step(error)
                break
            recorder.finish_step(None)
    return trace


def outline(trace: Trace) -> list[str]:
    """Each dispatch and receiver as one indented line, in recorded order."""
    lines: list[str] = []

    def walk(nodes: list, indent: str) -> None:
        for node in nodes:
            assert isinstance(node, Dispatch)
            lines.append(f"{indent}{node.signal} {node.sender} depth={node.depth} {node.kwargs}")
            for call in node.receivers:
                state = "called" if call.called else call.skipped_reason.value
                extra = f" error={call.error}" if call.error else f" result={call.result!r}"
                lines.append(f"{indent}  {call.name} [{state}]{extra if call.called else ''}")
                walk(call.children, indent + "    ")

    for step in trace.steps:
        lines.append(f"step {step.label} error={step.error}")
        walk(step.children, "  ")
    return lines


def test_nested_dispatches_sit_under_the_receiver_that_sent_them() -> None:
    paid, booked = named("paid"), named("booked")

    def book(sender, amount, **kwargs):
        booked.send(sender=sender, amount=amount)
        return "ok"

    def ledger(sender, **kwargs):
        return None

    def fee(sender, **kwargs):
        return 3

    paid.connect(book)
    paid.connect(fee, sender=Stripe)
    booked.connect(ledger)
    trace = record({"pay": lambda: paid.send(sender=PayPal, amount=10)})
    assert outline(trace) == [
        "step pay error=None",
        "  paid PayPal depth=1 {'amount': 10}",
        "    test_nested_dispatches_sit_under_the_receiver_that_sent_them.<locals>.book [called] result='ok'",
        "      booked PayPal depth=2 {'amount': 10}",
        "        test_nested_dispatches_sit_under_the_receiver_that_sent_them.<locals>.ledger [called] result=None",
        "    test_nested_dispatches_sit_under_the_receiver_that_sent_them.<locals>.fee [sender_mismatch]",
    ]
    assert [d.seq for d in trace.dispatches()] == [1, 2]


def test_a_raising_receiver_stops_the_dispatch_and_later_receivers_are_not_reached() -> None:
    paid = named("paid")

    def first(**kwargs):
        raise ValueError("card declined")

    def second(**kwargs):
        return "never"

    paid.connect(first)
    paid.connect(second)
    trace = record({"pay": lambda: paid.send(sender=Stripe)})
    (dispatch,) = trace.dispatches()
    assert [(c.called, c.skipped_reason, c.error) for c in dispatch.receivers] == [
        (True, None, "ValueError: card declined"),
        (False, SkipReason.NOT_REACHED, None),
    ]
    assert dispatch.error == "ValueError: card declined"
    assert trace.steps[0].error == "ValueError: card declined"
    assert trace.failed


def test_an_error_passing_through_an_outer_receiver_is_marked_as_propagated() -> None:
    outer, inner = named("outer"), named("inner")

    def relay(**kwargs):
        inner.send(sender=None)

    def explode(**kwargs):
        raise KeyError("x")

    outer.connect(relay)
    inner.connect(explode)
    trace = record({"go": lambda: outer.send(sender=None)})
    relay_call = trace.steps[0].children[0].receivers[0]
    explode_call = relay_call.children[0].receivers[0]
    assert (explode_call.error, explode_call.error_propagated) == ("KeyError: 'x'", False)
    assert (relay_call.error, relay_call.error_propagated) == ("KeyError: 'x'", True)


def test_plan_decisions_become_skip_reasons() -> None:
    paid = named("paid")
    info = dispatcher.ReceiverInfo("gone", "m", "m.py", 3, None, True, None, False)
    other = dispatcher.ReceiverInfo("fee", "m", "m.py", 7, "Stripe", True, None, False)
    plan = [
        dispatcher.ReceiverPlan(info, dispatcher.Decision.SKIP_DEAD),
        dispatcher.ReceiverPlan(other, dispatcher.Decision.SKIP_SENDER),
    ]
    trace = Trace(scenario=None)
    recorder = Recorder(trace)
    recorder.start_step("s", "s")
    recorder.write_raw((dispatcher.SEND, 1, paid, PayPal, {}, plan, False))
    recorder.write_raw((dispatcher.END, 1, paid, None))
    (dispatch,) = recorder.trace.dispatches()
    assert [(c.name, c.called, c.skipped_reason) for c in dispatch.receivers] == [
        ("gone", False, SkipReason.DEAD_REFERENCE),
        ("fee", False, SkipReason.SENDER_MISMATCH),
    ]


def test_kwargs_are_captured_at_send_time() -> None:
    changed = named("changed")
    tags = {"b", "a"}

    def mutate(tags, **kwargs):
        tags.add("c")

    changed.connect(mutate)
    trace = record({"go": lambda: changed.send(sender=None, tags=tags, when=object)})
    (dispatch,) = trace.dispatches()
    assert dispatch.kwargs == {"tags": ["a", "b"], "when": "<class 'object'>"}
    assert dispatch.sender is None


def test_json_safe_values() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    looped: list[object] = []
    looped.append(looped)
    assert json_safe(frozenset({3, 1})) == [1, 3]
    assert json_safe((1, "a", None)) == [1, "a", None]
    assert json_safe({1: {2}}) == {"1": [2]}
    assert json_safe(Broken()) == "<Broken (repr failed: RuntimeError)>"
    expected: object = "[[...]]"
    for _ in range(9):
        expected = [expected]
    assert json_safe(looped) == expected


def test_runaway_recursion_stops_at_the_depth_limit_and_names_the_cycle() -> None:
    ping = named("ping")

    def echo(sender, **kwargs):
        ping.send(sender=sender)

    ping.connect(echo)
    trace = record({"loop": lambda: ping.send(sender=Stripe)}, max_depth=5)
    assert [d.depth for d in trace.dispatches()] == [1, 2, 3, 4, 5]
    error = trace.steps[0].error
    assert error is not None and error.startswith(
        "DepthLimitExceeded: signals nested deeper than 5 levels; this cycle repeats: "
        "ping Stripe › test_runaway_recursion_stops_at_the_depth_limit_and_names_the_cycle.<locals>.echo → "
        "ping Stripe › test_runaway_recursion_stops_at_the_depth_limit_and_names_the_cycle.<locals>.echo."
    )


def test_depth_limit_error_finds_a_two_step_cycle() -> None:
    error = DepthLimitExceeded(3, ["a X › f", "b Y › g"])
    assert "this cycle repeats: a X › f → b Y › g → a X › f." in str(error)


# -- JSON -----------------------------------------------------------------------


def sample_trace() -> Trace:
    paid = named("paid")

    def book(sender, **kwargs):
        return {"ok": True}

    def fee(sender, **kwargs):
        raise ValueError("boom")

    paid.connect(book)
    paid.connect(fee, sender=PayPal, dispatch_uid="fee")
    return record(
        {
            "stripe": lambda: paid.send(sender=Stripe, n=1),
            "paypal": lambda: paid.send(sender=PayPal),
        }
    )


def test_saved_trace_loads_back_equal(tmp_path: Path) -> None:
    trace = sample_trace()
    path = tmp_path / "t.json"
    save([trace], path)
    assert load(path) == [trace]
    document = json.loads(path.read_text())
    assert document["sigcli_trace"] == 1
    assert document["scenario"] == "test.py"
    receiver = document["steps"][0]["children"][0]["receivers"][1]
    assert {
        k: receiver[k] for k in ("sender_filter", "called", "skipped_reason", "dispatch_uid")
    } == {
        "sender_filter": "PayPal",
        "called": False,
        "skipped_reason": "sender_mismatch",
        "dispatch_uid": "fee",
    }


def test_nan_and_infinities_are_saved_as_text_and_read_back_from_other_writers(
    tmp_path: Path,
) -> None:
    ratio = named("ratio")
    ratio.connect(lambda sender, **kwargs: float("-inf"), weak=False)
    trace = record({"go": lambda: ratio.send(sender=None, value=float("nan"))})
    path = tmp_path / "t.json"
    save([trace], path)

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    document = json.loads(path.read_text(), parse_constant=refuse)
    (dispatch,) = document["steps"][0]["children"]
    assert (dispatch["kwargs"], dispatch["receivers"][0]["result"]) == ({"value": "nan"}, "-inf")
    # A file written by another program, with JSON's non-standard constants
    # and a byte order mark, reads as sigcli would have written it.
    foreign = path.read_text().replace('"nan"', "NaN").replace('"-inf"', "-Infinity")
    (tmp_path / "foreign.json").write_text("\ufeff" + foreign, encoding="utf-8")
    (loaded,) = load(tmp_path / "foreign.json")
    (again,) = loaded.dispatches()
    assert (again.kwargs, again.receivers[0].result) == ({"value": "nan"}, "-inf")


def test_several_traces_are_saved_under_runs(tmp_path: Path) -> None:
    traces = [sample_trace(), Trace(scenario="empty.py")]
    assert list(json.loads(dumps(traces))) == ["sigcli_trace", "runs"]
    path = tmp_path / "t.json"
    save(traces, path)
    assert load(path) == traces


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not a sigcli trace (invalid JSON at line 1: "),
        ("[1, 2]", 'is not a sigcli trace (no "sigcli_trace" version key)'),
        (
            '{"sigcli_trace": 2, "steps": []}',
            "is a sigcli trace of format version 2; this sigcli reads version 1.",
        ),
        ('{"sigcli_trace": 1}', "is a damaged sigcli trace ('steps')"),
        (
            '{"sigcli_trace": 1, "steps": [{"label": 3}]}',
            "is a damaged sigcli trace ('label' should be str, found int)",
        ),
        (
            '{"sigcli_trace": 1, "steps": [{"label": "a", "function": "f", "children": [{"type": "eval"}]}]}',
            "is a damaged sigcli trace (unknown node type 'eval')",
        ),
    ],
)
def test_bad_trace_files_are_rejected_with_the_reason(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(TraceFormatError) as caught:
        load(path)
    assert message in str(caught.value)
    with pytest.raises(TraceFormatError) as filtered:  # a filter's read says the same
        select_saved(path, Filters(senders=("User",)), limit=1)
    assert str(filtered.value) == str(caught.value)


def test_a_binary_file_is_not_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TraceFormatError, match="is not a sigcli trace"):
        load(path)


def test_querysets_are_recognised_by_class_even_when_subclassed() -> None:
    class Model:
        pass

    class QuerySet:
        model = Model

    class ActiveQuerySet(QuerySet):
        pass

    assert json_safe(ActiveQuerySet()) == {"queryset": "Model"}


def test_a_receiver_field_of_the_wrong_type_is_refused_even_after_a_good_one(
    tmp_path: Path,
) -> None:
    """Loading checks a receiver's repeating fields once per distinct set; a
    ``true`` where a line number belongs is another set, not a repeat of 1."""
    tick = named("tick")

    def on_tick(sender, **kwargs):
        return None

    tick.connect(on_tick)
    trace = record({"go": lambda: [tick.send(sender=None) for _ in range(2)]})
    path = tmp_path / "t.json"
    save([trace], path)
    document = json.loads(path.read_text())
    first, second = document["steps"][0]["children"]
    assert isinstance(first["receivers"][0]["line"], int)
    second["receivers"][0]["line"] = True
    path.write_text(json.dumps(document))
    with pytest.raises(TraceFormatError, match="expected int or null, found bool"):
        load(path)
    second["receivers"][0]["line"] = first["receivers"][0]["line"]
    second["receivers"][0]["skipped_reason"] = "bored"
    path.write_text(json.dumps(document))
    with pytest.raises(TraceFormatError, match="'bored' is not a valid SkipReason"):
        load(path)
