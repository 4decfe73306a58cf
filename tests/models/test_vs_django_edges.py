"""Less travelled paths of the model layer, compared with Django 5.2.

Same harness as ``test_vs_django``: Django's sequence is pinned as written
out, and sigcli must send it line for line.
"""

import datetime
from typing import Any

from tests.models.diff_harness import World, assert_same, label_counts
from tests.models.test_vs_django import make_library


def make_toppings(w: World) -> list[Any]:
    return [w.Topping.objects.create(name=name) for name in ("tomato", "cheese", "basil", "salami")]


# --- querysets that build instances ----------------------------------------------


def test_queryset_evaluation_builds_each_row_once() -> None:
    def ops(w: World) -> None:
        for name in ("a", "b", "c"):
            w.Author.objects.create(name=name)
        w.record()
        authors = w.Author.objects.all()
        w.note("len", len(authors))
        w.note("cached iteration", [a.name for a in authors])
        w.note("index", w.Author.objects.all()[1])
        w.note("slice", list(w.Author.objects.order_by("-pk")[:2]))
        w.note("first", w.Author.objects.first())
        w.note("last", w.Author.objects.last())
        w.note("bool", bool(w.Author.objects.filter(name="zz")))

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'b') kwargs={}",
            "post_init Author instance=Author#2",
            "pre_init Author args=(3, 'c') kwargs={}",
            "post_init Author instance=Author#3",
            "= len: 3",
            "= cached iteration: ['a', 'b', 'c']",
            "pre_init Author args=(2, 'b') kwargs={}",
            "post_init Author instance=Author#2",
            "= index: Author#2",
            "pre_init Author args=(3, 'c') kwargs={}",
            "post_init Author instance=Author#3",
            "pre_init Author args=(2, 'b') kwargs={}",
            "post_init Author instance=Author#2",
            "= slice: [Author#3, Author#2]",
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "= first: Author#1",
            "pre_init Author args=(3, 'c') kwargs={}",
            "post_init Author instance=Author#3",
            "= last: Author#3",
            "= bool: False",
        ],
        record=False,
    )


def test_meta_ordering_orders_loaded_rows_but_not_delete_signals() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        book = w.Book.objects.create(title="t", author=author)
        for number in (2, 3, 1):
            w.Chapter.objects.create(book=book, number=number)
        w.record()
        w.note("chapters", list(w.Chapter.objects.values_list("number", flat=True)))
        book.delete()

    assert_same(
        ops,
        [
            "= chapters: [3, 2, 1]",
            "pre_init Chapter args=(2, 1, 3) kwargs={}",
            "post_init Chapter instance=Chapter#2",
            "pre_init Chapter args=(1, 1, 2) kwargs={}",
            "post_init Chapter instance=Chapter#1",
            "pre_init Chapter args=(3, 1, 1) kwargs={}",
            "post_init Chapter instance=Chapter#3",
            "pre_delete Chapter instance=Chapter#1 using='default' origin=Book#1",
            "pre_delete Chapter instance=Chapter#2 using='default' origin=Book#1",
            "pre_delete Chapter instance=Chapter#3 using='default' origin=Book#1",
            "pre_delete Book instance=Book#1 using='default' origin=Book#1",
            "post_delete Chapter instance=Chapter#3 using='default' origin=Book#1",
            "post_delete Chapter instance=Chapter#2 using='default' origin=Book#1",
            "post_delete Chapter instance=Chapter#1 using='default' origin=Book#1",
            "post_delete Book instance=Book#1 using='default' origin=Book#1",
        ],
        record=False,
    )


def test_get_or_create_builds_from_plain_lookups_and_defaults() -> None:
    def ops(w: World) -> None:
        w.record()
        w.note(
            "miss",
            w.Author.objects.get_or_create(name__iexact="ANN", defaults={"name": "ann"}),
        )
        w.note("hit", w.Author.objects.get_or_create(name__iexact="ANN"))
        author = w.Author.objects.get(name="ann")
        w.note("book miss", w.Book.objects.get_or_create(author=author, title="t"))

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'name': 'ann'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
            "= miss: (Author#1, True)",
            "pre_init Author args=(1, 'ann') kwargs={}",
            "post_init Author instance=Author#1",
            "= hit: (Author#1, False)",
            "pre_init Author args=(1, 'ann') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Book args=() kwargs={'author': Author#1, 'title': 't'}",
            "post_init Book instance=Book#None",
            "pre_save Book instance=Book#None raw=False using='default' update_fields=None",
            "post_save Book instance=Book#1 created=True update_fields=None raw=False using='default'",
            "= book miss: (Book#1, True)",
        ],
        record=False,
    )


def test_update_or_create_with_create_defaults() -> None:
    def ops(w: World) -> None:
        w.record()
        w.note(
            "miss",
            w.Note.objects.update_or_create(
                text="n", defaults={"done": False}, create_defaults={"done": True}
            ),
        )
        w.note(
            "hit",
            w.Note.objects.update_or_create(
                text="n", defaults={"done": False}, create_defaults={"done": True}
            ),
        )

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
        ],
        record=False,
    )


def test_force_insert_of_an_existing_pk_fails_after_pre_save() -> None:
    def ops(w: World) -> None:
        w.Author.objects.create(name="a")
        w.record()
        w.raises(w.Author.objects.create, id=1, name="b")
        author = w.Author.objects.get(pk=1)
        w.raises(author.save, force_insert=True)
        w.note("names", list(w.Author.objects.values_list("name", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Author args=() kwargs={'id': 1, 'name': 'b'}",
            "post_init Author instance=Author#1",
            "pre_save Author instance=Author#1 raw=False using='default' update_fields=None",
            "! IntegrityError",
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_save Author instance=Author#1 raw=False using='default' update_fields=None",
            "! IntegrityError",
            "= names: ['a']",
        ],
        record=False,
    )


def test_saving_a_bulk_created_object_is_an_update() -> None:
    def ops(w: World) -> None:
        (topping,) = w.Topping.objects.bulk_create([w.Topping(name="t")])
        w.record()
        topping.name = "u"
        topping.save()

    assert_same(
        ops,
        [
            "pre_save Topping instance=Topping#1 raw=False using='default' update_fields=None",
            "post_save Topping instance=Topping#1 created=False update_fields=None raw=False using='default'",
        ],
        record=False,
    )


def test_lazy_string_sender() -> None:
    def ops(w: World) -> None:
        w.connect("post_save", lambda sender, **kw: w.note("author saved", sender), w.ref("Author"))
        w.record()
        w.Topping.objects.create(name="t")
        w.Author.objects.create(name="a")

    assert_same(
        ops,
        [
            "pre_init Topping args=() kwargs={'name': 't'}",
            "post_init Topping instance=Topping#None",
            "pre_save Topping instance=Topping#None raw=False using='default' update_fields=None",
            "post_save Topping instance=Topping#1 created=True update_fields=None raw=False using='default'",
            "pre_init Author args=() kwargs={'name': 'a'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "  = author saved: Author",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
        ],
        record=False,
    )


# --- deleting ----------------------------------------------------------------------


def test_queryset_delete_of_several_parents() -> None:
    def ops(w: World) -> None:
        for name in ("a1", "a2", "a3"):
            author = w.Author.objects.create(name=name)
            w.Book.objects.create(title=name + "-b", author=author)
        w.record()
        count, per_model = w.Author.objects.exclude(name="a2").delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(3, 'a3') kwargs={}",
            "post_init Author instance=Author#3",
            "pre_init Book args=(1, 'a1-b', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(3, 'a3-b', 3) kwargs={}",
            "post_init Book instance=Book#3",
            "pre_delete Book instance=Book#1 using='default' origin=QuerySet<Author>",
            "pre_delete Book instance=Book#3 using='default' origin=QuerySet<Author>",
            "pre_delete Author instance=Author#1 using='default' origin=QuerySet<Author>",
            "pre_delete Author instance=Author#3 using='default' origin=QuerySet<Author>",
            "post_delete Book instance=Book#3 using='default' origin=QuerySet<Author>",
            "post_delete Book instance=Book#1 using='default' origin=QuerySet<Author>",
            "post_delete Author instance=Author#3 using='default' origin=QuerySet<Author>",
            "post_delete Author instance=Author#1 using='default' origin=QuerySet<Author>",
            "= deleted: (4, {'Book': 2, 'Author': 2})",
        ],
        record=False,
    )


def test_queryset_delete_without_listeners_loads_only_parents_with_cascades() -> None:
    def ops(w: World) -> None:
        for name in ("a1", "a2"):
            author = w.Author.objects.create(name=name)
            w.Book.objects.create(title=name + "-b", author=author)
        w.record(("pre_init", "post_init"))
        count, per_model = w.Author.objects.all().delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'a2') kwargs={}",
            "post_init Author instance=Author#2",
            "pre_init Book args=(1, <deferred>, <deferred>) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, <deferred>, <deferred>) kwargs={}",
            "post_init Book instance=Book#2",
            "= deleted: (4, {'Book': 2, 'Author': 2})",
        ],
        record=False,
    )


def test_deleting_a_proxy_instance_cascades() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        w.Book.objects.create(title="t", author=author)
        w.record()
        special = w.SpecialAuthor.objects.get(pk=1)
        count, per_model = special.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init SpecialAuthor args=(1, 'a') kwargs={}",
            "post_init SpecialAuthor instance=SpecialAuthor#1",
            "pre_init Book args=(1, 't', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_delete Book instance=Book#1 using='default' origin=SpecialAuthor#1",
            "pre_delete SpecialAuthor instance=SpecialAuthor#1 using='default' origin=SpecialAuthor#1",
            "post_delete Book instance=Book#1 using='default' origin=SpecialAuthor#1",
            "post_delete SpecialAuthor instance=SpecialAuthor#1 using='default' origin=SpecialAuthor#1",
            "= deleted: (2, {'Book': 1, 'SpecialAuthor': 1})",
        ],
        record=False,
    )


def test_one_to_one_cascade() -> None:
    def ops(w: World) -> None:
        user = w.User.objects.create(username="u")
        w.Profile.objects.create(user=user)
        w.record()
        count, per_model = user.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Profile args=(1, 1, '') kwargs={}",
            "post_init Profile instance=Profile#1",
            "pre_delete Profile instance=Profile#1 using='default' origin=User#1",
            "pre_delete User instance=User#1 using='default' origin=User#1",
            "post_delete Profile instance=Profile#1 using='default' origin=User#1",
            "post_delete User instance=User#1 using='default' origin=User#1",
            "= deleted: (2, {'Profile': 1, 'User': 1})",
        ],
        record=False,
    )


def test_deleting_a_musician_cascades_to_explicit_through_rows() -> None:
    def ops(w: World) -> None:
        band = w.Group.objects.create(name="band")
        musician = w.Musician.objects.create(name="m")
        band.members.add(musician)
        w.record()
        count, per_model = musician.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Membership args=(1, 1, 1, '') kwargs={}",
            "post_init Membership instance=Membership#1",
            "pre_delete Membership instance=Membership#1 using='default' origin=Musician#1",
            "pre_delete Musician instance=Musician#1 using='default' origin=Musician#1",
            "post_delete Membership instance=Membership#1 using='default' origin=Musician#1",
            "post_delete Musician instance=Musician#1 using='default' origin=Musician#1",
            "= deleted: (2, {'Membership': 1, 'Musician': 1})",
        ],
        record=False,
    )


def test_deleting_without_delete_listeners_fast_deletes_auto_through_rows() -> None:
    def ops(w: World) -> None:
        pizza = w.Pizza.objects.create(name="p")
        pizza.toppings.add(*make_toppings(w)[:2])
        w.record(("pre_init", "post_init", "m2m_changed"))
        count, per_model = pizza.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "= deleted: (3, {'Pizza_toppings': 2, 'Pizza': 1})",
        ],
        record=False,
    )


