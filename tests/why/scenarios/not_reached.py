"""not_reached: an earlier receiver raises, and send() stops before this one."""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Order(models.Model):
    total = models.IntegerField()


@receiver(post_save, sender=Order)
def charge_card(sender, instance, **kwargs):
    raise ValueError("card declined")


@receiver(post_save, sender=Order)
def send_receipt(sender, instance, **kwargs):
    return "sent"


@sigcli.step
def order():
    """an order is placed"""
    Order.objects.create(total=30)
