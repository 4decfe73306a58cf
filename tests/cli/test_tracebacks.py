"""``-v`` shows where a receiver (or a step) raised: its own frames, as
pytest's short tracebacks read, never sigcli's. Saved and loaded with the
trace; bounded and escaped like every other value."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sigcli.render import ViewOptions, run_view
from sigcli.snapshot import traceback_of
from sigcli.trace import Dispatch, Frame, ReceiverCall, Step, Trace, Traceback
from sigcli.tracefile import load
from tests.cli.conftest import Invoke, lines
from tests.cli.test_render import text

VERBOSE_TREE = """\
nested_failure.py · 3 steps · 5 dispatches · 4 pre_init/post_init with no receiver folded · 2 errors
├── 1 · an order is placed  ✗ stopped: ValueError: order 7: empty invoice  at nested_failure.py:20
│   └── Order.objects.create(number=7)  ✗ ValueError: order 7: empty invoice
│       ├── pre_save  Order  instance=<Order: Order object (None)>  raw=False  using=default
│       │   update_fields=None  (no receivers)
│       ├── SQL  INSERT INTO "app_order" ("number") VALUES (7)
│       └── post_save  Order  instance=<Order: Order object (1)>  created=True  update_fields=None
│           raw=False  using=default
│           ├── ○ validate  skipped: listens to sender=Invoice  nested_failure.py:23
│           └── ✗ bill      sender=Order  ↑ ValueError from a nested receiver  nested_failure.py:28
│               └── Invoice.objects.create(order=<Order: Order object (1)>)  ✗ ValueError: order 7:
│                   empty invoice
│                   ├── pre_save  Invoice  instance=<Invoice: Invoice object (None)>  raw=False
│                   │   using=default  update_fields=None  (no receivers)
│                   ├── SQL  INSERT INTO "app_invoice" ("order_id") VALUES (1)
│                   └── post_save  Invoice  instance=<Invoice: Invoice object (1)>  created=True
│                       update_fields=None  raw=False  using=default
│                       ├── ✗ validate  sender=Invoice  → raised ValueError: order 7: empty invoice
│                       │   nested_failure.py:23
│                       │   └── nested_failure.py:25: in validate
│                       │           check(instance)
│                       │       nested_failure.py:20: in check
│                       │           raise ValueError(f"order {invoice.order.number}: empty invoice")
│                       │       E   ValueError: order 7: empty invoice
│                       └── ○ bill      skipped: listens to sender=Order  nested_failure.py:28
├── 2 · audit robustly
│   └── audit  (send_robust)
│       └── ✗ flaky  any sender  → raised ZeroDivisionError: division by zero  (send_robust returned
│           it)  nested_failure.py:34
│           └── nested_failure.py:36: in flaky
│                   return 1 / 0
│               E   ZeroDivisionError: division by zero
└── 3 · the step raises itself  ✗ stopped: KeyError: 'missing'  at nested_failure.py:40
    └── nested_failure.py:58: in own
            lookup("missing")
        nested_failure.py:40: in lookup
            return {}[key]
        E   KeyError: 'missing'"""

PLAIN_TREE = """\
nested_failure.py · 3 steps · 5 dispatches · 4 pre_init/post_init with no receiver folded · 2 errors
├── 1 · an order is placed  ✗ stopped: ValueError: order 7: empty invoice
│   └── Order.objects.create(number=7)  ✗ ValueError: order 7: empty invoice
│       ├── pre_save  Order  instance=<Order: Order object (None)>  (no receivers)
│       ├── SQL  INSERT INTO "app_order" ("number") VALUES (7)
│       └── post_save  Order  instance=<Order: Order object (1)>  created=True
│           ├── ○ validate  skipped: listens to sender=Invoice
│           └── ✗ bill      sender=Order  ↑ ValueError from a nested receiver
│               └── Invoice.objects.create(order=<Order: Order object (1)>)  ✗ ValueError: order 7:
│                   empty invoice
│                   ├── pre_save  Invoice  instance=<Invoice: Invoice object (None)>  (no receivers)
│                   ├── SQL  INSERT INTO "app_invoice" ("order_id") VALUES (1)
│                   └── post_save  Invoice  instance=<Invoice: Invoice object (1)>  created=True
│                       ├── ✗ validate  sender=Invoice  → raised ValueError: order 7: empty invoice
│                       └── ○ bill      skipped: listens to sender=Order
├── 2 · audit robustly
│   └── audit  (send_robust)
│       └── ✗ flaky  any sender  → raised ZeroDivisionError: division by zero  (send_robust returned
│           it)
└── 3 · the step raises itself  ✗ stopped: KeyError: 'missing'"""


def test_verbose_shows_the_frames_of_the_receiver_that_raised(sigcli: Invoke) -> None:
    result = sigcli("run", "nested_failure.py", "-v", "--keep-going")
    assert result.exit_code == 1
    assert lines(result.stdout) == VERBOSE_TREE


def test_without_verbose_the_tree_has_no_traceback(sigcli: Invoke) -> None:
    result = sigcli("run", "nested_failure.py", "--keep-going")
    assert result.exit_code == 1
    assert lines(result.stdout) == PLAIN_TREE


def test_a_saved_trace_shows_the_same_tracebacks(sigcli: Invoke) -> None:
    sigcli("run", "nested_failure.py", "--keep-going", "--save", "t.json")
    assert lines(sigcli("trace", "t.json", "-v").stdout) == VERBOSE_TREE
    assert lines(sigcli("trace", "t.json").stdout) == PLAIN_TREE


def test_the_trace_file_holds_the_receivers_own_frames(sigcli: Invoke) -> None:
    sigcli("run", "nested_failure.py", "--keep-going", "--save", "t.json")
    data = json.loads(Path("t.json").read_text())
    place, robust, own = data["steps"]
    order_saved = _post_save(place["children"][0])
    validate_skipped, bill = order_saved["receivers"]
    assert "traceback" not in validate_skipped
    # It raised from inside: the receiver that raised holds the traceback.
    assert bill["error_propagated"] and "traceback" not in bill
    invoice_saved = _post_save(bill["children"][0])
    validate = invoice_saved["receivers"][0]
    file = str(Path("nested_failure.py").resolve())
    assert validate["traceback"] == {
        "frames": [
            {"file": file, "line": 25, "function": "validate", "source": "check(instance)"},
            {
                "file": file,
                "line": 20,
                "function": "check",
                "source": 'raise ValueError(f"order {invoice.order.number}: empty invoice")',
            },
        ],
        "left_out": 0,
    }
    assert "traceback" not in place  # the receiver has it
    assert robust["children"][0]["receivers"][0]["traceback"]["frames"] == [
        {"file": file, "line": 36, "function": "flaky", "source": "return 1 / 0"}
    ]
    assert own["traceback"]["frames"] == [
        {"file": file, "line": 58, "function": "own", "source": 'lookup("missing")'},
        {"file": file, "line": 40, "function": "lookup", "source": "return {}[key]"},
    ]


def _post_save(operation: dict[str, Any]) -> dict[str, Any]:
    (found,) = (node for node in operation["children"] if node.get("signal") == "post_save")
    return found


def test_a_trace_saved_without_tracebacks_still_loads(sigcli: Invoke) -> None:
    sigcli("run", "nested_failure.py", "--keep-going", "--save", "t.json")
    saved = Path("t.json").read_text()
    Path("old.json").write_text(_without_tracebacks(saved))
    traces = load(Path("old.json"))
    assert all(step.traceback is None for step in traces[0].steps)
    assert lines(sigcli("trace", "old.json", "-v").stdout) == "\n".join(
        line
        for line in VERBOSE_TREE.splitlines()
        if not any(mark in line for mark in (": in ", "check(instance)", "raise ", "E   "))
        and not line.endswith(("return 1 / 0", "return {}[key]", 'lookup("missing")'))
    )


def _without_tracebacks(text: str) -> str:
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "traceback"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(json.loads(text)))


def test_compact_verbose_names_whose_traceback_it_is(sigcli: Invoke) -> None:
    result = sigcli("run", "nested_failure.py", "--compact", "-v")
    assert (
        lines(result.stdout)
        == """\