# --- reverse foreign keys -----------------------------------------------------------


def test_reverse_fk_add_bulk_false_saves_unsaved_objects() -> None:
    def ops(w: World) -> None:
        team = w.Team.objects.create(name="t")
        w.record()
        team.player_set.add(w.Player(name="new"), bulk=False)
        w.raises(team.player_set.add, w.Player(name="unsaved"))
        w.note("players", list(w.Player.objects.values_list("name", "team_id")))

    assert_same(
        ops,
        [
            "pre_init Player args=() kwargs={'name': 'new'}",
            "post_init Player instance=Player#None",
            "pre_save Player instance=Player#None raw=False using='default' update_fields=None",
            "post_save Player instance=Player#1 created=True update_fields=None raw=False using='default'",
            "pre_init Player args=() kwargs={'name': 'unsaved'}",
            "post_init Player instance=Player#None",
            "! ValueError",
            "= players: [('new', 1)]",
        ],
        record=False,
    )


def test_reverse_fk_remove_of_an_unrelated_object_raises() -> None:
    def ops(w: World) -> None:
        team = w.Team.objects.create(name="t")
        other = w.Player.objects.create(name="o")
        w.record()
        w.raises(team.player_set.remove, other)
        w.raises(team.player_set.remove, other, bulk=False)

    assert_same(
        ops,
        [
            "! DoesNotExist",
            "! DoesNotExist",
        ],
        record=False,
    )


def test_reverse_fk_set_on_a_non_nullable_fk_only_adds() -> None:
    def ops(w: World) -> None:
        a1 = w.Author.objects.create(name="a1")
        a2 = w.Author.objects.create(name="a2")
        b1 = w.Book.objects.create(title="b1", author=a1)
        b2 = w.Book.objects.create(title="b2", author=a2)
        w.record()
        a1.book_set.set([b2])
        w.note("authors", list(w.Book.objects.order_by("pk").values_list("author_id", flat=True)))
        w.note("in memory", [b1.author_id, b2.author_id])

    assert_same(
        ops,
        [
            "= authors: [1, 1]",
            "= in memory: [1, 1]",
        ],
        record=False,
    )


def test_reverse_fk_set_bulk_false() -> None:
    def ops(w: World) -> None:
        team = w.Team.objects.create(name="t")
        w.Player.objects.create(name="p1", team=team)
        p2 = w.Player.objects.create(name="p2")
        w.record()
        team.player_set.set([p2], bulk=False)
        team.player_set.set([p2], bulk=False)

    assert_same(
        ops,
        [
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "post_init Player instance=Player#1",
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "post_init Player instance=Player#1",
            "pre_save Player instance=Player#1 raw=False using='default' update_fields=frozenset('team')",
            "post_save Player instance=Player#1 created=False update_fields=frozenset('team') raw=False using='default'",
            "pre_save Player instance=Player#2 raw=False using='default' update_fields=None",
            "post_save Player instance=Player#2 created=False update_fields=None raw=False using='default'",
            "pre_init Player args=(2, 'p2', 1) kwargs={}",
            "post_init Player instance=Player#2",
        ],
        record=False,
    )


# --- many-to-many ------------------------------------------------------------------


def test_m2m_duplicates_and_raw_pks() -> None:
    def ops(w: World) -> None:
        t1, t2, t3, t4 = make_toppings(w)
        pizza = w.Pizza.objects.create(name="p")
        w.record()
        pizza.toppings.add(t1, t1, 1, 2)
        pizza.toppings.remove(1, t1, 9)
        pizza.toppings.set([2, t3])
        pizza.toppings.set([])

    assert_same(
        ops,
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 2) using='default'",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 9) using='default'",
            "pre_init Pizza_toppings args=(1, 1, 1) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#1",
            "m2m_changed Pizza_toppings action='post_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 9) using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(3) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 3}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(3) using='default'",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(2, 3) using='default'",
            "pre_init Pizza_toppings args=(2, 1, 2) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#2",
            "pre_init Pizza_toppings args=(3, 1, 3) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#3",
            "m2m_changed Pizza_toppings action='post_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(2, 3) using='default'",
        ],
        record=False,
    )


def test_m2m_reverse_set_to_current_contents_sends_nothing() -> None:
    def ops(w: World) -> None:
        t1, t2, t3, t4 = make_toppings(w)
        p1 = w.Pizza.objects.create(name="p1")
        p2 = w.Pizza.objects.create(name="p2")
        t1.pizza_set.add(p1, p2)
        w.record()
        t1.pizza_set.set([p2, p1])
        t1.pizza_set.set([p2.pk])

    assert_same(
        ops,
        [
            "m2m_changed Pizza_toppings action='pre_remove' instance=Topping#1 reverse=True model=Pizza pk_set=set(1) using='default'",
            "pre_init Pizza_toppings args=(1, 1, 1) kwargs={}",
            "post_init Pizza_toppings instance=Pizza_toppings#1",
            "m2m_changed Pizza_toppings action='post_remove' instance=Topping#1 reverse=True model=Pizza pk_set=set(1) using='default'",
        ],
        record=False,
    )


def test_m2m_explicit_through_defaults_and_create() -> None:
    def ops(w: World) -> None:
        band = w.Group.objects.create(name="band")
        m1 = w.Musician.objects.create(name="m1")
        w.record()
        band.members.set([m1], through_defaults={"role": "drums"})
        band.members.create(name="m2", through_defaults={"role": "keys"})
        m1.group_set.clear()
        w.note("roles", list(w.Membership.objects.values_list("role", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Membership action='pre_add' instance=Group#1 reverse=False model=Musician pk_set=set(1) using='default'",
            "pre_init Membership args=() kwargs={'role': 'drums', 'group_id': 1, 'musician_id': 1}",
            "post_init Membership instance=Membership#None",
            "m2m_changed Membership action='post_add' instance=Group#1 reverse=False model=Musician pk_set=set(1) using='default'",
            "pre_init Musician args=() kwargs={'name': 'm2'}",
            "post_init Musician instance=Musician#None",
            "pre_save Musician instance=Musician#None raw=False using='default' update_fields=None",
            "post_save Musician instance=Musician#2 created=True update_fields=None raw=False using='default'",
            "m2m_changed Membership action='pre_add' instance=Group#1 reverse=False model=Musician pk_set=set(2) using='default'",
            "pre_init Membership args=() kwargs={'role': 'keys', 'group_id': 1, 'musician_id': 2}",
            "post_init Membership instance=Membership#None",
            "m2m_changed Membership action='post_add' instance=Group#1 reverse=False model=Musician pk_set=set(2) using='default'",
            "m2m_changed Membership action='pre_clear' instance=Musician#1 reverse=True model=Group pk_set=None using='default'",
            "pre_init Membership args=(1, 1, 1, 'drums') kwargs={}",
            "post_init Membership instance=Membership#1",
            "pre_delete Membership instance=Membership#1 using='default' origin=QuerySet<Membership>",
            "post_delete Membership instance=Membership#1 using='default' origin=QuerySet<Membership>",
            "m2m_changed Membership action='post_clear' instance=Musician#1 reverse=True model=Group pk_set=None using='default'",
            "= roles: ['keys']",
        ],
        record=False,
    )


def test_m2m_symmetrical_set_and_reverse_of_non_symmetrical_set() -> None:
    def ops(w: World) -> None:
        ann, bob, cid = (w.Person.objects.create(name=n) for n in ("ann", "bob", "cid"))
        ann.friends.add(bob)
        bob.follows.add(ann)
        w.record()
        ann.friends.set([cid])
        ann.followers.set([cid])
        w.note("bob's friends", list(bob.friends.values_list("name", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Person_friends action='pre_remove' instance=Person#1 reverse=False model=Person pk_set=set(2) using='default'",
            "pre_init Person_friends args=(1, 1, 2) kwargs={}",
            "post_init Person_friends instance=Person_friends#1",
            "pre_init Person_friends args=(2, 2, 1) kwargs={}",
            "post_init Person_friends instance=Person_friends#2",
            "m2m_changed Person_friends action='post_remove' instance=Person#1 reverse=False model=Person pk_set=set(2) using='default'",
            "m2m_changed Person_friends action='pre_add' instance=Person#1 reverse=False model=Person pk_set=set(3) using='default'",
            "pre_init Person_friends args=() kwargs={'from_person_id': 1, 'to_person_id': 3}",
            "post_init Person_friends instance=Person_friends#None",
            "m2m_changed Person_friends action='post_add' instance=Person#1 reverse=False model=Person pk_set=set(3) using='default'",
            "pre_init Person_friends args=() kwargs={'to_person_id': 1, 'from_person_id': 3}",
            "post_init Person_friends instance=Person_friends#None",
            "m2m_changed Person_follows action='pre_remove' instance=Person#1 reverse=True model=Person pk_set=set(2) using='default'",
            "pre_init Person_follows args=(1, 2, 1) kwargs={}",
            "post_init Person_follows instance=Person_follows#1",
            "m2m_changed Person_follows action='post_remove' instance=Person#1 reverse=True model=Person pk_set=set(2) using='default'",
            "m2m_changed Person_follows action='pre_add' instance=Person#1 reverse=True model=Person pk_set=set(3) using='default'",
            "pre_init Person_follows args=() kwargs={'to_person_id': 1, 'from_person_id': 3}",
            "post_init Person_follows instance=Person_follows#None",
            "m2m_changed Person_follows action='post_add' instance=Person#1 reverse=True model=Person pk_set=set(3) using='default'",
            "= bob's friends: []",
        ],
        record=False,
    )


def test_m2m_related_get_or_create_adds_only_when_created() -> None:
    def ops(w: World) -> None:
        pizza = w.Pizza.objects.create(name="p")
        w.Topping.objects.create(name="t")
        w.record()
        w.note("first", pizza.toppings.get_or_create(name="t"))
        w.note("second", pizza.toppings.get_or_create(name="t"))

    assert_same(
        ops,
        [
            "pre_init Topping args=() kwargs={'name': 't'}",
            "post_init Topping instance=Topping#None",
            "pre_save Topping instance=Topping#None raw=False using='default' update_fields=None",
            "post_save Topping instance=Topping#2 created=True update_fields=None raw=False using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2) using='default'",
            "= first: (Topping#2, True)",
            "pre_init Topping args=(2, 't') kwargs={}",
            "post_init Topping instance=Topping#2",
            "= second: (Topping#2, False)",
        ],
        record=False,
    )


# --- wider delete graphs -----------------------------------------------------------


def test_self_referencing_tree_cascade() -> None:
    def ops(w: World) -> None:
        root = w.Category.objects.create(name="root")
        a = w.Category.objects.create(name="a", parent=root)
        w.Category.objects.create(name="b", parent=root)
        w.Category.objects.create(name="a1", parent=a)
        w.record()
        count, per_model = root.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Category args=(2, 'a', 1) kwargs={}",
            "post_init Category instance=Category#2",
            "pre_init Category args=(3, 'b', 1) kwargs={}",
            "post_init Category instance=Category#3",
            "pre_init Category args=(4, 'a1', 2) kwargs={}",
            "post_init Category instance=Category#4",
            "pre_delete Category instance=Category#1 using='default' origin=Category#1",
            "pre_delete Category instance=Category#2 using='default' origin=Category#1",
            "pre_delete Category instance=Category#3 using='default' origin=Category#1",
            "pre_delete Category instance=Category#4 using='default' origin=Category#1",
            "post_delete Category instance=Category#4 using='default' origin=Category#1",
            "post_delete Category instance=Category#3 using='default' origin=Category#1",
            "post_delete Category instance=Category#2 using='default' origin=Category#1",
            "post_delete Category instance=Category#1 using='default' origin=Category#1",
            "= deleted: (4, {'Category': 4})",
        ],
        record=False,
    )


