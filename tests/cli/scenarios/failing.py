"""The second step's receiver raises: the third step never runs."""

import sigcli
from sigcli import Signal, receiver

order_placed = Signal()


class Shop:
    pass


@receiver(order_placed)
def reserve_stock(sender, quantity, **kwargs):
    if quantity > 5:
        raise ValueError(f"only 5 in stock, {quantity} ordered")
    return quantity


@receiver(order_placed)
def send_invoice(sender, **kwargs):
    return "sent"


@sigcli.step
def small_order():
    """order 2"""
    order_placed.send(sender=Shop, quantity=2)


@sigcli.step
def big_order():
    """order 9"""
    order_placed.send(sender=Shop, quantity=9)


@sigcli.step
def after():
    """order 1"""
    order_placed.send(sender=Shop, quantity=1)
