"""``Model`` and its metaclass: class preparation, construction and ``save()``.

A model class is prepared as Django prepares one: fields contributed in
declaration order, an automatic ``id`` when no field is the primary key,
auto-created many-to-many through models first, then ``class_prepared``, then
registration in the current registry (which resolves string references
waiting for it).
"""

from __future__ import annotations

from typing import Any

from sigcli.models import observe as _observe
from sigcli.models.db import DatabaseError, not_supported
from sigcli.models.expressions import Combinable
from sigcli.models.fields import Field, FieldDoesNotExist
from sigcli.models.options import Options
from sigcli.models.registry import get_registry
from sigcli.signals import class_prepared, post_init, post_save, pre_init, pre_save


class ObjectDoesNotExist(Exception):
    """The base of every model's ``DoesNotExist``."""


class MultipleObjectsReturned(Exception):
    """The base of every model's ``MultipleObjectsReturned``."""


class Deferred:
    """Marks a field value left out of a query (``only()``)."""

    def __repr__(self) -> str:
        return "<Deferred field>"

    def __str__(self) -> str:
        return "<Deferred field>"


DEFERRED = Deferred()
_MISSING = object()


class ModelState:
    """Where an instance comes from: ``adding`` until saved or loaded, ``db`` once it is."""

    __slots__ = ("adding", "db", "cache")

    def __init__(self) -> None:
        self.adding = True
        self.db: str | None = None
        self.cache: dict[str, Any] | None = None

    @property
    def fields_cache(self) -> dict[str, Any]:
        """Related objects by field or accessor name; created on first use (most rows never need it)."""
        cache = self.cache
        if cache is None:
            cache = self.cache = {}
        return cache


def _subclass_exception(name: str, bases: tuple[type, ...], module: str, owner: type) -> type:
    return type(name, bases, {"__module__": module, "__qualname__": f"{owner.__qualname__}.{name}"})


def _update_with_expressions(
    meta: Options, fields: Any, values: list[Any]
) -> tuple[str, list[Any]]:
    """The UPDATE for a save whose values include ``F()`` expressions (the slow path)."""
    sets = []
    params: list[Any] = []
    for field, value in zip(fields, values, strict=True):
        if isinstance(value, Combinable):
            sql, extra = value.as_sql(meta)  # type: ignore[attr-defined]
            sql = sql.replace(f'"{meta.read_table}".', f'"{meta.db_table}".')
            sets.append(f'"{field.column}" = {sql}')
            params.extend(extra)
        else:
            sets.append(f'"{field.column}" = ?')
            params.append(
                field.prep(value) if field.prep is not None and value is not None else value
            )
    return f'UPDATE "{meta.db_table}" SET {", ".join(sets)} WHERE {meta.pk_where}', params


def _relation_descriptor(cls: type, name: str) -> Any:
    from sigcli.models.manager import ManagerDescriptor
    from sigcli.models.related import ForwardDescriptor, ReverseOneToOneDescriptor

    for klass in cls.__mro__:
        attr = klass.__dict__.get(name)
        if attr is not None:
            kinds = (ForwardDescriptor, ReverseOneToOneDescriptor, ManagerDescriptor)
            return attr if isinstance(attr, kinds) else None
    return None


def _check_field_name(model: str, name: str) -> None:
    """Refuse the field names Django's system checks reject (fields.E001,
    E002, E003): Django would stop at ``manage.py check``, sigcli at once."""
    problem = None
    if name == "pk":
        problem = "'pk' always means the primary key, so no field can be called that"
    elif name.endswith("_"):
        problem = "a field name cannot end with an underscore"
    elif "__" in name:
        problem = "a field name cannot contain '__', which separates lookups"
    if problem:
        raise TypeError(
            f"{model}.{name}: {problem} (Django's system check rejects it); rename the field"
        )


