"""Run a bundled scenario on sigcli, or the same source on Django, and list
every dispatch of its steps as comparable lines.

On the Django side the scenario's imports are rewritten to Django's
(``from sigcli import models`` → ``from django.db import models``, the
signals from ``django.db.models.signals``), its models are declared in an
isolated app registry with tables of their own, and ``Signal.send`` and its
siblings are wrapped to note each dispatch with its nesting depth.

A dispatch line reads ``<indent><signal> <sender> key=value ...``: two spaces
of indent per nesting level below 1, keyword arguments in Django's order,
``using`` left out (always ``default``), instances written ``Model:pk``,
sets sorted in braces, a queryset as ``QuerySet<Model>``.
"""

from __future__ import annotations

import ast
import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sigcli.scenario import bundled_paths, loaded, run_steps
from sigcli.trace import Recorder, Trace, walk_dispatches

MODEL_SIGNALS = (
    "pre_init",
    "post_init",
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "m2m_changed",
    "class_prepared",
    "pre_migrate",
    "post_migrate",
)
REQUEST_SIGNALS = ("request_started", "request_finished", "got_request_exception")


# -- formatting ---------------------------------------------------------------


def _value(value: Any) -> str:
    """A JSON-safe value (as the trace records it) written compactly."""
    if isinstance(value, dict) and "model" in value and "pk" in value:
        return f"{value['model']}:{value['pk']}"
    if isinstance(value, dict) and set(value) == {"queryset"}:
        return f"QuerySet<{value['queryset']}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def line(signal: str, sender: str | None, depth: int, kwargs: dict[str, Any]) -> str:
    parts = ["  " * (depth - 1) + signal, str(sender)]
    parts += [f"{key}={_value(value)}" for key, value in kwargs.items() if key != "using"]
    return " ".join(parts)


def outcome(calls: list[tuple[str, Any]] | None, error: str | None, sort: bool) -> str:
    """What a dispatch did: ``!! Error`` when the send raised, else each called
    receiver with its result, in call order for sync receivers. Django lists
    async receivers after the sync ones while a trace keeps connection order,
    so mixed dispatches are compared with ``sort``."""
    if error is not None:
        return f" !! {error}"
    if not calls:
        return ""
    ordered = sorted(calls, key=repr) if sort else calls
    return " -> " + ", ".join(f"{name}={_value(result)}" for name, result in ordered)


def _error_name(text: str) -> str:
    return text.split(":", 1)[0]


# -- sigcli -------------------------------------------------------------------


def sigcli_steps(name: str, sort: bool = False) -> list[list[str]]:
    """Each step's dispatches, as sigcli's recorder saw them."""
    path = bundled_paths()[name]
    trace = Trace(scenario=name)
    recorder = Recorder(trace)
    with loaded(path, recorder=recorder) as scenario:
        run_steps(scenario, recorder)
    errors = [(step.label, step.error) for step in trace.steps if step.error]
    assert not errors and not trace.error, (trace.error, errors)
    return [
        [
            line(d.signal, d.sender, d.depth, d.kwargs)
            + outcome(
                [
                    (c.name, _error_name(c.error) if c.error else c.result)
                    for c in d.receivers
                    if c.called
                ],
                _error_name(d.error) if d.error else None,
                sort,
            )
            for d in walk_dispatches(step.children)
        ]
        for step in trace.steps
    ]


# -- Django -------------------------------------------------------------------


def _django_import(module: str, names: list[str]) -> list[ast.stmt]:
    from django.core import signals as request_signals

    statements: list[ast.stmt] = []
    for name in names:
        if module == "sigcli" and name == "models":
            source = "from django.db import models"
        elif module == "sigcli" and name in ("Signal", "receiver"):
            source = f"from django.dispatch import {name}"
        elif module == "sigcli.signals" and hasattr(request_signals, name):
            source = f"from django.core.signals import {name}"
        elif module == "sigcli.signals" and name in MODEL_SIGNALS:
            source = f"from django.db.models.signals import {name}"
        else:
            raise NotDjango(f"{module}.{name}")
        statements.extend(ast.parse(source).body)
    return statements


class NotDjango(Exception):
    """The scenario uses something of sigcli's that Django has no counterpart for."""


def django_source(path: Path) -> ast.Module:
    """The scenario's module with its sigcli imports replaced by Django's."""
    tree = ast.parse(path.read_text())
    body: list[ast.stmt] = []
    for statement in tree.body:
        if isinstance(statement, ast.Import) and [a.name for a in statement.names] == ["sigcli"]:
            continue
        if isinstance(statement, ast.ImportFrom) and (statement.module or "").startswith("sigcli"):
            body.extend(_django_import(statement.module or "", [a.name for a in statement.names]))
            continue
        body.append(statement)
    tree.body = body
    return ast.fix_missing_locations(tree)


class _Steps:
    """Stands in for ``import sigcli``: collects the ``@sigcli.step`` functions."""

    def __init__(self) -> None:
        self.functions: list[Any] = []

    def step(self, function: Any) -> Any:
        self.functions.append(function)
        return function


