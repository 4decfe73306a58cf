"""The ORM observer: who wants to hear about ORM calls and SQL statements.

One observer at a time, installed with :func:`observe_orm`. Every entry point
checks the single module global :data:`current`; with nobody observing that
check is the whole cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

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
    observer: OrmObserver, label: str, model: str | None, func: Callable[..., T], *args: Any, **kwargs: Any
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


def safe_repr(value: object) -> str:
    """``repr(value)``, or a stand-in when the user's ``__str__``/``__repr__`` raises:
    describing a call must never break the call."""
    try:
        return repr(value)
    except Exception as error:  # noqa: BLE001 - any failure of user code
        return f"<{type(value).__name__} (repr failed: {type(error).__name__})>"


def call_label(prefix: str, method: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> str:
    """Write a call as it reads in code: ``prefix.method(arg, key=value)``."""
    parts = [safe_repr(arg) for arg in args]
    if kwargs:
        parts.extend(f"{key}={safe_repr(value)}" for key, value in kwargs.items())
    return f"{prefix}.{method}({', '.join(parts)})"
