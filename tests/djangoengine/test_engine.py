"""Scenarios on real Django (``--engine django``): the same files, Django's objects.

Django is the one configured for the test session (``tests/conftest.py``);
the engine adds a scenario's app to it for a run and takes everything away
after.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sigcli import scenario, trace
from sigcli.cli import main
from sigcli.djangoscenario import DjangoEngine


@pytest.fixture(scope="module")
def django_engine() -> DjangoEngine:
    return DjangoEngine()


def run_json(name: str, engine: Any) -> dict[str, Any]:
    result = scenario.run([name], engine=engine)
    return json.loads(trace.dumps(result.traces))  # type: ignore[no-any-return]


def dispatches(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dispatches among ``nodes`` (through ORM calls), each with its
    receivers and the dispatches nested under them; no file lines or seqs.

    Two things are left out because the own engine leaves them out by design
    (``sigcli/http.py``): receivers Django itself connects to the request
    signals (``reset_queries``, ``close_caches``, the test client's
    ``store_exc_info``), and the WSGI environ keys beyond the method, path,
    query string and server name.
    """
    found = []
    for node in nodes:
        if node["type"] == "dispatch":
            kwargs = dict(node["kwargs"])
            if isinstance(kwargs.get("environ"), dict):
                keep = ("PATH_INFO", "QUERY_STRING", "REQUEST_METHOD", "SERVER_NAME")
                kwargs["environ"] = {k: v for k, v in kwargs["environ"].items() if k in keep}
            receivers = [
                {
                    "name": r["name"],
                    "sender_filter": r["sender_filter"],
                    "weak": r["weak"],
                    "dispatch_uid": r["dispatch_uid"],
                    "called": r["called"],
                    "skipped_reason": r["skipped_reason"],
                    "result": r["result"],
                    "error": r["error"],
                    "error_propagated": r["error_propagated"],
                    "children": dispatches(r["children"]),
                }
                for r in node["receivers"]
                if not (r["module"] or "").startswith("django.")
            ]
            found.append(
                {
                    "signal": node["signal"],
                    "sender": node["sender"],
                    "depth": node["depth"],
                    "robust": node["robust"],
                    "kwargs": kwargs,
                    "error": node["error"],
                    "receivers": receivers,
                }
            )
        elif "children" in node:
            found.extend(dispatches(node["children"]))
    return found


