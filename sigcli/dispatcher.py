"""A signal dispatcher that behaves like Django 5.2's ``django.dispatch``.

Receivers are kept in connection order under a lookup key
``(receiver-identity, sender-identity)``; the first connection with a key
wins. Senders are matched by identity, ``sender=None`` means any sender, and
weakly connected receivers vanish with their referent.

Two things are sigcli's own:

* an observer interface (:class:`SendObserver`, installed with
  :func:`observe`) that sees every send, every connected receiver with this
  send's decision for it, and each call's result or exception. With no
  observer installed a send pays a single global lookup for it;
* speed: each signal keeps a per-sender cache of live-receiver references,
  and receivers are called through a small function generated once per set
  of keyword names, so that a send does not pay ``**named`` per receiver.

This module imports nothing of sigcli's and no heavy stdlib module at import
time; ``asyncio``, ``inspect`` and ``logging`` load when first needed.
"""

from __future__ import annotations

import itertools
import keyword
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

__all__ = [
    "Decision",
    "ReceiverInfo",
    "ReceiverPlan",
    "SendObserver",
    "Signal",
    "observe",
    "receiver",
    "validate_receivers",
]

#: When true, ``connect`` rejects non-callables and receivers without
#: ``**kwargs`` at once, as Django does with ``settings.DEBUG`` on. Off by
#: default (Django's behaviour without DEBUG); the scenario runner turns it on.
validate_receivers: bool = False

Receiver = Callable[..., Any]
LookupKey = tuple[Any, int]


def _make_id(target: object) -> Any:
    """Identity of a receiver or sender; a bound method is identified by its
    object and function, since every attribute access makes a new one."""
    if hasattr(target, "__func__"):
        return (id(target.__self__), id(target.__func__))  # type: ignore[attr-defined]
    return id(target)


NONE_ID = _make_id(None)


class Decision(Enum):
    """What one send decided for one connected receiver."""

    CALL = "called"
    SKIP_SENDER = "sender filter is another sender"
    SKIP_DEAD = "weak reference is dead"


@dataclass(frozen=True, slots=True)
class ReceiverInfo:
    """A description of a receiver taken at connect time, so that it can
    still be named after its weak reference has died."""

    name: str
    module: str | None
    file: str | None
    line: int | None
    sender_label: str | None
    weak: bool
    dispatch_uid: Any
    is_async: bool


@dataclass(frozen=True, slots=True)
class ReceiverPlan:
    info: ReceiverInfo
    decision: Decision


class SendObserver(Protocol):
    """Sees sends as they happen. Calls nest: a send made inside a receiver
    reports ``send_started`` before the outer ``receiver_finished``."""

    def send_started(
        self,
        signal: Signal,
        sender: object,
        named: dict[str, Any],
        plan: list[ReceiverPlan],
        robust: bool,
    ) -> None: ...

    def receiver_started(self, signal: Signal, info: ReceiverInfo) -> None: ...

    def receiver_finished(
        self, signal: Signal, info: ReceiverInfo, result: Any, error: BaseException | None
    ) -> None: ...

    def send_finished(self, signal: Signal, error: BaseException | None) -> None: ...


_observer: SendObserver | None = None


@contextmanager
def observe(observer: SendObserver | None) -> Iterator[SendObserver | None]:
    """Install ``observer`` for every signal until the block ends, then put
    back whatever was installed before."""
    global _observer
    previous = _observer
    _observer = observer
    try:
        yield observer
    finally:
        _observer = previous


def current_observer() -> SendObserver | None:
    return _observer


# ---------------------------------------------------------------------------
# Receiver description and validation


def _code_of(receiver: Any) -> Any:
    target = getattr(receiver, "__func__", receiver)
    code = getattr(target, "__code__", None)
    if code is None:
        inner = getattr(target, "func", None)  # functools.partial
        code = getattr(inner, "__code__", None)
    if code is None:
        call = type(receiver).__dict__.get("__call__")
        code = getattr(call, "__code__", None)
    return code


