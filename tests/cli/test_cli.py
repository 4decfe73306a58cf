"""``sigcli run``, ``trace`` and ``receivers`` as a user types them."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sigcli.scenario import bundled_paths
from tests.cli.conftest import Invoke, lines

PROFILES_TREE = """\
profiles · 3 steps · 10 dispatches · 10 pre_init/post_init with no receiver folded · no errors
├── 1 · a user signs up
│   └── User.objects.create(username='ann')
│       ├── pre_save  User  instance=<User: ann>
│       │   └── ✓ audit  any sender
│       ├── SQL  INSERT INTO "app_user" ("username") VALUES ('ann')
│       └── post_save  User  instance=<User: ann>  created=True
│           └── ✓ create_profile  sender=User
│               └── Profile.objects.create(user=<User: ann>)
│                   ├── pre_save  Profile  instance=<Profile: Profile object (None)>
│                   │   └── ✓ audit  any sender
│                   ├── SQL  INSERT INTO "app_profile" ("user_id", "bio") VALUES (1, '')
│                   └── post_save  Profile  instance=<Profile: Profile object (1)>  created=True
│                       └── ○ create_profile  skipped: listens to sender=User
├── 2 · rename with update_fields
│   ├── User.objects.get(username='ann')
│   │   └── SQL  SELECT ... FROM "app_user" WHERE "app_user"."username" = 'ann' LIMIT 21
│   └── user.save(update_fields=['username'])
│       ├── pre_save  User  instance=<User: anna>  update_fields={'username'}
│       │   └── ✓ audit  any sender
│       ├── SQL  UPDATE "app_user" SET "username" = 'anna' WHERE "app_user"."id" = 1
│       └── post_save  User  instance=<User: anna>  created=False  update_fields={'username'}
│           └── ✓ create_profile  sender=User
└── 3 · delete the user
    ├── User.objects.get(username='anna')
    │   └── SQL  SELECT ... FROM "app_user" WHERE "app_user"."username" = 'anna' LIMIT 21
    └── user.delete()
        ├── SQL  SELECT ... FROM "app_profile" WHERE "app_profile"."user_id" IN (1)
        ├── SQL  BEGIN
        ├── pre_delete  Profile  instance=<Profile: Profile object (1)>  origin=<User: anna>
        │   └── ✓ goodbye  sender=Profile
        ├── pre_delete  User  instance=<User: anna>  origin=<User: anna>
        │   └── ○ goodbye  skipped: listens to sender=Profile
        ├── SQL  DELETE FROM "app_profile" WHERE "app_profile"."id" IN (1)
        ├── post_delete  Profile  instance=<Profile: Profile object (1)>  origin=<User: anna>  (no
        │   receivers)
        ├── SQL  DELETE FROM "app_user" WHERE "app_user"."id" IN (1)
        ├── post_delete  User  instance=<User: anna>  origin=<User: anna>  (no receivers)
        └── SQL  COMMIT"""

PAYMENTS_TREE = """\
payments.py · 2 steps · 4 dispatches · no errors
├── 1 · Stripe pays 100
│   └── payment_received  Stripe  amount=100
│       ├── ✓ book_payment  any sender  → returned booked 100
│       │   └── receipt_sent  Stripe  amount=100
│       │       └── ○ paypal_receipt  skipped: listens to sender=PayPal
│       └── ✓ stripe_fee    sender=Stripe  → returned 3.0
└── 2 · PayPal pays 40
    └── payment_received  PayPal  amount=40
        ├── ✓ book_payment  any sender  → returned booked 40
        │   └── receipt_sent  PayPal  amount=40
        │       └── ✓ paypal_receipt  sender=PayPal  → returned mailed
        └── ○ stripe_fee    skipped: listens to sender=Stripe"""

FAILING_TREE = """\
failing.py · 2 of 3 steps run · 2 dispatches · 1 error
├── 1 · order 2
│   └── order_placed  Shop  quantity=2
│       ├── ✓ reserve_stock  any sender  → returned 2
│       └── ✓ send_invoice   any sender  → returned sent
├── 2 · order 9  ✗ stopped: ValueError: only 5 in stock, 9 ordered
│   └── order_placed  Shop  quantity=9
│       ├── ✗ reserve_stock  any sender  → raised ValueError: only 5 in stock, 9 ordered
│       └── · send_invoice   not called: an earlier receiver raised
└── 3 · order 1  not run: an earlier step failed"""


# -- run --------------------------------------------------------------------------


def test_run_a_bundled_scenario_prints_the_model_tree(sigcli: Invoke) -> None:
    result = sigcli("run", "profiles")
    assert result.exit_code == 0
    assert lines(result.stdout) == PROFILES_TREE


def test_run_custom_signals_shows_sender_filters_and_nesting(sigcli: Invoke) -> None:
    result = sigcli("run", "payments.py")
    assert (result.exit_code, lines(result.stdout)) == (0, PAYMENTS_TREE)


def test_a_receiver_that_raises_stops_its_step_and_exits_1(sigcli: Invoke) -> None:
    result = sigcli("run", "failing.py")
    assert result.exit_code == 1
    assert lines(result.stdout) == FAILING_TREE
    assert result.stderr == (
        "Error: failing.py step 2 (order 9) stopped: ValueError: only 5 in stock, 9 ordered "
        "(failing.py:16)\n"
    )


def test_a_run_function_is_the_single_step_and_its_prints_stay_in_place(sigcli: Invoke) -> None:
    result = sigcli("run", "single_run.py")
    assert result.exit_code == 0
    assert (
        lines(result.stdout)
        == """\