def make_shop(w: World) -> Any:
    """A shop with two products and two employees; three sales link them."""
    shop = w.Shop.objects.create(name="s")
    products = [w.Product.objects.create(shop=shop, name=n) for n in ("p1", "p2")]
    employees = [w.Employee.objects.create(shop=shop, name=n) for n in ("e1", "e2")]
    for product, employee in ((0, 1), (1, 0), (1, 1)):
        w.Sale.objects.create(product=products[product], employee=employees[employee])
    return shop


def test_diamond_cascade_with_restrict_allowed_through_another_path() -> None:
    def ops(w: World) -> None:
        shop = make_shop(w)
        w.record()
        count, per_model = shop.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Product args=(1, 1, 'p1') kwargs={}",
            "post_init Product instance=Product#1",
            "pre_init Product args=(2, 1, 'p2') kwargs={}",
            "post_init Product instance=Product#2",
            "pre_init Sale args=(1, 1, 2) kwargs={}",
            "post_init Sale instance=Sale#1",
            "pre_init Sale args=(2, 2, 1) kwargs={}",
            "post_init Sale instance=Sale#2",
            "pre_init Sale args=(3, 2, 2) kwargs={}",
            "post_init Sale instance=Sale#3",
            "pre_init Employee args=(1, 1, 'e1') kwargs={}",
            "post_init Employee instance=Employee#1",
            "pre_init Employee args=(2, 1, 'e2') kwargs={}",
            "post_init Employee instance=Employee#2",
            "pre_init Sale args=(2, 2, 1) kwargs={}",
            "post_init Sale instance=Sale#2",
            "pre_init Sale args=(1, 1, 2) kwargs={}",
            "post_init Sale instance=Sale#1",
            "pre_init Sale args=(3, 2, 2) kwargs={}",
            "post_init Sale instance=Sale#3",
            "pre_delete Sale instance=Sale#1 using='default' origin=Shop#1",
            "pre_delete Sale instance=Sale#2 using='default' origin=Shop#1",
            "pre_delete Sale instance=Sale#3 using='default' origin=Shop#1",
            "pre_delete Employee instance=Employee#1 using='default' origin=Shop#1",
            "pre_delete Employee instance=Employee#2 using='default' origin=Shop#1",
            "pre_delete Product instance=Product#1 using='default' origin=Shop#1",
            "pre_delete Product instance=Product#2 using='default' origin=Shop#1",
            "pre_delete Shop instance=Shop#1 using='default' origin=Shop#1",
            "post_delete Sale instance=Sale#3 using='default' origin=Shop#1",
            "post_delete Sale instance=Sale#2 using='default' origin=Shop#1",
            "post_delete Sale instance=Sale#1 using='default' origin=Shop#1",
            "post_delete Employee instance=Employee#2 using='default' origin=Shop#1",
            "post_delete Employee instance=Employee#1 using='default' origin=Shop#1",
            "post_delete Product instance=Product#2 using='default' origin=Shop#1",
            "post_delete Product instance=Product#1 using='default' origin=Shop#1",
            "post_delete Shop instance=Shop#1 using='default' origin=Shop#1",
            "= deleted: (8, {'Sale': 3, 'Employee': 2, 'Product': 2, 'Shop': 1})",
        ],
        record=False,
    )


def test_restrict_without_another_path_raises() -> None:
    def ops(w: World) -> None:
        make_shop(w)
        w.record()
        w.raises(w.Product.objects.get(name="p2").delete)
        w.raises(w.Product.objects.all().delete)
        count, per_model = w.Employee.objects.filter(name="e1").delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Product args=(2, 1, 'p2') kwargs={}",
            "post_init Product instance=Product#2",
            "pre_init Sale args=(2, 2, 1) kwargs={}",
            "post_init Sale instance=Sale#2",
            "pre_init Sale args=(3, 2, 2) kwargs={}",
            "post_init Sale instance=Sale#3",
            "! RestrictedError",
            "pre_init Product args=(1, 1, 'p1') kwargs={}",
            "post_init Product instance=Product#1",
            "pre_init Product args=(2, 1, 'p2') kwargs={}",
            "post_init Product instance=Product#2",
            "pre_init Sale args=(1, 1, 2) kwargs={}",
            "post_init Sale instance=Sale#1",
            "pre_init Sale args=(2, 2, 1) kwargs={}",
            "post_init Sale instance=Sale#2",
            "pre_init Sale args=(3, 2, 2) kwargs={}",
            "post_init Sale instance=Sale#3",
            "! RestrictedError",
            "pre_init Employee args=(1, 1, 'e1') kwargs={}",
            "post_init Employee instance=Employee#1",
            "pre_init Sale args=(2, 2, 1) kwargs={}",
            "post_init Sale instance=Sale#2",
            "pre_delete Sale instance=Sale#2 using='default' origin=QuerySet<Employee>",
            "pre_delete Employee instance=Employee#1 using='default' origin=QuerySet<Employee>",
            "post_delete Sale instance=Sale#2 using='default' origin=QuerySet<Employee>",
            "post_delete Employee instance=Employee#1 using='default' origin=QuerySet<Employee>",
            "= deleted: (2, {'Sale': 1, 'Employee': 1})",
        ],
        record=False,
    )


def test_diamond_cascade_without_delete_listeners() -> None:
    def ops(w: World) -> None:
        shop = make_shop(w)
        w.record(("pre_init", "post_init"))
        count, per_model = shop.delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Product args=(1, <deferred>, <deferred>) kwargs={}",
            "post_init Product instance=Product#1",
            "pre_init Product args=(2, <deferred>, <deferred>) kwargs={}",
            "post_init Product instance=Product#2",
            "pre_init Sale args=(1, 1, 2) kwargs={}",
            "post_init Sale instance=Sale#1",
            "pre_init Sale args=(2, 2, 1) kwargs={}",
            "post_init Sale instance=Sale#2",
            "pre_init Sale args=(3, 2, 2) kwargs={}",
            "post_init Sale instance=Sale#3",
            "pre_init Employee args=(1, <deferred>, <deferred>) kwargs={}",
            "post_init Employee instance=Employee#1",
            "pre_init Employee args=(2, <deferred>, <deferred>) kwargs={}",
            "post_init Employee instance=Employee#2",
            "pre_init Sale args=(1, 1, 2) kwargs={}",
            "post_init Sale instance=Sale#1",
            "pre_init Sale args=(2, 2, 1) kwargs={}",
            "post_init Sale instance=Sale#2",
            "pre_init Sale args=(3, 2, 2) kwargs={}",
            "post_init Sale instance=Sale#3",
            "= deleted: (8, {'Sale': 3, 'Employee': 2, 'Product': 2, 'Shop': 1})",
        ],
        record=False,
    )


# --- checks made before any signal ----------------------------------------------------


def test_invalid_saves_and_deletes_raise_before_any_signal() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        w.record()
        w.raises(author.save, update_fields=["nonexistent"])
        w.raises(author.save, force_insert=True, force_update=True)
        w.raises(w.Book(title="t", author=w.Author(name="unsaved")).save)
        w.raises(w.Author(name="never saved").delete)
        w.raises(w.Author.objects.all()[:1].delete)

    assert_same(
        ops,
        [
            "! ValueError",
            "! ValueError",
            "pre_init Author args=() kwargs={'name': 'unsaved'}",
            "post_init Author instance=Author#None",
            "pre_init Book args=() kwargs={'title': 't', 'author': Author#None}",
            "post_init Book instance=Book#None",
            "! ValueError",
            "pre_init Author args=() kwargs={'name': 'never saved'}",
            "post_init Author instance=Author#None",
            "! ValueError",
            "! TypeError",
        ],
        record=False,
    )


def test_fk_given_by_id_and_pre_save_changes_reach_the_database() -> None:
    def ops(w: World) -> None:
        def shout(sender: type, instance: Any, **kwargs: Any) -> None:
            instance.title = instance.title.upper()

        w.Author.objects.create(name="a")
        w.record()
        w.connect("pre_save", shout, sender=w.Book)
        w.Book.objects.create(title="quiet", author_id=1)
        w.note("titles", list(w.Book.objects.values_list("title", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Book args=() kwargs={'title': 'quiet', 'author_id': 1}",
            "post_init Book instance=Book#None",
            "pre_save Book instance=Book#None raw=False using='default' update_fields=None",
            "post_save Book instance=Book#1 created=True update_fields=None raw=False using='default'",
            "= titles: ['QUIET']",
        ],
        record=False,
    )


# --- field types, non-integer primary keys, messages --------------------------------


def test_loaded_values_are_converted_by_field_type() -> None:
    def ops(w: World) -> None:
        w.Gadget.objects.create(slug="g", price=2, stock=None, flag=False)
        w.record()
        gadget = w.Gadget.objects.get(slug="g")
        w.note("price", gadget.price)
        w.note("flag", gadget.flag)
        w.note("repr", repr(gadget))
        w.note("str", str(gadget))
        w.raises(w.Gadget.objects.create, slug="g")

    assert_same(
        ops,
        [
            "pre_init Gadget args=(1, 'g', 2.0, None, False, '', <datetime>) kwargs={}",
            "post_init Gadget instance=Gadget#1",
            "= price: 2.0",
            "= flag: False",
            "= repr: '<Gadget: Gadget object (1)>'",
            "= str: 'Gadget object (1)'",
            "pre_init Gadget args=() kwargs={'slug': 'g'}",
            "post_init Gadget instance=Gadget#None",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "! IntegrityError",
        ],
        record=False,
    )


def test_char_primary_key_saves() -> None:
    def ops(w: World) -> None:
        w.Code.objects.create(code="a")
        code = w.Code(code="a", label="again")
        code.save()
        w.Code(code="b").save()
        w.raises(w.Code.objects.create, code="b")
        w.note("codes", list(w.Code.objects.order_by("pk").values_list("code", "label")))
        w.Code.objects.get(pk="a").delete()

    assert_same(
        ops,
        [
            "pre_init Code args=() kwargs={'code': 'a'}",
            "post_init Code instance=Code#'a'",
            "pre_save Code instance=Code#'a' raw=False using='default' update_fields=None",
            "post_save Code instance=Code#'a' created=True update_fields=None raw=False using='default'",
            "pre_init Code args=() kwargs={'code': 'a', 'label': 'again'}",
            "post_init Code instance=Code#'a'",
            "pre_save Code instance=Code#'a' raw=False using='default' update_fields=None",
            "post_save Code instance=Code#'a' created=False update_fields=None raw=False using='default'",
            "pre_init Code args=() kwargs={'code': 'b'}",
            "post_init Code instance=Code#'b'",
            "pre_save Code instance=Code#'b' raw=False using='default' update_fields=None",
            "post_save Code instance=Code#'b' created=True update_fields=None raw=False using='default'",
            "pre_init Code args=() kwargs={'code': 'b'}",
            "post_init Code instance=Code#'b'",
            "pre_save Code instance=Code#'b' raw=False using='default' update_fields=None",
            "! IntegrityError",
            "= codes: [('a', 'again'), ('b', '')]",
            "pre_init Code args=('a', 'again') kwargs={}",
            "post_init Code instance=Code#'a'",
            "pre_delete Code instance=Code#'a' using='default' origin=Code#'a'",
            "post_delete Code instance=Code#'a' using='default' origin=Code#'a'",
        ],
    )


def test_error_messages_name_the_model_and_field() -> None:
    """Messages are Django's, except where sigcli names the model Django leaves out.

    Django's ``FieldError`` for an unknown lookup and its ``ValueError`` for an
    unknown ``update_fields`` name say "this model"; only their types are compared.
    """

    def ops(w: World) -> None:
        customer = w.Customer.objects.create(name="c")
        w.Order.objects.create(customer=customer, total=1)
        project = w.Project.objects.create(name="p")
        w.Task.objects.create(project=project, title="t")
        user = w.User.objects.create(username="u")
        w.Profile.objects.create(user=user)
        for name in ("a", "a"):
            w.Author.objects.create(name=name)
        w.record()
        w.raises_with_message(w.Author.objects.get, name="zz")
        w.raises_with_message(w.Author.objects.get, name="a")
        w.raises(w.Author.objects.filter, colour="red")
        w.raises_with_message(w.Author, colour="red")
        w.raises_with_message(customer.delete)
        w.raises_with_message(project.delete)
        w.raises_with_message(w.Profile.objects.create, user=user)
        w.raises_with_message(w.Book.objects.create, title="t")
        w.raises(w.Author.objects.get(pk=1).save, update_fields=["colour"])

    assert_same(
        ops,
        [
            "! DoesNotExist: Author matching query does not exist.",
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'a') kwargs={}",
            "post_init Author instance=Author#2",
            "! MultipleObjectsReturned: get() returned more than one Author -- it returned 2!",
            "! FieldError",
            "pre_init Author args=() kwargs={'colour': 'red'}",
            "! TypeError: Author() got unexpected keyword arguments: 'colour'",
            "pre_init Order args=(1, 1, 1) kwargs={}",
            "post_init Order instance=Order#1",
            "! ProtectedError: (\"Cannot delete some instances of model 'Customer' because they are referenced through protected foreign keys: 'Order.customer'.\", {<Order: Order object (1)>})",
            "pre_init Task args=(1, 1, 't') kwargs={}",
            "post_init Task instance=Task#1",
            "! RestrictedError: (\"Cannot delete some instances of model 'Project' because they are referenced through restricted foreign keys: 'Task.project'.\", {<Task: Task object (1)>})",
            "pre_init Profile args=() kwargs={'user': User#1}",
            "post_init Profile instance=Profile#None",
            "pre_save Profile instance=Profile#None raw=False using='default' update_fields=None",
            "! IntegrityError: UNIQUE constraint failed: <app>_profile.user_id",
            "pre_init Book args=() kwargs={'title': 't'}",
            "post_init Book instance=Book#None",
            "pre_save Book instance=Book#None raw=False using='default' update_fields=None",
            "! IntegrityError: NOT NULL constraint failed: <app>_book.author_id",
            "pre_init Author args=(1, 'a') kwargs={}",
            "post_init Author instance=Author#1",
            "! ValueError",
        ],
        record=False,
    )


