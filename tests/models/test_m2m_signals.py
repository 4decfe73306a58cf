"""m2m_changed: pk_set rules from both sides, shared sets, symmetry, explicit through models."""

import pytest

from sigcli import models, signals
from tests.models.recording import recording


def declare_pizza():
    class Topping(models.Model):
        name = models.CharField(max_length=10)

    class Pizza(models.Model):
        toppings = models.ManyToManyField(Topping)

    return Topping, Pizza


def m2m_only(log):
    return [line for line in log.take() if line.startswith("m2m_changed")]


def test_the_worked_example_forward_and_reverse():
    with recording() as (registry, log):
        Topping, Pizza = declare_pizza()
        registry.migrate()
        p1, p2 = Pizza.objects.create(), Pizza.objects.create()
        t1, t2, t3, t4 = (
            Topping.objects.create(name=n) for n in ("tomato", "cheese", "basil", "salami")
        )
        p1.toppings.add(t1)
        log.take()
        fwd = "m2m_changed Pizza_toppings Pizza#1 action={!r} reverse=False model=Topping pk_set={}"

        p1.toppings.add(t1, t2)
        assert m2m_only(log) == [fwd.format("pre_add", "{2}"), fwd.format("post_add", "{2}")]
        p1.toppings.add(t1)
        assert m2m_only(log) == [fwd.format("pre_add", "{}"), fwd.format("post_add", "{}")]
        p1.toppings.remove(t1)
        assert m2m_only(log) == [fwd.format("pre_remove", "{1}"), fwd.format("post_remove", "{1}")]
        p1.toppings.remove(t3)
        assert m2m_only(log) == [fwd.format("pre_remove", "{3}"), fwd.format("post_remove", "{3}")]
        for _ in range(2):
            p1.toppings.clear()
            assert m2m_only(log) == [
                fwd.format("pre_clear", "None"),
                fwd.format("post_clear", "None"),
            ]
        p1.toppings.add(t2)
        log.take()
        p1.toppings.set([t1, t3])
        assert m2m_only(log) == [
            fwd.format("pre_remove", "{2}"),
            fwd.format("post_remove", "{2}"),
            fwd.format("pre_add", "{1, 3}"),
            fwd.format("post_add", "{1, 3}"),
        ]
        p1.toppings.set([t1, t3])
        assert m2m_only(log) == []
        p1.toppings.set([t3], clear=True)
        assert m2m_only(log) == [
            fwd.format("pre_clear", "None"),
            fwd.format("post_clear", "None"),
            fwd.format("pre_add", "{3}"),
            fwd.format("post_add", "{3}"),
        ]
        p1.toppings.add(4)
        assert m2m_only(log) == [fwd.format("pre_add", "{4}"), fwd.format("post_add", "{4}")]

        rev = "m2m_changed Pizza_toppings Topping#4 action={!r} reverse=True model=Pizza pk_set={}"
        t4.pizza_set.add(p1, p2)
        assert m2m_only(log) == [rev.format("pre_add", "{2}"), rev.format("post_add", "{2}")]
        t4.pizza_set.remove(p1)
        assert m2m_only(log) == [rev.format("pre_remove", "{1}"), rev.format("post_remove", "{1}")]
        t4.pizza_set.clear()
        assert m2m_only(log) == [rev.format("pre_clear", "None"), rev.format("post_clear", "None")]


def test_add_builds_through_instances_and_sends_no_save_signals():
    with recording() as (registry, log):
        Topping, Pizza = declare_pizza()
        registry.migrate()
        pizza, topping = Pizza.objects.create(), Topping.objects.create(name="t")
        log.take()
        pizza.toppings.add(topping)
        assert log.take() == [
            "m2m_changed Pizza_toppings Pizza#1 action='pre_add' reverse=False model=Topping pk_set={1}",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings#None",
            "m2m_changed Pizza_toppings Pizza#1 action='post_add' reverse=False model=Topping pk_set={1}",
        ]


def test_pre_add_receiver_editing_pk_set_changes_what_is_inserted():
    shared = []

    def drop_first(sender, action, pk_set, **kwargs):
        shared.append(pk_set)
        if action == "pre_add":
            pk_set.discard(1)

    with recording(connect=False) as (registry, _):
        Topping, Pizza = declare_pizza()
        registry.migrate()
        pizza = Pizza.objects.create()
        t1, t2 = Topping.objects.create(), Topping.objects.create()
        signals.m2m_changed.connect(drop_first, sender=Pizza.toppings.through, weak=False)
        try:
            pizza.toppings.add(t1, t2)
        finally:
            signals.m2m_changed.disconnect(drop_first, sender=Pizza.toppings.through)
        assert shared[0] is shared[1] and shared[1] == {2}
        assert list(pizza.toppings.values_list("pk", flat=True)) == [2]


