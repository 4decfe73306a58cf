"""Silencing receivers for a block: ``sigcli.mute``.

A muted receiver is skipped as if it were not connected, on sigcli's
dispatcher and on ``django.dispatch`` alike. Nothing is disconnected and
no receiver list is edited: the receivers for a send are filtered where
each dispatcher looks them up, and every cached lookup is dropped when a
mute starts or ends. So, unlike a mute that swaps ``signal.receivers`` out
and back in, a receiver connected or disconnected inside the block stays
so after it, the order of receivers never changes, a cache filled inside
the block cannot outlive it, and nested or re-entered mutes each lift only
their own rule.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from contextlib import ContextDecorator
from dataclasses import dataclass
from typing import Any

from sigcli import dispatcher


@dataclass(frozen=True, slots=True, eq=False)
class _Rule:
    """What one active mute silences; ``None`` fields match anything."""

    signal: object
    receiver: object
    sender: object

    def matches(self, signal: object, sender: object, receiver: object) -> bool:
        return (
            (self.signal is None or self.signal is signal)
            and (self.sender is None or self.sender is sender)
            and (self.receiver is None or _same_receiver(self.receiver, receiver))
        )


def _same_receiver(wanted: object, receiver: object) -> bool:
    """Identity, except that a bound method is a new object at every access:
    it is the same receiver when its object and function are."""
    if wanted is receiver:
        return True
    func = getattr(wanted, "__func__", None)
    return (
        func is not None
        and func is getattr(receiver, "__func__", None)
        and getattr(wanted, "__self__", None) is getattr(receiver, "__self__", None)
    )


_lock = threading.Lock()
_rules: list[_Rule] = []


def _is_muted(signal: object, sender: object, receiver: object) -> bool:
    return any(rule.matches(signal, sender, receiver) for rule in _rules)


class mute(ContextDecorator):  # noqa: N801 - used like a function, as contextlib's are
    """Silence a whole signal, one receiver (on every signal, or on
    ``signal``), or a receiver for sends by one ``sender``, for a block or
    a decorated function::

        with sigcli.mute(post_save, receiver=send_welcome_mail, sender=User):
            User.objects.create(username="ann")

    ``sender`` matches the sender of a send by identity, as Django matches
    senders; a receiver connected for any sender is muted for that sender's
    sends only. Works on sigcli's signals and, once Django is imported, on
    ``django.dispatch.Signal``.
    """

    def __init__(self, signal: object = None, receiver: object = None, sender: object = None):
        if signal is None and receiver is None and sender is None:
            raise TypeError(
                "mute() silences nothing without arguments: give a signal, a receiver, "
                "a sender, or a combination (mute(post_save, receiver=f, sender=User))"
            )
        self._rule = _Rule(signal, receiver, sender)
        self._entered: list[_Rule] = []

    def __enter__(self) -> mute:
        # A fresh rule per entry, so that re-entering the same mute (a
        # decorated function that recurses) lifts one level at a time.
        rule = _Rule(self._rule.signal, self._rule.receiver, self._rule.sender)
        with _lock:
            _rules.append(rule)
            self._entered.append(rule)
            _apply()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with _lock:
            rule = self._entered.pop()
            _rules.remove(rule)
            _apply()


def _apply() -> None:
    """Make both dispatchers follow ``_rules`` (caller holds ``_lock``).
    Django's observer asks the same :func:`_is_muted` when it plans a send,
    so it hands Django no stand-in for a muted receiver, whichever of its
    ``_live_receivers`` and this filter wraps the other."""
    dispatcher.set_muted(_is_muted if _rules else None)
    django_dispatch = sys.modules.get("django.dispatch.dispatcher")
    if django_dispatch is not None:
        _apply_to_django(django_dispatch)


_original_live_receivers: Callable[..., Any] | None = None


def _apply_to_django(module: Any) -> None:
    """Filter what ``django.dispatch.Signal._live_receivers`` returns while a
    rule is active. Every send, ``has_listeners`` and the deletion
    collector's fast-delete check go through it; Django's per-sender cache
    keeps the unfiltered references, so it is never wrong once the rules
    change. The class attribute is put back when the last mute ends, unless
    someone wrapped it meanwhile (then the filter stays, inert). Nothing
    is cleared: the cache never saw the filter."""
    global _original_live_receivers
    signal_class = module.Signal
    installed = signal_class.__dict__.get("_live_receivers")
    if _rules:
        if _original_live_receivers is None:
            _original_live_receivers = installed
            signal_class._live_receivers = _django_live_receivers
    elif _original_live_receivers is not None and installed is _django_live_receivers:
        signal_class._live_receivers = _original_live_receivers
        _original_live_receivers = None


def _django_live_receivers(self: Any, sender: object) -> Any:
    original = _original_live_receivers
    assert original is not None
    live = original(self, sender)
    if not _rules:
        return live
    if isinstance(live, tuple):  # Django 5.0 and later: (sync, async)
        return tuple([r for r in part if not _is_muted(self, sender, r)] for part in live)
    return [r for r in live if not _is_muted(self, sender, r)]  # Django 4.2
