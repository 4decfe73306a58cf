"""A receiver raises inside a save another receiver made; a robust send
returns its receiver's error; a step raises in its own code."""

import sigcli
from sigcli import Signal, models, receiver
from sigcli.signals import post_save

audit = Signal()


class Order(models.Model):
    number = models.IntegerField()


class Invoice(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE)


def check(invoice):
    raise ValueError(f"order {invoice.order.number}: empty invoice")


@receiver(post_save, sender=Invoice)
def validate(sender, instance, **kwargs):
    check(instance)


@receiver(post_save, sender=Order)
def bill(sender, instance, created, **kwargs):
    if created:
        Invoice.objects.create(order=instance)


@receiver(audit)
def flaky(sender, **kwargs):
    return 1 / 0


def lookup(key):
    return {}[key]


@sigcli.step
def place():
    """an order is placed"""
    Order.objects.create(number=7)


@sigcli.step
def robust():
    """audit robustly"""
    audit.send_robust(sender=None)


@sigcli.step
def own():
    """the step raises itself"""
    lookup("missing")
