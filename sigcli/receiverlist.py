"""What code written for Django edits on a signal by hand: its ``receivers``
list and its ``sender_receivers_cache``.

Django reads ``receivers`` at every send of a signal without a cache, so
code such as factory_boy's ``mute_signals`` empties, refills or replaces
it; sigcli's dispatcher keeps caches beside the list, and this list tells
its signal when it was edited so that they follow. ``sender_receivers_cache``
is offered as far as such code uses it: ``clear()`` and ``get()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigcli.dispatcher import Signal


class ReceiverList(list):  # type: ignore[type-arg]
    """A signal's receivers list; every edit made to it calls ``on_change``,
    which drops the caches that depend on it."""

    __slots__ = ("on_change",)

    def __init__(self, entries: Any, on_change: Callable[[], None]) -> None:
        super().__init__(entries)
        self.on_change = on_change


def _changing(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def changed(self: ReceiverList, *args: Any) -> Any:
        result = method(self, *args)
        self.on_change()
        return result

    changed.__name__ = name
    return changed


for _name in (
    "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse",
    "__setitem__", "__delitem__", "__iadd__", "__imul__",
):  # fmt: skip
    setattr(ReceiverList, _name, _changing(_name))


class CacheView:
    """``signal.sender_receivers_cache`` as far as code written for Django
    uses it."""

    def __init__(self, signal: Signal) -> None:
        self._signal = signal

    def clear(self) -> None:
        # Callers hold ``signal.lock`` already, as Django's own code does.
        self._signal._invalidate()

    def get(self, sender: object, default: Any = None) -> Any:
        entry = self._signal._cache.get(id(sender))
        return default if entry is None else list(entry[1] + entry[2])
