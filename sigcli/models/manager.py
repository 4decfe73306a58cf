"""Managers: ``Model.objects`` and friends, the entry points to querysets.

A manager is bound to the class it is read from, so a proxy's or an
abstract base's inherited ``objects`` returns instances of that very class.
"""

from __future__ import annotations

import copy
import inspect
from typing import TYPE_CHECKING, Any

from sigcli.models import observe as _observe
from sigcli.models.db import not_supported
from sigcli.models.query import DJANGO_ONLY_METHODS, QuerySet

if TYPE_CHECKING:
    from sigcli.models.base import Model


def _proxy(name: str) -> Any:
    def method(self: Manager, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.get_queryset(), name)(*args, **kwargs)

    method.__name__ = name
    return method


class ManagerDescriptor:
    """``Model.objects``: the manager, bound to the class it is read from."""

    def __init__(self, manager: Manager) -> None:
        self.manager = manager

    def __get__(self, instance: Any, owner: type[Model]) -> Manager:
        if instance is not None:
            raise AttributeError(f"Manager isn't accessible via {owner.__name__} instances")
        key = f"_bound_manager_{self.manager.name}"
        bound = owner.__dict__.get(key)
        if bound is None:
            bound = copy.copy(self.manager)
            bound.model = owner
            type.__setattr__(owner, key, bound)
        return bound  # type: ignore[no-any-return]


class Manager:
    """The entry point to a model's querysets; subclass and override ``get_queryset``."""

    model: type[Model]
    _queryset_class: type[QuerySet] = QuerySet

    @classmethod
    def from_queryset(cls, queryset_class: type[QuerySet], class_name: str | None = None) -> type:
        """A manager class whose querysets are ``queryset_class`` and which offers its
        public methods (those not named with ``_``, unless ``queryset_only`` says otherwise)."""
        methods: dict[str, Any] = {"_queryset_class": queryset_class}
        for name, method in inspect.getmembers(queryset_class, predicate=inspect.isfunction):
            if hasattr(cls, name):
                continue
            queryset_only = getattr(method, "queryset_only", None)
            if queryset_only or (queryset_only is None and name.startswith("_")):
                continue
            methods[name] = _proxy(name)
        name = class_name or f"{cls.__name__}From{queryset_class.__name__}"
        return type(name, (cls,), methods)

    def __init__(self) -> None:
        self.name = "objects"
        self.model = None  # type: ignore[assignment]

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        self.name = name
        self.model = cls
        setattr(cls, name, ManagerDescriptor(self))
        cls._manager_names = (*cls._manager_names, name)

    def __getattr__(self, name: str) -> Any:
        if name in DJANGO_ONLY_METHODS:
            raise not_supported(f"Manager.{name}()")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_queryset(self) -> QuerySet:
        return self._queryset_class(self.model, f"{self.model.__name__}.{self.name}")

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__}: {self.model.__name__}.{self.name}>"
            if self.model
            else "<Manager>"
        )

    def all(self) -> QuerySet:
        """The manager's queryset itself, not a copy: a related manager's prefetched rows stay."""
        return self.get_queryset()

    def filter(self, *args: Any, **kwargs: Any) -> QuerySet:
        return self.get_queryset().filter(*args, **kwargs)

    def exclude(self, *args: Any, **kwargs: Any) -> QuerySet:
        return self.get_queryset().exclude(*args, **kwargs)

    def none(self) -> QuerySet:
        return self.get_queryset().none()

    def order_by(self, *field_names: str) -> QuerySet:
        return self.get_queryset().order_by(*field_names)

    def select_related(self, *fields: Any) -> QuerySet:
        return self.get_queryset().select_related(*fields)

    def select_for_update(self, **options: Any) -> QuerySet:
        return self.get_queryset().select_for_update(**options)

    def prefetch_related(self, *lookups: Any) -> QuerySet:
        return self.get_queryset().prefetch_related(*lookups)

    def values_list(self, *fields: str, flat: bool = False) -> QuerySet:
        return self.get_queryset().values_list(*fields, flat=flat)

    def values(self, *fields: str) -> QuerySet:
        return self.get_queryset().values(*fields)

    def only(self, *fields: str) -> QuerySet:
        return self.get_queryset().only(*fields)

    def reverse(self) -> QuerySet:
        return self.get_queryset().reverse()

    def distinct(self) -> QuerySet:
        return self.get_queryset().distinct()

    def defer(self, *fields: str) -> QuerySet:
        return self.get_queryset().defer(*fields)

    def using(self, alias: str | None) -> QuerySet:
        return self.get_queryset().using(alias)

    def iterator(self, chunk_size: int | None = None) -> Any:
        return self.get_queryset().iterator(chunk_size)

    def latest(self, *fields: str) -> Any:
        return self.get_queryset().latest(*fields)

    def earliest(self, *fields: str) -> Any:
        return self.get_queryset().earliest(*fields)

    def in_bulk(self, id_list: Any = None, *, field_name: str = "pk") -> dict[Any, Any]:
        return self.get_queryset().in_bulk(id_list, field_name=field_name)

    def contains(self, obj: Any) -> bool:
        return self.get_queryset().contains(obj)

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.get_queryset().aggregate(*args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self.get_queryset().get(*args, **kwargs)

    def first(self) -> Any:
        return self.get_queryset().first()

    def last(self) -> Any:
        return self.get_queryset().last()

    def count(self) -> int:
        return self.get_queryset().count()

    def exists(self) -> bool:
        return self.get_queryset().exists()

    def create(self, **kwargs: Any) -> Any:
        return self.get_queryset().create(**kwargs)

    def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[Any, bool]:
        return self.get_queryset().get_or_create(defaults, **kwargs)

    def update_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        return self.get_queryset().update_or_create(defaults, create_defaults, **kwargs)

    def bulk_create(
        self, objs: Any, batch_size: int | None = None, ignore_conflicts: bool = False
    ) -> list[Any]:
        return self.get_queryset().bulk_create(objs, batch_size, ignore_conflicts)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        return self.get_queryset().bulk_update(objs, fields, batch_size)

    def update(self, **kwargs: Any) -> int:
        return self.get_queryset().update(**kwargs)


_observe.async_variants(
    Manager,
    (
        "get",
        "first",
        "last",
        "count",
        "exists",
        "create",
        "get_or_create",
        "update_or_create",
        "bulk_create",
        "bulk_update",
        "update",
    ),
)
