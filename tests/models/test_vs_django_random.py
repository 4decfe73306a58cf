"""Random programs of model operations send the same signals on sigcli and Django.

Hypothesis writes short programs from a menu of operations (creates, saves,
deletes of instances and querysets, m2m and reverse-FK manager calls, bulk
updates, filtered listings and deletes), referring to rows by pk so that a
program means the same thing in both worlds. Programs start from the same
seeded rows. Each runs with one of several sets of recorded signals, because
which signals have listeners changes what Django loads and sends (fast
deletes, the m2m fast add), and may have receivers that act (save, delete,
edit ``pk_set``), connected before or after the recording one. Operations may
run in an atomic block, which may then fail and roll back. An operation that
raises records the exception's type and the program goes on, so the state a
failure leaves behind is compared too.
"""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.models.diff_harness import MODEL_SIGNALS, World, django_events, sigcli_events
from tests.models.test_vs_django_queries import build, conditions

PK = st.integers(min_value=1, max_value=4)
PKS = st.lists(PK, max_size=3)

SIMPLE_OPERATIONS = st.one_of(
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
    st.tuples(st.just("gadget"), PK),
    *(
        st.tuples(st.just(kind), st.just(model), conditions(model))
        for kind in ("filtered delete", "filtered list")
        for model in ("Author", "Book", "Player")
    ),
    st.tuples(st.just("person"), PK),
    st.tuples(
        st.just("people"),
        st.sampled_from(["friends", "follows", "followers"]),
        st.sampled_from(["add", "remove", "set", "clear"]),
        PK,
        PKS,
    ),
    st.tuples(st.just("delete person"), PK),
    st.tuples(st.just("band"), PK),
    st.tuples(st.just("musician"), PK),
    st.tuples(
        st.just("members"),
        st.sampled_from(["add", "remove", "set", "clear", "create"]),
        st.booleans(),
        PK,
        PKS,
    ),
    st.tuples(st.just("delete"), st.sampled_from(["Group", "Musician", "Pizza", "Shelf"]), PK),
    st.tuples(st.just("shop"), PK),
    st.tuples(st.just("shop row"), st.sampled_from(["Product", "Employee"]), PK),
    st.tuples(st.just("sale"), PK, PK),
    st.tuples(st.just("delete"), st.sampled_from(["Shop", "Product", "Employee", "Sale"]), PK),
    st.tuples(st.just("shelf"), PK),
    st.tuples(st.just("item"), PK),
    st.tuples(st.just("customer"), PK),
    st.tuples(st.just("customer row"), st.sampled_from(["Address", "Order"]), PK),
    st.tuples(st.just("delete"), st.sampled_from(["Customer", "Order", "SpecialAuthor"]), PK),
    st.tuples(st.just("special author"), PK),
    st.tuples(st.just("user"), PK),
    st.tuples(st.just("delete"), st.sampled_from(["User", "Profile"]), PK),
    st.tuples(st.just("update_or_create"), PK, st.booleans()),
)

OPERATIONS = st.one_of(
    SIMPLE_OPERATIONS,
    st.tuples(
        st.sampled_from(["atomic", "atomic then fail"]),
        st.lists(SIMPLE_OPERATIONS, min_size=1, max_size=3),
    ),
)

RECORDED = st.sampled_from(
    [
        MODEL_SIGNALS,
        ("pre_init", "post_init", "pre_save", "post_save"),
        ("pre_init", "post_init", "m2m_changed"),
        ("pre_init", "post_init", "pre_delete"),
    ]
)


class Rollback(Exception):
    """Raised at the end of an ``atomic then fail`` block."""


