"""Connections to Django's own signals are recorded as sigcli's are, and
``why`` reads them the same way."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from sigcli import why
from tests.djangoengine.helpers import django_capture

order_placed = Signal()


class Order:
    pass


def update_stock(sender: Any, **kwargs: Any) -> str:
    return "stock"


def email_customer(sender: Any, **kwargs: Any) -> str:
    return "email"


def outcomes(trace: Any) -> list[tuple[str, str, str | None, str | None]]:
    return [(c.name, c.outcome.value, c.holder, c.signal) for c in trace.connections]


def test_connect_and_disconnect_of_a_django_signal_are_recorded() -> None:
    with django_capture() as trace:
        order_placed.connect(update_stock, sender=Order, dispatch_uid="stock")
        order_placed.connect(email_customer, sender=Order, dispatch_uid="stock")
        order_placed.connect(update_stock, sender=Order, dispatch_uid="stock")
        order_placed.send(sender=Order)
        order_placed.disconnect(sender=Order, dispatch_uid="stock")
        order_placed.disconnect(email_customer, sender=Order)
        order_placed.send(sender=Order)
    assert outcomes(trace) == [
        ("update_stock", "connected", None, "order_placed"),
        ("email_customer", "dispatch_uid_taken", "update_stock", "order_placed"),
        ("update_stock", "already_connected", None, "order_placed"),
        ("update_stock", "disconnected", None, "order_placed"),
        ("email_customer", "not_found", None, "order_placed"),
    ]
    assert trace.connections[0].called_from == f"{__file__}:34"
    assert [c.after for c in trace.connections] == [0, 0, 0, 1, 1]


def test_why_reads_a_django_trace() -> None:
    with django_capture() as trace:
        order_placed.connect(update_stock, sender=Order, dispatch_uid="stock")
        order_placed.connect(email_customer, sender=Order, dispatch_uid="stock")
        order_placed.send(sender=Order)
        order_placed.disconnect(update_stock, sender=Order, dispatch_uid="stock")
        order_placed.send(sender=Order)
    assert [(v.reason, v.dispatches) for v in why.explain("update_stock", [trace]).verdicts] == [
        ("ran", [1]),
        ("disconnected", [2]),
    ]
    assert [(v.reason, v.dispatches) for v in why.explain("email_customer", [trace]).verdicts] == [
        ("duplicate_dispatch_uid", [])
    ]
