"""``update()``, ``bulk_create()`` and ``bulk_update()`` send no save signals.

They write rows with one SQL statement and never call ``save()``, so pre_save
and post_save receivers do not run: a cache or search index kept up to date by
those receivers silently goes stale. ``save()`` in a loop does send them.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save, pre_save


class Product(models.Model):
    name = models.CharField(max_length=50)
    price = models.IntegerField()

    def __str__(self):
        return self.name


@receiver([pre_save, post_save], sender=Product)
def reindex(sender, instance, signal, **kwargs):
    return f"reindex {instance}"


@sigcli.step
def save_one():
    """Product.objects.create(): pre_save and post_save, reindex runs twice."""
    Product.objects.create(name="lamp", price=30)


@sigcli.step
def bulk_create():
    """bulk_create(): one INSERT for both rows; only the constructors send signals (init)."""
    Product.objects.bulk_create([Product(name="desk", price=200), Product(name="chair", price=90)])


@sigcli.step
def update():
    """update(): one UPDATE for every row, no signals, no instances built."""
    Product.objects.filter(price__lt=100).update(price=99)


@sigcli.step
def bulk_update():
    """bulk_update(): changed instances written in one statement, no signals."""
    products = list(Product.objects.order_by("pk"))
    for product in products:
        product.price += 1
    Product.objects.bulk_update(products, ["price"])


@sigcli.step
def save_in_a_loop():
    """The signal-sending alternative: save() each row, one pre_save/post_save pair each."""
    for product in Product.objects.filter(price__gt=100):
        product.price -= 1
        product.save()
