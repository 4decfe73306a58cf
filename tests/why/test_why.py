"""``sigcli why``: each reason code, produced by its own scenario, with its evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sigcli import scenario, why

SCENARIOS = Path(__file__).parent / "scenarios"


@pytest.fixture(autouse=True)
def _in_scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are named relative to the working directory: run from the scenarios."""
    monkeypatch.chdir(SCENARIOS)


def answer(name: str, receiver: str) -> why.Answer:
    traces = scenario.run([f"{name}.py"]).traces
    return why.explain(receiver, traces, scenario.project_files(traces))


def verdicts(name: str, receiver: str) -> list[tuple[str, list[int]]]:
    return [(v.reason, v.dispatches) for v in answer(name, receiver).verdicts]


def only(name: str, receiver: str, reason: str) -> why.Verdict:
    found = [v for v in answer(name, receiver).verdicts if v.reason == reason]
    assert len(found) == 1
    return found[0]


#: The scenario producing each reason code, the receiver asked about, and
#: every verdict it gets (reason, dispatches).
CASES = {
    "ran": ("ran", "create_profile", [("ran", [4])]),
    "raised": ("raised", "welcome", [("raised", [3])]),
    "not_connected": ("not_connected", "send_welcome", [("not_connected", [])]),
    "other_signal": ("other_signal", "notify_warehouse", [("other_signal", [])]),
    "sender_mismatch": ("proxy", "audit_user", [("sender_mismatch", [4])]),
    "dead_reference": ("dead", "note_saved", [("dead_reference", [4, 8])]),
    "duplicate_dispatch_uid": (
        "duplicate_uid",
        "email_customer",
        [("duplicate_dispatch_uid", [])],
    ),
    "duplicate_connection": (
        "duplicate_connection",
        "log_order",
        [("ran", [3, 4]), ("duplicate_connection", []), ("duplicate_connection", [3])],
    ),
    "no_signal_for_operation": ("bulk", "reindex", [("no_signal_for_operation", [])]),
    "not_reached": ("not_reached", "send_receipt", [("not_reached", [4])]),
    "connected_after": ("connected_after", "count_order", [("connected_after", [4])]),
    "disconnected": ("disconnected", "count_order", [("disconnected", [4])]),
    "muted": ("muted", "count_order", [("ran", [8]), ("muted", [4])]),
}


def test_every_reason_code_has_a_scenario() -> None:
    assert sorted(CASES) == sorted(why.REASONS)


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_scenario_gets_exactly_its_verdicts(reason: str) -> None:
    name, receiver, expected = CASES[reason]
    assert verdicts(name, receiver) == expected


def test_muted_by_sigcli_mute() -> None:
    assert verdicts("muted_block", "count_order") == [("ran", [8]), ("muted", [4])]
    verdict = only("muted_block", "count_order", "muted")
    assert verdict.detail == "sigcli.mute silenced it for #4 post_save Order."


def test_several_reasons_are_each_listed() -> None:
    assert verdicts("several", "sync_directory") == [
        ("ran", [8]),
        ("sender_mismatch", [4]),
        ("no_signal_for_operation", []),
    ]


def test_ran_names_the_dispatches() -> None:
    assert only("ran", "create_profile", "ran").detail == "Called by #4 post_save User."


def test_raised_with_arguments_it_does_not_accept_points_at_the_receiver() -> None:
    verdict = only("raised", "welcome", "raised")
    assert verdict.detail == (
        "Raised in #3 pre_save User: TypeError: welcome() missing 1 required positional "
        "argument: 'created'. It does not accept what pre_save sends: welcome, defined at "
        "raised.py:12, is sent sender, instance, raw, using, update_fields."
    )
    assert verdict.fix == (
        "Give welcome the parameters pre_save sends, and **kwargs for the rest: "
        "def receiver(sender, instance, **kwargs)."
    )


def test_the_step_error_is_located_at_the_receiver_that_refused_its_arguments() -> None:
    (trace,) = scenario.run(["raised.py"]).traces
    assert trace.steps[0].error_at == "raised.py:12"


def test_a_proxy_sender_is_named_as_the_cause() -> None:
    verdict = only("proxy", "audit_user", "sender_mismatch")
    assert verdict.detail == (
        "It listens to sender=User; #4 post_save Staff came from Staff. "
        "Staff is a proxy of User: a proxy model sends its own class."
    )
    assert verdict.fix == (
        "Connect it with sender=Staff as well (or without sender=, checking "
        "isinstance(instance, User))."
    )


def test_a_child_model_with_its_own_table_is_named_as_the_cause() -> None:
    verdict = only("inheritance", "index_place", "sender_mismatch")
    assert verdict.detail == (
        "It listens to sender=Place; #4 post_save Restaurant came from Restaurant. Restaurant "
        "inherits from Place: saving a Restaurant sends post_save with sender=Restaurant only."
    )


