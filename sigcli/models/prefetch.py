"""``prefetch_related()``: one extra query per lookup, its rows cached on the instances.

The rows are built (``pre_init``/``post_init``) right after the main query's,
one instance per row as Django builds them (a topping on two pizzas is two
instances), and ``pizza.toppings.all()`` then answers from the cache. A
``Prefetch(lookup, queryset=..., to_attr=...)`` chooses the rows of its last
level and may store them in an attribute of their own.
"""

from __future__ import annotations

from typing import Any

from sigcli.models.compiler import from_sql
from sigcli.models.lookups import order_column
from sigcli.models.rows import from_row


class Prefetch:
    """One ``prefetch_related`` lookup with its own queryset and/or attribute."""

    def __init__(self, lookup: str, queryset: Any = None, to_attr: str | None = None) -> None:
        if queryset is not None and queryset._kind != "objects":
            raise ValueError("Prefetch querysets cannot use raw(), values(), and values_list().")
        self.prefetch_through = lookup
        self.queryset = queryset
        self.to_attr = to_attr
        parts = lookup.split("__")
        self.prefetch_to = "__".join([*parts[:-1], to_attr]) if to_attr else lookup

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Prefetch) and self.prefetch_to == other.prefetch_to

    def __hash__(self) -> int:
        return hash((type(self), self.prefetch_to))

    def __repr__(self) -> str:
        return f"<Prefetch: {self.prefetch_to}>"


def prefetch_related_objects(objects: list[Any], lookups: tuple[Any, ...]) -> None:
    """Fill each instance's prefetch cache (or relation cache) for every lookup.

    A nested lookup (``"book_set__review_set"``) prefetches level by level, each
    level once for all the objects the previous one found; a level an earlier
    lookup (or ``select_related``) already filled is not queried again.
    """
    done: set[str] = set()
    for item in lookups:
        lookup = item if isinstance(item, Prefetch) else Prefetch(item)
        if lookup.prefetch_to in done:
            if lookup.queryset is not None:
                raise ValueError(
                    f"'{lookup.prefetch_to}' lookup was already seen with a different queryset. "
                    "You may need to adjust the ordering of your lookups."
                )
            continue
        level = objects
        parts = lookup.prefetch_through.split("__")
        for depth, name in enumerate(parts):
            if not level:
                break
            last = depth == len(parts) - 1
            to_attr = lookup.to_attr if last else None
            queryset = lookup.queryset if last else None
            path = lookup.prefetch_to if last else "__".join(parts[: depth + 1])
            kind, descriptor = _relation(type(level[0]), name)
            if path not in done:
                done.add(path)
                if not _fetched(level[0], kind, descriptor, name, to_attr):
                    _prefetch_level(level, kind, descriptor, name, queryset, to_attr)
            if to_attr:
                break
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


def _fetched(obj: Any, kind: str, descriptor: Any, name: str, to_attr: str | None) -> bool:
    if to_attr:
        return to_attr in obj.__dict__
    if kind == "many":
        return name in (obj.__dict__.get("_prefetched_objects_cache") or {})
    key = descriptor.field.name if kind == "forward" else descriptor.rel.accessor_name
    return key in (obj._state.cache or {})


def _prefetch_level(
    objects: list[Any],
    kind: str,
    descriptor: Any,
    name: str,
    queryset: Any,
    to_attr: str | None,
) -> None:
    from sigcli.models.related import ManyToManyDescriptor

    if isinstance(descriptor, ManyToManyDescriptor):
        groups = _many_to_many(objects, descriptor, queryset)
    elif kind == "many":
        groups = _reverse_many(objects, descriptor.rel, queryset)
    elif kind == "forward":
        _forward(objects, descriptor.field, queryset, to_attr)
        return
    else:
        _reverse_one(objects, descriptor.rel, queryset, to_attr)
        return
    for obj in objects:
        related = groups.get(obj.pk, [])
        if to_attr:
            setattr(obj, to_attr, related)
        else:
            obj.__dict__.setdefault("_prefetched_objects_cache", {})[name] = related


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


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values)


def _many_to_many(objects: list[Any], descriptor: Any, queryset: Any) -> dict[Any, list[Any]]:
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
    # The target's default manager (or the Prefetch's queryset) decides which rows count.
    base = queryset if queryset is not None else target._default_manager.get_queryset()
    where = "".join(f" AND {condition}" for condition in base._where)
    sql = (
        f'SELECT {", ".join(meta.qualified_columns)}, "{through.db_table}"."{source_column}" '
        f'FROM {from_sql(base)} INNER JOIN "{through.db_table}" ON '
        f'("{meta.read_table}"."{meta.pk.column}" = "{through.db_table}"."{target_column}") '
        f'WHERE "{through.db_table}"."{source_column}" IN ({_marks(pks)}){where}'
    )
    ordering = [order_column(meta, name) for name in base._ordering()]
    if ordering:
        sql += " ORDER BY " + ", ".join(ordering)
    groups: dict[Any, list[Any]] = {}
    for row in base._db().execute(sql, [*pks, *base._params]).fetchall():
        groups.setdefault(row[-1], []).append(from_row(target, row[:-1]))
    return groups


def _reverse_many(objects: list[Any], rel: Any, queryset: Any) -> dict[Any, list[Any]]:
    """``author.book_set``: the rows the related model's default manager gives."""
    field = rel.field
    related = rel.related_model
    pks = list(dict.fromkeys(obj.pk for obj in objects))
    base = queryset if queryset is not None else related._default_manager.get_queryset()
    by_pk = {obj.pk: obj for obj in objects}
    groups: dict[Any, list[Any]] = {}
    for child in base._filter({f"{field.name}__in": pks}, False)._fetch():
        owner_pk = child.__dict__.get(field.attname)
        child._state.fields_cache[field.name] = by_pk.get(owner_pk)
        groups.setdefault(owner_pk, []).append(child)
    return groups


def _forward(objects: list[Any], field: Any, queryset: Any, to_attr: str | None) -> None:
    """``book.author``: one query through a plain manager (or the Prefetch's queryset)."""
    remote = field.remote_model
    ids = list(
        dict.fromkeys(v for obj in objects if (v := obj.__dict__.get(field.attname)) is not None)
    )
    found: dict[Any, Any] = {}
    if ids:
        base = queryset if queryset is not None else remote._base_manager.get_queryset()
        for instance in base._filter({"pk__in": ids}, False)._fetch():
            found[instance.pk] = instance
    for obj in objects:
        value = obj.__dict__.get(field.attname)
        related = found.get(value) if value is not None else None
        if to_attr:
            setattr(obj, to_attr, related)
            continue
        obj._state.fields_cache[field.name] = related
        if related is not None and field.one_to_one and not field.rel.hidden:
            related._state.fields_cache[field.rel.accessor_name] = obj


def _reverse_one(objects: list[Any], rel: Any, queryset: Any, to_attr: str | None) -> None:
    field = rel.field
    related = rel.related_model
    pks = list(dict.fromkeys(obj.pk for obj in objects))
    base = queryset if queryset is not None else related._base_manager.get_queryset()
    found: dict[Any, Any] = {}
    for child in base._filter({f"{field.name}__in": pks}, False)._fetch():
        found[child.__dict__.get(field.attname)] = child
    for obj in objects:
        child = found.get(obj.pk)
        if to_attr:
            setattr(obj, to_attr, child)
            continue
        obj._state.fields_cache[rel.accessor_name] = child
        if child is not None:
            child._state.fields_cache[field.name] = obj
