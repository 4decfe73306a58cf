"""Scenarios against a user's Django project: ``--settings PROJECT.settings``.

The project is set up as ``manage.py`` sets it up, then its test databases
are created (migrations and all) the way Django's test runner creates them,
and destroyed after the run. sigcli writes only to a database it knows to be
scratch: one made here for the run, or SQLite in memory; anything else is
refused before the first table is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sigcli.djangoengine.configure import DjangoSetupError, configure_project

#: Aliases whose database was created by :func:`test_databases` for this run.
_scratch: set[str] = set()


class NotATestDatabase(Exception):
    """A scenario was about to write to a database that is not a test database."""


@contextmanager
def test_databases(settings_module: str, report: Callable[[str], Any]) -> Iterator[None]:
    """The project set up, on a test database for ``default`` created for the
    block and destroyed after it, as ``manage.py test`` does; ``report`` is
    told which. Queries to the other databases are refused meanwhile, as
    Django's test cases refuse databases they did not ask for."""
    configure_project(settings_module)
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    real = connections[DEFAULT_DB_ALIAS].settings_dict.get("NAME")
    setup_test_environment()
    try:
        try:
            created = setup_databases(verbosity=0, interactive=False, aliases={DEFAULT_DB_ALIAS})
        except Exception as error:
            raise DjangoSetupError(
                f"--settings {settings_module}: Django could not create the test database: "
                f"{type(error).__name__}: {error}"
            ) from None
        try:
            _scratch.add(DEFAULT_DB_ALIAS)
            name = connections[DEFAULT_DB_ALIAS].settings_dict.get("NAME")
            report(
                f"sigcli: database {DEFAULT_DB_ALIAS!r} is the test database {name!r}, created "
                f"for this run and destroyed after it; {real!r} is not written to."
            )
            with ExitStack() as stack:
                for alias in connections:
                    if alias != DEFAULT_DB_ALIAS:
                        stack.enter_context(connections[alias].execute_wrapper(_refused(alias)))
                yield
        finally:
            _scratch.discard(DEFAULT_DB_ALIAS)
            teardown_databases(created, verbosity=0)
    finally:
        teardown_test_environment()


def _refused(alias: str) -> Callable[..., Any]:
    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise NotATestDatabase(
            f"a query to database {alias!r}: sigcli makes a test database for 'default' "
            "only, and never queries a database that is not a test database."
        )

    return refuse


def check_scratch(alias: str) -> None:
    """Refuse to write to ``alias`` unless it is a test database of this run or
    SQLite in memory (sigcli's own set-up)."""
    from django.db import connections

    connection = connections[alias]
    in_memory = getattr(connection, "is_in_memory_db", None)
    if alias in _scratch or (in_memory is not None and in_memory()):
        return
    raise NotATestDatabase(
        f"database {alias!r} ({connection.settings_dict.get('NAME')!r}) is not a test "
        "database; sigcli writes only to test databases. Pass --settings PROJECT.settings "
        "so that sigcli creates one."
    )
