"""no_signal_for_operation: update(), bulk_create() and raw SQL send no save signals."""

import sigcli
from sigcli import models, receiver
from sigcli.models import get_registry
from sigcli.signals import post_save


class Product(models.Model):
    price = models.IntegerField()


class Shelf(models.Model):
    size = models.IntegerField()


@receiver(post_save, sender=Product)
def reindex(sender, instance, **kwargs):
    return "reindexed"


@sigcli.step
def bulk_writes():
    """products are written in bulk"""
    Product.objects.bulk_create([Product(price=1), Product(price=2)])
    Product.objects.filter(price=1).update(price=3)
    Shelf.objects.filter(size=1).update(size=2)
    get_registry().db.execute('UPDATE "app_product" SET "price" = 4')
