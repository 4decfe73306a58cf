"""Run one scenario on real Django and on sigcli and compare the signals sent.

A scenario is a function ``ops(w)`` written once against a :class:`World`:
``w.Author`` is the world's ``Author`` model, ``w.record()`` connects the
recording receiver, ``w.connect(...)`` adds a receiver of the scenario's own.
Every recorded signal becomes one line of text such as::

    post_save Book instance=Book#1 created=True update_fields=None raw=False using='default'

with the keyword arguments in the order the receiver got them, instances
written as their model name and the pk they had at send time, model classes
by name, sets sorted (and tagged ``set``/``frozenset``), querysets as
``QuerySet<Model>``. Signals sent while a scenario receiver runs are indented
one level deeper per receiver.

Django runs on the in-memory database configured in ``tests/conftest.py``,
emptied (rows and AUTOINCREMENT sequences) before every scenario, so that pks
agree with sigcli's fresh registry.
"""

from __future__ import annotations

import datetime
import difflib
import enum
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests.models.diff_schema import declare

MODEL_SIGNALS = (
    "pre_init",
    "post_init",
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "m2m_changed",
)


class World:
    """One side of a differential run: its models, signals and recording."""

    def __init__(
        self,
        name: str,
        models: Any,
        signals: Any,
        classes: dict[str, type],
        app_label: str,
        transaction: Any,
    ) -> None:
        self.name = name
        self.app_label = app_label
        self.transaction = transaction
        self.models = models
        self.classes = classes
        self.events: list[str] = []
        self._signals = {
            name: getattr(signals, name) for name in (*MODEL_SIGNALS, "class_prepared")
        }
        self._signal_names = {id(signal): name for name, signal in self._signals.items()}
        self._deferred = getattr(models, "DEFERRED", None)
        self._depth = 0
        self._scenario_apps: Any = None
        self._connected: list[tuple[Any, Callable[..., Any], Any]] = []

    def __getattr__(self, name: str) -> type:
        try:
            return self.classes[name]
        except KeyError:
            raise AttributeError(name) from None

    def meta(self, **options: Any) -> type:
        """An inner ``Meta`` for a model declared during a scenario.

        Django's get an app label and a private app registry, so that they
        never join the test app's models.
        """
        if self.name == "django":
            if self._scenario_apps is None:
                from django.apps.registry import Apps

                self._scenario_apps = Apps()
            options.setdefault("app_label", self.app_label)
            options.setdefault("apps", self._scenario_apps)
        return type("Meta", (), options)

    @contextmanager
    def declaring(self) -> Iterator[None]:
        """Declare models before any table exists: sigcli gets a fresh registry for the block."""
        if self.name == "django":
            yield
            return
        with self.models.use_registry(self.models.Registry()):
            yield

    def ref(self, model_name: str) -> str:
        """The lazy ``"app_label.Model"`` reference to a model of this world."""
        return f"{self.app_label}.{model_name}"

    def record(self, signals: tuple[str, ...] = MODEL_SIGNALS, sender: type | None = None) -> None:
        """Connect the recording receiver to ``signals``, for ``sender`` or for all senders."""
        for name in signals:
            self._connect(self._signals[name], self._record, sender)

    def connect(
        self, signal: str, func: Callable[..., Any], sender: type | str | None = None
    ) -> None:
        """Connect a scenario receiver; signals it causes are recorded one level deeper."""

        def nested(sender: Any, **kwargs: Any) -> Any:
            self._depth += 1
            try:
                return func(sender, **kwargs)
            finally:
                self._depth -= 1

        self._connect(self._signals[signal], nested, sender)

    def note(self, label: str, value: Any) -> None:
        """Record a value the scenario computed (a return value, a row count)."""
        self.events.append(f"{'  ' * self._depth}= {label}: {self.norm(value)}")

    def raises(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``func`` and record the name of the exception it raises (or that it raised none)."""
        self._call(func, args, kwargs, with_message=False)

    def raises_with_message(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """As :meth:`raises`, recording the message too, with the app label written ``<app>``."""
        self._call(func, args, kwargs, with_message=True)

    def _call(
        self, func: Callable[..., Any], args: Any, kwargs: Any, *, with_message: bool
    ) -> None:
        try:
            func(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the type is what is compared
            text = type(error).__name__
            if with_message:
                text += ": " + str(error).replace(self.app_label, "<app>")
            self.events.append(f"{'  ' * self._depth}! {text}")
        else:
            self.events.append(f"{'  ' * self._depth}! no exception")

    def disconnect_all(self) -> None:
        for signal, func, sender in reversed(self._connected):
            signal.disconnect(func, sender=sender)
        self._connected.clear()

    def _connect(self, signal: Any, func: Callable[..., Any], sender: Any) -> None:
        self._connected.append((signal, func, sender))
        signal.connect(func, sender=sender, weak=False)

    def _record(self, sender: Any, signal: Any, **kwargs: Any) -> None:
        name = self._signal_names[id(signal)]
        args = " ".join(f"{key}={self.norm(value)}" for key, value in kwargs.items())
        self.events.append(f"{'  ' * self._depth}{name} {self.norm(sender)} {args}".rstrip())

    def norm(self, value: Any) -> str:
        """Write ``value`` as comparable text, the same way in both worlds."""
        base = self.models.Model
        if isinstance(value, base):
            return f"{type(value).__name__}#{value.pk!r}"
        if isinstance(value, type):
            return value.__name__
        if self._deferred is not None and value is self._deferred:
            return "<deferred>"
        if isinstance(value, (set, frozenset)):
            items = sorted((self.norm(item) for item in value), key=_natural)
            return f"{type(value).__name__}({', '.join(items)})"
        if isinstance(value, tuple):
            inner = ", ".join(self.norm(item) for item in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, list):
            return f"[{', '.join(self.norm(item) for item in value)}]"
        if isinstance(value, dict):
            pairs = ", ".join(f"{self.norm(k)}: {self.norm(v)}" for k, v in value.items())
            return f"{{{pairs}}}"
        if isinstance(value, datetime.datetime):
            return "<datetime>"
        if isinstance(value, enum.Enum):
            return f"{type(value).__name__}.{value.name}"
        if hasattr(value, "model") and hasattr(type(value), "filter"):
            return f"QuerySet<{value.model.__name__}>"
        if value is None or isinstance(value, (bool, int, float, str)):
            return repr(value)
        return f"<{type(value).__name__}>"


def _natural(text: str) -> tuple[int, int | str]:
    """Sort numbers numerically and everything else as text."""
    return (0, int(text)) if text.lstrip("-").isdigit() else (1, text)


def label_counts(counts: dict[str, int]) -> dict[str, int]:
    """Key a delete() count dict by model name: app labels differ between the worlds."""
    return {label.rsplit(".", 1)[-1]: n for label, n in counts.items()}


@contextmanager
def django_world() -> Iterator[World]:
    """Django's models on an emptied database."""
    from django.apps import apps
    from django.db import connection, models, transaction
    from django.db.models import signals

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys = OFF")
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'DELETE FROM "{table}"')
        cursor.execute("DELETE FROM sqlite_sequence")
        cursor.execute("PRAGMA foreign_keys = ON")
    classes = {m.__name__: m for m in apps.get_app_config("djangoapp").get_models()}
    world = World("django", models, signals, classes, "djangoapp", transaction)
    try:
        yield world
    finally:
        world.disconnect_all()