def apply(w: World, operation: tuple[Any, ...]) -> None:
    """Carry out one menu operation in world ``w``."""
    kind, *args = operation
    if kind in ("atomic", "atomic then fail"):
        with w.transaction.atomic():
            for inner in args[0]:
                attempt(w, inner)
            if kind == "atomic then fail":
                raise Rollback
    elif kind == "gadget":
        w.Gadget.objects.create(slug=f"g{args[0]}")
    elif kind == "author":
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
            change_m2m(w.Topping.objects.get(pk=pk).pizza_set, action, pks)
        else:
            change_m2m(w.Pizza.objects.get(pk=pk).toppings, action, pks)
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
    elif kind == "person":
        w.Person.objects.create(name=f"p{args[0]}")
    elif kind == "people":
        relation, action, pk, pks = args
        change_m2m(getattr(w.Person.objects.get(pk=pk), relation), action, pks)
    elif kind == "delete person":
        w.Person.objects.get(pk=args[0]).delete()
    elif kind == "band":
        w.Group.objects.create(name=f"g{args[0]}")
    elif kind == "musician":
        w.Musician.objects.create(name=f"m{args[0]}")
    elif kind == "members":
        action, reverse, pk, pks = args
        if reverse:
            manager = w.Musician.objects.get(pk=pk).group_set
        else:
            manager = w.Group.objects.get(pk=pk).members
        change_m2m(manager, action, pks, through_defaults={"role": "r"})
    elif kind == "shop":
        w.Shop.objects.create(name=f"s{args[0]}")
    elif kind == "shop row":
        getattr(w, args[0]).objects.create(shop_id=args[1], name="r")
    elif kind == "sale":
        w.Sale.objects.create(product_id=args[0], employee_id=args[1])
    elif kind == "shelf":
        w.Shelf.objects.create(name=f"s{args[0]}")
    elif kind == "item":
        w.Item.objects.create(name="i", shelf_id=args[0])
    elif kind == "customer":
        w.Customer.objects.create(name=f"c{args[0]}")
    elif kind == "customer row":
        if args[0] == "Address":
            w.Address.objects.create(customer_id=args[1], city="x")
        else:
            w.Order.objects.create(customer_id=args[1], total=1)
    elif kind == "special author":
        w.SpecialAuthor.objects.create(name=f"s{args[0]}")
    elif kind == "user":
        user = w.User.objects.create(username=f"u{args[0]}")
        w.Profile.objects.create(user=user)
    elif kind in ("filtered delete", "filtered list"):
        model, condition = args
        built = build(w, condition)
        manager = getattr(w, model).objects
        queryset = manager.filter(**built) if isinstance(built, dict) else manager.filter(built)
        if kind == "filtered delete":
            w.note("deleted", queryset.delete()[0])
        else:
            w.note("listed", list(queryset))
    elif kind == "update_or_create":
        w.note(
            "got", w.Note.objects.update_or_create(text=f"n{args[0]}", defaults={"done": args[1]})
        )


def seed(w: World) -> None:
    """Rows for pks 1 to 3 of most models, linked to one another, before recording starts."""
    for n in (1, 2, 3):
        author = w.Author.objects.create(name=f"a{n}")
        for m in (1, 2):
            book = w.Book.objects.create(title=f"b{n}{m}", author=author)
            w.Review.objects.create(book=book, stars=m)
        w.Chapter.objects.create(book_id=n, number=n)
        w.Topping.objects.create(name=f"t{n}")
        w.Pizza.objects.create(name=f"p{n}").toppings.add(*range(1, n + 1))
        w.Person.objects.create(name=f"p{n}")
        team = w.Team.objects.create(name=f"t{n}")
        w.Player.objects.create(name=f"p{n}", team=team if n < 3 else None)
        w.Category.objects.create(name=f"c{n}", parent_id=n - 1 or None)
        shop = w.Shop.objects.create(name=f"s{n}")
        w.Product.objects.create(shop=shop, name="p")
        w.Employee.objects.create(shop_id=1, name="e")
        w.Shelf.objects.create(name=f"s{n}")
        w.Item.objects.create(name="i", shelf_id=n)
        customer = w.Customer.objects.create(name=f"c{n}")
        w.Address.objects.create(customer=customer, city="x")
        if n == 2:
            w.Order.objects.create(customer=customer, total=1)
        user = w.User.objects.create(username=f"u{n}")
        w.Profile.objects.create(user=user)
        band = w.Group.objects.create(name=f"g{n}")
        w.Musician.objects.create(name=f"m{n}")
        band.members.add(*range(1, n + 1), through_defaults={"role": "r"})
    for n in (1, 2, 3):
        w.Sale.objects.create(product_id=n, employee_id=4 - n)
    w.Person.objects.get(pk=1).friends.add(2, 3)
    w.Person.objects.get(pk=2).follows.add(1, 3)


