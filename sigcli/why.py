"""Why a receiver did or did not run: verdicts read from a recorded trace.

Everything here is a pure function of :class:`~sigcli.trace.Trace` records
(dispatches with every receiver they considered, and the connections made
while the run happened), so that it works the same on a fresh run, a saved
trace file and a trace recorded from Django. Each verdict carries its
evidence (dispatches by ``seq``, the connect's file and line) and what to
change. Nothing here draws anything.

Finding the receiver and the causes a trace proves are
:mod:`sigcli.evidence`'s; the short notes beside the tree, :mod:`sigcli.hints`'s.
Their public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigcli.evidence import (
    ReceiverId,
    ancestors,
    connected_again,
    defined_functions,
    find,
    is_table_of,
    known_receivers,
    m2m_relation,
    ordered_dispatches,
    receiver_id,
    refused_arguments,
    refused_at,
    sender_hint,
    short_path,
    silent_writes,
    suggestions,
)
from sigcli.hints import hints, receiver_flags
from sigcli.trace import (
    Connection,
    ConnectionOutcome,
    Dispatch,
    ReceiverCall,
    SkipReason,
    Trace,
)

__all__ = [
    "DELETE_SIGNALS",
    "REASONS",
    "SAVE_SIGNALS",
    "AmbiguousReceiver",
    "Answer",
    "ReceiverId",
    "Verdict",
    "ancestors",
    "defined_functions",
    "dumps",
    "explain",
    "find",
    "hints",
    "known_receivers",
    "m2m_relation",
    "receiver_flags",
    "refused_arguments",
    "refused_at",
    "sender_hint",
    "suggestions",
]

#: Every reason code, in the order verdicts are listed.
REASONS = (
    "ran",
    "raised",
    "not_connected",
    "other_signal",
    "sender_mismatch",
    "dead_reference",
    "duplicate_dispatch_uid",
    "duplicate_connection",
    "no_signal_for_operation",
    "not_reached",
    "connected_after",
    "disconnected",
    "muted",
)


SAVE_SIGNALS = frozenset({"pre_save", "post_save"})


DELETE_SIGNALS = frozenset({"pre_delete", "post_delete"})


#: Bulk ORM calls that write rows without calling ``save()``: the signals they skip.
_SILENT_OPERATIONS = (
    (".update(", "update()", SAVE_SIGNALS),
    (".bulk_create(", "bulk_create()", SAVE_SIGNALS),
    (".bulk_update(", "bulk_update()", SAVE_SIGNALS),
)


#: How many dispatches a verdict's text names before it counts the rest.
_NAMED = 8


@dataclass(slots=True)
class Verdict:
    """One reason that applies, with the dispatches it is about."""

    reason: str
    detail: str
    fix: str | None = None
    dispatches: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "dispatches": self.dispatches,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass(slots=True)
class Answer:
    """What ``sigcli why RECEIVER`` found: the receiver (None if no trace
    names it), its verdicts, and names close to the one asked for."""

    query: str
    receiver: ReceiverId | None
    verdicts: list[Verdict]
    suggestions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        receiver = None
        if self.receiver is not None:
            receiver = {
                "name": self.receiver.name,
                "module": self.receiver.module,
                "file": self.receiver.file,
                "line": self.receiver.line,
            }
        return {
            "receiver": receiver if receiver is not None else self.query,
            "verdicts": [v.to_json() for v in self.verdicts],
            "suggestions": self.suggestions,
        }


class AmbiguousReceiver(ValueError):
    """RECEIVER names more than one function; the message lists them."""


# -- the verdicts -------------------------------------------------------------------


def explain(query: str, traces: list[Trace], project_files: Iterable[Path] = ()) -> Answer:
    """The verdicts for the receiver ``query`` names in ``traces``.

    ``project_files`` are searched (as text) for a function of that name when
    no trace mentions it, to tell "never connected" from "misspelt".
    Raises :class:`AmbiguousReceiver` when ``query`` names several functions.
    """
    candidates = known_receivers(traces)
    matches = find(query, candidates)
    if len({(m.name, m.file, m.line) for m in matches}) > 1:
        listed = ", ".join(f"{m.name} at {m.file}:{m.line}" for m in matches)
        raise AmbiguousReceiver(
            f"{query!r} names several receivers: {listed}. Pass FILE:LINE to choose one."
        )
    if not matches:
        defined = defined_functions(project_files)
        verdict = _not_connected(query, defined.get(query.rpartition(".")[2], []))
        failed = next((t.error for t in traces if t.error), None)
        if failed is not None:
            verdict.detail += f" The scenario stopped before it was fully loaded: {failed}"
        close = (
            [] if query.rpartition(".")[2] in defined else suggestions(query, candidates, defined)
        )
        return Answer(query, None, [verdict], close)
    receiver = matches[0]
    verdicts: list[Verdict] = []
    for trace in traces:
        verdicts += _verdicts(receiver, trace)
    verdicts.sort(key=lambda v: REASONS.index(v.reason))
    return Answer(query, receiver, verdicts)


def _not_connected(query: str, definitions: list[str]) -> Verdict:
    if definitions:
        detail = (
            f"{query} is defined at {', '.join(definitions)}, but no connect for it "
            "was recorded: the module that connects it may never be imported."
        )
        fix = (
            "Import the module that connects it where the project starts (in Django, "
            "an AppConfig.ready() that imports the app's signals module), or connect it "
            "with @receiver(signal, sender=...)."
        )
    else:
        detail = f"No receiver named {query} was connected, and no function of that name exists."
        fix = "Check the name; sigcli receivers SCENARIO lists what is connected."
    return Verdict("not_connected", detail, fix)


@dataclass(slots=True)
class _Seen:
    """Where ``receiver`` shows up in one trace."""

    calls: list[tuple[Dispatch, ReceiverCall]] = field(default_factory=list)
    signals: dict[str, str | None] = field(default_factory=dict)
    connections: list[Connection] = field(default_factory=list)


def _position(connection: Connection) -> tuple[int, int]:
    return (connection.step or 0, connection.after)


def _verdicts(receiver: ReceiverId, trace: Trace) -> list[Verdict]:
    seen = _Seen()
    ordered = list(ordered_dispatches(trace))
    for _, dispatch in ordered:
        for call in dispatch.receivers:
            if receiver_id(call) == receiver:
                seen.calls.append((dispatch, call))
                seen.signals.setdefault(dispatch.signal, call.sender_filter)
    for connection in trace.connections:
        if receiver_id(connection) == receiver:
            seen.connections.append(connection)
            if connection.outcome is not ConnectionOutcome.NOT_FOUND:
                seen.signals.setdefault(connection.signal, connection.sender_filter)
    verdicts = [
        *_ran(seen),
        *_raised(seen),
        *_skipped(seen, trace),
        *_duplicates(seen, trace),
        *_silent_operations(seen, trace),
        *_missed(receiver, seen, ordered),
    ]
    dead = [v for v in verdicts if v.reason == "dead_reference"]
    if len(dead) > 1:
        seqs = sorted({seq for v in dead for seq in v.dispatches})
        merged = {d.seq: d for _, d in ordered if d.seq in seqs}
        verdicts = [v for v in verdicts if v.reason != "dead_reference"]
        verdicts.append(_dead(list(merged.values()), receiver.name))
    if not verdicts and not seen.calls:
        verdicts.append(_m2m_operations(seen, trace) or _never_sent(seen, ordered))
    return verdicts


def _m2m_operations(seen: _Seen, trace: Trace) -> Verdict | None:
    """An m2m_changed receiver connected for a model: the relation's calls
    send nothing it hears (with nobody listening to the through model they
    send nothing at all)."""
    wanted = seen.signals.get("m2m_changed")
    if wanted is None:
        return None
    calls = [
        (label, relation)
        for label, _, _ in silent_writes(trace, frozenset({"m2m_changed"}))
        if (relation := m2m_relation(label, wanted)) is not None
    ]
    if not calls:
        return None
    relation = calls[0][1]
    return Verdict(
        "sender_mismatch",
        f"It listens to sender={wanted}, but m2m_changed is sent by the relation's through "
        f"model ({relation}.through), not by {wanted}: {calls[0][0]} sent no m2m_changed "
        "it hears.",
        f"Connect it with sender={relation}.through.",
    )


def _seqs(items: Iterable[Dispatch]) -> list[int]:
    return sorted({d.seq for d in items})


def _listed(dispatches: list[Dispatch]) -> str:
    """``#3 post_save User, #5 post_save User`` (the first few)."""
    unique = {d.seq: d for d in dispatches}
    shown = [f"#{d.seq} {d.signal}{f' {d.sender}' if d.sender else ''}" for d in unique.values()]
    more = len(shown) - _NAMED
    return ", ".join(shown[:_NAMED]) + (f" and {more} more" if more > 0 else "")


