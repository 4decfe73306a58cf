"""A scenario against the test project: its models, its receivers, its signal."""

from orders.models import Customer, Order
from orders.signals import order_paid

import sigcli


@sigcli.step
def checkout():
    """A customer orders, and pays."""
    ann = Customer.objects.create(name="ann")
    order = Order.objects.create(customer=ann, total=30)
    order_paid.send(sender=Order, order=order)


@sigcli.step
def cancel():
    """The order is deleted."""
    Order.objects.get(total=30).delete()
