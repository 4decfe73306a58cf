"""The sqlite3 connection of one registry, and the database exceptions.

The connection runs in autocommit mode; :meth:`Database.atomic` opens a
transaction, or a savepoint when one is already open, so that every ORM
operation that writes several statements leaves the database unchanged when
it fails. Foreign keys are enforced and checked at commit, as Django
configures SQLite.
"""

from __future__ import annotations

import decimal
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sigcli.models import observe as _observe
from sigcli.text import QueriesForbidden, describing

# Values that reach a statement without a field's conversion (a pk in a
# DELETE, an id in a many-to-many filter) are written as their fields store them.
sqlite3.register_adapter(decimal.Decimal, str)
sqlite3.register_adapter(uuid.UUID, lambda value: value.hex)


class DatabaseError(Exception):
    """A statement failed in the database."""


class IntegrityError(DatabaseError):
    """A constraint (NOT NULL, UNIQUE, FOREIGN KEY) was violated."""


class TransactionManagementError(DatabaseError):
    """A statement was sent in an atomic block that an earlier error marked for rollback."""


class NotSupportedError(DatabaseError, AttributeError):
    """A Django feature sigcli's own engine leaves out; the message says what runs it.

    An AttributeError too, so that ``hasattr(queryset, "annotate")`` stays False."""


def not_supported(feature: str) -> NotSupportedError:
    return NotSupportedError(
        f"{feature} is not supported by sigcli's own engine; `sigcli run --engine django` "
        "runs the scenario on Django, which has it."
    )


class OperationalError(DatabaseError):
    """The database could not run the statement (missing table, bad SQL)."""


def _translate(error: sqlite3.Error) -> DatabaseError:
    if isinstance(error, sqlite3.IntegrityError):
        return IntegrityError(*error.args)
    if isinstance(error, sqlite3.OperationalError):
        return OperationalError(*error.args)
    return DatabaseError(*error.args)


def _run_callback(func: Callable[[], Any], robust: bool) -> None:
    if not robust:
        func()
        return
    try:
        func()
    except Exception as error:  # noqa: BLE001 - robust callbacks log and carry on, as in Django
        logging.getLogger("sigcli.db").error(
            "Error calling %s in on_commit() (%s).",
            getattr(func, "__qualname__", func),
            error,
            exc_info=True,
        )


class Database:
    """One sqlite3 connection: statements reported to the ORM observer, nested transactions."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA foreign_keys = ON")
        self._depth = 0
        self.needs_rollback = False
        self.rollback_exc: BaseException | None = None
        self._on_commit: list[tuple[int, Callable[[], Any], bool]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if self.needs_rollback and self._depth:
            raise TransactionManagementError(
                "An error occurred in the current transaction. You can't execute queries until "
                "the end of the 'atomic' block."
            ) from self.rollback_exc
        if describing():
            raise QueriesForbidden(sql)
        observer = _observe.current
        if observer is not None:
            observer.sql_executed(sql, tuple(params))
        try:
            return self.connection.execute(sql, params)
        except sqlite3.Error as error:
            raise _translate(error) from error

    @contextmanager
    def atomic(self, savepoint: bool = True) -> Iterator[None]:
        """A transaction, or inside one a savepoint (or, ``savepoint=False``, nothing).

        As in Django: a block that raises is rolled back to its savepoint; one
        without a savepoint leaves the enclosing block marked for rollback, as
        does an error reported through :meth:`error_passed`; a
        marked block refuses further statements and rolls back when it ends.
        """
        depth = self._depth
        name = f'"s{depth}"' if depth and savepoint else None
        if not depth:
            self._control("BEGIN")
        elif name is not None:
            self._control(f"SAVEPOINT {name}")
        self._depth = depth + 1
        try:
            yield
        except BaseException as error:
            self._depth = depth
            self._roll_back(depth, name, error)
            raise
        self._depth = depth
        if self.needs_rollback:
            self._roll_back(depth, name, self.rollback_exc)
            return
        self._on_commit = [(min(level, depth), f, r) for level, f, r in self._on_commit]
        if depth:
            if name is not None:
                self._control(f"RELEASE SAVEPOINT {name}")
            return
        try:
            self._control("COMMIT")
        except DatabaseError:
            self._on_commit = []
            self._control("ROLLBACK")
            raise
        callbacks, self._on_commit = self._on_commit, []
        for _, func, robust in callbacks:
            _run_callback(func, robust)

    def _roll_back(self, depth: int, name: str | None, error: BaseException | None) -> None:
        self.needs_rollback = False
        if depth and name is None:
            self.needs_rollback = True
            self.rollback_exc = error
            self._on_commit = [(min(level, depth), f, r) for level, f, r in self._on_commit]
            return
        self._on_commit = [entry for entry in self._on_commit if entry[0] <= depth]
        if depth:
            self._control(f"ROLLBACK TO SAVEPOINT {name}")
            self._control(f"RELEASE SAVEPOINT {name}")
        else:
            self._control("ROLLBACK")

    def error_passed(self, error: Exception) -> None:
        """An ORM write failed: inside an atomic block, mark it for rollback (Django's
        ``mark_for_rollback_on_error``, around saves, updates and single deletes)."""
        if self._depth:
            self.needs_rollback = True
            self.rollback_exc = error

    def _control(self, sql: str) -> None:
        """A transaction statement: reported, and allowed in a block marked for rollback."""
        observer = _observe.current
        if observer is not None:
            observer.sql_executed(sql, ())
        try:
            self.connection.execute(sql)
        except sqlite3.Error as error:
            raise _translate(error) from error

    def on_commit(self, func: Callable[[], Any], robust: bool = False) -> None:
        """Run ``func`` after the outermost transaction commits (now, outside one);
        forget it if the block that registered it rolls back."""
        if not self._depth:
            _run_callback(func, robust)
        else:
            self._on_commit.append((self._depth, func, robust))

    def close(self) -> None:
        self.connection.close()
