"""``Count``, ``Sum``, ``Avg``, ``Min``, ``Max`` for ``QuerySet.aggregate()`` (no instances, no signals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigcli.models.options import Options


class Aggregate:
    """An SQL aggregate over one field of the queryset's model."""

    function = ""
    empty_value: Any = None

    def __init__(self, expression: str, distinct: bool = False) -> None:
        self.expression = expression
        self.distinct = distinct

    @property
    def default_alias(self) -> str:
        return f"{self.expression}__{type(self).__name__.lower()}"

    def as_sql(self, meta: Options) -> str:
        from sigcli.models.lookups import field_expression

        column = "*" if self.expression == "*" else field_expression(meta, self.expression)[0]
        return f"{self.function}({'DISTINCT ' if self.distinct else ''}{column})"

    def convert(self, value: Any) -> Any:
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expression!r})"


class Count(Aggregate):
    function = "COUNT"
    empty_value = 0

    def convert(self, value: Any) -> Any:
        return int(value or 0)


class Sum(Aggregate):
    function = "SUM"


class Avg(Aggregate):
    function = "AVG"


class Min(Aggregate):
    function = "MIN"


class Max(Aggregate):
    function = "MAX"
