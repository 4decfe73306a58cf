"""ran, with raw=True: a fixture load saves with raw=True, and the receiver returns early."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Order(models.Model):
    total = models.IntegerField()


@receiver(post_save, sender=Order)
def count_order(sender, instance, raw, **kwargs):
    if raw:
        return None
    return "counted"


@sigcli.step
def load_fixture():
    """an order is loaded from a fixture"""
    Order(total=5).save_base(raw=True)
