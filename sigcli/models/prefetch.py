"""``prefetch_related()``: one extra query per lookup, its rows cached on the instances.

The rows are built (``pre_init``/``post_init``) right after the main query's,
one instance per row as Django builds them (a topping on two pizzas is two
instances), and ``pizza.toppings.all()`` then answers from the cache.
"""

from __future__ import annotations

from typing import Any

from sigcli.models.lookups import order_column


def prefetch_related_objects(objects: list[Any], lookups: tuple[str, ...]) -> None:
    """Fill each instance's prefetch cache (or relation cache) for every lookup.

    A nested lookup (``"book_set__review_set"``) prefetches level by level, each
    level once for all the objects the previous one found; a level an earlier
    lookup (or ``select_related``) already filled is not queried again.
    """
    done: set[str] = set()
    for lookup in lookups:
        level = objects
        parts = lookup.split("__")
        for depth, name in enumerate(parts):
            if not level:
                break
            path = "__".join(parts[: depth + 1])
            kind, descriptor = _relation(type(level[0]), name)
            if path not in done:
                done.add(path)
                if not _fetched(level[0], kind, descriptor, name):
                    _prefetch_level(level, kind, descriptor, name)
            level = _next_level(level, kind, descriptor, name)


def _relation(model: Any, name: str) -> tuple[str, Any]:
    from sigcli.models.related import (
        ForwardDescriptor,
        ManyToManyDescriptor,
        ReverseManyDescriptor,
        ReverseOneToOneDescriptor,
    )

    descriptor = getattr(model, name, None)
    kinds = (
        (ManyToManyDescriptor, "many"),
        (ReverseManyDescriptor, "many"),
        (ForwardDescriptor, "forward"),
        (ReverseOneToOneDescriptor, "reverse one"),
    )
    for klass, kind in kinds:
        if isinstance(descriptor, klass):
            return kind, descriptor
    if descriptor is None and name not in model._meta.fields_map:
        raise AttributeError(
            f"Cannot find '{name}' on {model.__name__} object, '{name}' is an invalid "
            "parameter to prefetch_related()"
        )
    raise ValueError(
        f"'{name}' does not resolve to an item that supports prefetching - this is an "
        "invalid parameter to prefetch_related()."
    )


def _fetched(obj: Any, kind: str, descriptor: Any, name: str) -> bool:
    if kind == "many":
        return name in (obj.__dict__.get("_prefetched_objects_cache") or {})
    key = descriptor.field.name if kind == "forward" else descriptor.rel.accessor_name
    return key in (obj._state.cache or {})


def _prefetch_level(objects: list[Any], kind: str, descriptor: Any, name: str) -> None:
    from sigcli.models.related import ManyToManyDescriptor

    if isinstance(descriptor, ManyToManyDescriptor):
        _many_to_many(objects, name, descriptor)
    elif kind == "many":
        _reverse_many(objects, name, descriptor.rel)
    elif kind == "forward":
        _forward(objects, descriptor.field)
    else:
        _reverse_one(objects, descriptor.rel)


def _next_level(objects: list[Any], kind: str, descriptor: Any, name: str) -> list[Any]:
    found: list[Any] = []
    for obj in objects:
        if kind == "many":
            found.extend(obj.__dict__["_prefetched_objects_cache"][name])
            continue
        key = descriptor.field.name if kind == "forward" else descriptor.rel.accessor_name
        related = obj._state.fields_cache.get(key)
        if related is not None:
            found.append(related)
    return found