single_run.py · 1 step · 1 dispatch · no errors
└── 1 · run
    └── hello  'greeter'
        └── ✓ answer  any sender  → returned hi
            └── print  a scenario may print"""
    )


def test_several_scenarios_run_one_after_another(sigcli: Invoke) -> None:
    result = sigcli("run", "failing.py", "payments.py")
    assert result.exit_code == 1
    assert lines(result.stdout) == FAILING_TREE + "\n" + PAYMENTS_TREE
    saved = json.loads(Path(".sigcli/last-trace.json").read_text())
    assert [run["scenario"] for run in saved["runs"]] == ["failing.py", "payments.py"]


def test_verbose_adds_receiver_locations(sigcli: Invoke) -> None:
    result = sigcli("run", "payments.py", "-v")
    assert (
        "│       ├── ✓ book_payment  any sender  → returned booked 100  payments.py:18\n"
        in result.stdout
    )
    assert (
        "        └── ○ stripe_fee    skipped: listens to sender=Stripe  payments.py:24\n"
        in result.stdout
    )


def test_all_unfolds_init_signals_and_the_setup_section(sigcli: Invoke) -> None:
    folded = sigcli("run", "profiles").stdout
    shown = sigcli("run", "profiles", "--all").stdout
    assert "pre_init  User" not in folded and "setup" not in folded
    assert shown.startswith("profiles · 3 steps · 20 dispatches · no errors\n├── setup · ")
    assert shown.count("pre_init  User") == 3
    assert "class_prepared  User  (no receivers)" in shown


def test_runaway_recursion_stops_at_max_depth_and_shows_the_cycle(sigcli: Invoke) -> None:
    result = sigcli("run", "runaway.py", "--max-depth", "6")
    assert result.exit_code == 1
    assert (
        lines(result.stdout)
        == """\
