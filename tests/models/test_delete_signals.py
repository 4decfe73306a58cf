"""The delete collector: signal order, origin, on_delete handlers, fast deletes, rollback."""

import pytest

from sigcli import models, signals
from tests.models.recording import recording


def declare_chain():
    class A(models.Model):
        name = models.CharField(max_length=10)

    class B(models.Model):
        a = models.ForeignKey(A, on_delete=models.CASCADE)

    class C(models.Model):
        b = models.ForeignKey(B, on_delete=models.CASCADE)

    return A, B, C


def test_three_level_cascade_sends_leaf_first_then_posts_in_descending_pk_order():
    with recording() as (registry, log):
        A, B, C = declare_chain()
        registry.migrate()
        a1 = A.objects.create(name="a1")
        b1, b2 = B.objects.create(a=a1), B.objects.create(a=a1)
        c1, c2, c3 = C.objects.create(b=b1), C.objects.create(b=b1), C.objects.create(b=b2)
        log.take()

        result = a1.delete()

        assert log.take() == [
            "pre_init B args=(1, 1) kwargs={}",
            "post_init B#1",
            "pre_init B args=(2, 1) kwargs={}",
            "post_init B#2",
            "pre_init C args=(1, 1) kwargs={}",
            "post_init C#1",
            "pre_init C args=(2, 1) kwargs={}",
            "post_init C#2",
            "pre_init C args=(3, 2) kwargs={}",
            "post_init C#3",
            "pre_delete C#1 origin=A#1",
            "pre_delete C#2 origin=A#1",
            "pre_delete C#3 origin=A#1",
            "pre_delete B#1 origin=A#1",
            "pre_delete B#2 origin=A#1",
            "pre_delete A#1 origin=A#1",
            "post_delete C#3 origin=A#1",
            "post_delete C#2 origin=A#1",
            "post_delete C#1 origin=A#1",
            "post_delete B#2 origin=A#1",
            "post_delete B#1 origin=A#1",
            "post_delete A#1 origin=A#1",
        ]
        assert result == (6, {"app.C": 3, "app.B": 2, "app.A": 1})
        # pks are cleared on the collected instances; b1..c3 here are other copies
        assert a1.pk is None
        assert [o.pk for o in (b1, b2, c1, c2, c3)] == [1, 2, 1, 2, 3]


def test_origin_is_the_same_object_in_every_delete_signal():
    origins = []

    def remember(sender, origin, **kwargs):
        origins.append(origin)

    with recording(connect=False) as (registry, _):
        A, B, C = declare_chain()
        registry.migrate()
        a1 = A.objects.create()
        C.objects.create(b=B.objects.create(a=a1))
        signals.pre_delete.connect(remember, weak=False)
        signals.post_delete.connect(remember, weak=False)
        try:
            queryset = A.objects.all()
            queryset.delete()
        finally:
            signals.pre_delete.disconnect(remember)
            signals.post_delete.disconnect(remember)
    assert len(origins) == 6
    assert all(origin is queryset for origin in origins)


def test_leaf_without_listeners_is_deleted_without_loading():
    with recording(connect=False) as (registry, log):
        A, B, C = declare_chain()
        registry.migrate()
        a1 = A.objects.create()
        C.objects.create(b=B.objects.create(a=a1))
        for signal in (
            signals.pre_init,
            signals.post_init,
            signals.pre_delete,
            signals.post_delete,
        ):
            signal.connect(log.receiver, sender=B, weak=False)
            signal.connect(log.receiver, sender=A, weak=False)
        try:
            assert a1.delete() == (3, {"app.C": 1, "app.B": 1, "app.A": 1})
        finally:
            for signal in (
                signals.pre_init,
                signals.post_init,
                signals.pre_delete,
                signals.post_delete,
            ):
                signal.disconnect(log.receiver, sender=B)
                signal.disconnect(log.receiver, sender=A)
    assert log.take() == [
        "pre_init B args=(1, 1) kwargs={}",
        "post_init B#1",
        "pre_delete B#1 origin=A#1",
        "pre_delete A#1 origin=A#1",
        "post_delete B#1 origin=A#1",
        "post_delete A#1 origin=A#1",
    ]


def test_no_listeners_at_all_deletes_with_raw_statements_and_no_signals():
    with recording(connect=False) as (registry, log):
        A, B, C = declare_chain()
        registry.migrate()
        a1 = A.objects.create()
        C.objects.create(b=B.objects.create(a=a1))
        for signal in (signals.pre_init, signals.post_init):
            signal.connect(log.receiver, weak=False)
        try:
            assert a1.delete() == (3, {"app.C": 1, "app.B": 1, "app.A": 1})
        finally:
            for signal in (signals.pre_init, signals.post_init):
                signal.disconnect(log.receiver)
    # B is loaded (C cascades from it) with only its referenced column; C never is.
    assert log.take() == ["pre_init B args=(1, <Deferred field>) kwargs={}", "post_init B#1"]
    assert a1.pk is None


