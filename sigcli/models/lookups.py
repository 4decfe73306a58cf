"""Turning ``filter(author__name__startswith="a")`` keywords into SQL.

Conditions are plain ``(sql, params)`` pairs over the queryset's table.
Relations are followed with ``IN (SELECT ...)`` sub-queries, so a filter never
multiplies rows. String lookups use ``LIKE`` as Django does on SQLite (which
makes ``contains`` and ``startswith`` case-insensitive for ASCII there too).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

from sigcli.models.expressions import is_expression
from sigcli.models.fields import FieldDoesNotExist, FieldError

if TYPE_CHECKING:
    from sigcli.models.options import Options

LOOKUPS = frozenset(
    {
        "exact",
        "iexact",
        "in",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "isnull",
        "range",
    }
)
_RELATED_LOOKUPS = frozenset({"exact", "in", "gt", "gte", "lt", "lte", "isnull"})
_COMPARISONS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_LIKE = {
    "iexact": "{}",
    "contains": "%{}%",
    "icontains": "%{}%",
    "startswith": "{}%",
    "istartswith": "{}%",
    "endswith": "%{}",
    "iendswith": "%{}",
}


class EmptyResultSet(Exception):
    """The condition can match no row (``__in=[]``): the query need not run."""


class FullResultSet(Exception):
    """The condition matches every row: it can be left out of the SQL."""


def _escape_like(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _value_for(field: Any, value: Any, key: str) -> Any:
    """A lookup value as a query parameter: instances become their pk."""
    from sigcli.models.base import Model

    if isinstance(value, Model):
        remote = getattr(field, "remote_model", None)
        if remote is not None and not isinstance(value, remote):
            raise ValueError(
                f'Cannot query "{value!r}": Must be "{remote._meta.object_name}" instance.'
            )
        if remote is None and field.number_kind is not None:
            raise TypeError(f"Field '{field.name}' expected a number but got {value!r}.")
        value = value.pk if remote is not None else value
    target = getattr(field, "target_field", None) or field
    prep = target.prep
    if prep is not None and value is not None:
        try:
            return prep(value)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"Field '{field.name}' expected a number but got {value!r}."
            ) from error
    return value


def _related_values(target: Options, value: Any) -> Any:
    """Instances given for a reverse or many-to-many relation become the target's pks."""
    from sigcli.models.base import Model

    def one(item: Any) -> Any:
        if isinstance(item, Model):
            if item._meta.concrete_model is not target.concrete_model:
                raise ValueError(
                    f'Cannot query "{item!r}": Must be "{target.object_name}" instance.'
                )
            return item.pk
        return item

    if isinstance(value, (list, tuple, set, frozenset)):
        return [one(item) for item in value]
    return one(value)


def _pattern_value(value: Any) -> Any:
    """Pattern lookups (``iexact``, ``contains``...) match the text as given, unconverted, as in Django."""
    from sigcli.models.base import Model

    return value.pk if isinstance(value, Model) else value