def _ran(seen: _Seen) -> list[Verdict]:
    ran = [d for d, c in seen.calls if c.called and c.error is None]
    if not ran:
        return []
    detail = f"Called by {_listed(ran)}."
    raw = [d for d in ran if d.kwargs.get("raw") is True]
    if raw:
        detail += (
            f" {_listed(raw)} sent raw=True (a fixture being loaded): a receiver that "
            "returns early on raw does nothing there."
        )
    return [Verdict("ran", detail, None, _seqs(ran))]


def _raised(seen: _Seen) -> list[Verdict]:
    failed = [(d, c) for d, c in seen.calls if c.called and c.error is not None]
    if not failed:
        return []
    dispatch, call = failed[0]
    detail = f"Raised in {_listed([d for d, _ in failed])}: {call.error}."
    if dispatch.robust:
        fix = "Fix the receiver; send_robust() returned its exception and called the others."
    else:
        fix = (
            "Fix the receiver; its exception stops the send, so the receivers after it do not run."
        )
    refused = refused_arguments(call, dispatch)
    if refused is not None:
        detail += f" It does not accept what {dispatch.signal} sends: {refused}."
        fix = (
            f"Give {call.name} the parameters {dispatch.signal} sends, and **kwargs for the "
            "rest: def receiver(sender, instance, **kwargs)."
        )
    return [Verdict("raised", detail, fix, _seqs(d for d, _ in failed))]


