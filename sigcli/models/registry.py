"""Registries: where a scenario's model classes, lazy references and database live.

Every model class is registered in the registry that is current when its
``class`` statement runs (:func:`use_registry`), so two scenarios in one
process never share models, tables or pending string references. Plain
imports use :data:`default_registry`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sigcli.models.db import Database

if TYPE_CHECKING:
    from sigcli.models.base import Model


class AppConfig:
    """The one application of a registry; the sender of ``pre_migrate``/``post_migrate``."""

    def __init__(self, label: str, registry: Registry) -> None:
        self.label = label
        self.name = label
        self.registry = registry

    def get_models(self) -> list[type[Model]]:
        return list(self.registry.models.values())

    def __repr__(self) -> str:
        return f"<AppConfig: {self.label}>"


class Registry:
    """Models by name, operations waiting for models not yet defined, one database."""

    def __init__(self, database: str = ":memory:", label: str = "app") -> None:
        self.label = label
        self.app_config = AppConfig(label, self)
        self.database = database
        self.models: dict[str, type[Model]] = {}
        self._pending: dict[str, list[Callable[[type[Model]], Any]]] = {}
        self._spellings: dict[str, str] = {}
        self._db: Database | None = None
        self._tables_created: set[str] = set()
        self.migrated = False
        self.generation = 0

    @property
    def db(self) -> Database:
        db = self._db
        if db is None:
            db = self._db = Database(self.database)
        return db

    def model_key(self, reference: str) -> str:
        """The lower-case model name of ``"User"`` or ``"app.User"``.

        A scenario is one application, so whatever label a reference carries
        (``"shop.Order"`` copied from a project) names the model of that name.
        """
        return reference.rpartition(".")[2].lower()

    def get_model(self, reference: str) -> type[Model]:
        """The model named ``reference`` (``"User"`` or ``"app.User"``, any case)."""
        model = self.models.get(self.model_key(reference))
        if model is None:
            known = ", ".join(m.__name__ for m in self.models.values()) or "none"
            raise LookupError(f"No model named {reference!r} in this scenario (models: {known}).")
        return model

    def lazy_model_operation(
        self, function: Callable[[type[Model]], Any], reference: str, *, exact_label: bool = False
    ) -> None:
        """Call ``function(model)`` now if ``reference`` is registered, else when it is.

        With ``exact_label`` (a signal's sender string, which Django resolves
        by app label and model name) only a model of that app label answers:
        ``"shop.User"`` waits for ever for a scenario whose ``User`` is in
        ``app``, as it would in a Django project without a ``shop`` app.
        """
        key = self.model_key(reference)
        model = self.models.get(key)
        if exact_label:
            label = reference.partition(".")[0]
            if model is not None and model._meta.app_label != label:
                model = None
            key = f"{label}.{key}"  # what register_model looks up for a labelled model
        if model is not None:
            function(model)
        else:
            self._pending.setdefault(key, []).append(function)
            self._spellings.setdefault(key, reference)

    def pending_references(self) -> list[str]:
        """Model references still waiting for their model (typos, usually)."""
        return [self._spellings.get(key, key) for key in self._pending]

    def register_model(self, model: type[Model]) -> None:
        meta = model._meta
        known = self.models.get(meta.model_name)
        if known is not None and known is not model:
            if (known.__name__, known.__module__) != (model.__name__, model.__module__):
                raise RuntimeError(
                    f"two models named {model.__name__!r} in one scenario: "
                    f"{known.__module__}.{known.__qualname__} and "
                    f"{model.__module__}.{model.__qualname__}; rename one"
                )
            warnings.warn(
                f"model {model.__name__!r} is defined a second time and replaces the "
                "first; relations declared against the first still point to it "
                "(Django warns about this too)",
                RuntimeWarning,
                stacklevel=3,
            )
        self.models[meta.model_name] = model
        self.generation += 1
        if self.migrated:
            self.create_tables(strict=False)
        for key in (meta.model_name, f"{meta.app_label}.{meta.model_name}"):
            for function in self._pending.pop(key, []):
                function(model)

    def create_tables(self, strict: bool = True) -> None:
        """Create the table of every registered concrete model that has none yet.

        Not ``strict`` (a model registered after :meth:`migrate`), a table whose
        foreign keys point at models not yet prepared (the owner of an
        auto-created through model, a later string reference) waits for them.
        """
        db = self.db
        for model in list(self.models.values()):
            meta = model._meta
            if meta.proxy or meta.db_table in self._tables_created:
                continue
            if not strict and not all(_target_ready(f) for f in meta.local_fields if f.is_relation):
                continue
            self._tables_created.add(meta.db_table)
            for statement in meta.create_table_sql():
                db.execute(statement)
            view = meta.view_sql()
            if view is not None:
                db.execute(view)
            meta.table_ready = True
        for model in self.models.values():
            if model._meta.proxy:
                model._meta.table_ready = True

    def ensure_tables(self) -> None:
        """Create missing tables when models are used without :meth:`migrate`."""
        self.create_tables()

    def migrate(self, verbosity: int = 1, interactive: bool = False) -> None:
        """Create the tables, announced by ``pre_migrate`` and ``post_migrate``.

        Both are sent with ``sender=app_config`` and the keyword arguments
        ``app_config``, ``verbosity``, ``interactive``, ``using``, ``stdout``,
        ``apps`` (this registry) and ``plan`` (an empty list: there are no
        migration files), as ``manage.py migrate`` sends them.
        """
        import sys

        from sigcli import signals

        config = self.app_config
        signals.pre_migrate.send(
            sender=config,
            app_config=config,
            verbosity=verbosity,
            interactive=interactive,
            using="default",
            stdout=sys.stdout,
            apps=self,
            plan=[],
        )
        self.create_tables()
        self.migrated = True
        signals.post_migrate.send(
            sender=config,
            app_config=config,
            verbosity=verbosity,
            interactive=interactive,
            using="default",
            stdout=sys.stdout,
            apps=self,
            plan=[],
        )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __repr__(self) -> str:
        return f"<Registry {self.label!r}: {len(self.models)} models, {self.database}>"


def _target_ready(field: Any) -> bool:
    remote = field.remote_model
    return remote is not None and remote._meta.pk is not None


default_registry = Registry()
_current = default_registry


def get_registry() -> Registry:
    """The registry new model classes and lazy references go to."""
    return _current


@contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Make ``registry`` current for the block (nestable)."""
    global _current
    previous = _current
    _current = registry
    try:
        yield registry
    finally:
        _current = previous