def column_lookup(
    field: Any, column: str, lookup: str, value: Any, key: str, round_floats: bool = True
) -> tuple[str, list[Any]]:
    """SQL for one lookup on one column."""
    from sigcli.models.compiler import subquery
    from sigcli.models.query import QuerySet

    if value is None and lookup not in ("exact", "iexact"):
        raise ValueError("Cannot use None as a query value")
    if lookup == "isnull" and not isinstance(value, bool):
        raise ValueError("The QuerySet value for an isnull lookup must be True or False.")
    if is_expression(value) and (lookup == "exact" or lookup in _COMPARISONS):
        sql, params = value.as_sql(field.model._meta)
        return f"{column} {_COMPARISONS.get(lookup, '=')} {sql}", params
    if lookup == "exact" or lookup == "iexact":
        if value is None:
            return f"{column} IS NULL", []
        if isinstance(value, QuerySet):
            sub, params = subquery(value)
            return f"{column} = ({sub})", params
        if lookup == "exact":
            return f"{column} = ?", [_value_for(field, value, key)]
        return f"{column} LIKE ? ESCAPE '\\'", [_escape_like(_pattern_value(value))]
    if lookup in _LIKE:
        pattern = _LIKE[lookup].format(_escape_like(_pattern_value(value)))
        return f"{column} LIKE ? ESCAPE '\\'", [pattern]
    if lookup in _COMPARISONS:
        if (
            round_floats
            and lookup in ("gte", "lt")
            and isinstance(value, float)
            and field.number_kind is int
        ):
            value = math.ceil(value)
        return f"{column} {_COMPARISONS[lookup]} ?", [_value_for(field, value, key)]
    if lookup == "in":
        if isinstance(value, QuerySet):
            sub, params = subquery(value)
            return f"{column} IN ({sub})", params
        values = [_value_for(field, v, key) for v in value if v is not None]
        values = list(dict.fromkeys(values))
        if not values:
            raise EmptyResultSet
        return f"{column} IN ({', '.join('?' for _ in values)})", values
    if lookup == "isnull":
        return (f"{column} IS NULL" if value else f"{column} IS NOT NULL"), []
    if lookup == "range":
        low, high = value
        return f"{column} BETWEEN ? AND ?", [
            _value_for(field, low, key),
            _value_for(field, high, key),
        ]
    raise FieldError(
        f"Unsupported lookup '{lookup}' for {type(field).__name__} or join on the field not permitted."
    )


_join_calls = itertools.count()


class JoinSet:
    """The joins a queryset's conditions add, built up call by call.

    As in Django, a foreign key's join is shared by every condition that goes
    through it, while each ``filter()`` call adds its own join for a reverse or
    many-to-many relation, so a row comes back once per matching related row.
    A join that a NULL-accepting condition goes through (``team__isnull=True``,
    any ``exclude()``) is LEFT OUTER.
    """

    def __init__(
        self, entries: tuple[tuple[Any, ...], ...] = (), shared: dict[Any, int] | None = None
    ) -> None:
        self.entries = [list(entry) for entry in entries]
        self.shared = dict(shared or {})
        self.local: dict[Any, int] = {}
        self.call = next(_join_calls)
        # Foreign-key paths Django's join promotion has made INNER while this call's
        # conditions are built (a negated ``~Q(team=None)`` does); a later negated
        # lookup through such a join gets no ``IS NOT NULL`` guard, as in Django.
        self.demoted: set[tuple[Any, ...]] = set()
        self.touched: set[tuple[Any, ...]] = set()
        # An INNER join an earlier call made stays INNER (Django demotes it back).
        self.kept_inner = {index for index, entry in enumerate(self.entries) if not entry[0]}
        self.demoted.update(path for path, index in self.shared.items() if index in self.kept_inner)

    def join(self, path: tuple[Any, ...], table: str, on: str, outer: bool, shared: bool) -> str:
        known = self.shared if shared else self.local
        index = known.get(path)
        if index is None:
            alias = f"J{len(self.entries) + 1}"
            self.entries.append([outer, table, alias, on.replace("{alias}", alias)])
            index = known[path] = len(self.entries) - 1
        elif outer and index not in self.kept_inner:
            self.entries[index][0] = True
        return self.entries[index][2]  # type: ignore[no-any-return]

    def frozen(self) -> tuple[tuple[Any, ...], ...]:
        return tuple(tuple(entry) for entry in self.entries)


def join_clauses(entries: tuple[tuple[Any, ...], ...]) -> list[str]:
    return [
        f'{"LEFT OUTER JOIN" if outer else "INNER JOIN"} "{table}" {alias} ON ({on})'
        for outer, table, alias, on in entries
    ]


def compile_condition(
    meta: Options,
    key: str,
    value: Any,
    negated: bool = False,
    joins: JoinSet | None = None,
    join_many: bool = False,
    outer: bool = False,
) -> tuple[str, list[Any]]:
    """SQL for ``key=value`` on ``meta``'s table; raises FieldError for unknown names.

    Foreign keys are followed with ``joins`` when given (else a sub-query);
    reverse and many-to-many relations are joined only when ``join_many``
    (a ``filter()`` call) and otherwise become ``IN (SELECT ...)`` (``exclude()``, ``Q``).
    ``outer`` (a condition under a negation or an OR) makes nullable joins LEFT OUTER.
    """
    parts = key.split("__")
    many = joins if join_many else None
    return _compile(
        meta, f'"{meta.read_table}"', parts, value, key, negated, many, (), joins, False, outer
    )


