"""``--settings PROJECT.settings`` against the small project in ``shop/``.

Each test runs sigcli in a fresh process: Django is set up once per process,
and this test session's own Django configuration is not the project's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import django
import pytest

pytestmark = pytest.mark.slow  # each test starts sigcli in a process of its own

SHOP = Path(__file__).parent / "shop"

#: Django 4.2 has no async receivers: it calls one like any function, and
#: its result is the coroutine it never awaits.
OLD = django.VERSION < (5, 0)
ASYNC = "sync" if OLD else "async"


class Prefix(str):
    """Equal to any string that starts with it."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.startswith(self)

    __hash__ = str.__hash__


RECEIPT: Any = Prefix("<coroutine object email_receipt") if OLD else "receipt for order 1"


def sigcli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="250", NO_COLOR="1", TERM="dumb")
    env["SHOP_DATABASE"] = str(tmp_path / "shop.sqlite3")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [sys.executable, "-m", "sigcli", *args],
        cwd=SHOP,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def project_lines(output: str) -> list[str]:
    """The listing's lines about the project's own receivers and signals."""
    return [
        line.rstrip()
        for line in output.splitlines()
        if "orders" in line or "never connected" in line or line.startswith("shopsite")
    ]


def test_receivers_of_a_project_list_every_signal_with_flags(tmp_path: Path) -> None:
    result = sigcli(tmp_path, "receivers", "--settings", "shopsite.settings")
    assert result.returncode == 0, result.stderr
    # The total counts Django's own receivers too, which differ between versions.
    assert result.stdout.startswith("shopsite.settings · ")
    assert project_lines(result.stdout)[1:] == [
        "│   ├── orders.receivers:confirm_order  sender=Order  weak  sync  orders/receivers.py:10",
        "│   └── orders.receivers:audit  sender=Customer  strong  sync  orders/receivers.py:24",
        "│   └── orders.receivers:before_order_delete  sender=Order  weak  sync  "
        "orders/receivers.py:31",
        "│   ├── orders.receivers:stamp  sender=Order  weak  dispatch_uid='stamp-orders'  sync  "
        "connected twice  orders/receivers.py:15",
        "│   └── orders.receivers:stamp  sender=Order  weak  dispatch_uid='stamp-orders-again'  "
        "sync  connected twice  orders/receivers.py:15",
        # Two objects' bound methods: two receivers, neither connected twice.
        "├── orders.signals.order_archived",
        "│   ├── orders.receivers:Ledger.archive  sender=Order  strong  sync  orders/receivers.py:60",
        "│   └── orders.receivers:Ledger.archive  sender=Order  strong  sync  orders/receivers.py:60",
        "├── orders.signals.order_paid",
        f"│   ├── orders.receivers:email_receipt  any sender  weak  {ASYNC}  orders/receivers.py:41",
        "│   └── orders.receivers:mark_paid  sender=Order  weak  sync  orders/receivers.py:46",
        "└── never connected: the sender string names no model",
        "    └── orders.receivers:never_connected  django.db.models.signals.post_delete  "
        "sender='orders.ordr'  orders/receivers.py:36",
    ]
    signals = [line for line in result.stdout.splitlines() if line.startswith("├── ")]
    assert "├── django.db.models.signals.post_save" in signals
    assert "├── django.db.models.signals.post_migrate" in signals
    assert not (tmp_path / "shop.sqlite3").exists()


def test_a_settings_module_that_cannot_be_imported_is_named(tmp_path: Path) -> None:
    result = sigcli(tmp_path, "receivers", "--settings", "shopsite.settingz")
    assert result.returncode == 2
    assert "--settings shopsite.settingz: cannot import it" in result.stderr
    assert "Run sigcli from the project's directory" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["receivers"], ["receivers", "--engine", "django"]])
def test_receivers_needs_a_scenario_or_settings(tmp_path: Path, command: list[str]) -> None:
    result = sigcli(tmp_path, *command)
    assert result.returncode == 2
    assert "Name a SCENARIO, or a Django project with --settings." in result.stderr


def _outermost_dispatches(nodes: list[dict]) -> list[dict]:
    """The dispatches a step made itself, inside the ORM calls that made them."""
    found = []
    for node in nodes:
        if node["type"] == "operation":
            found.extend(_outermost_dispatches(node["children"]))
        elif node["type"] == "dispatch":
            found.append(node)
    return found


def test_run_with_settings_uses_a_test_database_and_says_so(tmp_path: Path) -> None:
    result = sigcli(
        tmp_path, "run", "checkout.py", "--settings", "shopsite.settings", "--json", "--no-save"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    steps = [
        (
            step["label"],
            [
                (d["signal"], d["sender"], [(r["name"], r["result"]) for r in d["receivers"]])
                for d in _outermost_dispatches(step["children"])
                if d["signal"] not in ("pre_init", "post_init")
            ],
        )
        for step in data["steps"]
    ]
    assert steps == [
        (
            "A customer orders, and pays.",
            [
                ("pre_save", "Customer", [("stamp", None), ("stamp", None)]),
                ("post_save", "Customer", [("confirm_order", None), ("audit", "audit ann")]),
                ("pre_save", "Order", [("stamp", "stamped"), ("stamp", "stamped")]),
                ("post_save", "Order", [("confirm_order", "confirmed"), ("audit", None)]),
                (
                    "order_paid",
                    "Order",
                    [("email_receipt", RECEIPT), ("mark_paid", "order 1 paid")],
                ),
            ],
        ),
        (
            "The order is deleted.",
            [
                ("pre_delete", "Order", [("before_order_delete", "deleting")]),
                ("post_delete", "Order", []),
            ],
        ),
    ]
    database = tmp_path / "shop.sqlite3"
    assert result.stderr.splitlines()[0] + "\n" == (
        "sigcli: database 'default' is the test database "
        "'file:memorydb_default?mode=memory&cache=shared', created for this run and destroyed "
        f"after it; '{database}' is not written to.\n"
    )
    assert not database.exists()


def test_a_test_database_that_cannot_be_made_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    result = sigcli(tmp_path, "run", "checkout.py", "--settings", "shopsite.unreachable")
    assert result.returncode == 2
    assert (
        "Error: --settings shopsite.unreachable: Django could not create the test database: "
        "OperationalError: unable to open database file\n"
    ) in result.stderr
    assert "Traceback" not in result.stderr
