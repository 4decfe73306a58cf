"""A fresh registry plus a recorder of every model signal, for the model-layer unit tests.

Each signal becomes one compact line, e.g. ``pre_delete C#1 origin=A#1``:
instances as ``Model#pk`` (the pk at send time), sets sorted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sigcli import models, signals

MODEL_SIGNALS = (
    signals.pre_init,
    signals.post_init,
    signals.pre_save,
    signals.post_save,
    signals.pre_delete,
    signals.post_delete,
    signals.m2m_changed,
)

_SHOWN = {
    "pre_init": ("args", "kwargs"),
    "post_init": (),
    "pre_save": ("update_fields",),
    "post_save": ("created", "update_fields"),
    "pre_delete": ("origin",),
    "post_delete": ("origin",),
    "m2m_changed": ("action", "reverse", "model", "pk_set"),
}


def show(value: Any) -> str:
    if isinstance(value, models.Model):
        return f"{type(value).__name__}#{value.pk}"
    if isinstance(value, type):
        return value.__name__
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    if isinstance(value, models.QuerySet):
        return f"QuerySet<{value.model.__name__}>"
    return repr(value)


class Log:
    """Lines recorded by :meth:`receiver`; ``take()`` returns and clears them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def receiver(self, sender: Any, signal: Any, **kwargs: Any) -> None:
        name = signal.name
        subject = show(kwargs["instance"]) if "instance" in kwargs else show(sender)
        if name == "m2m_changed":
            subject = f"{show(sender)} {show(kwargs['instance'])}"
        parts = [name, subject]
        parts.extend(f"{key}={show(kwargs[key])}" for key in _SHOWN[name])
        self.lines.append(" ".join(parts))

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


@contextmanager
def recording(*, connect: bool = True) -> Iterator[tuple[models.Registry, Log]]:
    """A current, fresh registry and a log connected to every model signal (for any sender)."""
    registry = models.Registry()
    log = Log()
    with models.use_registry(registry):
        if connect:
            for signal in MODEL_SIGNALS:
                signal.connect(log.receiver, weak=False)
        try:
            yield registry, log
        finally:
            for signal in MODEL_SIGNALS:
                signal.disconnect(log.receiver)
            registry.close()
