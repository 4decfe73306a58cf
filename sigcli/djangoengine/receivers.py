"""Listing the receivers connected to Django's signals, on any Django.

Entries are read by :mod:`.entries`. Django keeps only a sender's ``id()``
before 6.0, so a sender is named from the objects sigcli knows (the
installed models, senders seen at connect while :func:`senders_seen` was
active), else by its id.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sigcli import observation
from sigcli.djangoengine.entries import NONE_ID, make_id, read_entry


@dataclass(frozen=True, slots=True)
class ConnectedReceiver:
    """One entry of a Django signal: who it is, what it listens to, and
    whether the same receiver is connected again for the same sender."""

    info: observation.ReceiverInfo
    dead: bool
    twice: bool = False


@dataclass(frozen=True, slots=True)
class PendingReceiver:
    """A receiver connected with a lazy ``"app_label.Model"`` sender string that
    no model ever answered: it is not connected at all (Django's check
    ``signals.E001``)."""

    signal: str
    info: observation.ReceiverInfo
    reference: str


#: Senders seen at connect time, by (id(signal), lookup key): before Django
#: 6.0 an entry keeps only the sender's id.
_seen: dict[tuple[int, Any], str] = {}


@contextmanager
def senders_seen() -> Iterator[None]:
    """Note the sender of every ``connect`` made in the block (``django.setup()``
    imports the project's receivers), so that a listing can name it."""
    from django.dispatch import Signal

    original = Signal.connect

    def connect(self: Any, receiver: Any, sender: Any = None, *args: Any, **kwargs: Any) -> Any:
        uid = kwargs.get("dispatch_uid", args[1] if len(args) > 1 else None)
        key = (uid if uid is not None else make_id(receiver), make_id(sender))
        if sender is not None:
            _seen[(id(self), key)] = observation.name_of(sender, "__name__")
        return original(self, receiver, sender, *args, **kwargs)

    Signal.connect = connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        Signal.connect = original  # type: ignore[method-assign]


def live_signals() -> list[Any]:
    """Every ``django.dispatch.Signal`` object alive in the process, built-in or not.

    Tested with ``type()``: ``isinstance`` reads ``__class__``, which sets up
    any lazy object it meets (Django's ``staticfiles_storage`` then raises).
    """
    from django.dispatch import Signal

    return [obj for obj in gc.get_objects() if issubclass(type(obj), Signal)]


def known_senders() -> dict[int, Any]:
    """Objects a sender id may belong to: every model Django knows, with the
    auto-created many-to-many through models."""
    from django.apps import apps

    return {id(model): model for model in apps.get_models(include_auto_created=True)}


def connected(signal: Any, senders: dict[int, Any] | None = None) -> list[ConnectedReceiver]:
    """The receivers of ``signal`` in connection order (dead weak references
    included, marked ``dead``), each flagged when the same object listens
    to the same sender in another entry too (under another dispatch_uid)."""
    senders = known_senders() if senders is None else senders
    with signal.lock:
        entries = [read_entry(entry) for entry in signal.receivers]
    found: list[tuple[ConnectedReceiver, tuple[Any, ...] | None]] = []
    counts: dict[tuple[Any, ...], int] = {}
    for entry in entries:
        receiver_key, sender_key = entry.key
        receiver, weak, is_async = entry.receiver, entry.weak, entry.is_async
        if receiver is None:
            found.append((ConnectedReceiver(_dead_info(weak, is_async), dead=True), None))
            continue
        uid = None if receiver_key == make_id(receiver) else receiver_key
        label = _sender_label(signal, entry.key, sender_key, entry.sender_ref, senders)
        info = replace(
            observation.describe(receiver, None, weak, uid, is_async), sender_label=label
        )
        # The object, as Django's lookup key names it: a bound method of
        # each of many objects (django-simple-history's finalize) shares a
        # name and code with the others, yet is a receiver of its own.
        place = (make_id(receiver), sender_key)
        counts[place] = counts.get(place, 0) + 1
        found.append((ConnectedReceiver(info, dead=False), place))
    return [
        replace(r, twice=True) if place is not None and counts[place] > 1 else r
        for r, place in found
    ]


def _sender_label(
    signal: Any,
    key: Any,
    sender_key: Any,
    sender_ref: Any,
    senders: dict[int, Any],
) -> str | None:
    if sender_key == NONE_ID:
        return None
    if sender_ref is not None:
        sender = sender_ref()
        if sender is not None:
            return observation.name_of(sender, "__name__")
        return "(a sender that no longer exists)"
    seen = _seen.get((id(signal), key))
    if seen is not None:
        return seen
    sender = senders.get(sender_key) if isinstance(sender_key, int) else None
    if sender is not None:
        return observation.name_of(sender, "__name__")
    return f"<object id {sender_key:#x}>" if isinstance(sender_key, int) else repr(sender_key)


def _dead_info(weak: bool, is_async: bool) -> observation.ReceiverInfo:
    return observation.ReceiverInfo(
        "(collected receiver)", None, None, None, None, weak, None, is_async
    )


def pending() -> list[PendingReceiver]:
    """Receivers waiting for a lazy sender string that no installed model
    answers (a typo, or an app missing from ``INSTALLED_APPS``)."""
    from django.apps import apps
    from django.dispatch import Signal

    names = signal_names()
    waiting: list[PendingReceiver] = []
    for (app_label, model_name), functions in list(apps._pending_operations.items()):
        reference = f"{app_label}.{model_name}"
        for function in functions:
            operation = getattr(function, "func", None)  # Django's apply_next_model
            bound = getattr(operation, "func", None)
            signal = getattr(bound, "__self__", None)
            if not issubclass(type(signal), Signal) or not getattr(operation, "args", ()):
                continue
            if getattr(bound, "__name__", None) != "connect":
                continue
            keywords = getattr(operation, "keywords", {})
            info = observation.describe(
                operation.args[0],  # type: ignore[union-attr]
                None,
                keywords.get("weak", True),
                keywords.get("dispatch_uid"),
                False,
            )
            name = names.get(id(signal), repr(signal))
            waiting.append(PendingReceiver(name, replace(info, sender_label=reference), reference))
    return waiting


def signal_names() -> dict[int, str]:
    """A dotted name for each signal held by a module global, by ``id``: where
    several modules hold one signal, the one it is defined in (a module named
    ``signals`` first, then the shortest name)."""
    import sys

    from django.dispatch import Signal

    best: dict[int, tuple[tuple[int, int], str]] = {}
    for module_name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, value in list(namespace.items()):
            if issubclass(type(value), Signal) and not name.startswith("_"):
                rank = (0 if module_name.rpartition(".")[2] == "signals" else 1, len(module_name))
                known = best.get(id(value))
                if known is None or rank < known[0]:
                    best[id(value)] = (rank, f"{module_name}.{name}")
    return {key: name for key, (_, name) in best.items()}


@dataclass(slots=True)
class ProjectReceivers:
    """What ``sigcli receivers --settings`` lists: per signal (by dotted name),
    its connected receivers; and the receivers whose lazy sender never resolved."""

    settings: str
    signals: list[tuple[str, list[ConnectedReceiver]]]
    pending: list[PendingReceiver]


def project_receivers(settings_module: str) -> ProjectReceivers:
    """Set up the project and list every receiver of every signal in the process."""
    from sigcli.djangoengine.configure import configure_project, require_django

    require_django()
    with senders_seen():
        configure_project(settings_module)
    names = signal_names()
    senders = known_senders()
    listing = []
    for signal in live_signals():
        receivers = connected(signal, senders)
        if receivers:
            listing.append((names.get(id(signal), f"<Signal at {id(signal):#x}>"), receivers))
    listing.sort(key=lambda item: item[0])
    return ProjectReceivers(settings_module, listing, pending())
