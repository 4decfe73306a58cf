"""Choosing dispatches out of recorded traces: ``sigcli trace --sender User``.

A filter names senders, signals, a receiver or an instance. Names are
checked against what the traces contain, so a typo is an error that lists
the known names (with a close match), never an empty result that looks like
"nothing happened".
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sigcli.text import printable
from sigcli.trace import INIT_SIGNALS, Dispatch, Node, Operation, Trace
from sigcli.tracefile import indented, node_json

if TYPE_CHECKING:
    from sigcli.skim import NodeDigest, Tally


class FilterError(LookupError):
    """A filter option that cannot be applied; ``option`` names it."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(message)


class UnknownName(FilterError):
    """A filter names something the trace does not contain."""

    def __init__(self, option: str, name: str, known: list[str], what: str) -> None:
        message = f"no {what} named {name!r} in this trace."
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close:
            message += f" Did you mean {close[0]!r}?"
        message += f"\nKnown {what}s: {', '.join(known) if known else 'none'}"
        super().__init__(option, message)


@dataclass(frozen=True, slots=True)
class Filters:
    senders: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    receiver: str | None = None
    instance: str | None = None

    def describe(self) -> str:
        parts = [f"sender={s}" for s in self.senders] + [f"signal={s}" for s in self.signals]
        if self.receiver:
            parts.append(f"receiver~{self.receiver}")
        if self.instance:
            parts.append(f"instance={self.instance}")
        return ", ".join(parts) or "none"


@dataclass(frozen=True, slots=True)
class Match:
    """A dispatch, the path to where it happened, and its scenario when the
    traces hold several."""

    dispatch: Dispatch
    path: tuple[str, ...]
    scenario: str | None = None


@dataclass(slots=True)
class Selection:
    filters: Filters
    matches: list[Match] = field(default_factory=list)
    total: int = 0
    hidden: Counter[str] = field(default_factory=Counter)
    hidden_by: str = ""
    #: Dispatches that passed but were not read, being past what the view draws.
    unread: int = 0

    @property
    def passed(self) -> int:
        """How many dispatches passed the filters, read or not."""
        return len(self.matches) + self.unread

    def to_json(self) -> str:
        """The selection for ``--format json``: each dispatch with its path,
        without the nested dispatches (those that match are listed themselves)."""
        return "".join(self.json_chunks())

    def json_chunks(self) -> Iterator[str]:
        """The text of :meth:`to_json` one dispatch at a time, so that a
        selection of 300,000 dispatches is never held as one string."""
        head = {"filter": self.filters.describe(), "shown": self.passed, "total": self.total}
        yield json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ',\n "dispatches": ['
        for index, match in enumerate(self.matches):
            item = {"path": list(match.path), **node_json(match.dispatch, children=False)}
            text = indented(item).replace("\n", "\n  ")
            yield ("\n  " if index == 0 else ",\n  ") + text
        yield "\n ]\n}" if self.matches else "]\n}"

    def hidden_note(self) -> str:
        """``" (sender User ×6)"``: what the hidden dispatches were, by the first filter."""
        if not self.hidden or not self.hidden_by:
            return ""
        parts = [f"{name} ×{n}" if n > 1 else name for name, n in self.hidden.most_common()]
        return f" ({self.hidden_by} {', '.join(parts)})"


def instance_of(dispatch: Dispatch) -> Any:
    return dispatch.kwargs.get("instance")


def located(traces: list[Trace], *, setup: bool = False) -> Iterator[Match]:
    """Every dispatch with the path of steps, operations, dispatches and
    receivers above it, in send order."""
    several = len(traces) > 1
    for trace in traces:
        name = (trace.scenario or "capture") if several else None
        prefix: tuple[str, ...] = (name,) if name else ()
        if setup:
            yield from _walk(trace.setup, (*prefix, "setup"), name)
        for number, step in enumerate(trace.steps, 1):
            yield from _walk(step.children, (*prefix, f"{number} · {step.label}"), name)


def _walk(nodes: list[Node], path: tuple[str, ...], scenario: str | None) -> Iterator[Match]:
    for node in nodes:
        if isinstance(node, Dispatch):
            yield Match(node, path, scenario)
            here = f"{node.signal} {node.sender}" if node.sender else node.signal
            for call in node.receivers:
                yield from _walk(call.children, (*path, here, call.name), scenario)
        elif isinstance(node, Operation):
            yield from _walk(node.children, (*path, node.label), scenario)