def test_symmetrical_self_relation_sends_one_pair_and_writes_both_rows():
    with recording() as (registry, log):

        class Person(models.Model):
            friends = models.ManyToManyField("self")

        registry.migrate()
        ann, bob = Person.objects.create(), Person.objects.create()
        log.take()
        ann.friends.add(bob)
        lines = m2m_only(log)
        assert lines == [
            "m2m_changed Person_friends Person#1 action='pre_add' reverse=False model=Person pk_set={2}",
            "m2m_changed Person_friends Person#1 action='post_add' reverse=False model=Person pk_set={2}",
        ]
        assert [f.name for f in Person.friends.through._meta.local_fields] == [
            "id",
            "from_person",
            "to_person",
        ]
        assert list(bob.friends.all()) == [ann]
        bob.friends.remove(ann)
        assert list(ann.friends.all()) == []


def test_explicit_through_remove_nests_through_deletes_between_pre_and_post():
    with recording() as (registry, log):

        class Musician(models.Model):
            pass

        class Group(models.Model):
            members = models.ManyToManyField(Musician, through="Membership")

        class Membership(models.Model):
            group = models.ForeignKey(Group, on_delete=models.CASCADE)
            musician = models.ForeignKey(Musician, on_delete=models.CASCADE)
            role = models.CharField(max_length=10, default="")

        registry.migrate()
        assert Group.members.through is Membership
        group, musician = Group.objects.create(), Musician.objects.create()
        group.members.add(musician, through_defaults={"role": "drums"})
        assert Membership.objects.get().role == "drums"
        log.take()
        group.members.remove(musician)
        assert log.take() == [
            "m2m_changed Membership Group#1 action='pre_remove' reverse=False model=Musician pk_set={1}",
            "pre_init Membership args=(1, 1, 1, 'drums') kwargs={}",
            "post_init Membership#1",
            "pre_delete Membership#1 origin=QuerySet<Membership>",
            "post_delete Membership#1 origin=QuerySet<Membership>",
            "m2m_changed Membership Group#1 action='post_remove' reverse=False model=Musician pk_set={1}",
        ]


def test_create_saves_the_target_then_adds_it():
    with recording() as (registry, log):
        Topping, Pizza = declare_pizza()
        registry.migrate()
        pizza = Pizza.objects.create()
        log.take()
        topping = pizza.toppings.create(name="olive")
        assert [line.split(" action=")[0] if "m2m" in line else line for line in log.take()] == [
            "pre_init Topping args=() kwargs={'name': 'olive'}",
            "post_init Topping#None",
            "pre_save Topping#None update_fields=None",
            "post_save Topping#1 created=True update_fields=None",
            "m2m_changed Pizza_toppings Pizza#1",
            "pre_init Pizza_toppings args=() kwargs={'pizza_id': 1, 'topping_id': 1}",
            "post_init Pizza_toppings#None",
            "m2m_changed Pizza_toppings Pizza#1",
        ]
        assert list(pizza.toppings.all()) == [topping]


def test_deleting_a_linked_object_sends_no_m2m_changed():
    with recording() as (registry, log):
        Topping, Pizza = declare_pizza()
        registry.migrate()
        pizza, topping = Pizza.objects.create(), Topping.objects.create()
        pizza.toppings.add(topping)
        log.take()
        assert topping.delete() == (2, {"app.Pizza_toppings": 1, "app.Topping": 1})
        assert not m2m_only(log)


def test_errors_come_before_any_signal():
    with recording() as (registry, log):
        Topping, Pizza = declare_pizza()
        registry.migrate()
        pizza = Pizza.objects.create()
        log.take()
        with pytest.raises(TypeError, match="'Topping' instance expected"):
            pizza.toppings.add(pizza)
        with pytest.raises(ValueError, match='the value for field "topping" is None'):
            pizza.toppings.add(Topping())
        assert m2m_only(log) == []
        with pytest.raises(ValueError, match="needs to have a primary key"):
            Pizza().toppings.all()
