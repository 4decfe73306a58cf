"""``F()`` expressions: a column's own value in ``update()``, ``save()`` and filters.

``F("views") + 1`` becomes ``"app_post"."views" + ?`` with the parameter
bound, so counters maintained by receivers (``update(count=F("count") + 1)``)
run in the database as they do in Django.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigcli.models.options import Options


class Combinable:
    """Arithmetic that builds a :class:`CombinedExpression` instead of computing."""

    def _combine(self, operator: str, other: Any, reversed_: bool) -> CombinedExpression:
        return (
            CombinedExpression(other, operator, self)
            if reversed_
            else CombinedExpression(self, operator, other)
        )

    def __add__(self, other: Any) -> CombinedExpression:
        return self._combine("+", other, False)

    def __radd__(self, other: Any) -> CombinedExpression:
        return self._combine("+", other, True)

    def __sub__(self, other: Any) -> CombinedExpression:
        return self._combine("-", other, False)

    def __rsub__(self, other: Any) -> CombinedExpression:
        return self._combine("-", other, True)

    def __mul__(self, other: Any) -> CombinedExpression:
        return self._combine("*", other, False)

    def __rmul__(self, other: Any) -> CombinedExpression:
        return self._combine("*", other, True)

    def __truediv__(self, other: Any) -> CombinedExpression:
        return self._combine("/", other, False)

    def __rtruediv__(self, other: Any) -> CombinedExpression:
        return self._combine("/", other, True)

    def asc(self, nulls_first: bool | None = None, nulls_last: bool | None = None) -> OrderBy:
        return OrderBy(self, False, nulls_first, nulls_last)

    def desc(self, nulls_first: bool | None = None, nulls_last: bool | None = None) -> OrderBy:
        return OrderBy(self, True, nulls_first, nulls_last)


class OrderBy:
    """``F("stock").desc(nulls_last=True)`` in ``order_by()``."""

    def __init__(
        self,
        expression: Any,
        descending: bool = False,
        nulls_first: bool | None = None,
        nulls_last: bool | None = None,
    ) -> None:
        if nulls_first and nulls_last:
            raise ValueError("nulls_first and nulls_last are mutually exclusive")
        self.expression = expression
        self.descending = descending
        self.nulls_first = nulls_first
        self.nulls_last = nulls_last

    def reversed(self) -> OrderBy:
        return OrderBy(self.expression, not self.descending, self.nulls_last, self.nulls_first)

    def as_sql(self, meta: Options) -> str:
        sql, _ = expression_sql(meta, self.expression)
        sql += " DESC" if self.descending else " ASC"
        if self.nulls_first:
            sql += " NULLS FIRST"
        elif self.nulls_last:
            sql += " NULLS LAST"
        return sql

    def __repr__(self) -> str:
        return f"OrderBy({self.expression!r}, descending={self.descending})"


class F(Combinable):
    """The value of field ``name`` of the row being written or filtered."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name})"

    def as_sql(self, meta: Options) -> tuple[str, list[Any]]:
        from sigcli.models.lookups import field_expression

        sql, _ = field_expression(meta, self.name)
        return sql, []


class CombinedExpression(Combinable):
    """``lhs <operator> rhs`` where either side is an expression or a plain value."""

    def __init__(self, lhs: Any, operator: str, rhs: Any) -> None:
        self.lhs = lhs
        self.operator = operator
        self.rhs = rhs

    def __repr__(self) -> str:
        def side(value: Any) -> str:
            return repr(value) if isinstance(value, Combinable) else f"Value({value!r})"

        return f"<CombinedExpression: {side(self.lhs)} {self.operator} {side(self.rhs)}>"

    def as_sql(self, meta: Options) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = expression_sql(meta, self.lhs)
        rhs_sql, rhs_params = expression_sql(meta, self.rhs)
        return f"({lhs_sql} {self.operator} {rhs_sql})", [*lhs_params, *rhs_params]


def is_expression(value: Any) -> bool:
    return isinstance(value, Combinable)


def expression_sql(meta: Options, value: Any) -> tuple[str, list[Any]]:
    """SQL for an expression, or a ``?`` placeholder for a plain value."""
    if isinstance(value, Combinable):
        return value.as_sql(meta)  # type: ignore[attr-defined, no-any-return]
    return "?", [value]