def _resolve(meta: Options, name: str) -> Any:
    if name == "pk":
        return meta.pk
    try:
        return meta.get_field(name)
    except FieldDoesNotExist:
        raise FieldError(
            f"Cannot resolve keyword '{name}' into field of model {meta.object_name}. "
            f"Choices are: {meta.field_choices()}"
        ) from None


def needs_outer(key: str, value: Any, negated: bool) -> bool:
    """Django's ``require_outer`` for one condition: it cannot vote its joins INNER."""
    last = key.rsplit("__", 1)[-1]
    lookup = last if last in LOOKUPS else "exact"
    if lookup in ("exact", "iexact") and value is None:
        lookup, value = "isnull", True
    if lookup == "isnull" and value is True and not negated:
        return True
    return negated and (lookup != "isnull" or value is False)


def _accepts_null(rest: list[str], value: Any) -> bool:
    """Whether the condition at the end of a path matches a missing related row."""
    lookup = rest[-1] if rest and rest[-1] in LOOKUPS else "exact"
    return (lookup == "isnull" and value is True) or (
        lookup in ("exact", "iexact") and value is None
    )


def _compile(
    meta: Options,
    table: str,
    parts: list[str],
    value: Any,
    key: str,
    negated: bool,
    joins: JoinSet | None,
    path: tuple[Any, ...],
    fk_joins: JoinSet | None,
    nullable_join: bool,
    force_outer: bool = False,
    guard_join: bool | None = None,
) -> tuple[str, list[Any]]:
    if guard_join is None:
        guard_join = nullable_join
    name, rest = parts[0], parts[1:]
    field = _resolve(meta, name)
    if len(rest) > 1 and rest[-1] not in LOOKUPS and not getattr(field, "is_relation", False):
        raise FieldError(
            f"Unsupported lookup '{'__'.join(rest)}' for {type(field).__name__} or join on the field not permitted."
        )
    if getattr(field, "is_reverse", False) or getattr(field, "many_to_many", False):
        if joins is not None and not negated:
            return _compile_join(
                meta, table, field, name, rest, value, key, joins, path, force_outer
            )
        return _compile_multi(meta, table, field, rest, value, key)
    column = f'{table}."{field.column}"'
    if field.is_relation and rest and rest[0] not in LOOKUPS and name == field.name:
        remote = field.remote_model._meta
        if rest[0] in ("pk", remote.pk.name) and (len(rest) == 1 or rest[1] in LOOKUPS):
            if fk_joins is not None:
                fk_joins.touched.add((*path, name))
            lookup = rest[1] if len(rest) > 1 else "exact"
            sql, params = column_lookup(field, column, lookup, value, key)
            if negated and field.null and lookup != "isnull" and value is not None:
                sql = f"{sql} AND {column} IS NOT NULL"
            return sql, params
        here = (*path, name)
        if fk_joins is not None:
            fk_joins.touched.add(here)
            outer = nullable_join or (
                field.null and (negated or force_outer or _accepts_null(rest, value))
            )
            alias = fk_joins.join(
                here,
                remote.read_table,
                f'{column} = {{alias}}."{remote.pk.column}"',
                outer,
                shared=True,
            )
            guarded = (guard_join or field.null) and here not in fk_joins.demoted
            return _compile(
                remote,
                alias,
                rest,
                value,
                key,
                negated,
                joins,
                here,
                fk_joins,
                outer or field.null,
                force_outer,
                guarded,
            )
        inner = f'"{remote.read_table}"'
        sub_sql, params = _compile(remote, inner, rest, value, key, False, None, (), None, False)
        sql = f'{column} IN (SELECT {inner}."{remote.pk.column}" FROM {inner} WHERE {sub_sql})'
        if field.null and _accepts_null(rest, value):
            sql = f"({column} IS NULL OR {sql})"
        if (
            negated
            and field.null
            and not (rest and rest[-1] == "isnull")
            and not _accepts_null(rest, value)
        ):
            sql = f"{sql} AND {column} IS NOT NULL"
        return sql, params
    if len(rest) > 1 or (rest and rest[0] not in LOOKUPS):
        raise FieldError(
            f"Unsupported lookup '{'__'.join(rest)}' for {type(field).__name__} or join on the field not permitted."
        )
    lookup = rest[0] if rest else "exact"
    if field.is_relation and lookup not in _RELATED_LOOKUPS:
        raise FieldError(f"Related Field got invalid lookup: {lookup}")
    if field.is_relation and fk_joins is not None:
        # Django resolves ``team`` and ``team_id`` alike through the join it then trims.
        fk_joins.touched.add((*path, field.name))
    sql, params = column_lookup(field, column, lookup, value, key)
    if negated and (field.null or guard_join) and lookup != "isnull" and value is not None:
        sql = f"{sql} AND {column} IS NOT NULL"
    return sql, params