def _describe(
    receiver: Any, sender: object, weak: bool, dispatch_uid: Any, is_async: bool
) -> ReceiverInfo:
    code = _code_of(receiver)
    if sender is None:
        sender_label = None
    else:
        sender_label = getattr(sender, "__name__", None) or repr(sender)
    return ReceiverInfo(
        name=getattr(receiver, "__qualname__", None) or repr(receiver),
        module=getattr(receiver, "__module__", None),
        file=code.co_filename if code is not None else None,
        line=code.co_firstlineno if code is not None else None,
        sender_label=sender_label,
        weak=weak,
        dispatch_uid=dispatch_uid,
        is_async=is_async,
    )


def _is_coroutine_function(receiver: Any) -> bool:
    """True for ``async def`` callables and for callables marked with
    asgiref's ``markcoroutinefunction`` (Django's rule)."""
    import inspect

    if inspect.iscoroutinefunction(receiver):
        return True
    marker = getattr(receiver, "_is_coroutine", None)
    if marker is None:
        return False
    import asyncio.coroutines

    return marker is getattr(asyncio.coroutines, "_is_coroutine", object())


def _check_receiver(receiver: Any) -> None:
    import inspect

    if not callable(receiver):
        raise TypeError("Signal receivers must be callable.")
    parameters = inspect.signature(receiver).parameters.values()
    if not any(p.kind is p.VAR_KEYWORD for p in parameters):
        raise ValueError("Signal receivers must accept keyword arguments (**kwargs).")


# ---------------------------------------------------------------------------
# Calling receivers
#
# A cached live list holds one zero-argument "resolver" per receiver: the
# weak reference itself, or for a strong receiver ``repeat(r).__next__``, a
# C-level callable that always returns ``r``. Resolving is then one uniform
# call, done for the whole list before the first receiver runs, as Django
# does.

# A sync-only cache entry is a two-item list ``[call_loop, resolvers]``. The
# call loop was generated for the keyword names of the last send that used
# the entry; it checks them (one length test and the lookups it needs
# anyway) and hands over to ``_relearn`` when a send uses other names.
CacheSlot = list[Any]
CallLoop = Callable[[CacheSlot, "Signal", object, dict[str, Any]], list[tuple[Receiver, Any]]]


def _generic_call(
    slot: CacheSlot, signal: Signal, sender: object, named: dict[str, Any]
) -> list[tuple[Receiver, Any]]:
    """The reference call loop, good for any names; raises exactly what
    Django raises for odd ones, e.g. a duplicate ``signal`` keyword."""
    live = [ref() for ref in slot[1]]
    return [(r, r(signal=signal, sender=sender, **named)) for r in live if r is not None]


def _relearn(
    slot: CacheSlot, signal: Signal, sender: object, named: dict[str, Any]
) -> list[tuple[Receiver, Any]]:
    """Install in ``slot`` the call loop for this send's names, and use it."""
    key = (len(slot[1]), *named)
    call_loop = _CALLERS.get(key) or _make_caller(key)
    slot[0] = call_loop
    return call_loop(slot, signal, sender, named)


_CALLERS: dict[tuple[Any, ...], CallLoop] = {}
_UNROLL_LIMIT = 16
_LOOP_LOCALS = {"signal", "sender", "slot", "named", "live", "r", "ref", "relearn"}


