"""``sigcli explain`` and ``sigcli scenarios``: the catalogue is complete and
true to Django, and the commands print it."""

from __future__ import annotations

import ast

import pytest
from click.testing import CliRunner

from sigcli import explain
from sigcli.cli import main
from sigcli.scenario import bundled_paths
from sigcli.signals import BUILTIN_SIGNALS

# The keyword arguments each signal is sent with, in the order Django passes them.
DJANGO_KWARGS = {
    "pre_init": ["args", "kwargs"],
    "post_init": ["instance"],
    "pre_save": ["instance", "raw", "using", "update_fields"],
    "post_save": ["instance", "created", "update_fields", "raw", "using"],
    "pre_delete": ["instance", "using", "origin"],
    "post_delete": ["instance", "using", "origin"],
    "m2m_changed": ["action", "instance", "reverse", "model", "pk_set", "using"],
    "class_prepared": [],
    "pre_migrate": ["app_config", "verbosity", "interactive", "using", "stdout", "apps", "plan"],
    "post_migrate": ["app_config", "verbosity", "interactive", "using", "stdout", "apps", "plan"],
    "request_started": ["environ"],
    "request_finished": [],
    "got_request_exception": ["request"],
    "setting_changed": ["setting", "value", "enter"],
    "template_rendered": ["template", "context"],
    "connection_created": ["connection"],
    "user_logged_in": ["request", "user"],
    "user_logged_out": ["request", "user"],
    "user_login_failed": ["credentials", "request"],
}

#: Django's signals that sigcli's own dispatcher does not send: explain knows them.
DJANGO_ONLY = [
    "setting_changed",
    "template_rendered",
    "connection_created",
    "user_logged_in",
    "user_logged_out",
    "user_login_failed",
]


@pytest.fixture(autouse=True)
def pinned_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_catalogue_covers_exactly_the_built_in_signals_with_djangos_kwargs() -> None:
    assert [doc.name for doc in explain.CATALOGUE] == [
        *(s.name for s in BUILTIN_SIGNALS),
        *DJANGO_ONLY,
    ]
    assert {doc.name: [k for k, _ in doc.kwargs] for doc in explain.CATALOGUE} == DJANGO_KWARGS


def test_catalogue_import_paths_are_djangos() -> None:
    import importlib

    for doc in explain.CATALOGUE:
        assert hasattr(importlib.import_module(doc.django_path), doc.name), doc.name


def test_every_scenario_named_in_the_catalogue_sends_that_signal() -> None:
    from sigcli.scenario import loaded, run_steps
    from sigcli.trace import Recorder, Trace

    bundled = bundled_paths()
    named = {name for doc in explain.CATALOGUE for name in doc.scenarios}
    sent: dict[str, set[str]] = {}
    for name in named:
        trace = Trace(scenario=name)
        recorder = Recorder(trace)
        with loaded(bundled[name], recorder=recorder) as scenario:
            run_steps(scenario, recorder)
        sent[name] = {d.signal for d in trace.dispatches(setup=True)}
    for doc in explain.CATALOGUE:
        assert bool(doc.scenarios) is (doc.name not in DJANGO_ONLY), doc.name
        for name in doc.scenarios:
            assert doc.name in sent[name], (doc.name, name)
            if doc.name not in explain.HIDDEN_BY_DEFAULT:
                assert doc.name in bundled[name].read_text(), (doc.name, name)


def test_every_scenario_states_its_lesson_and_has_labelled_steps() -> None:
    summaries = explain.bundled_summaries()
    assert len(summaries) >= 12
    for summary in summaries:
        tree = ast.parse(summary.path.read_text())
        docstring = ast.get_docstring(tree) or ""
        sentences = docstring.count(". ") + docstring.rstrip().endswith(".")
        assert 2 <= sentences <= 6 and summary.lesson, summary.name
        steps = [
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
            and any(ast.unparse(d) == "sigcli.step" for d in node.decorator_list)
        ]
        assert steps, summary.name
        for step in steps:
            assert ast.get_docstring(step), (summary.name, step.name)


def test_explain_without_a_name_prints_the_table() -> None:
    status, output = invoke("explain")
    assert status == 0
    assert output.splitlines()[0].strip() == "Django's built-in signals"
    first_column = [
        line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│")
    ]
    assert [name for name in first_column if name] == [doc.name for doc in explain.CATALOGUE]


def test_explain_one_signal() -> None:
    status, output = invoke("explain", "got_request_exception")
    assert status == 0
    assert [line.rstrip() for line in output.splitlines()] == [
        "got_request_exception  from django.core.signals import got_request_exception",
        "sent     when a view raises an exception that becomes a 500 response",
        "sender   None",
        "request  the request being handled",
        "pitfalls",
        "  • Not sent for Http404, PermissionDenied, BadRequest or SuspiciousOperation.",
        "  • Sent before request_finished.",
        "see it  sigcli run request_cycle",
    ]


def test_explain_unknown_signal_suggests_the_closest_name() -> None:
    status, output = invoke("explain", "post_sav")
    assert status == 2
    assert "no built-in signal named 'post_sav'. Did you mean 'post_save'?" in output
    status, output = invoke("explain", "django.db.models.signals.post_sav")
    assert status == 2
    assert "Did you mean 'post_save'?" in output


@pytest.mark.parametrize(
    "name",
    ["POST_SAVE", "post-save", "PostSave", "django.db.models.signals.post_save", "post_save()"],
)
def test_explain_accepts_a_signal_as_people_write_it(name: str) -> None:
    status, output = invoke("explain", name)
    assert status == 0
    assert output.startswith("post_save  from django.db.models.signals import post_save\n")


def test_explain_knows_djangos_signals_that_sigcli_does_not_send() -> None:
    for name in DJANGO_ONLY:
        status, output = invoke("explain", name)
        assert status == 0, name
    status, output = invoke("explain", "django.test.signals.setting_changed")
    assert output.startswith("setting_changed  from django.core.signals import setting_changed\n")
    assert "  • Also importable as django.test.signals.setting_changed" in output


def test_explain_names_the_module_a_signal_really_lives_in() -> None:
    status, output = invoke("explain", "django.core.signals.post_save")
    assert status == 2
    assert "django.core.signals has no signal 'post_save': it is " in output
    assert "django.db.models.signals.post_save. Try `sigcli explain post_save`." in output


def test_long_lines_wrap_under_their_own_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    status, output = invoke("explain", "post_save")
    lines = output.splitlines()
    start = lines.index("pitfalls")
    assert lines[start + 1 : start + 5] == [
        "  • A receiver that saves its own instance sends post_save again: endless recursion.",
        "  • A receiver that raises fails the save, but the row is already written (unless in",
        "    atomic()).",
        "  • Check raw: during loaddata, related rows come from the fixture, not from your",
    ]
    assert lines[-1].startswith("        ")  # "see it" goes on under its own column


def test_scenarios_lists_every_bundled_scenario_with_its_lesson() -> None:
    status, output = invoke("scenarios")
    assert status == 0
    rows = [line.split("│")[1:3] for line in output.splitlines() if line.startswith("│")]
    names = [name.strip() for name, _ in rows if name.strip()]
    assert names == sorted(bundled_paths())
    assert (
        "│ m2m_changed       │ m2m_changed for add, remove, clear and set, from both sides of the"
        in output
    )