def test_set_null_sends_no_save_signals_and_does_not_load_children():
    with recording() as (registry, log):

        class Team(models.Model):
            pass

        class Player(models.Model):
            team = models.ForeignKey(Team, on_delete=models.SET_NULL, null=True)

        registry.migrate()
        team = Team.objects.create()
        player = Player.objects.create(team=team)
        log.take()
        assert team.delete() == (1, {"app.Team": 1})
        assert log.take() == ["pre_delete Team#1 origin=Team#1", "post_delete Team#1 origin=Team#1"]
        assert player.team_id == 1  # in-memory instances are left alone
        assert list(Player.objects.values_list("team", flat=True)) == [None]


def test_set_default_loads_children_but_sends_no_save_signals():
    with recording() as (registry, log):

        class Shelf(models.Model):
            pass

        class Item(models.Model):
            shelf = models.ForeignKey(Shelf, on_delete=models.SET_DEFAULT, default=1)

        registry.migrate()
        Shelf.objects.create()
        shelf2 = Shelf.objects.create()
        Item.objects.create(shelf=shelf2)
        log.take()
        shelf2.delete()
        assert log.take() == [
            "pre_init Item args=(1, 2) kwargs={}",
            "post_init Item#1",
            "pre_delete Shelf#2 origin=Shelf#2",
            "post_delete Shelf#2 origin=Shelf#2",
        ]
        assert list(Item.objects.values_list("shelf", flat=True)) == [1]


def test_protect_raises_before_any_delete_signal_and_deletes_nothing():
    with recording() as (registry, log):

        class Customer(models.Model):
            pass

        class Order(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.PROTECT)

        registry.migrate()
        customer = Customer.objects.create()
        Order.objects.create(customer=customer)
        log.take()
        with pytest.raises(models.ProtectedError, match="'Order.customer'") as caught:
            customer.delete()
        assert log.take() == ["pre_init Order args=(1, 1) kwargs={}", "post_init Order#1"]
        assert [o.pk for o in caught.value.protected_objects] == [1]
        assert Customer.objects.count() == 1 and customer.pk == 1


def test_restrict_raises_unless_the_rows_are_also_cascaded():
    with recording(connect=False) as (registry, _):

        class Artist(models.Model):
            pass

        class Album(models.Model):
            artist = models.ForeignKey(Artist, on_delete=models.CASCADE)

        class Song(models.Model):
            artist = models.ForeignKey(Artist, on_delete=models.RESTRICT)
            album = models.ForeignKey(Album, on_delete=models.CASCADE)

        registry.migrate()
        artist = Artist.objects.create()
        other = Artist.objects.create()
        album = Album.objects.create(artist=other)
        Song.objects.create(artist=artist, album=album)
        with pytest.raises(models.RestrictedError, match="'Song.artist'"):
            artist.delete()
        album.artist = artist
        album.save()
        assert artist.delete() == (3, {"app.Song": 1, "app.Album": 1, "app.Artist": 1})


def test_receiver_error_rolls_back_the_whole_delete_and_keeps_pks():
    def refuse(sender, instance, **kwargs):
        if sender.__name__ == "A":
            raise RuntimeError("refused")

    with recording(connect=False) as (registry, _):
        A, B, C = declare_chain()
        registry.migrate()
        a1 = A.objects.create()
        b1 = B.objects.create(a=a1)
        signals.post_delete.connect(refuse, weak=False)
        try:
            with pytest.raises(RuntimeError):
                a1.delete()
        finally:
            signals.post_delete.disconnect(refuse)
        assert (A.objects.count(), B.objects.count()) == (1, 1)
        assert (a1.pk, b1.pk) == (1, 1)


def test_queryset_delete_loads_rows_then_pre_ascending_post_descending():
    with recording() as (registry, log):

        class Note(models.Model):
            text = models.CharField(max_length=10)

        registry.migrate()
        for text in "abc":
            Note.objects.create(text=text)
        log.take()
        assert Note.objects.exclude(text="b").delete() == (2, {"app.Note": 2})
        assert log.take() == [
            "pre_init Note args=(1, 'a') kwargs={}",
            "post_init Note#1",
            "pre_init Note args=(3, 'c') kwargs={}",
            "post_init Note#3",
            "pre_delete Note#1 origin=QuerySet<Note>",
            "pre_delete Note#3 origin=QuerySet<Note>",
            "post_delete Note#3 origin=QuerySet<Note>",
            "post_delete Note#1 origin=QuerySet<Note>",
        ]
        assert Note.objects.filter(pk__in=[]).delete() == (0, {})


def test_delete_of_unsaved_instance_raises_value_error():
    with recording() as (registry, log):

        class Note(models.Model):
            pass

        registry.migrate()
        with pytest.raises(
            ValueError, match="Note object can't be deleted because its id attribute is set to None"
        ):
            Note().delete()