# --- lookups that decide which instances are built ----------------------------------


def make_rosters(w: World) -> None:
    """Teams 1 and 2; players p1 (team 1), p2 (no team), p3 (team 2), p4 (team 1)."""
    for name in ("red", "blue"):
        w.Team.objects.create(name=name)
    for name, team in (("p1", 1), ("p2", None), ("p3", 2), ("p4", 1)):
        w.Player.objects.create(name=name, team_id=team)


def test_forward_fk_field_isnull_includes_rows_without_a_related_row() -> None:
    def ops(w: World) -> None:
        make_rosters(w)
        w.record()
        w.note("no team name", list(w.Player.objects.filter(team__name__isnull=True)))
        w.note("a team name", list(w.Player.objects.filter(team__name__isnull=False)))
        w.note("excluded", list(w.Player.objects.exclude(team__name__isnull=True)))

    assert_same(
        ops,
        [
            "pre_init Player args=(2, 'p2', None) kwargs={}",
            "post_init Player instance=Player#2",
            "= no team name: [Player#2]",
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "post_init Player instance=Player#1",
            "pre_init Player args=(3, 'p3', 2) kwargs={}",
            "post_init Player instance=Player#3",
            "pre_init Player args=(4, 'p4', 1) kwargs={}",
            "post_init Player instance=Player#4",
            "= a team name: [Player#1, Player#3, Player#4]",
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "post_init Player instance=Player#1",
            "pre_init Player args=(3, 'p3', 2) kwargs={}",
            "post_init Player instance=Player#3",
            "pre_init Player args=(4, 'p4', 1) kwargs={}",
            "post_init Player instance=Player#4",
            "= excluded: [Player#1, Player#3, Player#4]",
        ],
        record=False,
    )


def test_filter_across_a_reverse_relation_gives_a_row_per_match() -> None:
    def ops(w: World) -> None:
        make_library(w)
        w.record()
        w.note("authors", list(w.Author.objects.filter(book__title__startswith="b")))
        w.note("count", w.Author.objects.filter(book__title__startswith="b").count())
        w.note("without books", list(w.Author.objects.filter(book__title__isnull=True)))

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'a2') kwargs={}",
            "post_init Author instance=Author#2",
            "= authors: [Author#1, Author#1, Author#2]",
            "= count: 3",
            "= without books: []",
        ],
        record=False,
    )


def test_filter_across_a_reverse_relation_delete_loads_each_row_once() -> None:
    def ops(w: World) -> None:
        make_library(w)
        w.record()
        count, per_model = w.Author.objects.filter(book__title__startswith="b").delete()
        w.note("deleted", (count, label_counts(per_model)))

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'a2') kwargs={}",
            "post_init Author instance=Author#2",
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Book args=(3, 'b3', 2) kwargs={}",
            "post_init Book instance=Book#3",
            "pre_init Review args=(1, 1, 1) kwargs={}",
            "post_init Review instance=Review#1",
            "pre_init Review args=(2, 1, 2) kwargs={}",
            "post_init Review instance=Review#2",
            "pre_init Review args=(3, 2, 1) kwargs={}",
            "post_init Review instance=Review#3",
            "pre_init Review args=(4, 2, 2) kwargs={}",
            "post_init Review instance=Review#4",
            "pre_delete Review instance=Review#1 using='default' origin=QuerySet<Author>",
            "pre_delete Review instance=Review#2 using='default' origin=QuerySet<Author>",
            "pre_delete Review instance=Review#3 using='default' origin=QuerySet<Author>",
            "pre_delete Review instance=Review#4 using='default' origin=QuerySet<Author>",
            "pre_delete Book instance=Book#1 using='default' origin=QuerySet<Author>",
            "pre_delete Book instance=Book#2 using='default' origin=QuerySet<Author>",
            "pre_delete Book instance=Book#3 using='default' origin=QuerySet<Author>",
            "pre_delete Author instance=Author#1 using='default' origin=QuerySet<Author>",
            "pre_delete Author instance=Author#2 using='default' origin=QuerySet<Author>",
            "post_delete Review instance=Review#4 using='default' origin=QuerySet<Author>",
            "post_delete Review instance=Review#3 using='default' origin=QuerySet<Author>",
            "post_delete Review instance=Review#2 using='default' origin=QuerySet<Author>",
            "post_delete Review instance=Review#1 using='default' origin=QuerySet<Author>",
            "post_delete Book instance=Book#3 using='default' origin=QuerySet<Author>",
            "post_delete Book instance=Book#2 using='default' origin=QuerySet<Author>",
            "post_delete Book instance=Book#1 using='default' origin=QuerySet<Author>",
            "post_delete Author instance=Author#2 using='default' origin=QuerySet<Author>",
            "post_delete Author instance=Author#1 using='default' origin=QuerySet<Author>",
            "= deleted: (9, {'Review': 4, 'Book': 3, 'Author': 2})",
        ],
        record=False,
    )


def test_integer_lookups_round_float_values_as_django_does() -> None:
    def ops(w: World) -> None:
        for name in ("a", "b", "c"):
            w.Author.objects.create(name=name)
        w.note("gte 1.5", list(w.Author.objects.filter(pk__gte=1.5).values_list("pk", flat=True)))
        w.note("lt 1.5", list(w.Author.objects.filter(pk__lt=1.5).values_list("pk", flat=True)))
        w.note("gt 1.5", list(w.Author.objects.filter(pk__gt=1.5).values_list("pk", flat=True)))
        w.note("exact 1.5", list(w.Author.objects.filter(pk=1.5).values_list("pk", flat=True)))

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
            "pre_init Author args=() kwargs={'name': 'c'}",
            "post_init Author instance=Author#None",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#3 created=True update_fields=None raw=False using='default'",
            "= gte 1.5: [2, 3]",
            "= lt 1.5: [1]",
            "= gt 1.5: [2, 3]",
            "= exact 1.5: [1]",
        ],
    )


def test_text_lookups_on_a_foreign_key_are_field_errors() -> None:
    def ops(w: World) -> None:
        w.raises(w.Book.objects.filter, author__contains=1)
        w.raises(w.Book.objects.filter, author__startswith=1)
        w.raises(w.Player.objects.filter, team_id__icontains="1")

    assert_same(
        ops,
        [
            "! FieldError",
            "! FieldError",
            "! FieldError",
        ],
    )


# --- deferred fields, related loading, raw saves ------------------------------------


def test_only_defers_fields_and_save_gets_implicit_update_fields() -> None:
    def ops(w: World) -> None:
        make_library(w)
        w.record()
        book = w.Book.objects.only("title").get(pk=1)
        w.note("deferred", sorted(book.get_deferred_fields()))
        book.title = "changed"
        book.save()
        w.note("author_id loads the field", book.author_id)
        book.save()
        w.Book.objects.only("title").get(pk=2).delete()

    assert_same(
        ops,
        [
            "pre_init Book args=(1, 'b1', <deferred>) kwargs={}",
            "post_init Book instance=Book#1",
            "= deferred: ['author_id']",
            "pre_save Book instance=Book#1 raw=False using='default' update_fields=frozenset('title')",
            "post_save Book instance=Book#1 created=False update_fields=frozenset('title') raw=False using='default'",
            "pre_init Book args=(1, <deferred>, 1) kwargs={}",
            "post_init Book instance=Book#1",
            "= author_id loads the field: 1",
            "pre_save Book instance=Book#1 raw=False using='default' update_fields=None",
            "post_save Book instance=Book#1 created=False update_fields=None raw=False using='default'",
            "pre_init Book args=(2, 'b2', <deferred>) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Review args=(3, 2, 1) kwargs={}",
            "post_init Review instance=Review#3",
            "pre_init Review args=(4, 2, 2) kwargs={}",
            "post_init Review instance=Review#4",
            "pre_delete Review instance=Review#3 using='default' origin=Book#2",
            "pre_delete Review instance=Review#4 using='default' origin=Book#2",
            "pre_delete Book instance=Book#2 using='default' origin=Book#2",
            "post_delete Review instance=Review#4 using='default' origin=Book#2",
            "post_delete Review instance=Review#3 using='default' origin=Book#2",
            "post_delete Book instance=Book#2 using='default' origin=Book#2",
        ],
        record=False,
    )


def test_select_related_and_prefetch_related_build_related_instances() -> None:
    def ops(w: World) -> None:
        make_library(w)
        w.record()
        books = list(w.Book.objects.select_related("author").order_by("pk"))
        w.note("authors", [book.author for book in books])
        authors = list(w.Author.objects.prefetch_related("book_set").order_by("pk"))
        w.note("books", [list(author.book_set.all()) for author in authors])

    assert_same(
        ops,
        [
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Book args=(3, 'b3', 2) kwargs={}",
            "post_init Book instance=Book#3",
            "pre_init Author args=(2, 'a2') kwargs={}",
            "post_init Author instance=Author#2",
            "= authors: [Author#1, Author#1, Author#2]",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'a2') kwargs={}",
            "post_init Author instance=Author#2",
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Book args=(3, 'b3', 2) kwargs={}",
            "post_init Book instance=Book#3",
            "= books: [[Book#1, Book#2], [Book#3]]",
        ],
        record=False,
    )


