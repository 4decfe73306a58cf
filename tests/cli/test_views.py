"""Every view tells the same truth about failures, pipes cleanly, and can be
made quieter: hidden skipped receivers, no SQL, one line per dispatch."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from sigcli.cli import main
from sigcli.exports import write_view
from sigcli.query import Filters, select
from sigcli.render import (
    ViewOptions,
    mermaid,
    run_view,
    run_views,
    timeline_header,
    timeline_table,
)
from sigcli.trace import Dispatch, ReceiverCall, Step, Trace, load
from tests.cli.conftest import Invoke, lines
from tests.cli.test_render import shop_trace, text

ROOT = Path(__file__).resolve().parents[2]


def test_a_receiver_that_raised_is_marked_failed_not_called() -> None:
    tree = text(run_view(shop_trace()))
    assert "│           ├── ✗ explode  any sender  → raised ValueError: [bold]no[/]\n" in tree
    assert "✓ explode" not in tree


def test_the_header_counts_every_step_of_the_file() -> None:
    """A 3-step file that stopped at step 2 is not a "2 steps" file."""
    header = text(run_view(shop_trace())).splitlines()[0]
    assert header.startswith("shop.py · 2 of 3 steps run · 3 dispatches")


def test_q_in_step_mode_reads_as_such_in_the_tree() -> None:
    trace = Trace("s.py", steps=[Step("first", "first", error="stopped with q")], interrupted=True)
    assert text(run_view(trace)).splitlines()[1] == "└── 1 · first  ✗ stopped with q"
    ctrl_c = Trace(
        "s.py", steps=[Step("first", "first", error="KeyboardInterrupt")], interrupted=True
    )
    assert text(run_view(ctrl_c)).splitlines()[1] == "└── 1 · first  ✗ interrupted (Ctrl-C)"


def test_hide_skipped_counts_them_on_the_dispatch_line() -> None:
    tree = text(run_view(shop_trace(), ViewOptions(hide_skipped=True)))
    assert "│           │   └── welcome  User  user=<User: ann>  (1 receiver skipped)\n" in tree
    assert "mail" not in tree
    assert "· late     not called: an earlier receiver raised" in tree


def test_no_sql_leaves_statements_out() -> None:
    tree = text(run_view(shop_trace(), ViewOptions(sql=False)))
    assert "SQL" not in tree
    assert "User.objects.filter(pk=1).update(username='bo')  no signals" in tree


def test_compact_draws_one_line_per_dispatch() -> None:
    assert (
        text(run_view(shop_trace(), ViewOptions(compact=True)), width=200)
        == """\
