"""Every random program, run as a scenario file on both engines, sends the same dispatches.

The random programs of ``test_vs_django_random`` are written out as scenario
files (the harness's ``World`` over whatever ``from sigcli import models``
gives) and run by ``sigcli``'s scenario runner on its own engine and with
``--engine django``; the two traces must hold the same dispatches, step by
step, with the same receivers and arguments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigcli import scenario
from tests.djangoengine.test_engine import run_json, sequence
from tests.models import test_vs_django_random as menu

SCENARIO = '''\
import json

import sigcli
from sigcli import models, signals
from tests.models import test_vs_django_random as menu
from tests.models.diff_harness import World
from tests.models.diff_schema import declare

OPERATIONS, RECORDED, REACTIONS = json.loads({program!r})
classes = declare(models, __name__)
globals().update(classes)
try:
    transaction = models.transaction
except AttributeError:  # Django's models module has none
    from django.db import transaction
w = World("scenario", models, signals, classes, "app", transaction)


@sigcli.step
def seed():
    """the seeded rows"""
    menu.seed_more(w)


@sigcli.step
def program():
    """the program"""
    for name, before in REACTIONS:
        if before:
            menu.connect_reaction(w, name)
    w.record(tuple(RECORDED))
    for name, before in REACTIONS:
        if not before:
            menu.connect_reaction(w, name)
    for operation in OPERATIONS:
        menu.attempt_query(w, operation)
    print(w.events)
'''


@pytest.fixture(scope="module")
def django_engine() -> Any:
    from sigcli.djangoscenario import DjangoEngine

    return DjangoEngine()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    operations=st.lists(
        st.one_of(menu.QUERY_PROGRAM_OPERATIONS, menu.OPERATIONS), min_size=1, max_size=8
    ),
    recorded=menu.RECORDED,
    reactions=st.lists(
        st.tuples(st.sampled_from(sorted({**menu.REACTIONS, **menu.NEW_REACTIONS})), st.booleans()),
        max_size=2,
        unique_by=lambda reaction: reaction[0],
    ),
)
def test_random_programs_send_the_same_on_both_engines(
    operations: list[Any],
    recorded: tuple[str, ...],
    reactions: list[Any],
    tmp_path: Path,
    django_engine: Any,
) -> None:
    import django

    if django.VERSION[:2] != (5, 2):
        pytest.skip("the own engine's model layer sends what Django 5.2 sends")
    path = tmp_path / "program.py"
    program = json.dumps([operations, list(recorded), reactions])
    path.write_text(SCENARIO.format(program=program))
    own = sequence(run_json(str(path), scenario.OWN_ENGINE))
    real = sequence(run_json(str(path), django_engine))
    assert [step["error"] for step in real["steps"]] == [None, None]
    assert len(real["steps"][0]["dispatches"]) > 400  # the seeded rows, on Django too
    assert own == real