def test_values_iterator_and_none_build_what_django_builds() -> None:
    def ops(w: World) -> None:
        make_library(w)
        w.record()
        w.note("values", list(w.Book.objects.order_by("pk").values("title", "author")))
        w.note("iterator", [b.pk for b in w.Book.objects.order_by("pk").iterator()])
        w.note("none", list(w.Book.objects.none()))
        w.note("none count", w.Book.objects.none().count())

    assert_same(
        ops,
        [
            "= values: [{'title': 'b1', 'author': 1}, {'title': 'b2', 'author': 1}, {'title': 'b3', 'author': 2}]",
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Book args=(3, 'b3', 2) kwargs={}",
            "post_init Book instance=Book#3",
            "= iterator: [1, 2, 3]",
            "= none: []",
            "= none count: 0",
        ],
        record=False,
    )


def test_raw_save_base_reports_raw_and_skips_auto_now() -> None:
    def ops(w: World) -> None:
        note = w.Note(text="n", updated=datetime.datetime(2020, 1, 1))
        note.save_base(raw=True)
        note.text = "m"
        note.save_base(raw=True)
        w.note("auto_now skipped", w.Note.objects.get(pk=1).updated.year)
        note.save()
        w.note("auto_now applied", w.Note.objects.get(pk=1).updated.year > 2020)

    assert_same(
        ops,
        [
            "pre_init Note args=() kwargs={'text': 'n', 'updated': <datetime>}",
            "post_init Note instance=Note#None",
            "pre_save Note instance=Note#None raw=True using='default' update_fields=None",
            "post_save Note instance=Note#1 created=True update_fields=None raw=True using='default'",
            "pre_save Note instance=Note#1 raw=True using='default' update_fields=None",
            "post_save Note instance=Note#1 created=False update_fields=None raw=True using='default'",
            "pre_init Note args=(1, 'm', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "= auto_now skipped: 2020",
            "pre_save Note instance=Note#1 raw=False using='default' update_fields=None",
            "post_save Note instance=Note#1 created=False update_fields=None raw=False using='default'",
            "pre_init Note args=(1, 'm', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "= auto_now applied: True",
        ],
    )


def test_refresh_from_db_with_fields() -> None:
    def ops(w: World) -> None:
        make_library(w)
        book = w.Book.objects.get(pk=1)
        w.Book.objects.filter(pk=1).update(title="new")
        w.record()
        book.refresh_from_db(fields=["title"])
        w.note("title", book.title)
        book.refresh_from_db()

    assert_same(
        ops,
        [
            "pre_init Book args=(1, 'new', <deferred>) kwargs={}",
            "post_init Book instance=Book#1",
            "= title: 'new'",
            "pre_init Book args=(1, 'new', 1) kwargs={}",
            "post_init Book instance=Book#1",
        ],
        record=False,
    )


# --- construction and related access --------------------------------------------------


def test_construction_variants_and_their_errors() -> None:
    def ops(w: World) -> None:
        kept: list[dict[str, Any]] = []
        w.connect("pre_init", lambda sender, **kw: kept.append(kw["kwargs"]), sender=w.Author)
        w.Author(None, "positional")
        w.Author(7, name="mixed")
        w.Author(pk=5, name="by pk")
        w.raises(w.Author, 1, "a", "extra")
        w.raises(w.Author, 1, "a", name="twice")
        w.raises(w.Author, name="a", colour="red")
        w.raises(w.Book, title="t", author=w.Topping(name="wrong type"))
        w.note("kept kwargs", kept)

    assert_same(
        ops,
        [
            "pre_init Author args=(None, 'positional') kwargs={}",
            "post_init Author instance=Author#None",
            "pre_init Author args=(7,) kwargs={'name': 'mixed'}",
            "post_init Author instance=Author#7",
            "pre_init Author args=() kwargs={'pk': 5, 'name': 'by pk'}",
            "post_init Author instance=Author#5",
            "pre_init Author args=(1, 'a', 'extra') kwargs={}",
            "! IndexError",
            "pre_init Author args=(1, 'a') kwargs={'name': 'twice'}",
            "! TypeError",
            "pre_init Author args=() kwargs={'name': 'a', 'colour': 'red'}",
            "! TypeError",
            "pre_init Topping args=() kwargs={'name': 'wrong type'}",
            "post_init Topping instance=Topping#None",
            "pre_init Book args=() kwargs={'title': 't', 'author': Topping#None}",
            "! ValueError",
            "= kept kwargs: [{}, {}, {'pk': 5}, {}, {}, {'colour': 'red'}]",
        ],
    )


def test_related_access_errors_and_empty_relations() -> None:
    def ops(w: World) -> None:
        w.User.objects.create(username="u")
        w.Player.objects.create(name="p")
        w.record()
        user = w.User.objects.get(pk=1)
        w.raises(getattr, user, "profile")
        w.note("hasattr", hasattr(user, "profile"))
        player = w.Player.objects.get(pk=1)
        w.note("team", player.team)
        w.raises(getattr, w.Book(title="t"), "author")
        book = w.Book(title="t", author_id=9)
        w.raises(getattr, book, "author")

    assert_same(
        ops,
        [
            "pre_init User args=(1, 'u') kwargs={}",
            "post_init User instance=User#1",
            "! RelatedObjectDoesNotExist",
            "= hasattr: False",
            "pre_init Player args=(1, 'p', None) kwargs={}",
            "post_init Player instance=Player#1",
            "= team: None",
            "pre_init Book args=() kwargs={'title': 't'}",
            "post_init Book instance=Book#None",
            "! RelatedObjectDoesNotExist",
            "pre_init Book args=() kwargs={'title': 't', 'author_id': 9}",
            "post_init Book instance=Book#None",
            "! DoesNotExist",
        ],
        record=False,
    )


def test_related_managers_query_and_create() -> None:
    def ops(w: World) -> None:
        make_library(w)
        pizza = w.Pizza.objects.create(name="p")
        pizza.toppings.add(*make_toppings(w)[:2])
        w.record()
        author = w.Author.objects.get(pk=1)
        w.note("filter", list(author.book_set.filter(title="b2")))
        w.note("count", author.book_set.count())
        w.note("exists", author.book_set.exists())
        w.note("get_or_create hit", author.book_set.get_or_create(title="b1"))
        w.note("get_or_create miss", author.book_set.get_or_create(title="new"))
        w.note("update_or_create", author.book_set.update_or_create(title="new", defaults={}))
        w.note("m2m filter", list(pizza.toppings.filter(name__startswith="t")))
        w.note("m2m count", pizza.toppings.count())
        w.note("m2m get", pizza.toppings.get(pk=2))
        w.note("m2m update_or_create", pizza.toppings.update_or_create(name="new"))
        w.note("reverse m2m", list(w.Topping.objects.get(pk=1).pizza_set.all()))

    assert_same(
        ops,
        [
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "= filter: [Book#2]",
            "= count: 2",
            "= exists: True",
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "= get_or_create hit: (Book#1, False)",
            "pre_init Book args=() kwargs={'title': 'new', 'author': Author#1}",
            "post_init Book instance=Book#None",
            "pre_save Book instance=Book#None raw=False using='default' update_fields=None",
            "post_save Book instance=Book#4 created=True update_fields=None raw=False using='default'",
            "= get_or_create miss: (Book#4, True)",
            "pre_init Book args=(4, 'new', 1) kwargs={}",
            "post_init Book instance=Book#4",
            "= update_or_create: (Book#4, False)",
            "pre_init Topping args=(1, 'tomato') kwargs={}",
            "post_init Topping instance=Topping#1",
            "= m2m filter: [Topping#1]",
            "= m2m count: 2",
            "pre_init Topping args=(2, 'cheese') kwargs={}",
            "post_init Topping instance=Topping#2",
            "= m2m get: Topping#2",
            "pre_init Topping args=() kwargs={'name': 'new'}",
            "post_init Topping instance=Topping#None",
            "pre_save Topping instance=Topping#None raw=False using='default' update_fields=None",
            "post_save Topping instance=Topping#5 created=True update_fields=None raw=False using='default'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(5) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 5}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(5) using='default'",
            "= m2m update_or_create: (Topping#5, True)",
            "pre_init Topping args=(1, 'tomato') kwargs={}",
            "post_init Topping instance=Topping#1",
            "pre_init Pizza args=(1, 'p') kwargs={}",
            "post_init Pizza instance=Pizza#1",
            "= reverse m2m: [Pizza#1]",
        ],
        record=False,
    )


# --- transactions ---------------------------------------------------------------------


def test_on_commit_callbacks_from_receivers_wait_for_the_operation_to_commit() -> None:
    def ops(w: World) -> None:
        def later(sender: type, **kwargs: Any) -> None:
            label = f"{sender.__name__} {kwargs.get('action', '')}".strip()
            w.transaction.on_commit(lambda: w.note("committed", label))

        a1 = make_library(w)
        pizza = w.Pizza.objects.create(name="p")
        w.record(("post_save", "post_delete", "m2m_changed"))
        w.connect("post_save", later)
        w.connect("post_delete", later)
        w.connect("m2m_changed", later)
        w.Topping.objects.create(name="t")
        pizza.toppings.add(1)
        w.Book.objects.get(pk=1).delete()
        with w.transaction.atomic():
            w.Topping.objects.create(name="u")
            w.note("inside atomic", "end")
        a1.delete()

    assert_same(
        ops,
        [
            "post_save Topping instance=Topping#1 created=True update_fields=None raw=False using='default'",
            "  = committed: 'Topping'",
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "= committed: 'Pizza_toppings pre_add'",
            "= committed: 'Pizza_toppings post_add'",
            "post_delete Review instance=Review#2 using='default' origin=Book#1",
            "post_delete Review instance=Review#1 using='default' origin=Book#1",
            "post_delete Book instance=Book#1 using='default' origin=Book#1",
            "= committed: 'Review'",
            "= committed: 'Review'",
            "= committed: 'Book'",
            "post_save Topping instance=Topping#2 created=True update_fields=None raw=False using='default'",
            "= inside atomic: 'end'",
            "= committed: 'Topping'",
            "post_delete Review instance=Review#4 using='default' origin=Author#1",
            "post_delete Review instance=Review#3 using='default' origin=Author#1",
            "post_delete Book instance=Book#2 using='default' origin=Author#1",
            "post_delete Author instance=Author#1 using='default' origin=Author#1",
            "= committed: 'Review'",
            "= committed: 'Review'",
            "= committed: 'Book'",
            "= committed: 'Author'",
        ],
        record=False,
    )


def test_atomic_rollback_discards_rows_and_callbacks_but_not_signals() -> None:
    def ops(w: World) -> None:
        w.record(("pre_save", "post_save", "pre_delete", "post_delete"))
        w.connect(
            "post_save",
            lambda sender, **kw: w.transaction.on_commit(lambda: w.note("committed", sender)),
        )

        def failing() -> None:
            with w.transaction.atomic():
                author = w.Author.objects.create(name="a")
                w.Book.objects.create(title="t", author=author)
                author.delete()
                w.Author.objects.create(name="b")
                raise RuntimeError("roll back")

        w.raises(failing)
        w.note("authors", w.Author.objects.count())
        w.note("next pk", w.Author.objects.create(name="c").pk)

    assert_same(
        ops,
        [
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
            "pre_save Book instance=Book#None raw=False using='default' update_fields=None",
            "post_save Book instance=Book#1 created=True update_fields=None raw=False using='default'",
            "pre_delete Book instance=Book#1 using='default' origin=Author#1",
            "pre_delete Author instance=Author#1 using='default' origin=Author#1",
            "post_delete Book instance=Book#1 using='default' origin=Author#1",
            "post_delete Author instance=Author#1 using='default' origin=Author#1",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#2 created=True update_fields=None raw=False using='default'",
            "! RuntimeError",
            "= authors: 0",
            "pre_save Author instance=Author#None raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
            "  = committed: Author",
            "= next pk: 1",
        ],
        record=False,
    )