def book_review(w: World, sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        w.Review.objects.create(book=instance, stars=5)


def review_retitles_book(w: World, sender: type, instance: Any, **kwargs: Any) -> None:
    book = w.Book.objects.filter(pk=instance.book_id).first()
    if book is not None:
        book.title = "reviewed"
        book.save()


def author_drops_first_book(w: World, sender: type, instance: Any, **kwargs: Any) -> None:
    book = w.Book.objects.filter(author=instance).order_by("pk").first()
    if book is not None:
        book.delete()


def topping_note(w: World, sender: type, action: str, **kwargs: Any) -> None:
    if action.startswith("post_"):
        w.Note.objects.create(text=action)


def shout(w: World, sender: type, instance: Any, **kwargs: Any) -> None:
    instance.name = instance.name.upper()


def keep_lowest_friend_out(w: World, sender: type, action: str, pk_set: Any, **kwargs: Any) -> None:
    if action in ("pre_add", "pre_remove") and pk_set:
        pk_set.discard(min(pk_set))


REACTIONS: dict[str, tuple[str, Any, Any]] = {
    "a new book gets a review": ("post_save", lambda w: w.Book, book_review),
    "a deleted review retitles its book": ("post_delete", lambda w: w.Review, review_retitles_book),
    "a deleted author drops its first book": (
        "pre_delete",
        lambda w: w.Author,
        author_drops_first_book,
    ),
    "topping changes leave a note": (
        "m2m_changed",
        lambda w: w.Pizza.toppings.through,
        topping_note,
    ),
    "author names are shouted": ("pre_save", lambda w: w.Author, shout),
    "the lowest friend is left out": (
        "m2m_changed",
        lambda w: w.Person.friends.through,
        keep_lowest_friend_out,
    ),
}


def change_m2m(manager: Any, action: str, pks: list[int], **through: Any) -> None:
    """Call one method of a many-to-many manager; ``through`` goes to the calls that add."""
    if action == "add":
        manager.add(*pks, **through)
    elif action == "remove":
        manager.remove(*pks)
    elif action == "set":
        manager.set(pks, **through)
    elif action == "set clear":
        manager.set(pks, clear=True, **through)
    elif action == "clear":
        manager.clear()
    else:
        manager.create(name="made", **through)


def program(
    operations: list[tuple[Any, ...]], recorded: tuple[str, ...], reactions: list[tuple[str, bool]]
) -> Any:
    def ops(w: World) -> None:
        seed(w)

        def connect(name: str) -> None:
            signal, sender, reaction = REACTIONS[name]
            w.connect(signal, lambda sender, **kw: reaction(w, sender, **kw), sender(w))

        for name, before in reactions:
            if before:
                connect(name)
        w.record(recorded)
        for name, before in reactions:
            if not before:
                connect(name)
        for operation in operations:
            attempt(w, operation)

    return ops


def attempt(w: World, operation: tuple[Any, ...]) -> None:
    """Apply ``operation``, recording it and the type of any exception it raises."""
    w.note("op", operation)
    try:
        apply(w, operation)
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        w.note("raised", type(error).__name__)


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    operations=st.lists(OPERATIONS, min_size=1, max_size=12),
    recorded=RECORDED,
    reactions=st.lists(
        st.tuples(st.sampled_from(sorted(REACTIONS)), st.booleans()),
        max_size=3,
        unique_by=lambda reaction: reaction[0],
    ),
)
def test_random_programs_send_the_same_signals(
    operations: list[tuple[Any, ...]], recorded: tuple[str, ...], reactions: list[tuple[str, bool]]
) -> None:
    ops = program(operations, recorded, reactions)
    assert sigcli_events(ops, record=False) == django_events(ops, record=False)


# --- querysets, prefetch caches, custom managers and multi-table inheritance -----

LISTINGS = {
    "every non-null": lambda w: w.Review.objects.select_related(),
    "nested": lambda w: w.Sale.objects.select_related("product__shop", "employee"),
    "reverse one-to-one": lambda w: w.User.objects.select_related("profile"),
    "only": lambda w: w.Book.objects.only("title"),
    "defer": lambda w: w.Book.objects.defer("title"),
    "joined only": lambda w: w.Book.objects.select_related("author").only("title", "author"),
    "related only": lambda w: w.Sale.objects.select_related("product__shop").only(
        "product__name", "product__shop__name"
    ),
    "related defer": lambda w: w.Review.objects.select_related("book__author").defer("book__title"),
    "nested prefetch": lambda w: w.Author.objects.prefetch_related("book_set__review_set"),
    "forward prefetch": lambda w: w.Sale.objects.prefetch_related("product__shop"),
    "managed prefetch": lambda w: w.Folder.objects.prefetch_related("doc_set"),
    "prefetch object": lambda w: w.Folder.objects.prefetch_related(
        w.models.Prefetch("doc_set", queryset=w.Doc.everything.all(), to_attr="all_docs")
    ),
    "children": lambda w: w.Restaurant.objects.select_related().prefetch_related("waiter_set"),
    "parents": lambda w: w.Place.objects.prefetch_related("visit_set"),
}

SHAPES = ("list", "iterator", "chunks of 2", "touch relations")

