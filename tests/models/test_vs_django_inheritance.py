"""Multi-table inheritance, compared with Django 5.2.

A ``Restaurant(Place)`` has its own table, linked to ``Place``'s row by the
one-to-one primary key ``place_ptr``. Saving a child writes both tables but
sends ``pre_save``/``post_save`` once, with the child as sender; deleting a
child deletes its parent's row too, with signals for both (the parent is built
from the child's values, so it sends ``pre_init``/``post_init`` by keyword).
"""

from tests.models.diff_harness import World, assert_same, label_counts


def make_places(w: World) -> None:
    w.Place.objects.create(name="corner", address="1 main st")
    w.Restaurant.objects.create(name="luigi", serves_pizza=True)
    w.Pizzeria.objects.create(name="napoli", oven="gas")


def test_saving_a_child_sends_one_save_pair_with_the_child_as_sender() -> None:
    def ops(w: World) -> None:
        w.record()
        restaurant = w.Restaurant.objects.create(name="luigi", serves_pizza=True)
        w.note("pks", (restaurant.pk, restaurant.id, restaurant.place_ptr_id))
        restaurant.name = "luigi's"
        restaurant.save()
        restaurant.save(update_fields=["name"])
        restaurant.save(update_fields=["serves_pizza"])
        pizzeria = w.Pizzeria.objects.create(name="napoli")
        w.note("pks", (pizzeria.pk, pizzeria.id, pizzeria.place_ptr_id, pizzeria.restaurant_ptr_id))

    assert_same(
        ops,
        [
            "pre_init Restaurant args=() kwargs={'name': 'luigi', 'serves_pizza': True}",
            "post_init Restaurant instance=Restaurant#None",
            "pre_save Restaurant instance=Restaurant#None raw=False using='default' update_fields=None",
            "post_save Restaurant instance=Restaurant#1 created=True update_fields=None raw=False using='default'",
            "= pks: (1, 1, 1)",
            "pre_save Restaurant instance=Restaurant#1 raw=False using='default' update_fields=None",
            "post_save Restaurant instance=Restaurant#1 created=False update_fields=None raw=False using='default'",
            "pre_save Restaurant instance=Restaurant#1 raw=False using='default' update_fields=frozenset('name')",
            "post_save Restaurant instance=Restaurant#1 created=False update_fields=frozenset('name') raw=False using='default'",
            "pre_save Restaurant instance=Restaurant#1 raw=False using='default' update_fields=frozenset('serves_pizza')",
            "post_save Restaurant instance=Restaurant#1 created=False update_fields=frozenset('serves_pizza') raw=False using='default'",
            "pre_init Pizzeria args=() kwargs={'name': 'napoli'}",
            "post_init Pizzeria instance=Pizzeria#None",
            "pre_save Pizzeria instance=Pizzeria#None raw=False using='default' update_fields=None",
            "post_save Pizzeria instance=Pizzeria#2 created=True update_fields=None raw=False using='default'",
            "= pks: (2, 2, 2, 2)",
        ],
    )


def test_deleting_a_child_deletes_its_parent_row_with_signals_for_both() -> None:
    def ops(w: World) -> None:
        make_places(w)
        restaurant = w.Restaurant.objects.get(pk=2)
        w.Visit.objects.create(place=restaurant)
        w.Waiter.objects.create(restaurant=restaurant, name="mario")
        w.record()
        w.note("deleted", label_counts(restaurant.delete()[1]))
        w.note("places", list(w.Place.objects.values_list("pk", flat=True)))

    assert_same(
        ops,
        [
            "pre_init Place args=() kwargs={'id': 2, 'name': 'luigi', 'address': ''}",
            "post_init Place instance=Place#2",
            "pre_init Visit args=(1, 2, 1) kwargs={}",
            "post_init Visit instance=Visit#1",
            "pre_init Waiter args=(1, 2, 'mario') kwargs={}",
            "post_init Waiter instance=Waiter#1",
            "pre_delete Visit instance=Visit#1 using='default' origin=Restaurant#2",
            "pre_delete Waiter instance=Waiter#1 using='default' origin=Restaurant#2",
            "pre_delete Restaurant instance=Restaurant#2 using='default' origin=Restaurant#2",
            "pre_delete Place instance=Place#2 using='default' origin=Restaurant#2",
            "post_delete Visit instance=Visit#1 using='default' origin=Restaurant#2",
            "post_delete Waiter instance=Waiter#1 using='default' origin=Restaurant#2",
            "post_delete Restaurant instance=Restaurant#2 using='default' origin=Restaurant#2",
            "post_delete Place instance=Place#2 using='default' origin=Restaurant#2",
            "= deleted: {'Visit': 1, 'Waiter': 1, 'Restaurant': 1, 'Place': 1}",
            "= places: [1, 3]",
        ],
        record=False,
    )