nested_failure.py · 1 of 3 steps run · 4 dispatches · 4 pre_init/post_init with no receiver folded ·
1 error
├── 1 · an order is placed  ✗ stopped: ValueError: order 7: empty invoice  at nested_failure.py:20
│   ├── pre_save  Order  instance=<Order: Order object (None)>  raw=False  using=default
│   │   update_fields=None  (no receivers)
│   └── post_save  Order  instance=<Order: Order object (1)>  created=True  update_fields=None
│       raw=False  using=default  → ✗ bill ↑ ValueError  (1 receiver skipped)
│       ├── pre_save  Invoice  instance=<Invoice: Invoice object (None)>  raw=False  using=default
│       │   update_fields=None  (no receivers)
│       └── post_save  Invoice  instance=<Invoice: Invoice object (1)>  created=True
│           update_fields=None  raw=False  using=default  → ✗ validate raised ValueError: order 7:
│           empty invoice  (1 receiver skipped)
│           └── traceback of validate
│               nested_failure.py:25: in validate
│                   check(instance)
│               nested_failure.py:20: in check
│                   raise ValueError(f"order {invoice.order.number}: empty invoice")
│               E   ValueError: order 7: empty invoice
├── 2 · audit robustly  not run: an earlier step failed
└── 3 · the step raises itself  not run: an earlier step failed"""
    )


def test_a_filtered_trace_shows_the_traceback_too(sigcli: Invoke) -> None:
    sigcli("run", "nested_failure.py", "--save", "t.json")
    shown = lines(sigcli("trace", "t.json", "--receiver", "flaky", "-v").stdout)
    assert "traceback" not in shown  # step 2 never ran
    shown = lines(
        sigcli("trace", "t.json", "--receiver", "validate", "--sender", "Invoice", "-v").stdout
    )
    assert shown.endswith(
        "        │   └── nested_failure.py:25: in validate\n"
        "        │           check(instance)\n"
        "        │       nested_failure.py:20: in check\n"
        '        │           raise ValueError(f"order {invoice.order.number}: empty invoice")\n'
        "        │       E   ValueError: order 7: empty invoice\n"
        "        └── ○ bill      skipped: listens to sender=Order  nested_failure.py:28"
    )


def _dive(levels: int) -> None:
    if levels:
        _dive(levels - 1)
    raise RuntimeError("bottom")


def test_a_deep_traceback_keeps_its_outer_and_inner_frames() -> None:
    try:
        _dive(40)
    except RuntimeError as error:
        kept = traceback_of(error)
    assert kept is not None
    this = sys._getframe().f_code
    assert [f.function for f in kept.frames] == [this.co_name] + ["_dive"] * 19
    assert kept.left_out == 41 - 19
    assert kept.frames[0].source == "_dive(40)"
    assert kept.frames[-1].source == 'raise RuntimeError("bottom")'


def _failed_call(traceback: Traceback) -> Trace:
    call = ReceiverCall(
        "notify", "shop", "/nowhere/shop.py", 3, None, True, None, called=True,
        error="ValueError: boom", traceback=traceback,
    )  # fmt: skip
    dispatch = Dispatch(1, "post_save", "User", 1, {}, [call])
    return Trace("shop.py", steps=[Step("save", "save", [dispatch], error="ValueError: boom")])


def test_a_trace_files_frames_are_drawn_bounded_and_escaped() -> None:
    frames = [
        Frame("/nowhere/shop.py", n, "deep\u202e", f"deep({n})  # \x1b[2J") for n in range(1, 1001)
    ]
    shown = text(run_view(_failed_call(Traceback(frames)), ViewOptions(verbose=True)), width=200)
    assert shown.count(": in deep\\u202e") == 20
    assert "\x1b" not in shown and "\u202e" not in shown
    assert shown.splitlines()[3:10] == [
        "        └── ✗ notify  any sender  → raised ValueError: boom  /nowhere/shop.py:3",
        "            └── /nowhere/shop.py:1: in deep\\u202e",
        "                    deep(1)  # \\x1b[2J",
        "                /nowhere/shop.py:2: in deep\\u202e",
        "                    deep(2)  # \\x1b[2J",
        "                /nowhere/shop.py:3: in deep\\u202e",
        "                    deep(3)  # \\x1b[2J",
    ]
    assert "                … 980 more frames" in shown.splitlines()
    assert shown.splitlines()[-2:] == [
        "                    deep(1000)  # \\x1b[2J",
        "                E   ValueError: boom",
    ]