def test_a_model_inheriting_from_an_abstract_one_is_named_as_the_cause(tmp_path: Path) -> None:
    (tmp_path / "abstract.py").write_text(
        "import sigcli\n"
        "from sigcli import models, receiver\n"
        "from sigcli.signals import post_save\n"
        "class Stamped(models.Model):\n"
        "    class Meta:\n"
        "        abstract = True\n"
        "class Note(Stamped):\n"
        "    text = models.CharField(max_length=9)\n"
        "@receiver(post_save, sender=Stamped)\n"
        "def stamp(sender, **kwargs): pass\n"
        "@sigcli.step\n"
        "def write():\n"
        "    Note.objects.create(text='a')\n"
    )
    traces = scenario.run([str(tmp_path / "abstract.py")]).traces
    (verdict,) = why.explain("stamp", traces).verdicts
    assert verdict.detail == (
        "It listens to sender=Stamped; #4 post_save Note came from Note. Note inherits from "
        "Stamped: saving a Note sends post_save with sender=Note only."
    )


def test_a_receiver_whose_scenario_failed_to_load_says_so() -> None:
    result = answer("lazy", "nobody")
    assert result.verdicts[0].detail == (
        "No receiver named nobody was connected, and no function of that name exists. The "
        "scenario stopped before it was fully loaded: lazy.py: a lazy model reference (a "
        "relation or a sender string) names a model that is never defined: app.Invoise. "
        "Check the spelling."
    )


@pytest.mark.filterwarnings("ignore:model 'User' is defined a second time")
def test_another_class_of_the_same_name_is_named_as_the_cause() -> None:
    verdict = only("same_name", "greet", "sender_mismatch")
    assert verdict.detail == (
        "It listens to sender=User; #4 post_save User came from User. The User that sent is "
        "another class of the same name, not the one it listens to (a class defined twice, or "
        "one module imported under two names)."
    )


def test_a_dead_bound_method_is_told_to_keep_its_object() -> None:
    verdict = only("dead_method", "on_save", "dead_reference")
    assert verdict.dispatches == [4]
    assert verdict.detail == (
        "Its weak reference had died when #4 post_save User came: a bound method is "
        "collected with its object."
    )
    assert verdict.fix == (
        "Keep the object alive (store it) as long as it should receive, or connect it with "
        "weak=False."
    )


def test_ran_says_when_a_fixture_load_sent_raw() -> None:
    assert verdicts("fixture", "count_order") == [("ran", [4])]
    assert only("fixture", "count_order", "ran").detail == (
        "Called by #4 post_save Order. #4 post_save Order sent raw=True (a fixture being "
        "loaded): a receiver that returns early on raw does nothing there."
    )


def test_an_m2m_receiver_connected_for_the_model_is_told_the_through_model() -> None:
    verdict = only("m2m", "tags_changed", "sender_mismatch")
    assert verdict.detail == (
        "It listens to sender=Post, but m2m_changed is sent by the relation's through "
        "model (Post.tags.through), not by Post: post.tags.add(<Tag: Tag object (1)>) "
        "sent no m2m_changed it hears."
    )
    assert verdict.fix == "Connect it with sender=Post.tags.through."


def test_a_lazy_sender_that_never_resolved() -> None:
    verdict = only("lazy", "invoice_saved", "sender_mismatch")
    assert verdict.detail == (
        "It was connected at lazy.py:16 with the lazy sender 'app.Invoise', which never "
        "resolved: no model of that name was registered, so it was never connected at all."
    )


def test_a_dead_local_function_is_explained() -> None:
    verdict = only("dead", "note_saved", "dead_reference")
    assert "a function defined inside another one is collected" in verdict.detail
    assert verdict.fix is not None and "weak=False" in verdict.fix


def test_not_reached_names_the_receiver_that_raised() -> None:
    verdict = only("not_reached", "send_receipt", "not_reached")
    assert verdict.detail == (
        "An earlier receiver raised and send() stopped before this one "
        "(#4: charge_card raised ValueError: card declined)."
    )


def test_no_signal_for_operation_names_each_bulk_call_and_raw_sql() -> None:
    verdict = only("bulk", "reindex", "no_signal_for_operation")
    assert verdict.detail == (
        "These wrote rows without sending post_save: Product.objects.bulk_create("
        "[<Product: Product object (None)>, <Product: Product object (None)>]) "
        "(bulk_create()); Product.objects.filter(price=1).update(price=3) (update()); "
        'UPDATE "app_product" SET "price" = 4 (raw SQL). update(), bulk_create(), '
        "bulk_update() and raw SQL never call save() or delete()."
    )


def test_not_connected_finds_the_definition_and_suspects_the_import() -> None:
    result = answer("not_connected", "send_welcome")
    assert result.receiver is None
    assert result.verdicts[0].detail == (
        "send_welcome is defined at not_connected.py:11, but no connect for it was "
        "recorded: the module that connects it may never be imported."
    )
    assert result.suggestions == []


