"""A receiver that raises: ``send`` stops, ``send_robust`` carries on.

Under ``send`` the first exception ends the dispatch, later receivers never
run, and the error reaches the code that sent the signal; model signals are
sent this way, so a failing post_save receiver fails the save after the row is
written. ``send_robust`` calls every receiver and returns the errors as results.
"""

import sigcli
from sigcli import Signal, models, receiver
from sigcli.signals import post_save


class GatewayDown(Exception):
    pass


class Order(models.Model):
    total = models.IntegerField()

    def __str__(self):
        return f"order {self.pk}"


order_paid = Signal()


@receiver(order_paid)
def charge_card(sender, order, **kwargs):
    raise GatewayDown("the payment gateway timed out")


@receiver(order_paid)
def send_receipt(sender, order, **kwargs):
    return f"receipt for {order}"


@receiver(post_save, sender=Order)
def check_total(sender, instance, **kwargs):
    if instance.total < 0:
        raise ValueError("negative total")


@sigcli.step
def send():
    """send(): charge_card raises, send_receipt never runs, the caller gets the error."""
    try:
        order_paid.send(sender=Order, order=Order.objects.create(total=20))
    except GatewayDown:
        pass


@sigcli.step
def send_robust():
    """send_robust(): both receivers run; charge_card's result is the exception."""
    order_paid.send_robust(sender=Order, order=Order.objects.get(total=20))


@sigcli.step
def failing_post_save():
    """A post_save receiver raises: save() fails, but the row was already written."""
    try:
        Order.objects.create(total=-5)
    except ValueError:
        assert Order.objects.filter(total=-5).exists()