def test_deleting_a_parent_cascades_down_the_children() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.record()
        w.note("deleted", label_counts(w.Place.objects.get(pk=3).delete()[1]))
        w.note("restaurants", list(w.Restaurant.objects.all()))

    assert_same(ops, record=False)


def test_keep_parents_leaves_the_parent_row() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.Visit.objects.create(place_id=3)
        w.record()
        w.note("deleted", label_counts(w.Pizzeria.objects.get(pk=3).delete(keep_parents=True)[1]))
        w.note("places", list(w.Place.objects.order_by("pk")))
        w.note("restaurants", list(w.Restaurant.objects.all()))

    assert_same(ops, record=False)


def test_queryset_deletes_of_children_and_parents() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.Restaurant.objects.create(name="roma")
        w.record()
        w.note(
            "deleted", label_counts(w.Restaurant.objects.filter(name__startswith="l").delete()[1])
        )
        w.note("deleted", label_counts(w.Place.objects.filter(address="").delete()[1]))
        w.note("left", list(w.Place.objects.all()))

    assert_same(ops, record=False)


def test_without_delete_listeners_children_go_without_loading() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.record(("pre_init", "post_init"))
        w.note("deleted", label_counts(w.Place.objects.get(pk=2).delete()[1]))
        w.note("deleted", label_counts(w.Pizzeria.objects.all().delete()[1]))
        w.note("left", list(w.Place.objects.all()))

    assert_same(ops, record=False)


def test_reading_children_through_parents_and_back() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.Waiter.objects.create(restaurant_id=2, name="mario")
        w.record()
        w.note("places", list(w.Place.objects.order_by("-pk")))
        w.note("restaurant", w.Place.objects.get(pk=2).restaurant)
        w.raises(lambda: w.Place.objects.get(pk=1).restaurant)
        w.note("pizzeria", w.Place.objects.get(pk=3).restaurant.pizzeria)
        w.note("by parent field", list(w.Pizzeria.objects.filter(name="napoli", oven="gas")))
        w.note("by child", list(w.Place.objects.filter(restaurant__serves_pizza=True)))
        w.note("by waiter", list(w.Restaurant.objects.filter(waiter__name="mario")))
        w.note("joined", [x.restaurant.name for x in w.Waiter.objects.select_related("restaurant")])
        w.note("parent link", w.Pizzeria.objects.get(pk=3).restaurant_ptr)
        w.note("values", list(w.Pizzeria.objects.values_list("name", "serves_pizza", "oven")))
        w.note("ordered", list(w.Restaurant.objects.order_by("-name")))

    assert_same(ops, record=False)


def test_updates_write_each_table() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.record()
        w.note(
            "rows",
            w.Restaurant.objects.filter(name="luigi").update(name="mario", serves_pizza=False),
        )
        w.note("rows", w.Pizzeria.objects.update(address="port"))
        w.note("rows", w.Pizzeria.objects.filter(address="port").update(oven="coal", name="n"))
        w.note(
            "rows", list(w.Pizzeria.objects.values_list("name", "address", "serves_pizza", "oven"))
        )
        w.note("rows", list(w.Place.objects.values_list("name", "address")))

    assert_same(ops, record=False)


def test_a_child_row_for_an_existing_parent() -> None:
    def ops(w: World) -> None:
        w.Place.objects.create(name="corner")
        w.record()
        restaurant = w.Restaurant(place_ptr_id=1, name="corner", serves_pizza=True)
        restaurant.save()
        w.note("pks", (restaurant.pk, restaurant.id))
        w.note("restaurants", list(w.Restaurant.objects.all()))
        w.raises(w.Restaurant.objects.bulk_create, [w.Restaurant(name="x")])
        place = w.Place.objects.create(name="second")
        child = w.Restaurant(place_ptr=place, name="second")
        w.note("before save", (child.pk, child.id))
        child.save()
        w.note("after save", (child.pk, child.id))

    assert_same(ops, record=False)


def test_deferred_parent_fields_are_loaded_for_the_delete() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.record()
        restaurant = w.Restaurant.objects.only("serves_pizza").get(pk=2)
        w.note("deleted", label_counts(restaurant.delete()[1]))

    assert_same(ops, record=False)


def test_f_expressions_write_each_table() -> None:
    def ops(w: World) -> None:
        make_places(w)
        w.record()
        F = w.models.F
        w.note("rows", w.Pizzeria.objects.update(oven=F("oven"), name=F("address")))
        w.note("rows", w.Restaurant.objects.filter(pk=2).update(serves_pizza=F("serves_pizza")))
        restaurant = w.Restaurant.objects.get(pk=2)
        restaurant.serves_pizza = F("serves_pizza")
        restaurant.save()
        w.note("rows", list(w.Pizzeria.objects.values_list("name", "oven", "serves_pizza")))
        w.note("rows", list(w.Restaurant.objects.values_list("name", "serves_pizza")))

    assert_same(ops, record=False)
