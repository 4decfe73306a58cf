"""disconnected: the receiver is disconnected before the save."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Order(models.Model):
    total = models.IntegerField()


@receiver(post_save, sender=Order)
def count_order(sender, instance, **kwargs):
    return "counted"


@sigcli.step
def import_orders():
    """orders are imported with the counter off"""
    post_save.disconnect(count_order, sender=Order)
    Order.objects.create(total=5)
