"""Related managers: ``author.book_set`` and ``pizza.toppings`` / ``topping.pizza_set``.

The many-to-many manager follows Django's ``pk_set`` rules: ``add`` reports
only the ids not yet linked (and is sent even when none are), ``remove``
reports every id asked for, ``clear`` sends ``None``, ``set`` is remove then
add; ``pre_*`` and ``post_*`` share one mutable set. With no ``m2m_changed``
listener an auto-created through table gets a plain ``INSERT OR IGNORE``.
"""

from __future__ import annotations

from typing import Any

from sigcli.models import observe as _observe
from sigcli.models import writes
from sigcli.models.manager import Manager
from sigcli.models.query import QuerySet
from sigcli.signals import m2m_changed

_manager_classes: dict[tuple[type, type], type] = {}


def related_manager_class(kind: type, model: Any) -> type:
    """``kind`` on top of ``model``'s default manager class, as Django builds related
    managers: its filters and methods apply to ``author.book_set`` and ``pizza.toppings``."""
    default = type(model._default_manager)
    if default is Manager:
        return kind
    key = (kind, default)
    made = _manager_classes.get(key)
    if made is None:
        made = _manager_classes[key] = type(kind.__name__, (kind, default), {})
    return made


class _RelatedManagerBase(Manager):
    """Labels operations as ``<instance>.<accessor>.<method>(...)``."""

    instance: Any
    accessor: str

    def _default_queryset(self) -> QuerySet:
        """The default manager's queryset for the related model, labelled as this manager's."""
        qs = super().get_queryset()
        qs._prefix = self._prefix()
        return qs

    def _report(
        self,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        func: Any,
        *call_args: Any,
    ) -> Any:
        observer = _observe.current
        if observer is None:
            return func(*call_args)
        prefix = f"{self.instance._meta.model_name}.{self.accessor}"
        label = _observe.call_label(prefix, method, args, kwargs)
        return _observe.operation(observer, label, self.model.__name__, func, *call_args)

    def _prefix(self) -> str:
        return f"{self.instance._meta.model_name}.{self.accessor}"

    def _with_prefetched(self, queryset: QuerySet) -> QuerySet:
        """Answer from ``prefetch_related()``'s rows when the instance has them."""
        cache = self.instance.__dict__.get("_prefetched_objects_cache")
        if cache and self.accessor in cache:
            queryset._result_cache = list(cache[self.accessor])
        return queryset

    def _forget_prefetched(self) -> None:
        cache = self.instance.__dict__.get("_prefetched_objects_cache")
        if cache:
            cache.pop(self.accessor, None)