runaway.py · 1 step · 6 dispatches · 1 error
└── 1 · ping  ✗ stopped: DepthLimitExceeded: signals nested deeper than 6 levels; this cycle
    repeats: ping Net › answer → pong Net › ask_again → ping Net › answer. A receiver causes the
    dispatch that calls it again: guard it (check `created` or `update_fields`), or write with
    QuerySet.update(), which sends no signals
    └── ping  Net
        └── ✗ answer  any sender  ↑ DepthLimitExceeded from a nested receiver
            └── pong  Net
                └── ✗ ask_again  any sender  ↑ DepthLimitExceeded from a nested receiver
                    └── ping  Net
                        └── ✗ answer  any sender  ↑ DepthLimitExceeded from a nested receiver
                            └── pong  Net
                                └── ✗ ask_again  any sender  ↑ DepthLimitExceeded from a nested
                                    receiver
                                    └── ping  Net
                                        └── ✗ answer  any sender  ↑ DepthLimitExceeded from a nested
                                            receiver
                                            └── pong  Net
                                                └── ✗ ask_again  any sender  → raised
                                                    DepthLimitExceeded: signals nested deeper than 6
                                                    levels; this cycle repeats: pi…"""
    )


def test_a_model_receiver_saving_its_own_instance_is_stopped_at_the_default_depth(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "selfsave.py").write_text(
        "import sigcli\n"
        "from sigcli import models, receiver\n"
        "from sigcli.signals import post_save\n\n\n"
        "class Page(models.Model):\n"
        "    saves = models.IntegerField(default=0)\n\n\n"
        "@receiver(post_save, sender=Page)\n"
        "def count_saves(sender, instance, **kwargs):\n"
        "    instance.saves += 1\n"
        "    instance.save()\n\n\n"
        "@sigcli.step\n"
        "def create():\n"
        "    Page.objects.create()\n"
    )
    result = sigcli("run", "selfsave.py")
    assert result.exit_code == 1
    assert result.stdout.startswith("selfsave.py · 1 step · 100 dispatches · ")
    assert (
        "this cycle repeats: post_save Page › count_saves → post_save Page › count_saves."
        in result.stderr
    )


def test_run_saves_the_trace_where_asked(sigcli: Invoke) -> None:
    sigcli("run", "payments.py")
    assert json.loads(Path(".sigcli/last-trace.json").read_text())["scenario"] == "payments.py"
    Path("out").mkdir()
    sigcli("run", "payments.py", "--save", "out/t.json")
    assert json.loads(Path("out/t.json").read_text())["sigcli_trace"] == 1
    Path(".sigcli/last-trace.json").unlink()
    sigcli("run", "payments.py", "--no-save")
    assert not Path(".sigcli/last-trace.json").exists()


def test_json_round_trip_shows_the_same_tree(sigcli: Invoke) -> None:
    printed = sigcli("run", "profiles", "--json", "--no-save")
    assert printed.exit_code == 0
    Path("t.json").write_text(printed.stdout)
    document = json.loads(printed.stdout)
    assert (document["sigcli_trace"], document["scenario"]) == (1, "profiles")
    first = next(
        node
        for node in document["steps"][0]["children"][0]["children"]
        if node.get("signal") == "pre_save"
    )
    assert first["kwargs"]["instance"] == {"model": "User", "pk": None, "repr": "<User: ann>"}
    assert first["receivers"][0] == {
        "name": "audit",
        "module": first["receivers"][0]["module"],
        "file": first["receivers"][0]["file"],
        "line": 33,
        "sender_filter": None,
        "weak": True,
        "dispatch_uid": None,
        "called": True,
        "skipped_reason": None,
        "result": None,
        "error": None,
        "error_propagated": False,
        "children": [],
    }
    shown = sigcli("trace", "t.json")
    assert (shown.exit_code, lines(shown.stdout)) == (0, PROFILES_TREE)


def test_json_output_keeps_scenario_prints_in_the_trace(sigcli: Invoke) -> None:
    result = sigcli("run", "single_run.py", "--json")
    receiver = json.loads(result.stdout)["steps"][0]["children"][0]["receivers"][0]
    assert receiver["children"] == [{"type": "output", "text": "a scenario may print\n"}]
    assert result.stderr == ""


def test_db_keeps_the_database(sigcli: Invoke) -> None:
    assert sigcli("run", "profiles", "--db", "kept.sqlite3").exit_code == 0
    with sqlite3.connect("kept.sqlite3") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"app_user", "app_profile"} <= tables
    again = sigcli("run", "profiles", "--db", "kept.sqlite3")
    assert again.exit_code == 2
    assert "kept.sqlite3 already exists; --db needs a new file name." in again.stderr


def test_export_writes_svg_html_and_mermaid(sigcli: Invoke) -> None:
    for name in ("t.svg", "t.html", "t.mmd"):
        assert sigcli("run", "payments.py", "--export", name).exit_code == 0
    assert "<svg" in Path("t.svg").read_text()
    assert "book_payment" in Path("t.html").read_text()
    assert Path("t.mmd").read_text().splitlines()[:4] == [
        "%% sigcli export: mermaid",
        "sequenceDiagram",
        "    participant p0 as scenario",
        "    participant p1 as book_payment",
    ]
    bad = sigcli("run", "payments.py", "--export", "t.png")
    assert bad.exit_code == 2
    assert "the file name must end in .svg, .html or .mmd" in bad.stderr


def test_ctrl_c_exits_130_and_keeps_the_partial_trace(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "interrupt.py").write_text(
        "import sigcli\n\n\n"
        "@sigcli.step\n"
        "def first():\n"
        "    '''first'''\n\n\n"
        "@sigcli.step\n"
        "def second():\n"
        "    raise KeyboardInterrupt\n\n\n"
        "@sigcli.step\n"
        "def third():\n"
        "    '''third'''\n"
    )
    result = sigcli("run", "interrupt.py", "payments.py")
    assert result.exit_code == 130
    assert (
        lines(result.stdout)
        == """\
