"""``select_related()``: which relations one query joins, and the objects a joined row builds.

As in Django, named relations are followed as written (``"product__brand"``
nests, ``"profile"`` may be a reverse one-to-one), and ``select_related()``
without names follows every non-null foreign key, recursively, five levels
deep. Columns come for the main model first, then for each related model depth
first, forward relations in field order before reverse ones; a row builds its
objects in that order, so ``pre_init``/``post_init`` pairs come the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sigcli.models.fields import FieldError

MAX_DEPTH = 5


@dataclass
class Join:
    """One joined relation: ``field`` points from ``model``'s side (``reverse``) or to it."""

    field: Any
    reverse: bool
    model: Any
    outer: bool
    children: list[Join] = field(default_factory=list)
    # Which of the model's columns are selected (``only``/``defer`` through the
    # relation); None for all of them.
    mask: list[bool] | None = None

    @property
    def name(self) -> str:
        return self.field.rel.query_name if self.reverse else self.field.name  # type: ignore[no-any-return]

    @property
    def own_width(self) -> int:
        return sum(self.mask) if self.mask is not None else len(self.model._meta.attnames)

    @property
    def width(self) -> int:
        """Columns this join and the ones under it add to a row."""
        return self.own_width + sum(child.width for child in self.children)


def _apply_masks(
    joins: list[Join], masks: tuple[tuple[str, str], ...], path: tuple[str, ...]
) -> None:
    """``only("author__name")`` keeps the author's pk and name (and the links to deeper
    ``only`` paths); ``defer("author__name")`` leaves the name out."""
    for join in joins:
        here = (*path, join.name)
        meta = join.model._meta
        only: set[str] = set()
        deferred: set[str] = set()
        for kind, name in masks:
            parts = tuple(name.split("__"))
            if parts[: len(here)] != here or len(parts) == len(here):
                continue
            target = meta.fields_map.get(parts[len(here)])
            if target is None:
                continue
            (only if kind == "only" else deferred).add(target.attname)
        if only:
            only.add(meta.pk.attname)
            join.mask = [a in only for a in meta.attnames]
        elif deferred:
            join.mask = [a not in deferred or a == meta.pk.attname for a in meta.attnames]
        _apply_masks(join.children, masks, here)


def join_tree(
    meta: Any, names: tuple[str, ...], masks: tuple[tuple[str, str], ...] = ()
) -> list[Join]:
    """The joins for ``select_related(*names)`` (``("",)`` for no names), with the
    columns ``only``/``defer`` paths (``masks``) leave in."""
    if names == ("",):
        joins = _every_non_null(meta, 1, False)
    else:
        requested: dict[str, Any] = {}
        for name in names:
            node = requested
            for part in name.split("__"):
                node = node.setdefault(part, {})
        joins = _named(meta, requested, False)
    if masks:
        _apply_masks(joins, masks, ())
    return joins


def _every_non_null(meta: Any, depth: int, outer: bool) -> list[Join]:
    if depth > MAX_DEPTH:
        return []
    joins = []
    for f in meta.concrete_fields:
        if f.is_relation and not f.null and not f.parent_link:
            remote = f.remote_model
            children = _every_non_null(remote._meta, depth + 1, outer)
            joins.append(Join(f, False, remote, outer, children))
    return joins


def _choices(meta: Any) -> str:
    names = [f.name for f in meta.concrete_fields if f.is_relation]
    names += [r.query_name for r in meta.related_objects if r.field.unique and r.query_name]
    return ", ".join(names) or "(none)"


def _named(meta: Any, requested: dict[str, Any], outer: bool) -> list[Join]:
    joins = []
    found = set()
    for f in meta.concrete_fields:
        if f.name not in requested:
            continue
        if not f.is_relation:
            raise FieldError(
                f"Non-relational field given in select_related: '{f.name}'. "
                f"Choices are: {_choices(meta)}"
            )
        found.add(f.name)
        if f.parent_link:
            continue
        remote = f.remote_model
        join_outer = outer or f.null
        children = _named(remote._meta, requested[f.name], join_outer)
        joins.append(Join(f, False, remote, join_outer, children))
    for rel in meta.related_objects:
        name = rel.query_name
        if not rel.field.unique or rel.field.many_to_many or name not in requested:
            continue
        found.add(name)
        related = rel.related_model
        joins.append(
            Join(rel.field, True, related, True, _named(related._meta, requested[name], True))
        )
    missing = [name for name in requested if name not in found]
    if missing:
        invalid = ", ".join(f"'{name}'" for name in missing)
        raise FieldError(
            f"Invalid field name(s) given in select_related: {invalid}. "
            f"Choices are: {_choices(meta)}"
        )
    return joins


def join_sql(meta: Any, table: str, joins: list[Join]) -> tuple[list[str], list[str]]:
    """The columns the joins add and their JOIN clauses (aliases ``T2``, ``T3``...)."""
    columns: list[str] = []
    clauses: list[str] = []
    _add_sql(meta, table, joins, columns, clauses)
    return columns, clauses


def _add_sql(
    meta: Any, table: str, joins: list[Join], columns: list[str], clauses: list[str]
) -> None:
    for join in joins:
        remote = join.model._meta
        alias = f"T{len(clauses) + 2}"
        if join.reverse:
            on = f'{table}."{meta.pk.column}" = {alias}."{join.field.column}"'
        else:
            on = f'{table}."{join.field.column}" = {alias}."{remote.pk.column}"'
        kind = "LEFT OUTER JOIN" if join.outer else "INNER JOIN"
        clauses.append(f'{kind} "{remote.read_table}" {alias} ON ({on})')
        mask = join.mask
        columns.extend(
            f'{alias}."{column}"'
            for index, column in enumerate(remote.columns)
            if mask is None or mask[index]
        )
        _add_sql(remote, alias, join.children, columns, clauses)


def populate(owner: Any, joins: list[Join], row: tuple[Any, ...], start: int, build: Any) -> None:
    """Build the related objects of ``owner`` from ``row[start:]`` and cache them both ways."""
    position = start
    for join in joins:
        meta = join.model._meta
        width = join.own_width
        values = row[position : position + width]
        if join.mask is not None:
            from sigcli.models.base import DEFERRED

            selected = iter(values)
            values = tuple(next(selected) if keep else DEFERRED for keep in join.mask)
        related = None
        if values[meta.attnames.index(meta.pk.attname)] is not None:
            related = build(join.model, values)
            populate(related, join.children, row, position + width, build)
        position += join.width
        f = join.field
        if join.reverse:
            owner._state.fields_cache[f.rel.accessor_name] = related
            if related is not None:
                related._state.fields_cache[f.name] = owner
        else:
            owner._state.fields_cache[f.name] = related
            if related is not None and f.one_to_one and not f.rel.hidden:
                related._state.fields_cache[f.rel.accessor_name] = owner