def _make_caller(key: tuple[Any, ...]) -> CallLoop:
    """A call loop for ``key = (receiver count, *keyword names)``, generated
    once per key with the names written out as literal keywords, so that a
    send does not pay ``**named`` per receiver. Up to ``_UNROLL_LIMIT``
    receivers the loop is unrolled. Every receiver is resolved before the
    first one runs, as in Django. Names that cannot be local variables get
    ``_generic_call``."""
    count, names = key[0], key[1:]
    if not all(name.isidentifier() and not keyword.iskeyword(name) for name in names) or (
        set(names) & _LOOP_LOCALS or any(name.startswith("_r") for name in names)
    ):
        caller = _generic_call
    else:
        if names:
            unpack = "".join(f"        {name} = named[{name!r}]\n" for name in names)
            check = (
                f"    if len(named) != {len(names)}:\n"
                "        return relearn(slot, signal, sender, named)\n"
                "    try:\n"
                f"{unpack}"
                "    except KeyError:\n"
                "        return relearn(slot, signal, sender, named)\n"
            )
        else:
            check = "    if named:\n        return relearn(slot, signal, sender, named)\n"
        passing = "".join(f", {name}={name}" for name in names)
        if count == 0:
            body = "    return []\n"
        elif count <= _UNROLL_LIMIT:
            slots = [f"_r{i}" for i in range(count)]
            resolve = "".join(f"    {each} = {each}()\n" for each in slots)
            calls = ", ".join(
                f"({each}, {each}(signal=signal, sender=sender{passing}))" for each in slots
            )
            all_live = " and ".join(f"{each} is not None" for each in slots)
            body = (
                f"    {', '.join(slots)}, = slot[1]\n"
                f"{resolve}"
                f"    if {all_live}:\n"
                f"        return [{calls}]\n"
                f"    return [(r, r(signal=signal, sender=sender{passing}))"
                f" for r in ({', '.join(slots)},) if r is not None]\n"
            )
        else:
            body = (
                "    live = [ref() for ref in slot[1]]\n"
                f"    return [(r, r(signal=signal, sender=sender{passing}))"
                " for r in live if r is not None]\n"
            )
        source = f"def call_loop(slot, signal, sender, named):\n{check}{body}"
        namespace: dict[str, Any] = {"relearn": _relearn}
        exec(compile(source, f"<sigcli call loop {key}>", "exec"), namespace)
        caller = namespace["call_loop"]
    _CALLERS[key] = caller
    return caller


def _strong_resolver(receiver: Any) -> Callable[[], Any]:
    """A resolver for a strongly connected receiver (see above); a strong
    ``None`` resolves to a stand-in that fails when called, as ``None`` does."""
    return itertools.repeat(_CALLING_NONE if receiver is None else receiver).__next__


def _resolve(refs: Sequence[Callable[[], Any]]) -> list[Receiver]:
    live = [ref() for ref in refs]
    return [r for r in live if r is not None]


def _log_robust_failure(receiver: Any, error: Exception) -> None:
    """Log as Django's ``send_robust`` does. Django reads ``__qualname__`` and
    crashes for receivers without one (a callable instance, a partial);
    sigcli falls back to ``repr()`` instead."""
    import logging

    name = getattr(receiver, "__qualname__", None) or repr(receiver)
    logging.getLogger("sigcli.dispatch").error(
        "Error calling %s in Signal.send_robust() (%s)", name, error, exc_info=error
    )


def _run_coroutine_sync(make_coroutine: Callable[[], Any]) -> Any:
    """Run a coroutine to completion from synchronous code. With asgiref
    installed this is its ``async_to_sync``, as in Django (so thread-sensitive
    ``sync_to_async`` inside a receiver comes back to the sending thread).
    Otherwise a fresh event loop on a worker thread, so the caller's thread
    keeps its own loop state; it refuses, like asgiref, inside a running loop."""
    try:
        from asgiref.sync import async_to_sync
    except ImportError:
        pass
    else:
        return async_to_sync(make_coroutine)()

    import asyncio
    import contextvars

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "You cannot use AsyncToSync in the same thread as an async event loop"
            " - just await the async function directly."
        )
    context = contextvars.copy_context()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = context.run(asyncio.run, make_coroutine())
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=work, name="sigcli-async-receivers")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


# ---------------------------------------------------------------------------
# The signal


