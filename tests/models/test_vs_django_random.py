"""Random programs of model operations send the same signals on sigcli and Django.

Hypothesis writes short programs from a menu of operations (creates, saves,
deletes of instances and querysets, m2m and reverse-FK manager calls, bulk
updates), referring to rows by pk so that a program means the same thing in
both worlds. Each program runs with one of several sets of recorded signals,
because which signals have listeners changes what Django loads and sends
(fast deletes, the m2m fast add). An operation that raises records the
exception's type and the program goes on, so the state a failure leaves
behind is compared too.
"""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.models.diff_harness import MODEL_SIGNALS, World, django_events, sigcli_events

PK = st.integers(min_value=1, max_value=4)
PKS = st.lists(PK, max_size=3)

OPERATIONS = st.one_of(
    st.tuples(st.just("author"), PK),
    st.tuples(st.just("book"), PK, PK),
    st.tuples(st.just("review"), PK, PK),
    st.tuples(st.just("chapter"), PK, PK),
    st.tuples(st.just("rename"), st.sampled_from(["Author", "Book"]), PK),
    st.tuples(st.just("save fields"), PK, st.sampled_from([(), ("name",)])),
    st.tuples(st.just("delete"), st.sampled_from(["Author", "Book", "Review", "Team"]), PK),
    st.tuples(st.just("queryset delete"), st.sampled_from(["Author", "Book", "Topping"]), PKS),
    st.tuples(st.just("queryset update"), PKS),
    st.tuples(st.just("topping"), PK),
    st.tuples(st.just("pizza"), PK),
    st.tuples(
        st.just("m2m"),
        st.sampled_from(["add", "remove", "set", "set clear", "clear", "create"]),
        st.booleans(),
        PK,
        PKS,
    ),
    st.tuples(st.just("team"), PK),
    st.tuples(st.just("player"), st.one_of(st.none(), PK)),
    st.tuples(
        st.just("roster"),
        st.sampled_from(["add", "remove", "clear", "set"]),
        st.booleans(),
        PK,
        PKS,
    ),
    st.tuples(st.just("category"), st.one_of(st.none(), PK)),
    st.tuples(st.just("delete category"), PK),
    st.tuples(st.just("get_or_create"), PK),
    st.tuples(st.just("update_or_create"), PK, st.booleans()),
)

RECORDED = st.sampled_from(
    [
        MODEL_SIGNALS,
        ("pre_init", "post_init", "pre_save", "post_save"),
        ("pre_init", "post_init", "m2m_changed"),
        ("pre_init", "post_init", "pre_delete"),
    ]
)


def apply(w: World, operation: tuple[Any, ...]) -> None:
    """Carry out one menu operation in world ``w``."""
    kind, *args = operation
    if kind == "author":
        w.Author.objects.create(name=f"a{args[0]}")
    elif kind == "book":
        w.Book.objects.create(title=f"b{args[1]}", author_id=args[0])
    elif kind == "review":
        w.Review.objects.create(book_id=args[0], stars=args[1])
    elif kind == "chapter":
        w.Chapter.objects.create(book_id=args[0], number=args[1])
    elif kind == "rename":
        model, pk = args
        obj = getattr(w, model).objects.get(pk=pk)
        setattr(obj, "name" if model == "Author" else "title", "renamed")
        obj.save()
    elif kind == "save fields":
        pk, fields = args
        author = w.Author.objects.get(pk=pk)
        author.name = "changed"
        author.save(update_fields=list(fields))
    elif kind == "delete":
        model, pk = args
        getattr(w, model).objects.get(pk=pk).delete()
    elif kind == "queryset delete":
        model, pks = args
        getattr(w, model).objects.filter(pk__in=pks).delete()
    elif kind == "queryset update":
        w.Book.objects.filter(pk__in=args[0]).update(title="updated")
    elif kind == "topping":
        w.Topping.objects.create(name=f"t{args[0]}")
    elif kind == "pizza":
        w.Pizza.objects.create(name=f"p{args[0]}")
    elif kind == "m2m":
        action, reverse, pk, pks = args
        if reverse:
            manager = w.Topping.objects.get(pk=pk).pizza_set
        else:
            manager = w.Pizza.objects.get(pk=pk).toppings
        if action == "add":
            manager.add(*pks)
        elif action == "remove":
            manager.remove(*pks)
        elif action == "set":
            manager.set(pks)
        elif action == "set clear":
            manager.set(pks, clear=True)
        elif action == "clear":
            manager.clear()
        else:
            manager.create(name="made")
    elif kind == "team":
        w.Team.objects.create(name=f"t{args[0]}")
    elif kind == "player":
        w.Player.objects.create(name="p", team_id=args[0])
    elif kind == "roster":
        action, bulk, pk, pks = args
        roster = w.Team.objects.get(pk=pk).player_set
        players = list(w.Player.objects.filter(pk__in=pks).order_by("pk"))
        if action == "add":
            roster.add(*players, bulk=bulk)
        elif action == "remove":
            roster.remove(*players, bulk=bulk)
        elif action == "clear":
            roster.clear(bulk=bulk)
        else:
            roster.set(players, bulk=bulk)
    elif kind == "category":
        w.Category.objects.create(name="c", parent_id=args[0])
    elif kind == "delete category":
        w.Category.objects.get(pk=args[0]).delete()
    elif kind == "get_or_create":
        w.note("got", w.Author.objects.get_or_create(name=f"a{args[0]}"))
    elif kind == "update_or_create":
        w.note(
            "got", w.Note.objects.update_or_create(text=f"n{args[0]}", defaults={"done": args[1]})
        )


def program(operations: list[tuple[Any, ...]], recorded: tuple[str, ...]) -> Any:
    def ops(w: World) -> None:
        w.record(recorded)
        for operation in operations:
            w.note("op", operation)
            try:
                apply(w, operation)
            except Exception as error:  # noqa: BLE001 - the type is what is compared
                w.note("raised", type(error).__name__)

    return ops


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(operations=st.lists(OPERATIONS, min_size=1, max_size=12), recorded=RECORDED)
def test_random_programs_send_the_same_signals(
    operations: list[tuple[Any, ...]], recorded: tuple[str, ...]
) -> None:
    ops = program(operations, recorded)
    assert sigcli_events(ops, record=False) == django_events(ops, record=False)
