"""muted: the signal's receivers are replaced by hand, as factory_boy's mute_signals does."""

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
    """an order is saved with post_save muted, then one after"""
    saved = post_save.receivers
    post_save.receivers = []
    Order.objects.create(total=5)
    post_save.receivers = saved
    Order.objects.create(total=6)
