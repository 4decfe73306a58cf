"""The ORM observer: who wants to hear about ORM calls and SQL statements.

One observer at a time, installed with :func:`observe_orm`. Every entry point
checks the single module global :data:`current`; with nobody observing that
check is the whole cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sigcli.text import safe_repr

T = TypeVar("T")


class OrmObserver(Protocol):
    def operation_started(self, label: str, model: str | None) -> None: ...
    def operation_finished(self, error: BaseException | None) -> None: ...
    def sql_executed(self, sql: str, params: tuple[object, ...]) -> None: ...


current: OrmObserver | None = None


@contextmanager
def observe_orm(observer: OrmObserver | None) -> Iterator[OrmObserver | None]:
    """Install ``observer`` for the duration of the block, restoring the previous one."""
    global current
    previous = current
    current = observer
    try:
        yield observer
    finally:
        current = previous


def operation(
    observer: OrmObserver,
    label: str,
    model: str | None,
    func: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run ``func`` reported as one operation, its error (if any) included."""
    observer.operation_started(label, model)
    try:
        result = func(*args, **kwargs)
    except BaseException as error:
        observer.operation_finished(error)
        raise
    observer.operation_finished(None)
    return result


def call_label(
    prefix: str, method: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> str:
    """Write a call as it reads in code: ``prefix.method(arg, key=value)``."""
    parts = [safe_repr(arg) for arg in args]
    if kwargs:
        parts.extend(f"{key}={safe_repr(value)}" for key, value in kwargs.items())
    return f"{prefix}.{method}({', '.join(parts)})"


def async_variants(cls: type, names: tuple[str, ...]) -> None:
    """Add Django's ``a``-prefixed coroutine twin of each method (``acreate``, ``asave``...).

    Django runs them through ``sync_to_async``; here they run inline, which
    sends the same signals in the same order.
    """
    for name in names:

        def make(method_name: str) -> Callable[..., Any]:
            async def variant(self: Any, *args: Any, **kwargs: Any) -> Any:
                return getattr(self, method_name)(*args, **kwargs)

            variant.__name__ = variant.__qualname__ = f"a{method_name}"
            return variant

        setattr(cls, f"a{name}", make(name))