QUERY_OPERATIONS = st.one_of(
    st.tuples(st.just("listing"), st.sampled_from(sorted(LISTINGS)), st.sampled_from(SHAPES)),
    st.tuples(st.just("iterate and save"), st.sampled_from(["Book", "Restaurant"])),
    st.tuples(st.just("deferred save"), PK, st.booleans()),
    st.tuples(
        st.just("prefetched roster"),
        st.sampled_from(["set", "clear", "remove", "add", "create", "refresh", "relation refresh"]),
        PK,
        PKS,
    ),
    st.tuples(
        st.just("docs"),
        st.sampled_from(["list", "create", "delete", "hide", "count", "get_or_create"]),
        PK,
    ),
    st.tuples(st.just("doc"), PK, st.booleans()),
    st.tuples(st.just("delete"), st.sampled_from(["Folder", "Doc"]), PK),
    st.tuples(st.just("place"), st.sampled_from(["Place", "Restaurant", "Pizzeria"]), PK),
    st.tuples(st.just("rename place"), st.sampled_from(["Place", "Restaurant", "Pizzeria"]), PK),
    st.tuples(
        st.just("delete place"),
        st.sampled_from(["Place", "Restaurant", "Pizzeria"]),
        PK,
        st.booleans(),
    ),
    st.tuples(st.just("places delete"), st.sampled_from(["Place", "Restaurant"]), PKS),
    st.tuples(st.just("places update"), PKS),
    st.tuples(st.just("waiter"), PK),
    st.tuples(st.just("visit"), PK),
    st.tuples(st.just("delete"), st.sampled_from(["Waiter", "Visit", "Author", "Book"]), PK),
    st.tuples(st.just("book"), PK, PK),
    st.tuples(st.just("review"), PK, PK),
)

NEW_REACTIONS: dict[str, tuple[str, Any, Any]] = {
    "a new restaurant gets a waiter": (
        "post_save",
        lambda w: w.Restaurant,
        lambda w, sender, instance, created, **kw: (
            created and w.Waiter.objects.create(restaurant=instance, name="new")
        ),
    ),
    "a deleted place is visited": (
        "pre_delete",
        lambda w: w.Place,
        lambda w, sender, instance, **kw: w.note("visits", instance.visit_set.count()),
    ),
    "a deleted doc hides its siblings": (
        "post_delete",
        lambda w: w.Doc,
        lambda w, sender, instance, **kw: w.Doc.everything.filter(
            folder_id=instance.folder_id
        ).update(deleted=True),
    ),
}


def connect_reaction(w: World, name: str) -> None:
    """Connect one receiver of either menu of reactions."""
    signal, sender, reaction = {**REACTIONS, **NEW_REACTIONS}[name]
    w.connect(signal, lambda sender, **kw: reaction(w, sender, **kw), sender(w))


def apply_query(w: World, operation: tuple[Any, ...]) -> None:
    """Carry out one operation of the query menu in world ``w``."""
    kind, *args = operation
    if kind == "listing":
        name, shape = args
        queryset = LISTINGS[name](w).order_by("pk")
        if shape == "list":
            w.note("listed", list(queryset))
        elif shape == "iterator":
            for obj in queryset.iterator():
                w.note("row", obj)
        elif shape == "chunks of 2":
            for obj in queryset.iterator(chunk_size=2):
                w.note("row", obj)
        else:
            w.note("touched", [touch(w, obj) for obj in queryset])
    elif kind == "iterate and save":
        for obj in getattr(w, args[0]).objects.order_by("-pk").iterator(chunk_size=2):
            obj.save()
    elif kind == "deferred save":
        pk, refresh = args
        book = w.Book.objects.only("title").get(pk=pk)
        if refresh:
            book.refresh_from_db()
        book.save()
        w.note("author", book.author_id)
    elif kind == "prefetched roster":
        action, pk, pks = args
        team = w.Team.objects.prefetch_related("player_set").get(pk=pk)
        w.Player.objects.filter(pk__in=pks).update(team_id=pk)
        roster = team.player_set
        players = list(w.Player.objects.filter(pk__in=pks).order_by("pk"))
        if action == "set":
            roster.set(players)
        elif action == "clear":
            roster.clear(bulk=False)
        elif action == "remove":
            roster.remove(*players, bulk=False)
        elif action == "add":
            roster.add(*players)
        elif action == "create":
            roster.create(name="new")
        elif action == "refresh":
            team.refresh_from_db()
        else:
            team.refresh_from_db(fields=["player_set"])
        w.note("roster", list(roster.all()))
    elif kind == "docs":
        action, pk = args
        docs = w.Folder.objects.get(pk=pk).doc_set
        if action == "list":
            w.note("docs", list(docs.all()))
        elif action == "create":
            docs.create(title="new")
        elif action == "delete":
            w.note("deleted", docs.all().delete()[0])
        elif action == "hide":
            w.note("hidden", docs.update(deleted=True))
        elif action == "count":
            w.note("count", docs.count())
        else:
            w.note("got", docs.get_or_create(title="a1"))
    elif kind == "doc":
        w.Doc.objects.create(folder_id=args[0], title="d", deleted=args[1])
    elif kind == "place":
        model, n = args
        getattr(w, model).objects.create(name=f"{model.lower()}{n}")
    elif kind == "rename place":
        model, pk = args
        place = getattr(w, model).objects.get(pk=pk)
        place.name = "renamed"
        place.save()
    elif kind == "delete place":
        model, pk, keep_parents = args
        w.note("deleted", getattr(w, model).objects.get(pk=pk).delete(keep_parents=keep_parents)[0])
    elif kind == "places delete":
        model, pks = args
        w.note("deleted", getattr(w, model).objects.filter(pk__in=pks).delete()[0])
    elif kind == "places update":
        w.note(
            "updated",
            w.Restaurant.objects.filter(pk__in=args[0]).update(name="u", serves_pizza=True),
        )
    elif kind == "waiter":
        w.Waiter.objects.create(restaurant_id=args[0], name="w")
    elif kind == "visit":
        w.Visit.objects.create(place_id=args[0])
    else:
        apply(w, operation)


