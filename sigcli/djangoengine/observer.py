"""Watching ``django.dispatch.Signal``: every send of every Django signal object
(built-in or a third-party app's) written to a sigcli :class:`Journal` as the
events sigcli's own dispatcher writes.

How it hooks in, and why so:

* ``send``, ``send_robust``, ``asend`` and ``asend_robust`` are wrapped on
  the class, so a send is seen even when a caching signal returns early
  without looking its receivers up (the seven model signals do, once a
  sender is known to have none).
* ``_live_receivers`` is wrapped too, but acts only for the send that is
  running in the current context (a context variable), never for
  ``has_listeners()``, the deletion collector or the m2m descriptors, which
  call it without dispatching. It reads ``receivers`` before Django prunes
  dead entries, so the plan shows every connected receiver with its
  decision, and hands Django a stand-in per live receiver that writes the
  receiver's start and end. Whatever Django (or another tool's patch of
  ``_live_receivers``) returns decides who is called: the plan follows it.
* ``send`` returns the user's own receivers, never the stand-ins. A stand-in
  passes every attribute through (a receiver without ``__qualname__`` still
  has none, as Django's robust logging expects).
* ``connect`` is wrapped to remember each connection's sender and
  ``dispatch_uid``, which Django keeps only as ids; it and ``disconnect``
  report what they did (:class:`~sigcli.observation.ConnectionChange`), as
  sigcli's own dispatcher does.

Uninstalling puts back exactly what was on the class. Receivers entries are
read by length (``(key, ref)`` on 4.2, ``(key, ref, is_async)`` on 5.x,
``(key, ref, sender_ref, is_async)`` on 6.x).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from threading import get_ident
from typing import Any, Literal

from sigcli import observation
from sigcli.djangoengine import orm
from sigcli.observation import (
    CALL,
    DONE,
    SCALARS,
    SEND,
    ConnectionChange,
    ConnectionOutcome,
    Decision,
    Journal,
    ReceiverInfo,
    ReceiverPlan,
    called_from,
    describe,
    name_of,
    snapshot_all,
    write_done,
    write_end,
)

__all__ = [
    "DjangoSignal",
    "Observation",
    "installed",
    "name_signal",
    "observe_django",
    "signal_label",
]


def _make_id(target: object) -> Any:
    """Django's identity of a receiver or sender (a bound method by its object
    and function)."""
    if hasattr(target, "__func__"):
        return (id(target.__self__), id(target.__func__))  # type: ignore[attr-defined]
    return id(target)


_NONE_ID = id(None)


# -- naming Django's signal objects ------------------------------------------------


class DjangoSignal:
    """What a journal's events carry for a Django signal: a stable object
    with the ``name`` a trace shows (the recorder reads ``signal.name``), and
    the signal itself while it lives."""

    __slots__ = ("name", "_ref", "__weakref__")

    def __init__(self, signal: object, name: str) -> None:
        self.name = name
        self._ref = weakref.ref(signal)

    @property
    def signal(self) -> Any:
        """The Django signal, or None once it has been collected."""
        return self._ref()

    def __repr__(self) -> str:
        return f"<Django signal {self.name}>"


_labels: dict[int, DjangoSignal] = {}
_names_taken: dict[str, weakref.ref[Any]] = {}
_labels_lock = threading.Lock()


def signal_label(signal: object) -> DjangoSignal:
    """The one :class:`DjangoSignal` of ``signal``, named after the module
    variable that holds it (``post_save``); a name already used by another
    live signal gets its module in front (``myapp.signals.saved``)."""
    label = _labels.get(id(signal))
    if label is not None and label.signal is signal:
        return label
    with _labels_lock:
        module, name = _find_name(signal)
        if name is None:
            text = f"<Signal at {id(signal):#x}>"
        else:
            holder = _names_taken.get(name)
            owner = None if holder is None else holder()
            if owner is None or owner is signal:
                _names_taken[name] = weakref.ref(signal)
                text = name
            else:
                text = f"{module}.{name}"
        label = DjangoSignal(signal, text)
        if len(_labels) > 10_000:
            _labels.clear()
        _labels[id(signal)] = label
        return label


def name_signal(signal: object, name: str) -> None:
    """Give ``signal`` the name traces show for it (a scenario names its
    signals after the globals that hold them), in place of the one found."""
    with _labels_lock:
        _names_taken[name] = weakref.ref(signal)
        _labels[id(signal)] = DjangoSignal(signal, name)


def _find_name(signal: object) -> tuple[str | None, str | None]:
    """The module and global name of ``signal``: Django's own modules first,
    so that ``post_save`` is found where Django defines it, not where an app
    imported it."""
    modules = list(sys.modules.items())
    modules.sort(key=lambda item: not item[0].startswith("django."))
    for module_name, module in modules:
        try:
            names = vars(module)
        except TypeError:
            continue
        for name, value in list(names.items()):
            if value is signal and not name.startswith("_"):
                return module_name, name
    return None, None


# -- what is known of each signal's receivers -------------------------------------


def _parse(entry: tuple[Any, ...]) -> tuple[Any, Any, Any, bool]:
    """``(lookup_key, stored, sender_ref, is_async)`` of a receivers entry of
    any Django version: the length tells the shape, ``is_async`` is last."""
    if len(entry) == 4:
        return entry[0], entry[1], entry[2], bool(entry[3])
    if len(entry) == 3:
        return entry[0], entry[1], None, bool(entry[2])
    return entry[0], entry[1], None, False


class _Plan:
    """One send's view of the receivers, kept per sender until they change:
    the plan the trace shows, and the description of each receiver to be
    called, in the order Django calls them."""

    __slots__ = ("plan", "sync", "asynchronous")

    def __init__(
        self,
        plan: list[ReceiverPlan],
        sync: list[tuple[Any, ReceiverInfo]],
        asynchronous: list[tuple[Any, ReceiverInfo]],
    ) -> None:
        self.plan = plan
        self.sync = sync
        self.asynchronous = asynchronous


class _SignalState:
    """Per Django signal: the receivers entries the plans were made from (a
    copy, which also keeps their ids from being reused), each entry's
    description (taken at connect while installed, else at its first send),
    and the plans per sender."""

    __slots__ = ("entries", "infos", "plans", "mute_changes")

    def __init__(self) -> None:
        self.entries: list[Any] = []
        self.infos: dict[int, tuple[Any, ReceiverInfo]] = {}
        self.plans: dict[Any, _Plan] = {}
        self.mute_changes = observation.mute_changes

    def plan_for(self, signal: Any, sender: object) -> _Plan:
        receivers = signal.receivers
        dead = getattr(signal, "_dead_receivers", False)
        sender_key = _make_id(sender)
        if not dead and receivers == self.entries and self.mute_changes == observation.mute_changes:
            known = self.plans.get(sender_key)
            if known is not None:
                return known
        else:
            self._refresh(receivers)
        muted = observation.muted
        plan: list[ReceiverPlan] = []
        sync: list[tuple[Any, ReceiverInfo]] = []
        asynchronous: list[tuple[Any, ReceiverInfo]] = []
        for entry in receivers:
            key, stored, sender_ref, is_async = _parse(entry)
            info = self._info(entry, key, stored, sender_ref, is_async, sender)
            weak = isinstance(stored, weakref.ReferenceType)
            live = stored() if weak else stored
            if key[1] != _NONE_ID and key[1] != sender_key:
                decision = Decision.SKIP_SENDER
            elif weak and live is None:
                decision = Decision.SKIP_DEAD
            elif sender_ref is not None and sender_ref() is None:
                decision = Decision.SKIP_DEAD_SENDER
            elif muted is not None and muted(signal, sender, live):
                decision = Decision.SKIP_MUTED
            else:
                decision = Decision.CALL
                (asynchronous if is_async else sync).append((_make_id(live), info))
            plan.append(ReceiverPlan(info, decision))
        made = _Plan(plan, sync, asynchronous)
        if not dead and receivers == self.entries:
            if len(self.plans) > 1000:
                self.plans.clear()
            self.plans[sender_key] = made
        return made

    def _refresh(self, receivers: list[Any]) -> None:
        """The entries (or the mutes) changed: forget plans, and
        descriptions of entries gone."""
        self.entries = list(receivers)
        self.mute_changes = observation.mute_changes
        present = {id(entry) for entry in self.entries}
        self.infos = {k: v for k, v in self.infos.items() if k in present}
        self.plans = {}

    def _info(
        self,
        entry: Any,
        key: Any,
        stored: Any,
        sender_ref: Any,
        is_async: bool,
        sender: object,
    ) -> ReceiverInfo:
        known = self.infos.get(id(entry))
        if known is not None and known[0] is entry:
            return known[1]
        weak = isinstance(stored, weakref.ReferenceType)
        receiver = stored() if weak else stored
        sender_label = _sender_label(key[1], sender_ref, sender, receiver)
        if receiver is not None:
            uid = None if key[0] == _make_id(receiver) else key[0]
        else:
            uid = key[0] if isinstance(key[0], str) else None
        info = _describe(receiver, sender_label, weak, uid, is_async)
        self.infos[id(entry)] = (entry, info)
        return info


def _describe(
    receiver: Any, sender_label: str | None, weak: bool, uid: Any, is_async: bool
) -> ReceiverInfo:
    if receiver is None:
        return ReceiverInfo("<dead receiver>", None, None, None, sender_label, weak, uid, is_async)
    info = describe(receiver, None, weak, uid, is_async)
    if not isinstance(info.module, str):
        info = dataclasses.replace(info, module=None)
    return dataclasses.replace(info, sender_label=sender_label)


def _sender_label(sender_key: Any, sender_ref: Any, sender: object, receiver: Any) -> str | None:
    """The sender filter of an entry connected before the observer was
    installed (Django keeps only the sender's id): the sender itself when it
    matches, else a model class or a global of the receiver's module with
    that id, else the id."""
    if sender_key == _NONE_ID:
        return None
    if sender_ref is not None and (alive := sender_ref()) is not None:
        return name_of(alive, "__name__")
    if sender_key == _make_id(sender):
        return name_of(sender, "__name__")
    try:
        from django.apps import apps

        candidates = [m for models in list(apps.all_models.values()) for m in models.values()]
        module = sys.modules.get(getattr(receiver, "__module__", None) or "")
        if module is not None:
            candidates.extend(vars(module).values())
        for candidate in candidates:
            if id(candidate) == sender_key:
                return name_of(candidate, "__name__")
    except Exception:  # noqa: BLE001 - the label is a nicety; never break a send for it
        pass
    return f"<sender at {sender_key:#x}>" if isinstance(sender_key, int) else str(sender_key)


_states: dict[int, tuple[weakref.ref[Any], _SignalState]] = {}
_states_lock = threading.Lock()


def _state_of(signal: Any) -> _SignalState:
    found = _states.get(id(signal))
    if found is not None and found[0]() is signal:
        return found[1]
    with _states_lock:
        state = _SignalState()
        if len(_states) > 10_000:
            _states.clear()
        _states[id(signal)] = (weakref.ref(signal), state)
        return state


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


_process: Observation | None = None
_scoped: ContextVar[Observation | None] = ContextVar("sigcli_django_observation", default=None)


def _observation_here() -> Observation | None:
    return _scoped.get() or _process


# -- one send ----------------------------------------------------------------------


class _Send:
    """A send running in this context: what ``_live_receivers`` needs to know
    that it is looked up for this send, and what the stand-ins write to."""

    __slots__ = (
        "signal",
        "sender",
        "named",
        "robust",
        "journal",
        "label",
        "depth",
        "claimed",
        "written",
        "after",
    )

    def __init__(
        self,
        signal: Any,
        sender: object,
        named: dict[str, Any],
        robust: bool,
        journal: Journal,
        label: DjangoSignal,
        depth: int,
        after: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.signal = signal
        self.sender = sender
        self.named = named
        self.robust = robust
        self.journal = journal
        self.label = label
        self.depth = depth
        self.claimed = False
        self.written = False
        self.after = after

    def write_send(self, plan: list[ReceiverPlan]) -> None:
        journal = self.journal
        sender = self.sender
        shown = sender
        if sender is not None and not isinstance(sender, type):
            shown = journal.label_sender(sender)
        kwargs = snapshot_all(journal, self.named)
        journal.write((SEND, get_ident(), self.label, shown, kwargs, plan, self.robust))
        self.written = True


_sending: ContextVar[_Send | None] = ContextVar("sigcli_django_send", default=None)


class _Receiver:
    """Stands in for a receiver during one send: writes its start and end, and
    otherwise looks like it (every attribute is the receiver's)."""

    __slots__ = ("receiver", "info", "send")

    def __init__(self, receiver: Any, info: ReceiverInfo, send: _Send) -> None:
        self.receiver = receiver
        self.info = info
        self.send = send

    def __call__(self, **named: Any) -> Any:
        send = self.send
        journal = send.journal
        thread = get_ident()
        journal.write((CALL, thread, send.label, self.info))
        try:
            result = self.receiver(**named)
        except BaseException as error:
            write_done(journal, thread, send.label, self.info, None, error)  # type: ignore[arg-type]
            raise
        kept = result if type(result) in SCALARS else journal.snapshot(result)
        journal.write((DONE, thread, send.label, self.info, kept, None))
        return result

    def __getattr__(self, name: str) -> Any:
        if name in _Receiver.__slots__:
            raise AttributeError(name)
        return getattr(self.receiver, name)

    def __repr__(self) -> str:
        return repr(self.receiver)


class _AsyncReceiver(_Receiver):
    """The stand-in of an async receiver: calling it gives a coroutine."""

    __slots__ = ()

    def __call__(self, **named: Any) -> Any:
        return self._run(named)

    async def _run(self, named: dict[str, Any]) -> Any:
        send = self.send
        journal = send.journal
        journal.write((CALL, get_ident(), send.label, self.info))
        try:
            result = await self.receiver(**named)
        except BaseException as error:
            write_done(journal, get_ident(), send.label, self.info, None, error)  # type: ignore[arg-type]
            raise
        write_done(journal, get_ident(), send.label, self.info, result, None)  # type: ignore[arg-type]
        return result


def _stand_ins(
    receivers: list[Any], expected: list[tuple[Any, ReceiverInfo]], send: _Send, kind: type
) -> list[Any]:
    """``receivers`` (as Django is about to call them) replaced by stand-ins
    carrying the plan's descriptions. Django's list is expected to be the
    plan's callable receivers in order; one that is not (another tool's
    patch may wrap or drop receivers) is found by identity, then through
    ``__wrapped__``."""
    out = []
    for index, receiver in enumerate(receivers):
        ident = _make_id(receiver)
        if index < len(expected) and expected[index][0] == ident:
            info = expected[index][1]
        else:
            found = _match(receiver, expected)
            if found is None:
                if _muted(send, receiver):
                    continue
                found = _describe(receiver, None, True, None, False)
            info = found
        out.append(kind(receiver, info, send))
    return out


def _muted(send: _Send, receiver: Any) -> bool:
    """Whether ``sigcli.mute`` silences ``receiver`` for this send: the plan
    shows it so, and (wherever the mute's own filter sits) it gets no
    stand-in, so it is not called."""
    muted = observation.muted
    return muted is not None and muted(send.signal, send.sender, receiver)


def _match(receiver: Any, expected: list[tuple[Any, ReceiverInfo]]) -> ReceiverInfo | None:
    target = receiver
    for _hop in range(10):
        ident = _make_id(target)
        for known, info in expected:
            if known == ident:
                return info
        target = getattr(target, "__wrapped__", None)
        if target is None:
            return None
    return None


def _own(responses: Any) -> list[tuple[Any, Any]]:
    """Send's return value with each stand-in replaced by its receiver."""
    return [(r.receiver if isinstance(r, _Receiver) else r, response) for r, response in responses]


# -- the patches --------------------------------------------------------------------


def _early_plan(signal: Any, sender: object) -> list[ReceiverPlan]:
    """The plan of a send that Django ended before looking receivers up."""
    if not signal.receivers:
        return []
    return _state_of(signal).plan_for(signal, sender).plan


def _begin(signal: Any, sender: object, named: dict[str, Any], robust: bool) -> _Send | None:
    """The send about to run here, if it is to be written; None to leave it alone."""
    observation = _scoped.get() or _process
    if observation is None:
        return None
    if _pending and len(sys.modules) != _modules_seen:
        _apply_pending()
    label = signal_label(signal)
    after = None
    if observation.before or observation.after:
        hook = observation.before.get(label.name)
        if hook is not None:
            hook(named)
        after = observation.after.get(label.name)
    if not observation.record_unheard and not signal.receivers and after is None:
        observation.count_unheard(signal)
        return None
    journal = observation.journal
    outer = _sending.get()
    depth = 1 if outer is None else outer.depth + 1
    if journal.max_depth is not None and depth > journal.max_depth:
        journal.too_deep(depth)
    return _Send(signal, sender, named, robust, journal, label, depth, after)


def _finish(send: _Send, error: BaseException | None) -> None:
    if not send.written:
        send.write_send(_early_plan(send.signal, send.sender))
    write_end(send.journal, send.label, error)  # type: ignore[arg-type]
    if send.after is not None:
        send.after(send.named)


def _make_send(original: Callable[..., Any], robust: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    def send(self: Any, sender: object, **named: Any) -> Any:
        running = _begin(self, sender, named, robust)
        if running is None:
            return original(self, sender, **named)
        token = _sending.set(running)
        try:
            responses = original(self, sender, **named)
        except BaseException as error:
            _finish(running, error)
            raise
        finally:
            _sending.reset(token)
        _finish(running, None)
        return _own(responses)

    return send


def _make_asend(original: Callable[..., Any], robust: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    async def asend(self: Any, sender: object, **named: Any) -> Any:
        running = _begin(self, sender, named, robust)
        if running is None:
            return await original(self, sender, **named)
        token = _sending.set(running)
        try:
            responses = await original(self, sender, **named)
        except BaseException as error:
            _finish(running, error)
            raise
        finally:
            _sending.reset(token)
        _finish(running, None)
        return _own(responses)

    return asend


def _make_live_receivers(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def _live_receivers(self: Any, sender: object) -> Any:
        running = _sending.get()
        if (
            running is None
            or running.claimed
            or running.signal is not self
            or running.sender is not sender
        ):
            return original(self, sender)
        running.claimed = True
        made = _state_of(self).plan_for(self, sender)
        live = original(self, sender)
        shown: Any
        if isinstance(live, tuple):
            sync, asynchronous = live
            shown = (
                _stand_ins(sync, made.sync, running, _Receiver),
                _stand_ins(asynchronous, made.asynchronous, running, _AsyncReceiver),
            )
        else:
            shown = _stand_ins(live, made.sync, running, _Receiver)
        running.write_send(made.plan)
        return shown

    return _live_receivers


def _make_connect(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(
        self: Any,
        receiver: Any,
        sender: object = None,
        weak: bool = True,
        dispatch_uid: Any = None,
    ) -> Any:
        before = list(self.receivers)
        result = original(self, receiver, sender, weak, dispatch_uid)
        known = {id(entry) for entry in before}
        added = [entry for entry in self.receivers if id(entry) not in known]
        label = None if sender is None else name_of(sender, "__name__")
        if added:  # not refused as a duplicate
            entry = added[-1]
            info = _describe(receiver, label, weak, dispatch_uid or None, _parse(entry)[3])
            _state_of(self).infos[id(entry)] = (entry, info)
        observation = _observation_here()
        if observation is not None:
            if not added:
                info = _describe(receiver, label, weak, dispatch_uid or None, False)
            key = (dispatch_uid or _make_id(receiver), _make_id(sender))
            held = None if added else next((e for e in before if _parse(e)[0] == key), None)
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
    stored = _parse(held)[1]
    holder = stored() if isinstance(stored, weakref.ReferenceType) else stored
    if holder is None or _make_id(holder) == _make_id(receiver):
        return ConnectionOutcome.ALREADY_CONNECTED, None
    known = _state_of(signal).infos.get(id(held))
    info = known[1] if known is not None and known[0] is held else None
    return ConnectionOutcome.DISPATCH_UID_TAKEN, info or _describe(holder, None, True, None, False)


def _make_disconnect(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def disconnect(
        self: Any, receiver: Any = None, sender: object = None, dispatch_uid: Any = None
    ) -> Any:
        before = list(self.receivers)
        result = original(self, receiver, sender, dispatch_uid)
        observation = _observation_here()
        if observation is not None:
            remaining = {id(entry) for entry in self.receivers}
            removed = [entry for entry in before if id(entry) not in remaining]
            label = None if sender is None else name_of(sender, "__name__")
            for entry in removed:
                known = _state_of(self).infos.get(id(entry))
                info = known[1] if known is not None and known[0] is entry else None
                if info is None:
                    info = _describe(receiver, label, True, dispatch_uid or None, False)
                _report(observation, self, info, ConnectionOutcome.DISCONNECTED, None)
            if not removed and receiver is not None:
                info = _describe(receiver, label, True, dispatch_uid or None, False)
                _report(observation, self, info, ConnectionOutcome.NOT_FOUND, None)
        return result

    return disconnect


#: Django's own frames: the line that asked for a connect is outside them.
_DJANGO_FOLDERS: tuple[str, ...] = ()


def _report(
    observation: Observation,
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


_PATCHES: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "send": lambda f: _make_send(f, robust=False),
    "send_robust": lambda f: _make_send(f, robust=True),
    "asend": lambda f: _make_asend(f, robust=False),
    "asend_robust": lambda f: _make_asend(f, robust=True),
    "_live_receivers": _make_live_receivers,
    "connect": _make_connect,
    "disconnect": _make_disconnect,
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
    global _install_count
    with _install_lock:
        _install_count += 1
        if _install_count > 1:
            return
        from django.dispatch import Signal

        for name, make in _PATCHES.items():
            _patch(Signal, name, make)
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
