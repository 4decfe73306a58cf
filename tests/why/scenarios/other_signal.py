"""other_signal: the receiver listens to one Signal object, the code sends another."""

import sigcli
from sigcli import Signal


class Orders:
    placed = Signal()


order_placed = Signal()


def notify_warehouse(sender, **kwargs):
    return "notified"


Orders.placed.connect(notify_warehouse)


@sigcli.step
def place_order():
    """an order is placed"""
    order_placed.send(sender=None, order=1)
