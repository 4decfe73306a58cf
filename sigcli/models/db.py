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

# Values that reach a statement without a field's conversion (a pk in a
# DELETE, an id in a many-to-many filter) are written as their fields store them.
sqlite3.register_adapter(decimal.Decimal, str)
sqlite3.register_adapter(uuid.UUID, lambda value: value.hex)


class DatabaseError(Exception):
    """A statement failed in the database."""


class IntegrityError(DatabaseError):
    """A constraint (NOT NULL, UNIQUE, FOREIGN KEY) was violated."""


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
            "Error calling %s in on_commit() (%s).", getattr(func, "__qualname__", func), error, exc_info=True
        )


class Database:
    """One sqlite3 connection: statements reported to the ORM observer, nested transactions."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA foreign_keys = ON")
        self._depth = 0
        self._on_commit: list[tuple[int, Callable[[], Any], bool]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        if _observe.describing():
            raise _observe.QueriesForbidden(sql)
        observer = _observe.current
        if observer is not None:
            observer.sql_executed(sql, tuple(params))
        try:
            return self.connection.execute(sql, params)
        except sqlite3.Error as error:
            raise _translate(error) from error

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """A transaction, or a savepoint inside one; rolled back if the block raises."""
        depth = self._depth
        if depth:
            name = f'"s{depth}"'
            self.execute(f"SAVEPOINT {name}")
        else:
            self.execute("BEGIN")
        self._depth = depth + 1
        try:
            yield
        except BaseException:
            self._depth = depth
            self._on_commit = [entry for entry in self._on_commit if entry[0] <= depth]
            if depth:
                self.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self.execute(f"RELEASE SAVEPOINT {name}")
            else:
                self.execute("ROLLBACK")
            raise
        self._depth = depth
        if depth:
            self.execute(f"RELEASE SAVEPOINT {name}")
            self._on_commit = [(min(level, depth), f, r) for level, f, r in self._on_commit]
            return
        try:
            self.execute("COMMIT")
        except DatabaseError:
            self._on_commit = []
            self.execute("ROLLBACK")
            raise
        callbacks, self._on_commit = self._on_commit, []
        for _, func, robust in callbacks:
            _run_callback(func, robust)

    def on_commit(self, func: Callable[[], Any], robust: bool = False) -> None:
        """Run ``func`` after the outermost transaction commits (now, outside one);
        forget it if the block that registered it rolls back."""
        if not self._depth:
            _run_callback(func, robust)
        else:
            self._on_commit.append((self._depth, func, robust))

    def close(self) -> None:
        self.connection.close()
