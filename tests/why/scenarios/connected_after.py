"""connected_after: the receiver is connected after the save it should have seen."""

import sigcli
from sigcli import models
from sigcli.signals import post_save


class Order(models.Model):
    total = models.IntegerField()


def count_order(sender, instance, **kwargs):
    return "counted"


@sigcli.step
def order():
    """an order is placed"""
    Order.objects.create(total=5)


@sigcli.step
def start_counting():
    """the counter is connected"""
    post_save.connect(count_order, sender=Order)