class ReverseManyManager(_RelatedManagerBase):
    """The rows of ``rel.related_model`` whose foreign key points at ``instance``."""

    def __init__(self, instance: Any, rel: Any) -> None:
        super().__init__()
        self.instance = instance
        self.rel = rel
        self.field = rel.field
        self.model = rel.related_model
        self.accessor = rel.accessor_name
        if instance.pk is None:
            raise ValueError(
                f"'{instance.__class__.__name__}' instance needs to have a primary key value before "
                "this relationship can be used."
            )

    def get_queryset(self) -> QuerySet:
        base = self._default_queryset()
        qs = base._filter({self.field.name: self.instance}, False)
        qs._calls = base._calls
        qs._known = (self.field.name, self.instance)
        return self._with_prefetched(qs)

    def _check_fk_val(self) -> None:
        if self.instance.pk is None:
            raise ValueError(
                f'"{self.instance!r}" needs to have a value for field "{self.instance._meta.pk.attname}" '
                "before this relationship can be used."
            )

    def create(self, **kwargs: Any) -> Any:
        """Create a row pointing here; the instance's prefetched rows are forgotten."""
        self._check_fk_val()
        self._forget_prefetched()
        label_kwargs = dict(kwargs)
        kwargs[self.field.name] = self.instance
        return self._report("create", (), label_kwargs, writes.create, QuerySet(self.model), kwargs)

    def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[Any, bool]:
        self._check_fk_val()
        kwargs[self.field.name] = self.instance
        return self.get_queryset()._chain().get_or_create(defaults, **kwargs)

    def update_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        self._check_fk_val()
        kwargs[self.field.name] = self.instance
        return self.get_queryset()._chain().update_or_create(defaults, create_defaults, **kwargs)

    def add(self, *objs: Any, bulk: bool = True) -> None:
        """Point the objects here: one UPDATE (``bulk``) or a full ``save()`` each."""
        self._check_fk_val()
        self._report("add", objs, {"bulk": bulk} if not bulk else None, self._add, objs, bulk)

    def _check_and_update(self, obj: Any) -> None:
        if not isinstance(obj, self.model):
            raise TypeError(f"'{self.model._meta.object_name}' instance expected, got {obj!r}")
        setattr(obj, self.field.name, self.instance)

    def _add(self, objs: tuple[Any, ...], bulk: bool) -> None:
        self._forget_prefetched()
        if bulk:
            pks = []
            for obj in objs:
                self._check_and_update(obj)
                if obj._state.adding:
                    raise ValueError(
                        f"{obj!r} instance isn't saved. Use bulk=False or save the object first."
                    )
                pks.append(obj.pk)
            writes.update(
                QuerySet(self.model)._filter({"pk__in": pks}, False),
                {self.field.name: self.instance},
            )
        else:
            with QuerySet(self.model)._db().atomic(savepoint=False):
                for obj in objs:
                    self._check_and_update(obj)
                    obj.save()

    def _require_null(self, method: str) -> None:
        if not self.field.null:
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{method}' "
                f"({self.model.__name__}.{self.field.name} is not nullable)"
            )

    def remove(self, *objs: Any, bulk: bool = True) -> None:
        """Set the foreign key of these objects to NULL (nullable foreign keys only)."""
        self._require_null("remove")
        self._report("remove", objs, {"bulk": bulk} if not bulk else None, self._remove, objs, bulk)

    def _remove(self, objs: tuple[Any, ...], bulk: bool) -> None:
        if not objs:
            return
        self._check_fk_val()
        value = self.instance.pk
        old_ids = set()
        for obj in objs:
            if not isinstance(obj, self.model):
                raise TypeError(f"'{self.model._meta.object_name}' instance expected, got {obj!r}")
            if obj.__dict__.get(self.field.attname) == value:
                old_ids.add(obj.pk)
            else:
                raise self.field.remote_model.DoesNotExist(
                    f"{obj!r} is not related to {self.instance!r}."
                )
        self._clear(self.get_queryset()._filter({"pk__in": old_ids}, False), bulk)

    def clear(self, *, bulk: bool = True) -> None:
        self._require_null("clear")
        self._check_fk_val()
        self._report(
            "clear",
            (),
            {"bulk": bulk} if not bulk else None,
            self._clear,
            self.get_queryset(),
            bulk,
        )

    def _clear(self, queryset: QuerySet, bulk: bool) -> None:
        self._forget_prefetched()
        queryset = queryset._chain()  # the current rows, never the prefetched ones
        if bulk:
            writes.update(queryset, {self.field.name: None})
            return
        with queryset._db().atomic(savepoint=False):
            for obj in queryset._fetch():
                setattr(obj, self.field.name, None)
                obj.save(update_fields=[self.field.name])

    def set(self, objs: Any, *, bulk: bool = True, clear: bool = False) -> None:
        self._check_fk_val()
        objs = tuple(objs)
        kwargs: dict[str, Any] = {}
        if not bulk:
            kwargs["bulk"] = bulk
        if clear:
            kwargs["clear"] = clear
        self._report("set", (list(objs),), kwargs, self._set, objs, bulk, clear)

    def _set(self, objs: tuple[Any, ...], bulk: bool, clear: bool) -> None:
        if not self.field.null:
            self._add(objs, bulk)
            return
        with QuerySet(self.model)._db().atomic(savepoint=False):
            if clear:
                self._clear(self.get_queryset(), bulk)
                self._add(objs, bulk)
                return
            old_objs = set(self.get_queryset()._chain()._fetch())
            new_objs = []
            for obj in objs:
                if obj in old_objs:
                    old_objs.remove(obj)
                else:
                    new_objs.append(obj)
            self._remove(tuple(old_objs), bulk)
            self._add(tuple(new_objs), bulk)