class _Heard(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def called(self) -> bool: ...


class _Sent(Protocol):
    """What filters read of a dispatch: a record, or a file's digest of one."""

    @property
    def signal(self) -> str | None: ...
    @property
    def sender(self) -> str | None: ...
    @property
    def receivers(self) -> Sequence[_Heard]: ...


def select(
    traces: list[Trace], filters: Filters, *, show_all: bool = False, unread: Unread | None = None
) -> Selection:
    """The dispatches that pass ``filters``, with the counts of those a
    filtered read left ``unread`` (see :func:`select_saved`).

    Init signals that called no receiver and the setup section take part only
    with ``show_all`` (or, for init signals, when ``--signal`` names them).
    """
    unread = unread or Unread(filters, show_all=show_all)
    creating = _creating_saves(traces) if filters.instance is not None else {}
    _check_names(list(located(traces, setup=show_all)), filters, creating, unread)
    candidates = [m for m in located(traces, setup=show_all) if unread.candidate(m.dispatch)]
    selection = Selection(filters, total=len(candidates) + unread.total, unread=unread.passed)
    selection.hidden_by = _hidden_by(filters)
    selection.hidden.update(unread.hidden)
    for match in candidates:
        if _passes(match.dispatch, filters, creating):
            selection.matches.append(match)
        elif selection.hidden_by:
            selection.hidden[_hidden_name(match.dispatch, selection.hidden_by)] += 1
    if unread.first_seen:  # as if every node had been read, in send order
        order = sorted(selection.hidden, key=unread.first_seen.__getitem__)
        selection.hidden = Counter({name: selection.hidden[name] for name in order})
    return selection


def select_saved(
    path: Path, filters: Filters, *, show_all: bool = False, limit: int = 0
) -> tuple[list[Trace], Selection]:
    """:func:`select` on a trace file, reading only what a view of ``limit``
    dispatches (0: all) draws: the step-level nodes holding the first
    ``limit`` that pass, and the setup. The other nodes are only counted, so
    a trace of 300,000 dispatches is never all records at once. A filter on
    an instance needs every save beside its own, and reads everything."""
    from sigcli import tracefile

    if filters.instance is None and filters != Filters():
        from sigcli import skim

        unread = Unread(filters, show_all=show_all, limit=limit)
        traces = skim.skim(path, unread)
        if traces is not None:
            return traces, select(traces, filters, show_all=show_all, unread=unread)
    traces = tracefile.load(path)
    return traces, select(traces, filters, show_all=show_all)


def _hidden_by(filters: Filters) -> str:
    """What the dispatches a filter hides are counted by: its first filter."""
    return "sender" if filters.senders else "signal" if filters.signals else ""


def _hidden_name(dispatch: _Sent, hidden_by: str) -> str:
    return str(dispatch.sender) if hidden_by == "sender" else str(dispatch.signal)


@dataclass(slots=True)
class Unread:
    """The names and counts of dispatches in nodes a filtered read left out.

    :meth:`keep` is given each step-level node's digest in order; it keeps
    the nodes that hold a dispatch that passes, until ``limit`` of those
    are kept (0: no limit), and counts the dispatches of the others as
    :func:`select` would have. A run saved with its census is counted from
    it instead (:meth:`settle`): the census, less what the kept nodes hold.
    """

    filters: Filters
    show_all: bool = False
    limit: int = 0
    kept: int = 0
    total: int = 0
    passed: int = 0
    hidden: Counter[str] = field(default_factory=Counter)
    senders: set[str] = field(default_factory=set)
    signals: set[str] = field(default_factory=set)
    receivers: set[str] = field(default_factory=set)
    #: The names hidden dispatches are counted by, in the order they first come.
    first_seen: dict[str, int] = field(default_factory=dict)
    #: (takes part whatever its receivers did, passes, counted as) by what decides them.
    _verdicts: dict[tuple[Any, ...], tuple[bool, bool, str | None]] = field(default_factory=dict)
    #: Whether the current run is counted from its census, and what the
    #: nodes kept of it hold.
    _counted: bool = False
    _kept_total: int = 0
    _kept_passed: int = 0
    _kept_hidden: Counter[str] = field(default_factory=Counter)

    def candidate(self, dispatch: _Sent) -> bool:
        """Whether ``dispatch`` takes part (see :func:`select`)."""
        return self._takes_part(dispatch.signal) or any(c.called for c in dispatch.receivers)

    def _takes_part(self, signal: str | None) -> bool:
        return self.show_all or signal not in INIT_SIGNALS or signal in self.filters.signals

    def begin(self, census: list[Tally] | None) -> None:
        """A run starts: with a ``census``, it is counted by :meth:`settle`."""
        self._counted = census is not None
        self._kept_total = self._kept_passed = 0
        self._kept_hidden = Counter()

    def satisfied(self) -> bool:
        """Whether ``limit`` matches are kept: no further node would be."""
        return bool(self.limit) and self.kept >= self.limit

    def keep(self, node: NodeDigest, always: bool = False) -> bool:
        """Whether to read ``node`` in full; if not, its dispatches are counted
        here (unless the run's census counts them). A node read ``always``
        (setup) is only looked at.

        The verdict on a dispatch depends on its signal and sender (and its
        receivers' names for ``--receiver``), and is reckoned once for each.
        Nodes are walked in send order, to note the order in which the names
        of hidden dispatches first come.
        """
        if always and not self.show_all:
            return True  # setup takes part only with show_all
        by_names = self.filters.receiver is not None
        verdicts = self._verdicts
        first_seen = self.first_seen
        total = passed = 0
        hidden: list[str] = []
        pending = [node]
        while pending:
            item = pending.pop()
            if item.type != "dispatch":
                if item.children:
                    pending.extend(reversed(item.children))
                continue
            receivers = item.receivers
            key: tuple[Any, ...] = (item.signal, item.sender)
            if by_names:
                key += tuple(c.name for c in receivers)
            verdict = verdicts.get(key) or self._verdict(key, item)
            if verdict[0] or any(c.called for c in receivers):
                total += 1
                if verdict[1]:
                    passed += 1
                elif verdict[2] is not None:
                    hidden.append(verdict[2])
                    first_seen.setdefault(verdict[2], len(first_seen))
            for call in reversed(receivers):
                if call.children:
                    pending.extend(reversed(call.children))
        if always:
            return True
        if passed and not self.satisfied():
            self.kept += passed
            if self._counted:
                self._kept_total += total
                self._kept_passed += passed
                self._kept_hidden.update(hidden)
            return True
        if not self._counted:
            self.total += total
            self.passed += passed
            self.hidden.update(hidden)
        return False

    def settle(self, census: list[Tally]) -> None:
        """Count the run's dispatches that were not kept from its ``census``:
        every dispatch of its steps, less those in the nodes kept."""
        from sigcli.skim import NodeDigest, ReceiverDigest

        by_names = self.filters.receiver is not None
        total = passed = 0
        hidden: Counter[str] = Counter()
        for tally in census:
            key: tuple[Any, ...] = (tally.signal, tally.sender)
            if by_names:
                key += tuple(tally.receivers)
            verdict = self._verdicts.get(key)
            if verdict is None:
                receivers = [ReceiverDigest(name) for name in tally.receivers]
                digest = NodeDigest("dispatch", tally.signal, tally.sender, receivers)
                verdict = self._verdict(key, digest)
            if verdict[0] or tally.called:
                total += tally.count
                if verdict[1]:
                    passed += tally.count
                elif verdict[2] is not None:
                    hidden[verdict[2]] += tally.count
                    self.first_seen.setdefault(verdict[2], len(self.first_seen))
        self.total += total - self._kept_total
        self.passed += passed - self._kept_passed
        hidden.subtract(self._kept_hidden)
        self.hidden.update(+hidden)

    def _verdict(self, key: tuple[Any, ...], dispatch: NodeDigest) -> tuple[bool, bool, str | None]:
        """The verdict on dispatches like ``dispatch``; their names are noted
        for the check that a filter names something recorded."""
        if dispatch.sender is not None:
            self.senders.add(dispatch.sender)
        if dispatch.signal is not None:
            self.signals.add(dispatch.signal)
        self.receivers.update(c.name for c in dispatch.receivers)
        hidden_by = _hidden_by(self.filters)
        verdict = (
            self._takes_part(dispatch.signal),
            _passes(dispatch, self.filters, {}),
            _hidden_name(dispatch, hidden_by) if hidden_by else None,
        )
        self._verdicts[key] = verdict
        return verdict


def _creating_saves(traces: list[Trace]) -> dict[int, Any]:
    """The pk each creating ``pre_save`` turned out to have, by ``id()`` of the dispatch.

    A new instance has no pk when ``pre_save`` is sent; the ``post_save``
    with ``created=True`` that follows it among the same siblings (the same
    ``save()``) has it, and it is the same instance.
    """
    found: dict[int, Any] = {}
    pending: list[list[Node]] = []
    for trace in traces:
        pending.append(trace.setup)
        pending.extend(step.children for step in trace.steps)
    while pending:
        nodes = pending.pop()
        waiting: dict[str, Dispatch] = {}
        for node in nodes:
            if isinstance(node, Operation):
                pending.append(node.children)
                continue
            if not isinstance(node, Dispatch):
                continue
            pending.extend(call.children for call in node.receivers)
            instance = instance_of(node)
            if not isinstance(instance, dict) or not isinstance(instance.get("model"), str):
                continue
            model = instance["model"]
            if node.signal == "pre_save" and instance.get("pk") is None:
                waiting[model] = node
            elif node.signal == "post_save" and model in waiting:
                if node.kwargs.get("created") is True:
                    found[id(waiting[model])] = instance.get("pk")
                del waiting[model]
    return found


def _instance_key(dispatch: Dispatch, creating: dict[int, Any]) -> tuple[str, str] | None:
    """``("User", "1")``: the model and pk a dispatch is about, if any."""
    instance = instance_of(dispatch)
    if not isinstance(instance, dict) or not isinstance(instance.get("model"), str):
        return None
    pk = creating.get(id(dispatch), instance.get("pk"))
    return instance["model"], str(pk)


def _passes(dispatch: _Sent, filters: Filters, creating: dict[int, Any]) -> bool:
    if filters.senders and not _named(dispatch.sender, filters.senders):
        return False
    if filters.signals and not _named(dispatch.signal, filters.signals):
        return False
    if filters.receiver is not None:
        needle = filters.receiver.lower()
        if not any(needle in printable(call.name).lower() for call in dispatch.receivers):
            return False
    if filters.instance is not None:
        assert isinstance(dispatch, Dispatch)  # select_saved reads every record for it
        model, _, pk = filters.instance.partition(":")
        if _instance_key(dispatch, creating) != (model, pk):
            return False
    return True


def _named(name: str | None, names: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``names``, as shown (escaped) or as recorded."""
    return name is not None and (name in names or printable(name) in names)


def _check_names(
    matches: list[Match], filters: Filters, creating: dict[int, Any], unread: Unread
) -> None:
    recorded = {m.dispatch.sender for m in matches if m.dispatch.sender is not None}
    recorded |= unread.senders
    senders = sorted({printable(s) for s in recorded})
    for name in filters.senders:
        if name not in senders and name not in recorded:
            raise UnknownName("--sender", name, senders, "sender")
    from sigcli.signals import BUILTIN_SIGNALS

    builtin = {signal.name for signal in BUILTIN_SIGNALS if signal.name}
    signals_recorded = {m.dispatch.signal for m in matches} | unread.signals | builtin
    signals = sorted({printable(s) for s in signals_recorded})
    for name in filters.signals:
        if name not in signals and name not in signals_recorded:
            raise UnknownName("--signal", name, signals, "signal")
    if filters.receiver is not None:
        if not filters.receiver.strip():
            raise FilterError("--receiver", "give part of a receiver's name.")
        names = {c.name for m in matches for c in m.dispatch.receivers} | unread.receivers
        receivers = sorted({printable(name) for name in names})
        if not any(filters.receiver.lower() in r.lower() for r in receivers):
            raise UnknownName("--receiver", filters.receiver, receivers, "receiver")
    if filters.instance is not None:
        model, colon, pk = filters.instance.partition(":")
        models = sorted(
            {
                i["model"]
                for m in matches
                if isinstance(i := instance_of(m.dispatch), dict)
                and isinstance(i.get("model"), str)
            }
        )
        if not colon or not model or not pk:
            raise FilterError(
                "--instance", f"expected MODEL:PK, for example {models[0] if models else 'User'}:1"
            )
        if model not in models:
            raise UnknownName("--instance", model, models, "model")
        keys = {_instance_key(m.dispatch, creating) for m in matches}
        pks = sorted({key[1] for key in keys if key is not None and key[0] == model})
        if pk not in pks:
            raise UnknownName(
                "--instance", filters.instance, [f"{model}:{p}" for p in pks], "instance"
            )
