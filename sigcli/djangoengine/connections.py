"""What ``connect`` and ``disconnect`` did to a Django signal, reported as
sigcli's own dispatcher reports it (:class:`~sigcli.observation.ConnectionChange`):
connected, ignored for the same key or a taken ``dispatch_uid``,
disconnected, or nothing found, with the line of code that asked.

``connect`` also keeps each new entry's description (its sender and
``dispatch_uid``, which Django keeps only as ids) for the plans.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sigcli.djangoengine.entries import make_id, read_entry
from sigcli.djangoengine.plans import describe_receiver, signal_label, state_of
from sigcli.observation import (
    ConnectionChange,
    ConnectionOutcome,
    ReceiverInfo,
    called_from,
    name_of,
)

__all__ = ["make_connect", "make_disconnect", "report_edits"]


def make_connect(original: Callable[..., Any], here: Callable[[], Any]) -> Callable[..., Any]:
    """Django's ``connect``, reporting what it did to the observation ``here()``."""

    @functools.wraps(original)
    def connect(
        self: Any,
        receiver: Any,
        sender: object = None,
        weak: bool = True,
        dispatch_uid: Any = None,
    ) -> Any:
        before = list(self.receivers)
        observation = here()
        report_edits(observation, self)
        result = original(self, receiver, sender, weak, dispatch_uid)
        state_of(self).saw(self.receivers)
        known = {id(entry) for entry in before}
        added = [entry for entry in self.receivers if id(entry) not in known]
        label = None if sender is None else name_of(sender, "__name__")
        if added:  # not refused as a duplicate
            entry = added[-1]
            info = describe_receiver(
                receiver, label, weak, dispatch_uid or None, read_entry(entry).is_async
            )
            state_of(self).remember(entry, info)
        if observation is not None:
            if not added:
                info = describe_receiver(receiver, label, weak, dispatch_uid or None, False)
            key = (dispatch_uid or make_id(receiver), make_id(sender))
            held = None if added else next((e for e in before if e[0] == key), None)
            _report(observation, self, info, *_connect_outcome(self, receiver, held))
        return result

    return connect


def _connect_outcome(
    signal: Any, receiver: Any, held: Any
) -> tuple[ConnectionOutcome, ReceiverInfo | None]:
    """What a connect did: connected (nothing ``held`` its key), or ignored
    because the same receiver was connected, or another holds the dispatch_uid."""
    if held is None:
        return ConnectionOutcome.CONNECTED, None
    holder = read_entry(held).receiver
    if holder is None or make_id(holder) == make_id(receiver):
        return ConnectionOutcome.ALREADY_CONNECTED, None
    info = state_of(signal).known(held)
    return ConnectionOutcome.DISPATCH_UID_TAKEN, info or describe_receiver(
        holder, None, True, None, False
    )


def make_disconnect(original: Callable[..., Any], here: Callable[[], Any]) -> Callable[..., Any]:
    """Django's ``disconnect``, reporting what it did to the observation ``here()``."""

    @functools.wraps(original)
    def disconnect(
        self: Any, receiver: Any = None, sender: object = None, dispatch_uid: Any = None
    ) -> Any:
        before = list(self.receivers)
        observation = here()
        report_edits(observation, self)
        result = original(self, receiver, sender, dispatch_uid)
        state_of(self).saw(self.receivers)
        if observation is not None:
            remaining = {id(entry) for entry in self.receivers}
            removed = [entry for entry in before if id(entry) not in remaining]
            label = None if sender is None else name_of(sender, "__name__")
            for entry in removed:
                info = state_of(self).known(entry)
                if info is None:
                    info = describe_receiver(receiver, label, True, dispatch_uid or None, False)
                _report(observation, self, info, ConnectionOutcome.DISCONNECTED, None)
            if not removed and receiver is not None:
                info = describe_receiver(receiver, label, True, dispatch_uid or None, False)
                _report(observation, self, info, ConnectionOutcome.NOT_FOUND, None)
        return result

    return disconnect


#: Django's own frames: the line that asked for a connect is outside them.
_DJANGO_FOLDERS: tuple[str, ...] = ()


def _report(
    observation: Any,
    signal: Any,
    info: ReceiverInfo,
    outcome: ConnectionOutcome,
    holder: ReceiverInfo | None,
) -> None:
    global _DJANGO_FOLDERS
    if not _DJANGO_FOLDERS:
        import django

        root = django.__path__[0]
        _DJANGO_FOLDERS = (f"{root}/dispatch", f"{root}/db/models")
    where = called_from(*_DJANGO_FOLDERS)
    change = ConnectionChange(signal_label(signal), info, outcome, where, holder)
    observation.journal.connection_changed(change)


def report_edits(observation: Any, signal: Any) -> None:
    """Report receivers taken off or put back on ``signal.receivers`` by
    hand since connect and disconnect last left it (where, is not known)."""
    state = state_of(signal)
    edits = state.edits_by_hand(signal.receivers)
    if observation is None:
        return
    for info, restored in edits:
        outcome = ConnectionOutcome.RESTORED if restored else ConnectionOutcome.MUTED
        change = ConnectionChange(state.label, info, outcome, None, None)
        observation.journal.connection_changed(change)