def _relation_lookup(rest: list[str], value: Any, target_meta: Options) -> tuple[str, Any]:
    """The lookup on a reverse or many-to-many relation itself (``book=b``, ``book__in``,
    ``book=None`` meaning no related row), with instances as the target's pks."""
    lookup = rest[0] if rest else "exact"
    if lookup not in _RELATED_LOOKUPS:
        raise FieldError(f"Related Field got invalid lookup: {lookup}")
    if value is None and lookup in ("exact", "iexact"):
        lookup, value = "isnull", True
    if lookup == "isnull" and not isinstance(value, bool):
        raise ValueError("The QuerySet value for an isnull lookup must be True or False.")
    return lookup, _related_values(target_meta, value)


def _compile_join(
    meta: Options,
    table: str,
    relation: Any,
    name: str,
    rest: list[str],
    value: Any,
    key: str,
    joins: JoinSet,
    path: tuple[Any, ...],
    force_outer: bool = False,
) -> tuple[str, list[Any]]:
    """A ``filter()`` condition through a reverse FK or a many-to-many, as a join."""
    sub_table, link_column, target_column, target_meta = relation.join_info(meta)
    outer = force_outer or _accepts_null(rest, value)
    here = (*path, name, joins.call)
    alias = joins.join(
        here,
        sub_table,
        f'{table}."{meta.pk.column}" = {{alias}}."{link_column}"',
        outer,
        shared=False,
    )
    if not rest or rest[0] in LOOKUPS:
        lookup, value = _relation_lookup(rest, value, target_meta)
        return column_lookup(
            target_meta.pk, f'{alias}."{target_column}"', lookup, value, key, round_floats=False
        )
    if sub_table == target_meta.read_table:
        return _compile(
            target_meta, alias, rest, value, key, False, joins, here, joins, outer, force_outer
        )
    target_path = (*here, "+")
    target = joins.join(
        target_path,
        target_meta.read_table,
        f'{alias}."{target_column}" = {{alias}}."{target_meta.pk.column}"',
        outer,
        shared=False,
    )
    return _compile(
        target_meta, target, rest, value, key, False, joins, target_path, joins, outer, force_outer
    )