interrupt.py · 2 of 3 steps run · 0 dispatches · interrupted · no errors
├── 1 · first
├── 2 · second  ✗ interrupted (Ctrl-C)
└── 3 · third  not run: the run was interrupted"""
    )
    assert result.stderr == "Interrupted; the partial trace is saved in .sigcli/last-trace.json.\n"
    saved = json.loads(Path(".sigcli/last-trace.json").read_text())
    assert (saved["scenario"], saved["interrupted"], saved["not_run"]) == (
        "interrupt.py",
        True,
        ["third"],
    )


# -- bad input --------------------------------------------------------------------


def test_missing_scenario_suggests_a_bundled_one(sigcli: Invoke) -> None:
    result = sigcli("run", "profils")
    assert result.exit_code == 2
    first, second = result.stderr.splitlines()
    assert (
        first
        == "Error: No file 'profils' and no bundled scenario of that name. Did you mean 'profiles'?"
    )
    assert second.startswith("Bundled scenarios: ") and "profiles" in second


def test_a_directory_or_a_non_python_file_is_a_usage_error(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "folder").mkdir()
    assert (sigcli("run", "folder").exit_code, sigcli("run", "folder").stderr) == (
        2,
        "Error: folder is a directory; pass a scenario .py file.\n",
    )
    result = sigcli("run", "notes.txt")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: notes.txt is not a Python file; a scenario is a .py file "
        "(to look at a saved trace, use `sigcli trace FILE.json`).\n"
    )


def test_a_syntax_error_names_file_and_line(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import sigcli\n\nx = (\n")
    result = sigcli("run", "broken.py")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: broken.py:3: SyntaxError: '(' was never closed\n"
        "    x = (\n"
        "        ^\n"
        "Fix the syntax and run again.\n"
    )
    assert result.stdout == ""


def test_an_exception_while_importing_names_file_and_line(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "explodes.py").write_text("import sigcli\n\nraise RuntimeError('[bold]no')\n")
    result = sigcli("run", "explodes.py")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: explodes.py:3: error while importing the scenario: RuntimeError: [bold]no\n"
        "    raise RuntimeError('[bold]no')\n"
    )


def test_a_receiver_without_kwargs_is_reported_where_it_is_connected(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "nokwargs.py").write_text(
        "from sigcli import receiver\n"
        "from sigcli.signals import post_save\n\n\n"
        "@receiver(post_save)\n"
        "def audit(sender, instance):\n"
        "    pass\n"
    )
    result = sigcli("run", "nokwargs.py")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: nokwargs.py:5: error while importing the scenario: ValueError: "
        "Signal receivers must accept keyword arguments (**kwargs).\n"
        "    @receiver(post_save)\n"
        "Give the receiver audit a **kwargs parameter, for example: "
        "def handler(sender, **kwargs): ...\n"
    )


def test_a_scenario_without_steps(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("import sigcli\n")
    result = sigcli("run", "empty.py")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: empty.py defines no steps. Decorate functions with @sigcli.step "
        "(they run in file order), or define a function run().\n"
    )


def test_a_typo_in_a_model_reference(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(
        "import sigcli\nfrom sigcli import models\n\n\n"
        "class Book(models.Model):\n"
        "    author = models.ForeignKey('Autor', on_delete=models.CASCADE)\n\n\n"
        "@sigcli.step\ndef go():\n    pass\n"
    )
    result = sigcli("run", "typo.py")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: typo.py: a lazy model reference (a relation or a sender string) names a "
        "model that is never defined: Autor. Check the spelling.\n"
    )


# -- trace ------------------------------------------------------------------------


def test_trace_without_a_saved_trace(sigcli: Invoke) -> None:
    result = sigcli("trace")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: No saved trace in .sigcli/last-trace.json. Run `sigcli run SCENARIO` first, "
        "or pass a trace file or a scenario.\n"
    )


def test_trace_with_no_argument_shows_the_last_run(sigcli: Invoke) -> None:
    sigcli("run", "payments.py")
    assert lines(sigcli("trace").stdout) == PAYMENTS_TREE


def test_trace_filters_by_sender_and_shows_where_each_dispatch_happened(sigcli: Invoke) -> None:
    sigcli("run", "profiles")
    result = sigcli("trace", "--sender", "Profile")
    assert result.exit_code == 0
    assert (
        lines(result.stdout)
        == """\
