"""A receivers module imported twice connects its receivers twice.

Importing one file under two module names (``shop.receipts`` and ``receipts``)
runs its body twice and creates two distinct functions, so each save sends two
receipts. A ``dispatch_uid`` makes the second connection a no-op: the first
one wins.
"""

import sigcli
from sigcli import models, receiver
from sigcli.signals import post_save


class Order(models.Model):
    total = models.IntegerField()

    def __str__(self):
        return f"order {self.pk}"


def import_receipts_module(dispatch_uid=None):
    """Run the body of a ``receipts.py`` module, as each import of it does."""

    @receiver(post_save, sender=Order, dispatch_uid=dispatch_uid)
    def send_receipt(sender, instance, created, **kwargs):
        return f"receipt for {instance}"

    return send_receipt


# Each import keeps its module, and the module keeps its function alive.
imported_modules = [import_receipts_module(), import_receipts_module()]


@sigcli.step
def two_receipts():
    """One save, two connected copies of send_receipt: the customer gets two receipts."""
    Order.objects.create(total=40)


@sigcli.step
def one_receipt():
    """With dispatch_uid='send_receipt' the second import connects nothing."""
    for send_receipt in imported_modules:
        post_save.disconnect(send_receipt, sender=Order)
    imported_modules[:] = [
        import_receipts_module(dispatch_uid="send_receipt"),
        import_receipts_module(dispatch_uid="send_receipt"),
    ]
    Order.objects.create(total=15)