class ManyRelatedManager(_RelatedManagerBase):
    """One side of a many-to-many relation, seen from ``instance``."""

    def __init__(self, instance: Any, field: Any, reverse: bool) -> None:
        super().__init__()
        if not field.source_field_name:
            field._link()
        self.instance = instance
        self.field = field
        self.on_reverse_side = reverse
        self.through = field.through
        if reverse:
            self.model = field.model
            self.source_field_name = field.target_field_name
            self.target_field_name = field.source_field_name
            self.accessor = field.rel.accessor_name
            self.symmetrical = False
        else:
            self.model = field.remote_model
            self.source_field_name = field.source_field_name
            self.target_field_name = field.target_field_name
            self.accessor = field.name
            self.symmetrical = field.symmetrical
        through_meta = self.through._meta
        self.source_column = through_meta.get_field(self.source_field_name).column
        self.target_column = through_meta.get_field(self.target_field_name).column
        self.related_val = instance.pk
        if self.related_val is None:
            raise ValueError(
                f"{instance.__class__.__name__!r} instance needs to have a primary key value before "
                "a many-to-many relationship can be used."
            )

    def get_queryset(self) -> QuerySet:
        through = self.through._meta.db_table
        meta = self.model._meta
        qs = self._default_queryset()._chain()
        qs._where = (
            *qs._where,
            f'"{meta.read_table}"."{meta.pk.column}" IN (SELECT "{through}"."{self.target_column}" '
            f'FROM "{through}" WHERE "{through}"."{self.source_column}" = ?)',
        )
        qs._params = (*qs._params, self.related_val)
        return self._with_prefetched(qs)

    def _send(self, action: str, pk_set: Any) -> None:
        m2m_changed.send(
            sender=self.through,
            action=action,
            instance=self.instance,
            reverse=self.on_reverse_side,
            model=self.model,
            pk_set=pk_set,
            using="default",
        )

    def _target_ids(self, objs: tuple[Any, ...]) -> set[Any]:
        from sigcli.models.base import Model

        ids = set()
        target_field = self.through._meta.get_field(self.target_field_name)
        for obj in objs:
            if isinstance(obj, self.model):
                pk = obj.pk
                if pk is None:
                    raise ValueError(
                        f'Cannot add "{obj!r}": the value for field "{self.target_field_name}" is None'
                    )
                ids.add(pk)
            elif isinstance(obj, Model):
                raise TypeError(f"'{self.model._meta.object_name}' instance expected, got {obj!r}")
            else:
                ids.add(target_field.prep(obj) if obj is not None else obj)
        return ids

    def add(self, *objs: Any, through_defaults: dict[str, Any] | None = None) -> None:
        kwargs = {"through_defaults": through_defaults} if through_defaults else None
        self._report("add", objs, kwargs, self._add, objs, through_defaults)

    def _add(self, objs: tuple[Any, ...], through_defaults: dict[str, Any] | None) -> None:
        self._forget_prefetched()
        with self.through._meta.registry.db.atomic(savepoint=False):
            self._add_items(self.source_field_name, self.target_field_name, objs, through_defaults)
            if self.symmetrical:
                self._add_items(
                    self.target_field_name, self.source_field_name, objs, through_defaults
                )

    def _add_items(
        self,
        source: str,
        target: str,
        objs: tuple[Any, ...],
        through_defaults: dict[str, Any] | None,
    ) -> None:
        if not objs:
            return
        defaults = {k: v() if callable(v) else v for k, v in (through_defaults or {}).items()}
        target_ids = self._target_ids(objs)
        through = self.through
        auto = bool(through._meta.auto_created)
        must_send = (
            self.on_reverse_side or source == self.source_field_name
        ) and m2m_changed.has_listeners(through)
        qs = QuerySet(through)
        source_key, target_key = f"{source}_id", f"{target}_id"
        if auto and not must_send:
            rows = [
                through(**{source_key: self.related_val, target_key: tid}) for tid in target_ids
            ]
            writes.bulk_create(qs, rows, True)
            return
        existing = set(
            qs._filter({source: self.related_val, f"{target}__in": target_ids}, False)
            .values_list(target, flat=True)
            ._fetch()
        )
        missing = target_ids.difference(existing)
        with through._meta.registry.db.atomic(savepoint=False):
            if must_send:
                self._send("pre_add", missing)
            rows = [
                through(**defaults, **{source_key: self.related_val, target_key: tid})
                for tid in missing
            ]
            writes.bulk_create(qs, rows, auto)
            if must_send:
                self._send("post_add", missing)

    def _remove_filter(self, removed: set[Any] | None) -> QuerySet:
        """Through rows linking ``instance`` to ``removed`` (all of them when None), both ways if symmetrical."""
        through = self.through
        meta = through._meta
        table = meta.db_table
        source = f'"{table}"."{self.source_column}"'
        target = f'"{table}"."{self.target_column}"'
        qs = QuerySet(through)
        params: list[Any] = [self.related_val]
        condition = f"{source} = ?"
        removed_list = list(removed) if removed is not None else None
        if removed_list is not None:
            marks = ", ".join("?" for _ in removed_list)
            condition += f" AND {target} IN ({marks})" if removed_list else " AND 0"
            params.extend(removed_list)
        if self.symmetrical:
            mirror = f"{target} = ?"
            params.append(self.related_val)
            if removed_list is not None:
                marks = ", ".join("?" for _ in removed_list)
                mirror += f" AND {source} IN ({marks})" if removed_list else " AND 0"
                params.extend(removed_list)
            condition = f"(({condition}) OR ({mirror}))"
        qs._where = (condition,)
        qs._params = tuple(params)
        return qs

    def remove(self, *objs: Any) -> None:
        self._report("remove", objs, None, self._remove, objs)

    def _remove(self, objs: tuple[Any, ...]) -> None:
        if not objs:
            return
        self._forget_prefetched()
        old_ids = set()
        for obj in objs:
            old_ids.add(obj.pk if isinstance(obj, self.model) else obj)
        with self.through._meta.registry.db.atomic(savepoint=False):
            self._send("pre_remove", old_ids)
            writes.delete(self._remove_filter(old_ids))
            self._send("post_remove", old_ids)

    def clear(self) -> None:
        self._report("clear", (), None, self._clear)

    def _clear(self) -> None:
        self._forget_prefetched()
        with self.through._meta.registry.db.atomic(savepoint=False):
            self._send("pre_clear", None)
            writes.delete(self._remove_filter(None))
            self._send("post_clear", None)

    def set(
        self, objs: Any, *, clear: bool = False, through_defaults: dict[str, Any] | None = None
    ) -> None:
        objs = tuple(objs)
        kwargs: dict[str, Any] = {}
        if clear:
            kwargs["clear"] = clear
        if through_defaults:
            kwargs["through_defaults"] = through_defaults
        self._report("set", (list(objs),), kwargs, self._set, objs, clear, through_defaults)

    def _set(
        self, objs: tuple[Any, ...], clear: bool, through_defaults: dict[str, Any] | None
    ) -> None:
        with self.through._meta.registry.db.atomic(savepoint=False):
            if clear:
                self._clear()
                self._add(objs, through_defaults)
                return
            old_ids = set(self.get_queryset().values_list("pk", flat=True)._fetch())
            target_field = self.through._meta.get_field(self.target_field_name)
            new_objs = []
            for obj in objs:
                value = obj.pk if isinstance(obj, self.model) else target_field.prep(obj)
                if value in old_ids:
                    old_ids.remove(value)
                else:
                    new_objs.append(obj)
            self._remove(tuple(old_ids))
            self._add(tuple(new_objs), through_defaults)

    def create(self, *, through_defaults: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self._report("create", (), kwargs, self._create, kwargs, through_defaults)

    def _create(self, kwargs: dict[str, Any], through_defaults: dict[str, Any] | None) -> Any:
        obj = self._default_queryset().create(**kwargs)
        self.add(obj, through_defaults=through_defaults)
        return obj

    def get_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        *,
        through_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        """Only a row it creates is linked (with ``through_defaults``): a row it finds
        is linked already."""
        obj, created = self.get_queryset()._chain().get_or_create(defaults, **kwargs)
        if created:
            self.add(obj, through_defaults=through_defaults)
        return obj, created

    def update_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        *,
        through_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        obj, created = (
            self.get_queryset()._chain().update_or_create(defaults, create_defaults, **kwargs)
        )
        if created:
            self.add(obj, through_defaults=through_defaults)
        return obj, created


_observe.async_variants(ReverseManyManager, ("add", "remove", "clear", "set"))
_observe.async_variants(ManyRelatedManager, ("add", "remove", "clear", "set"))
