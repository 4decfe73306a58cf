"""Random filters, exclusions, ``Q`` combinations and orderings select the same rows on both sides.

Which rows a queryset selects decides which instances are built (and so
which ``pre_init``/``post_init`` pairs are sent) and what a delete cascades
to, so lookups are checked the same way as signals: the same seeded rows,
the same random queries in both worlds, the same answers (or the same
exception type).
"""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.models.diff_harness import World, django_events, sigcli_events

TEXT = st.sampled_from(["Ann", "ann", "an", "A", "b%", "%", "_", "a_c", "Bob", "é", "", "zz"])
NUMBER = st.one_of(st.integers(min_value=-1, max_value=4), st.sampled_from(["1", "x", True]))
TEXT_LOOKUPS = ("exact", "iexact", "contains", "icontains", "startswith", "gt", "gte", "lt", "lte")
NUMBER_LOOKUPS = ("exact", "gt", "gte", "lt", "lte")


def text_filter(field: str) -> Any:
    return st.one_of(
        st.tuples(st.just(field), st.sampled_from(TEXT_LOOKUPS), TEXT),
        st.tuples(st.just(field), st.just("in"), st.lists(TEXT, max_size=3)),
    )


def number_filter(field: str) -> Any:
    return st.one_of(
        st.tuples(st.just(field), st.sampled_from(NUMBER_LOOKUPS), NUMBER),
        st.tuples(st.just(field), st.just("in"), st.lists(NUMBER, max_size=3)),
    )


def null_filter(field: str) -> Any:
    return st.tuples(st.just(field), st.just("isnull"), st.booleans())


FILTERS = {
    "Author": st.one_of(text_filter("name"), number_filter("pk"), number_filter("id")),
    "Book": st.one_of(
        text_filter("title"),
        text_filter("author__name"),
        number_filter("author"),
        number_filter("author_id"),
        number_filter("pk"),
    ),
    "Player": st.one_of(
        text_filter("name"),
        text_filter("team__name"),
        number_filter("team"),
        number_filter("team_id"),
        null_filter("team"),
        null_filter("team_id"),
        st.tuples(st.just("team"), st.just("exact"), st.none()),
    ),
    "Gadget": st.one_of(
        text_filter("slug"),
        number_filter("price"),
        number_filter("stock"),
        null_filter("stock"),
        st.tuples(st.just("flag"), st.just("exact"), st.booleans()),
    ),
}
ORDERINGS = {
    "Author": ["name", "-name", "pk", "-id"],
    "Book": ["title", "-author_id", "author__name", "pk"],
    "Player": ["team", "-team_id", "name", "team__name"],
    "Gadget": ["price", "-stock", "flag", "slug"],
}


def conditions(model: str) -> Any:
    """A lookup, or ``Q`` combinations of lookups with ``|``, ``&`` and ``~``."""
    leaf = FILTERS[model].map(lambda lookup: ("lookup", lookup))
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.just("or"), inner, inner),
            st.tuples(st.just("and"), inner, inner),
            st.tuples(st.just("not"), inner),
        ),
        max_leaves=3,
    )


@st.composite
def queries(draw: Any) -> tuple[Any, ...]:
    model = draw(st.sampled_from(sorted(FILTERS)))
    clauses = draw(
        st.lists(st.tuples(st.sampled_from(["filter", "exclude"]), conditions(model)), max_size=3)
    )
    ordering = draw(st.lists(st.sampled_from(ORDERINGS[model]), max_size=2, unique=True))
    return model, clauses, ordering


def build(w: World, condition: tuple[Any, ...]) -> Any:
    """The keyword lookup or ``Q`` object that ``condition`` describes, in world ``w``."""
    kind, *parts = condition
    if kind == "lookup":
        field, lookup, value = parts[0]
        return {f"{field}__{lookup}": value}
    left, *right = (build(w, part) for part in parts)
    left = left if not isinstance(left, dict) else w.models.Q(**left)
    if kind == "not":
        return ~left
    other = right[0] if not isinstance(right[0], dict) else w.models.Q(**right[0])
    return left | other if kind == "or" else left & other


def seed(w: World) -> None:
    for name in ("Ann", "ann", "Bob", "b%b", "a_c"):
        w.Author.objects.create(name=name)
    for title, author in (("an", 1), ("Ann", 2), ("A", 3), ("zz", 1), ("é", 5)):
        w.Book.objects.create(title=title, author_id=author)
    for name in ("Ann", "Bob"):
        w.Team.objects.create(name=name)
    for name, team in (("p1", 1), ("p2", None), ("Ann", 2), ("p4", 1), ("_", None)):
        w.Player.objects.create(name=name, team_id=team)
    for slug, price, stock, flag in (
        ("a", 1.5, None, True),
        ("b", 2, 3, False),
        ("c", -1, 0, True),
        ("ann", 0, 4, False),
    ):
        w.Gadget.objects.create(slug=slug, price=price, stock=stock, flag=flag)


def run_query(w: World, query: tuple[Any, ...]) -> None:
    model, clauses, ordering = query
    queryset = getattr(w, model).objects.all()
    for method, condition in clauses:
        built = build(w, condition)
        if isinstance(built, dict):
            queryset = getattr(queryset, method)(**built)
        else:
            queryset = getattr(queryset, method)(built)
    queryset = queryset.order_by(*ordering, "pk")
    w.note("pks", list(queryset.values_list("pk", flat=True)))
    w.note("count", queryset.count())
    w.note("exists", queryset.exists())
    w.note("first", queryset.first())


@pytest.mark.slow
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(batch=st.lists(queries(), min_size=1, max_size=10))
def test_random_queries_select_the_same_rows(batch: list[tuple[Any, ...]]) -> None:
    def ops(w: World) -> None:
        seed(w)
        w.record(("pre_init", "post_init"))
        for query in batch:
            w.note("query", query)
            try:
                run_query(w, query)
            except Exception as error:  # noqa: BLE001 - the type is what is compared
                w.note("raised", type(error).__name__)

    assert sigcli_events(ops, record=False) == django_events(ops, record=False)
