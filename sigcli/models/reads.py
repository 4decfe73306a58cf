"""What the queryset's reading methods beyond iteration do: get, first and
last, latest and earliest, in_bulk, contains, aggregate, count and exists.

Each is called through the queryset's report to the ORM observer (so it
shows as one ORM call, however many queries it sends). ``get`` and the
methods that return instances send ``pre_init``/``post_init`` per row, as
any read does; ``count``, ``exists`` and ``aggregate`` build no instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sigcli.models.base import Model
from sigcli.models.compiler import from_sql, reversed_order, select_sql, where_sql

if TYPE_CHECKING:
    from sigcli.models.query import QuerySet

#: ``get()`` fetches this many rows at most, to say how many more there were.
MAX_GET_RESULTS = 21
#: Parameters per statement in ``in_bulk``, as Django's SQLite backend (``max_query_params``).
MAX_QUERY_PARAMS = 999


def get(qs: QuerySet, kwargs: dict[str, Any] | None = None, args: tuple[Any, ...] = ()) -> Any:
    if args:
        clone = qs._filter_q(args, kwargs or {}, False)
    else:
        clone = qs._filter(kwargs, False) if kwargs else qs._chain()
    if not clone._low and clone._high is None:
        clone._order = ()
        clone._high = MAX_GET_RESULTS
    found = clone._fetch()
    count = len(found)
    name = qs.model._meta.object_name
    if count == 1:
        return found[0]
    if not count:
        raise qs.model.DoesNotExist(f"{name} matching query does not exist.")
    shown = count if count < MAX_GET_RESULTS else f"more than {MAX_GET_RESULTS - 1}"
    raise qs.model.MultipleObjectsReturned(
        f"get() returned more than one {name} -- it returned {shown}!"
    )


def edge(qs: QuerySet, last: bool) -> Any:
    """``first()`` or ``last()``: by the ordering, else by primary key."""
    if last:
        edged = qs.reverse() if qs.ordered else qs.order_by("-pk")
    else:
        edged = qs if qs.ordered else qs.order_by("pk")
    found = edged[:1]._fetch()
    return found[0] if found else None


def latest_or_earliest(qs: QuerySet, fields: tuple[str, ...], latest: bool) -> Any:
    if qs._low or qs._high is not None:
        raise TypeError("Cannot change a query once a slice has been taken.")
    order = fields or tuple(
        [qs.model._meta.get_latest_by]
        if isinstance(qs.model._meta.get_latest_by, str)
        else qs.model._meta.get_latest_by or ()
    )
    if not order:
        raise ValueError(
            "earliest() and latest() require either fields as positional arguments or "
            "'get_latest_by' in the model's Meta."
        )
    if latest:
        order = tuple(reversed_order(name) for name in order)
    clone = qs.order_by(*order)
    clone._high = 1
    return get(clone)


def in_bulk(qs: QuerySet, id_list: Any, field_name: str) -> dict[Any, Any]:
    if qs._low or qs._high is not None:
        raise TypeError("Cannot use 'limit' or 'offset' with in_bulk().")
    if qs._kind != "objects":
        raise TypeError("in_bulk() cannot be used with values() or values_list().")
    meta = qs.model._meta
    if field_name != "pk" and not meta.get_field(field_name).unique:
        raise ValueError(f"in_bulk()'s field_name must be a unique field but {field_name!r} isn't.")
    if id_list is None:
        objects = qs._chain()._fetch()
    else:
        ids = tuple(id_list)
        if not ids:
            return {}
        objects = []
        for start in range(0, len(ids), MAX_QUERY_PARAMS):
            objects.extend(
                qs._filter(
                    {f"{field_name}__in": ids[start : start + MAX_QUERY_PARAMS]}, False
                )._fetch()
            )
    return {getattr(obj, field_name): obj for obj in objects}


def contains(qs: QuerySet, obj: Any) -> bool:
    if qs._fields is not None:
        raise TypeError("Cannot call QuerySet.contains() after .values() or .values_list().")
    if not isinstance(obj, Model) or obj._meta.concrete_model is not qs.model._meta.concrete_model:
        raise TypeError(
            f"'obj' must be a QuerySet instance of {qs.model._meta.object_name}."
            if not isinstance(obj, Model)
            else f"'obj' must be a {qs.model._meta.object_name} instance."
        )
    if obj.pk is None:
        raise ValueError("QuerySet.contains() cannot be used on unsaved objects.")
    if qs._result_cache is not None:
        return obj in qs._result_cache
    return exists(qs._filter({"pk": obj.pk}, False))


def aggregate(qs: QuerySet, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    from sigcli.models.aggregates import Aggregate

    named = dict(kwargs)
    for expression in args:
        if not isinstance(expression, Aggregate):
            raise TypeError("Complex aggregates require an alias")
        named[expression.default_alias] = expression
    meta = qs.model._meta
    columns = []
    for alias, expression in named.items():
        if not isinstance(expression, Aggregate):
            raise TypeError(f"{expression!r} is not an aggregate expression")
        columns.append(f'{expression.as_sql(meta)} AS "{alias}"')
    if qs._low or qs._high is not None or qs._distinct:
        inner = qs._chain()
        inner._order = ()
        source = f"({select_sql(inner)}) subquery"
        columns = [c.replace(f'"{meta.read_table}".', "subquery.") for c in columns]
        sql = f"SELECT {', '.join(columns)} FROM {source}"
    else:
        sql = f"SELECT {', '.join(columns)} FROM {from_sql(qs)}{where_sql(qs)}"
    if qs._empty:
        return {alias: expression.empty_value for alias, expression in named.items()}
    row = qs._db().execute(sql, qs._params).fetchone()
    return {
        alias: expression.convert(value)
        for (alias, expression), value in zip(named.items(), row, strict=True)
    }


def count(qs: QuerySet) -> int:
    if qs._empty:
        return 0
    if qs._low or qs._high is not None or qs._distinct:
        inner = qs._chain()
        inner._order = ()
        sql = f"SELECT COUNT(*) FROM ({select_sql(inner)}) subquery"
    else:
        sql = f'SELECT COUNT(*) AS "__count" FROM {from_sql(qs)}{where_sql(qs)}'
    return int(qs._db().execute(sql, qs._params).fetchone()[0])


def exists(qs: QuerySet) -> bool:
    if qs._empty:
        return False
    sql = f'SELECT 1 AS "a" FROM {from_sql(qs)}{where_sql(qs)} LIMIT 1'
    return qs._db().execute(sql, qs._params).fetchone() is not None
