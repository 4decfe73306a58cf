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
        return CombinedExpression(other, operator, self) if reversed_ else CombinedExpression(self, operator, other)

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
        return f"<CombinedExpression: {self.lhs!r} {self.operator} {self.rhs!r}>"

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