def _skipped(seen: _Seen, trace: Trace) -> list[Verdict]:
    verdicts: list[Verdict] = []
    by_reason: dict[SkipReason, list[tuple[Dispatch, ReceiverCall]]] = {}
    for dispatch, call in seen.calls:
        if call.skipped_reason is not None:
            by_reason.setdefault(call.skipped_reason, []).append((dispatch, call))
    mismatched = by_reason.get(SkipReason.SENDER_MISMATCH, [])
    if mismatched:
        verdicts.append(_sender_mismatch(mismatched, trace))
    dead = by_reason.get(SkipReason.DEAD_REFERENCE, [])
    if dead:
        verdicts.append(_dead([d for d, _ in dead], dead[0][1].name))
    gone = by_reason.get(SkipReason.DEAD_SENDER, [])
    if gone:
        verdicts.append(
            Verdict(
                "dead_reference",
                f"The sender it listens to had been collected when {_listed([d for d, _ in gone])} "
                "came (Django 6.0 and later hold senders weakly).",
                "Keep the sender alive while its receivers should run.",
                _seqs(d for d, _ in gone),
            )
        )
    silenced = by_reason.get(SkipReason.MUTED, [])
    if silenced:
        verdicts.append(
            Verdict(
                "muted",
                f"sigcli.mute silenced it for {_listed([d for d, _ in silenced])}.",
                "Send outside the sigcli.mute block, or leave this receiver out of the mute.",
                _seqs(d for d, _ in silenced),
            )
        )
    unreached = by_reason.get(SkipReason.NOT_REACHED, [])
    if unreached:
        verdicts.append(_not_reached([d for d, _ in unreached]))
    return verdicts


