"""The pytest plugin on sigcli's own engine, run in pytest processes of its own (``pytester``).

Tests that must pass pass, and tests that must fail fail with the
explanation, pinned line by line, in their report.
"""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from sigcli import tracefile
from sigcli.cli import main

APP = """
from sigcli import models
from sigcli.dispatcher import receiver
from sigcli.signals import post_delete, post_save


class User(models.Model):
    username = models.CharField(max_length=20)

    def __str__(self):
        return self.username


class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE)


@receiver(post_save, sender=User)
def create_profile(sender, instance, created, **kwargs):
    if created:
        Profile.objects.create(user=instance)


@receiver(post_delete, sender=User)
def farewell(sender, instance, **kwargs):
    pass


def audit(sender, **kwargs):
    pass


models.get_registry().migrate()
"""

HEADER = "from sigcli.signals import post_delete, post_save, pre_save\n" + (
    "from app import Profile, User, audit, create_profile, farewell\n\n"
)

TREE = [
    "E       What the test sent (SQL left out):",
    "E       the test · 1 step · 4 dispatches · 4 pre_init/post_init with no receiver folded · no errors",
    "E       └── 1 · call",
    "E           └── User.objects.create(username='ann')",
    "E               ├── pre_save  User  instance=<User: ann>  (no receivers)",
    "E               └── post_save  User  instance=<User: ann>  created=True",
    "E                   └── ✓ create_profile  sender=User",
    "E                       └── Profile.objects.create(user=<User: ann>)",
    "E                           ├── pre_save  Profile  instance=<Profile: Profile object (None)>  (no receivers)",
    "E                           └── post_save  Profile  instance=<Profile: Profile object (1)>  created=True",
    "E                               └── ○ create_profile  skipped: listens to sender=User",
]