class _ReceiverList(list):  # type: ignore[type-arg]
    """The receivers list; edits made to it by hand drop the caches that
    depend on it."""

    __slots__ = ("on_change",)

    def __init__(self, entries: Any, on_change: Callable[[], None]) -> None:
        super().__init__(entries)
        self.on_change = on_change


def _changing(name: str) -> Callable[..., Any]:
    method = getattr(list, name)

    def changed(self: _ReceiverList, *args: Any) -> Any:
        result = method(self, *args)
        self.on_change()
        return result

    changed.__name__ = name
    return changed


for _name in (
    "append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse",
    "__setitem__", "__delitem__", "__iadd__", "__imul__",
):  # fmt: skip
    setattr(_ReceiverList, _name, _changing(_name))


class _CacheView:
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


_Prepared = tuple[
    list[ReceiverPlan],
    list[tuple[Callable[[], Any], ReceiverInfo]],
    list[tuple[Callable[[], Any], ReceiverInfo]],
]


class _CallingNone:
    """Stands for a strongly connected ``None``: resolvers return ``None``
    only for dead weak references, yet Django keeps such an entry and fails
    when it calls it."""

    def __call__(self, **named: Any) -> Any:
        raise TypeError("'NoneType' object is not callable")

    def __repr__(self) -> str:
        return "None"


_CALLING_NONE = _CallingNone()