def _sender_mismatch(skipped: list[tuple[Dispatch, ReceiverCall]], trace: Trace) -> Verdict:
    wanted = skipped[0][1].sender_filter
    senders = sorted({d.sender or "None" for d, _ in skipped})
    detail = (
        f"It listens to sender={wanted}; {_listed([d for d, _ in skipped])} came from "
        f"{', '.join(senders)}."
    )
    fix = "Connect it with the sender those dispatches have, or without sender= for every sender."
    cause = sender_hint(wanted, skipped[0][0], trace)
    if cause is not None:
        detail += f" {cause[0]}"
        fix = cause[1]
    return Verdict("sender_mismatch", detail, fix, _seqs(d for d, _ in skipped))


def _dead(dispatches: list[Dispatch], name: str) -> Verdict:
    bound = "." in name and "<locals>" not in name
    keep = (
        "Keep the object alive (store it) as long as it should receive"
        if bound
        else "Keep a reference to it for as long as it should run (define it at module level)"
    )
    return Verdict(
        "dead_reference",
        f"Its weak reference had died when {_listed(dispatches)} came: {_what_dies(name)}",
        f"{keep}, or connect it with weak=False.",
        _seqs(dispatches),
    )


def _what_dies(name: str) -> str:
    if "<locals>" in name:
        return (
            "a function defined inside another one is collected when that one returns "
            "(with DEBUG=True Django may keep it alive by accident, so it works in "
            "development and vanishes in production)."
        )
    if "." in name:
        return "a bound method is collected with its object."
    return "nothing else kept it alive."


def _not_reached(dispatches: list[Dispatch]) -> Verdict:
    culprits = []
    for dispatch in dispatches:
        for call in dispatch.receivers:
            if call.called and call.error is not None:
                culprits.append(f"#{dispatch.seq}: {call.name} raised {call.error}")
                break
    return Verdict(
        "not_reached",
        f"An earlier receiver raised and send() stopped before this one ({'; '.join(culprits)}).",
        "Fix the receiver that raised; or send with send_robust(), which calls every "
        "receiver and returns the exceptions.",
        _seqs(dispatches),
    )


def _duplicates(seen: _Seen, trace: Trace) -> list[Verdict]:
    verdicts: list[Verdict] = []
    ignored = [c for c in seen.connections if c.outcome is ConnectionOutcome.ALREADY_CONNECTED]
    wanted = receiver_id(seen.calls[0][1]) if seen.calls else None
    twice = [
        d
        for d in {id(d): d for d, c in seen.calls if c.called}.values()
        if any(receiver_id(c) == wanted for c in connected_again(d))
    ]
    if ignored:
        first = next(
            (c for c in seen.connections if c.outcome is ConnectionOutcome.CONNECTED), None
        )
        places = sorted({short_path(c.called_from) for c in ignored})
        if first is not None and {short_path(first.called_from)} == set(places):
            where = f"{places[0]} ran again"
        else:
            origin = f", first from {short_path(first.called_from)}" if first else ""
            where = f"it was connected again from {', '.join(places)}{origin}"
        verdicts.append(
            Verdict(
                "duplicate_connection",
                f"It was connected twice: {where}. The same receiver and sender were "
                "already connected, so that connect was ignored and it runs once per send.",
                "Connect it once, from a module imported once; the extra connect does nothing "
                "(pass dispatch_uid= to make that explicit).",
            )
        )
    if twice:
        verdicts.append(
            Verdict(
                "duplicate_connection",
                f"It ran more than once in {_listed(twice)}: it is connected under two "
                "lookup keys (two dispatch_uids, or one with and one without).",
                "Connect it once, with one dispatch_uid.",
                _seqs(twice),
            )
        )
    for connection in seen.connections:
        if connection.outcome is ConnectionOutcome.DISPATCH_UID_TAKEN:
            held = (
                f"dispatch_uid {connection.dispatch_uid!r} was already held by "
                f"{connection.holder or 'another receiver'} for this sender"
            )
            if connection.holder == connection.name:
                verdicts.append(
                    Verdict(
                        "duplicate_dispatch_uid",
                        f"Its connect at {short_path(connection.called_from)} was ignored: {held}, "
                        "another copy of the same function (its module ran twice, say); "
                        "the first copy runs.",
                        "Nothing, if that is why the dispatch_uid is there; else import the "
                        "module once.",
                    )
                )
            else:
                verdicts.append(
                    Verdict(
                        "duplicate_dispatch_uid",
                        f"Its connect at {short_path(connection.called_from)} was ignored: {held}.",
                        "Give each receiver its own dispatch_uid.",
                    )
                )
    return verdicts


