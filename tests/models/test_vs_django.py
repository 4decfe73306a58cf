"""sigcli's model layer sends the signals Django 5.2 sends, in the same order.

Each test runs one scenario on Django and on sigcli (see ``diff_harness``),
pins Django's sequence as written out below, and requires sigcli's to be the
same, line for line.
"""

from typing import Any

from tests.models.diff_harness import World, assert_same, label_counts

# --- saving ------------------------------------------------------------------


def test_create_and_save_new() -> None:
    def ops(w: World) -> None:
        w.Author.objects.create(name="a")
        author = w.Author(name="b")
        author.save()

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'name': 'a'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
            "pre_init Author args=() kwargs={'name': 'b'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#2 created=True update_fields=None raw=False using='default'",
        ],
    )


def test_save_existing_row() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        author.name = "b"
        author.save()

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'name': 'a'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
            "pre_save Author instance=Author#1 raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=False update_fields=None raw=False using='default'",
        ],
    )


def test_update_fields_is_a_frozenset_of_the_given_names() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        book = w.Book.objects.create(title="t", author=author)
        w.record()
        author.save(update_fields=["name"])
        book.save(update_fields=("author_id", "title"))

    assert_same(
        ops,
        [
            "pre_save Author instance=Author#1 raw=False using='default' update_fields=frozenset('name')",
            "post_save Author instance=Author#1 created=False update_fields=frozenset('name') raw=False using='default'",
            "pre_save Book instance=Book#1 raw=False using='default' update_fields=frozenset('author_id', 'title')",
            "post_save Book instance=Book#1 created=False update_fields=frozenset('author_id', 'title') raw=False using='default'",
        ],
        record=False,
    )


def test_empty_update_fields_sends_nothing() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        w.record()
        author.name = "b"
        author.save(update_fields=[])
        w.note("name in db", list(w.Author.objects.values_list("name", flat=True)))

    assert_same(
        ops,
        [
            "= name in db: ['a']",
        ],
        record=False,
    )


def test_explicit_unused_pk_is_created() -> None:
    def ops(w: World) -> None:
        author = w.Author(id=10, name="a")
        author.save()
        author.id = 11
        author.save()
        w.Author.objects.create(name="b")
        w.note("pks", list(w.Author.objects.order_by("pk").values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'id': 10, 'name': 'a'}",
            "post_init Author instance=Author#10",
            "pre_save Author instance=Author#10 raw=False using='default' update_fields=None",
            "post_save Author instance=Author#10 created=True update_fields=None raw=False using='default'",
            "pre_save Author instance=Author#11 raw=False using='default' update_fields=None",
            "post_save Author instance=Author#11 created=True update_fields=None raw=False using='default'",
            "pre_init Author args=() kwargs={'name': 'b'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#12 created=True update_fields=None raw=False using='default'",
            "= pks: [10, 11, 12]",
        ],
    )


def test_pks_are_not_reused_after_deleting_the_last_row() -> None:
    def ops(w: World) -> None:
        for name in "abc":
            w.Topping.objects.create(name=name)
        w.record()
        w.Topping.objects.get(name="c").delete()
        w.note("new pk", w.Topping.objects.create(name="d").pk)

    assert_same(
        ops,
        [
            "pre_init Topping args=(3, 'c') kwargs={}",
            "post_init Topping instance=Topping#3",
            "pre_delete Topping instance=Topping#3 using='default' origin=Topping#3",
            "post_delete Topping instance=Topping#3 using='default' origin=Topping#3",
            "pre_init Topping args=() kwargs={'name': 'd'}",
            "post_init Topping instance=Topping#None",
            "pre_save Topping instance=Topping#None raw=False using='default' update_fields=None",
            "post_save Topping instance=Topping#4 created=True update_fields=None raw=False using='default'",
            "= new pk: 4",
        ],
        record=False,
    )


def test_forced_update_of_missing_row_sends_pre_save_only() -> None:
    def ops(w: World) -> None:
        w.raises(w.Author(id=99, name="x").save, force_update=True)

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'id': 99, 'name': 'x'}",
            "post_init Author instance=Author#99",
            "pre_save Author instance=Author#99 raw=False using='default' update_fields=None",
            "! DatabaseError",
        ],
    )


def test_unique_violation_sends_pre_save_only() -> None:
    def ops(w: World) -> None:
        user = w.User.objects.create(username="u")
        w.Profile.objects.create(user=user)
        w.record()
        w.raises(w.Profile.objects.create, user=user)
        w.note("profiles", w.Profile.objects.count())

    assert_same(
        ops,
        [
            "pre_init Profile args=() kwargs={'user': User#1}",
            "post_init Profile instance=Profile#None",
            "pre_save Profile instance=Profile#None raw=False using='default' update_fields=None",
            "! IntegrityError",
            "= profiles: 1",
        ],
        record=False,
    )


def test_pre_init_kwargs_dict_is_consumed() -> None:
    def ops(w: World) -> None:
        kept: list[dict[str, Any]] = []
        w.connect("pre_init", lambda sender, **kw: kept.append(kw["kwargs"]), sender=w.Book)
        author = w.Author.objects.create(name="a")
        w.record()
        w.Book(title="t", author=author)
        w.note("kwargs after __init__", kept)

    assert_same(
        ops,
        [
            "pre_init Book args=() kwargs={'title': 't', 'author': Author#1}",
            "post_init Book instance=Book#None",
            "= kwargs after __init__: [{}]",
        ],
        record=False,
    )