def _link_parent(cls: Any, parent: Any, declared: dict[str, Any]) -> None:
    """Multi-table inheritance: the child's row points at its parent's row through a
    one-to-one primary key (``place_ptr``), declared by the model or added as Django adds it."""
    from sigcli.models.deletion import CASCADE
    from sigcli.models.related import OneToOneField

    for value in declared.values():
        if isinstance(value, OneToOneField) and value.parent_link and value.to is parent:
            link = value
            break
    else:
        name = f"{parent._meta.model_name}_ptr"
        link = OneToOneField(
            parent, on_delete=CASCADE, auto_created=True, parent_link=True, name=name
        )
        link.contribute_to_class(cls, name)
    cls._meta.parents[parent] = link


class ModelBase(type):
    """Prepares model classes and registers them in the current registry."""

    @property
    def _default_manager(cls) -> Any:
        """The first manager declared (``Meta.default_manager_name`` names another):
        what related managers and prefetching start from, as in Django."""
        model: Any = cls
        name = getattr(model._meta.meta, "default_manager_name", None) or model._manager_names[0]
        return getattr(model, name)

    @property
    def _base_manager(cls) -> Any:
        """A plain manager, whatever the model declares: what following a foreign key
        and the delete collector use, so that no custom filter hides a row."""
        from sigcli.models.manager import Manager

        manager = Manager()
        manager.model = cls  # type: ignore[assignment]
        return manager

    def __new__(
        mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any
    ) -> Any:
        parents: list[Any] = [b for b in bases if isinstance(b, ModelBase)]
        if not parents:
            return super().__new__(mcs, name, bases, attrs, **kwargs)
        meta = attrs.pop("Meta", None)
        contributable = {
            k: v
            for k, v in attrs.items()
            if hasattr(v, "contribute_to_class") and not isinstance(v, type)
        }
        for attr_name, value in contributable.items():
            if isinstance(value, Field):
                _check_field_name(name, attr_name)
        plain = {k: v for k, v in attrs.items() if k not in contributable}
        cls: Any = super().__new__(mcs, name, bases, plain, **kwargs)
        registry = getattr(meta, "apps", None) or get_registry()
        concrete_parents: list[Any] = [
            p for p in parents if p is not Model and not p._meta.abstract
        ]
        if meta is None:
            abstract_metas = [
                p._meta.meta
                for p in parents
                if p is not Model and p._meta.abstract and p._meta.meta
            ]
            meta = type("Meta", tuple(abstract_metas), {}) if abstract_metas else None
            if meta is not None and getattr(meta, "abstract", False):
                meta = type("Meta", (meta,), {"abstract": False})
        opts = Options(cls, meta, registry)
        cls._meta = opts  # type: ignore[attr-defined]
        if len(concrete_parents) > 1 and not opts.proxy:
            names = " and ".join(p.__name__ for p in concrete_parents)
            raise not_supported(
                f"{name} subclasses two concrete models ({names}): multi-table inheritance "
                "from more than one parent"
            )
        if concrete_parents and not opts.proxy:
            base_meta = concrete_parents[0]._meta
            if not hasattr(meta, "ordering"):
                opts.ordering = list(base_meta.ordering)
            if not hasattr(meta, "get_latest_by"):
                opts.get_latest_by = base_meta.get_latest_by
        if opts.proxy:
            if not concrete_parents:
                raise TypeError(f"Proxy model '{name}' has no non-abstract model base class.")
            base = concrete_parents[0]
            opts.setup_proxy(base)
            if not hasattr(meta, "ordering"):
                opts.ordering = list(base._meta.ordering)
        if not opts.abstract:
            module = cls.__module__
            dne_bases = tuple(p.DoesNotExist for p in concrete_parents) or (ObjectDoesNotExist,)
            mor_bases = tuple(p.MultipleObjectsReturned for p in concrete_parents) or (
                MultipleObjectsReturned,
            )
            cls.DoesNotExist = _subclass_exception("DoesNotExist", dne_bases, module, cls)  # type: ignore[attr-defined]
            cls.MultipleObjectsReturned = _subclass_exception(  # type: ignore[attr-defined]
                "MultipleObjectsReturned", mor_bases, module, cls
            )
        inherited: dict[str, Any] = {}
        for parent in reversed(parents):
            if parent is not Model and parent._meta.abstract:
                for field in (*parent._meta.local_fields, *parent._meta.local_many_to_many):
                    if not field.auto_created:
                        inherited[field.name] = field.clone()
        if not opts.proxy:
            for field_name, field in inherited.items():
                if field_name not in contributable:
                    field.contribute_to_class(cls, field_name)
        for attr_name, value in contributable.items():
            value.contribute_to_class(cls, attr_name)
        if concrete_parents and not opts.proxy and not opts.abstract:
            _link_parent(cls, concrete_parents[0], contributable)
        if opts.abstract:
            opts.prepare()
            return cls
        if not cls._manager_names:
            from sigcli.models.manager import Manager

            Manager().contribute_to_class(cls, "objects")
        opts.prepare()
        class_prepared.send(sender=cls)
        registry.register_model(cls)
        return cls