class _SharedEntry:
    """A caching signal's receivers for one sender and all senders equal to it."""

    __slots__ = ("sender_key", "sync", "asynchronous", "__weakref__")

    def __init__(
        self, sender_key: Any, sync: tuple[Any, ...], asynchronous: tuple[Any, ...]
    ) -> None:
        self.sender_key = sender_key
        self.sync = sync
        self.asynchronous = asynchronous


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
        # Counts cache drops, so that a plan made across one is not kept.
        self._generation = 0
        self._by_equality: weakref.WeakKeyDictionary[Any, _SharedEntry] = (
            weakref.WeakKeyDictionary()
        )
        self.receivers = []

    def __setattr__(self, name: str, value: Any) -> None:
        # Code written for Django swaps or edits ``receivers`` by hand (e.g.
        # factory_boy's ``mute_signals``). A non-caching Django signal reads
        # the list at every send, so sigcli's private cache must follow it;
        # a caching one keeps serving its cache, and so does sigcli.
        if name == "receivers":
            if not isinstance(value, _ReceiverList) or value.on_change != self._receivers_changed:
                value = _ReceiverList(value, self._receivers_changed)
            object.__setattr__(self, name, value)
            self._receivers_changed()
        else:
            object.__setattr__(self, name, value)

    def _receivers_changed(self) -> None:
        if not self.use_caching:
            self._forget_cache()

    @property
    def sender_receivers_cache(self) -> _CacheView:
        """Django's name for the per-sender cache; only ``clear()`` and
        ``get()`` are offered, enough for code that clears it by hand."""
        return _CacheView(self)

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
        """Connect ``receiver`` for ``sender`` (None: any sender). A second
        connection with the same key is ignored: the first one wins."""
        if validate_receivers:
            _check_receiver(receiver)
        if dispatch_uid:
            lookup_key = (dispatch_uid, _make_id(sender))
        else:
            lookup_key = (_make_id(receiver), _make_id(sender))
        is_async = _is_coroutine_function(receiver)
        info = _describe(receiver, sender, weak, dispatch_uid, is_async)
        stored: Any = receiver
        if weak:
            if hasattr(receiver, "__self__") and hasattr(receiver, "__func__"):
                stored = weakref.WeakMethod(receiver, self._flag_dead_receivers)  # type: ignore[arg-type]
            else:
                stored = weakref.ref(receiver, self._flag_dead_receivers)
        with self.lock:
            self._prune_dead_receivers()
            if not any(entry[0] == lookup_key for entry in self.receivers):
                entry = (lookup_key, stored, is_async)
                self.receivers.append(entry)
                self._infos[id(entry)] = info
            self._invalidate()

    def disconnect(
        self, receiver: Receiver | None = None, sender: object = None, dispatch_uid: Any = None
    ) -> bool:
        """Remove the first entry with the same key; True if one was removed.
        ``sender`` must be the one used to connect."""
        if dispatch_uid:
            lookup_key = (dispatch_uid, _make_id(sender))
        else:
            lookup_key = (_make_id(receiver), _make_id(sender))
        disconnected = False
        with self.lock:
            self._prune_dead_receivers()
            for index, entry in enumerate(self.receivers):
                if entry[0] == lookup_key:
                    disconnected = True
                    del self.receivers[index]
                    self._infos.pop(id(entry), None)
                    break
            self._invalidate()
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
        return bool(_resolve(sync)) or bool(_resolve(asynchronous))

    def _flag_dead_receivers(self, _reference: object = None) -> None:
        # Called from the garbage collector: no lock here, only flags.
        self._dead_receivers = True
        self._forget_cache()

    def _forget_cache(self) -> None:
        """The one place the per-sender cache is dropped: on connect,
        disconnect, and a receiver's death (the equality-keyed entries are
        then bypassed until the next prune, as Django bypasses its cache)."""
        self._generation += 1
        self._cache.clear()
        self._sync_only.clear()
        self._plans.clear()

    def _invalidate(self) -> None:
        """Drop every cached lookup: the one place connect, disconnect and a
        restore go through, as Django clears its whole cache there."""
        self._forget_cache()
        self._by_equality.clear()

    def _evict(self, key: int) -> None:
        self._cache.pop(key, None)
        self._sync_only.pop(key, None)
        self._plans.pop(key, None)

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
            self.receivers = kept

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
            self.receivers = list(entries)
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
                self._sync_only[key] = [_relearn, sync]
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
        sync: list[Any] = []
        asynchronous: list[Any] = []
        for (_receiver_key, r_sender_key), stored, is_async in self.receivers:
            if r_sender_key == NONE_ID or r_sender_key == sender_key:
                if not isinstance(stored, weakref.ReferenceType):
                    stored = _strong_resolver(stored)
                (asynchronous if is_async else sync).append(stored)
        return tuple(sync), tuple(asynchronous)

    def _prepare(self, sender: object, lookup: bool = True) -> _Prepared:
        """The plan of an observed send by ``sender``, and the resolvers of
        the receivers to call with their descriptions. Kept per sender until
        the cache is dropped, unless it shows a dead receiver: that one is
        shown once, then it is pruned. Without ``lookup`` nothing is pruned
        or kept (a send that exits early)."""
        generation = self._generation
        infos = self._infos
        # Read before the lookup prunes dead entries, so that a receiver whose
        # weak reference died shows up once as skipped.
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
        for (lookup_key, stored, is_async), info in entries:
            weak = isinstance(stored, weakref.ReferenceType)
            live = stored() if weak else stored
            if info is None:  # an entry put into ``receivers`` by hand
                info = _describe(live, None, weak, None, is_async)
            r_sender_key = lookup_key[1]
            if r_sender_key != NONE_ID and r_sender_key != sender_key:
                plan.append(ReceiverPlan(info, Decision.SKIP_SENDER))
            elif weak and live is None:
                plan.append(ReceiverPlan(info, Decision.SKIP_DEAD))
                any_dead = True
            else:
                plan.append(ReceiverPlan(info, Decision.CALL))
                resolver = stored if weak else _strong_resolver(stored)
                (asynchronous if is_async else sync).append((resolver, info))
        prepared = (plan, sync, asynchronous)
        with self.lock:
            if lookup and not any_dead and generation == self._generation:
                self._plans[id(sender)] = prepared
        return prepared

    # -- sending ------------------------------------------------------------

    def send(self, sender: object, **named: Any) -> list[tuple[Receiver, Any]]:
        """Call every live receiver for ``sender``; sync receivers in
        connection order, then async ones concurrently. The first exception
        propagates and stops the dispatch."""
        if _observer is None:
            slot = self._sync_only.get(id(sender))
            if slot is not None and self.receivers:
                return slot[0](slot, self, sender, named)
            if not self.receivers:
                return []
        return self._send_uncached(sender, named)

    def _send_uncached(self, sender: object, named: dict[str, Any]) -> list[tuple[Receiver, Any]]:
        if _observer is not None:
            return self._send_observed(sender, named, robust=False)
        if self._nothing_to_send(sender):
            return []
        _, sync, asynchronous = self._lookup(sender)
        if asynchronous:
            return self._send_generic(sender, named, False, None)
        if not sync:
            return []
        return _relearn([_relearn, sync], self, sender, named)

    def send_robust(self, sender: object, **named: Any) -> list[tuple[Receiver, Any]]:
        """Like :meth:`send`, but an ``Exception`` raised by a receiver is
        logged on ``sigcli.dispatch`` and becomes that receiver's response.
        Other ``BaseException``s propagate."""
        if _observer is not None:
            return self._send_observed(sender, named, robust=True)
        if self._nothing_to_send(sender):
            return []
        return self._send_generic(sender, named, True, None)

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

        observer = _observer
        if self._nothing_to_send(sender):
            if observer is not None:
                self._report_nothing_sent(observer, sender, named, robust)
            return []
        sync, asynchronous = self._calls(sender, named, robust, observer)

        def call_sync_bundle() -> list[tuple[Receiver, Any]]:
            return [(r, self._call(r, info, sender, named, robust, observer)) for r, info in sync]

        async def sync_bundle() -> list[tuple[Receiver, Any]]:
            if not sync:
                return []
            return await asyncio.to_thread(call_sync_bundle)

        try:
            responses, async_responses = await asyncio.gather(
                sync_bundle(),
                asyncio.gather(
                    *(
                        self._call_async(r, info, sender, named, robust, observer)
                        for r, info in asynchronous
                    )
                ),
            )
        except BaseException as error:
            if observer is not None:
                observer.send_finished(self, error)
            raise
        responses.extend(
            (r, response) for (r, _), response in zip(asynchronous, async_responses, strict=True)
        )
        if observer is not None:
            observer.send_finished(self, None)
        return responses

    def _calls(
        self,
        sender: object,
        named: dict[str, Any],
        robust: bool,
        observer: SendObserver | None,
    ) -> tuple[list[tuple[Any, ReceiverInfo | None]], list[tuple[Any, ReceiverInfo | None]]]:
        """The sync and async receivers to call, each with its description
        when observed; tells the observer that the send started."""
        if observer is None:
            _, sync_resolvers, async_resolvers = self._lookup(sender)
            return [(r, None) for r in _resolve(sync_resolvers)], [
                (r, None) for r in _resolve(async_resolvers)
            ]
        prepared = self._plans.get(id(sender))
        if prepared is None or self._dead_receivers:
            prepared = self._prepare(sender)
        plan, sync_refs, async_refs = prepared
        sync: list[tuple[Any, ReceiverInfo | None]] = [
            (r, info) for ref, info in sync_refs if (r := ref()) is not None
        ]
        asynchronous: list[tuple[Any, ReceiverInfo | None]] = [
            (r, info) for ref, info in async_refs if (r := ref()) is not None
        ]
        if len(sync) != len(sync_refs) or len(asynchronous) != len(async_refs):
            # A receiver died since the plan was made: make it again.
            plan, sync_refs, async_refs = self._prepare(sender)
            sync = [(r, info) for ref, info in sync_refs if (r := ref()) is not None]
            asynchronous = [(r, info) for ref, info in async_refs if (r := ref()) is not None]
        observer.send_started(self, sender, named, plan, robust)
        return sync, asynchronous

    def _call(
        self,
        r: Receiver,
        info: ReceiverInfo | None,
        sender: object,
        named: dict[str, Any],
        robust: bool,
        observer: SendObserver | None,
    ) -> Any:
        """One observed or robust receiver call."""
        if observer is not None and info is not None:
            observer.receiver_started(self, info)
        try:
            result = r(signal=self, sender=sender, **named)
        except BaseException as error:
            return self._failed(r, info, error, robust, observer)
        if observer is not None and info is not None:
            observer.receiver_finished(self, info, result, None)
        return result

    async def _call_async(
        self,
        r: Receiver,
        info: ReceiverInfo | None,
        sender: object,
        named: dict[str, Any],
        robust: bool,
        observer: SendObserver | None,
    ) -> Any:
        if observer is not None and info is not None:
            observer.receiver_started(self, info)
        try:
            result = await r(signal=self, sender=sender, **named)
        except BaseException as error:
            return self._failed(r, info, error, robust, observer)
        if observer is not None and info is not None:
            observer.receiver_finished(self, info, result, None)
        return result

    def _failed(
        self,
        r: Receiver,
        info: ReceiverInfo | None,
        error: BaseException,
        robust: bool,
        observer: SendObserver | None,
    ) -> Any:
        """Report a receiver's exception; in a robust send an ``Exception``
        becomes the response, anything else propagates."""
        if observer is not None and info is not None:
            observer.receiver_finished(self, info, None, error)
        if robust and isinstance(error, Exception):
            _log_robust_failure(r, error)
            return error
        raise error

    def _send_observed(
        self, sender: object, named: dict[str, Any], robust: bool
    ) -> list[tuple[Receiver, Any]]:
        """``send``/``send_robust`` with the observer told everything. Kept
        apart so that the unobserved path carries no per-receiver checks."""
        observer = _observer
        assert observer is not None
        if self._nothing_to_send(sender):
            self._report_nothing_sent(observer, sender, named, robust)
            return []
        return self._send_generic(sender, named, robust, observer)

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

    def _report_nothing_sent(
        self, observer: SendObserver, sender: object, named: dict[str, Any], robust: bool
    ) -> None:
        plan = self._prepare(sender, lookup=False)[0] if self.receivers else []
        observer.send_started(self, sender, named, plan, robust)
        observer.send_finished(self, None)

    def _send_generic(
        self,
        sender: object,
        named: dict[str, Any],
        robust: bool,
        observer: SendObserver | None,
    ) -> list[tuple[Receiver, Any]]:
        """The reference send: observed or not, robust or not, sync receivers
        then async ones gathered in a private event loop."""
        sync, asynchronous = self._calls(sender, named, robust, observer)
        try:
            if observer is None:
                responses = [(r, self._call(r, None, sender, named, robust, None)) for r, _ in sync]
            else:
                responses = []
                for r, info in sync:
                    observer.receiver_started(self, info)  # type: ignore[arg-type]
                    try:
                        result = r(signal=self, sender=sender, **named)
                    except BaseException as error:
                        result = self._failed(r, info, error, robust, observer)
                    else:
                        observer.receiver_finished(self, info, result, None)  # type: ignore[arg-type]
                    responses.append((r, result))
            if asynchronous:

                async def gather_all() -> list[Any]:
                    import asyncio

                    return await asyncio.gather(
                        *(
                            self._call_async(r, info, sender, named, robust, observer)
                            for r, info in asynchronous
                        )
                    )

                results = _run_coroutine_sync(gather_all)
                responses.extend(
                    (r, result) for (r, _), result in zip(asynchronous, results, strict=True)
                )
        except BaseException as error:
            if observer is not None:
                observer.send_finished(self, error)
            raise
        if observer is not None:
            observer.send_finished(self, None)
        return responses


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
