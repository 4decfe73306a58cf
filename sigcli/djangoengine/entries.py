"""Reading a ``django.dispatch.Signal``'s ``receivers`` entries, on any Django.

An entry is ``(key, ref)`` on Django 4.2, ``(key, ref, is_async)`` on 5.x
and ``(key, ref, sender_ref, is_async)`` on 6.x, so it is read by its
length with ``is_async`` last (tools that unpack one fixed shape break on
the next version). ``key`` is ``(receiver id or dispatch_uid, sender id)``;
``ref`` a weak reference to the receiver, or the receiver itself when it was
connected with ``weak=False``; ``sender_ref`` (6.0+) a weak reference to the
sender, so that a sender's reused ``id()`` cannot match a dead one. The
observer and ``sigcli receivers --settings`` both read entries here.
"""

from __future__ import annotations

import weakref
from typing import Any, NamedTuple

__all__ = ["NONE_ID", "Entry", "make_id", "read_entry"]


class Entry(NamedTuple):
    """One ``receivers`` entry, whatever Django's version."""

    key: Any
    stored: Any
    sender_ref: Any
    is_async: bool

    @property
    def weak(self) -> bool:
        return isinstance(self.stored, weakref.ReferenceType)

    @property
    def receiver(self) -> Any:
        """The receiver, or None once its weak reference has died."""
        stored = self.stored
        return stored() if isinstance(stored, weakref.ReferenceType) else stored

    @property
    def sender_dead(self) -> bool:
        """Django 6.0+: the sender it listens to has been collected."""
        return self.sender_ref is not None and self.sender_ref() is None


def read_entry(entry: tuple[Any, ...]) -> Entry:
    """``entry`` of any Django version, read by its length."""
    if len(entry) == 4:
        return Entry(entry[0], entry[1], entry[2], bool(entry[3]))
    if len(entry) == 3:
        return Entry(entry[0], entry[1], None, bool(entry[2]))
    return Entry(entry[0], entry[1], None, False)


def make_id(target: object) -> Any:
    """Django's identity of a receiver or sender: a bound method (a new
    object at every access) by its object and function."""
    if hasattr(target, "__func__"):
        return (id(target.__self__), id(target.__func__))  # type: ignore[attr-defined]
    return id(target)


#: The sender id of an entry that listens to every sender.
NONE_ID = make_id(None)