class Q:
    """Filter conditions combined with ``&``, ``|`` and ``~``, as in Django."""

    AND = "AND"
    OR = "OR"

    def __init__(
        self, *args: Any, _connector: str = "AND", _negated: bool = False, **kwargs: Any
    ) -> None:
        self.children: list[Any] = [*args, *sorted(kwargs.items())]
        self.connector = _connector
        self.negated = _negated

    def _copy(self) -> Q:
        clone = Q(_connector=self.connector, _negated=self.negated)
        clone.children = list(self.children)
        return clone

    def _add(self, other: Q, connector: str) -> None:
        """Django's tree ``add``: a same-connector, non-negated node is merged, not nested.

        The shape matters: join promotion runs per node, so it decides joins and guards.
        """
        if self.connector != connector:
            inner = self._copy()
            self.connector = connector
            self.negated = False
            self.children = [inner, other]
        elif not other.negated and (other.connector == connector or len(other.children) == 1):
            self.children.extend(other.children)
        else:
            self.children.append(other)

    def _combine(self, other: Q, connector: str) -> Q:
        if not isinstance(other, Q):
            raise TypeError(other)
        if not self.children:
            return other._copy()
        if not other.children:
            return self._copy()
        combined = Q(_connector=connector)
        combined._add(self, connector)
        combined._add(other, connector)
        return combined

    def __or__(self, other: Q) -> Q:
        return self._combine(other, self.OR)

    def __and__(self, other: Q) -> Q:
        return self._combine(other, self.AND)

    def __invert__(self) -> Q:
        negated = self._copy()
        negated.negated = not self.negated
        return negated

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(repr(c) for c in self.children)
        return f"<Q: {'NOT ' if self.negated else ''}({inner})>"

    def _promote(self, joins: Any, votes: list[set[Any]], negated: bool) -> set[Any]:
        """Django's join promotion at the end of this node, for the foreign-key joins its
        children used: returns the joins it made INNER (this node's own votes)."""
        connector = self.connector
        if negated:
            connector = self.OR if connector == self.AND else self.AND
        counts: dict[Any, int] = {}
        for child_votes in votes:
            for path in child_votes:
                counts[path] = counts.get(path, 0) + 1
        demoted = set()
        for path, count in counts.items():
            if connector == self.OR and count < len(self.children):
                joins.demoted.discard(path)
            if connector == self.AND or count == len(self.children):
                joins.demoted.add(path)
                demoted.add(path)
        return demoted

    def as_sql(
        self,
        meta: Options,
        in_negation: bool = False,
        joins: Any = None,
        outer: bool = False,
        under_negation: bool = False,
    ) -> tuple[str, list[Any]]:
        """SQL for the whole tree, simplified as Django's WHERE compiler does it.

        A child that can match nothing (``__in=[]``) is dropped from an OR and
        empties an AND (:class:`EmptyResultSet`); one that matches everything is
        dropped from an AND and fills an OR (:class:`FullResultSet`); negation
        swaps the two. Under an odd number of negations a nullable column's
        condition also requires ``IS NOT NULL``, so that ``~Q(stock=3)`` keeps
        rows whose stock is NULL.
        """
        from sigcli.models.lookups import (
            EmptyResultSet,
            FullResultSet,
            compile_condition,
            needs_outer,
        )

        negated = in_negation != self.negated
        # Below any negation, reverse and many-to-many relations become sub-queries.
        branch_negated = under_negation or self.negated
        outer = outer or self.negated or self.connector == self.OR
        if self.connector == self.AND:
            full_needed, empty_needed = len(self.children), 1
        else:
            full_needed, empty_needed = 1, len(self.children)
        compiled: list[Any] = []
        votes: list[set[Any]] = []
        for child in self.children:
            # Every condition is built first (a bad value raises even beside an empty IN).
            if joins is not None:
                joins.touched = set()
            try:
                if isinstance(child, Q):
                    compiled.append(child.as_sql(meta, negated, joins, outer, branch_negated))
                else:
                    compiled.append(
                        compile_condition(
                            meta,
                            child[0],
                            child[1],
                            negated,
                            joins,
                            join_many=not branch_negated,
                            outer=outer,
                        )
                    )
            except (EmptyResultSet, FullResultSet) as outcome:
                compiled.append(outcome)
            if joins is not None:
                if isinstance(child, Q):
                    votes.append(joins.touched)
                else:
                    votes.append(
                        set() if needs_outer(child[0], child[1], negated) else joins.touched
                    )
        if joins is not None:
            joins.touched = self._promote(joins, votes, negated)
        parts: list[str] = []
        params: list[Any] = []
        for result in compiled:
            if isinstance(result, EmptyResultSet):
                empty_needed -= 1
            elif isinstance(result, FullResultSet):
                full_needed -= 1
            else:
                parts.append(f"({result[0]})")
                params.extend(result[1])
            if empty_needed == 0:
                raise FullResultSet if self.negated else EmptyResultSet
            if full_needed == 0:
                raise EmptyResultSet if self.negated else FullResultSet
        if not parts:
            raise FullResultSet
        sql = f" {self.connector} ".join(parts)
        return (f"NOT ({sql})" if self.negated else sql), params
