"""Querysets: lazy, chainable, evaluated once, on the registry's database.

Every public method that touches the database reports itself to the ORM
observer with a label that reads like the call
(``Book.objects.filter(author=<Author: a>).delete()``); internal queries
(the delete collector's, a related descriptor's) only report their SQL.

This module holds the queryset's state and how it is chained and evaluated;
the SQL it sends is built in :mod:`~sigcli.models.compiler`, rows become
objects in :mod:`~sigcli.models.rows`, and the work of the reading and
writing methods is in :mod:`~sigcli.models.reads` and
:mod:`~sigcli.models.writes`.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from typing import Any

from sigcli.models import observe as _observe
from sigcli.models import reads, writes
from sigcli.models.base import Model
from sigcli.models.compiler import reversed_order, select_sql
from sigcli.models.db import not_supported
from sigcli.models.expressions import Q
from sigcli.models.fields import FieldDoesNotExist, FieldError
from sigcli.models.lookups import (
    EmptyResultSet,
    FullResultSet,
    JoinSet,
    compile_condition,
    field_expression,
    order_column,
)
from sigcli.models.reads import MAX_GET_RESULTS, MAX_QUERY_PARAMS
from sigcli.models.rows import build, load_rows, stream

__all__ = [
    "DJANGO_ONLY_METHODS",
    "MAX_GET_RESULTS",
    "MAX_QUERY_PARAMS",
    "REPR_OUTPUT_SIZE",
    "QuerySet",
    "load_rows",
]

# Django's queryset methods the own engine leaves out: asking for one says so.
DJANGO_ONLY_METHODS = frozenset(
    {
        "alias",
        "annotate",
        "complex_filter",
        "dates",
        "datetimes",
        "difference",
        "explain",
        "extra",
        "intersection",
        "raw",
        "union",
        "aaggregate",
        "acontains",
        "aearliest",
        "aexplain",
        "ain_bulk",
        "aiterator",
        "alatest",
    }
)
REPR_OUTPUT_SIZE = 20


class QuerySet:
    """A lazy query over one model's table."""

    def __init__(self, model: type[Model], prefix: str | None = None) -> None:
        self.model = model
        self._prefix = prefix or f"{model.__name__}.objects"
        self._calls: tuple[tuple[str, tuple[Any, ...], dict[str, Any]], ...] = ()
        self._where: tuple[str, ...] = ()
        self._params: tuple[Any, ...] = ()
        self._empty = False
        self._order: tuple[Any, ...] | None = None
        self._low = 0
        self._high: int | None = None
        self._distinct = False
        self._fields: tuple[str, ...] | None = None
        self._kind = "objects"
        self._only: tuple[str, ...] | None = None
        self._known: tuple[str, Any] | None = None
        self._related: tuple[str, ...] = ()
        self._join_entries: tuple[tuple[Any, ...], ...] = ()
        self._shared_joins: dict[Any, int] = {}
        self._prefetch: tuple[Any, ...] = ()
        self._related_masks: tuple[tuple[str, str], ...] = ()
        self._result_cache: list[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name in DJANGO_ONLY_METHODS:
            raise not_supported(f"QuerySet.{name}()")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # -- building ------------------------------------------------------------

    def _chain(
        self,
        method: str | None = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> QuerySet:
        clone = copy.copy(self)
        clone._result_cache = None
        if method is not None:
            clone._calls = (*self._calls, (method, args, kwargs or {}))
        return clone

    def _filter(self, kwargs: dict[str, Any], negated: bool) -> QuerySet:
        clone = self._chain("exclude" if negated else "filter", (), kwargs)
        if self._low or self._high is not None:
            raise TypeError("Cannot filter a query once a slice has been taken.")
        meta = self.model._meta
        conditions: list[str] = []
        params: list[Any] = []
        empty = False
        joins = JoinSet(self._join_entries, self._shared_joins)
        for key in sorted(kwargs):
            try:
                sql, values = compile_condition(
                    meta, key, kwargs[key], negated, joins, join_many=not negated
                )
            except EmptyResultSet:
                empty = True
                continue
            conditions.append(sql)
            params.extend(values)
        if negated:
            if empty:
                clone._join_entries = joins.frozen()
                clone._shared_joins = joins.shared
                return clone
            condition = " AND ".join(f"({c})" if " AND " in c else c for c in conditions)
            clone._where = (*self._where, f"NOT ({condition})")
        else:
            if empty:
                clone._empty = True
            clone._where = (*self._where, *conditions)
        clone._params = (*self._params, *params)
        clone._join_entries = joins.frozen()
        clone._shared_joins = joins.shared
        return clone

    def all(self) -> QuerySet:
        return self._chain("all")

    def filter(self, *args: Any, **kwargs: Any) -> QuerySet:
        if args:
            return self._filter_q(args, kwargs, False)
        return self._filter(kwargs, False)

    def exclude(self, *args: Any, **kwargs: Any) -> QuerySet:
        if args:
            return self._filter_q(args, kwargs, True)
        return self._filter(kwargs, True)

    def _filter_q(self, args: tuple[Any, ...], kwargs: dict[str, Any], negated: bool) -> QuerySet:
        """``filter(Q(...) | Q(...), name=...)``: the slower path through a Q tree."""
        for arg in args:
            if not isinstance(arg, Q):
                raise TypeError(f"Cannot filter against a non-conditional expression: {arg!r}.")
        condition = Q(*args, **kwargs)
        if negated:
            condition = ~condition
        joins = JoinSet(self._join_entries, self._shared_joins)
        clone = self._chain("exclude" if negated else "filter", args, kwargs)
        try:
            sql, params = condition.as_sql(self.model._meta, joins=joins)
        except EmptyResultSet:
            clone._empty = True
        except FullResultSet:
            pass
        else:
            clone._where = (*self._where, sql)
            clone._params = (*self._params, *params)
        clone._join_entries = joins.frozen()
        clone._shared_joins = joins.shared
        return clone

    def none(self) -> QuerySet:
        clone = self._chain("none")
        clone._empty = True
        return clone

    def order_by(self, *field_names: Any) -> QuerySet:
        meta = self.model._meta
        for name in field_names:
            order_column(meta, name, JoinSet())
        clone = self._chain("order_by", field_names)
        clone._order = tuple(field_names)
        return clone

    def reverse(self) -> QuerySet:
        """Reverse the ordering; an unordered queryset stays as it is, as in Django."""
        clone = self._chain("reverse")
        order = self._ordering()
        if order:
            clone._order = tuple(reversed_order(item) for item in order)
        return clone

    def distinct(self) -> QuerySet:
        clone = self._chain("distinct")
        clone._distinct = True
        return clone

    def only(self, *fields: str) -> QuerySet:
        """Load only these fields; ``"author__name"`` loads the foreign key here and,
        under ``select_related``, only ``name`` of the author."""
        meta = self.model._meta
        attnames = []
        masks = []
        for name in fields:
            head, _, rest = name.partition("__")
            try:
                field = meta.pk if head == "pk" else meta.fields_map[head]
            except KeyError:
                raise FieldDoesNotExist(f"{meta.object_name} has no field named '{name}'") from None
            attnames.append(field.attname)
            if rest:
                masks.append(("only", name))
        clone = self._chain("only", fields)
        clone._only = tuple(attnames)
        clone._related_masks = tuple(masks)
        return clone

    def select_related(self, *fields: Any) -> QuerySet:
        """Load related objects in the same query: the relations named (nested with
        ``__``, reverse one-to-ones too), or every non-null foreign key when none
        are; ``select_related(None)`` stops. Names are checked when the query runs."""
        clone = self._chain("select_related", fields)
        if fields == (None,):
            clone._related = ()
        elif not fields:
            clone._related = ("",)
        elif self._related == ("",):
            clone._related = fields
        else:
            clone._related = (*self._related, *fields)
        return clone

    def _joins(self) -> list[Any]:
        """The ``select_related`` joins; a relation ``only()`` leaves out cannot be followed."""
        from sigcli.models.joined import join_tree

        meta = self.model._meta
        joins = join_tree(meta, self._related, self._related_masks)
        if self._only is not None:
            wanted = set(self._only) | {meta.pk.attname}
            for join in joins:
                if not join.reverse and join.field.attname not in wanted:
                    raise FieldError(
                        f"Field {meta.object_name}.{join.field.name} cannot be both deferred and "
                        "traversed using select_related at the same time."
                    )
        return joins

    def select_for_update(
        self,
        nowait: bool = False,
        skip_locked: bool = False,
        of: tuple[str, ...] = (),
        no_key: bool = False,
    ) -> QuerySet:
        """Accepted and ignored, as Django's SQLite backend does: SQLite locks the whole
        database for a write, so there is no row lock to take (and no error outside
        a transaction)."""
        if nowait and skip_locked:
            raise ValueError("The nowait option cannot be used with skip_locked.")
        kwargs = {
            name: value
            for name, value in (
                ("nowait", nowait),
                ("skip_locked", skip_locked),
                ("of", of),
                ("no_key", no_key),
            )
            if value
        }
        return self._chain("select_for_update", (), kwargs)

    @classmethod
    def as_manager(cls) -> Any:
        """A manager offering this queryset class's methods (``objects = MyQuerySet.as_manager()``)."""
        from sigcli.models.manager import Manager

        return Manager.from_queryset(cls)()

    def prefetch_related(self, *lookups: Any) -> QuerySet:
        """After the main query, one query per lookup (a name or a ``Prefetch``) fills
        each instance's cache; ``prefetch_related(None)`` stops."""
        clone = self._chain("prefetch_related", lookups)
        clone._prefetch = () if lookups == (None,) else (*self._prefetch, *lookups)
        return clone

    def defer(self, *fields: str) -> QuerySet:
        """Leave these fields out of the query; they load on first access
        (``"author__name"`` defers the author's name under ``select_related``)."""
        meta = self.model._meta
        skipped = set()
        masks = []
        for name in fields:
            if "__" in name:
                masks.append(("defer", name))
                continue
            field = meta.fields_map.get(name)
            if field is None:
                raise FieldDoesNotExist(f"{meta.object_name} has no field named '{name}'")
            skipped.add(field.attname)
        clone = self._chain("defer", fields)
        clone._only = tuple(a for a in meta.attnames if a not in skipped) if fields else None
        clone._related_masks = tuple(masks) if fields else ()
        return clone

    def using(self, alias: str | None) -> QuerySet:
        """Accepted for Django compatibility: a scenario has one database."""
        return self._chain("using", (alias,))

    def values_list(self, *fields: str, flat: bool = False) -> QuerySet:
        if flat and len(fields) > 1:
            raise TypeError(
                "'flat' is not valid when values_list is called with more than one field."
            )
        clone = self._chain("values_list", fields, {"flat": True} if flat else {})
        clone._fields = self._value_columns(fields)
        clone._kind = "flat" if flat else "tuple"
        return clone

    def values(self, *fields: str) -> QuerySet:
        clone = self._chain("values", fields)
        clone._fields = self._value_columns(fields)
        clone._kind = "dict"
        return clone

    def _value_columns(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        meta = self.model._meta
        if not fields:
            return meta.attnames
        for name in fields:
            field_expression(meta, name)
        return tuple(fields)

    @property
    def ordered(self) -> bool:
        return bool(self._ordering())

    def _ordering(self) -> tuple[Any, ...]:
        if self._order is not None:
            return self._order
        return tuple(self.model._meta.ordering)

    # -- evaluation (the SQL is in compiler.py, rows become objects in rows.py) ------

    def _db(self) -> Any:
        meta = self.model._meta
        if not meta.table_ready:
            meta.registry.ensure_tables()
        return meta.registry.db

    def _fetch(self) -> list[Any]:
        """Run the query once (no operation report) and cache the result."""
        cache = self._result_cache
        if cache is not None:
            return cache
        if self._empty:
            self._result_cache = []
            return self._result_cache
        rows = self._db().execute(select_sql(self), self._params).fetchall()
        objects = build(self, rows)
        if self._prefetch and self._kind == "objects":
            from sigcli.models.prefetch import prefetch_related_objects

            prefetch_related_objects(objects, self._prefetch)
        self._result_cache = objects
        return objects

    def _label(
        self,
        method: str | None = None,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> str:
        text = self._prefix
        calls = self._calls
        if not calls and method is None:
            calls = (("all", (), {}),)
        for name, call_args, call_kwargs in calls:
            if name == "__getitem__":
                text += _index_label(call_args[0])
            else:
                text = _observe.call_label(text, name, call_args, call_kwargs)
        if method is not None:
            text = _observe.call_label(text, method, args, kwargs)
        return text

    def _report(
        self,
        method: str | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        func: Any,
        *call_args: Any,
    ) -> Any:
        observer = _observe.current
        if observer is None:
            return func(*call_args)
        return _observe.operation(
            observer, self._label(method, args, kwargs), self.model.__name__, func, *call_args
        )

    def _evaluate(self) -> list[Any]:
        if self._result_cache is not None:
            return self._result_cache
        return self._report(None, (), None, self._fetch)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._evaluate())

    def __len__(self) -> int:
        return len(self._evaluate())

    def __bool__(self) -> bool:
        return bool(self._evaluate())

    def __repr__(self) -> str:
        data: list[Any] = list(self[: REPR_OUTPUT_SIZE + 1])
        if len(data) > REPR_OUTPUT_SIZE:
            data[-1] = "...(remaining elements truncated)..."
        return f"<QuerySet {data!r}>"

    def __getitem__(self, key: int | slice) -> Any:
        if not isinstance(key, (int, slice)):
            raise TypeError(
                f"QuerySet indices must be integers or slices, not {type(key).__name__}."
            )
        if (isinstance(key, int) and key < 0) or (
            isinstance(key, slice)
            and ((key.start or 0) < 0 or (key.stop is not None and key.stop < 0))
        ):
            raise ValueError("Negative indexing is not supported.")
        if self._result_cache is not None:
            return self._result_cache[key]
        if isinstance(key, slice):
            start = key.start or 0
            clone = self._chain()
            clone._low = self._low + start
            if key.stop is not None:
                stop = self._low + key.stop
                clone._high = stop if self._high is None else min(stop, self._high)
            elif self._high is not None:
                clone._high = self._high
            clone._calls = (*self._calls, ("__getitem__", (key,), {}))
            if key.step:
                return list(clone)[:: key.step]
            return clone
        clone = self._chain()
        clone._low = self._low + key
        clone._high = clone._low + 1
        if self._high is not None and clone._high > self._high:
            raise IndexError("list index out of range")
        label = self._label() + _index_label(key)
        observer = _observe.current
        rows = (
            clone._fetch()
            if observer is None
            else _observe.operation(observer, label, self.model.__name__, clone._fetch)
        )
        return rows[0]

    # -- single objects, counts and aggregates (the work is in reads.py) ------------

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """The one row matching; ``DoesNotExist`` or ``MultipleObjectsReturned`` otherwise."""
        return self._report("get", args, kwargs, reads.get, self, kwargs, args)

    def first(self) -> Any:
        return self._report("first", (), None, reads.edge, self, False)

    def last(self) -> Any:
        return self._report("last", (), None, reads.edge, self, True)

    def latest(self, *fields: str) -> Any:
        return self._report("latest", fields, None, reads.latest_or_earliest, self, fields, True)

    def earliest(self, *fields: str) -> Any:
        return self._report("earliest", fields, None, reads.latest_or_earliest, self, fields, False)

    def in_bulk(self, id_list: Any = None, *, field_name: str = "pk") -> dict[Any, Any]:
        """The objects by ``field_name`` (the pk by default), for ``id_list`` or all rows."""
        label_args = (id_list,) if id_list is not None else ()
        return self._report("in_bulk", label_args, None, reads.in_bulk, self, id_list, field_name)  # type: ignore[no-any-return]

    def contains(self, obj: Any) -> bool:
        return self._report("contains", (obj,), None, reads.contains, self, obj)  # type: ignore[no-any-return]

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``aggregate(Sum("pages"), n=Count("id"))``: one SELECT, no instances."""
        return self._report("aggregate", args, kwargs, reads.aggregate, self, args, kwargs)  # type: ignore[no-any-return]

    def count(self) -> int:
        if self._result_cache is not None:
            return len(self._result_cache)
        return self._report("count", (), None, reads.count, self)  # type: ignore[no-any-return]

    def exists(self) -> bool:
        if self._result_cache is not None:
            return bool(self._result_cache)
        return self._report("exists", (), None, reads.exists, self)  # type: ignore[no-any-return]

    # -- writing (the work is in writes.py) -------------------------------------------

    def create(self, **kwargs: Any) -> Any:
        """Build and insert one row: ``pre_init``, ``post_init``, ``pre_save``, ``post_save``."""
        return self._report("create", (), kwargs, writes.create, self, kwargs)

    def get_or_create(
        self, defaults: dict[str, Any] | None = None, **kwargs: Any
    ) -> tuple[Any, bool]:
        label_kwargs = dict(kwargs, defaults=defaults) if defaults is not None else kwargs
        return self._report(
            "get_or_create", (), label_kwargs, writes.get_or_create, self, defaults, kwargs
        )  # type: ignore[no-any-return]

    def update_or_create(
        self,
        defaults: dict[str, Any] | None = None,
        create_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, bool]:
        label_kwargs = dict(kwargs)
        if defaults is not None:
            label_kwargs["defaults"] = defaults
        if create_defaults is not None:
            label_kwargs["create_defaults"] = create_defaults
        return self._report(  # type: ignore[no-any-return]
            "update_or_create",
            (),
            label_kwargs,
            writes.update_or_create,
            self,
            defaults,
            create_defaults,
            kwargs,
        )

    def bulk_create(
        self, objs: Any, batch_size: int | None = None, ignore_conflicts: bool = False
    ) -> list[Any]:
        """Insert the objects without any signal; pks are set on them."""
        objs = list(objs)
        return self._report(
            "bulk_create", (objs,), None, writes.bulk_create, self, objs, ignore_conflicts
        )  # type: ignore[no-any-return]

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        """Write ``fields`` of each object without any signal; the number of rows matched."""
        objs = list(objs)
        fields = list(fields)
        return self._report(
            "bulk_update", (objs, fields), None, writes.bulk_update, self, objs, fields
        )  # type: ignore[no-any-return]

    def update(self, **kwargs: Any) -> int:
        """One UPDATE for the matching rows; no signals. Returns the number of rows."""
        return self._report("update", (), kwargs, writes.update, self, kwargs)  # type: ignore[no-any-return]

    def delete(self) -> tuple[int, dict[str, int]]:
        """Delete the matching rows through the collector, with ``origin`` this very queryset."""
        return self._report("delete", (), None, writes.delete, self)  # type: ignore[no-any-return]

    def iterator(self, chunk_size: int | None = None) -> Iterator[Any]:
        """Stream the rows: each object is built when the loop reaches it, so its
        init signals interleave with the loop body, as in Django. Rows are fetched
        ``chunk_size`` (2000) at a time; after ``prefetch_related()`` a chunk is
        built and prefetched before it is handed out, and ``chunk_size`` is required."""
        if chunk_size is None:
            if self._prefetch:
                raise ValueError(
                    "chunk_size must be provided when using QuerySet.iterator() after "
                    "prefetch_related()."
                )
        elif chunk_size <= 0:
            raise ValueError("Chunk size must be strictly positive.")
        return stream(self, chunk_size)

    async def __aiter__(self) -> AsyncIterator[Any]:
        for obj in self._evaluate():
            yield obj


def _index_label(key: int | slice) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    start = "" if key.start is None else str(key.start)
    stop = "" if key.stop is None else str(key.stop)
    step = "" if key.step is None else f":{key.step}"
    return f"[{start}:{stop}{step}]"


_observe.async_variants(
    QuerySet,
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
        "delete",
    ),
)
