"""``sigcli shell`` and ``sigcli run --step``, driven through a terminal as a
person would: statements and keys typed into a pty, the printed output checked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMPT = ">>> "
ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|[=>])")


def spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    env = dict(os.environ, NO_COLOR="1", TERM="xterm", PYTHONPATH=str(ROOT))
    env.pop("COLUMNS", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "sigcli", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 120),
    )


def lines_of(text: str) -> list[str]:
    """The text's lines as a person reads them: escapes (styles, bracketed
    paste) removed, trailing blanks dropped."""
    return [line.rstrip() for line in ESCAPE.sub("", text).replace("\r\n", "\n").split("\n")]


def typed(child: pexpect.spawn, statement: str) -> list[str]:
    """Type one statement; the output it produced, without the echoed input."""
    child.sendline(statement)
    child.expect_exact(PROMPT)
    output = lines_of(child.before)
    assert output[0] == statement
    return output[1:-1]


# -- the shell ------------------------------------------------------------------


def test_shell_prints_the_tree_of_a_statement_that_sent_signals(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shell", "profile_on_signup")
    child.expect_exact(PROMPT)
    assert lines_of(child.before)[0] == (
        "sigcli shell · profile_on_signup.py loaded · models: Profile, User · "
        "2 steps not run (--run runs them)."
    )
    assert typed(child, 'User.objects.create(username="bob")') == [
        "<User: bob>",
        "User.objects.create(username='bob')",
        "├── pre_save  User  instance=<User: bob>  (no receivers)",
        '├── SQL  INSERT INTO "app_user" ("username") VALUES (\'bob\')',
        "└── post_save  User  instance=<User: bob>  created=True",
        "    └── ✓ create_profile  sender=User",
        "        └── Profile.objects.create(user=<User: bob>)",
        "            ├── pre_save  Profile  instance=<Profile: Profile object (None)>  (no receivers)",
        '            ├── SQL  INSERT INTO "app_profile" ("user_id", "bio") VALUES (1, \'\')',
        "            └── post_save  Profile  instance=<Profile: Profile object (1)>  created=True",
        "                └── ○ create_profile  skipped: listens to sender=User",
    ]
    child.sendeof()
    child.expect(pexpect.EOF)


def test_shell_disconnect_and_connect_take_effect_at_once(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shell", "profile_on_signup")
    child.expect_exact(PROMPT)
    assert typed(child, "post_save.disconnect(create_profile, sender=User)") == ["True"]
    output = typed(child, 'User.objects.create(username="cy")')
    assert "└── post_save  User  instance=<User: cy>  created=True  (no receivers)" in output
    assert not any("create_profile" in line for line in output)
    child.sendline("def shout(sender, instance, **kwargs):")
    child.sendline("    return str(instance).upper()")
    child.sendline("")
    child.expect_exact(PROMPT)
    assert typed(child, "post_save.connect(shout)") == []
    output = typed(child, 'User.objects.create(username="di")')
    assert "    └── ✓ shout  any sender  → returned DI" in output
    assert typed(child, "Profile.objects.count()") == ["0"]
    child.sendeof()
    child.expect(pexpect.EOF)


def test_shell_prints_nothing_extra_for_statements_without_signals(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shell", "profile_on_signup")
    child.expect_exact(PROMPT)
    assert typed(child, "1 + 1") == ["2"]
    assert typed(child, "User.objects.count()") == ["0"]
    child.sendeof()
    child.expect(pexpect.EOF)


def test_shell_shows_a_write_that_sent_no_signals(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shell", "profile_on_signup")
    child.expect_exact(PROMPT)
    assert typed(child, 'User.objects.bulk_create([User(username="ed")])')[1:] == [
        "User.objects.bulk_create([<User: ed>])  no signals",
        "├── SQL  BEGIN",
        '├── SQL  INSERT INTO "app_user" ("username") VALUES (\'ed\')',
        "└── SQL  COMMIT",
    ]
    assert typed(child, 'User.objects.update(username="flo")') == [
        "1",
        "User.objects.update(username='flo')  no signals",
        '└── SQL  UPDATE "app_user" SET "username" = \'flo\'',
    ]
    child.sendeof()
    child.expect(pexpect.EOF)


def test_shell_run_option_runs_the_steps_first(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shell", "profile_on_signup", "--run")
    child.expect_exact(PROMPT)
    banner = lines_of(child.before)
    assert banner[0].startswith("profile_on_signup.py · 2 steps · 6 dispatches")
    assert banner[-3].endswith("its steps ran above.")
    assert typed(child, "Profile.objects.count()") == ["1"]
    child.sendeof()
    child.expect(pexpect.EOF)


def test_shell_completes_names_with_tab(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shell", "profile_on_signup")
    child.expect_exact(PROMPT)
    child.send("post_sa\t")
    child.sendline(".has_listeners(User)")
    child.expect_exact(PROMPT)
    assert lines_of(child.before)[-3:-1] == ["post_save.has_listeners(User)", "True"]
    child.sendeof()
    child.expect(pexpect.EOF)


def test_shell_without_a_scenario_defines_models_at_the_prompt(tmp_path: Path) -> None:
    child = spawn(tmp_path, "shell")
    child.expect_exact(PROMPT)
    assert (
        lines_of(child.before)[0] == "sigcli shell · no scenario: define models and receivers here."
    )
    for line in ["class Tag(models.Model):", "    name = models.CharField(max_length=20)", ""]:
        child.sendline(line)
    child.expect_exact(PROMPT)
    output = typed(child, 'Tag.objects.create(name="x")')
    assert output[0] == "<Tag: Tag object (1)>"
    assert (
        "└── post_save  Tag  instance=<Tag: Tag object (1)>  created=True  (no receivers)" in output
    )
    child.sendeof()
    child.expect(pexpect.EOF)


# -- step mode ------------------------------------------------------------------


def pause(child: pexpect.spawn) -> list[str]:
    child.expect_exact("[Enter] next dispatch · c run to the end · q stop")
    return [line for line in lines_of(child.before) if line]


def test_step_shows_each_dispatch_and_who_will_run(tmp_path: Path) -> None:
    child = spawn(tmp_path, "run", "custom_signal", "--step")
    assert pause(child) == [
        "step 1 · Stripe: book_payment (any sender) and stripe_fee run; any_gateway is skipped.",
        "⏸ payment_received  Stripe",
        "  amount   100",
        "  currency 'EUR'",
        "  ✓ book_payment  any sender  will run",
        "  ✓ stripe_fee    sender=Stripe  will run",
        "  ○ any_gateway   skipped: listens to sender=PaymentGateway",
    ]
    child.send("\r")
    assert pause(child)[:2] == [
        "step 2 · PayPal: only book_payment; stripe_fee and any_gateway listen to other senders.",
        "⏸ payment_received  PayPal",
    ]
    child.send("\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    trace = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    assert [len(step["children"]) for step in trace["steps"]] == [1, 1]


def test_step_c_runs_to_the_end_without_pausing(tmp_path: Path) -> None:
    child = spawn(tmp_path, "run", "profile_on_signup", "--step", "--no-save")
    first = pause(child)
    assert first[1] == "⏸ post_save  User"
    assert first[-1] == "  ✓ create_profile  sender=User  will run"
    child.send("c")
    child.expect(pexpect.EOF)
    output = lines_of(child.before)
    assert not any(line.startswith("⏸") for line in output)
    assert any(line.startswith("profile_on_signup · 2 steps · 6 dispatches") for line in output)
    child.close()
    assert child.exitstatus == 0


def test_step_q_stops_and_saves_the_trace_so_far(tmp_path: Path) -> None:
    child = spawn(tmp_path, "run", "profile_on_signup", "--step")
    post_save = pause(child)
    assert post_save[1:] == [
        "⏸ post_save  User",
        "  instance      <User: ann>",
        "  created       True",
        "  update_fields None",
        "  raw           False",
        "  using         'default'",
        "  ✓ create_profile  sender=User  will run",
    ]
    child.send("q")
    child.expect(pexpect.EOF)
    assert "Interrupted; the partial trace is saved in .sigcli/last-trace.json." in child.before
    child.close()
    assert child.exitstatus == 130
    trace = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    dispatches = [
        node["signal"]
        for operation in trace["steps"][0]["children"]
        for node in operation["children"]
        if "signal" in node
    ]
    assert dispatches == ["pre_init", "post_init", "pre_save"]


@pytest.mark.parametrize("option", ["--json", "--db=x.sqlite"])
def test_step_refuses_options_it_cannot_honour(tmp_path: Path, option: str) -> None:
    child = spawn(tmp_path, "run", "custom_signal", "--step", option)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "--step does not combine with --json or --db." in child.before


# -- piped input ------------------------------------------------------------------


def run_piped(tmp_path: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="120", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "sigcli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )


def test_shell_reads_statements_from_a_pipe(tmp_path: Path) -> None:
    done = run_piped(
        tmp_path,
        'User.objects.create(username="x")\nProfile.objects.count()\n',
        "shell",
        "profile_on_signup",
    )
    assert done.returncode == 0
    assert done.stdout.splitlines()[:2] == [">>> <User: x>", "User.objects.create(username='x')"]
    assert done.stdout.splitlines()[-2:] == [">>> 1", ">>> "]


def test_shell_with_an_unknown_scenario_is_a_usage_error(tmp_path: Path) -> None:
    done = run_piped(tmp_path, "", "shell", "profile_on_sign")
    assert done.returncode == 2
    assert (
        "No file 'profile_on_sign' and no bundled scenario of that name. Did you mean 'profile_on_signup'?"
        in done.stderr
    )


def test_step_reads_one_key_per_line_from_a_pipe(tmp_path: Path) -> None:
    done = run_piped(tmp_path, "\nq\n", "run", "custom_signal", "--step")
    assert done.returncode == 130
    assert done.stdout.count("⏸ payment_received") == 2
    assert "Interrupted; the partial trace is saved in .sigcli/last-trace.json." in done.stderr
    trace = json.loads((tmp_path / ".sigcli" / "last-trace.json").read_text())
    assert [len(step["children"]) for step in trace["steps"]] == [1, 0]


def test_step_runs_to_the_end_when_the_pipe_closes(tmp_path: Path) -> None:
    done = run_piped(tmp_path, "", "run", "custom_signal", "--step", "--no-save")
    assert done.returncode == 0
    assert done.stdout.count("⏸ payment_received") == 1
    assert "custom_signal · 2 steps · 2 dispatches · no errors" in done.stdout