@contextmanager
def sigcli_world() -> Iterator[World]:
    """The same models declared in a fresh sigcli registry."""
    from sigcli import models, signals

    registry = models.Registry()
    try:
        with models.use_registry(registry):
            classes = declare(models)
            registry.migrate()
            world = World("sigcli", models, signals, classes, registry.label, models.transaction)
            try:
                yield world
            finally:
                world.disconnect_all()
    finally:
        registry.close()


def run(world_factory: Callable[[], Any], ops: Callable[[World], Any], record: bool) -> list[str]:
    """Run ``ops`` in one world and return its events; an escaping exception ends the list."""
    with world_factory() as world:
        if record:
            world.record()
        try:
            ops(world)
        except Exception as error:  # noqa: BLE001 - reported as the last event
            world.events.append(f"!! {type(error).__name__}: {error}")
            world.events.append("".join(traceback.format_exception(error)))
        return world.events


def django_events(ops: Callable[[World], Any], record: bool = True) -> list[str]:
    return run(django_world, ops, record)


def sigcli_events(ops: Callable[[World], Any], record: bool = True) -> list[str]:
    return run(sigcli_world, ops, record)


def assert_same(
    ops: Callable[[World], Any], expected: list[str] | None = None, record: bool = True
) -> None:
    """Django must send ``expected`` (when given), and sigcli exactly what Django sends.

    ``record=False`` leaves connecting the recorder to ``ops`` (to place it
    among the scenario's own receivers, or to listen to fewer signals).
    """
    reference = django_events(ops, record)
    if expected is not None:
        assert reference == expected, _diff(expected, reference, "expected", "django")
    got = sigcli_events(ops, record)
    assert got == reference, _diff(reference, got, "django", "sigcli")


def _diff(before: list[str], after: list[str], before_name: str, after_name: str) -> str:
    lines = difflib.unified_diff(before, after, before_name, after_name, lineterm="", n=3)
    return "signals differ:\n" + "\n".join(lines)
