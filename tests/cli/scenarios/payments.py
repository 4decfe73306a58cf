"""Custom signals only: sender filters, results, a dispatch nested in a receiver."""

import sigcli
from sigcli import Signal, receiver

payment_received = Signal()
receipt_sent = Signal()


class Stripe:
    pass


class PayPal:
    pass


@receiver(payment_received)
def book_payment(sender, amount, **kwargs):
    receipt_sent.send(sender=sender, amount=amount)
    return f"booked {amount}"


@receiver(payment_received, sender=Stripe)
def stripe_fee(sender, amount, **kwargs):
    return round(amount * 0.03, 2)


@receiver(receipt_sent, sender=PayPal)
def paypal_receipt(sender, **kwargs):
    return "mailed"


@sigcli.step
def stripe():
    """Stripe pays 100"""
    payment_received.send(sender=Stripe, amount=100)


@sigcli.step
def paypal():
    """PayPal pays 40"""
    payment_received.send(sender=PayPal, amount=40)
