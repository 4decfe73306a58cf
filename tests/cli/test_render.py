"""Rendering a finished trace: no database, no scenario, exact plain text."""

import io

from rich.console import Console

from sigcli.query import Filters, select
from sigcli.render import (
    ViewOptions,
    inline_sql,
    mermaid,
    receivers_view,
    run_view,
    selection_view,
    show_value,
    timeline_table,
)
from sigcli.trace import Dispatch, Operation, ReceiverCall, SkipReason, SqlStatement, Step, Trace


def text(renderable: object, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, highlight=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())  # type: ignore[attr-defined]


def call(name: str, sender_filter: str | None = None, **state: object) -> ReceiverCall:
    return ReceiverCall(
        name=name, module="shop", file="/nowhere/shop.py", line=12, sender_filter=sender_filter,
        weak=True, dispatch_uid=None, **state,  # type: ignore[arg-type]
    )  # fmt: skip


USER = {"model": "User", "pk": None, "repr": "<User: ann>"}
USER1 = {"model": "User", "pk": 1, "repr": "<User: ann>"}


def shop_trace() -> Trace:
    init = Dispatch(1, "pre_init", "User", 1, {"args": [], "kwargs": {"username": "ann"}})
    pre = Dispatch(
        2, "pre_save", "User", 1,
        {"instance": USER, "raw": False, "using": "default", "update_fields": None},
        [call("audit", called=True)],
    )  # fmt: skip
    welcome = Dispatch(
        3,
        "welcome",
        "User",
        2,
        {"user": USER1},
        [call("mail", "Admin", skipped_reason=SkipReason.SENDER_MISMATCH)],
    )
    post = Dispatch(
        4, "post_save", "User", 1,
        {"instance": USER1, "created": True, "update_fields": None, "raw": False, "using": "default"},
        [
            call("greet", "User", called=True, result="hello", children=[welcome]),
            call("explode", called=True, error="ValueError: [bold]no[/]"),
            call("late", skipped_reason=SkipReason.NOT_REACHED),
        ],
    )  # fmt: skip
    create = Operation(
        "User.objects.create(username='ann')", "User",
        [init, pre, SqlStatement('INSERT INTO "user" ("username") VALUES (?)', ["ann"]), post],
        error="ValueError: [bold]no[/]",
    )  # fmt: skip
    update = Operation(
        "User.objects.filter(pk=1).update(username='bo')", "User",
        [SqlStatement('UPDATE "user" SET "username" = ? WHERE "id" = ?', ["bo", 1])],
    )  # fmt: skip
    prepared = Dispatch(0, "class_prepared", "User", 1, {}, [call("on_class", called=True)])
    return Trace(
        scenario="/somewhere/shop.py",
        setup=[prepared, Dispatch(0, "post_migrate", "<AppConfig: app>", 1, {}, [])],
        steps=[
            Step("bulk first", "first", [update]),
            Step(
                "sign up",
                "sign_up",
                [create],
                error="ValueError: [bold]no[/]",
                error_at="shop.py:30",
            ),
        ],
        not_run=["never"],
    )


def test_run_tree() -> None:
    assert (
        text(run_view(shop_trace()))
        == """\
shop.py · 2 of 3 steps run · 3 dispatches · 1 pre_init/post_init with no receiver folded · 1 error
├── setup · loading the scenario and creating its tables
│   ├── class_prepared  User
│   │   └── ✓ on_class  any sender
│   └── 1 other dispatch with no receiver called (--all shows them)
├── 1 · bulk first
│   └── User.objects.filter(pk=1).update(username='bo')  no signals
│       └── SQL  UPDATE "user" SET "username" = 'bo' WHERE "id" = 1
├── 2 · sign up  ✗ stopped: ValueError: [bold]no[/]
│   └── User.objects.create(username='ann')  ✗ ValueError: [bold]no[/]
│       ├── pre_save  User  instance=<User: ann>
│       │   └── ✓ audit  any sender
│       ├── SQL  INSERT INTO "user" ("username") VALUES ('ann')
│       └── post_save  User  instance=<User: ann>  created=True
│           ├── ✓ greet    sender=User  → returned hello
│           │   └── welcome  User  user=<User: ann>
│           │       └── ○ mail  skipped: listens to sender=Admin
│           ├── ✗ explode  any sender  → raised ValueError: [bold]no[/]
│           └── · late     not called: an earlier receiver raised
└── 3 · never  not run: an earlier step failed"""
    )


