"""sender_mismatch: a lazy string sender with a typo never resolves, so nothing connects."""

import sigcli
from sigcli import models
from sigcli.signals import post_save


class Invoice(models.Model):
    total = models.IntegerField()


def invoice_saved(sender, instance, **kwargs):
    return "booked"


post_save.connect(invoice_saved, sender="app.Invoise")


@sigcli.step
def bill():
    """an invoice is saved"""
    Invoice.objects.create(total=10)
