"""duplicate_dispatch_uid: another receiver already holds the dispatch_uid."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Order(models.Model):
    total = models.IntegerField()


@receiver(post_save, sender=Order, dispatch_uid="order_saved")
def update_stock(sender, instance, **kwargs):
    return "stock"


@receiver(post_save, sender=Order, dispatch_uid="order_saved")
def email_customer(sender, instance, **kwargs):
    return "email"


@sigcli.step
def order():
    """an order is placed"""
    Order.objects.create(total=5)
