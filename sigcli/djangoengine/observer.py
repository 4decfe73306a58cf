"""Watching ``django.dispatch.Signal``: every send of every Django signal object
(built-in or a third-party app's) written to a sigcli :class:`Journal` as the
events sigcli's own dispatcher writes.

How it hooks in, and why so:

* ``send``, ``send_robust``, ``asend`` and ``asend_robust`` are wrapped on
  the class, so a send is seen even when a caching signal returns early
  without looking its receivers up (the seven model signals do, once a
  sender is known to have none).
* A plain ``send`` whose receivers are all sync, the send a Django program
  makes most, is run here: Django's early return, then its
  ``_live_receivers`` (through whatever patches another tool put on it),
  then each receiver called as Django calls it, with the events of sigcli's
  own inline send written around the calls. Its plan comes from
  :mod:`.plans`, kept until the receivers change; while it is current for
  Django's cache entry of the sender and nobody patched ``_live_receivers``
  over ours, Django's lookup would answer the plan's receivers, so they are
  taken from the plan. ``send`` returns the user's own receivers. If Django's wrapped ``send`` is not its own, or the
  receivers it would call are not the plan's (another tool's
  ``_live_receivers`` wraps them), the send goes the general way.
* Every other send runs Django's own method with a stand-in per receiver
  (:mod:`.standins`).
* ``connect`` and ``disconnect`` report what they did, as sigcli's own
  dispatcher does (:mod:`.connections`).

Uninstalling puts back exactly what was on the class.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from threading import get_ident
from typing import Any, Literal

from sigcli import observation as _observation
from sigcli.djangoengine import connections, orm, plans, standins
from sigcli.djangoengine.entries import make_id
from sigcli.djangoengine.plans import (
    DjangoSignal,
    Plan,
    SignalState,
    name_signal,
    signal_label,
    state_of,
)
from sigcli.observation import (
    CALL,
    DONE,
    END,
    FAILED,
    LAST,
    SCALARS,
    SEND,
    SEND_INLINE,
    Journal,
    ReceiverInfo,
    shown_sender,
    snapshot_all,
)

__all__ = [
    "DjangoSignal",
    "Observation",
    "installed",
    "name_signal",
    "observe_django",
    "signal_label",
]


# -- who is observing ------------------------------------------------------------


class Observation:
    """A journal being written to, with what the observer does for it:
    ``unheard`` sends (of a signal with no receiver at all) are recorded, or
    only counted in :attr:`unheard_counts` (by signal name)."""

    def __init__(self, journal: Journal, *, unheard: bool = True, sql: bool = False) -> None:
        self.journal = journal
        self.record_unheard = unheard
        self.sql = sql
        self.unheard_counts: dict[str, int] = {}
        #: By signal name: called with the send's keyword arguments before a
        #: send starts, or after it ends (``sigcli record`` opens and
        #: closes a step per request so).
        self.before: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.after: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._count_lock = threading.Lock()

    def count_unheard(self, signal: object) -> None:
        name = signal_label(signal).name
        with self._count_lock:
            self.unheard_counts[name] = self.unheard_counts.get(name, 0) + 1

    def hooks(self, name: str, named: dict[str, Any]) -> Callable[[dict[str, Any]], None] | None:
        """Run the hook before a send of the signal ``name``; the one for after it."""
        hook = self.before.get(name)
        if hook is not None:
            hook(named)
        return self.after.get(name)


_process: Observation | None = None
_scoped: ContextVar[Observation | None] = ContextVar("sigcli_django_observation", default=None)


def _observation_here() -> Observation | None:
    return _scoped.get() or _process


# -- the sends ----------------------------------------------------------------------

#: Whether ``_live_receivers`` gives ``(sync, async)`` (Django 5.0+), set at install.
_split = True
#: Django's ``NO_RECEIVERS`` (a caching signal's mark of a sender without any).
_NO_RECEIVERS: Any = None
#: Our ``_live_receivers`` and what it wraps, set at install: a send may skip
#: our frame when nobody patched over it.
_live_patch: Any = None
_live_original: Any = None
_live_is_djangos = False
_sending = standins.sending
_levels = standins.levels


def _make_send(original: Callable[..., Any], robust: bool) -> Callable[..., Any]:
    if robust or getattr(original, "__module__", None) != "django.dispatch.dispatcher":
        # Only Django's own send is run here instead: another tool's patch
        # of it must run.
        return _make_send_through(original, robust)

    @functools.wraps(original)
    def send(self: Any, sender: object, **named: Any) -> Any:
        observation = _scoped.get() or _process
        if observation is None:
            return original(self, sender, **named)
        # The common case, written out: a plan kept for Django's cache
        # entry, or (no entry) for this signal and sender while the
        # receivers stay the same.
        cached = self.sender_receivers_cache.get(sender)
        fresh = True
        if cached is None:
            # Django's own lookup fills the cache of a caching signal: not
            # to be skipped.
            fresh = not self.use_caching
            made = _by_sender.get((id(self), id(sender)))
            if made is not None and not (
                self.receivers == made.state.entries
                and made.state.signal() is self
                and (made.sender is None or made.sender() is sender)
            ):
                made = None
        else:
            made = _by_cache.get(id(cached))
            if made is not None and made.cache is not cached:
                made = None
        if (
            made is None
            or made.mute_changes != _observation.mute_changes
            or self._dead_receivers
            or self.receivers is not made.state.seen_list  # replaced by hand
            or not self.receivers  # emptied by hand: Django returns at once
            or ((observation.before or observation.after) and _hooked(observation, made))
            or (_pending and len(sys.modules) != _modules_seen)
        ):
            return _send_here(original, self, sender, named, observation, cached)
        return _run_here(original, self, sender, named, observation.journal, made, fresh)

    return send


def _hooked(observation: Observation, made: Plan) -> bool:
    """Whether a hook runs before or after a send of the plan's signal."""
    name = made.state.label.name
    return name in observation.before or name in observation.after