def test_rows_loaded_from_the_database_send_init_signals() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        w.Book.objects.create(title="t1", author=author)
        w.Book.objects.create(title="t2", author=author)
        w.Note.objects.create(text="n")
        w.record()
        w.Author.objects.get(pk=1)
        list(w.Book.objects.filter(author=author))
        w.Book.objects.filter(author_id=1).first()
        w.Note.objects.get(text="n")
        author.refresh_from_db()
        w.note("count", w.Book.objects.count())
        w.note("exists", w.Book.objects.exists())
        w.note("titles", list(w.Book.objects.order_by("-pk").values_list("title", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Book args=(1, 't1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, 't2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Book args=(1, 't1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Note args=(1, 'n', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "= count: 2",
            "= exists: True",
            "= titles: ['t2', 't1']",
        ],
        record=False,
    )


def test_receiver_creating_profile_connected_before_recorder() -> None:
    def ops(w: World) -> None:
        def make_profile(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
            if created:
                w.Profile.objects.create(user=instance, bio="hi")

        w.connect("post_save", make_profile, sender=w.User)
        w.record()
        w.User.objects.create(username="ann")

    assert_same(
        ops,
        [
            "pre_init User args=() kwargs={'username': 'ann'}",
            "post_init User instance=User#None",
            "pre_save User instance=User#None raw=False using='default' update_fields=None",
            "  pre_init Profile args=() kwargs={'user': User#1, 'bio': 'hi'}",
            "  post_init Profile instance=Profile#None",
            "  pre_save Profile instance=Profile#None raw=False using='default' update_fields=None",
            "  post_save Profile instance=Profile#1 created=True update_fields=None raw=False using='default'",
            "post_save User instance=User#1 created=True update_fields=None raw=False using='default'",
        ],
        record=False,
    )


def test_receiver_creating_profile_connected_after_recorder() -> None:
    def ops(w: World) -> None:
        def make_profile(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
            if created:
                w.Profile.objects.create(user=instance, bio="hi")

        w.record()
        w.connect("post_save", make_profile, sender=w.User)
        w.User.objects.create(username="ann")
        w.User.objects.get(username="ann").save()

    assert_same(
        ops,
        [
            "pre_init User args=() kwargs={'username': 'ann'}",
            "post_init User instance=User#None",
            "pre_save User instance=User#None raw=False using='default' update_fields=None",
            "post_save User instance=User#1 created=True update_fields=None raw=False using='default'",
            "  pre_init Profile args=() kwargs={'user': User#1, 'bio': 'hi'}",
            "  post_init Profile instance=Profile#None",
            "  pre_save Profile instance=Profile#None raw=False using='default' update_fields=None",
            "  post_save Profile instance=Profile#1 created=True update_fields=None raw=False using='default'",
            "pre_init User args=(1, 'ann') kwargs={}",
            "post_init User instance=User#1",
            "pre_save User instance=User#1 raw=False using='default' update_fields=None",
            "post_save User instance=User#1 created=False update_fields=None raw=False using='default'",
        ],
        record=False,
    )


def test_proxy_model_is_the_sender() -> None:
    def ops(w: World) -> None:
        w.connect("post_save", lambda sender, **kw: w.note("concrete receiver", sender), w.Author)
        w.connect(
            "post_save", lambda sender, **kw: w.note("proxy receiver", sender), w.SpecialAuthor
        )
        special = w.SpecialAuthor.objects.create(name="s")
        w.Author.objects.create(name="a")
        w.SpecialAuthor.objects.get(pk=2)
        special.delete()

    assert_same(
        ops,
        [
            "pre_init SpecialAuthor args=() kwargs={'name': 's'}",
            "post_init SpecialAuthor instance=SpecialAuthor#None",
            "pre_save SpecialAuthor instance=SpecialAuthor#None raw=False using='default' update_fields=None",
            "post_save SpecialAuthor instance=SpecialAuthor#1 created=True update_fields=None raw=False using='default'",
            "  = proxy receiver: SpecialAuthor",
            "pre_init Author args=() kwargs={'name': 'a'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#2 created=True update_fields=None raw=False using='default'",
            "  = concrete receiver: Author",
            "pre_init SpecialAuthor args=(2, 'a') kwargs={}",
            "post_init SpecialAuthor instance=SpecialAuthor#2",
            "pre_delete SpecialAuthor instance=SpecialAuthor#1 using='default' origin=SpecialAuthor#1",
            "post_delete SpecialAuthor instance=SpecialAuthor#1 using='default' origin=SpecialAuthor#1",
        ],
    )


# --- bulk operations -----------------------------------------------------------


def test_update_bulk_create_bulk_update_send_nothing() -> None:
    def ops(w: World) -> None:
        toppings = [w.Topping(name=name) for name in ("a", "b", "c")]
        created = w.Topping.objects.bulk_create(toppings)
        w.note("bulk_create pks", [t.pk for t in created])
        w.note("update", w.Topping.objects.filter(name__in=["a", "b"]).update(name="z"))
        for topping in created:
            topping.name = topping.name + "!"
        w.Topping.objects.bulk_update(created, ["name"])
        w.note("names", list(w.Topping.objects.order_by("pk").values_list("name", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Topping args=() kwargs={'name': 'a'}",
            "post_init Topping instance=Topping#None",
            "pre_init Topping args=() kwargs={'name': 'b'}",
            "post_init Topping instance=Topping#None",
            "pre_init Topping args=() kwargs={'name': 'c'}",
            "post_init Topping instance=Topping#None",
            "= bulk_create pks: [1, 2, 3]",
            "= update: 2",
            "= names: ['a!', 'b!', 'c!']",
        ],
    )


def test_get_or_create_hit_and_miss() -> None:
    def ops(w: World) -> None:
        w.note("miss", w.Author.objects.get_or_create(name="a", defaults={}))
        w.note("hit", w.Author.objects.get_or_create(name="a"))

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'name': 'a'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
            "= miss: (Author#1, True)",
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "= hit: (Author#1, False)",
        ],
    )


def test_update_or_create_hit_and_miss() -> None:
    def ops(w: World) -> None:
        w.note("miss", w.Note.objects.update_or_create(text="n", defaults={"done": True}))
        w.note("hit", w.Note.objects.update_or_create(text="n", defaults={"done": False}))
        w.note("done", list(w.Note.objects.values_list("done", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Note args=() kwargs={'text': 'n', 'done': True}",
            "post_init Note instance=Note#None",
            "pre_save Note instance=Note#None raw=False using='default' update_fields=None",
            "post_save Note instance=Note#1 created=True update_fields=None raw=False using='default'",
            "= miss: (Note#1, True)",
            "pre_init Note args=(1, 'n', True, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "pre_save Note instance=Note#1 raw=False using='default' update_fields=frozenset('done', 'updated')",
            "post_save Note instance=Note#1 created=False update_fields=frozenset('done', 'updated') raw=False using='default'",
            "= hit: (Note#1, False)",
            "= done: [False]",
        ],
    )


# --- deleting ------------------------------------------------------------------


def make_library(w: World) -> Any:
    """Author a1 with books b1, b2, each with two reviews; a second author a2 with b3."""
    a1 = w.Author.objects.create(name="a1")
    a2 = w.Author.objects.create(name="a2")
    for title in ("b1", "b2"):
        book = w.Book.objects.create(title=title, author=a1)
        for stars in (1, 2):
            w.Review.objects.create(book=book, stars=stars)
    w.Book.objects.create(title="b3", author=a2)
    return a1


def test_three_level_cascade_delete() -> None:
    def ops(w: World) -> None:
        a1 = make_library(w)
        w.record()
        count, per_model = a1.delete()
        w.note("deleted", (count, label_counts(per_model)))
        w.note("pk after delete", a1.pk)
        w.note("books left", list(w.Book.objects.values_list("title", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Review args=(1, 1, 1) kwargs={}",
            "post_init Review instance=Review#1",
            "pre_init Review args=(2, 1, 2) kwargs={}",
            "post_init Review instance=Review#2",
            "pre_init Review args=(3, 2, 1) kwargs={}",
            "post_init Review instance=Review#3",
            "pre_init Review args=(4, 2, 2) kwargs={}",
            "post_init Review instance=Review#4",
            "pre_delete Review instance=Review#1 using='default' origin=Author#1",
            "pre_delete Review instance=Review#2 using='default' origin=Author#1",
            "pre_delete Review instance=Review#3 using='default' origin=Author#1",
            "pre_delete Review instance=Review#4 using='default' origin=Author#1",
            "pre_delete Book instance=Book#1 using='default' origin=Author#1",
            "pre_delete Book instance=Book#2 using='default' origin=Author#1",
            "pre_delete Author instance=Author#1 using='default' origin=Author#1",
            "post_delete Review instance=Review#4 using='default' origin=Author#1",
            "post_delete Review instance=Review#3 using='default' origin=Author#1",
            "post_delete Review instance=Review#2 using='default' origin=Author#1",
            "post_delete Review instance=Review#1 using='default' origin=Author#1",
            "post_delete Book instance=Book#2 using='default' origin=Author#1",
            "post_delete Book instance=Book#1 using='default' origin=Author#1",
            "post_delete Author instance=Author#1 using='default' origin=Author#1",
            "= deleted: (7, {'Review': 4, 'Book': 2, 'Author': 1})",
            "= pk after delete: None",
            "= books left: ['b3']",
        ],
        record=False,
    )


def test_queryset_delete_cascades_with_the_queryset_as_origin() -> None:
    def ops(w: World) -> None:
        make_library(w)
        w.record()
        books = w.Book.objects.filter(title__in=["b2", "b3"])
        w.connect(
            "post_delete", lambda sender, origin, **kw: w.note("same origin", origin is books)
        )
        count, per_model = books.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Book args=(3, 'b3', 2) kwargs={}",
            "post_init Book instance=Book#3",
            "pre_init Review args=(3, 2, 1) kwargs={}",
            "post_init Review instance=Review#3",
            "pre_init Review args=(4, 2, 2) kwargs={}",
            "post_init Review instance=Review#4",
            "pre_delete Review instance=Review#3 using='default' origin=QuerySet<Book>",
            "pre_delete Review instance=Review#4 using='default' origin=QuerySet<Book>",
            "pre_delete Book instance=Book#2 using='default' origin=QuerySet<Book>",
            "pre_delete Book instance=Book#3 using='default' origin=QuerySet<Book>",
            "post_delete Review instance=Review#4 using='default' origin=QuerySet<Book>",
            "  = same origin: True",
            "post_delete Review instance=Review#3 using='default' origin=QuerySet<Book>",
            "  = same origin: True",
            "post_delete Book instance=Book#3 using='default' origin=QuerySet<Book>",
            "  = same origin: True",
            "post_delete Book instance=Book#2 using='default' origin=QuerySet<Book>",
            "  = same origin: True",
            "= deleted: (4, {'Review': 2, 'Book': 2})",
        ],
        record=False,
    )


def test_fast_delete_without_delete_listeners() -> None:
    def ops(w: World) -> None:
        a1 = make_library(w)
        b3 = w.Book.objects.get(title="b3")
        review = w.Review.objects.create(book=b3)
        w.Review.objects.create(book=b3)
        w.record(("pre_init", "post_init"))
        count, per_model = a1.delete()
        w.note("deleted", (count, label_counts(per_model)))
        review.delete()
        w.note("pk after single delete", review.pk)
        count, per_model = w.Review.objects.all().delete()
        w.note("queryset delete", (count, label_counts(per_model)))
        w.note("empty pk__in", w.Author.objects.filter(pk__in=[]).delete())

    assert_same(
        ops,
        [
            "pre_init Book args=(1, <deferred>, <deferred>) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, <deferred>, <deferred>) kwargs={}",
            "post_init Book instance=Book#2",
            "= deleted: (7, {'Review': 4, 'Book': 2, 'Author': 1})",
            "= pk after single delete: None",
            "= queryset delete: (1, {'Review': 1})",
            "= empty pk__in: (0, {})",
        ],
        record=False,
    )


def test_fast_delete_with_a_listener_on_the_leaf_model() -> None:
    def ops(w: World) -> None:
        a1 = make_library(w)
        w.record(("pre_init", "post_init"))
        w.record(("pre_delete", "post_delete"), sender=w.Review)
        count, per_model = a1.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Book args=(1, <deferred>, <deferred>) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, <deferred>, <deferred>) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Review args=(1, 1, 1) kwargs={}",
            "post_init Review instance=Review#1",
            "pre_init Review args=(2, 1, 2) kwargs={}",
            "post_init Review instance=Review#2",
            "pre_init Review args=(3, 2, 1) kwargs={}",
            "post_init Review instance=Review#3",
            "pre_init Review args=(4, 2, 2) kwargs={}",
            "post_init Review instance=Review#4",
            "pre_delete Review instance=Review#1 using='default' origin=Author#1",
            "pre_delete Review instance=Review#2 using='default' origin=Author#1",
            "pre_delete Review instance=Review#3 using='default' origin=Author#1",
            "pre_delete Review instance=Review#4 using='default' origin=Author#1",
            "post_delete Review instance=Review#4 using='default' origin=Author#1",
            "post_delete Review instance=Review#3 using='default' origin=Author#1",
            "post_delete Review instance=Review#2 using='default' origin=Author#1",
            "post_delete Review instance=Review#1 using='default' origin=Author#1",
            "= deleted: (7, {'Review': 4, 'Book': 2, 'Author': 1})",
        ],
        record=False,
    )


def test_set_null_sends_no_save_signals_and_loads_nothing() -> None:
    def ops(w: World) -> None:
        team = w.Team.objects.create(name="t")
        w.Player.objects.create(name="p1", team=team)
        player = w.Player.objects.create(name="p2", team=team)
        w.record()
        count, per_model = team.delete()
        w.note("deleted", (count, label_counts(per_model)))
        w.note("in-memory team_id", player.team_id)
        w.note("team ids", list(w.Player.objects.values_list("team_id", flat=True)))

    assert_same(
        ops,
        [
            "pre_delete Team instance=Team#1 using='default' origin=Team#1",
            "post_delete Team instance=Team#1 using='default' origin=Team#1",
            "= deleted: (1, {'Team': 1})",
            "= in-memory team_id: 1",
            "= team ids: [None, None]",
        ],
        record=False,
    )


def test_set_default_loads_the_rows_but_sends_no_save_signals() -> None:
    def ops(w: World) -> None:
        w.Shelf.objects.create(name="default")
        shelf = w.Shelf.objects.create(name="s")
        w.Item.objects.create(name="i1", shelf=shelf)
        w.Item.objects.create(name="i2", shelf=shelf)
        w.record()
        count, per_model = shelf.delete()
        w.note("deleted", (count, label_counts(per_model)))
        w.note("shelf ids", list(w.Item.objects.values_list("shelf_id", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Item args=(1, 'i1', 2) kwargs={}",
            "post_init Item instance=Item#1",
            "pre_init Item args=(2, 'i2', 2) kwargs={}",
            "post_init Item instance=Item#2",
            "pre_delete Shelf instance=Shelf#2 using='default' origin=Shelf#2",
            "post_delete Shelf instance=Shelf#2 using='default' origin=Shelf#2",
            "= deleted: (1, {'Shelf': 1})",
            "= shelf ids: [1, 1]",
        ],
        record=False,
    )


def test_do_nothing_is_not_queried_and_a_pre_delete_receiver_can_repoint() -> None:
    def ops(w: World) -> None:
        def repoint(sender: type, instance: Any, **kwargs: Any) -> None:
            w.Pet.objects.filter(owner=instance).update(owner=other)

        owner = w.Owner.objects.create(name="o1")
        other = w.Owner.objects.create(name="o2")
        w.Pet.objects.create(name="p", owner=owner)
        w.record()
        w.connect("pre_delete", repoint, sender=w.Owner)
        owner.delete()
        w.note("owner ids", list(w.Pet.objects.values_list("owner_id", flat=True)))

    assert_same(
        ops,
        [
            "pre_delete Owner instance=Owner#1 using='default' origin=Owner#1",
            "post_delete Owner instance=Owner#1 using='default' origin=Owner#1",
            "= owner ids: [2]",
        ],
        record=False,
    )


def test_do_nothing_leaving_a_dangling_reference_fails_and_rolls_back() -> None:
    def ops(w: World) -> None:
        owner = w.Owner.objects.create(name="o")
        w.Pet.objects.create(name="p", owner=owner)
        w.record()
        w.raises(owner.delete)
        w.note("owners", w.Owner.objects.count())
        w.note("pk kept", owner.pk)

    assert_same(
        ops,
        [
            "pre_delete Owner instance=Owner#1 using='default' origin=Owner#1",
            "post_delete Owner instance=Owner#1 using='default' origin=Owner#1",
            "! IntegrityError",
            "= owners: 1",
            "= pk kept: 1",
        ],
        record=False,
    )


def test_protect_raises_before_any_delete_signal() -> None:
    def ops(w: World) -> None:
        customer = w.Customer.objects.create(name="c")
        w.Address.objects.create(customer=customer, city="x")
        w.Order.objects.create(customer=customer, total=1)
        w.Order.objects.create(customer=customer, total=2)
        w.record()
        w.raises(customer.delete)
        w.note("addresses", w.Address.objects.count())
        w.note("customer pk", customer.pk)

    assert_same(
        ops,
        [
            "pre_init Address args=(1, 1, 'x') kwargs={}",
            "post_init Address instance=Address#1",
            "pre_init Order args=(1, 1, 1) kwargs={}",
            "post_init Order instance=Order#1",
            "pre_init Order args=(2, 1, 2) kwargs={}",
            "post_init Order instance=Order#2",
            "! ProtectedError",
            "= addresses: 1",
            "= customer pk: 1",
        ],
        record=False,
    )


def test_deleting_an_object_with_m2m_links_sends_no_m2m_changed() -> None:
    def ops(w: World) -> None:
        pizza = w.Pizza.objects.create(name="p")
        pizza.toppings.add(w.Topping.objects.create(name="t1"), w.Topping.objects.create(name="t2"))
        w.record()
        count, per_model = pizza.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Pizza_toppings args=(1, 1, 1) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#1",
            "pre_init Pizza_toppings args=(2, 1, 2) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#2",
            "pre_delete Pizza instance=Pizza#1 using='default' origin=Pizza#1",
            "post_delete Pizza instance=Pizza#1 using='default' origin=Pizza#1",
            "= deleted: (3, {'Pizza_toppings': 2, 'Pizza': 1})",
        ],
        record=False,
    )