def _silent_operations(seen: _Seen, trace: Trace) -> list[Verdict]:
    """ORM calls on the receiver's sender that send none of its signals."""
    signals = set(seen.signals)
    filters = {f for s, f in seen.signals.items() if s in SAVE_SIGNALS | DELETE_SIGNALS}
    if not signals & (SAVE_SIGNALS | DELETE_SIGNALS):
        return []
    found: list[str] = []
    everyone = not filters or None in filters
    for label, model, table in silent_writes(trace, frozenset(signals)):
        if table is not None:
            if everyone or any(is_table_of(f, table) for f in filters if f):
                found.append(f"{label} (raw SQL)")
            continue
        if not everyone and model not in filters:
            continue
        kind = next(
            (k for key, k, sent in _SILENT_OPERATIONS if key in label and signals & sent),
            None,
        )
        if kind is not None:
            found.append(f"{label} ({kind})")
    if not found:
        return []
    shown = "; ".join(found[:_NAMED]) + (
        f" and {len(found) - _NAMED} more" if len(found) > _NAMED else ""
    )
    return [
        Verdict(
            "no_signal_for_operation",
            f"These wrote rows without sending {', '.join(sorted(signals & (SAVE_SIGNALS | DELETE_SIGNALS)))}: {shown}. "
            "update(), bulk_create(), bulk_update() and raw SQL never call save() or delete().",
            "Call save() per object where the receiver must run, or do the receiver's work "
            "next to the bulk call.",
        )
    ]


def _missed(
    receiver: ReceiverId,
    seen: _Seen,
    ordered: list[tuple[tuple[int, int], Dispatch]],
) -> list[Verdict]:
    """Dispatches of its signal it was absent from: sent before it was connected,
    after it was disconnected, or while it was muted; or, without a disconnect,
    after its weak reference died."""
    if not seen.connections:
        return []
    present = {id(d) for d, _ in seen.calls}
    states = sorted(((_position(c), c) for c in seen.connections), key=lambda pair: pair[0])
    kinds: dict[str, list[Dispatch]] = {}
    for position, dispatch in ordered:
        if dispatch.signal not in seen.signals or id(dispatch) in present:
            continue
        wanted = seen.signals[dispatch.signal]
        if wanted is not None and dispatch.sender != wanted:
            continue
        last = None
        for where, connection in states:
            if where < position and connection.signal == dispatch.signal:
                last = connection
        kind = _absence(last, states)
        if kind is not None:
            kinds.setdefault(kind, []).append(dispatch)
    verdicts = []
    first = next((c for _, c in states if c.outcome is ConnectionOutcome.CONNECTED), None)
    if "connected_after" in kinds:
        missed = kinds["connected_after"]
        at = f" at {short_path(first.called_from)}" if first and first.called_from else ""
        step = f" during step {first.step}" if first and first.step else ""
        verdicts.append(
            Verdict(
                "connected_after",
                f"It was connected{at}{step}, after {_listed(missed)} had been sent.",
                "Connect it before the code that sends: at import time, or in AppConfig.ready().",
                _seqs(missed),
            )
        )
    if "disconnected" in kinds:
        off = next(c for _, c in reversed(states) if c.outcome is ConnectionOutcome.DISCONNECTED)
        verdicts.append(
            Verdict(
                "disconnected",
                f"It was disconnected at {short_path(off.called_from)} before {_listed(kinds['disconnected'])}.",
                "Reconnect it after the block that needed it quiet, or drop the disconnect.",
                _seqs(kinds["disconnected"]),
            )
        )
    if "muted" in kinds:
        off = next(c for _, c in reversed(states) if c.outcome is ConnectionOutcome.MUTED)
        verdicts.append(
            Verdict(
                "muted",
                f"Its signal's receivers were replaced{_at(off.called_from)} (muted, as "
                f"factory_boy's mute_signals does) during {_listed(kinds['muted'])}.",
                "Send outside the muted block, or leave this signal out of the mute.",
                _seqs(kinds["muted"]),
            )
        )
    if "dead" in kinds:
        verdicts.append(_dead(kinds["dead"], receiver.name))
    return verdicts