def _make_send_through(original: Callable[..., Any], robust: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    def send(self: Any, sender: object, **named: Any) -> Any:
        observation = _scoped.get() or _process
        if observation is None:
            return original(self, sender, **named)
        state, after = _starting(self, named, observation)
        if state is None:
            return original(self, sender, **named)
        try:
            return standins.run_send(
                original, self, sender, named, robust, observation.journal, state
            )
        finally:
            if after is not None:
                after(named)

    return send


def _starting(
    signal: Any, named: dict[str, Any], observation: Observation
) -> tuple[SignalState | None, Callable[[dict[str, Any]], None] | None]:
    """What every observed send does first: load pending patches, run the
    hook before it; the signal's state (None when the send goes unrecorded,
    counted as unheard) and the hook to run after it."""
    if _pending and len(sys.modules) != _modules_seen:
        _apply_pending()
    state = state_of(signal)
    connections.report_edits(observation, signal)
    after = None
    if observation.before or observation.after:
        after = observation.hooks(state.label.name, named)
    if not signal.receivers and not observation.record_unheard and after is None:
        observation.count_unheard(signal)
        return None, None
    return state, after


def _send_here(
    original: Callable[..., Any],
    signal: Any,
    sender: object,
    named: dict[str, Any],
    observation: Observation,
    cached: Any,
) -> Any:
    """Django's ``send``, run here (see the module's docstring), outside the
    common case: a hook, an early return, a plan to make or check."""
    state, after = _starting(signal, named, observation)
    if state is None:
        return original(signal, sender, **named)
    journal = observation.journal
    try:
        if not signal.receivers or cached is _NO_RECEIVERS:  # Django returns early
            _write_unsent(journal, state, sender, named, signal)
            return []
        made = state.plan_for(signal, sender, cached)
        if made.kept:
            if len(_by_cache) + len(_by_sender) > 10_000:
                _by_cache.clear()
                _by_sender.clear()
            if cached is None:
                _by_sender[id(signal), id(sender)] = made
            elif made.cache is cached:
                _by_cache[id(cached)] = made
        return _run_here(original, signal, sender, named, journal, made, False)
    finally:
        if after is not None:
            after(named)


def _run_here(
    original: Callable[..., Any],
    signal: Any,
    sender: object,
    named: dict[str, Any],
    journal: Journal,
    made: Plan,
    fresh: bool,
) -> list[tuple[Any, Any]]:
    """Django's ``send`` from its lookup of receivers on, by the plan ``made``
    (``fresh``: checked against Django's cache entry for the sender, or, on
    a signal without a cache, against the receivers as they are; Django's
    lookup would give the plan's receivers, so they are taken here)."""
    if not made.direct:
        return standins.run_send(original, signal, sender, named, False, journal, made.state)  # type: ignore[no-any-return]
    lookup = type(signal)._live_receivers
    sync = None
    if fresh and lookup is _live_patch and _live_is_djangos:
        # Django's own lookup would answer with the plan's receivers.
        sync = made.resolve()
    if sync is None:
        live = (_live_original if lookup is _live_patch else lookup)(signal, sender)
        sync, asynchronous = live if _split else (live, None)
        if asynchronous or (
            (list(map(id, sync)) if made.plain else [make_id(r) for r in sync]) != made.ids
        ):
            # Not the receivers planned: let Django call them, through stand-ins.
            made.direct = False
            return standins.run_send(original, signal, sender, named, False, journal, made.state)  # type: ignore[no-any-return]

    thread = get_ident()
    outer = _sending.get()
    level = _levels.get(thread, 0)
    depth = level + 1 if outer is None else outer.depth + level + 1
    if journal.max_depth is not None and depth > journal.max_depth:
        journal.too_deep(depth)
    kwargs = named
    for value in named.values():
        if type(value) not in SCALARS:
            kwargs = snapshot_all(journal, named)
            break
    shown = sender
    if sender is not None and not isinstance(sender, type):
        shown = journal.label_sender(sender)
    write = journal.write
    label = made.state.label
    if not sync:
        write((SEND, thread, label, shown, kwargs, made.plan, False))
        write((END, thread, label, None))
        return []
    infos = made.infos
    _levels[thread] = level + 1
    if not journal.inline:
        write((SEND, thread, label, shown, kwargs, made.plan, False))
        try:
            return _call_each(journal, signal, sender, named, sync, infos, thread, label)
        finally:
            _levels[thread] = level
    write((SEND_INLINE, thread, label, shown, kwargs, made.plan, False))
    last = len(sync) - 1
    responses = []
    try:
        if last:
            for index in range(last):
                receiver = sync[index]
                result = receiver(signal=signal, sender=sender, **named)
                responses.append((receiver, result))
                kept = result if type(result) in SCALARS else journal.snapshot(result)
                write((DONE, thread, label, infos[index], kept, None))
        receiver = sync[last]
        result = receiver(signal=signal, sender=sender, **named)
        responses.append((receiver, result))
    except BaseException as error:
        write((FAILED, thread, label, journal.note_failure(error)))
        raise
    finally:
        _levels[thread] = level
    kept = result if type(result) in SCALARS else journal.snapshot(result)
    write((LAST, thread, label, infos[last], kept))
    return responses


#: Plans by the id of the Django cache entry they were checked against
#: (each plan keeps its entry, so the id is not reused meanwhile), and, for
#: a sender without one, by the ids of signal and sender (checked against
#: both, weakly held, at each use).
_by_cache: dict[int, Plan] = {}
_by_sender: dict[tuple[int, int], Plan] = {}


def _call_each(
    journal: Journal,
    signal: Any,
    sender: object,
    named: dict[str, Any],
    sync: list[Any],
    infos: list[ReceiverInfo],
    thread: int,
    label: DjangoSignal,
) -> list[tuple[Any, Any]]:
    """The receivers of a send run here, for a journal that takes every
    receiver's start (not ``inline``), then the send's end."""
    write = journal.write
    responses = []
    try:
        for receiver, info in zip(sync, infos, strict=True):
            write((CALL, thread, label, info))
            try:
                result = receiver(signal=signal, sender=sender, **named)
            except BaseException as error:
                write((DONE, thread, label, info, None, journal.note_failure(error)))
                raise
            kept = result if type(result) in SCALARS else journal.snapshot(result)
            write((DONE, thread, label, info, kept, None))
            responses.append((receiver, result))
    except BaseException as error:
        write((END, thread, label, journal.note_failure(error)))
        raise
    write((END, thread, label, None))
    return responses


def _write_unsent(
    journal: Journal, state: Any, sender: object, named: dict[str, Any], signal: Any
) -> None:
    """Write a send that Django ends before looking receivers up: every
    connected receiver is in its plan, none is called."""
    thread = get_ident()
    depth = standins.depth_here(thread)
    if journal.max_depth is not None and depth > journal.max_depth:
        journal.too_deep(depth)
    plan = state.plan_for(signal, sender).plan if signal.receivers else []
    shown = shown_sender(journal, sender)
    kwargs = snapshot_all(journal, named)
    journal.write((SEND, thread, state.label, shown, kwargs, plan, False))
    journal.write((END, thread, state.label, None))


def _make_asend(original: Callable[..., Any], robust: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    async def asend(self: Any, sender: object, **named: Any) -> Any:
        observation = _scoped.get() or _process
        if observation is None:
            return await original(self, sender, **named)
        state, after = _starting(self, named, observation)
        if state is None:
            return await original(self, sender, **named)
        journal = observation.journal
        try:
            return await standins.run_asend(original, self, sender, named, robust, journal, state)
        finally:
            if after is not None:
                after(named)

    return asend


def _make_live_receivers(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _live_receivers(self: Any, sender: object) -> Any:
        running = standins.sending.get()
        if (
            running is None
            or running.claimed
            or running.signal is not self
            or running.sender is not sender
        ):
            return original(self, sender)
        running.claimed = True
        # Planned first: Django's lookup prunes dead receivers, which the
        # plan shows once.
        made = running.state.plan_for(self, sender)
        return standins.stand_ins_for(running, made, original(self, sender))

    return _live_receivers


_PATCHES: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "send": lambda f: _make_send(f, robust=False),
    "send_robust": lambda f: _make_send(f, robust=True),
    "asend": lambda f: _make_asend(f, robust=False),
    "asend_robust": lambda f: _make_asend(f, robust=True),
    "_live_receivers": _make_live_receivers,
    "connect": lambda f: connections.make_connect(f, _observation_here),
    "disconnect": lambda f: connections.make_disconnect(f, _observation_here),
}

_MISSING = object()

# Every patch in place: (owner, attribute, what was in its __dict__, ours).
_installed: list[tuple[Any, str, Any, Any]] = []
# Patches of modules not loaded yet: (module, class or None, attribute, maker).
_pending: list[tuple[str, str | None, str, Callable[[Any], Any]]] = []
_modules_seen = 0
_install_count = 0
_install_lock = threading.RLock()
# Connections given the SQL recorder at install, to take it off again.
_sql_connections: list[Any] = []


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = vars(owner).get(name, _MISSING)
    if original is _MISSING:
        return
    patched = make(original)
    _installed.append((owner, name, original, patched))
    setattr(owner, name, patched)


def _apply_pending() -> None:
    """Put on the patches whose module has been imported since the last look."""
    global _modules_seen
    with _install_lock:
        _modules_seen = len(sys.modules)
        waiting = []
        for entry in _pending:
            module_name, class_name, name, make = entry
            module = sys.modules.get(module_name)
            if module is None:
                waiting.append(entry)
                continue
            owner = module if class_name is None else getattr(module, class_name, None)
            if owner is not None:
                _patch(owner, name, make)
            if module_name == "django.db.utils":
                from django.db import connections

                _sql_connections.extend(orm.add_sql_recorder(connections))
        _pending[:] = waiting


def _install() -> None:
    global _install_count, _split, _NO_RECEIVERS, _live_patch, _live_original, _live_is_djangos
    with _install_lock:
        _install_count += 1
        if _install_count > 1:
            return
        import django
        from django.dispatch import Signal, dispatcher

        plans.see_receivers()
        _split = django.VERSION >= (5, 0)
        _NO_RECEIVERS = dispatcher.NO_RECEIVERS
        for name, make in _PATCHES.items():
            _patch(Signal, name, make)
        for _owner, name, original, patched in _installed:
            if name == "_live_receivers":
                _live_original, _live_patch = original, patched
                _live_is_djangos = original.__module__ == "django.dispatch.dispatcher"
        _pending[:] = [entry[1:] for entry in orm.patches()]
        _apply_pending()


def _uninstall() -> None:
    """Put back what was there. A method another tool patched over ours
    since stays theirs; ours inside it then only passes calls through, as
    nobody is observing."""
    global _install_count
    with _install_lock:
        _install_count -= 1
        if _install_count > 0:
            return
        for owner, name, original, patched in reversed(_installed):
            if vars(owner).get(name) is patched:
                setattr(owner, name, original)
        _installed.clear()
        _pending.clear()
        orm.remove_sql_recorder(_sql_connections)
        _sql_connections.clear()


def installed() -> bool:
    """Whether Django is patched by this module right now."""
    return bool(_installed)


def _for_orm() -> tuple[Journal, bool] | None:
    observation = _scoped.get() or _process
    return None if observation is None else (observation.journal, observation.sql)


orm.current = _for_orm


@contextmanager
def observe_django(
    journal: Journal,
    *,
    scope: Literal["process", "context"] = "process",
    unheard: bool = True,
    sql: bool = False,
) -> Iterator[Observation]:
    """Write every send of every Django signal to ``journal`` for the block.

    ``scope="process"`` observes sends from any thread (as sigcli's own
    :func:`~sigcli.dispatcher.observe` does); ``"context"`` only those made in
    this context and the tasks and ``sync_to_async`` threads it starts, so
    that concurrent tests or requests never write into each other's journal.
    With ``unheard=False`` a send of a signal that has no receiver at all is
    counted in the observation instead of written. A journal that takes ORM
    calls (a recorder) also gets Django's writes as operations, and with
    ``sql`` every statement (see :mod:`.orm`).
    """
    global _process
    if journal.inline and journal.max_depth is None:
        raise ValueError("an inline journal needs a max_depth")
    observation = Observation(journal, unheard=unheard, sql=sql)
    _install()
    try:
        if scope == "process":
            previous = _process
            _process = observation
            try:
                yield observation
            finally:
                _process = previous
        else:
            token = _scoped.set(observation)
            try:
                yield observation
            finally:
                _scoped.reset(token)
    finally:
        _uninstall()