# --- reverse foreign key managers ----------------------------------------------


def test_reverse_fk_manager_bulk() -> None:
    def ops(w: World) -> None:
        team = w.Team.objects.create(name="t")
        p1 = w.Player.objects.create(name="p1")
        p2 = w.Player.objects.create(name="p2")
        w.record()
        team.player_set.add(p1, p2)
        team.player_set.remove(p1)
        team.player_set.clear()
        team.player_set.create(name="p3")
        w.note("team ids", list(w.Player.objects.order_by("pk").values_list("team_id", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Player args=() kwargs={'name': 'p3', 'team': Team#1}",
            "post_init Player instance=Player#None",
            "pre_save Player instance=Player#None raw=False using='default' update_fields=None",
            "post_save Player instance=Player#3 created=True update_fields=None raw=False using='default'",
            "= team ids: [None, None, 1]",
        ],
        record=False,
    )


def test_reverse_fk_manager_bulk_false() -> None:
    def ops(w: World) -> None:
        team = w.Team.objects.create(name="t")
        p1 = w.Player.objects.create(name="p1")
        p2 = w.Player.objects.create(name="p2")
        w.record()
        team.player_set.add(p1, p2, bulk=False)
        team.player_set.remove(p1, bulk=False)
        team.player_set.clear(bulk=False)
        w.note("team ids", list(w.Player.objects.order_by("pk").values_list("team_id", flat=True)))

    assert_same(
        ops,
        [
            "pre_save Player instance=Player#1 raw=False using='default' update_fields=None",
            "post_save Player instance=Player#1 created=False update_fields=None raw=False using='default'",
            "pre_save Player instance=Player#2 raw=False using='default' update_fields=None",
            "post_save Player instance=Player#2 created=False update_fields=None raw=False using='default'",
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "post_init Player instance=Player#1",
            "pre_save Player instance=Player#1 raw=False using='default' update_fields=frozenset('team')",
            "post_save Player instance=Player#1 created=False update_fields=frozenset('team') raw=False using='default'",
            "pre_init Player args=(2, 'p2', 1) kwargs={}",
            "post_init Player instance=Player#2",
            "pre_save Player instance=Player#2 raw=False using='default' update_fields=frozenset('team')",
            "post_save Player instance=Player#2 created=False update_fields=frozenset('team') raw=False using='default'",
            "= team ids: [None, None]",
        ],
        record=False,
    )


def test_reverse_fk_manager_set() -> None:
    def ops(w: World) -> None:
        team = w.Team.objects.create(name="t")
        p1 = w.Player.objects.create(name="p1", team=team)
        p2 = w.Player.objects.create(name="p2", team=team)
        p3 = w.Player.objects.create(name="p3")
        w.record()
        team.player_set.set([p2, p3])
        w.note("team ids", [p.team_id for p in (p1, p2, p3)])
        w.note("in db", list(w.Player.objects.order_by("pk").values_list("team_id", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "post_init Player instance=Player#1",
            "pre_init Player args=(2, 'p2', 1) kwargs={}",
            "post_init Player instance=Player#2",
            "= team ids: [1, 1, 1]",
            "= in db: [None, 1, 1]",
        ],
        record=False,
    )


# --- many-to-many ----------------------------------------------------------------


def make_toppings(w: World) -> list[Any]:
    return [w.Topping.objects.create(name=name) for name in ("tomato", "cheese", "basil", "salami")]


def test_m2m_forward_add_remove_clear_set() -> None:
    def ops(w: World) -> None:
        t1, t2, t3, t4 = make_toppings(w)
        p1 = w.Pizza.objects.create(name="p1")
        w.record()
        p1.toppings.add(t1)
        p1.toppings.add(t1, t2)
        p1.toppings.add(t1)
        p1.toppings.remove(t1)
        p1.toppings.remove(t3)
        p1.toppings.clear()
        p1.toppings.clear()
        p1.toppings.add(t2)
        p1.toppings.set([t1, t3])
        p1.toppings.set([t1, t3])
        p1.toppings.set([t3], clear=True)
        p1.toppings.add(4)
        p1.toppings.add()
        p1.toppings.remove()
        w.note("linked", list(p1.toppings.order_by("pk").values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set() using='default'",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set() using='default'",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "pre_init Pizza_toppings args=(1, 1, 1) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#1",
            "m2m_changed Pizza_toppings action='post_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(3) using='default'",
            "m2m_changed Pizza_toppings action='post_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(3) using='default'",
            "m2m_changed Pizza_toppings action='pre_clear' instance=Pizza#1 reverse=False model=Topping pk_set=None using='default'",
            "pre_init Pizza_toppings args=(2, 1, 2) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#2",
            "m2m_changed Pizza_toppings action='post_clear' instance=Pizza#1 reverse=False model=Topping pk_set=None using='default'",
            "m2m_changed Pizza_toppings action='pre_clear' instance=Pizza#1 reverse=False model=Topping pk_set=None using='default'",
            "m2m_changed Pizza_toppings action='post_clear' instance=Pizza#1 reverse=False model=Topping pk_set=None using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "pre_init Pizza_toppings args=(3, 1, 2) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#3",
            "m2m_changed Pizza_toppings action='post_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 3) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 3}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 3) using='default'",
            "m2m_changed Pizza_toppings action='pre_clear' instance=Pizza#1 reverse=False model=Topping pk_set=None using='default'",
            "pre_init Pizza_toppings args=(4, 1, 1) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#4",
            "pre_init Pizza_toppings args=(5, 1, 3) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#5",
            "m2m_changed Pizza_toppings action='post_clear' instance=Pizza#1 reverse=False model=Topping pk_set=None using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(3) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 3}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(3) using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(4) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 4}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(4) using='default'",
            "= linked: [3, 4]",
        ],
        record=False,
    )


def test_m2m_reverse_add_remove_clear_set() -> None:
    def ops(w: World) -> None:
        t1, t2, t3, t4 = make_toppings(w)
        p1 = w.Pizza.objects.create(name="p1")
        p2 = w.Pizza.objects.create(name="p2")
        p1.toppings.add(t4)
        w.record()
        t4.pizza_set.add(p1, p2)
        t4.pizza_set.remove(p1)
        t4.pizza_set.clear()
        t4.pizza_set.set([p1, p2])
        t4.pizza_set.set([p2], clear=True)
        w.note("linked", list(t4.pizza_set.values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Topping#4 reverse=True model=Pizza pk_set=set(2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'topping_id': 4, 'pizza_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Topping#4 reverse=True model=Pizza pk_set=set(2) using='default'",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Topping#4 reverse=True model=Pizza pk_set=set(1) using='default'",
            "pre_init Pizza_toppings args=(1, 1, 4) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#1",
            "m2m_changed Pizza_toppings action='post_remove' instance=Topping#4 reverse=True model=Pizza pk_set=set(1) using='default'",
            "m2m_changed Pizza_toppings action='pre_clear' instance=Topping#4 reverse=True model=Pizza pk_set=None using='default'",
            "pre_init Pizza_toppings args=(2, 2, 4) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#2",
            "m2m_changed Pizza_toppings action='post_clear' instance=Topping#4 reverse=True model=Pizza pk_set=None using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Topping#4 reverse=True model=Pizza pk_set=set(1, 2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'topping_id': 4, 'pizza_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'topping_id': 4, 'pizza_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Topping#4 reverse=True model=Pizza pk_set=set(1, 2) using='default'",
            "m2m_changed Pizza_toppings action='pre_clear' instance=Topping#4 reverse=True model=Pizza pk_set=None using='default'",
            "pre_init Pizza_toppings args=(3, 1, 4) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#3",
            "pre_init Pizza_toppings args=(4, 2, 4) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#4",
            "m2m_changed Pizza_toppings action='post_clear' instance=Topping#4 reverse=True model=Pizza pk_set=None using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Topping#4 reverse=True model=Pizza pk_set=set(2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'topping_id': 4, 'pizza_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Topping#4 reverse=True model=Pizza pk_set=set(2) using='default'",
            "= linked: [2]",
        ],
        record=False,
    )


def test_m2m_create_from_both_sides() -> None:
    def ops(w: World) -> None:
        pizza = w.Pizza.objects.create(name="p")
        w.record()
        topping = pizza.toppings.create(name="t")
        topping.pizza_set.create(name="q")
        w.note("pizzas of t", list(topping.pizza_set.order_by("pk").values_list("name", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Topping args=() kwargs={'name': 't'}",
            "post_init Topping instance=Topping#None",
            "pre_save Topping instance=Topping#None raw=False using='default' update_fields=None",
            "post_save Topping instance=Topping#1 created=True update_fields=None raw=False using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "pre_init Pizza args=() kwargs={'name': 'q'}",
            "post_init Pizza instance=Pizza#None",
            "pre_save Pizza instance=Pizza#None raw=False using='default' update_fields=None",
            "post_save Pizza instance=Pizza#2 created=True update_fields=None raw=False using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Topping#1 reverse=True model=Pizza pk_set=set(2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'topping_id': 1, 'pizza_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Topping#1 reverse=True model=Pizza pk_set=set(2) using='default'",
            "= pizzas of t: ['p', 'q']",
        ],
        record=False,
    )


def test_m2m_pre_add_receiver_can_shrink_pk_set() -> None:
    def ops(w: World) -> None:
        def drop_two(sender: type, action: str, pk_set: set[int], **kwargs: Any) -> None:
            if action == "pre_add":
                pk_set.discard(2)

        t1, t2, t3, t4 = make_toppings(w)
        pizza = w.Pizza.objects.create(name="p")
        w.record()
        w.connect("m2m_changed", drop_two, sender=w.Pizza.toppings.through)
        pizza.toppings.add(t1, t2, t3)
        w.note("linked", list(pizza.toppings.order_by("pk").values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 2, 3) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 3}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 3) using='default'",
            "= linked: [1, 3]",
        ],
        record=False,
    )


def test_m2m_symmetrical_self_relation() -> None:
    def ops(w: World) -> None:
        ann, bob, cid = (w.Person.objects.create(name=n) for n in ("ann", "bob", "cid"))
        w.record()
        ann.friends.add(bob, cid)
        bob.friends.add(ann)
        bob.friends.remove(ann)
        w.note("ann's friends", list(ann.friends.order_by("pk").values_list("name", flat=True)))
        w.note("cid's friends", list(cid.friends.values_list("name", flat=True)))
        cid.friends.clear()
        w.note("ann's friends", list(ann.friends.values_list("name", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Person_friends action='pre_add' instance=Person#1 reverse=False model=Person pk_set=set(2, 3) using='default'",
            "pre_init Person_friends args=() kwargs={'from_person_id': 1, 'to_person_id': 2}",
            "post_init Person_friends instance=Person_friends#None",
            "pre_init Person_friends args=() kwargs={'from_person_id': 1, 'to_person_id': 3}",
            "post_init Person_friends instance=Person_friends#None",
            "m2m_changed Person_friends action='post_add' instance=Person#1 reverse=False model=Person pk_set=set(2, 3) using='default'",
            "pre_init Person_friends args=() kwargs={'to_person_id': 1, 'from_person_id': 2}",
            "post_init Person_friends instance=Person_friends#None",
            "pre_init Person_friends args=() kwargs={'to_person_id': 1, 'from_person_id': 3}",
            "post_init Person_friends instance=Person_friends#None",
            "m2m_changed Person_friends action='pre_add' instance=Person#2 reverse=False model=Person pk_set=set() using='default'",
            "m2m_changed Person_friends action='post_add' instance=Person#2 reverse=False model=Person pk_set=set() using='default'",
            "pre_init Person_friends args=() kwargs={'to_person_id': 2, 'from_person_id': 1}",
            "post_init Person_friends instance=Person_friends#None",
            "m2m_changed Person_friends action='pre_remove' instance=Person#2 reverse=False model=Person pk_set=set(1) using='default'",
            "pre_init Person_friends args=(3, 2, 1) kwargs={}",
            "post_init Person_friends instance=Person_friends#3",
            "pre_init Person_friends args=(1, 1, 2) kwargs={}",
            "post_init Person_friends instance=Person_friends#1",
            "m2m_changed Person_friends action='post_remove' instance=Person#2 reverse=False model=Person pk_set=set(1) using='default'",
            "= ann's friends: ['cid']",
            "= cid's friends: ['ann']",
            "m2m_changed Person_friends action='pre_clear' instance=Person#3 reverse=False model=Person pk_set=None using='default'",
            "pre_init Person_friends args=(4, 3, 1) kwargs={}",
            "post_init Person_friends instance=Person_friends#4",
            "pre_init Person_friends args=(2, 1, 3) kwargs={}",
            "post_init Person_friends instance=Person_friends#2",
            "m2m_changed Person_friends action='post_clear' instance=Person#3 reverse=False model=Person pk_set=None using='default'",
            "= ann's friends: []",
        ],
        record=False,
    )


def test_m2m_non_symmetrical_self_relation() -> None:
    def ops(w: World) -> None:
        ann, bob, cid = (w.Person.objects.create(name=n) for n in ("ann", "bob", "cid"))
        w.record()
        ann.follows.add(bob, cid)
        bob.followers.add(cid)
        cid.followers.remove(ann)
        bob.followers.clear()
        w.note("ann follows", list(ann.follows.values_list("name", flat=True)))
        w.note("bob follows", list(bob.follows.values_list("name", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Person_follows action='pre_add' instance=Person#1 reverse=False model=Person pk_set=set(2, 3) using='default'",
            "pre_init Person_follows args=() kwargs={'from_person_id': 1, 'to_person_id': 2}",
            "post_init Person_follows instance=Person_follows#None",
            "pre_init Person_follows args=() kwargs={'from_person_id': 1, 'to_person_id': 3}",
            "post_init Person_follows instance=Person_follows#None",
            "m2m_changed Person_follows action='post_add' instance=Person#1 reverse=False model=Person pk_set=set(2, 3) using='default'",
            "m2m_changed Person_follows action='pre_add' instance=Person#2 reverse=True model=Person pk_set=set(3) using='default'",
            "pre_init Person_follows args=() kwargs={'to_person_id': 2, 'from_person_id': 3}",
            "post_init Person_follows instance=Person_follows#None",
            "m2m_changed Person_follows action='post_add' instance=Person#2 reverse=True model=Person pk_set=set(3) using='default'",
            "m2m_changed Person_follows action='pre_remove' instance=Person#3 reverse=True model=Person pk_set=set(1) using='default'",
            "pre_init Person_follows args=(2, 1, 3) kwargs={}",
            "post_init Person_follows instance=Person_follows#2",
            "m2m_changed Person_follows action='post_remove' instance=Person#3 reverse=True model=Person pk_set=set(1) using='default'",
            "m2m_changed Person_follows action='pre_clear' instance=Person#2 reverse=True model=Person pk_set=None using='default'",
            "pre_init Person_follows args=(1, 1, 2) kwargs={}",
            "post_init Person_follows instance=Person_follows#1",
            "pre_init Person_follows args=(3, 3, 2) kwargs={}",
            "post_init Person_follows instance=Person_follows#3",
            "m2m_changed Person_follows action='post_clear' instance=Person#2 reverse=True model=Person pk_set=None using='default'",
            "= ann follows: []",
            "= bob follows: []",
        ],
        record=False,
    )


def test_m2m_explicit_through_model() -> None:
    def ops(w: World) -> None:
        band = w.Group.objects.create(name="band")
        m1, m2, m3 = (w.Musician.objects.create(name=n) for n in ("m1", "m2", "m3"))
        w.record()
        w.Membership.objects.create(group=band, musician=m1, role="lead")
        band.members.add(m1, m2, through_defaults={"role": "bass"})
        m3.group_set.add(band)
        band.members.remove(m1)
        band.members.set([m2])
        band.members.clear()
        m3.group_set.add(band)
        count, per_model = band.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Membership args=() kwargs={'group': Group#1, 'musician': Musician#1, 'role': 'lead'}",
            "post_init Membership instance=Membership#None",
            "pre_save Membership instance=Membership#None raw=False using='default' update_fields=None",
            "post_save Membership instance=Membership#1 created=True update_fields=None raw=False using='default'",
            "m2m_changed Membership action='pre_add' instance=Group#1 reverse=False model=Musician pk_set=set(2) using='default'",
            "pre_init Membership args=() kwargs={'role': 'bass', 'group_id': 1, 'musician_id': 2}",
            "post_init Membership instance=Membership#None",
            "m2m_changed Membership action='post_add' instance=Group#1 reverse=False model=Musician pk_set=set(2) using='default'",
            "m2m_changed Membership action='pre_add' instance=Musician#3 reverse=True model=Group pk_set=set(1) using='default'",
            "pre_init Membership args=() kwargs={'musician_id': 3, 'group_id': 1}",
            "post_init Membership instance=Membership#None",
            "m2m_changed Membership action='post_add' instance=Musician#3 reverse=True model=Group pk_set=set(1) using='default'",
            "m2m_changed Membership action='pre_remove' instance=Group#1 reverse=False model=Musician pk_set=set(1) using='default'",
            "pre_init Membership args=(1, 1, 1, 'lead') kwargs={}",
            "post_init Membership instance=Membership#1",
            "pre_delete Membership instance=Membership#1 using='default' origin=QuerySet<Membership>",
            "post_delete Membership instance=Membership#1 using='default' origin=QuerySet<Membership>",
            "m2m_changed Membership action='post_remove' instance=Group#1 reverse=False model=Musician pk_set=set(1) using='default'",
            "m2m_changed Membership action='pre_remove' instance=Group#1 reverse=False model=Musician pk_set=set(3) using='default'",
            "pre_init Membership args=(3, 1, 3, '') kwargs={}",
            "post_init Membership instance=Membership#3",
            "pre_delete Membership instance=Membership#3 using='default' origin=QuerySet<Membership>",
            "post_delete Membership instance=Membership#3 using='default' origin=QuerySet<Membership>",
            "m2m_changed Membership action='post_remove' instance=Group#1 reverse=False model=Musician pk_set=set(3) using='default'",
            "m2m_changed Membership action='pre_clear' instance=Group#1 reverse=False model=Musician pk_set=None using='default'",
            "pre_init Membership args=(2, 1, 2, 'bass') kwargs={}",
            "post_init Membership instance=Membership#2",
            "pre_delete Membership instance=Membership#2 using='default' origin=QuerySet<Membership>",
            "post_delete Membership instance=Membership#2 using='default' origin=QuerySet<Membership>",
            "m2m_changed Membership action='post_clear' instance=Group#1 reverse=False model=Musician pk_set=None using='default'",
            "m2m_changed Membership action='pre_add' instance=Musician#3 reverse=True model=Group pk_set=set(1) using='default'",
            "pre_init Membership args=() kwargs={'musician_id': 3, 'group_id': 1}",
            "post_init Membership instance=Membership#None",
            "m2m_changed Membership action='post_add' instance=Musician#3 reverse=True model=Group pk_set=set(1) using='default'",
            "pre_init Membership args=(4, 1, 3, '') kwargs={}",
            "post_init Membership instance=Membership#4",
            "pre_delete Membership instance=Membership#4 using='default' origin=Group#1",
            "pre_delete Group instance=Group#1 using='default' origin=Group#1",
            "post_delete Membership instance=Membership#4 using='default' origin=Group#1",
            "post_delete Group instance=Group#1 using='default' origin=Group#1",
            "= deleted: (2, {'Membership': 1, 'Group': 1})",
        ],
        record=False,
    )


def test_m2m_add_without_m2m_listeners_sends_no_m2m_changed() -> None:
    def ops(w: World) -> None:
        t1, t2, t3, t4 = make_toppings(w)
        pizza = w.Pizza.objects.create(name="p")
        w.record(("pre_init", "post_init", "pre_save", "post_save"))
        pizza.toppings.add(t1, t2)
        pizza.toppings.add(t2, t3)
        w.note("linked", list(pizza.toppings.order_by("pk").values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 3}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "= linked: [1, 2, 3]",
        ],
        record=False,
    )


# --- receivers that act, and errors ------------------------------------------------


def test_signals_sent_from_receivers_nest() -> None:
    def ops(w: World) -> None:
        def make_profile(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
            if created:
                w.Profile.objects.create(user=instance)

        def rename_user(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
            if created:
                instance.user.username = "renamed"
                instance.user.save(update_fields=["username"])

        w.connect("post_save", make_profile, sender=w.User)
        w.connect("post_save", rename_user, sender=w.Profile)
        w.User.objects.create(username="ann")
        w.note("username", list(w.User.objects.values_list("username", flat=True)))

    assert_same(
        ops,
        [
            "pre_init User args=() kwargs={'username': 'ann'}",
            "post_init User instance=User#None",
            "pre_save User instance=User#None raw=False using='default' update_fields=None",
            "post_save User instance=User#1 created=True update_fields=None raw=False using='default'",
            "  pre_init Profile args=() kwargs={'user': User#1}",
            "  post_init Profile instance=Profile#None",
            "  pre_save Profile instance=Profile#None raw=False using='default' update_fields=None",
            "  post_save Profile instance=Profile#1 created=True update_fields=None raw=False using='default'",
            "    pre_save User instance=User#1 raw=False using='default' update_fields=frozenset('username')",
            "    post_save User instance=User#1 created=False update_fields=frozenset('username') raw=False using='default'",
            "= username: ['renamed']",
        ],
    )


def test_exception_in_a_pre_save_receiver_propagates_and_nothing_is_written() -> None:
    def ops(w: World) -> None:
        def refuse(sender: type, **kwargs: Any) -> None:
            raise RuntimeError("no")

        w.connect("pre_save", refuse, sender=w.Author)
        w.raises(w.Author.objects.create, name="a")
        w.note("authors", w.Author.objects.count())

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'name': 'a'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "! RuntimeError",
            "= authors: 0",
        ],
    )


def test_exception_in_a_post_delete_receiver_rolls_back_the_whole_delete() -> None:
    def ops(w: World) -> None:
        def refuse(sender: type, **kwargs: Any) -> None:
            raise RuntimeError("no")

        a1 = make_library(w)
        w.record()
        w.connect("post_delete", refuse, sender=w.Book)
        w.raises(a1.delete)
        w.note("pk kept", a1.pk)
        w.note("reviews", w.Review.objects.count())
        w.note("books", w.Book.objects.count())

    assert_same(
        ops,
        [
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Review args=(1, 1, 1) kwargs={}",
            "post_init Review instance=Review#1",
            "pre_init Review args=(2, 1, 2) kwargs={}",
            "post_init Review instance=Review#2",
            "pre_init Review args=(3, 2, 1) kwargs={}",
            "post_init Review instance=Review#3",
            "pre_init Review args=(4, 2, 2) kwargs={}",
            "post_init Review instance=Review#4",
            "pre_delete Review instance=Review#1 using='default' origin=Author#1",
            "pre_delete Review instance=Review#2 using='default' origin=Author#1",
            "pre_delete Review instance=Review#3 using='default' origin=Author#1",
            "pre_delete Review instance=Review#4 using='default' origin=Author#1",
            "pre_delete Book instance=Book#1 using='default' origin=Author#1",
            "pre_delete Book instance=Book#2 using='default' origin=Author#1",
            "pre_delete Author instance=Author#1 using='default' origin=Author#1",
            "post_delete Review instance=Review#4 using='default' origin=Author#1",
            "post_delete Review instance=Review#3 using='default' origin=Author#1",
            "post_delete Review instance=Review#2 using='default' origin=Author#1",
            "post_delete Review instance=Review#1 using='default' origin=Author#1",
            "post_delete Book instance=Book#2 using='default' origin=Author#1",
            "! RuntimeError",
            "= pk kept: 1",
            "= reviews: 4",
            "= books: 3",
        ],
        record=False,
    )


def test_get_loads_every_matching_row_before_raising() -> None:
    def ops(w: World) -> None:
        for name in ("a", "a", "b"):
            w.Author.objects.create(name=name)
        w.record()
        w.raises(w.Author.objects.get, name="a")
        w.raises(w.Author.objects.get, name="zz")
        w.raises(w.Author.objects.filter, nonexistent="x")

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'a') kwargs={}",
            "post_init Author instance=Author#2",
            "! MultipleObjectsReturned",
            "! DoesNotExist",
            "! FieldError",
        ],
        record=False,
    )