def test_a_misspelt_name_gets_suggestions() -> None:
    result = answer("not_connected", "send_welcom")
    assert result.verdicts[0].detail == (
        "No receiver named send_welcom was connected, and no function of that name exists."
    )
    assert result.suggestions[0] == "send_welcome"


def test_other_signal_names_what_was_sent() -> None:
    verdict = only("other_signal", "notify_warehouse", "other_signal")
    assert verdict.detail == (
        "It is connected to Orders.placed, which was never sent in this run. "
        "The signals sent were: order_placed."
    )


def test_duplicate_connections_say_where_and_what_it_costs() -> None:
    first, second = [
        v
        for v in answer("duplicate_connection", "log_order").verdicts
        if v.reason == "duplicate_connection"
    ]
    assert first.detail == (
        "It was connected twice: duplicate_connection.py:18 ran again. The same receiver "
        "and sender were already connected, so that connect was ignored and it runs once "
        "per send."
    )
    assert second.detail == (
        "It ran more than once in #3 pre_save Order: it is connected under two lookup keys "
        "(two dispatch_uids, or one with and one without)."
    )


def test_duplicate_dispatch_uid_names_the_holder() -> None:
    verdict = only("duplicate_uid", "email_customer", "duplicate_dispatch_uid")
    assert verdict.detail == (
        "Its connect at duplicate_uid.py:17 was ignored: dispatch_uid 'order_saved' was "
        "already held by update_stock for this sender."
    )


def test_a_dispatch_uid_held_by_another_copy_of_the_same_function() -> None:
    traces = scenario.run(["dispatch_uid"]).traces
    verdict = next(
        v
        for v in why.explain("send_receipt", traces).verdicts
        if v.reason == "duplicate_dispatch_uid"
    )
    assert verdict.detail.endswith(
        "another copy of the same function (its module ran twice, say); the first copy runs."
    )
    assert verdict.fix == (
        "Nothing, if that is why the dispatch_uid is there; else import the module once."
    )


def test_connected_after_the_send() -> None:
    verdict = only("connected_after", "count_order", "connected_after")
    assert verdict.detail == (
        "It was connected at connected_after.py:25 during step 2, after #4 post_save Order "
        "had been sent."
    )


def test_disconnected_before_the_send() -> None:
    verdict = only("disconnected", "count_order", "disconnected")
    assert verdict.detail == "It was disconnected at disconnected.py:20 before #4 post_save Order."


def test_muted_by_replacing_the_receiver_list() -> None:
    verdict = only("muted", "count_order", "muted")
    assert verdict.detail == (
        "Its signal's receivers were replaced at muted.py:21 (muted, as factory_boy's "
        "mute_signals does) during #4 post_save Order."
    )


@pytest.mark.parametrize("query", ["audit_user", "proxy.audit_user", "proxy.py:17", "proxy.py:18"])
def test_a_receiver_is_found_by_name_qualified_name_or_file_and_line(query: str) -> None:
    result = answer("proxy", query)
    assert result.receiver is not None
    assert (result.receiver.name, result.receiver.line) == ("audit_user", 17)


def test_connections_are_recorded_with_where_they_were_made() -> None:
    (trace,) = scenario.run(["duplicate_uid.py"]).traces
    assert [
        (c.name, c.signal, c.sender_filter, c.dispatch_uid, c.outcome.value, c.holder)
        for c in trace.connections
    ] == [
        ("update_stock", "post_save", "Order", "order_saved", "connected", None),
        (
            "email_customer",
            "post_save",
            "Order",
            "order_saved",
            "dispatch_uid_taken",
            "update_stock",
        ),
    ]
    assert [c.called_from for c in trace.connections] == [
        f"{SCENARIOS / 'duplicate_uid.py'}:12",
        f"{SCENARIOS / 'duplicate_uid.py'}:17",
    ]


def test_connections_and_proxies_survive_saving_and_loading(tmp_path: Path) -> None:
    from sigcli import trace as tracefile

    traces = scenario.run(["several.py"]).traces
    tracefile.save(traces, tmp_path / "t.json")
    (loaded,) = tracefile.load(tmp_path / "t.json")
    assert loaded.connections == traces[0].connections
    assert (loaded.proxies, loaded.parents) == ({"Staff": "User"}, {})


def test_an_older_trace_without_connections_still_loads(tmp_path: Path) -> None:
    from sigcli import trace as tracefile

    path = tmp_path / "old.json"
    path.write_text(
        json.dumps({"sigcli_trace": 1, "scenario": "x.py", "error": None, "setup": [], "steps": []})
    )
    (loaded,) = tracefile.load(path)
    assert (loaded.connections, loaded.proxies, loaded.parents) == ([], {}, {})