def run(pytester: pytest.Pytester, test_body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(app=APP, test_app=HEADER + textwrap.dedent(test_body))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_assertions_that_hold_pass(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_sign_up(signals):
            ann = User.objects.create(username="ann")
            signals.assert_sent(post_save, sender=User, created=True, instance=ann)
            signals.assert_sent(pre_save, sender=User, times=1, instance=ann)
            signals.assert_sent("post_save", sender=Profile, times=1)
            signals.assert_called(create_profile, times=1)
            signals.assert_called("create_profile")
            signals.assert_not_called(farewell)
            signals.assert_not_sent(post_delete)
            signals.assert_order([(pre_save, User), (post_save, User), (post_save, Profile)])
            assert [(d.signal, d.sender) for d in signals.dispatches()] == [
                ("pre_init", "User"), ("post_init", "User"),
                ("pre_save", "User"), ("post_save", "User"),
                ("pre_init", "Profile"), ("post_init", "Profile"),
                ("pre_save", "Profile"), ("post_save", "Profile"),
            ]
            assert [d.seq for d in signals.dispatches(post_save)] == [4, 8]
            assert [d.seq for d in signals.dispatches("post_save", sender="Profile")] == [8]
            # The same row fetched again matches; another unsaved object does not.
            signals.assert_sent(post_save, sender=User, instance=User.objects.get(pk=ann.pk))
            signals.assert_sent(pre_save, sender=User, times=0, instance=User(username="ann"))


        def test_inert_without_the_fixture():
            from sigcli import dispatcher
            from sigcli.models import observe

            User.objects.create(username="bob")
            assert dispatcher.current_observer() is None
            assert observe.current is None
        """,
    )
    result.assert_outcomes(passed=2)


FAILING = """
import gc

import pytest
from sigcli.dispatcher import Signal

order_placed = Signal()
order_placed.name = "order_placed"


def charge(sender, **kwargs):
    raise ValueError("card declined")


def send_receipt(sender, **kwargs):
    pass


order_placed.connect(charge)
order_placed.connect(send_receipt)


def connect_local():
    def on_ping(sender, **kwargs):
        pass

    order_placed.connect(on_ping)


def test_other_arguments(signals):
    User.objects.create(username="ann")
    signals.assert_sent(post_save, sender=User, created=False)


def test_times(signals):
    User.objects.create(username="ann")
    signals.assert_sent(pre_save, times=3)


def test_other_sender(signals):
    User.objects.create(username="ann")
    signals.assert_sent(post_delete, sender=User)


def test_not_sent(signals):
    User.objects.create(username="ann")
    signals.assert_not_sent(post_save, sender=Profile)


def test_order(signals):
    User.objects.create(username="ann")
    signals.assert_order([(post_save, Profile), (post_save, User)])


def test_never_sent(signals):
    User.objects.create(username="ann")
    signals.assert_called(farewell)


def test_never_connected(signals):
    User.objects.create(username="ann")
    signals.assert_called(audit)


def test_other_sender_skipped(signals):
    User.objects.create(username="ann")
    signals.assert_called(create_profile, times=2)


def test_called(signals):
    User.objects.create(username="ann")
    signals.assert_not_called(create_profile)


def test_not_reached(signals):
    with pytest.raises(ValueError):
        order_placed.send(sender=None)
    signals.assert_called(send_receipt)


def test_dead_reference(signals):
    connect_local()
    gc.collect()
    with pytest.raises(ValueError):
        order_placed.send(sender=None)
    signals.assert_called("connect_local.<locals>.on_ping")
"""


@pytest.fixture
def failing(pytester: pytest.Pytester) -> pytest.RunResult:
    result = run(pytester, FAILING)
    result.assert_outcomes(failed=11)
    return result


def explained(result: pytest.RunResult, *lines: str) -> None:
    """The failure message starts with ``lines`` (each after ``E``), then a blank line."""
    result.stdout.fnmatch_lines(
        [
            f"E       AssertionError: {lines[0]}",
            *(f"E       {line}" for line in lines[1:]),
            "E       ",
        ],
        consecutive=True,
    )


def test_each_failing_assertion_explains_itself(failing: pytest.RunResult) -> None:
    # The whole message of one, with the tree of what the test sent.
    failing.stdout.fnmatch_lines(
        [
            "E       AssertionError: post_save from User with created=False was not sent.",
            "E       Sent with other arguments (1):",
            "E         #4 post_save User",
            "E       ",
            *TREE,
            "",
            "test_app.py:35: AssertionError",
        ],
        consecutive=True,
    )
    explained(failing, "pre_save was sent twice, expected 3 times.")
    explained(failing, "post_delete from User was not sent.")
    explained(
        failing,
        "post_save from Profile was sent once:",
        "  #8 post_save Profile  (sent from create_profile, receiver of #4 post_save User)",
    )
    explained(
        failing,
        "Expected, in order: post_save from Profile, then post_save from User",
        "post_save from User was not sent after #8 post_save Profile (it was sent before it, #4).",
    )
    explained(failing, "create_profile was called once:", "  by #4 post_save User")


def test_a_receiver_that_did_not_run_is_explained(failing: pytest.RunResult) -> None:
    explained(
        failing,
        "farewell was not called.",
        "It is connected to:",
        "  post_delete (sender=User), which the test never sent",
    )
    explained(
        failing,
        "audit was not called.",
        "It was not connected to any signal the test sent, and it is not connected now: is the "
        "module that connects it imported (a @receiver in a module nobody imports never "
        "connects), or was it connected weakly and collected?",
    )
    explained(
        failing,
        "create_profile was called once, expected twice.",
        "Skipped by:",
        "  #8 post_save Profile: it listens to sender=User only",
    )
    explained(
        failing,
        "send_receipt was not called.",
        "Skipped by:",
        "  #1 order_placed: not reached: charge raised ValueError: card declined before it",
    )
    explained(
        failing,
        "connect_local.<locals>.on_ping was not called.",
        "Skipped by:",
        "  #1 order_placed: its weak reference was dead: the function was garbage-collected "
        "(keep a reference to it, or connect it with weak=False)",
    )


def test_what_fixtures_send_while_set_up_is_left_out(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest


        @pytest.fixture
        def ann(signals):
            user = User.objects.create(username="ann")
            assert len(signals.dispatches(post_save)) == 2
            return user


        def test_it(signals, ann):
            ann.save()
            assert [(d.signal, d.sender) for d in signals.dispatches()] == [
                ("pre_save", "User"), ("post_save", "User")
            ]
            assert [step.label for step in signals.trace.steps] == ["setup", "call"]
        """,
    )
    result.assert_outcomes(passed=1)


def test_sigcli_trace_saves_one_loadable_trace_per_test(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest


        @pytest.mark.parametrize("name", ["ann", "b/b"])
        def test_sign_up(name):
            User.objects.create(username=name)


        def test_fails():
            User.objects.create(username="cy")
            assert False
        """,
        "--sigcli-trace=traces",
    )
    result.assert_outcomes(passed=2, failed=1)
    saved = sorted(p.name for p in (pytester.path / "traces").iterdir())
    assert saved == [
        "test_app.py__test_fails.json",
        "test_app.py__test_sign_up_ann.json",
        "test_app.py__test_sign_up_b_b.json",
    ]
    [trace] = tracefile.load(pytester.path / "traces" / "test_app.py__test_sign_up_b_b.json")
    assert trace.scenario == "test_app.py::test_sign_up[b/b]"
    assert [step.label for step in trace.steps] == ["setup", "call", "teardown"]
    assert [(d.signal, d.sender) for d in trace.dispatches()] == [
        ("pre_init", "User"),
        ("post_init", "User"),
        ("pre_save", "User"),
        ("post_save", "User"),
        ("pre_init", "Profile"),
        ("post_init", "Profile"),
        ("pre_save", "Profile"),
        ("post_save", "Profile"),
    ]
    result.stdout.fnmatch_lines(
        [
            "*- sigcli -*",
            "signals of this test: sigcli trace traces/test_app.py__test_fails.json",
        ],
        consecutive=True,
    )
    assert result.stdout.str().count("signals of this test") == 1
    shown = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}).invoke(
        main,
        ["trace", str(pytester.path / "traces" / "test_app.py__test_fails.json")],
        catch_exceptions=False,
    )
    assert shown.exit_code == 0
    assert "User.objects.create(username='cy')" in shown.output
    assert "✓ create_profile" in shown.output


def test_sigcli_trace_failed_keeps_failing_tests_only(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_passes(signals):
            User.objects.create(username="ann")


        def test_fails(signals):
            User.objects.create(username="bob")
            signals.assert_sent(post_delete)
        """,
        "--sigcli-trace=out",
        "--sigcli-trace-failed",
    )
    result.assert_outcomes(passed=1, failed=1)
    assert [p.name for p in (pytester.path / "out").iterdir()] == ["test_app.py__test_fails.json"]
    [trace] = tracefile.load(pytester.path / "out" / "test_app.py__test_fails.json")
    assert [d.signal for d in trace.dispatches()][:4] == [
        "pre_init",
        "post_init",
        "pre_save",
        "post_save",
    ]


def test_a_trace_that_cannot_be_saved_is_a_warning(pytester: pytest.Pytester) -> None:
    (pytester.path / "out").mkdir()
    (pytester.path / "out" / "test_app.py__test_it.json").write_text("my notes\n")
    result = run(
        pytester,
        """
        def test_it():
            User.objects.create(username="ann")
        """,
        "--sigcli-trace=out",
    )
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*PytestWarning: sigcli could not save the trace out/*"])
    assert (pytester.path / "out" / "test_app.py__test_it.json").read_text() == "my notes\n"