shop.py · 2 of 3 steps run · 3 dispatches · 1 pre_init/post_init with no receiver folded · 1 error
├── setup · loading the scenario and creating its tables
│   ├── class_prepared  User  → ✓ on_class
│   └── 1 other dispatch with no receiver called (--all shows them)
├── 1 · bulk first
├── 2 · sign up  ✗ stopped: ValueError: [bold]no[/]
│   ├── pre_save  User  instance=<User: ann>  → ✓ audit
│   └── post_save  User  instance=<User: ann>  created=True  → ✓ greet, ✗ explode raised ValueError: [bold]no[/], · late not called
│       └── welcome  User  user=<User: ann>  (1 receiver skipped)
└── 3 · never  not run: an earlier step failed"""
    )


def test_compact_and_quiet_options_on_the_command_line(sigcli: Invoke) -> None:
    result = sigcli("run", "payments.py", "--compact", "--no-save")
    assert result.exit_code == 0
    assert lines(result.stdout) == (
        "payments.py · 2 steps · 4 dispatches · no errors\n"
        "├── 1 · Stripe pays 100\n"
        "│   └── payment_received  Stripe  amount=100  → ✓ book_payment, ✓ stripe_fee\n"
        "│       └── receipt_sent  Stripe  amount=100  (1 receiver skipped)\n"
        "└── 2 · PayPal pays 40\n"
        "    └── payment_received  PayPal  amount=40  → ✓ book_payment  (1 receiver skipped)\n"
        "        └── receipt_sent  PayPal  amount=40  → ✓ paypal_receipt"
    )
    hidden = sigcli("run", "payments.py", "--hide-skipped", "--no-sql", "--no-save")
    assert "○" not in hidden.stdout and "(1 receiver skipped)" in hidden.stdout


def test_piped_output_is_neither_wrapped_nor_padded(tmp_path: Path) -> None:
    """`sigcli run profiles | grep "Profile object (None)"` finds the line whole."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    env.update(PYTHONPATH=str(ROOT), NO_COLOR="1", TERM="dumb")
    piped = subprocess.run(
        [sys.executable, "-m", "sigcli", "run", "profiles", "--no-save"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    ).stdout
    assert (
        "│                   ├── pre_save  Profile  instance=<Profile: Profile object (None)>\n"
        in piped
    )
    assert max(len(line) for line in piped.splitlines()) > 80
    assert [line for line in piped.splitlines() if line != line.rstrip()] == []


SEVERAL = ("nested_failure.py", "sender_filtering", "m2m_changed", "recursion", "send_robust")


@pytest.mark.parametrize(
    "view", [[], ["-v"], ["--compact", "-v"], ["--hide-skipped"], ["--all", "--no-sql"]]
)
def test_limit_0_draws_node_by_node_what_the_whole_tree_draws(
    sigcli: Invoke, view: list[str]
) -> None:
    """--limit 0 makes each step's nodes as they are printed; the text is
    the one of the tree built whole (a limit it never reaches), wrapped at
    100 columns, with nesting, failures, tracebacks, hints and SQL."""
    sigcli("run", *SEVERAL, "--keep-going", "--save", "t.json")
    whole = sigcli("trace", "t.json", "--limit", "100000", *view).stdout
    assert sigcli("trace", "t.json", "--limit", "0", *view).stdout == whole
    ran = sigcli("run", *SEVERAL, "--keep-going", "--no-save", "--limit", "0", *view).stdout
    assert (
        ran
        == sigcli("run", *SEVERAL, "--keep-going", "--no-save", "--limit", "100000", *view).stdout
    )
    for mark in ("✗", "✓", "\nsender_filtering · 3 steps · ", "←"):
        assert mark in whole
    assert re.search(r"^(│   |    ){3,}(├|└)── ", whole, re.MULTILINE)  # nested
    assert ("SQL  INSERT" in whole) is ("--no-sql" not in view and "--compact" not in view)
    assert ("nested_failure.py:58: in own" in whole) is ("-v" in view)


@pytest.mark.parametrize(
    "view",
    [["--signal", "post_save"], ["--receiver", "a", "-v"], ["--signal", "pre_save", "--compact"]],
)
def test_a_filtered_limit_0_draws_what_the_whole_selection_draws(
    sigcli: Invoke, view: list[str]
) -> None:
    sigcli("run", *SEVERAL, "--keep-going", "--save", "t.json")
    whole = sigcli("trace", "t.json", "--limit", "100000", *view).stdout
    assert sigcli("trace", "t.json", "--limit", "0", *view).stdout == whole
    assert whole.startswith("filter: ")
    nested = re.search(r"^(│   |    ){2,}(├|└)── ", whole, re.MULTILINE)
    assert bool(nested) is ("--compact" not in view)


def test_limit_0_in_colour_is_the_whole_tree_in_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(Path(__file__).parent / "scenarios" / "nested_failure.py", "nested_failure.py")
    env = {"COLUMNS": "90", "FORCE_COLOR": "1", "NO_COLOR": None, "TERM": "xterm-256color"}
    run = ["run", *SEVERAL, "--keep-going", "--no-save", "-v"]
    whole = CliRunner(env=env).invoke(main, [*run, "--limit", "100000"]).stdout
    assert "\x1b[" in whole
    assert CliRunner(env=env).invoke(main, [*run, "--limit", "0"]).stdout == whole


@pytest.mark.parametrize("width", [100_000, 100, 24])
def test_a_tree_written_without_styles_is_what_rich_prints(
    sigcli: Invoke, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piped (or NO_COLOR off a terminal) a tree is drawn as text by sigcli,
    not segment by segment by rich: the lines are the same, wrapped and
    cropped alike, wide characters and tracebacks included."""
    sigcli("run", *SEVERAL, "--keep-going", "--save", "t.json")
    traces = load(Path("t.json"))
    traces[0].steps[0].label = "注文 " * 20 + "\u200b\ttab"
    for options in (ViewOptions(verbose=True, limit=0), ViewOptions(compact=True, limit=2)):
        for tree in run_views(traces, options):
            printed, written = io.StringIO(), io.StringIO()
            Console(file=printed, width=width, color_system=None).print(tree)
            write_view(Console(file=written, width=width, color_system=None), tree)
            assert written.getvalue() == printed.getvalue()


def test_exports_fetch_nothing_from_the_network(sigcli: Invoke) -> None:
    result = sigcli("run", "failing.py", "--no-save", "--export", "run.svg")
    assert result.exit_code == 1
    svg = Path("run.svg").read_text(encoding="utf-8")
    assert "@font-face" not in svg and "cdnjs" not in svg and "woff" not in svg
    assert svg.count(">✗&#160;</text>") == 1  # reserve_stock raised
    result = sigcli("run", "failing.py", "--no-save", "--export", "run.html", "--force")
    page = Path("run.html").read_text(encoding="utf-8")
    assert "http" not in page and "<title>sigcli · failing.py</title>" in page
    assert '<li class="r failed leaf"><span class="err">✗ reserve_stock</span>' in page


def m2m_trace(scenario: str) -> Trace:
    pizza = {"model": "Pizza", "pk": 1, "repr": "<Pizza: margherita>"}
    robust = Dispatch(
        1, "order_paid", "Order", 1, {"order": "o"},
        [
            ReceiverCall("charge", "shop", None, None, None, True, None, called=True,
                         error="GatewayDown: timed out"),
            ReceiverCall("receipt", "shop", None, None, None, True, None, called=True),
        ],
        robust=True,
    )  # fmt: skip
    changed = Dispatch(
        2, "m2m_changed", "Pizza_toppings", 1,
        {"action": "post_add", "instance": pizza, "pk_set": [2, 1], "reverse": False},
        [ReceiverCall("count", "shop", None, None, None, True, None, called=True)],
    )  # fmt: skip
    return Trace(scenario, steps=[Step("pay", "pay", [robust, changed])])


def test_the_table_has_error_and_m2m_columns_and_a_scenario_column() -> None:
    selection = select([m2m_trace("/a/one.py"), m2m_trace("/b/two.py")], Filters())
    assert text(timeline_header(selection, "t.json"), width=200) == (
        "t.json · filter: none · 4 of 4 dispatches"
    )
    assert text(timeline_table(selection), width=200) == (
        "scenario   seq   depth   signal        sender           instance              action"
        "     pk_set   receivers called   errors\n" + "─" * 149 + "\n"
        "one.py       1       1   order_paid    Order            -                     -"
        "          -        charge, receipt    ✗ charge: GatewayDown: timed out\n"
        "one.py       2       1   m2m_changed   Pizza_toppings   <Pizza: margherita>   post_add"
        "   {2, 1}   count              -\n"
        "two.py       1       1   order_paid    Order            -                     -"
        "          -        charge, receipt    ✗ charge: GatewayDown: timed out\n"
        "two.py       2       1   m2m_changed   Pizza_toppings   <Pizza: margherita>   post_add"
        "   {2, 1}   count              -"
    )


def test_mermaid_shows_failures_and_steps_never_run() -> None:
    trace = m2m_trace("shop.py")
    trace.steps[0].error = "GatewayDown: timed out"
    trace.not_run = ["ship"]
    assert mermaid([trace]).splitlines()[5:] == [
        "    Note over p0: 1 · pay",
        "    p0-xp1: order_paid Order",
        "    Note right of p1: ✗ raised GatewayDown: timed out (send_robust returned it)",
        "    p0->>p2: order_paid Order",
        "    p0->>p3: m2m_changed Pizza_toppings",
        "    Note over p0: ✗ stopped: GatewayDown: timed out",
        "    Note over p0: 2 · ship (not run: an earlier step failed)",
    ]


def test_keep_going_runs_the_steps_after_a_failed_one(sigcli: Invoke) -> None:
    result = sigcli("run", "failing.py", "--keep-going")
    assert result.exit_code == 1
    assert lines(result.stdout).splitlines()[0] == "failing.py · 3 steps · 3 dispatches · 1 error"
    assert lines(result.stdout).splitlines()[-4:] == [
        "└── 3 · order 1",
        "    └── order_placed  Shop  quantity=1",
        "        ├── ✓ reserve_stock  any sender  → returned 1",
        "        └── ✓ send_invoice   any sender  → returned sent",
    ]
    saved = json.loads(Path(".sigcli/last-trace.json").read_text())
    assert [step["error"] is None for step in saved["steps"]] == [True, False, True]
    assert saved["not_run"] == []


def test_names_from_the_scenario_read_as_the_users_file(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "custom.py").write_text(
        "import sigcli\n"
        "from sigcli import Signal, receiver\n\n"
        "ping = Signal()\n\n\n"
        "class OtherShop:\n"
        "    def __repr__(self):\n"
        "        return object.__repr__(self).split(' at ')[0] + '>'\n\n\n"
        "@receiver(ping)\n"
        "def answer(sender, **kwargs):\n"
        "    return OtherShop()\n\n\n"
        "@sigcli.step\n"
        "def one():\n"
        '    """one"""\n'
        "    ping.send(sender=OtherShop(), shop=OtherShop())\n"
    )
    result = sigcli("run", "custom.py", "--json")
    dispatch = json.loads(result.stdout)["steps"][0]["children"][0]
    assert dispatch["sender"] == "<custom.OtherShop object>"
    assert dispatch["kwargs"] == {"shop": "<custom.OtherShop object>"}
    assert dispatch["receivers"][0]["module"] == "custom"
    assert dispatch["receivers"][0]["result"] == "<custom.OtherShop object>"
