"""m2m_changed for add, remove, clear and set, from both sides of the relation.

The sender is the through model; ``pk_set`` holds the pks of the *other* side:
for ``add`` only those not linked yet, for ``remove`` every pk asked for, and
None for ``clear``. ``set()`` is a remove then an add, never a clear.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import m2m_changed


class Topping(models.Model):
    name = models.CharField(max_length=50)

    def __str__(self):
        return self.name


class Pizza(models.Model):
    name = models.CharField(max_length=50)
    toppings = models.ManyToManyField(Topping)

    def __str__(self):
        return self.name


@receiver(m2m_changed, sender=Pizza.toppings.through)
def toppings_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    return f"{action} {model.__name__} {sorted(pk_set) if pk_set is not None else None}"


@sigcli.step
def set_up():
    """Four toppings (pks 1-4) and two pizzas: no m2m_changed yet."""
    for name in ("tomato", "cheese", "basil", "salami"):
        Topping.objects.create(name=name)
    Pizza.objects.create(name="margherita")
    Pizza.objects.create(name="diavola")


@sigcli.step
def add():
    """add(tomato), then add(tomato, cheese): the second pk_set is {2}, only what is new."""
    pizza = Pizza.objects.get(name="margherita")
    tomato, cheese = Topping.objects.filter(name__in=["tomato", "cheese"]).order_by("pk")
    pizza.toppings.add(tomato)
    pizza.toppings.add(tomato, cheese)


@sigcli.step
def add_again():
    """Adding a linked topping again still sends pre_add/post_add, with an empty pk_set."""
    Pizza.objects.get(name="margherita").toppings.add(Topping.objects.get(name="tomato"))


@sigcli.step
def remove():
    """remove(cheese, basil): pk_set is {2, 3} although basil was never linked."""
    cheese, basil = Topping.objects.filter(name__in=["cheese", "basil"]).order_by("pk")
    Pizza.objects.get(name="margherita").toppings.remove(cheese, basil)


@sigcli.step
def set_toppings():
    """set([basil, salami]): pre/post_remove {1} for tomato, then pre/post_add {3, 4}."""
    basil, salami = Topping.objects.filter(name__in=["basil", "salami"]).order_by("pk")
    Pizza.objects.get(name="margherita").toppings.set([basil, salami])


@sigcli.step
def set_with_clear():
    """set([tomato], clear=True): pre/post_clear with pk_set None, then pre/post_add {1}."""
    Pizza.objects.get(name="margherita").toppings.set(
        [Topping.objects.get(name="tomato")], clear=True
    )


@sigcli.step
def reverse_add():
    """From the topping's side: instance=salami, model=Pizza, reverse=True."""
    salami = Topping.objects.get(name="salami")
    salami.pizza_set.add(*Pizza.objects.order_by("pk"))


@sigcli.step
def reverse_clear():
    """clear() from the topping's side: pk_set is None, reverse=True."""
    Topping.objects.get(name="salami").pizza_set.clear()
