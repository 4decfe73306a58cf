"""muted: sigcli.mute silences the receiver for a block."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Order(models.Model):
    total = models.IntegerField()


@receiver(post_save, sender=Order)
def count_order(sender, instance, **kwargs):
    return "counted"


@sigcli.step
def muted_save():
    """an order is saved inside sigcli.mute, then one after"""
    with sigcli.mute(post_save, receiver=count_order):
        Order.objects.create(total=5)
    Order.objects.create(total=6)