def test_verbose_and_all_unfold_everything() -> None:
    shown = text(run_view(shop_trace(), ViewOptions(verbose=True, show_all=True)), width=140)
    assert "shop.py · 2 of 3 steps run · 4 dispatches · 1 error\n" in shown
    assert "│   └── post_migrate  <AppConfig: app>  (no receivers)\n" in shown
    assert (
        "│       ├── pre_init  User  args=[]  kwargs={'username': 'ann'}  (no receivers)\n" in shown
    )
    assert (
        "pre_save  User  instance=<User: ann>  raw=False  using=default  update_fields=None\n"
        in shown
    )
    assert "✓ audit  any sender  /nowhere/shop.py:12\n" in shown
    assert "2 · sign up  ✗ stopped: ValueError: [bold]no[/]  at shop.py:30\n" in shown


def test_filtered_view_keeps_a_path_to_each_shown_dispatch() -> None:
    selection = select([shop_trace()], Filters(senders=("User",), signals=("welcome", "post_save")))
    assert (
        text(selection_view(selection), width=120)
        == """\
filter: sender=User, signal=welcome, signal=post_save · 2 of 3 dispatches shown · 1 hidden (sender User)
├── 2 · sign up › User.objects.create(username='ann')
│   └── post_save  User  instance=<User: ann>  created=True
│       ├── ✓ greet    sender=User  → returned hello
│       ├── ✗ explode  any sender  → raised ValueError: [bold]no[/]
│       └── · late     not called: an earlier receiver raised
└── 2 · sign up › User.objects.create(username='ann') › post_save User › greet
    └── welcome  User  user=<User: ann>
        └── ○ mail  skipped: listens to sender=Admin"""
    )


def test_timeline_table() -> None:
    selection = select([shop_trace()], Filters(signals=("pre_init", "pre_save", "welcome")))
    assert (
        text(timeline_table(selection))
        == """\
seq   depth   signal     sender   instance      receivers called   errors
─────────────────────────────────────────────────────────────────────────
  1       1   pre_init   User     -             -                  -
  2       1   pre_save   User     <User: ann>   audit              -
  3       2   welcome    User     -             -                  -"""
    )


def test_values_and_sql_literals() -> None:
    assert show_value({"queryset": "Book"}) == "<QuerySet of Book>"
    assert show_value({"model": "Book", "pk": 3}) == "<Book: pk=3>"
    assert show_value(["a", 1, None, {"k": "v"}]) == "['a', 1, None, {'k': 'v'}]"
    assert show_value("") == "''"
    assert inline_sql(
        "SELECT a, b FROM t WHERE x = ? AND y = '?' AND z IN (?, ?)", [None, "o'k", True]
    ) == ("SELECT ... FROM t WHERE x = NULL AND y = '?' AND z IN ('o''k', 1)")
    assert inline_sql("SELECT a, b FROM t", [], verbose=True) == "SELECT a, b FROM t"


def test_terminal_control_characters_are_shown_escaped() -> None:
    trace = Trace(scenario="x.py", steps=[Step("evil \x1b[31mred\x07", "evil")])
    assert text(run_view(trace)).splitlines()[1] == "└── 1 · evil \\x1b[31mred\\x07"


def test_mermaid_sequence_diagram() -> None:
    assert (
        mermaid([shop_trace()])
        == """\
sequenceDiagram
    participant p0 as scenario
    participant p1 as audit
    participant p2 as greet
    participant p3 as mail
    participant p4 as explode
    participant p5 as late
    Note over p0: 1 · bulk first
    Note over p0: User.objects.filter(pk=1).update(username='bo')
    Note over p0: 2 · sign up
    Note over p0: User.objects.create(username='ann')
    p0->>p1: pre_save User
    p0->>p2: post_save User
    p2--xp3: welcome User (skipped)
    p0-xp4: post_save User
    Note right of p4: ✗ raised ValueError: [bold]no[/]
    p0--xp5: post_save User (not called: an earlier receiver raised)
    Note over p0: ✗ stopped: ValueError: [bold]no[/]
    Note over p0: 3 · never (not run: an earlier step failed)
"""
    )


def test_mermaid_escapes_its_own_syntax() -> None:
    trace = Trace(scenario="x.py", steps=[Step("a <b>; #c", "s")])
    assert "Note over p0: 1 · a #lt;b#gt;#59; #35;c" in mermaid([trace])


def test_receivers_listing() -> None:
    from sigcli.dispatcher import ReceiverInfo

    listing = [
        ("post_save", [
            ReceiverInfo("create_profile", "shop", "/nowhere/shop.py", 20, "User", True, None, False),
            ReceiverInfo("Audit.__call__", "shop", None, None, None, False, "audit-1", True),
        ]),
    ]  # fmt: skip
    assert (
        text(receivers_view("shop.py", listing))
        == """\
shop.py · 2 receivers connected
└── post_save
    ├── shop:create_profile  sender=User  weak  /nowhere/shop.py:20
    └── shop:Audit.__call__  any sender  strong  dispatch_uid='audit-1'  async"""
    )