def _rows(model: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    from sigcli.models.query import QuerySet

    meta = model._meta
    ordering = [order_column(meta, name) for name in meta.ordering]
    if ordering:
        sql += " ORDER BY " + ", ".join(ordering)
    return QuerySet(model)._db().execute(sql, params).fetchall()  # type: ignore[no-any-return]


def _build(model: Any, values: tuple[Any, ...]) -> Any:
    from sigcli.models.query import _from_row

    return _from_row(model, values)


def _cache(instance: Any, name: str, related: list[Any]) -> None:
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = related


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _many_to_many(objects: list[Any], name: str, descriptor: Any) -> None:
    field = descriptor.field
    if descriptor.reverse:
        target, source_name, target_name = (
            field.model,
            field.target_field_name,
            field.source_field_name,
        )
    else:
        target, source_name, target_name = (
            field.remote_model,
            field.source_field_name,
            field.target_field_name,
        )
    through = field.through._meta
    source_column = through.get_field(source_name).column
    target_column = through.get_field(target_name).column
    meta = target._meta
    pks = list(dict.fromkeys(obj.pk for obj in objects))
    # The target's default manager decides which rows count (its filters join in).
    base = target._default_manager.get_queryset()
    where = "".join(f" AND {condition}" for condition in base._where)
    sql = (
        f'SELECT {", ".join(meta.qualified_columns)}, "{through.db_table}"."{source_column}" '
        f'FROM {base._from_sql()} INNER JOIN "{through.db_table}" ON '
        f'("{meta.read_table}"."{meta.pk.column}" = "{through.db_table}"."{target_column}") '
        f'WHERE "{through.db_table}"."{source_column}" IN ({_marks(pks)}){where}'
    )
    groups: dict[Any, list[Any]] = {}
    for row in _rows(target, sql, [*pks, *base._params]):
        groups.setdefault(row[-1], []).append(_build(target, row[:-1]))
    for obj in objects:
        _cache(obj, name, groups.get(obj.pk, []))


def _reverse_many(objects: list[Any], name: str, rel: Any) -> None:
    """``author.book_set``: the rows the related model's default manager gives."""
    field = rel.field
    related = rel.related_model
    pks = list(dict.fromkeys(obj.pk for obj in objects))
    queryset = related._default_manager.get_queryset()._filter({f"{field.name}__in": pks}, False)
    by_pk = {obj.pk: obj for obj in objects}
    groups: dict[Any, list[Any]] = {}
    for child in queryset._fetch():
        owner_pk = child.__dict__.get(field.attname)
        child._state.fields_cache[field.name] = by_pk.get(owner_pk)
        groups.setdefault(owner_pk, []).append(child)
    for obj in objects:
        _cache(obj, name, groups.get(obj.pk, []))


def _forward(objects: list[Any], field: Any) -> None:
    remote = field.remote_model
    meta = remote._meta
    ids = list(
        dict.fromkeys(v for obj in objects if (v := obj.__dict__.get(field.attname)) is not None)
    )
    found: dict[Any, Any] = {}
    if ids:
        sql = f'{meta.select_sql} WHERE "{meta.read_table}"."{meta.pk.column}" IN ({_marks(ids)})'
        for row in _rows(remote, sql, ids):
            instance = _build(remote, row)
            found[instance.pk] = instance
    for obj in objects:
        value = obj.__dict__.get(field.attname)
        related = found.get(value) if value is not None else None
        obj._state.fields_cache[field.name] = related
        if related is not None and field.one_to_one and not field.rel.hidden:
            related._state.fields_cache[field.rel.accessor_name] = obj


def _reverse_one(objects: list[Any], rel: Any) -> None:
    field = rel.field
    related = rel.related_model
    meta = related._meta
    pks = list(dict.fromkeys(obj.pk for obj in objects))
    sql = f'{meta.select_sql} WHERE "{meta.read_table}"."{field.column}" IN ({_marks(pks)})'
    found: dict[Any, Any] = {}
    for row in _rows(related, sql, pks):
        child = _build(related, row)
        found[child.__dict__.get(field.attname)] = child
    for obj in objects:
        child = found.get(obj.pk)
        obj._state.fields_cache[rel.accessor_name] = child
        if child is not None:
            child._state.fields_cache[field.name] = obj
