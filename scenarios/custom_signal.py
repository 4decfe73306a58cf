"""A signal of your own, sent by a class of your own.

``Signal()`` needs no model: any object can be the sender, and receivers can
filter on it. Senders are compared by identity, so a receiver for the base
class ``PaymentGateway`` does not hear its subclasses.
"""

import sigcli
from sigcli import Signal, receiver

payment_received = Signal()


class PaymentGateway:
    def charge(self, amount):
        payment_received.send(sender=type(self), amount=amount, currency="EUR")


class Stripe(PaymentGateway):
    pass


class PayPal(PaymentGateway):
    pass


@receiver(payment_received)
def book_payment(sender, amount, currency, **kwargs):
    return f"booked {amount} {currency} via {sender.__name__}"


@receiver(payment_received, sender=Stripe)
def stripe_fee(sender, amount, **kwargs):
    return round(amount * 0.029 + 0.25, 2)


@receiver(payment_received, sender=PaymentGateway)
def any_gateway(sender, **kwargs):
    return "never called: no payment is sent by the base class itself"


@sigcli.step
def stripe():
    """Stripe: book_payment (any sender) and stripe_fee run; any_gateway is skipped."""
    Stripe().charge(100)


@sigcli.step
def paypal():
    """PayPal: only book_payment; stripe_fee and any_gateway listen to other senders."""
    PayPal().charge(40)
