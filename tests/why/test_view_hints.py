"""The hints on classic mistakes appear in every view of the tree: compact,
``--hide-skipped`` and filtered (``sigcli trace --sender/--receiver``), not
only in the full tree. A view that leaves a receiver out names it beside
its hint."""

from __future__ import annotations

import pytest

from tests.why.test_cli_why import _scenarios_here, lines, sigcli

# Each test runs in a folder of its own holding the scenarios.
pytestmark = pytest.mark.usefixtures(_scenarios_here.__name__)


def view(*args: str) -> list[str]:
    result = sigcli(*args, columns=300)
    assert result.exit_code == 0, result.output
    return lines(result.stdout)


PROXY_SAVED = "post_save  Staff  instance=<Staff: Staff object (1)>  created=True"
PROXY_HINT = "Staff is a proxy of User, and sends as Staff"


def test_compact_names_a_skipped_receiver_beside_its_hint() -> None:
    assert view("run", "proxy.py", "--compact") == [
        "proxy.py · 1 step · 2 dispatches · 2 pre_init/post_init with no receiver folded · no errors",
        "└── 1 · a staff member is saved through the proxy",
        "    ├── pre_save  Staff  instance=<Staff: Staff object (None)>  (no receivers)",
        f"    └── {PROXY_SAVED}  (1 receiver skipped)  ← audit_user: {PROXY_HINT}",
    ]


def test_hide_skipped_names_a_hidden_receiver_beside_its_hint() -> None:
    assert view("run", "proxy.py", "--hide-skipped", "--no-sql") == [
        "proxy.py · 1 step · 2 dispatches · 2 pre_init/post_init with no receiver folded · no errors",
        "└── 1 · a staff member is saved through the proxy",
        "    └── Staff.objects.create(username='bob')",
        "        ├── pre_save  Staff  instance=<Staff: Staff object (None)>  (no receivers)",
        f"        └── {PROXY_SAVED}  (1 receiver skipped)  ← audit_user: {PROXY_HINT}",
    ]


def test_compact_shows_the_hints_of_called_receivers_and_orm_calls() -> None:
    assert view("run", "duplicate_connection.py", "--compact")[2:] == [
        "    ├── pre_save  Order  instance=<Order: Order object (None)>  → ✓ log_order, ✓ log_order"
        "  ← log_order: connected twice (two lookup keys): runs twice per send",
        "    └── post_save  Order  instance=<Order: Order object (1)>  created=True  → ✓ log_order"
        "  ← log_order: connected again at duplicate_connection.py:18: ignored",
    ]
    assert view("run", "m2m.py", "--compact")[-1] == (
        "    └── post.tags.add(<Tag: Tag object (1)>)  ← no m2m_changed: tags_changed listens "
        "to sender=Post; use sender=Post.tags.through"
    )


def test_a_filtered_trace_shows_the_hints_of_what_it_draws() -> None:
    sigcli("run", "proxy.py", "--save", "proxy.json")
    assert view("trace", "proxy.json", "--sender", "Staff") == [
        "filter: sender=Staff · 2 of 2 dispatches shown · 0 hidden",
        "└── 1 · a staff member is saved through the proxy › Staff.objects.create(username='bob')",
        "    ├── pre_save  Staff  instance=<Staff: Staff object (None)>  (no receivers)",
        f"    └── {PROXY_SAVED}",
        f"        └── ○ audit_user  skipped: listens to sender=User  ← {PROXY_HINT}",
    ]
    assert view("trace", "proxy.json", "--receiver", "audit_user", "--compact") == [
        "filter: receiver~audit_user · 1 of 2 dispatches shown · 1 hidden",
        "└── 1 · a staff member is saved through the proxy › Staff.objects.create(username='bob')",
        f"    └── {PROXY_SAVED}  (1 receiver skipped)  ← audit_user: {PROXY_HINT}",
    ]
    sigcli("run", "duplicate_connection.py", "--save", "twice.json")
    assert view("trace", "twice.json", "--signal", "pre_save")[-1] == (
        "        └── ✓ log_order  sender=Order  → returned logged  "
        "← connected twice (two lookup keys): runs twice per send"
    )


def test_a_filtered_run_names_the_orm_call_that_sent_no_signal() -> None:
    """The m2m mistake is a signal never sent: no dispatch shows it, so the
    filtered view adds the ORM call with its path."""
    hint = (
        "← 1 · a post is tagged › post.tags.add(<Tag: Tag object (1)>)  no m2m_changed: "
        "tags_changed listens to sender=Post; use sender=Post.tags.through"
    )
    assert view("trace", "m2m.py", "--signal", "m2m_changed") == [
        "filter: signal=m2m_changed · 0 of 4 dispatches shown · 4 hidden (signal pre_save ×2, "
        "post_save ×2)",
        f"└── {hint}",
    ]
    assert view("trace", "m2m.py", "--sender", "Post")[-1] == f"└── {hint}"