def test_negated_q_keeps_rows_whose_value_is_null() -> None:
    def ops(w: World) -> None:
        w.record(())
        make_rosters(w)
        for slug, stock in (("a", None), ("b", 3), ("c", 0)):
            w.Gadget.objects.create(slug=slug, stock=stock)
        Q = w.models.Q

        def pks(queryset: Any) -> list[Any]:
            return list(queryset.order_by("pk").values_list("pk", flat=True))

        w.note("~Q(stock=3)", pks(w.Gadget.objects.filter(~Q(stock=3))))
        w.note("~Q(stock__gt=1)", pks(w.Gadget.objects.filter(~Q(stock__gt=1))))
        w.note("exclude(stock=3)", pks(w.Gadget.objects.exclude(stock=3)))
        w.note("~Q(team=1)", pks(w.Player.objects.filter(~Q(team=1))))
        w.note("~Q(team__name='red')", pks(w.Player.objects.filter(~Q(team__name="red"))))
        w.note("exclude(team__name='red')", pks(w.Player.objects.exclude(team__name="red")))
        w.note("exclude(Q(team__name='red'))", pks(w.Player.objects.exclude(Q(team__name="red"))))
        w.note("exclude(Q(stock=3))", pks(w.Gadget.objects.exclude(Q(stock=3))))

    assert_same(
        ops,
        [
            "= ~Q(stock=3): [1, 3]",
            "= ~Q(stock__gt=1): [1, 3]",
            "= exclude(stock=3): [1, 3]",
            "= ~Q(team=1): [2, 3]",
            "= ~Q(team__name='red'): [2, 3]",
            "= exclude(team__name='red'): [2, 3]",
            "= exclude(Q(team__name='red')): [2, 3]",
            "= exclude(Q(stock=3)): [1, 3]",
        ],
        record=False,
    )


# --- class_prepared -------------------------------------------------------------------


def declare_prep_models(w: World) -> None:
    models = w.models

    class PrepTag(models.Model):
        name = models.CharField(max_length=10)
        Meta = w.meta()

    class PrepPost(models.Model):
        tags = models.ManyToManyField(PrepTag)
        Meta = w.meta()

    class PrepBox(models.Model):
        things = models.ManyToManyField("PrepThing")
        Meta = w.meta()

    class PrepThing(models.Model):
        Meta = w.meta()

    class PrepNode(models.Model):
        links = models.ManyToManyField("self")
        Meta = w.meta()

    class PrepBase(models.Model):
        name = models.CharField(max_length=10)
        Meta = w.meta(abstract=True)

    class PrepConcrete(PrepBase):
        Meta = w.meta()

    class PrepProxy(PrepTag):
        Meta = w.meta(proxy=True)


PREP_MODELS_PREPARED = [
    "class_prepared PrepTag",
    "class_prepared PrepPost_tags",  # the through model before its owner
    "class_prepared PrepPost",
    "class_prepared PrepBox_things",  # even when the target is a lazy reference
    "class_prepared PrepBox",
    "class_prepared PrepThing",
    "class_prepared PrepNode_links",
    "class_prepared PrepNode",
    "class_prepared PrepConcrete",  # and none for the abstract PrepBase
    "class_prepared PrepProxy",
]


def test_class_prepared_order_for_through_proxy_and_abstract_models() -> None:
    def ops(w: World) -> None:
        w.record(("class_prepared",))
        with w.declaring():
            declare_prep_models(w)

    assert_same(
        ops,
        PREP_MODELS_PREPARED,
        record=False,
    )


def test_models_can_be_declared_after_the_tables_exist() -> None:
    def ops(w: World) -> None:
        w.record(("class_prepared",))
        declare_prep_models(w)

    assert_same(
        ops,
        PREP_MODELS_PREPARED,
        record=False,
    )


# --- rows that vanished, Meta.ordering ---------------------------------------------------


def test_saving_and_deleting_rows_that_were_deleted_meanwhile() -> None:
    def ops(w: World) -> None:
        for name in ("a", "b", "c"):
            w.Author.objects.create(name=name)
        a, b, c = (w.Author.objects.get(pk=pk) for pk in (1, 2, 3))
        w.Author.objects.all().delete()
        w.record()
        a.save()
        w.raises(b.save, update_fields=["name"])
        w.raises(b.save, force_update=True)
        count, per_model = c.delete()
        w.note("deleted", (count, label_counts(per_model)))
        w.raises(c.delete)
        w.note("pks", list(w.Author.objects.values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "pre_save Author instance=Author#1 raw=False using='default' update_fields=None",
            "post_save Author instance=Author#1 created=True update_fields=None raw=False using='default'",
            "pre_save Author instance=Author#2 raw=False using='default' update_fields=frozenset('name')",
            "! DatabaseError",
            "pre_save Author instance=Author#2 raw=False using='default' update_fields=None",
            "! DatabaseError",
            "pre_delete Author instance=Author#3 using='default' origin=Author#3",
            "post_delete Author instance=Author#3 using='default' origin=Author#3",
            "= deleted: (0, {})",
            "! ValueError",
            "= pks: [1]",
        ],
        record=False,
    )


def test_meta_ordering_applies_to_first_last_and_related_managers() -> None:
    def ops(w: World) -> None:
        author = w.Author.objects.create(name="a")
        book = w.Book.objects.create(title="t", author=author)
        for number in (2, 3, 1):
            w.Chapter.objects.create(book=book, number=number)
        w.record()
        w.note("first", w.Chapter.objects.first())
        w.note("last", w.Chapter.objects.last())
        w.note("index", w.Chapter.objects.all()[0])
        w.note("related", list(book.chapter_set.all()))
        w.note("filtered", list(w.Chapter.objects.filter(number__gt=1)))
        w.note("reordered", list(w.Chapter.objects.order_by("pk")))
        w.note("reversed", list(w.Chapter.objects.all().reverse()))

    assert_same(
        ops,
        [
            "pre_init Chapter args=(2, 1, 3) kwargs={}",
            "post_init Chapter instance=Chapter#2",
            "= first: Chapter#2",
            "pre_init Chapter args=(3, 1, 1) kwargs={}",
            "post_init Chapter instance=Chapter#3",
            "= last: Chapter#3",
            "pre_init Chapter args=(2, 1, 3) kwargs={}",
            "post_init Chapter instance=Chapter#2",
            "= index: Chapter#2",
            "pre_init Chapter args=(2, 1, 3) kwargs={}",
            "post_init Chapter instance=Chapter#2",
            "pre_init Chapter args=(1, 1, 2) kwargs={}",
            "post_init Chapter instance=Chapter#1",
            "pre_init Chapter args=(3, 1, 1) kwargs={}",
            "post_init Chapter instance=Chapter#3",
            "= related: [Chapter#2, Chapter#1, Chapter#3]",
            "pre_init Chapter args=(2, 1, 3) kwargs={}",
            "post_init Chapter instance=Chapter#2",
            "pre_init Chapter args=(1, 1, 2) kwargs={}",
            "post_init Chapter instance=Chapter#1",
            "= filtered: [Chapter#2, Chapter#1]",
            "pre_init Chapter args=(1, 1, 2) kwargs={}",
            "post_init Chapter instance=Chapter#1",
            "pre_init Chapter args=(2, 1, 3) kwargs={}",
            "post_init Chapter instance=Chapter#2",
            "pre_init Chapter args=(3, 1, 1) kwargs={}",
            "post_init Chapter instance=Chapter#3",
            "= reordered: [Chapter#1, Chapter#2, Chapter#3]",
            "pre_init Chapter args=(3, 1, 1) kwargs={}",
            "post_init Chapter instance=Chapter#3",
            "pre_init Chapter args=(1, 1, 2) kwargs={}",
            "post_init Chapter instance=Chapter#1",
            "pre_init Chapter args=(2, 1, 3) kwargs={}",
            "post_init Chapter instance=Chapter#2",
            "= reversed: [Chapter#3, Chapter#1, Chapter#2]",
        ],
        record=False,
    )


def test_m2m_add_of_a_missing_target_fails_at_commit_after_post_add() -> None:
    def ops(w: World) -> None:
        make_toppings(w)
        pizza = w.Pizza.objects.create(name="p")
        w.record()
        w.raises(pizza.toppings.add, 1, 99)
        w.note("linked", list(pizza.toppings.values_list("pk", flat=True)))
        w.raises(w.Book.objects.create, title="t", author_id=99)
        w.note("books", w.Book.objects.count())

    assert_same(
        ops,
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 99) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 99}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(1, 99) using='default'",
            "! IntegrityError",
            "= linked: []",
            "pre_init Book args=() kwargs={'title': 't', 'author_id': 99}",
            "post_init Book instance=Book#None",
            "pre_save Book instance=Book#None raw=False using='default' update_fields=None",
            "! IntegrityError",
            "= books: 0",
        ],
        record=False,
    )


def test_set_with_a_value_is_lazy_and_set_with_a_callable_loads_rows() -> None:
    def ops(w: World) -> None:
        for name in ("s1", "s2", "s3"):
            w.Shelf.objects.create(name=name)
        w.Lamp.objects.create(shelf_id=2, spare_id=3)
        w.Lamp.objects.create(shelf_id=3, spare_id=2)
        w.record()
        count, per_model = w.Shelf.objects.get(pk=2).delete()
        w.note("deleted", (count, label_counts(per_model)))
        w.note("lamps", list(w.Lamp.objects.order_by("pk").values_list("shelf_id", "spare_id")))

    assert_same(
        ops,
        [
            "pre_init Shelf args=(2, 's2') kwargs={}",
            "post_init Shelf instance=Shelf#2",
            "pre_init Lamp args=(2, 3, 2) kwargs={}",
            "post_init Lamp instance=Lamp#2",
            "pre_delete Shelf instance=Shelf#2 using='default' origin=Shelf#2",
            "post_delete Shelf instance=Shelf#2 using='default' origin=Shelf#2",
            "= deleted: (1, {'Shelf': 1})",
            "= lamps: [(1, 3), (3, 1)]",
        ],
        record=False,
    )


def test_double_negation_across_a_nullable_join_keeps_rows_without_a_related_row() -> None:
    def ops(w: World) -> None:
        w.record(())
        make_rosters(w)
        Q = w.models.Q

        def pks(queryset: Any) -> list[Any]:
            return list(queryset.order_by("pk").values_list("pk", flat=True))

        condition = Q(name="p3") & ~Q(team__name="red")
        w.note("exclude(p3 and not red)", pks(w.Player.objects.exclude(condition)))
        w.note("filter(not(p3 and not red))", pks(w.Player.objects.filter(~condition)))
        w.note(
            "filter(p2 or not red)",
            pks(w.Player.objects.filter(Q(name="p2") | ~Q(team__name="red"))),
        )

    assert_same(
        ops,
        [
            "= exclude(p3 and not red): [1, 2, 4]",
            "= filter(not(p3 and not red)): [1, 2, 4]",
            "= filter(p2 or not red): [2, 3]",
        ],
        record=False,
    )