filter: sender=Profile · 4 of 10 dispatches shown · 6 hidden (sender User ×6)
├── 1 · a user signs up › User.objects.create(username='ann') › post_save User › create_profile ›
│   Profile.objects.create(user=<User: ann>)
│   ├── pre_save  Profile  instance=<Profile: Profile object (None)>
│   │   └── ✓ audit  any sender
│   └── post_save  Profile  instance=<Profile: Profile object (1)>  created=True
│       └── ○ create_profile  skipped: listens to sender=User
└── 3 · delete the user › user.delete()
    ├── pre_delete  Profile  instance=<Profile: Profile object (1)>  origin=<User: anna>
    │   └── ✓ goodbye  sender=Profile
    └── post_delete  Profile  instance=<Profile: Profile object (1)>  origin=<User: anna>  (no
        receivers)"""
    )


PROFILE_FIRST = """\
filter: sender=Profile · 4 of 10 dispatches shown · 6 hidden (sender User ×6)
├── 1 · a user signs up › User.objects.create(username='ann') › post_save User › create_profile ›
│   Profile.objects.create(user=<User: ann>)
│   └── pre_save  Profile  instance=<Profile: Profile object (None)>
│       └── ✓ audit  any sender
└── ✂ --limit 1: 3 more dispatches not drawn. Draw more with --limit N (0 draws everything), or
    narrow the filter."""


def test_a_filtered_trace_counts_what_it_does_not_draw_from_the_files_census(
    sigcli: Invoke,
) -> None:
    sigcli("run", "profiles", "--save", "t.json")
    document = json.loads(Path("t.json").read_text(encoding="utf-8"))
    assert document["census"] == [
        ["pre_init", "User", [], False, 3],
        ["post_init", "User", [], False, 3],
        ["pre_save", "User", ["audit"], True, 2],
        ["post_save", "User", ["create_profile"], True, 2],
        ["pre_init", "Profile", [], False, 2],
        ["post_init", "Profile", [], False, 2],
        ["pre_save", "Profile", ["audit"], True, 1],
        ["post_save", "Profile", ["create_profile"], False, 1],
        ["pre_delete", "Profile", ["goodbye"], True, 1],
        ["pre_delete", "User", ["goodbye"], False, 1],
        ["post_delete", "Profile", [], False, 1],
        ["post_delete", "User", [], False, 1],
    ]
    assert lines(sigcli("trace", "t.json", "--sender", "Profile", "--limit", "1").stdout) == (
        PROFILE_FIRST
    )
    # Past the first match nothing is read: what is left is counted from the census.
    document["census"][-1][-1] = 4
    Path("t.json").write_text(json.dumps(document), encoding="utf-8")
    assert lines(sigcli("trace", "t.json", "--sender", "Profile", "--limit", "1").stdout) == (
        PROFILE_FIRST.replace("(sender User ×6)", "(sender User ×9)")
        .replace("6 hidden", "9 hidden")
        .replace("of 10 dispatches", "of 13 dispatches")
    )
    # A file saved before runs had a census is read and counted node by node.
    del document["census"]
    Path("t.json").write_text(json.dumps(document), encoding="utf-8")
    assert lines(sigcli("trace", "t.json", "--sender", "Profile", "--limit", "1").stdout) == (
        PROFILE_FIRST
    )


def test_trace_filters_combine(sigcli: Invoke) -> None:
    sigcli("run", "profiles")
    result = sigcli(
        "trace", "--signal", "post_save", "--signal", "pre_delete", "--receiver", "good"
    )
    assert (
        lines(result.stdout)
        == """\
