"""Django's transaction API (``atomic``, ``on_commit``) on the current registry's database.

``from sigcli.models import transaction`` then reads as Django code does:
``with transaction.atomic(): ...`` and ``transaction.on_commit(send_mail)``.
A callback registered by a receiver while a delete or an m2m change runs
(both are transactions) waits for that transaction's commit, as in Django.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ContextDecorator
from typing import Any

from sigcli.models.db import TransactionManagementError
from sigcli.models.registry import get_registry


class Atomic(ContextDecorator):
    """A transaction (a savepoint when nested); rolled back if the block raises."""

    def __init__(self, savepoint: bool = True) -> None:
        self.savepoint = savepoint
        self._blocks: list[Any] = []

    def __enter__(self) -> None:
        block = get_registry().db.atomic(self.savepoint)
        block.__enter__()
        self._blocks.append(block)

    def __exit__(self, *exc_info: Any) -> bool | None:
        return self._blocks.pop().__exit__(*exc_info)  # type: ignore[no-any-return]


def atomic(using: Any = None, savepoint: bool = True, durable: bool = False) -> Any:
    """``@atomic``, ``@atomic()`` or ``with atomic():``."""
    if callable(using):
        return Atomic()(using)
    return Atomic(savepoint)


def on_commit(func: Callable[[], Any], using: str | None = None, robust: bool = False) -> None:
    """Call ``func`` once the current transaction commits (at once outside a transaction)."""
    get_registry().db.on_commit(func, robust)


__all__ = ["Atomic", "TransactionManagementError", "atomic", "on_commit"]