class Model(metaclass=ModelBase):
    """The base class of scenario models (see Django's ``models.Model``)."""

    _meta: Options
    _state: ModelState
    _manager_names: tuple[str, ...] = ()
    DoesNotExist: type[ObjectDoesNotExist]
    MultipleObjectsReturned: type[MultipleObjectsReturned]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = self.__class__
        meta = cls._meta
        if meta.abstract:
            raise TypeError("Abstract models cannot be instantiated.")
        pre_init.send(sender=cls, args=args, kwargs=kwargs)
        d = self.__dict__
        d["_state"] = ModelState()
        plan = meta.init_plan
        if args:
            attnames = meta.attnames
            start = len(args)
            if start > len(attnames):
                raise IndexError("Number of args exceeds number of fields")
            if kwargs:
                for field in meta.concrete_fields[:start]:
                    if kwargs.pop(field.name, _MISSING) is not _MISSING:
                        raise TypeError(
                            f"{cls.__qualname__}() got both positional and keyword arguments for field '{field.name}'."
                        )
            if DEFERRED in args:
                for value, attname in zip(args, attnames, strict=False):
                    if value is not DEFERRED:
                        d[attname] = value
            else:
                d.update(zip(attnames, args, strict=False))
        else:
            start = 0
        if kwargs:
            for field in meta.concrete_fields[start:]:
                if field.is_relation and field.name in kwargs:
                    related = kwargs.pop(field.name)
                    if related is not DEFERRED:
                        setattr(self, field.name, related)
                    continue
                value = kwargs.pop(field.attname, _MISSING)
                if value is _MISSING:
                    value = field.get_default()
                if value is not DEFERRED:
                    d[field.attname] = value
            if kwargs:
                self._set_extra(cls, kwargs)
        else:
            for attname, default, call in plan[start:]:
                d[attname] = default() if call else default
        post_init.send(sender=cls, instance=self)

    def _set_extra(self, cls: type[Model], kwargs: dict[str, Any]) -> None:
        """Properties and many-to-many names; anything else is a TypeError, as in Django."""
        unexpected = []
        for name, value in kwargs.items():
            if isinstance(getattr(cls, name, None), property):
                if value is not DEFERRED:
                    setattr(self, name, value)
                continue
            try:
                cls._meta.get_field(name)
            except FieldDoesNotExist:
                unexpected.append(name)
            else:
                if value is not DEFERRED:
                    setattr(self, name, value)
        if unexpected:
            names = ", ".join(repr(n) for n in unexpected)
            raise TypeError(f"{cls.__name__}() got unexpected keyword arguments: {names}")

    @classmethod
    def from_db(cls, row: Any) -> Model:
        """An instance for a fetched row: sends ``pre_init``/``post_init`` with positional values.

        Without a custom ``__init__`` this is the constructor's positional path
        inlined (loading is the hot path of a cascade); the signals are the same.
        """
        if (
            cls.__init__ is not Model.__init__
            or len(row) != len(cls._meta.attnames)
            or DEFERRED in row
        ):
            obj = cls(*row)
            state = obj._state
            state.adding = False
            state.db = "default"
            return obj
        from sigcli.models.rows import load_rows

        return load_rows(cls, [row])[0]

    # -- identity ------------------------------------------------------------

    @property
    def pk(self) -> Any:
        return self.__dict__.get(self._meta.pk.attname)

    @pk.setter
    def pk(self, value: Any) -> None:
        setattr(self, self._meta.pk.attname, value)

    def __str__(self) -> str:
        return f"{self.__class__.__name__} object ({self.pk})"

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}: {self}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        if self._meta.concrete_model is not other._meta.concrete_model:
            return False
        pk = self.pk
        if pk is None:
            return self is other
        return bool(pk == other.pk)

    def __hash__(self) -> int:
        pk = self.__dict__.get(self._meta.pk.attname)
        if pk is None:
            raise TypeError("Model instances without primary key value are unhashable")
        return hash(pk)

    def __reduce__(self) -> Any:
        raise TypeError(f"{self.__class__.__name__} instances cannot be pickled")

    def __getattr__(self, name: str) -> Any:
        """A field left out by ``only()`` is loaded on first access, as Django does."""
        d = self.__dict__
        meta = type(self)._meta
        if "_state" in d and name in meta.attnames and d.get(meta.pk.attname) is not None:
            self.refresh_from_db(fields=[name])
            if name in d:
                return d[name]
        descriptor = _relation_descriptor(type(self), name)
        if descriptor is not None:
            # Its own AttributeError (RelatedObjectDoesNotExist, "Manager isn't
            # accessible") landed here; the answer is cached, so asking again
            # re-raises it without a query.
            return descriptor.__get__(self, type(self))
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_deferred_fields(self) -> set[str]:
        d = self.__dict__
        return {a for a in self._meta.attnames if a not in d}

    # -- saving --------------------------------------------------------------

    def save(
        self,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        """Insert or update the row, sending ``pre_save`` and ``post_save``."""
        observer = _observe.current
        if observer is None:
            return self._save(force_insert, force_update, update_fields)
        kwargs: dict[str, Any] = {}
        if force_insert:
            kwargs["force_insert"] = force_insert
        if force_update:
            kwargs["force_update"] = force_update
        if using is not None:
            kwargs["using"] = using
        if update_fields is not None:
            kwargs["update_fields"] = update_fields
        label = _observe.call_label(self._meta.model_name, "save", (), kwargs)
        return _observe.operation(
            observer,
            label,
            self.__class__.__name__,
            self._save,
            force_insert,
            force_update,
            update_fields,
        )

    save.alters_data = True  # type: ignore[attr-defined]

    def _prepare_related_fields_for_save(self, operation: str = "save") -> None:
        cache = self._state.cache
        if not cache:
            return
        d = self.__dict__
        for field in self._meta.relation_fields:
            obj = cache.get(field.name, _MISSING)
            if obj is _MISSING or obj is None:
                continue
            if obj.pk is None:
                raise ValueError(
                    f"{operation}() prohibited to prevent data loss due to unsaved related object '{field.name}'."
                )
            if d.get(field.attname) in (None, ""):
                d[field.attname] = obj.pk
            elif d.get(field.attname) != obj.pk:
                del cache[field.name]

    def _save(self, force_insert: bool, force_update: bool, update_fields: Any) -> None:
        self._prepare_related_fields_for_save()
        if force_insert and (force_update or update_fields):
            raise ValueError("Cannot force both insert and updating in model saving.")
        if update_fields is not None:
            if not update_fields:
                return
            update_fields = frozenset(update_fields)
            unknown = update_fields.difference(self._meta.non_pk_names)
            if unknown:
                raise ValueError(
                    f"The following fields do not exist in the model {self.__class__.__name__}, are "
                    "m2m fields, primary keys, or are non-concrete fields: "
                    + ", ".join(sorted(unknown))
                )
        elif not force_insert and self._state.db == "default":
            d = self.__dict__
            meta = self._meta
            if any(attname not in d for attname in meta.attnames):
                loaded = frozenset(f.attname for f in meta.non_pk_fields if f.attname in d)
                if loaded:
                    update_fields = loaded
        self._save_base(False, force_insert, force_update, update_fields)

    def save_base(
        self,
        raw: bool = False,
        force_insert: bool = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Any = None,
    ) -> None:
        """Save without ``save()``'s checks; ``raw=True`` is how fixtures are loaded."""
        if update_fields is not None:
            update_fields = frozenset(update_fields)
        observer = _observe.current
        if observer is None:
            return self._save_base(raw, force_insert, force_update, update_fields)
        kwargs: dict[str, Any] = {}
        if raw:
            kwargs["raw"] = raw
        if force_insert:
            kwargs["force_insert"] = force_insert
        if force_update:
            kwargs["force_update"] = force_update
        if update_fields is not None:
            kwargs["update_fields"] = sorted(update_fields)
        label = _observe.call_label(self._meta.model_name, "save_base", (), kwargs)
        return _observe.operation(
            observer,
            label,
            self.__class__.__name__,
            self._save_base,
            raw,
            force_insert,
            force_update,
            update_fields,
        )

    save_base.alters_data = True  # type: ignore[attr-defined]

    def _save_base(
        self,
        raw: bool,
        force_insert: bool,
        force_update: bool,
        update_fields: frozenset[str] | None,
    ) -> None:
        """Send ``pre_save``, write the row, send ``post_save`` (not for auto-created through models)."""
        origin = self.__class__
        meta = origin._meta
        if not meta.table_ready:
            meta.registry.ensure_tables()
        auto_created = meta.auto_created
        try:
            if not auto_created:
                pre_save.send(
                    sender=origin,
                    instance=self,
                    raw=raw,
                    using="default",
                    update_fields=update_fields,
                )
            if meta.parents and not raw:
                force_insert = self._save_parents(meta, update_fields) or force_insert
            updated = self._save_table(meta, raw, force_insert, force_update, update_fields)
            state = self._state
            state.db = "default"
            state.adding = False
            if not auto_created:
                post_save.send(
                    sender=origin,
                    instance=self,
                    created=not updated,
                    update_fields=update_fields,
                    raw=raw,
                    using="default",
                )
        except Exception as error:
            meta.registry.db.error_passed(error)
            raise

    def _save_parents(self, meta: Options, update_fields: frozenset[str] | None) -> bool:
        """Write each parent's table first (no signals: only the child is saved), and
        point the link at the parent's row; True when a parent row was inserted."""
        d = self.__dict__
        inserted = False
        for parent, link in meta.parents.items():
            pmeta = parent._meta
            pk_attname = pmeta.pk.attname
            if d.get(pk_attname) is None and d.get(link.attname) is not None:
                d[pk_attname] = d[link.attname]
            parent_inserted = bool(pmeta.parents) and self._save_parents(pmeta, update_fields)
            if not self._save_table(pmeta, False, parent_inserted, False, update_fields):
                inserted = True
            d[link.attname] = d.get(pk_attname)
            cache = self._state.cache
            if cache:
                cache.pop(link.name, None)
        return inserted

    def _save_table(
        self,
        meta: Options,
        raw: bool,
        force_insert: bool,
        force_update: bool,
        update_fields: frozenset[str] | None,
    ) -> bool:
        d = self.__dict__
        pk_attname = meta.pk.attname
        pk_val = d.get(pk_attname)
        pk_set = pk_val is not None
        if not pk_set and (force_update or update_fields):
            raise ValueError("Cannot force an update in save() with no primary key.")
        db = meta.registry.db
        updated = False
        if (
            not raw
            and not force_insert
            and not force_update
            and self._state.adding
            and meta.pk.has_default()
        ):
            force_insert = True
        if pk_set and not force_insert:
            sql, fields, preps = (
                meta.update_all if update_fields is None else meta.update_plan_for(update_fields)
            )
            if fields:
                if raw:
                    values = [d.get(f.attname) for f in fields]
                else:
                    values = [f.pre_save(self, False) for f in fields]
                for value in values:
                    if isinstance(value, Combinable):
                        sql, values = _update_with_expressions(meta, fields, values)
                        break
                else:
                    for index, prep in preps:
                        values[index] = prep(values[index])
                values.append(meta.pk.prep(pk_val) if meta.pk.prep else pk_val)
                updated = db.execute(sql, values).rowcount > 0
            elif update_fields is not None:
                updated = True
            else:
                updated = (
                    db.execute(
                        f'SELECT 1 AS "a" FROM "{meta.db_table}" WHERE {meta.pk_where} LIMIT 1',
                        (pk_val,),
                    ).fetchone()
                    is not None
                )
            if force_update and not updated:
                raise DatabaseError("Forced update did not affect any rows.")
            if update_fields and not updated:
                raise DatabaseError("Save with update_fields did not affect any rows.")
        if not updated:
            sql, fields, preps = meta.insert_all if pk_set else meta.insert_auto
            if raw:
                values = [d.get(f.attname) for f in fields]
            else:
                values = [f.pre_save(self, True) for f in fields]
            for value in values:
                if isinstance(value, Combinable):
                    raise ValueError(
                        f'Failed to insert expression "{value!r}" on {meta.label}. F() expressions '
                        "can only be used to update, not to insert."
                    )
            for index, prep in preps:
                values[index] = prep(values[index])
            cursor = db.execute(sql, values)
            if not pk_set:
                d[pk_attname] = cursor.lastrowid
        return updated

    # -- deleting and reloading ---------------------------------------------

    def delete(
        self, using: str | None = None, keep_parents: bool = False
    ) -> tuple[int, dict[str, int]]:
        """Delete the row and everything that cascades from it (see ``deletion.Collector``)."""
        observer = _observe.current
        if observer is None:
            return self._delete(keep_parents)
        kwargs = {"keep_parents": True} if keep_parents else None
        label = _observe.call_label(self._meta.model_name, "delete", (), kwargs)
        return _observe.operation(
            observer, label, self.__class__.__name__, self._delete, keep_parents
        )

    delete.alters_data = True  # type: ignore[attr-defined]

    def _delete(self, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        from sigcli.models.deletion import Collector

        if self.pk is None:
            raise ValueError(
                f"{self._meta.object_name} object can't be deleted because its "
                f"{self._meta.pk.attname} attribute is set to None."
            )
        collector = Collector(origin=self)
        collector.collect([self], keep_parents=keep_parents)
        return collector.delete()

    def refresh_from_db(self, using: str | None = None, fields: Any = None) -> None:
        """Reload the field values from the row (building a temporary instance, as Django does)."""
        observer = _observe.current
        if observer is None:
            return self._refresh(fields)
        kwargs = {"fields": fields} if fields is not None else {}
        label = _observe.call_label(self._meta.model_name, "refresh_from_db", (), kwargs)
        return _observe.operation(observer, label, self.__class__.__name__, self._refresh, fields)

    def _refresh(self, fields: Any) -> None:
        """Django's rules: a prefetched relation named in ``fields`` is only forgotten;
        without ``fields`` every prefetch is forgotten and only the loaded fields are
        reloaded, so a deferred field stays deferred."""
        from sigcli.models import reads
        from sigcli.models.query import QuerySet

        d = self.__dict__
        if fields is None:
            d["_prefetched_objects_cache"] = {}
        else:
            prefetched = d.get("_prefetched_objects_cache") or {}
            fields = set(fields)
            for name in list(fields):
                if name in prefetched:
                    del prefetched[name]
                    fields.discard(name)
            if not fields:
                return
            if any("__" in name for name in fields):
                raise ValueError(
                    'Found "__" in fields argument. Relations and transforms are not allowed '
                    "in fields."
                )
        qs = QuerySet(self.__class__).filter(pk=self.pk)
        meta = self._meta
        deferred = self.get_deferred_fields()
        if fields is not None:
            qs = qs.only(*fields)
        elif deferred:
            qs = qs.only(*(a for a in meta.attnames if a not in deferred))
        fresh = reads.get(qs)
        fresh_d = fresh.__dict__
        cache = self._state.fields_cache
        for field in meta.concrete_fields:
            attname = field.attname
            if attname in fresh_d:
                d[attname] = fresh_d[attname]
                if field.is_relation:
                    cache.pop(field.name, None)
        for relation in meta.related_objects:
            if fields is None or relation.name in fields:
                cache.pop(relation.accessor_name, None)
        self._state.db = "default"


_observe.async_variants(Model, ("save", "delete", "refresh_from_db"))
