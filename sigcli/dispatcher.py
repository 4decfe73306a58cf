"""A signal dispatcher that behaves like Django 5.2's ``django.dispatch``.

Receivers are kept in connection order under a lookup key
``(receiver-identity, sender-identity)``; the first connection with a key
wins. Senders are matched by identity, ``sender=None`` means any sender, and
weakly connected receivers vanish with their referent.

sigcli's own: observation (:mod:`sigcli.observation`; with no observer
installed a send pays one lookup for it), and speed: a per-sender cache of
live-receiver references, and call loops generated once per set of keyword
names (:mod:`sigcli.callloops`, which also holds the reference send's one
receiver call). What code written for Django edits by hand, the
``receivers`` list and ``sender_receivers_cache``, is in
:mod:`sigcli.receiverlist`. The dispatcher imports nothing of sigcli's
beyond those three modules, and no heavy stdlib module at import time.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from threading import get_ident
from typing import Any

from sigcli import callloops, observation
from sigcli.callloops import CacheSlot, CallLoop, TracedLoop, relearn, relearn_traced
from sigcli.observation import (  # noqa: F401 - event kinds, for readers of journals
    CALL,
    DONE,
    END,
    EVENT_FIELDS,
    FAILED,
    LAST,
    SCALARS,
    SEND,
    SEND_INLINE,
    ConnectionChange,
    ConnectionOutcome,
    Decision,
    Journal,
    ReceiverInfo,
    ReceiverPlan,
    SendObserver,
    current_observer,
    observe,
)
from sigcli.receiverlist import CacheView, ReceiverList

__all__ = [
    "ConnectionChange",
    "ConnectionOutcome",
    "Decision",
    "Journal",
    "ReceiverInfo",
    "ReceiverPlan",
    "SendObserver",
    "Signal",
    "current_observer",
    "observe",
    "receiver",
]

#: When true, ``connect`` rejects non-callables and receivers without
#: ``**kwargs`` at once, as Django does with ``settings.DEBUG`` on. Off by
#: default (Django's behaviour without DEBUG); the scenario runner turns it on.
validate_receivers: bool = False

_signals: weakref.WeakSet[Signal] = weakref.WeakSet()


def set_muted(muted: Callable[[Signal, object, Any], bool] | None) -> None:
    """Install the rule that silences receivers (``sigcli.mute``'s, kept in
    :data:`sigcli.observation.muted`, where Django's observer reads it too),
    and drop every signal's cached lookups so that the next send follows
    it. The rule is asked while the receivers for a sender are looked up,
    never on the cached hot path. The receiver lists are left alone: a muted
    receiver is skipped as if it were not connected, and comes back in its
    place when the rule is lifted."""
    observation.set_muted(muted)
    for signal in list(_signals):
        with signal.lock:
            signal._invalidate()


Receiver = Callable[..., Any]
LookupKey = tuple[Any, int]


def _make_id(target: object) -> Any:
    """Identity of a receiver or sender; a bound method is identified by its
    object and function, since every attribute access makes a new one."""
    if hasattr(target, "__func__"):
        return (id(target.__self__), id(target.__func__))  # type: ignore[attr-defined]
    return id(target)


NONE_ID = _make_id(None)


_Prepared = tuple[
    list[ReceiverPlan],
    list[tuple[Callable[[], Any], ReceiverInfo]],
    list[tuple[Callable[[], Any], ReceiverInfo]],
]


@dataclass(slots=True, weakref_slot=True)
class _SharedEntry:
    """A caching signal's receivers for one sender and all senders equal to it."""

    sender_key: Any
    sync: tuple[Any, ...]
    asynchronous: tuple[Any, ...]


#: Numbers for ``Signal._generation``; ``next`` on a count is atomic.
_generations = itertools.count()


class Signal:
    """A Django-compatible signal.

    ``receivers`` is a list of ``(lookup_key, receiver_or_weakref, is_async)``
    like Django's, and may hold dead entries until the next prune (connect,
    disconnect, or a lookup after a death).
    """

    name: str | None = None

    receivers: list[tuple[LookupKey, Any, bool]]

    def __init__(self, use_caching: bool = False) -> None:
        self.use_caching = use_caching
        self.lock = threading.Lock()
        self._dead_receivers = False
        # id(entry) -> description; keyed by the entry tuple's identity since
        # a dispatch_uid may be unhashable (Django only compares keys with ==).
        self._infos: dict[int, ReceiverInfo] = {}
        # id(sender) -> (anchor, sync resolvers, async resolvers). The anchor
        # is a weak reference that evicts the entry when the sender dies, or
        # the sender itself when it cannot be weakly referenced (non-caching
        # signals only), so that a cached id is never reused by another object.
        self._cache: dict[int, tuple[Any, tuple[Any, ...], tuple[Any, ...]]] = {}
        # The same, for senders with only sync receivers: id(sender) -> sync
        # resolvers. This is all that the hot path of ``send`` reads.
        self._sync_only: dict[int, CacheSlot] = {}
        # id(sender) -> what an observed send needs (see ``_prepare``).
        self._plans: dict[int, _Prepared] = {}
        # id(sender) -> the inline journal's call loop slot (see ``_make_traced_caller``).
        self._inline: dict[int, CacheSlot] = {}
        # A new number at every cache drop, so that a plan made across one is not kept.
        self._generation = next(_generations)
        self._by_equality: weakref.WeakKeyDictionary[Any, _SharedEntry] = (
            weakref.WeakKeyDictionary()
        )
        self.receivers = []
        _signals.add(self)

    def __setattr__(self, name: str, value: Any) -> None:
        # Code written for Django swaps or edits ``receivers`` by hand (e.g.
        # factory_boy's ``mute_signals``). A non-caching Django signal reads
        # the list at every send, so sigcli's private cache must follow it;
        # a caching one keeps serving its cache, and so does sigcli.
        if name == "receivers":
            observed = observation.journal is not None
            before = self.__dict__.get("receivers") if observed else None
            self._set_receivers(value)
            if before is not None:
                observation.report_replaced(self, self._infos, before, value)
        else:
            object.__setattr__(self, name, value)

    def _set_receivers(self, value: Any) -> None:
        if not isinstance(value, ReceiverList) or value.on_change != self._receivers_changed:
            value = ReceiverList(value, self._receivers_changed)
        object.__setattr__(self, "receivers", value)
        self._receivers_changed()

    def _receivers_changed(self) -> None:
        if not self.use_caching:
            self._forget_cache()

    @property
    def sender_receivers_cache(self) -> CacheView:
        """Django's name for the per-sender cache; only ``clear()`` and
        ``get()`` are offered, enough for code that clears it by hand."""
        return CacheView(self)

    def __repr__(self) -> str:
        label = f" {self.name}" if self.name else ""
        return f"<Signal{label} receivers={len(self.receivers)}>"

    # -- connection ---------------------------------------------------------

    def connect(
        self,
        receiver: Receiver,
        sender: object = None,
        weak: bool = True,
        dispatch_uid: Any = None,
    ) -> None:
        """Connect ``receiver`` to this signal.

        :param receiver: a callable taking ``signal`` and ``sender`` and
            ``**kwargs`` (checked at once when sigcli runs a scenario, as
            Django checks it under ``DEBUG``); a coroutine function is
            awaited. Receivers are called in connection order.
        :param sender: the only sender whose sends call ``receiver``,
            matched by identity; None for any sender.
        :param weak: keep only a weak reference, so that the receiver is
            disconnected when nothing else keeps it alive (a bound method
            lives as long as its object). Pass False for a receiver defined
            inside a function, or it vanishes when the function returns.
        :param dispatch_uid: a value (compared with ``==``) that stands for
            the receiver in the connection's key ``(receiver, sender)``, so
            that connecting twice (a module imported twice, a lambda made
            anew) keeps one. A second connection with a key already
            connected is ignored: the first one wins, and keeps its place."""
        if validate_receivers:
            callloops.check_receiver(receiver)
        if dispatch_uid:
            lookup_key = (dispatch_uid, _make_id(sender))
        else:
            lookup_key = (_make_id(receiver), _make_id(sender))
        is_async = callloops.is_coroutine_function(receiver)
        info = observation.describe(receiver, sender, weak, dispatch_uid, is_async)
        stored: Any = receiver
        if weak:
            if hasattr(receiver, "__self__") and hasattr(receiver, "__func__"):
                stored = weakref.WeakMethod(receiver, self._flag_dead_receivers)
            else:
                stored = weakref.ref(receiver, self._flag_dead_receivers)
        with self.lock:
            self._prune_dead_receivers()
            held = next((entry for entry in self.receivers if entry[0] == lookup_key), None)
            if held is None:
                entry = (lookup_key, stored, is_async)
                self.receivers.append(entry)
                self._infos[id(entry)] = info
            self._invalidate()
        if observation.journal is not None:
            self._report_connect(receiver, info, held)

    def _report_connect(self, receiver: Receiver, info: ReceiverInfo, held: Any) -> None:
        if held is None:
            observation.report_change(self, info, ConnectionOutcome.CONNECTED)
            return
        stored = held[1]
        holder = stored() if isinstance(stored, weakref.ReferenceType) else stored
        if holder is not None and _make_id(holder) != _make_id(receiver):
            holder_info = self._infos.get(id(held))
            observation.report_change(self, info, ConnectionOutcome.DISPATCH_UID_TAKEN, holder_info)
        else:
            observation.report_change(self, info, ConnectionOutcome.ALREADY_CONNECTED)

    def disconnect(
        self, receiver: Receiver | None = None, sender: object = None, dispatch_uid: Any = None
    ) -> bool:
        """Disconnect a receiver; True if one was connected.

        :param receiver: the receiver as connected (ignored with ``dispatch_uid``).
        :param sender: the sender it was connected for; None if for any sender.
        :param dispatch_uid: the key it was connected with, if any."""
        if dispatch_uid:
            lookup_key = (dispatch_uid, _make_id(sender))
        else:
            lookup_key = (_make_id(receiver), _make_id(sender))
        disconnected = False
        removed = None
        with self.lock:
            self._prune_dead_receivers()
            for index, entry in enumerate(self.receivers):
                if entry[0] == lookup_key:
                    disconnected = True
                    del self.receivers[index]
                    removed = self._infos.pop(id(entry), None)
                    break
            self._invalidate()
        if observation.journal is not None and (removed is not None or not disconnected):
            observation.report_disconnect(self, removed, receiver, sender, dispatch_uid)
        return disconnected

    def has_listeners(self, sender: object = None) -> bool:
        """True if a send by ``sender`` would call at least one live receiver.
        A caching signal needs a real sender, as in Django."""
        if self.use_caching:
            # Django prunes before it finds that ``sender`` cannot be cached.
            if self._dead_receivers:
                with self.lock:
                    self._prune_dead_receivers()
            _, sync, asynchronous = self._lookup(sender)
        else:
            sync, asynchronous = self._collect(sender)
        return bool(callloops.resolve(sync)) or bool(callloops.resolve(asynchronous))

    def _flag_dead_receivers(self, _reference: object = None) -> None:
        # Called from the garbage collector: no lock here, only flags.
        self._dead_receivers = True
        self._forget_cache()

    def _forget_cache(self) -> None:
        """The one place the per-sender cache is dropped: on connect,
        disconnect, and a receiver's death (the equality-keyed entries are
        then bypassed until the next prune, as Django bypasses its cache)."""
        # A fresh number, never one seen before: a receiver's death drops
        # the cache from the garbage collector without the lock, and an
        # increment there could write back an older count, one a plan made
        # across a connect was checked against.
        self._generation = next(_generations)
        self._cache.clear()
        self._sync_only.clear()
        self._plans.clear()
        self._inline.clear()

    def _invalidate(self) -> None:
        """Drop every cached lookup: the one place connect, disconnect and a
        restore go through, as Django clears its whole cache there."""
        self._forget_cache()
        self._by_equality.clear()

    def _evict(self, key: int) -> None:
        self._cache.pop(key, None)
        self._sync_only.pop(key, None)
        self._plans.pop(key, None)
        self._inline.pop(key, None)

    def _prune_dead_receivers(self) -> None:
        """Drop dead weak entries. Caller holds the lock."""
        if self._dead_receivers:
            self._dead_receivers = False
            kept = []
            for entry in self.receivers:
                if isinstance(entry[1], weakref.ReferenceType) and entry[1]() is None:
                    self._infos.pop(id(entry), None)
                else:
                    kept.append(entry)
            self._set_receivers(kept)

    def _snapshot(self) -> tuple[list[tuple[LookupKey, Any, bool]], dict[int, ReceiverInfo]]:
        """The receiver list as it is now, for :meth:`_restore`."""
        with self.lock:
            return list(self.receivers), dict(self._infos)

    def _restore(
        self, snapshot: tuple[list[tuple[LookupKey, Any, bool]], dict[int, ReceiverInfo]]
    ) -> None:
        """Put back a receiver list taken by :meth:`_snapshot`, dropping every
        connection made since (the scenario runner isolates runs with it)."""
        entries, infos = snapshot
        with self.lock:
            self._set_receivers(list(entries))
            self._infos = dict(infos)
            self._invalidate()
            self._dead_receivers = True

    def receiver_infos(self) -> list[ReceiverInfo]:
        """Descriptions of the connected receivers, in connection order."""
        with self.lock:
            self._prune_dead_receivers()
            return [self._infos[id(entry)] for entry in self.receivers]

    # -- lookup -------------------------------------------------------------

    def _lookup(self, sender: object) -> tuple[Any, tuple[Any, ...], tuple[Any, ...]]:
        """The cached (anchor, sync resolvers, async resolvers) for
        ``sender``, computed on a miss. Raises Django's TypeErrors: a caching
        signal needs a weakly referenceable sender, any signal a hashable one."""
        entry = self._cache.get(id(sender))
        if entry is not None and not self._dead_receivers:
            return entry
        key = id(sender)
        if self.use_caching:
            reference = weakref.ref(sender, lambda _ref: self._evict(key))
        else:
            hash(sender)
            try:
                anchor: Any = weakref.ref(sender, lambda _ref: self._evict(key))
            except TypeError:
                anchor = sender
        with self.lock:
            # Computed and stored under one lock, so that a concurrent
            # connect or disconnect cannot be undone by a stale entry.
            if self.use_caching:
                shared = self._shared_entry(sender)
                anchor = (reference, weakref.ref(shared, lambda _ref: self._evict(key)))
                sync, asynchronous = shared.sync, shared.asynchronous
            else:
                sync, asynchronous = self._collect_locked(sender)
            entry = (anchor, sync, asynchronous)
            if len(self._cache) > 4096:
                self._forget_cache()
            self._cache[key] = entry
            if not asynchronous:
                self._sync_only[key] = [relearn, sync]
        return entry

    def _shared_entry(self, sender: object) -> _SharedEntry:
        """Django keys a caching signal's cache by the sender in a
        ``WeakKeyDictionary``, so senders that compare equal share one
        entry, which lives as long as the first of them. ``_by_equality``
        does the same; an id-keyed entry made from it is evicted when either
        its own sender or the shared entry dies. Caller holds the lock."""
        shared = None if self._dead_receivers else self._by_equality.get(sender)
        if shared is None:
            shared = _SharedEntry(_make_id(sender), *self._collect_locked(sender))
            self._by_equality[sender] = shared
        return shared

    def _collect(self, sender: object) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        with self.lock:
            return self._collect_locked(sender)

    def _collect_locked(self, sender: object) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """Resolvers of the entries matching ``sender``, in connection order,
        split into sync and async; prunes dead entries first. Caller holds
        the lock."""
        self._prune_dead_receivers()
        sender_key = _make_id(sender)
        muted = observation.muted
        sync: list[Any] = []
        asynchronous: list[Any] = []
        for (_receiver_key, r_sender_key), stored, is_async in self.receivers:
            if r_sender_key == NONE_ID or r_sender_key == sender_key:
                weak = isinstance(stored, weakref.ReferenceType)
                if muted is not None and muted(self, sender, stored() if weak else stored):
                    continue
                if not weak:
                    stored = callloops.strong_resolver(stored)
                (asynchronous if is_async else sync).append(stored)
        return tuple(sync), tuple(asynchronous)

    def _prepare(self, sender: object, lookup: bool = True) -> _Prepared:
        """The plan of an observed send by ``sender``, and the resolvers of
        the receivers to call with their descriptions. Kept per sender until
        the cache is dropped, unless it shows a dead receiver: that one is
        shown once, then it is pruned. Without ``lookup`` nothing is pruned
        or kept (a send that exits early)."""
        # Read before the lookup prunes dead entries, so that a receiver whose
        # weak reference died shows up once as skipped; under the lock, since
        # a disconnect in another thread would shift the list under the loop
        # (and skip an entry).
        with self.lock:
            generation = self._generation
            infos = self._infos
            entries = [(entry, infos.get(id(entry))) for entry in self.receivers]
        if lookup:
            self._lookup(sender)
        sender_key = _make_id(sender)
        if self.use_caching:
            shared = self._by_equality.get(sender)
            if shared is not None:  # computed for an equal sender
                sender_key = shared.sender_key
        plan = []
        sync: list[tuple[Callable[[], Any], ReceiverInfo]] = []
        asynchronous: list[tuple[Callable[[], Any], ReceiverInfo]] = []
        any_dead = False
        muted = observation.muted
        for (lookup_key, stored, is_async), info in entries:
            weak = isinstance(stored, weakref.ReferenceType)
            live = stored() if weak else stored
            if info is None:  # an entry put into ``receivers`` by hand
                info = observation.describe(live, None, weak, None, is_async)
            r_sender_key = lookup_key[1]
            if r_sender_key != NONE_ID and r_sender_key != sender_key:
                plan.append(ReceiverPlan(info, Decision.SKIP_SENDER))
            elif weak and live is None:
                plan.append(ReceiverPlan(info, Decision.SKIP_DEAD))
                any_dead = True
            elif muted is not None and muted(self, sender, live):
                plan.append(ReceiverPlan(info, Decision.SKIP_MUTED))
            else:
                plan.append(ReceiverPlan(info, Decision.CALL))
                resolver = stored if weak else callloops.strong_resolver(stored)
                (asynchronous if is_async else sync).append((resolver, info))
        prepared = (plan, sync, asynchronous)
        with self.lock:
            if lookup and not any_dead and generation == self._generation:
                self._plans[id(sender)] = prepared
                if sync and not asynchronous:
                    pairs = tuple(item for pair in sync for item in pair)
                    self._inline[id(sender)] = [relearn_traced, pairs, plan]
        return prepared

    # -- sending ------------------------------------------------------------

    def send(self, sender: object, **named: Any) -> list[tuple[Receiver, Any]]:
        """Call every live receiver for ``sender``; sync receivers in
        connection order, then async ones concurrently. The first exception
        propagates and stops the dispatch."""
        journal = observation.journal
        if journal is None:
            slot = self._sync_only.get(id(sender))
            if slot is not None and self.receivers:
                loop: CallLoop = slot[0]
                return loop(slot, self, sender, named)
            return self._send_unobserved(sender, named)
        if journal.inline and self.receivers:
            slot = self._inline.get(id(sender))
            if slot is not None:
                traced: TracedLoop = slot[0]
                return traced(slot, self, sender, named, journal)
        return observation.send_observed(self, journal, sender, named, False)

    def _send_unobserved(self, sender: object, named: dict[str, Any]) -> list[tuple[Receiver, Any]]:
        if self._nothing_to_send(sender):
            return []
        _, sync, asynchronous = self._lookup(sender)
        if asynchronous:
            return self._send_generic(None, sender, named, False)
        if not sync:
            return []
        return relearn([relearn, sync], self, sender, named)

    def send_robust(self, sender: object, **named: Any) -> list[tuple[Receiver, Any]]:
        """Like :meth:`send`, but an ``Exception`` raised by a receiver is
        logged on ``sigcli.dispatch`` and becomes that receiver's response.
        Other ``BaseException``s propagate."""
        journal = observation.journal
        if journal is not None:
            return observation.send_observed(self, journal, sender, named, True)
        if self._nothing_to_send(sender):
            return []
        return self._send_generic(None, sender, named, True)

    async def asend(self, sender: object, **named: Any) -> list[tuple[Receiver, Any]]:
        """Send from async code: the sync receivers run as one bundle in a
        worker thread while the async ones are gathered; results list the
        sync receivers first. Async receivers start before the bundle."""
        return await self._asend(sender, named, robust=False)

    async def asend_robust(self, sender: object, **named: Any) -> list[tuple[Receiver, Any]]:
        """:meth:`asend` with :meth:`send_robust`'s exception capture."""
        return await self._asend(sender, named, robust=True)

    async def _asend(
        self, sender: object, named: dict[str, Any], robust: bool
    ) -> list[tuple[Receiver, Any]]:
        import asyncio

        journal = observation.journal
        if self._nothing_to_send(sender):
            if journal is not None:
                observation.report_nothing_sent(self, journal, sender, named, robust)
            return []
        plan, sync, asynchronous = self._receivers_to_call(journal, sender)
        depth = self._open(journal, sender, named, plan, robust)
        counting = observation.counting_from(depth) if journal is not None else nullcontext()

        def call_sync_bundle() -> list[tuple[Receiver, Any]]:
            # A worker thread, in a copy of this context: count from here too.
            with observation.counting_from(depth) if journal is not None else nullcontext():
                return [
                    (r, callloops.call(self, journal, r, info, sender, named, robust))
                    for r, info in sync
                ]

        async def sync_bundle() -> list[tuple[Receiver, Any]]:
            if not sync:
                return []
            return await asyncio.to_thread(call_sync_bundle)

        responses: list[tuple[Receiver, Any]]
        try:
            with counting:
                responses, async_responses = await asyncio.gather(
                    sync_bundle(),
                    asyncio.gather(
                        *(
                            callloops.call_async(self, journal, r, info, sender, named, robust)
                            for r, info in asynchronous
                        )
                    ),
                )
            responses.extend(
                (r, response)
                for (r, _), response in zip(asynchronous, async_responses, strict=True)
            )
        except BaseException as error:
            self._close(journal, error)
            raise
        self._close(journal, None)
        return responses

    def _nothing_to_send(self, sender: object) -> bool:
        """Django's early exit of every send: no entries at all, or a caching
        signal whose cache says ``sender`` has no receivers. The exit comes
        before dead entries are pruned."""
        if not self.receivers:
            return True
        if self.use_caching:
            shared = self._by_equality.get(sender)
            return shared is not None and not shared.sync and not shared.asynchronous
        return False

    def _receivers_to_call(
        self, journal: Journal | None, sender: object
    ) -> tuple[list[ReceiverPlan] | None, list[_Call], list[_Call]]:
        """The plan (when observed), and the live sync and async receivers to
        call, each with its description (when observed). All are resolved
        before the first is called, as Django does."""
        if journal is None:
            _, sync_resolvers, async_resolvers = self._lookup(sender)
            return (
                None,
                [(r, None) for r in callloops.resolve(sync_resolvers)],
                [(r, None) for r in callloops.resolve(async_resolvers)],
            )
        prepared = self._plans.get(id(sender))
        if prepared is None or self._dead_receivers:
            prepared = self._prepare(sender)
        for _attempt in range(2):
            plan, sync_refs, async_refs = prepared
            sync: list[_Call] = [(r, info) for ref, info in sync_refs if (r := ref()) is not None]
            asynchronous: list[_Call] = [
                (r, info) for ref, info in async_refs if (r := ref()) is not None
            ]
            if len(sync) == len(sync_refs) and len(asynchronous) == len(async_refs):
                break
            # A receiver died since the plan was made: make it again.
            prepared = self._prepare(sender)
        return plan, sync, asynchronous

    def _open(
        self,
        journal: Journal | None,
        sender: object,
        named: dict[str, Any],
        plan: list[ReceiverPlan] | None,
        robust: bool,
    ) -> int:
        """Write the start of an observed send; returns its depth (0 unobserved)."""
        if journal is None:
            return 0
        return observation.write_send(journal, self, sender, named, plan, robust)

    def _close(self, journal: Journal | None, error: BaseException | None) -> None:
        """Write the end of an observed send."""
        if journal is not None:
            observation.write_end(journal, self, error)

    def _send_generic(
        self, journal: Journal | None, sender: object, named: dict[str, Any], robust: bool
    ) -> list[tuple[Receiver, Any]]:
        """The reference send: observed or not, robust or not, sync receivers
        then async ones gathered in a private event loop."""
        plan, sync, asynchronous = self._receivers_to_call(journal, sender)
        depth = self._open(journal, sender, named, plan, robust)
        thread = get_ident()
        level = observation.sync_depths.get(thread, 0)
        if journal is not None:
            observation.sync_depths[thread] = level + 1
        try:
            responses = [
                (r, callloops.call(self, journal, r, info, sender, named, robust))
                for r, info in sync
            ]
            if asynchronous:

                async def gather_all() -> list[Any]:
                    import asyncio

                    with observation.counting_from(depth) if journal is not None else nullcontext():
                        return await asyncio.gather(
                            *(
                                callloops.call_async(self, journal, r, info, sender, named, robust)
                                for r, info in asynchronous
                            )
                        )

                results = callloops.run_coroutine_sync(gather_all)
                responses.extend(
                    (r, result) for (r, _), result in zip(asynchronous, results, strict=True)
                )
        except BaseException as error:
            self._close(journal, error)
            raise
        finally:
            if journal is not None:
                observation.sync_depths[thread] = level
        self._close(journal, None)
        return responses


_Call = tuple[Receiver, "ReceiverInfo | None"]


def receiver(
    signal: Signal | list[Signal] | tuple[Signal, ...], **kwargs: Any
) -> Callable[[Receiver], Receiver]:
    """Decorator: connect the function to ``signal`` (or to each signal of a
    list or tuple, in order) with ``kwargs`` passed to ``connect``, and
    return the function unchanged."""

    def _decorator(func: Receiver) -> Receiver:
        if isinstance(signal, (list, tuple)):
            for each in signal:
                each.connect(func, **kwargs)
        else:
            signal.connect(func, **kwargs)
        return func

    return _decorator
