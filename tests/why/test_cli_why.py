"""``sigcli why`` on the command line, and the hints ``run`` draws in the tree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sigcli.cli import main

SCENARIOS = Path(__file__).parent / "scenarios"
ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "FORCE_COLOR": None}


@pytest.fixture(autouse=True)
def _scenarios_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for scenario in SCENARIOS.glob("*.py"):
        shutil.copy(scenario, tmp_path / scenario.name)


def sigcli(*args: str, columns: int = 100) -> Result:
    env = {**ENV, "COLUMNS": str(columns)}
    return CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)


def tree(name: str) -> list[str]:
    """The tree of ``run NAME``, wide enough that no line wraps."""
    return lines(sigcli("run", name, columns=300).stdout)


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def test_why_prints_each_verdict_with_its_evidence_and_fix() -> None:
    result = sigcli("why", "sync_directory", "several.py")
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "why sync_directory  several.py:17",
        "✓ ran  #8",
        "  Called by #8 post_save User.",
        "✗ sender_mismatch  #4",
        "  It listens to sender=User; #4 post_save Staff came from Staff. Staff is a proxy of User: a proxy",
        "  model sends its own class.",
        "  fix: Connect it with sender=Staff as well (or without sender=, checking isinstance(instance,",
        "  User)).",
        "✗ no_signal_for_operation",
        "  These wrote rows without sending post_save: User.objects.update(username='x') (update()).",
        "  update(), bulk_create(), bulk_update() and raw SQL never call save() or delete().",
        "  fix: Call save() per object where the receiver must run, or do the receiver's work next to the",
        "  bulk call.",
    ]


def test_why_reads_the_last_trace_by_default() -> None:
    assert sigcli("run", "proxy.py").exit_code == 0
    result = sigcli("why", "audit_user", "--json")
    answer = json.loads(result.stdout)
    assert answer["receiver"]["name"] == "audit_user"
    assert [(v["reason"], v["dispatches"]) for v in answer["verdicts"]] == [
        ("sender_mismatch", [4])
    ]


def test_why_json_has_the_documented_shape() -> None:
    result = sigcli("why", "count_order", "muted.py", "--json")
    answer = json.loads(result.stdout)
    assert set(answer) == {"receiver", "verdicts", "suggestions"}
    assert [set(v) for v in answer["verdicts"]] == [{"reason", "dispatches", "detail", "fix"}] * 2
    assert [v["reason"] for v in answer["verdicts"]] == ["ran", "muted"]


def test_an_unknown_receiver_is_not_connected_with_suggestions() -> None:
    result = sigcli("why", "send_welcom", "not_connected.py", "--json")
    answer = json.loads(result.stdout)
    assert answer["receiver"] == "send_welcom"
    assert [v["reason"] for v in answer["verdicts"]] == ["not_connected"]
    assert answer["suggestions"][0] == "send_welcome"


def test_a_name_of_two_receivers_asks_for_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "two.py").write_text(
        "import sigcli\n"
        "from sigcli.signals import post_save\n"
        "class A:\n"
        "    @staticmethod\n"
        "    def handler(sender, **kwargs): pass\n"
        "class B:\n"
        "    @staticmethod\n"
        "    def handler(sender, **kwargs): pass\n"
        "post_save.connect(A.handler)\n"
        "post_save.connect(B.handler)\n"
        "@sigcli.step\n"
        "def nothing(): pass\n"
    )
    result = CliRunner(env=ENV).invoke(main, ["why", "handler", "two.py"])
    assert result.exit_code == 2
    assert "names several receivers" in result.stderr
    assert "Pass FILE:LINE to choose one." in result.stderr


def test_run_hints_at_a_proxy_sender() -> None:
    assert tree("proxy.py")[-1] == (
        "            └── ○ audit_user  skipped: listens to sender=User  "
        "← Staff is a proxy of User, and sends as Staff"
    )


def test_run_hints_at_the_m2m_through_model() -> None:
    assert (
        "    └── post.tags.add(<Tag: Tag object (1)>)  ← no m2m_changed: tags_changed "
        "listens to sender=Post; use sender=Post.tags.through"
    ) in tree("m2m.py")


def test_run_hints_at_duplicate_connections() -> None:
    assert tree("duplicate_connection.py")[2:] == [
        "    └── Order.objects.create(total=5)",
        "        ├── pre_save  Order  instance=<Order: Order object (None)>",
        "        │   ├── ✓ log_order  sender=Order  → returned logged",
        "        │   └── ✓ log_order  sender=Order  → returned logged  "
        "← connected twice (two lookup keys): runs twice per send",
        """        ├── SQL  INSERT INTO "app_order" ("total") VALUES (5)""",
        "        └── post_save  Order  instance=<Order: Order object (1)>  created=True",
        "            └── ✓ log_order  sender=Order  → returned logged  "
        "← connected again at duplicate_connection.py:18: ignored",
    ]


def test_run_hints_at_arguments_a_receiver_does_not_accept() -> None:
    result = sigcli("run", "raised.py", columns=300)
    assert lines(result.stdout)[-1] == (
        "            └── ✗ welcome  sender=User  → raised TypeError: welcome() missing 1 required "
        "positional argument: 'created'  ← welcome, defined at raised.py:12, is sent sender, "
        "instance, raw, using, update_fields"
    )
    assert result.stderr == (
        "Error: raised.py step 1 (a user signs up) stopped: TypeError: welcome() missing 1 "
        "required positional argument: 'created' (raised.py:12)\n"
    )


def test_run_shows_a_receiver_muted_by_sigcli_mute() -> None:
    assert tree("muted_block.py")[5] == (
        "    │   └── post_save  Order  instance=<Order: Order object (1)>  created=True"
    )
    assert tree("muted_block.py")[6] == (
        "    │       └── ○ count_order  skipped: muted by sigcli.mute"
    )


def test_receivers_flags_duplicates_and_ignored_connects() -> None:
    result = sigcli("receivers", "duplicate_connection.py", columns=300)
    assert lines(result.stdout) == [
        "duplicate_connection.py · 3 receivers connected",
        "├── pre_save",
        "│   ├── duplicate_connection:log_order  sender=Order  weak  duplicate_connection.py:13",
        "│   └── duplicate_connection:log_order  sender=Order  weak  dispatch_uid='log'  "
        "duplicate_connection.py:13  ← connected twice: runs twice per send",
        "└── post_save",
        "    └── duplicate_connection:log_order  sender=Order  weak  duplicate_connection.py:13  "
        "← connected again at duplicate_connection.py:18: ignored",
    ]


def test_receivers_flags_a_dispatch_uid_asked_for_twice() -> None:
    out = lines(sigcli("receivers", "duplicate_uid.py", columns=300).stdout)
    assert out[-1].endswith(
        "duplicate_uid.py:12  ← email_customer (duplicate_uid.py:17) asked for the same "
        "dispatch_uid and was ignored"
    )


def test_receivers_flags_weak_bound_methods_and_local_functions(tmp_path: Path) -> None:
    (tmp_path / "weak.py").write_text(
        "import sigcli\n"
        "from sigcli.signals import post_save\n"
        "class Auditor:\n"
        "    def saved(self, sender, **kwargs): pass\n"
        "def make():\n"
        "    def local(sender, **kwargs): pass\n"
        "    return local\n"
        "auditor = Auditor()\n"
        "local = make()\n"
        "post_save.connect(auditor.saved)\n"
        "post_save.connect(local)\n"
        "post_save.connect(auditor.saved, weak=False, dispatch_uid='strong')\n"
        "@sigcli.step\n"
        "def nothing(): pass\n"
    )
    out = lines(sigcli("receivers", "weak.py", columns=300).stdout)
    assert out[2:] == [
        "    ├── weak:Auditor.saved  any sender  weak  weak.py:4  "
        "← weak reference to a bound method: stops with its object",
        "    ├── weak:make.<locals>.local  any sender  weak  weak.py:6  "
        "← weak reference to a local function: stops once nothing else holds it",
        "    └── weak:Auditor.saved  any sender  strong  dispatch_uid='strong'  weak.py:4  "
        "← connected twice: runs twice per send",
    ]