# --- get_or_create / update_or_create corners, bulk return values ------------------------


def test_get_or_create_that_collides_on_create_looks_again_then_raises() -> None:
    def ops(w: World) -> None:
        w.Gadget.objects.create(slug="a", price=1)
        w.record()
        w.raises_with_message(w.Gadget.objects.get_or_create, price=5, defaults={"slug": "a"})
        w.note("gadgets", w.Gadget.objects.count())

    assert_same(
        ops,
        [
            "pre_init Gadget args=() kwargs={'price': 5, 'slug': 'a'}",
            "post_init Gadget instance=Gadget#None",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "! IntegrityError: UNIQUE constraint failed: <app>_gadget.slug",
            "= gadgets: 1",
        ],
        record=False,
    )


def test_update_or_create_defaults_that_are_not_all_fields_and_callables() -> None:
    def ops(w: World) -> None:
        w.Note.objects.create(text="n")
        w.record()
        w.note("pk in defaults", w.Note.objects.update_or_create(text="n", defaults={"pk": 1}))
        w.note(
            "callable default",
            w.Note.objects.update_or_create(text="n", defaults={"done": lambda: True}),
        )
        w.note("done", list(w.Note.objects.values_list("done", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Note args=(1, 'n', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "pre_save Note instance=Note#1 raw=False using='default' update_fields=None",
            "post_save Note instance=Note#1 created=False update_fields=None raw=False using='default'",
            "= pk in defaults: (Note#1, False)",
            "pre_init Note args=(1, 'n', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "pre_save Note instance=Note#1 raw=False using='default' update_fields=frozenset('done', 'updated')",
            "post_save Note instance=Note#1 created=False update_fields=frozenset('done', 'updated') raw=False using='default'",
            "= callable default: (Note#1, False)",
            "= done: [True]",
        ],
        record=False,
    )


def test_bulk_operations_return_what_django_returns() -> None:
    def ops(w: World) -> None:
        w.record()
        toppings = w.Topping.objects.bulk_create([w.Topping(name=n) for n in "abc"], batch_size=2)
        for topping in toppings:
            topping.name += "!"
        w.note("bulk_update", w.Topping.objects.bulk_update(toppings, ["name"], batch_size=2))
        w.note("bulk_update nothing", w.Topping.objects.bulk_update([], ["name"]))
        w.note("update", w.Topping.objects.filter(pk__gt=1).update(name="z"))
        w.note("update none", w.Topping.objects.filter(pk__gt=9).update(name="z"))
        w.note("bulk_create nothing", w.Topping.objects.bulk_create([]))

    assert_same(
        ops,
        [
            "pre_init Topping args=() kwargs={'name': 'a'}",
            "post_init Topping instance=Topping#None",
            "pre_init Topping args=() kwargs={'name': 'b'}",
            "post_init Topping instance=Topping#None",
            "pre_init Topping args=() kwargs={'name': 'c'}",
            "post_init Topping instance=Topping#None",
            "= bulk_update: 3",
            "= bulk_update nothing: 0",
            "= update: 2",
            "= update none: 0",
            "= bulk_create nothing: []",
        ],
        record=False,
    )


def test_choices_display_and_str() -> None:
    def ops(w: World) -> None:
        ticket = w.Ticket.objects.create()
        w.Ticket.objects.create(status=w.Ticket.Status.CLOSED, level=2)
        w.note("repr", repr(ticket))
        w.note("display", (ticket.get_status_display(), ticket.get_level_display()))
        w.note("choices", w.Ticket.Status.choices)
        w.note("labels", list(w.Ticket.Status.labels))
        closed = w.Ticket.objects.get(status=w.Ticket.Status.CLOSED)
        w.note("loaded", (repr(closed), closed.status, closed.get_level_display()))
        w.note("unknown value", w.Ticket(status="x", level=9).get_status_display())
        w.note("str of member", str(w.Ticket.Status.OPEN))

    assert_same(
        ops,
        [
            "pre_init Ticket args=() kwargs={}",
            "post_init Ticket instance=Ticket#None",
            "pre_save Ticket instance=Ticket#None raw=False using='default' update_fields=None",
            "post_save Ticket instance=Ticket#1 created=True update_fields=None raw=False using='default'",
            "pre_init Ticket args=() kwargs={'status': Status.CLOSED, 'level': 2}",
            "post_init Ticket instance=Ticket#None",
            "pre_save Ticket instance=Ticket#None raw=False using='default' update_fields=None",
            "post_save Ticket instance=Ticket#2 created=True update_fields=None raw=False using='default'",
            "= repr: '<Ticket: ticket 1 (Open)>'",
            "= display: ('Open', 'Low')",
            "= choices: [('o', 'Open'), ('c', 'Closed')]",
            "= labels: ['Open', 'Closed']",
            "pre_init Ticket args=(2, 'c', 2) kwargs={}",
            "post_init Ticket instance=Ticket#2",
            "= loaded: ('<Ticket: ticket 2 (Closed)>', 'c', 'High')",
            "pre_init Ticket args=() kwargs={'status': 'x', 'level': 9}",
            "post_init Ticket instance=Ticket#None",
            "= unknown value: 'x'",
            "= str of member: 'o'",
        ],
    )


def test_overridden_save_and_delete_are_called_as_django_calls_them() -> None:
    def ops(w: World) -> None:
        calls = w.Diary.calls
        calls.clear()
        author = w.Author.objects.create(name="a")
        w.record()
        diary = w.Diary.objects.create(text=" one ", author=author)
        w.Diary(text=" two ").save()
        w.Diary.objects.get_or_create(text="three")
        w.Diary.objects.update_or_create(text="three", defaults={"author": author})
        author.diary_set.add(w.Diary.objects.get(pk=2), bulk=False)
        author.diary_set.remove(diary, bulk=False)
        author.diary_set.create(text="four")
        w.Diary.objects.bulk_create([w.Diary(text="five")])
        diary.delete()
        w.Diary.objects.filter(pk=3).delete()
        author.delete()
        w.note("calls", calls)
        w.note("texts", list(w.Diary.objects.values_list("text", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Diary args=() kwargs={'text': ' one ', 'author': Author#1}",
            "post_init Diary instance=Diary#None",
            "pre_save Diary instance=Diary#None raw=False using='default' update_fields=None",
            "post_save Diary instance=Diary#1 created=True update_fields=None raw=False using='default'",
            "pre_init Diary args=() kwargs={'text': ' two '}",
            "post_init Diary instance=Diary#None",
            "pre_save Diary instance=Diary#None raw=False using='default' update_fields=None",
            "post_save Diary instance=Diary#2 created=True update_fields=None raw=False using='default'",
            "pre_init Diary args=() kwargs={'text': 'three'}",
            "post_init Diary instance=Diary#None",
            "pre_save Diary instance=Diary#None raw=False using='default' update_fields=None",
            "post_save Diary instance=Diary#3 created=True update_fields=None raw=False using='default'",
            "pre_init Diary args=(3, 'three', None) kwargs={}",
            "post_init Diary instance=Diary#3",
            "pre_save Diary instance=Diary#3 raw=False using='default' update_fields=frozenset('author')",
            "post_save Diary instance=Diary#3 created=False update_fields=frozenset('author') raw=False using='default'",
            "pre_init Diary args=(2, 'two', None) kwargs={}",
            "post_init Diary instance=Diary#2",
            "pre_save Diary instance=Diary#2 raw=False using='default' update_fields=None",
            "post_save Diary instance=Diary#2 created=False update_fields=None raw=False using='default'",
            "pre_init Diary args=(1, 'one', 1) kwargs={}",
            "post_init Diary instance=Diary#1",
            "pre_save Diary instance=Diary#1 raw=False using='default' update_fields=frozenset('author')",
            "post_save Diary instance=Diary#1 created=False update_fields=frozenset('author') raw=False using='default'",
            "pre_init Diary args=() kwargs={'text': 'four', 'author': Author#1}",
            "post_init Diary instance=Diary#None",
            "pre_save Diary instance=Diary#None raw=False using='default' update_fields=None",
            "post_save Diary instance=Diary#4 created=True update_fields=None raw=False using='default'",
            "pre_init Diary args=() kwargs={'text': 'five'}",
            "post_init Diary instance=Diary#None",
            "pre_delete Diary instance=Diary#1 using='default' origin=Diary#1",
            "post_delete Diary instance=Diary#1 using='default' origin=Diary#1",
            "pre_init Diary args=(3, 'three', 1) kwargs={}",
            "post_init Diary instance=Diary#3",
            "pre_delete Diary instance=Diary#3 using='default' origin=QuerySet<Diary>",
            "post_delete Diary instance=Diary#3 using='default' origin=QuerySet<Diary>",
            "pre_init Diary args=(2, 'two', 1) kwargs={}",
            "post_init Diary instance=Diary#2",
            "pre_init Diary args=(4, 'four', 1) kwargs={}",
            "post_init Diary instance=Diary#4",
            "pre_delete Author instance=Author#1 using='default' origin=Author#1",
            "pre_delete Diary instance=Diary#2 using='default' origin=Author#1",
            "pre_delete Diary instance=Diary#4 using='default' origin=Author#1",
            "post_delete Author instance=Author#1 using='default' origin=Author#1",
            "post_delete Diary instance=Diary#4 using='default' origin=Author#1",
            "post_delete Diary instance=Diary#2 using='default' origin=Author#1",
            "= calls: [('save', ['force_insert', 'using']), ('save', []), ('save', ['force_insert', 'using']), ('save', ['update_fields', 'using']), ('save', []), ('save', ['update_fields']), ('save', ['force_insert', 'using']), ('delete', [])]",
            "= texts: ['five']",
        ],
        record=False,
    )


def test_a_database_error_caught_inside_atomic_breaks_the_block() -> None:
    def ops(w: World) -> None:
        w.record(("pre_save", "post_save"))
        with w.transaction.atomic():
            w.Gadget.objects.create(slug="a")
            w.raises(w.Gadget.objects.create, slug="a")
            w.raises(w.Gadget.objects.count)
            w.raises(w.Gadget.objects.create, slug="b")
        w.note("gadgets after the block", w.Gadget.objects.count())
        with w.transaction.atomic():
            w.Gadget.objects.create(slug="c")
            with w.transaction.atomic():
                w.raises(w.Gadget.objects.create, slug="c")
            w.Gadget.objects.create(slug="d")
        w.note("slugs", list(w.Gadget.objects.order_by("pk").values_list("slug", flat=True)))

    assert_same(
        ops,
        [
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "post_save Gadget instance=Gadget#1 created=True update_fields=None raw=False using='default'",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "! IntegrityError",
            "! TransactionManagementError",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "! TransactionManagementError",
            "= gadgets after the block: 0",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "post_save Gadget instance=Gadget#1 created=True update_fields=None raw=False using='default'",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "! IntegrityError",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "post_save Gadget instance=Gadget#2 created=True update_fields=None raw=False using='default'",
            "= slugs: ['c', 'd']",
        ],
        record=False,
    )


def test_on_commit_callbacks_of_a_rolled_back_savepoint_are_dropped() -> None:
    def ops(w: World) -> None:
        transaction = w.transaction

        def later(label: str) -> None:
            transaction.on_commit(lambda: w.note("committed", label))

        @transaction.atomic
        def decorated() -> None:
            later("decorated")

        with transaction.atomic():
            later("outer")
            try:
                with transaction.atomic():
                    later("savepoint")
                    raise RuntimeError("inner")
            except RuntimeError:
                w.note("inner rolled back", True)
            with transaction.atomic():
                later("kept savepoint")
            decorated()
            w.note("outer block ends", True)
        later("outside any block")

    assert_same(
        ops,
        [
            "= inner rolled back: True",
            "= outer block ends: True",
            "= committed: 'outer'",
            "= committed: 'kept savepoint'",
            "= committed: 'decorated'",
            "= committed: 'outside any block'",
        ],
    )


def test_m2m_receiver_errors_roll_the_change_back() -> None:
    def ops(w: World) -> None:
        def refuse(sender: type, action: str, **kwargs: Any) -> None:
            if action in ("post_add", "pre_remove"):
                raise RuntimeError(action)

        t1, t2, t3, t4 = make_toppings(w)
        pizza = w.Pizza.objects.create(name="p")
        pizza.toppings.add(t1)
        w.record()
        w.connect("m2m_changed", refuse, sender=w.ref("Pizza_toppings"))
        w.raises(pizza.toppings.add, t2, t3)
        w.raises(pizza.toppings.remove, t1)
        w.raises(pizza.toppings.set, [t4])
        w.note("linked", list(pizza.toppings.order_by("pk").values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "m2m_changed Pizza_toppings action='pre_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2, 3) using='default'",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 2}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 3}",
            "post_init Pizza_toppings instance=Pizza_toppings#None",
            "m2m_changed Pizza_toppings action='post_add' instance=Pizza#1 reverse=False model=Topping pk_set=set(2, 3) using='default'",
            "! RuntimeError",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "! RuntimeError",
            "m2m_changed Pizza_toppings action='pre_remove' instance=Pizza#1 reverse=False model=Topping pk_set=set(1) using='default'",
            "! RuntimeError",
            "= linked: [1]",
        ],
        record=False,
    )


def test_delete_receivers_that_read_related_objects() -> None:
    def ops(w: World) -> None:
        def book_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
            w.note("author of deleted book", instance.author)

        def review_deleting(sender: type, instance: Any, **kwargs: Any) -> None:
            w.note("author of review", instance.book.author.name)

        def pre_save_reads_old(sender: type, instance: Any, **kwargs: Any) -> None:
            if instance.pk is not None:
                w.note("old name", sender.objects.get(pk=instance.pk).name)

        a1 = make_library(w)
        w.record()
        w.connect("post_delete", book_deleted, sender=w.Book)
        w.connect("pre_delete", review_deleting, sender=w.Review)
        w.connect("pre_save", pre_save_reads_old, sender=w.Author)
        a1.name = "renamed"
        a1.save()
        w.Review.objects.get(pk=1).delete()
        a1.delete()

    assert_same(
        ops,
        [
            "pre_save Author instance=Author#1 raw=False using='default' update_fields=None",
            "  pre_init Author args=(1, 'a1') kwargs={}",
            "  post_init Author instance=Author#1",
            "  = old name: 'a1'",
            "post_save Author instance=Author#1 created=False update_fields=None raw=False using='default'",
            "pre_init Review args=(1, 1, 1) kwargs={}",
            "post_init Review instance=Review#1",
            "pre_delete Review instance=Review#1 using='default' origin=Review#1",
            "  pre_init Book args=(1, 'b1', 1) kwargs={}",
            "  post_init Book instance=Book#1",
            "  pre_init Author args=(1, 'renamed') kwargs={}",
            "  post_init Author instance=Author#1",
            "  = author of review: 'renamed'",
            "post_delete Review instance=Review#1 using='default' origin=Review#1",
            "pre_init Book args=(1, 'b1', 1) kwargs={}",
            "post_init Book instance=Book#1",
            "pre_init Book args=(2, 'b2', 1) kwargs={}",
            "post_init Book instance=Book#2",
            "pre_init Review args=(2, 1, 2) kwargs={}",
            "post_init Review instance=Review#2",
            "pre_init Review args=(3, 2, 1) kwargs={}",
            "post_init Review instance=Review#3",
            "pre_init Review args=(4, 2, 2) kwargs={}",
            "post_init Review instance=Review#4",
            "pre_delete Review instance=Review#2 using='default' origin=Author#1",
            "  pre_init Book args=(1, 'b1', 1) kwargs={}",
            "  post_init Book instance=Book#1",
            "  pre_init Author args=(1, 'renamed') kwargs={}",
            "  post_init Author instance=Author#1",
            "  = author of review: 'renamed'",
            "pre_delete Review instance=Review#3 using='default' origin=Author#1",
            "  pre_init Book args=(2, 'b2', 1) kwargs={}",
            "  post_init Book instance=Book#2",
            "  pre_init Author args=(1, 'renamed') kwargs={}",
            "  post_init Author instance=Author#1",
            "  = author of review: 'renamed'",
            "pre_delete Review instance=Review#4 using='default' origin=Author#1",
            "  pre_init Book args=(2, 'b2', 1) kwargs={}",
            "  post_init Book instance=Book#2",
            "  pre_init Author args=(1, 'renamed') kwargs={}",
            "  post_init Author instance=Author#1",
            "  = author of review: 'renamed'",
            "pre_delete Book instance=Book#1 using='default' origin=Author#1",
            "pre_delete Book instance=Book#2 using='default' origin=Author#1",
            "pre_delete Author instance=Author#1 using='default' origin=Author#1",
            "post_delete Review instance=Review#4 using='default' origin=Author#1",
            "post_delete Review instance=Review#3 using='default' origin=Author#1",
            "post_delete Review instance=Review#2 using='default' origin=Author#1",
            "post_delete Book instance=Book#2 using='default' origin=Author#1",
            "  pre_init Author args=(1, 'renamed') kwargs={}",
            "  post_init Author instance=Author#1",
            "  = author of deleted book: Author#1",
            "post_delete Book instance=Book#1 using='default' origin=Author#1",
            "  pre_init Author args=(1, 'renamed') kwargs={}",
            "  post_init Author instance=Author#1",
            "  = author of deleted book: Author#1",
            "post_delete Author instance=Author#1 using='default' origin=Author#1",
        ],
        record=False,
    )


def test_auto_now_fields_and_update_fields() -> None:
    def ops(w: World) -> None:
        note = w.Note.objects.create(text="n", updated=datetime.datetime(2020, 1, 1))
        w.note("auto_now overrides the value given", note.updated.year > 2020)
        w.Note.objects.filter(pk=1).update(updated=datetime.datetime(2020, 1, 1))
        w.record()
        note = w.Note.objects.get(pk=1)
        note.save(update_fields=["text"])
        w.note("not in update_fields: kept in db", w.Note.objects.get(pk=1).updated.year)
        note.save(update_fields=["text", "updated"])
        w.note("in update_fields: set", w.Note.objects.get(pk=1).updated.year > 2020)
        gadget = w.Gadget.objects.create(slug="g", added=datetime.datetime(2020, 1, 1))
        w.note("auto_now_add overrides on create", gadget.added.year > 2020)
        gadget.added = datetime.datetime(2020, 1, 1)
        gadget.save()
        w.note("auto_now_add leaves updates alone", w.Gadget.objects.get(pk=1).added.year)

    assert_same(
        ops,
        [
            "= auto_now overrides the value given: True",
            "pre_init Note args=(1, 'n', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "pre_save Note instance=Note#1 raw=False using='default' update_fields=frozenset('text')",
            "post_save Note instance=Note#1 created=False update_fields=frozenset('text') raw=False using='default'",
            "pre_init Note args=(1, 'n', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "= not in update_fields: kept in db: 2020",
            "pre_save Note instance=Note#1 raw=False using='default' update_fields=frozenset('text', 'updated')",
            "post_save Note instance=Note#1 created=False update_fields=frozenset('text', 'updated') raw=False using='default'",
            "pre_init Note args=(1, 'n', False, <datetime>) kwargs={}",
            "post_init Note instance=Note#1",
            "= in update_fields: set: True",
            "pre_init Gadget args=() kwargs={'slug': 'g', 'added': <datetime>}",
            "post_init Gadget instance=Gadget#None",
            "pre_save Gadget instance=Gadget#None raw=False using='default' update_fields=None",
            "post_save Gadget instance=Gadget#1 created=True update_fields=None raw=False using='default'",
            "= auto_now_add overrides on create: True",
            "pre_save Gadget instance=Gadget#1 raw=False using='default' update_fields=None",
            "post_save Gadget instance=Gadget#1 created=False update_fields=None raw=False using='default'",
            "pre_init Gadget args=(1, 'g', 0.0, None, True, '', <datetime>) kwargs={}",
            "post_init Gadget instance=Gadget#1",
            "= auto_now_add leaves updates alone: 2020",
        ],
        record=False,
    )


def test_ordering_across_a_reverse_relation_gives_a_row_per_related_row() -> None:
    def ops(w: World) -> None:
        make_library(w)
        w.Author.objects.create(name="no books")
        w.record()
        w.note("by book title", list(w.Author.objects.order_by("book__title")))
        w.note("by book, descending", list(w.Author.objects.order_by("-book", "pk")))
        w.note(
            "names", list(w.Author.objects.order_by("-book__title").values_list("name", flat=True))
        )

    assert_same(
        ops,
        [
            "pre_init Author args=(3, 'no books') kwargs={}",
            "post_init Author instance=Author#3",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(2, 'a2') kwargs={}",
            "post_init Author instance=Author#2",
            "= by book title: [Author#3, Author#1, Author#1, Author#2]",
            "pre_init Author args=(2, 'a2') kwargs={}",
            "post_init Author instance=Author#2",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(1, 'a1') kwargs={}",
            "post_init Author instance=Author#1",
            "pre_init Author args=(3, 'no books') kwargs={}",
            "post_init Author instance=Author#3",
            "= by book, descending: [Author#2, Author#1, Author#1, Author#3]",
            "= names: ['a2', 'a1', 'a1', 'no books']",
        ],
        record=False,
    )


def test_or_of_negations_across_a_nullable_join_follows_djangos_sql() -> None:
    """Django guards a negated lookup across a nullable join with IS NOT NULL, but not
    when it is ORed with a negated ``fk=None``: rows without a related row then drop out."""

    def ops(w: World) -> None:
        w.record(())
        make_rosters(w)
        Q = w.models.Q

        def pks(queryset: Any) -> list[Any]:
            return list(queryset.order_by("pk").values_list("pk", flat=True))

        either = ~Q(team=None) | ~Q(team__name__startswith="zz")
        w.note("either", pks(w.Player.objects.filter(either)))
        w.note("alone", pks(w.Player.objects.filter(~Q(team__name__startswith="zz"))))

    assert_same(
        ops,
        [
            "= either: [1, 3, 4]",
            "= alone: [1, 2, 3, 4]",
        ],
        record=False,
    )


def test_an_empty_in_inside_an_or_is_dropped_from_the_sql() -> None:
    """Unordered rows come back in the order SQLite's plan gives, which Django's SQL decides."""

    def ops(w: World) -> None:
        make_rosters(w)
        Q = w.models.Q
        w.record(("pre_init",))
        w.note("rows", list(w.Player.objects.filter(Q(team_id__in=[]) | Q(team__gte=0))))
        w.note("same as", list(w.Player.objects.filter(team__gte=0)))

    assert_same(
        ops,
        [
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "pre_init Player args=(4, 'p4', 1) kwargs={}",
            "pre_init Player args=(3, 'p3', 2) kwargs={}",
            "= rows: [Player#1, Player#4, Player#3]",
            "pre_init Player args=(1, 'p1', 1) kwargs={}",
            "pre_init Player args=(4, 'p4', 1) kwargs={}",
            "pre_init Player args=(3, 'p3', 2) kwargs={}",
            "= same as: [Player#1, Player#4, Player#3]",
        ],
        record=False,
    )
