"""From the rows of a SELECT to what a queryset yields: instances (with their
``select_related`` objects and deferred fields), tuples, dicts or flat
values, built all at once or, for ``iterator()``, as the loop reaches them.

Building an instance sends ``pre_init`` and ``post_init`` as Django's
``Model.from_db`` does; :func:`load_rows` is that path inlined, the hot
path of a large read or cascade.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sigcli.models.base import DEFERRED, Model, ModelState
from sigcli.models.compiler import select_sql
from sigcli.models.lookups import field_expression
from sigcli.observation import current_observer
from sigcli.signals import post_init, pre_init

if TYPE_CHECKING:
    from sigcli.models.query import QuerySet


def build(qs: QuerySet, rows: list[tuple[Any, ...]]) -> list[Any]:
    """What ``qs`` yields for ``rows``, by its kind (objects, dicts, tuples, flat)."""
    model = qs.model
    meta = model._meta
    kind = qs._kind
    if kind != "objects":
        fields = [field_expression(meta, n)[1] for n in qs._fields or ()]
        value_converters = [(i, f.from_db) for i, f in enumerate(fields) if f.from_db is not None]
        if value_converters:
            rows = [convert(row, value_converters) for row in rows]
        if kind == "flat":
            return [row[0] for row in rows]
        if kind == "dict":
            names = qs._fields or ()
            return [dict(zip(names, row, strict=True)) for row in rows]
        return [tuple(row) for row in rows]
    converters = meta.converters
    width = len(meta.attnames)
    if qs._only is not None:
        wanted = set(qs._only) | {meta.pk.attname}
        positions = [a in wanted for a in meta.attnames]
        converters = tuple((i, f) for i, f in converters if positions[i])
        width = sum(positions)
        expanded = []
        for row in rows:
            values = iter(row)
            main = tuple(next(values) if keep else DEFERRED for keep in positions)
            expanded.append(main + row[width:])
        rows = expanded
        width = len(positions)
    if qs._related:
        from sigcli.models.joined import populate

        joins = qs._joins()
        objects = []
        for row in rows:
            main = row[:width]
            obj = model.from_db(convert(main, converters) if converters else main)
            populate(obj, joins, row, width, from_row)
            objects.append(obj)
    else:
        if converters:
            rows = [convert(row, converters) for row in rows]
        if qs._only is None and model.__init__ is Model.__init__:
            objects = load_rows(model, rows)
        else:
            from_db = model.from_db
            objects = [from_db(row) for row in rows]
    if qs._known is not None:
        name, instance = qs._known
        for obj in objects:
            obj._state.fields_cache[name] = instance
    return objects


def load_rows(model: Any, rows: list[tuple[Any, ...]]) -> list[Any]:
    """``Model.from_db`` for every row, inlined: loading is the hot path of a
    cascade. Each row sends ``pre_init`` (positional values, empty kwargs) and
    ``post_init`` while ``_state`` is still fresh, exactly as ``from_db``."""
    new, names, state_class = model.__new__, model._meta.attnames, ModelState
    send_pre, send_post = pre_init.send, post_init.send
    # A send with no receiver and no observer does nothing; skipping the call
    # is what keeps a large cascade cheap (receivers may appear mid-batch).
    observed = current_observer() is not None
    objects: list[Any] = []
    append = objects.append
    for row in rows:
        obj = new(model)
        if observed or pre_init.receivers:
            send_pre(sender=model, args=row, kwargs={})
        d = obj.__dict__
        d["_state"] = state = state_class()
        d.update(zip(names, row, strict=True))
        if observed or post_init.receivers:
            send_post(sender=model, instance=obj)
        state.adding = False
        state.db = "default"
        append(obj)
    return objects


def from_row(model: Any, values: tuple[Any, ...]) -> Any:
    """One instance of ``model`` from its columns, converted as read."""
    converters = model._meta.converters
    return model.from_db(convert(values, converters) if converters else values)


def convert(row: tuple[Any, ...], converters: Any) -> tuple[Any, ...]:
    values = list(row)
    for index, converter in converters:
        value = values[index]
        if value is not None and value is not DEFERRED:
            values[index] = converter(value)
    return tuple(values)


# -- iterator() ------------------------------------------------------------------


def stream(qs: QuerySet, chunk_size: int | None) -> Iterator[Any]:
    """``qs.iterator(chunk_size)``: rows fetched a chunk at a time, each object
    built when the loop reaches it (a chunk at once when it is prefetched)."""
    if qs._empty:
        return
    size = chunk_size or 2000
    label_args = (chunk_size,) if chunk_size is not None else ()
    cursor, rows = qs._report("iterator", label_args, None, _first_chunk, qs, size)
    prefetch = qs._prefetch if chunk_size is not None and qs._kind == "objects" else ()
    while rows:
        if prefetch:
            from sigcli.models.prefetch import prefetch_related_objects

            objects = build(qs, rows)
            prefetch_related_objects(objects, prefetch)
            yield from objects
        else:
            for row in rows:
                yield build(qs, [row])[0]
        rows = cursor.fetchmany(size)


def _first_chunk(qs: QuerySet, size: int) -> tuple[Any, list[Any]]:
    cursor = qs._db().execute(select_sql(qs), qs._params)
    return cursor, cursor.fetchmany(size)