def _at(called_from: str | None) -> str:
    """`` at FILE:LINE``, or `` by hand`` when the line is not known (a
    receiver list edited in place on Django, seen at the next send)."""
    return f" at {short_path(called_from)}" if called_from else " by hand"


def _absence(
    last: Connection | None, states: list[tuple[tuple[int, int], Connection]]
) -> str | None:
    if last is None:
        if any(c.outcome is ConnectionOutcome.CONNECTED for _, c in states):
            return "connected_after"
        return None
    outcome = last.outcome
    if outcome is ConnectionOutcome.DISCONNECTED:
        return "disconnected"
    if outcome is ConnectionOutcome.MUTED:
        return "muted"
    if outcome in (
        ConnectionOutcome.CONNECTED,
        ConnectionOutcome.RESTORED,
        ConnectionOutcome.ALREADY_CONNECTED,
    ):
        return "dead" if last.weak else None
    return None


def _never_sent(seen: _Seen, ordered: list[tuple[tuple[int, int], Dispatch]]) -> Verdict:
    """A receiver connected (or waiting for a lazy sender) that no dispatch considered."""
    waiting = [c for c in seen.connections if c.outcome is ConnectionOutcome.WAITING]
    if waiting and not any(c.outcome is ConnectionOutcome.CONNECTED for c in seen.connections):
        lazy = waiting[0]
        return Verdict(
            "sender_mismatch",
            f"It was connected at {short_path(lazy.called_from)} with the lazy sender "
            f"{lazy.sender_filter!r}, which never resolved: no model of that name was "
            "registered, so it was never connected at all.",
            "Write the sender as 'app_label.ModelName' of a model that exists (or pass the "
            "model class).",
        )
    names = ", ".join(sorted(seen.signals)) or "its signal"
    sent = sorted({d.signal for (step, _), d in ordered if step and d.signal not in seen.signals})
    same = [s for s in sent if any(_base(s) == _base(n) for n in seen.signals)]
    detail = f"It is connected to {names}, which was never sent in this run."
    if same:
        detail += f" A different signal object of the same name was sent: {', '.join(same)}."
    elif sent:
        detail += f" The signals sent were: {', '.join(sent[:_NAMED])}."
    return Verdict(
        "other_signal",
        detail,
        "Connect it to the signal object that the sending code uses (import it from one "
        "module), or send the signal it listens to.",
    )


def _base(label: str) -> str:
    return label.split(" (", 1)[0]


def dumps(answer: Answer) -> str:
    """The answer as the JSON ``sigcli why --json`` prints."""
    import json

    return json.dumps(answer.to_json(), ensure_ascii=False, indent=2)