def flat(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dispatches in the order they started, nested ones after their receiver's."""
    out = []
    for dispatch in found:
        out.append(dispatch)
        for receiver in dispatch["receivers"]:
            out.extend(flat(receiver["children"]))
    return out


def sequence(data: dict[str, Any]) -> dict[str, Any]:
    """What must agree between the engines: per step its label, error and
    dispatches; for the setup, which signal each sender sent."""
    text = json.dumps(
        {
            "error": data["error"],
            "not_run": data["not_run"],
            "setup": [(d["signal"], d["sender"]) for d in dispatches(data["setup"])],
            "steps": [
                {"label": s["label"], "error": s["error"], "dispatches": dispatches(s["children"])}
                for s in data["steps"]
            ],
        }
    )
    # The module each load gets is numbered: sigcli_scenario_7_profiles.
    return json.loads(re.sub(r"sigcli_scenario_\d+_", "", text))  # type: ignore[no-any-return]


def without_later_arguments(data: dict[str, Any]) -> dict[str, Any]:
    """Django 6.0 added ``raw`` to m2m_changed (False but for fixtures); the own
    engine sends what 5.2 sends. Check it and take it out."""
    import django

    if django.VERSION < (6, 0):
        return data
    for step in data["steps"]:
        for dispatch in flat(step["dispatches"]):
            if dispatch["signal"] == "m2m_changed":
                assert dispatch["kwargs"].pop("raw") is False
    return data


@pytest.mark.parametrize("name", sorted(scenario.bundled_paths()))
def test_every_bundled_scenario_sends_the_same_on_both_engines(
    name: str, django_engine: DjangoEngine
) -> None:
    import django

    if django.VERSION < (5, 0):
        pytest.skip(
            "sigcli's own engine sends what Django 5.2 sends; 4.2 has no async receivers "
            "or asend, and its send_robust differs"
        )
    own = sequence(run_json(name, scenario.OWN_ENGINE))
    real = without_later_arguments(sequence(run_json(name, django_engine)))
    assert real["steps"], f"{name}: no steps ran on Django"
    assert real == own


def test_profiles_on_django_sends_what_django_sends(django_engine: DjangoEngine) -> None:
    data = run_json("profiles", django_engine)
    steps = [
        (
            step["label"],
            [
                (
                    d["signal"],
                    d["sender"],
                    d["depth"],
                    [(r["name"], r["called"]) for r in d["receivers"]],
                )
                for d in flat(dispatches(step["children"]))
                if d["signal"] not in ("pre_init", "post_init")
            ],
        )
        for step in data["steps"]
    ]
    assert steps == [
        (
            "a user signs up",
            [
                ("pre_save", "User", 1, [("audit", True)]),
                ("post_save", "User", 1, [("create_profile", True)]),
                ("pre_save", "Profile", 2, [("audit", True)]),
                ("post_save", "Profile", 2, [("create_profile", False)]),
            ],
        ),
        (
            "rename with update_fields",
            [
                ("pre_save", "User", 1, [("audit", True)]),
                ("post_save", "User", 1, [("create_profile", True)]),
            ],
        ),
        (
            "delete the user",
            [
                ("pre_delete", "Profile", 1, [("goodbye", True)]),
                ("pre_delete", "User", 1, [("goodbye", False)]),
                ("post_delete", "Profile", 1, []),
                ("post_delete", "User", 1, []),
            ],
        ),
    ]
    assert data["scenario"] == "profiles"
    assert data["error"] is None


def test_a_run_leaves_django_as_it_found_it(django_engine: DjangoEngine) -> None:
    from django.apps import apps
    from django.db import connection
    from django.db.models.signals import post_save, pre_save

    receivers = (list(pre_save.receivers), list(post_save.receivers))
    tables = set(connection.introspection.table_names())
    scenario.run(["profiles", "m2m_changed"], engine=django_engine)
    assert "app" not in apps.app_configs
    assert not [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label == "app"]
    assert (list(pre_save.receivers), list(post_save.receivers)) == receivers
    assert set(connection.introspection.table_names()) == tables


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "scenario.py"
    path.write_text(source)
    return path


def test_sigcli_names_are_djangos_inside_the_scenario(
    tmp_path: Path, django_engine: DjangoEngine
) -> None:
    path = write(
        tmp_path,
        "import sigcli\n"
        "import sigcli.signals\n"
        "from sigcli import Signal, models, receiver\n"
        "from sigcli.dispatcher import Signal as DispatcherSignal\n"
        "from sigcli.signals import post_save\n"
        "import django.db.models, django.dispatch\n"
        "from django.db.models import signals\n"
        "\n"
        "@sigcli.step\n"
        "def check():\n"
        "    assert models is django.db.models\n"
        "    assert Signal is DispatcherSignal is sigcli.Signal is django.dispatch.Signal\n"
        "    assert receiver is django.dispatch.receiver\n"
        "    assert post_save is sigcli.signals.post_save is signals.post_save\n",
    )
    data = run_json(str(path), django_engine)
    assert data["error"] is None
    assert [s["error"] for s in data["steps"]] == [None]
    import sigcli.models

    assert sigcli.models.__name__ == "sigcli.models"  # sigcli itself keeps its own


def test_a_lazy_sender_that_names_no_model_is_reported(
    tmp_path: Path, django_engine: DjangoEngine
) -> None:
    path = write(
        tmp_path,
        "import sigcli\n"
        "from sigcli import models, receiver\n"
        "from sigcli.signals import post_save\n"
        "\n"
        "class User(models.Model):\n"
        "    name = models.CharField(max_length=10)\n"
        "\n"
        "@receiver(post_save, sender='app.Usr')\n"
        "def hello(sender, **kwargs):\n"
        "    pass\n"
        "\n"
        "@sigcli.step\n"
        "def one():\n"
        "    User.objects.create(name='a')\n",
    )
    data = run_json(str(path), django_engine)
    assert data["error"] == (
        f"{path}: a lazy model reference (a relation or a sender string) names a model "
        "that is never defined: app.usr. Check the spelling."
    )
    from django.apps import apps

    assert ("app", "usr") not in apps._pending_operations


SENDER_STRING_SCENARIO = (
    "import sigcli\n"
    "from sigcli import models, receiver\n"
    "from sigcli.signals import post_save\n"
    "\n"
    "class Pizza(models.Model):\n"
    "    name = models.CharField(max_length=10)\n"
    "\n"
    "@receiver(post_save, sender={sender!r})\n"
    "def baked(sender, **kwargs):\n"
    "    pass\n"
    "\n"
    "@sigcli.step\n"
    "def bake():\n"
    "    Pizza.objects.create(name='a')\n"
)


@pytest.mark.parametrize(
    ("sender", "error"),
    [
        (
            "Pizza",
            "{path}:8: error while importing the scenario: ValueError: Invalid model "
            "reference 'Pizza'. String model references must be of the form "
            "'app_label.ModelName'.\n"
            "    @receiver(post_save, sender='Pizza')\n"
            "A scenario's models are in the app 'app': write sender='app.Pizza'.",
        ),
        (
            "shop.Pizza",
            "{path}: a lazy model reference (a relation or a sender string) names a model "
            "that is never defined: shop.{pizza}. Check the spelling. A scenario's models "
            "are in the app 'app': write app.{pizza}, not shop.{pizza}.",
        ),
    ],
)
def test_a_sender_string_is_read_as_django_reads_it_on_both_engines(
    tmp_path: Path, django_engine: DjangoEngine, sender: str, error: str
) -> None:
    path = write(tmp_path, SENDER_STRING_SCENARIO.format(sender=sender))
    own = run_json(str(path), scenario.OWN_ENGINE)
    real = run_json(str(path), django_engine)
    # Django keys lazy references by the lower-cased model name.
    assert (own["error"], real["error"]) == (
        error.format(path=path, pizza="Pizza"),
        error.format(path=path, pizza="pizza"),
    )
    from django.apps import apps

    assert ("shop", "pizza") not in apps._pending_operations


def test_a_sender_string_with_the_scenario_app_label_connects_on_both_engines(
    tmp_path: Path, django_engine: DjangoEngine
) -> None:
    path = write(tmp_path, SENDER_STRING_SCENARIO.format(sender="app.Pizza"))
    own = sequence(run_json(str(path), scenario.OWN_ENGINE))
    assert own == sequence(run_json(str(path), django_engine))
    (bake,) = own["steps"]
    assert [(d["signal"], [r["name"] for r in d["receivers"]]) for d in bake["dispatches"]] == [
        ("pre_init", []),
        ("post_init", []),
        ("pre_save", []),
        ("post_save", ["baked"]),
    ]


def test_sigcli_model_internals_are_refused_on_django(
    tmp_path: Path, django_engine: DjangoEngine
) -> None:
    path = write(tmp_path, "from sigcli.models.fields import CharField\n")
    data = run_json(str(path), django_engine)
    assert data["error"] == (
        f"{path}:1: error while importing the scenario: ImportError: sigcli.models.fields is "
        "part of sigcli's own model layer; a scenario run with --engine django imports from "
        "sigcli.models (Django's models) only.\n"
        "    from sigcli.models.fields import CharField"
    )


def test_receivers_of_a_scenario_on_django(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(
        main, ["receivers", "profiles", "--engine", "django"], catch_exceptions=False
    )
    assert result.exit_code == 0
    lines = [line.split("  /")[0].rstrip() for line in result.output.splitlines()]
    # Django's own receivers (on the request signals) depend on what it has imported.
    assert lines[0].startswith("profiles · ")
    assert lines[1:7] == [
        "├── pre_save",
        "│   └── profiles:audit  any sender  weak",
        "├── post_save",
        "│   └── profiles:create_profile  sender=User  weak",
        "├── pre_delete",
        "│   └── profiles:goodbye  sender=Profile  weak",
    ]
    assert "│   ├── django.db:reset_queries  any sender  weak" in lines


def test_run_on_django_as_json(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["run", "custom_signal", "--engine", "django", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert [
        [
            (d["signal"], d["sender"], [r["result"] for r in d["receivers"]])
            for d in dispatches(s["children"])
        ]
        for s in data["steps"]
    ] == [
        [("payment_received", "Stripe", ["booked 100 EUR via Stripe", 3.15, None])],
        [("payment_received", "PayPal", ["booked 40 EUR via PayPal", None, None])],
    ]


def test_engine_django_without_django_says_how_to_install(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "django", None)
    result = CliRunner().invoke(main, ["run", "profiles", "--engine", "django"])
    assert result.exit_code == 2
    assert (
        "Django is not installed in this environment; install it with: "
        "pip install 'sigcli[django]'" in result.output
    )


def test_db_does_not_combine_with_engine_django(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["run", "profiles", "--engine", "django", "--db", "x.sqlite3"]
    )
    assert result.exit_code == 2
    assert "--db keeps sigcli's own database; --engine django has none." in result.output


def test_step_pauses_before_each_django_dispatch(django_engine: DjangoEngine) -> None:
    from rich.console import Console

    from sigcli.stepper import run_stepping

    screen = Console(record=True, width=120, color_system=None, force_terminal=False)
    pressed = iter(["", "c"])
    result = run_stepping(
        ["custom_signal"], screen, read_key=lambda: next(pressed), engine=django_engine
    )
    lines = [line.rstrip() for line in screen.export_text().splitlines()]
    assert [line for line in lines if line.startswith("⏸")] == [
        "⏸ payment_received  Stripe",
        "⏸ payment_received  PayPal",
    ]
    assert "  ○ any_gateway   skipped: listens to sender=PaymentGateway" in lines
    assert result.exit_status == 0 and [len(t.steps) for t in result.traces] == [2]


@pytest.mark.slow
def test_shell_on_django_prints_each_statements_tree(tmp_path: Path) -> None:
    import os
    import subprocess

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "sigcli", "shell", "profile_on_signup", "--engine", "django"],
        input='User.objects.create(username="bob")\nmodels.Model.__module__\n',
        cwd=tmp_path,
        env=dict(os.environ, NO_COLOR="1", COLUMNS="120", PYTHONPATH=str(root)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # The signals' lines, without the tree's guides (ORM and SQL lines may sit between).
    lines = [line.lstrip("│├└─ >").rstrip() for line in done.stdout.splitlines()]
    assert [
        line for line in lines if "save" in line or "profile" in line or line.startswith("<")
    ] == [
        "<User: bob>",
        "pre_save  User  instance=<User: bob>  (no receivers)",
        "post_save  User  instance=<User: bob>  created=True",
        "✓ create_profile  sender=User",
        "pre_save  Profile  instance=<Profile: Profile object (None)>  (no receivers)",
        "post_save  Profile  instance=<Profile: Profile object (1)>  created=True",
        "○ create_profile  skipped: listens to sender=User",
    ]
    assert "'django.db.models.base'" in lines


def test_lazy_objects_are_not_set_up_by_looking_for_signals(django_engine: DjangoEngine) -> None:
    from django.utils.functional import SimpleLazyObject

    from sigcli.djangoengine.receivers import live_signals

    def set_up() -> object:
        raise AssertionError("a lazy object was set up")

    lazy = SimpleLazyObject(set_up)
    assert live_signals()
    scenario.run(["custom_signal"], engine=django_engine)
    del lazy