filter: signal=post_save, signal=pre_delete, receiver~good · 2 of 10 dispatches shown · 8 hidden
(signal pre_save ×3, post_save ×3, post_delete ×2)
└── 3 · delete the user › user.delete()
    ├── pre_delete  Profile  instance=<Profile: Profile object (1)>  origin=<User: anna>
    │   └── ✓ goodbye  sender=Profile
    └── pre_delete  User  instance=<User: anna>  origin=<User: anna>
        └── ○ goodbye  skipped: listens to sender=Profile"""
    )


def test_trace_table_is_a_flat_timeline(sigcli: Invoke) -> None:
    sigcli("run", "profiles")
    result = sigcli("trace", "--instance", "User:1", "--format", "table")
    assert (
        lines(result.stdout)
        == """\
.sigcli/last-trace.json · filter: instance=User:1 · 6 of 10 dispatches
seq   depth   signal        sender   instance       created   receivers called   errors
───────────────────────────────────────────────────────────────────────────────────────
  3       1   pre_save      User     <User: ann>    -         audit              -
  4       1   post_save     User     <User: ann>    True      create_profile     -
 11       1   pre_save      User     <User: anna>   -         audit              -
 12       1   post_save     User     <User: anna>   False     create_profile     -
 18       1   pre_delete    User     <User: anna>   -         -                  -
 20       1   post_delete   User     <User: anna>   -         -                  -"""
    )


def test_instance_filter_finds_the_creating_pre_save_and_refuses_an_unknown_pk(
    sigcli: Invoke,
) -> None:
    """The pre_save of the save that created User 1 is about User 1 (its pk
    was not set yet); a pk no dispatch is about is an error, like a sender."""
    sigcli("run", "profiles")
    result = sigcli("trace", "--instance", "Profile:1", "--format", "json")
    assert [d["seq"] for d in json.loads(result.stdout)["dispatches"]] == [7, 8, 17, 19]
    result = sigcli("trace", "--instance", "User:abc")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-2:] == [
        "Error: Invalid value for '--instance': no instance named 'User:abc' in this trace. "
        "Did you mean 'User:1'?",
        "Known instances: User:1, User:None",
    ]


def test_max_depth_on_a_saved_trace_is_refused(sigcli: Invoke) -> None:
    sigcli("run", "payments.py")
    result = sigcli("trace", "--max-depth", "2")
    assert result.exit_code == 2
    assert "--max-depth stops a run that nests too deep; .sigcli/last-trace.json is a saved" in (
        result.stderr
    )
    assert sigcli("trace", "payments.py", "--max-depth", "2").exit_code == 0


def test_a_view_of_a_saved_trace_says_which_file_and_when(sigcli: Invoke) -> None:
    sigcli("run", "payments.py")
    result = sigcli("trace")
    assert result.stderr.startswith("Showing .sigcli/last-trace.json, saved 20")
    assert result.stdout.startswith("payments.py · 2 steps")


def test_trace_json_lists_the_selected_dispatches_with_their_path(sigcli: Invoke) -> None:
    sigcli("run", "payments.py")
    result = sigcli("trace", "--signal", "receipt_sent", "--format", "json")
    document = json.loads(result.stdout)
    assert (document["filter"], document["shown"], document["total"]) == (
        "signal=receipt_sent",
        2,
        4,
    )
    assert [d["path"] for d in document["dispatches"]] == [
        ["1 · Stripe pays 100", "payment_received Stripe", "book_payment"],
        ["2 · PayPal pays 40", "payment_received PayPal", "book_payment"],
    ]
    assert [d["depth"] for d in document["dispatches"]] == [2, 2]


def test_trace_runs_a_scenario_first(sigcli: Invoke) -> None:
    result = sigcli("trace", "failing.py", "--sender", "Shop")
    assert result.exit_code == 1
    assert (
        lines(result.stdout).splitlines()[0]
        == "filter: sender=Shop · 2 of 2 dispatches shown · 0 hidden"
    )


def test_unknown_filter_names_get_the_known_ones_and_a_suggestion(sigcli: Invoke) -> None:
    sigcli("run", "profiles")
    result = sigcli("trace", "--sender", "Profle")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for '--sender': no sender named 'Profle' in this trace. "
        "Did you mean 'Profile'?\nKnown senders: Profile, User\n"
    )
    signal = sigcli("trace", "--signal", "post_sav")
    assert signal.exit_code == 2
    assert "no signal named 'post_sav' in this trace. Did you mean 'post_save'?" in signal.stderr
    receiver = sigcli("trace", "--receiver", "nobody")
    assert "Known receivers: audit, create_profile, goodbye\n" in receiver.stderr
    instance = sigcli("trace", "--instance", "User")
    assert (instance.exit_code, instance.stderr.splitlines()[-1]) == (
        2,
        "Error: Invalid value for '--instance': expected MODEL:PK, for example Profile:1",
    )
    model = sigcli("trace", "--instance", "Usr:1")
    assert "no model named 'Usr' in this trace. Did you mean 'User'?" in model.stderr


def test_a_signal_known_to_django_but_absent_is_not_an_error(sigcli: Invoke) -> None:
    sigcli("run", "payments.py")
    result = sigcli("trace", "--signal", "m2m_changed")
    assert result.exit_code == 0
    assert " ".join(result.stdout.split()) == (
        "filter: signal=m2m_changed · 0 of 4 dispatches shown · 4 hidden "
        "(signal payment_received ×2, receipt_sent ×2)"
    )


def test_a_corrupt_or_foreign_trace_file_is_a_usage_error(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    result = sigcli("trace", "bad.json")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: bad.json is not a sigcli trace (invalid JSON at line 1: "
        "Expecting property name enclosed in double quotes)\n",
    )
    (tmp_path / "future.json").write_text('{"sigcli_trace": 7, "steps": []}')
    result = sigcli("trace", "future.json")
    assert result.stderr == (
        "Error: future.json is a sigcli trace of format version 7; this sigcli reads version 1. "
        "Record it again with `sigcli run`.\n"
    )


# -- receivers ------------------------------------------------------------------


def test_receivers_lists_the_registry_after_loading(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "wiring.py").write_text(
        "from sigcli import Signal, models, receiver\n"
        "from sigcli.signals import post_save, pre_delete\n\n"
        "ping = Signal()\n\n\n"
        "class Hub:\n"
        "    pass\n\n\n"
        "class User(models.Model):\n"
        "    pass\n\n\n"
        "@receiver(post_save, sender='app.User', dispatch_uid='audit-once')\n"
        "def audit(sender, **kwargs):\n"
        "    pass\n\n\n"
        "def strong(sender, **kwargs):\n"
        "    pass\n\n\n"
        "ping.connect(strong, sender=Hub, weak=False)\n"
        "pre_delete.connect(audit)\n"
    )
    result = sigcli("receivers", "wiring.py")
    assert result.exit_code == 0
    assert (
        lines(result.stdout)
        == """\
