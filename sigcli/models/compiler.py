"""The SQL a queryset sends: its SELECT, the FROM and WHERE that its reads,
counts and aggregates share, the WHERE of an UPDATE or DELETE of its rows,
and the sub-query it becomes inside ``__in``.

A queryset holds its state as plain tuples (conditions with ``?``
placeholders, joins, ordering, limits); these functions only read it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sigcli.models.expressions import Combinable
from sigcli.models.lookups import (
    EmptyResultSet,
    JoinSet,
    field_expression,
    join_clauses,
    order_column,
)

if TYPE_CHECKING:
    from sigcli.models.query import QuerySet


def where_sql(qs: QuerySet) -> str:
    return f" WHERE {' AND '.join(qs._where)}" if qs._where else ""


def from_sql(qs: QuerySet, entries: tuple[tuple[Any, ...], ...] | None = None) -> str:
    table = f'"{qs.model._meta.read_table}"'
    entries = qs._join_entries if entries is None else entries
    return f"{table} {' '.join(join_clauses(entries))}" if entries else table


def rows_where_sql(qs: QuerySet, table: Any = None) -> str:
    """The WHERE of an UPDATE or DELETE of ``table`` (the model's own ``_meta``, or
    a parent's): through the read query when filters joined tables or the model
    is read through its parents' view."""
    meta = qs.model._meta
    table = table or meta
    if not qs._join_entries and table.db_table == meta.read_table:
        return where_sql(qs)
    pk = f'"{table.db_table}"."{table.pk.column}"'
    selected = f'"{meta.read_table}"."{meta.pk.column}"'
    return f" WHERE {pk} IN (SELECT {selected} FROM {from_sql(qs)}{where_sql(qs)})"


def limit_sql(qs: QuerySet) -> str:
    if qs._high is not None:
        return f" LIMIT {qs._high - qs._low}" + (f" OFFSET {qs._low}" if qs._low else "")
    if qs._low:
        return f" LIMIT -1 OFFSET {qs._low}"
    return ""


def select_sql(qs: QuerySet) -> str:
    meta = qs.model._meta
    table = meta.read_table
    order = qs._ordering()
    joins = JoinSet(qs._join_entries, qs._shared_joins)
    order_sql = ", ".join(order_column(meta, name, joins) for name in order)
    from_part = from_sql(qs, joins.frozen())
    if qs._fields is not None:
        columns = ", ".join(field_expression(meta, name)[0] for name in qs._fields)
        sql = f"SELECT {'DISTINCT ' if qs._distinct else ''}{columns} FROM {from_part}"
    elif qs._only is not None or qs._related:
        wanted = None if qs._only is None else set(qs._only) | {meta.pk.attname}
        selected = [
            c
            for c, a in zip(meta.qualified_columns, meta.attnames, strict=True)
            if wanted is None or a in wanted
        ]
        joined = ""
        if qs._related:
            from sigcli.models.joined import join_sql

            related_columns, clauses = join_sql(meta, f'"{table}"', qs._joins())
            selected.extend(related_columns)
            joined = "".join(f" {clause}" for clause in clauses)
        distinct = "DISTINCT " if qs._distinct else ""
        sql = f"SELECT {distinct}{', '.join(selected)} FROM {from_part}{joined}"
    else:
        sql = meta.select_sql
        if from_part != f'"{table}"':
            sql = f"SELECT {', '.join(meta.qualified_columns)} FROM {from_part}"
        if qs._distinct:
            sql = sql.replace("SELECT ", "SELECT DISTINCT ", 1)
    sql += where_sql(qs)
    if order_sql:
        sql += " ORDER BY " + order_sql
    return sql + limit_sql(qs)


def subquery(qs: QuerySet) -> tuple[str, list[Any]]:
    """``qs`` as ``SELECT <pk or the values_list field>`` for ``__in``."""
    if qs._empty:
        raise EmptyResultSet
    meta = qs.model._meta
    column = field_expression(meta, qs._fields[0] if qs._fields else "pk")[0]
    sql = f"SELECT {column} FROM {from_sql(qs)}{where_sql(qs)}{limit_sql(qs)}"
    return sql, list(qs._params)


def reversed_order(item: Any) -> Any:
    """One item of an ordering, the other way round: ``"-name"`` for ``"name"``."""
    if isinstance(item, str):
        return item[1:] if item.startswith("-") else f"-{item}"
    if isinstance(item, Combinable):
        item = item.asc()
    return item.reversed()
