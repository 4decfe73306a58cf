"""Async receivers, with ``asend`` and with plain ``send``.

``await signal.asend()`` runs the sync receivers together in a worker thread
and the async ones concurrently with them; the results list the sync ones
first. ``send()`` runs the sync receivers, then all async ones together, so a
model signal still calls an async receiver, after the sync ones.
"""

import asyncio

import sigcli
from sigcli import Signal, models, receiver
from sigcli.signals import post_save


class Shipment(models.Model):
    tracking = models.CharField(max_length=20)

    def __str__(self):
        return self.tracking


order_shipped = Signal()


@receiver(order_shipped)
async def email_customer(sender, tracking, **kwargs):
    await asyncio.sleep(0)
    return f"emailed about {tracking}"


@receiver(order_shipped)
def update_stock(sender, tracking, **kwargs):
    return "stock updated"


@receiver(post_save, sender=Shipment)
async def notify_courier(sender, instance, created, **kwargs):
    await asyncio.sleep(0)
    return f"courier told about {instance}"


@receiver(post_save, sender=Shipment)
def log_shipment(sender, instance, **kwargs):
    return "logged"


@sigcli.step
def asend():
    """await order_shipped.asend(): results are update_stock first, then email_customer."""
    asyncio.run(order_shipped.asend(sender=Shipment, tracking="TRK-1"))


@sigcli.step
def send_with_async_receiver():
    """send(): update_stock runs, then email_customer (bridged with async_to_sync)."""
    order_shipped.send(sender=Shipment, tracking="TRK-2")


@sigcli.step
def model_signal():
    """Shipment.objects.create(): log_shipment (sync) runs before notify_courier (async)."""
    Shipment.objects.create(tracking="TRK-3")