def test_unknown_keyword_raises_after_pre_init() -> None:
    def ops(w: World) -> None:
        w.raises(w.Author, name="a", colour="red")

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'name': 'a', 'colour': 'red'}",
            "! TypeError",
        ],
    )


def test_m2m_add_checks_its_arguments_before_any_signal() -> None:
    def ops(w: World) -> None:
        pizza = w.Pizza.objects.create(name="p")
        author = w.Author.objects.create(name="a")
        w.record()
        w.raises(pizza.toppings.add, w.Topping(name="unsaved"))
        w.raises(pizza.toppings.add, author)

    assert_same(
        ops,
        [
            "pre_init Topping args=() kwargs={'name': 'unsaved'}",
            "post_init Topping instance=Topping#None",
            "! ValueError",
            "! TypeError",
        ],
        record=False,
    )


def test_restrict_raises_before_any_delete_signal() -> None:
    def ops(w: World) -> None:
        project = w.Project.objects.create(name="p")
        w.Task.objects.create(project=project, title="t1")
        w.Task.objects.create(project=project, title="t2")
        w.record()
        w.raises(project.delete)
        w.note("tasks", w.Task.objects.count())

    assert_same(
        ops,
        [
            "pre_init Task args=(1, 1, 't1') kwargs={}",
            "post_init Task instance=Task#1",
            "pre_init Task args=(2, 1, 't2') kwargs={}",
            "post_init Task instance=Task#2",
            "! RestrictedError",
            "= tasks: 2",
        ],
        record=False,
    )


def test_related_object_access_loads_once() -> None:
    def ops(w: World) -> None:
        user = w.User.objects.create(username="u")
        w.Profile.objects.create(user=user)
        author = w.Author.objects.create(name="a")
        w.Book.objects.create(title="t", author=author)
        w.record()
        book = w.Book.objects.get(title="t")
        w.note("author", book.author)
        w.note("author again", book.author)
        user = w.User.objects.get(pk=1)
        w.note("profile", user.profile)
        w.note("profile again", user.profile)
        w.note("user of profile", user.profile.user)
        w.note("books", list(author.book_set.all()))

    assert_same(
        ops,
        [
            "pre_init Book args=(1, 't', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "= author: Author#1",
            "= author again: Author#1",
            "pre_init User args=(1, 'u') kwargs={}",
            "post_init User instance=User#1",
            "pre_init Profile args=(1, 1, '') kwargs={}",
            "post_init Profile instance=Profile#1",
            "= profile: Profile#1",
            "= profile again: Profile#1",
            "= user of profile: User#1",
            "pre_init Book args=(1, 't', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "= books: [Book#1]",
        ],
        record=False,
    )
