"""duplicate_connection: the same function connected twice (the second connect is
ignored), and connected under two lookup keys (it runs twice per save)."""

import sigcli
from sigcli import models
from sigcli.signals import post_save, pre_save


class Order(models.Model):
    total = models.IntegerField()


def log_order(sender, instance, **kwargs):
    return "logged"


def connect_log():
    post_save.connect(log_order, sender=Order)


connect_log()
connect_log()
pre_save.connect(log_order, sender=Order)
pre_save.connect(log_order, sender=Order, dispatch_uid="log")


@sigcli.step
def order():
    """an order is placed"""
    Order.objects.create(total=5)