wiring.py · 3 receivers connected
├── post_save
│   └── wiring:audit  sender=User  weak  dispatch_uid='audit-once'  wiring.py:15
├── pre_delete
│   └── wiring:audit  any sender  weak  wiring.py:15
└── ping
    └── wiring:strong  sender=Hub  strong  wiring.py:20"""
    )


# -- start-up ---------------------------------------------------------------------


def test_help_and_version_load_neither_rich_nor_sqlite_nor_models() -> None:
    code = (
        "import sys\n"
        "from sigcli.cli import main\n"
        "for args in (['--version'], ['--help'], ['run', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('rich', 'sqlite3', 'sigcli.models', 'sigcli.trace') if m in sys.modules]\n"
        "print('loaded:', heavy)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    ).stdout
    assert out.splitlines()[-1] == "loaded: []"
    assert out.startswith("sigcli, version 0.1.0\n")


def test_reprs_with_markup_are_shown_literally(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "markup.py").write_text(
        "import sigcli\n"
        "from sigcli import models, receiver\n"
        "from sigcli.signals import post_save\n\n\n"
        "class Tag(models.Model):\n"
        "    name = models.CharField(max_length=20)\n\n"
        "    def __str__(self):\n"
        "        return self.name\n\n\n"
        "@receiver(post_save, sender=Tag)\n"
        "def shout(sender, instance, **kwargs):\n"
        "    return '[red]loud[/red]'\n\n\n"
        "@sigcli.step\n"
        "def tags():\n"
        "    '''[bold]tags[/]'''\n"
        "    Tag.objects.create(name='[/]')\n"
    )
    result = sigcli("run", "markup.py")
    assert result.exit_code == 0
    assert lines(result.stdout).splitlines()[1:] == [
        "└── 1 · [bold]tags[/]",
        "    └── Tag.objects.create(name='[/]')",
        "        ├── pre_save  Tag  instance=<Tag: [/]>  (no receivers)",
        '        ├── SQL  INSERT INTO "app_tag" ("name") VALUES (\'[/]\')',
        "        └── post_save  Tag  instance=<Tag: [/]>  created=True",
        "            └── ✓ shout  sender=Tag  → returned [red]loud[/red]",
    ]


def test_send_robust_shows_the_caught_exception_as_the_response(sigcli: Invoke) -> None:
    result = sigcli("run", "send_robust")
    assert result.stderr == ""
    assert (
        "│       ├── ✗ charge_card   any sender  → raised GatewayDown: the payment gateway timed out\n"
        "│       │   (send_robust returned it)\n"
    ) in lines(result.stdout)


def test_a_scenario_imports_a_module_next_to_it(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "helpers.py").write_text("LABEL = 'from the helper'\n")
    (tmp_path / "shop" / "uses_helper.py").write_text(
        "import sigcli\nfrom helpers import LABEL\n\n\n@sigcli.step\ndef go():\n    print(LABEL)\n"
    )
    result = sigcli("run", "shop/uses_helper.py", "--no-save")
    assert result.exit_code == 0
    assert lines(result.stdout) == (
        "uses_helper.py · 1 step · 0 dispatches · no errors\n└── 1 · go\n    └── print  from the helper"
    )


def test_control_characters_in_errors_are_escaped(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "noisy.py").write_text("raise RuntimeError('\\x1b[2Jgone')\n")
    result = sigcli("run", "noisy.py")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "Error: noisy.py:1: error while importing the scenario: RuntimeError: \\x1b[2Jgone"
    )


def test_trace_options_all_verbose_and_export(sigcli: Invoke) -> None:
    sigcli("run", "payments.py", "--save", "pay.json")
    inits = sigcli("trace", "pay.json", "--signal", "pre_migrate")
    assert inits.stdout.startswith("filter: signal=pre_migrate · 0 of 4 dispatches shown")
    everything = sigcli("trace", "pay.json", "--signal", "pre_migrate", "--all")
    assert everything.stdout.startswith("filter: signal=pre_migrate · 1 of 6 dispatches shown")
    assert (
        "\n└── setup\n    └── pre_migrate  <AppConfig: app>  app_config=<AppConfig: app>"
        in lines(everything.stdout)
    )
    verbose = sigcli("trace", "pay.json", "--sender", "PayPal", "-v", "--export", "pay.html")
    assert "✓ paypal_receipt  sender=PayPal  → returned mailed  payments.py:29" in verbose.stdout
    assert "paypal_receipt" in Path("pay.html").read_text()


def test_a_post_migrate_receiver_that_raises_is_a_load_error(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "migrate.py").write_text(
        "import sigcli\n"
        "from sigcli import receiver\n"
        "from sigcli.signals import post_migrate\n\n\n"
        "@receiver(post_migrate)\n"
        "def seed(sender, **kwargs):\n"
        "    raise LookupError('no seed data')\n\n\n"
        "@sigcli.step\n"
        "def go():\n"
        "    pass\n"
    )
    result = sigcli("run", "migrate.py")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: migrate.py:8: error while creating the tables: LookupError: no seed data\n"
        "    raise LookupError('no seed data')\n"
    )


def test_an_exception_whose_str_fails_is_still_reported(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "rude.py").write_text(
        "import sigcli\n\n\n"
        "class Rude(Exception):\n"
        "    def __str__(self):\n"
        "        raise RuntimeError('no')\n\n\n"
        "@sigcli.step\n"
        "def go():\n"
        "    raise Rude()\n"
    )
    result = sigcli("run", "rude.py")
    assert result.exit_code == 1
    assert lines(result.stdout).splitlines()[1] == (
        "└── 1 · go  ✗ stopped: Rude: <message could not be shown: its __str__ failed>"
    )


@pytest.mark.parametrize("name", sorted(bundled_paths()))
def test_every_bundled_scenario_runs_and_round_trips(sigcli: Invoke, name: str) -> None:
    result = sigcli("run", name, "--save", "t.json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.startswith(f"{name} · ")
    assert lines(sigcli("trace", "t.json").stdout) == lines(result.stdout)


def test_a_binary_file_named_py_is_not_python_source(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "blob.py").write_bytes(b"x = 1\x00\x01\x02")
    result = sigcli("run", "blob.py")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: blob.py is not Python source (source code string cannot contain null bytes); "
        "a scenario is a .py text file.\n",
    )
