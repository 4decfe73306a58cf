"""The project's receivers, each showing one thing the listing must report."""

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from orders.models import Customer, Order
from orders.signals import order_archived, order_paid


@receiver(post_save, sender=Order)
def confirm_order(sender, instance, created, **kwargs):
    return "confirmed" if created else "updated"


def stamp(sender, instance, **kwargs):
    return "stamped"


# The same function, connected twice under two dispatch_uids.
pre_save.connect(stamp, sender=Order, dispatch_uid="stamp-orders")
pre_save.connect(stamp, sender=Order, dispatch_uid="stamp-orders-again")


def audit(sender, instance, **kwargs):
    return f"audit {instance}"


post_save.connect(audit, sender=Customer, weak=False)


@receiver(pre_delete, sender="orders.Order")
def before_order_delete(sender, instance, **kwargs):
    return "deleting"


@receiver(post_delete, sender="orders.Ordr")
def never_connected(sender, instance, **kwargs):
    return "never"


@receiver(order_paid)
async def email_receipt(sender, order, **kwargs):
    return f"receipt for {order}"


@receiver(order_paid, sender=Order)
def mark_paid(sender, order, **kwargs):
    return f"{order} paid"


class Ledger:
    """One per book, each connecting a bound method of its own (as
    django-simple-history's HistoricalRecords connect finalize): two
    receivers of one name, neither connected twice."""

    def __init__(self, book):
        self.book = book
        order_archived.connect(self.archive, sender=Order, weak=False)

    def archive(self, sender, **kwargs):
        return self.book


ledgers = [Ledger("sales"), Ledger("tax")]
