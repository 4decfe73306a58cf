"""Django's ORM as a trace shows it: ``operation`` nodes for the calls that
write (``save``, ``delete``, a queryset's ``create``, ``update``,
``bulk_create``..., a related manager's ``add``/``remove``/``set``/``clear``/
``create``), ``sql`` nodes through ``connection.execute_wrapper``, and a
guard that keeps describing a value from querying.

The guard matters for fidelity: a trace keeps the ``repr`` of each model
instance sent, and a ``__str__`` that reads an unloaded relation would run
a query (and send ``pre_init``/``post_init``) that Django alone would not.
While :func:`sigcli.text.safe_repr` runs, Django's compiler refuses to
execute, before a cursor is opened or the query is logged, and the
instance is shown as ``<Model: Model object (pk)>``, as on sigcli's engine.

These patches go on when the modules they patch have been imported (at
install, or at the first send after), and come off at uninstall.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sigcli.text import QueriesForbidden, describing, safe_repr


def call_label(prefix: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A call as it reads in code: ``prefix.method(arg, key=value)``."""
    parts = [safe_repr(arg) for arg in args]
    parts.extend(f"{key}={safe_repr(value)}" for key, value in kwargs.items())
    return f"{prefix}.{method}({', '.join(parts)})"


# -- what the patches do; ``observer`` hands in who is observing ---------------------


#: Set by the observer: a function giving the journal that the current
#: context writes to (or None), and whether it wants SQL.
def _nobody() -> tuple[Any, bool] | None:
    return None


current: Callable[[], tuple[Any, bool] | None] = _nobody


def _reporting(
    original: Callable[..., Any], describe: Callable[..., tuple[str, str | None]]
) -> Callable[..., Any]:
    """``original`` reported as one operation when a journal that takes ORM
    calls (a recorder) is observing."""

    @functools.wraps(original)
    def operation(*args: Any, **kwargs: Any) -> Any:
        found = current()
        started = getattr(found[0], "operation_started", None) if found else None
        if started is None:
            return original(*args, **kwargs)
        label, model = describe(*args, **kwargs)
        journal = found[0]  # type: ignore[index]
        started(label, model)
        try:
            result = original(*args, **kwargs)
        except BaseException as error:
            journal.operation_finished(error)
            raise
        journal.operation_finished(None)
        return result

    operation.__sigcli_original__ = original  # type: ignore[attr-defined]
    return operation


def _instance_call(method: str) -> Callable[..., tuple[str, str | None]]:
    def describe(instance: Any, *args: Any, **kwargs: Any) -> tuple[str, str | None]:
        model = type(instance).__name__
        return call_label(model.lower(), method, args, kwargs), model

    return describe


def _queryset_call(method: str) -> Callable[..., tuple[str, str | None]]:
    def describe(queryset: Any, *args: Any, **kwargs: Any) -> tuple[str, str | None]:
        model = getattr(queryset.model, "__name__", None)
        query = getattr(queryset, "query", None)
        filtered = query is not None and (bool(query.where) or query.is_sliced)
        prefix = f"{model}.objects" + (".filter(…)" if filtered else "")
        return call_label(prefix, method, args, kwargs), model

    return describe


def _related_call(accessor: str, method: str) -> Callable[..., tuple[str, str | None]]:
    def describe(manager: Any, *args: Any, **kwargs: Any) -> tuple[str, str | None]:
        owner = type(manager.instance).__name__.lower()
        return call_label(f"{owner}.{accessor}", method, args, kwargs), manager.model.__name__

    return describe


_QUERYSET_METHODS = (
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
)
_RELATED_METHODS = ("add", "remove", "set", "clear", "create")


def _patch_related_factory(original: Callable[..., Any], accessor_of: Callable[..., str]) -> Any:
    """Wrap a related-manager factory so that the classes it makes (one per
    relation, made when the relation is first used) report their writes."""

    @functools.wraps(original)
    def factory(*args: Any, **kwargs: Any) -> Any:
        cls = original(*args, **kwargs)
        accessor = accessor_of(*args, **kwargs)
        for name in _RELATED_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not hasattr(method, "__sigcli_original__"):
                setattr(cls, name, _reporting(method, _related_call(accessor, name)))
        return cls

    return factory


def _reverse_accessor(superclass: Any, rel: Any) -> str:
    return str(rel.get_accessor_name())


def _m2m_accessor(superclass: Any, rel: Any, reverse: bool) -> str:
    return str(rel.get_accessor_name() if reverse else rel.field.name)


def _guarded(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def execute_sql(self: Any, *args: Any, **kwargs: Any) -> Any:
        if describing():
            raise QueriesForbidden("a query while describing a value for the trace")
        return original(self, *args, **kwargs)

    return execute_sql


def _sql_recorder(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    """An ``execute_wrapper``: the statement goes into the trace, then runs."""
    found = current()
    if found is not None and found[1]:
        executed = getattr(found[0], "sql_executed", None)
        if executed is not None:
            shown = params if isinstance(params, list | tuple) else ()
            executed(sql, tuple(shown))
    return execute(sql, params, many, context)


def _with_sql(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_connection(self: Any, alias: str) -> Any:
        connection = original(self, alias)
        connection.execute_wrappers.append(_sql_recorder)
        return connection

    return create_connection


def patches() -> list[tuple[str, str, str | None, str, Callable[[Any], Any]]]:
    """``(module, class or None for a module function, attribute, maker)``
    for every patch of this module; each is applied once ``module`` is loaded."""
    found: list[tuple[str, str, str | None, str, Callable[[Any], Any]]] = []
    for name in ("save", "delete"):
        found.append(
            ("model", "django.db.models.base", "Model", name, _maker(_instance_call(name)))
        )
    for name in _QUERYSET_METHODS:
        found.append(
            ("model", "django.db.models.query", "QuerySet", name, _maker(_queryset_call(name)))
        )
    descriptors = "django.db.models.fields.related_descriptors"
    found.append(
        (
            "model",
            descriptors,
            None,
            "create_reverse_many_to_one_manager",
            lambda f: _patch_related_factory(f, _reverse_accessor),
        )
    )
    found.append(
        (
            "model",
            descriptors,
            None,
            "create_forward_many_to_many_manager",
            lambda f: _patch_related_factory(f, _m2m_accessor),
        )
    )
    found.append(("guard", "django.db.models.sql.compiler", "SQLCompiler", "execute_sql", _guarded))
    found.append(("sql", "django.db.utils", "ConnectionHandler", "create_connection", _with_sql))
    return found


def _maker(
    describe: Callable[..., tuple[str, str | None]],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return lambda original: _reporting(original, describe)


def add_sql_recorder(connections: Any) -> list[Any]:
    """Record SQL on the connections this thread has opened already (new
    ones get the wrapper when they are made); returns them, to undo."""
    touched = []
    for connection in connections.all(initialized_only=True):
        if _sql_recorder not in connection.execute_wrappers:
            connection.execute_wrappers.append(_sql_recorder)
            touched.append(connection)
    return touched


def remove_sql_recorder(connections: list[Any]) -> None:
    for connection in connections:
        while _sql_recorder in connection.execute_wrappers:
            connection.execute_wrappers.remove(_sql_recorder)