def _compile_multi(
    meta: Options, table: str, relation: Any, rest: list[str], value: Any, key: str
) -> tuple[str, list[Any]]:
    """A condition through a reverse FK or a many-to-many: ``pk IN (SELECT ...)``."""
    own_pk = f'{table}."{meta.pk.column}"'
    sub_table, link_column, target_column, target_meta = relation.join_info(meta)
    sub = f'"{sub_table}"'
    if not rest or rest[0] in LOOKUPS:
        lookup, value = _relation_lookup(rest, value, target_meta)
        if lookup == "isnull":
            inner = (
                f'SELECT {sub}."{link_column}" FROM {sub} WHERE {sub}."{link_column}" IS NOT NULL'
            )
            return (f"{own_pk} NOT IN ({inner})" if value else f"{own_pk} IN ({inner})"), []
        cond, params = column_lookup(
            target_meta.pk, f'{sub}."{target_column}"', lookup, value, key, round_floats=False
        )
    elif sub_table == target_meta.read_table:
        cond, params = _compile(target_meta, sub, rest, value, key, False, None, (), None, False)
    else:
        target = f'"{target_meta.read_table}"'
        inner, params = _compile(
            target_meta, target, rest, value, key, False, None, (), None, False
        )
        cond = (
            f'{sub}."{target_column}" IN (SELECT {target}."{target_meta.pk.column}" '
            f"FROM {target} WHERE {inner})"
        )
    return f'{own_pk} IN (SELECT {sub}."{link_column}" FROM {sub} WHERE {cond})', params


def field_expression(
    meta: Options, name: str, table: str | None = None, depth: int = 0
) -> tuple[str, Any]:
    """SQL for a value path (``"title"``, ``"pk"``, ``"author__name"``) and the field it ends on.

    A path through a foreign key becomes a correlated sub-query, so it never
    multiplies or drops rows.
    """
    head, _, rest = name.partition("__")
    field: Any = meta.pk if head == "pk" else meta.fields_map.get(head)
    if field is None or getattr(field, "many_to_many", False) or (rest and not field.is_relation):
        raise FieldError(
            f"Cannot resolve keyword '{head if field is None else name}' into field of model "
            f"{meta.object_name}. Choices are: {meta.field_choices()}"
        )
    qualifier = table or f'"{meta.read_table}"'
    column = f'{qualifier}."{field.column}"'
    if not rest:
        return column, field
    remote = field.remote_model._meta
    alias = f"U{depth}"
    inner, target = field_expression(remote, rest, alias, depth + 1)
    return (
        f'(SELECT {inner} FROM "{remote.read_table}" {alias} WHERE {alias}."{remote.pk.column}" = {column})',
        target,
    )


def order_column(meta: Options, name: Any, joins: JoinSet | None = None) -> str:
    """``"-title"`` → ``"app_book"."title" DESC``; ``"?"`` → random order; ``F(...).desc()`` as given.

    With ``joins``, a path through a reverse or many-to-many relation
    (``"book__title"``) adds a LEFT OUTER join, so a row comes back once per
    related row, as Django orders.
    """
    from sigcli.models.expressions import Combinable, OrderBy

    if isinstance(name, Combinable):
        name = name.asc()
    if isinstance(name, OrderBy):
        return name.as_sql(meta)
    if name == "?":
        return "RANDOM()"
    descending = name.startswith("-")
    bare = name.lstrip("-")
    if joins is not None:
        expression = _ordering_expression(meta, bare, joins, f'"{meta.read_table}"', ())
    else:
        expression, _ = field_expression(meta, bare)
    return f"{expression} DESC" if descending else f"{expression} ASC"


def _ordering_expression(
    meta: Options, name: str, joins: JoinSet, table: str, path: tuple[Any, ...]
) -> str:
    head, _, rest = name.partition("__")
    if head != "pk" and head not in meta.fields_map:
        relation = _resolve(meta, head)
        if getattr(relation, "is_reverse", False) or getattr(relation, "many_to_many", False):
            sub_table, link_column, target_column, target_meta = relation.join_info(meta)
            here = (*path, "order", head)
            alias = joins.join(
                here,
                sub_table,
                f'{table}."{meta.pk.column}" = {{alias}}."{link_column}"',
                True,
                shared=True,
            )
            if sub_table != target_meta.read_table:
                here = (*here, "+")
                alias = joins.join(
                    here,
                    target_meta.read_table,
                    f'{alias}."{target_column}" = {{alias}}."{target_meta.pk.column}"',
                    True,
                    shared=True,
                )
            if not rest:
                return f'{alias}."{target_meta.pk.column}"'
            return _ordering_expression(target_meta, rest, joins, alias, here)
    return field_expression(meta, name, table)[0]
