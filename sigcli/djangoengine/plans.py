"""What the Django observer shows of a send: the name of each Django signal,
and each send's plan (every connected receiver with its decision), kept per
signal and sender until the receivers change.

A plan is made once per (signal, sender) and reused while nothing it
depends on changed: for a caching signal (the seven model signals), while
Django answers the sender from the same cache entry (Django drops its
cache on every connect, disconnect and receiver's death, which is the
generation a plan follows); otherwise while ``receivers`` holds the same
entries. A change of ``sigcli.mute``'s rules remakes every plan.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sigcli import observation
from sigcli.djangoengine.entries import NONE_ID, Entry, make_id, read_entry
from sigcli.observation import Decision, ReceiverInfo, ReceiverPlan, describe, name_of

__all__ = ["DjangoSignal", "Plan", "describe_receiver", "name_signal", "signal_label", "state_of"]


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
        label = _labels[id(signal)] = DjangoSignal(signal, name)
    state = _states.get(id(signal))
    if state is not None and state.signal() is signal:
        state.label = label


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


# -- describing receivers ----------------------------------------------------------


def describe_receiver(
    receiver: Any, sender_label: str | None, weak: bool, uid: Any, is_async: bool
) -> ReceiverInfo:
    """``receiver`` as a trace names it (a dead one as ``<dead receiver>``)."""
    if receiver is None:
        return ReceiverInfo("<dead receiver>", None, None, None, sender_label, weak, uid, is_async)
    info = describe(receiver, None, weak, uid, is_async)
    if not isinstance(info.module, str):
        info = dataclasses.replace(info, module=None)
    return dataclasses.replace(info, sender_label=sender_label)


def _sender_label(entry: Entry, sender: object, receiver: Any) -> str | None:
    """The sender filter of an entry connected before the observer was
    installed (Django keeps only the sender's id): the sender itself when it
    matches, else a model class or a global of the receiver's module with
    that id, else the id."""
    sender_key = entry.key[1]
    if sender_key == NONE_ID:
        return None
    if entry.sender_ref is not None and (alive := entry.sender_ref()) is not None:
        return name_of(alive, "__name__")
    if sender_key == make_id(sender):
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


# -- plans -------------------------------------------------------------------------


class Plan:
    """One sender's view of a signal's receivers: the plan the trace shows,
    and each receiver to be called with its description, in the order
    Django calls them (sync ones first on 5.0+).

    ``ids`` are the Django identities of the sync receivers to call (``id()``
    when none is a bound method, ``plain``), to check at a glance that Django
    is about to call exactly those; ``direct`` is false for a plan with
    async receivers, and turns false once Django was not about to call the
    planned ones (another tool's ``_live_receivers`` wraps them). ``kept``:
    the plan is kept for later sends.
    """

    __slots__ = (
        "state",
        "mute_changes",
        "plan",
        "sync",
        "asynchronous",
        "infos",
        "ids",
        "resolvers",
        "plain",
        "direct",
        "kept",
        "cache",
        "sender",
    )

    def __init__(
        self,
        state: SignalState,
        plan: list[ReceiverPlan],
        sync: list[tuple[Any, ReceiverInfo]],
        asynchronous: list[tuple[Any, ReceiverInfo]],
        resolvers: list[Callable[[], Any]],
        plain: bool,
        sender: weakref.ref[Any] | None,
    ) -> None:
        self.state = state
        #: The count of mute changes it was made under.
        self.mute_changes = state.mute_changes
        self.plan = plan
        self.sync = sync
        self.asynchronous = asynchronous
        self.infos = [info for _ident, info in sync]
        self.ids = [ident for ident, _info in sync]
        #: Per sync receiver to call: its weak reference, or (connected with
        #: ``weak=False``) a function that gives it.
        self.resolvers = resolvers
        self.plain = plain
        self.direct = not asynchronous
        self.kept = False
        #: Django's cache entry for the sender this plan was checked against.
        self.cache: Any = None
        self.sender = sender

    def resolve(self) -> list[Any] | None:
        """The sync receivers to call, as Django's own lookup gives them
        while the plan is current; None if one has died meanwhile."""
        live = []
        for resolver in self.resolvers:
            receiver = resolver()
            if receiver is None:
                return None
            live.append(receiver)
        return live


class SignalState:
    """Per Django signal: its label, the receivers entries the plans were
    made from (a copy, which also keeps their ids from being reused), each
    entry's description (taken at connect while installed, else at its
    first send), and the plans by sender."""

    __slots__ = (
        "signal",
        "label",
        "entries",
        "infos",
        "plans",
        "mute_changes",
        "seen",
        "seen_list",
    )

    def __init__(self, signal: Any, label: DjangoSignal) -> None:
        self.signal = weakref.ref(signal)
        self.label = label
        #: ``receivers`` as connect and disconnect left it, while observed
        #: (None until then): what differs was edited by hand.
        self.seen: list[Any] | None = None
        #: The list object itself: replaced (``signal.receivers = [...]``),
        #: a send stops taking the quick way until the edit is noticed.
        self.seen_list: list[Any] | None = None
        self.entries: list[Any] = []
        self.infos: dict[int, tuple[Any, ReceiverInfo]] = {}
        self.plans: dict[int, Plan] = {}
        self.mute_changes = observation.mute_changes

    def plan_for(self, signal: Any, sender: object, cached: Any = None) -> Plan:
        """The plan of a send by ``sender``; ``cached`` is what Django's
        per-sender cache holds for it (None for no entry, or no cache)."""
        made = self.plans.get(id(sender))
        if (
            made is not None
            and not signal._dead_receivers
            and self.mute_changes == observation.mute_changes
        ):
            if cached is not None and made.cache is cached:
                return made
            if (
                made.sender is None or made.sender() is sender
            ) and signal.receivers == self.entries:
                made.cache = cached
                return made
        return self._make(signal, sender, cached)

    def _make(self, signal: Any, sender: object, cached: Any) -> Plan:
        receivers = signal.receivers
        dead = getattr(signal, "_dead_receivers", False)
        current = receivers == self.entries and self.mute_changes == observation.mute_changes
        if not current or dead:
            self._refresh(receivers)
        muted = observation.muted
        sender_key = make_id(sender)
        plan: list[ReceiverPlan] = []
        sync: list[tuple[Any, ReceiverInfo]] = []
        asynchronous: list[tuple[Any, ReceiverInfo]] = []
        resolvers: list[Callable[[], Any]] = []
        plain = True
        for raw in receivers:
            entry = read_entry(raw)
            info = self._info(raw, entry, sender)
            live = entry.receiver
            if entry.key[1] != NONE_ID and entry.key[1] != sender_key:
                decision = Decision.SKIP_SENDER
            elif live is None:
                decision = Decision.SKIP_DEAD
            elif entry.sender_dead:
                decision = Decision.SKIP_DEAD_SENDER
            elif muted is not None and muted(signal, sender, live):
                decision = Decision.SKIP_MUTED
            else:
                decision = Decision.CALL
                ident = make_id(live)
                plain = plain and not isinstance(ident, tuple)
                if entry.is_async:
                    asynchronous.append((ident, info))
                else:
                    sync.append((ident, info))
                    stored = entry.stored
                    resolvers.append(stored if entry.weak else itertools.repeat(stored).__next__)
            plan.append(ReceiverPlan(info, decision))
        try:
            sender_ref: weakref.ref[Any] | None = weakref.ref(sender)
        except TypeError:  # None, a string...: kept by its id
            sender_ref = None
        made = Plan(self, plan, sync, asynchronous, resolvers, plain, sender_ref)
        if not dead and receivers == self.entries:
            if len(self.plans) > 1000:
                self.plans.clear()
            made.cache = cached
            made.kept = True
            self.plans[id(sender)] = made
        return made

    def _refresh(self, receivers: list[Any]) -> None:
        """The entries (or the mutes) changed: forget plans, and
        descriptions of entries gone."""
        self.entries = list(receivers)
        self.mute_changes = observation.mute_changes
        present = {id(entry) for entry in self.entries}
        self.infos = {k: v for k, v in self.infos.items() if k in present}
        self.plans = {}

    def _info(self, raw: Any, entry: Entry, sender: object) -> ReceiverInfo:
        known = self.infos.get(id(raw))
        if known is not None and known[0] is raw:
            return known[1]
        receiver = entry.receiver
        if receiver is not None:
            uid = None if entry.key[0] == make_id(receiver) else entry.key[0]
        else:
            uid = entry.key[0] if isinstance(entry.key[0], str) else None
        info = describe_receiver(
            receiver, _sender_label(entry, sender, receiver), entry.weak, uid, entry.is_async
        )
        self.infos[id(raw)] = (raw, info)
        return info

    def edits_by_hand(self, receivers: list[Any]) -> list[tuple[ReceiverInfo, bool]]:
        """Entries taken off ``receivers`` (False) or put on it (True) since
        it was last seen, other than by connect and disconnect: by hand, as
        factory_boy's ``mute_signals`` does. Entries of dead receivers that
        Django pruned are not edits; a new order alone is none either."""
        seen = self.seen
        self.saw(receivers)
        if seen is None or seen == receivers:
            return []
        self._refresh(receivers)  # plans made before the edit are stale
        before = {id(raw) for raw in seen}
        after = {id(raw) for raw in receivers}
        edits = []
        for raw in seen:
            entry = read_entry(raw)
            if id(raw) not in after and entry.receiver is not None:
                edits.append((self._info(raw, entry, None), False))
        for raw in receivers:
            if id(raw) not in before:
                edits.append((self._info(raw, read_entry(raw), None), True))
        return edits

    def saw(self, receivers: list[Any]) -> None:
        """Note ``receivers`` as connect or disconnect left it."""
        self.seen = list(receivers)
        self.seen_list = receivers

    def remember(self, raw: Any, info: ReceiverInfo) -> None:
        """Keep ``info`` as the description of the entry ``raw`` (at connect)."""
        self.infos[id(raw)] = (raw, info)

    def known(self, raw: Any) -> ReceiverInfo | None:
        """The description kept for the entry ``raw``, if any."""
        found = self.infos.get(id(raw))
        return found[1] if found is not None and found[0] is raw else None


_states: dict[int, SignalState] = {}
_states_lock = threading.Lock()


def see_receivers() -> None:
    """Start noticing edits by hand from the receivers as they are now (an
    observation begins: what changed while nobody watched was not seen)."""
    for state in list(_states.values()):
        signal = state.signal()
        if signal is not None:
            state.saw(signal.receivers)


def state_of(signal: Any) -> SignalState:
    """The one :class:`SignalState` of ``signal``."""
    state = _states.get(id(signal))
    if state is not None and state.signal() is signal:
        return state
    label = signal_label(signal)
    with _states_lock:
        state = SignalState(signal, label)
        if len(_states) > 10_000:
            _states.clear()
        _states[id(signal)] = state
        return state