def _django_safe(value: Any) -> Any:
    """Django values in the shape sigcli's trace gives them."""
    from django.db import models

    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, set | frozenset):
        return sorted((_django_safe(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_django_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _django_safe(v) for k, v in value.items()}
    if isinstance(value, type) and issubclass(value, models.Model):
        return value.__name__
    if isinstance(value, models.Model):
        return {"model": type(value).__name__, "pk": value.pk}
    if isinstance(value, models.QuerySet):
        return {"queryset": value.model.__name__}
    return repr(value)


@contextmanager
def _recording_sends(lines: list[str], names: dict[int, str], sort: bool) -> Iterator[None]:
    from django.dispatch import Signal

    originals = {
        name: getattr(Signal, name) for name in ("send", "send_robust", "asend", "asend_robust")
    }
    depth = [1]

    def note(signal: Any, sender: Any, named: dict[str, Any]) -> int:
        label = None if sender is None else getattr(sender, "__name__", repr(sender))
        lines.append(
            line(
                names.get(id(signal), "?"),
                label,
                depth[0],
                {k: _django_safe(v) for k, v in named.items()},
            )
        )
        return len(lines) - 1

    def settle(
        index: int, responses: list[tuple[Any, Any]] | None, error: BaseException | None
    ) -> None:
        calls = [
            (r.__qualname__, type(v).__name__ if isinstance(v, Exception) else _django_safe(v))
            for r, v in responses or []
        ]
        lines[index] += outcome(calls, None if error is None else type(error).__name__, sort)

    def wrap(name: str) -> Any:
        original = originals[name]

        def sync(self: Any, sender: Any, **named: Any) -> Any:
            index = note(self, sender, named)
            depth[0] += 1
            try:
                responses = original(self, sender, **named)
            except BaseException as error:
                settle(index, None, error)
                raise
            finally:
                depth[0] -= 1
            settle(index, responses, None)
            return responses

        async def asynchronous(self: Any, sender: Any, **named: Any) -> Any:
            index = note(self, sender, named)
            depth[0] += 1
            try:
                responses = await original(self, sender, **named)
            except BaseException as error:
                settle(index, None, error)
                raise
            finally:
                depth[0] -= 1
            settle(index, responses, None)
            return responses

        return asynchronous if name.startswith("a") else sync

    from django.core import signals as request_signals
    from django.db.models import signals as model_signals

    for module in (model_signals, request_signals):
        for name, value in vars(module).items():
            if isinstance(value, Signal):
                names.setdefault(id(value), name)
    try:
        for name in originals:
            setattr(Signal, name, wrap(name))
        yield
    finally:
        for name, original in originals.items():
            setattr(Signal, name, original)


def django_steps(name: str, sort: bool = False) -> list[list[str]]:
    """Each step's dispatches when the scenario's source runs on Django."""
    from django.db import connection
    from django.db.models.signals import class_prepared
    from django.dispatch import Signal
    from django.test.utils import isolate_apps

    path = bundled_paths()[name]
    tree = django_source(path)
    steps = _Steps()
    prefix = f"learn_{name}_"

    def own_table(sender: Any, **kwargs: Any) -> None:
        if not sender._meta.db_table.startswith(prefix):
            sender._meta.db_table = prefix + sender._meta.db_table

    namespace: dict[str, Any] = {"__name__": f"tests.djangoapp.scenario_{name}", "sigcli": steps}
    result: list[list[str]] = []
    with isolate_apps("tests.djangoapp") as apps:
        class_prepared.connect(own_table, weak=False)
        try:
            exec(compile(tree, str(path), "exec"), namespace)
        finally:
            class_prepared.disconnect(own_table)
        created = [m for m in apps.get_models() if not m._meta.proxy]
        signal_names = {id(v): k for k, v in namespace.items() if isinstance(v, Signal)}
        with connection.schema_editor() as editor:
            for model in created:
                editor.create_model(model)
        try:
            for function in steps.functions:
                lines: list[str] = []
                with _recording_sends(lines, signal_names, sort):
                    outcome = function()
                    if asyncio.iscoroutine(outcome):
                        asyncio.run(outcome)
                result.append(lines)
        finally:
            with connection.schema_editor() as editor:
                for model in reversed(created):
                    editor.delete_model(model)
            _disconnect_scenario_receivers(namespace)
    return result


def _disconnect_scenario_receivers(namespace: dict[str, Any]) -> None:
    """Drop every receiver the scenario connected to Django's global signals."""
    from django.core import signals as request_signals
    from django.db.models import signals as model_signals
    from django.dispatch import Signal

    module = namespace["__name__"]
    for source in (model_signals, request_signals):
        for value in vars(source).items():
            signal = value[1]
            if not isinstance(signal, Signal):
                continue
            with signal.lock:
                signal.receivers = [
                    entry
                    for entry in signal.receivers
                    if getattr(_target(entry[1]), "__module__", None) != module
                ]
                signal.sender_receivers_cache.clear()


def _target(reference: Any) -> Any:
    import weakref

    if isinstance(reference, weakref.ReferenceType):
        return reference()
    return reference
