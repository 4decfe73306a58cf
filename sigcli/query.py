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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sigcli.text import printable
from sigcli.trace import INIT_SIGNALS, Dispatch, Node, Operation, Trace
from sigcli.tracefile import node_json


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

    def to_json(self) -> str:
        """The selection for ``--format json``: each dispatch with its path,
        without the nested dispatches (those that match are listed themselves)."""
        return "".join(self.json_chunks())

    def json_chunks(self) -> Iterator[str]:
        """The text of :meth:`to_json` one dispatch at a time, so that a
        selection of 300,000 dispatches is never held as one string."""
        head = {"filter": self.filters.describe(), "shown": len(self.matches), "total": self.total}
        yield json.dumps(head, indent=1, ensure_ascii=False)[:-2] + ',\n "dispatches": ['
        for index, match in enumerate(self.matches):
            item = {"path": list(match.path), **node_json(match.dispatch, children=False)}
            text = json.dumps(item, indent=1, ensure_ascii=False).replace("\n", "\n  ")
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


def select(traces: list[Trace], filters: Filters, *, show_all: bool = False) -> Selection:
    """The dispatches that pass ``filters``.

    Init signals that called no receiver and the setup section take part only
    with ``show_all`` (or, for init signals, when ``--signal`` names them).
    """
    creating = _creating_saves(traces) if filters.instance is not None else {}
    _check_names(list(located(traces, setup=show_all)), filters, creating)
    wanted_inits = INIT_SIGNALS & set(filters.signals)
    candidates = [
        m
        for m in located(traces, setup=show_all)
        if show_all
        or m.dispatch.signal in wanted_inits
        or m.dispatch.signal not in INIT_SIGNALS
        or any(c.called for c in m.dispatch.receivers)
    ]
    selection = Selection(filters, total=len(candidates))
    if filters.senders:
        selection.hidden_by = "sender"
    elif filters.signals:
        selection.hidden_by = "signal"
    for match in candidates:
        if _passes(match.dispatch, filters, creating):
            selection.matches.append(match)
        elif selection.hidden_by == "sender":
            selection.hidden[str(match.dispatch.sender)] += 1
        elif selection.hidden_by == "signal":
            selection.hidden[match.dispatch.signal] += 1
    return selection


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


def _passes(dispatch: Dispatch, filters: Filters, creating: dict[int, Any]) -> bool:
    if filters.senders and not _named(dispatch.sender, filters.senders):
        return False
    if filters.signals and not _named(dispatch.signal, filters.signals):
        return False
    if filters.receiver is not None:
        needle = filters.receiver.lower()
        if not any(needle in printable(call.name).lower() for call in dispatch.receivers):
            return False
    if filters.instance is not None:
        model, _, pk = filters.instance.partition(":")
        if _instance_key(dispatch, creating) != (model, pk):
            return False
    return True


def _named(name: str | None, names: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``names``, as shown (escaped) or as recorded."""
    return name is not None and (name in names or printable(name) in names)


def _check_names(matches: list[Match], filters: Filters, creating: dict[int, Any]) -> None:
    recorded = {m.dispatch.sender for m in matches if m.dispatch.sender is not None}
    senders = sorted({printable(s) for s in recorded})
    for name in filters.senders:
        if name not in senders and name not in recorded:
            raise UnknownName("--sender", name, senders, "sender")
    from sigcli.signals import BUILTIN_SIGNALS

    builtin = {signal.name for signal in BUILTIN_SIGNALS if signal.name}
    signals_recorded = {m.dispatch.signal for m in matches} | builtin
    signals = sorted({printable(s) for s in signals_recorded})
    for name in filters.signals:
        if name not in signals and name not in signals_recorded:
            raise UnknownName("--signal", name, signals, "signal")
    if filters.receiver is not None:
        if not filters.receiver.strip():
            raise FilterError("--receiver", "give part of a receiver's name.")
        receivers = sorted({printable(c.name) for m in matches for c in m.dispatch.receivers})
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