def touch(w: World, obj: Any) -> Any:
    """Read what a listing loaded (or did not): related objects and deferred fields."""
    if isinstance(obj, w.Review):
        return obj.book.author.name
    if isinstance(obj, w.Sale):
        return (obj.product.shop.name, obj.employee.name)
    if isinstance(obj, w.User):
        return getattr(obj, "profile", None)
    if isinstance(obj, w.Book):
        return (obj.title, obj.author.name)
    if isinstance(obj, w.Author):
        return [list(book.review_set.all()) for book in obj.book_set.all()]
    if isinstance(obj, w.Folder):
        return list(obj.doc_set.all())
    if isinstance(obj, w.Restaurant):
        return (obj.place_ptr.name, list(obj.waiter_set.all()))
    return list(obj.visit_set.all())


def seed_more(w: World) -> None:
    seed(w)
    for n in (1, 2, 3):
        w.Place.objects.create(name=f"place{n}")
        w.Restaurant.objects.create(name=f"restaurant{n}")
        w.Folder.objects.create(name=f"f{n}")
        for deleted in (False, True):
            w.Doc.objects.create(folder_id=n, title=f"a{n}", deleted=deleted)
    w.Pizzeria.objects.create(name="pizzeria")
    for restaurant in (2, 4, 7):
        w.Waiter.objects.create(restaurant_id=restaurant, name="w")
        w.Visit.objects.create(place_id=restaurant - 1)


QUERY_PROGRAM_OPERATIONS = st.one_of(
    QUERY_OPERATIONS,
    st.tuples(
        st.sampled_from(["atomic", "atomic then fail"]),
        st.lists(QUERY_OPERATIONS, min_size=1, max_size=3),
    ),
)


def attempt_query(w: World, operation: tuple[Any, ...]) -> None:
    """Apply a query-menu ``operation``, recording it and the type of any exception."""
    w.note("op", operation)
    try:
        kind, *args = operation
        if kind in ("atomic", "atomic then fail"):
            with w.transaction.atomic():
                for inner in args[0]:
                    attempt_query(w, inner)
                if kind == "atomic then fail":
                    raise Rollback
        else:
            apply_query(w, operation)
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        w.note("raised", type(error).__name__)


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    operations=st.lists(QUERY_PROGRAM_OPERATIONS, min_size=1, max_size=10),
    recorded=RECORDED,
    reactions=st.lists(
        st.tuples(st.sampled_from(sorted(NEW_REACTIONS)), st.booleans()),
        max_size=2,
        unique_by=lambda reaction: reaction[0],
    ),
)
def test_random_programs_on_querysets_inheritance_and_managers(
    operations: list[tuple[Any, ...]], recorded: tuple[str, ...], reactions: list[tuple[str, bool]]
) -> None:
    def ops(w: World) -> None:
        seed_more(w)

        def connect(name: str) -> None:
            signal, sender, reaction = NEW_REACTIONS[name]
            w.connect(signal, lambda sender, **kw: reaction(w, sender, **kw), sender(w))

        for name, before in reactions:
            if before:
                connect(name)
        w.record(recorded)
        for name, before in reactions:
            if not before:
                connect(name)
        for operation in operations:
            attempt_query(w, operation)

    assert sigcli_events(ops, record=False) == django_events(ops, record=False)
