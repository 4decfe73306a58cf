"""Why a receiver did or did not run: verdicts read from a recorded trace.

Everything here is a pure function of :class:`~sigcli.trace.Trace` records
(dispatches with every receiver they considered, and the connections made
while the run happened), so that it works the same on a fresh run, a saved
trace file and a trace recorded from Django. Each verdict carries its
evidence (dispatches by ``seq``, the connect's file and line) and what to
change. Nothing here draws anything.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigcli.observation import ReceiverInfo
from sigcli.trace import (
    Connection,
    ConnectionOutcome,
    Dispatch,
    Node,
    Operation,
    ReceiverCall,
    SkipReason,
    SqlStatement,
    Step,
    Trace,
    walk_dispatches,
)

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
_WRITE_SQL = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)

#: How many dispatches a verdict's text names before it counts the rest.
_NAMED = 8


@dataclass(frozen=True, slots=True)
class ReceiverId:
    """A receiver function, as the trace names it."""

    name: str
    module: str | None
    file: str | None
    line: int | None

    @property
    def where(self) -> str:
        if self.file is None:
            return self.module or "?"
        return f"{Path(self.file).name}:{self.line}"

    def __str__(self) -> str:
        return f"{self.name} ({self.where})"


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


# -- finding the receiver ---------------------------------------------------------


def _id_of(item: ReceiverCall | Connection) -> ReceiverId:
    return ReceiverId(item.name, item.module, item.file, item.line)


def known_receivers(traces: Iterable[Trace]) -> list[ReceiverId]:
    """Every receiver a trace mentions (in a dispatch or a connection), first seen first."""
    seen: dict[ReceiverId, None] = {}
    for trace in traces:
        for connection in trace.connections:
            seen.setdefault(_id_of(connection))
        for dispatch in trace.dispatches(setup=True):
            for call in dispatch.receivers:
                seen.setdefault(_id_of(call))
    return list(seen)


def _names(receiver: ReceiverId) -> set[str]:
    """The names RECEIVER may use for ``receiver``: short, qualified, dotted."""
    names = {receiver.name, receiver.name.rpartition(".")[2]}
    for prefix in (receiver.module, receiver.file and Path(receiver.file).stem):
        if prefix:
            names |= {f"{prefix}.{receiver.name}", f"{prefix}:{receiver.name}"}
    return names


def find(query: str, candidates: list[ReceiverId]) -> list[ReceiverId]:
    """The receivers ``query`` names: ``file:line`` (the function defined at
    or above that line), a qualified name, or a plain name."""
    file, _, line = query.rpartition(":")
    if file and line.isdigit():
        number = int(line)
        in_file = [
            c
            for c in candidates
            if c.file is not None
            and c.line is not None
            and (c.file == file or Path(c.file).name == Path(file).name)
            and c.line <= number
        ]
        if not in_file:
            return []
        nearest = max(c.line or 0 for c in in_file)
        return [c for c in in_file if c.line == nearest]
    exact = [c for c in candidates if query in _names(c)]
    if len({(c.name, c.file, c.line) for c in exact}) <= 1:
        return exact
    return [c for c in exact if c.name == query] or exact


def suggestions(query: str, candidates: list[ReceiverId], defined: Iterable[str]) -> list[str]:
    short = query.rpartition(".")[2]
    names = sorted(({c.name.rpartition(".")[2] for c in candidates} | set(defined)) - {short})
    return difflib.get_close_matches(short, names, n=3, cutoff=0.6)


def defined_functions(files: Iterable[Path]) -> dict[str, list[str]]:
    """``name -> ["file:line", ...]`` for each function defined in ``files``,
    read as text (nothing is imported)."""
    found: dict[str, list[str]] = {}
    pattern = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.MULTILINE)
    for path in files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(1), []).append(f"{path}:{line}")
    return found


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


def _ordered(trace: Trace) -> Iterator[tuple[tuple[int, int], Dispatch]]:
    """Each dispatch with its position in the run: (step number, seq), the
    setup being step 0; a connection's is (step or 0, after)."""
    for dispatch in _walk(trace.setup):
        yield (0, dispatch.seq), dispatch
    for number, step in enumerate(trace.steps, 1):
        for dispatch in _walk(step.children):
            yield (number, dispatch.seq), dispatch


def _walk(nodes: list[Node]) -> Iterator[Dispatch]:
    return walk_dispatches(nodes)


def _position(connection: Connection) -> tuple[int, int]:
    return (connection.step or 0, connection.after)


def _verdicts(receiver: ReceiverId, trace: Trace) -> list[Verdict]:
    seen = _Seen()
    ordered = list(_ordered(trace))
    for _, dispatch in ordered:
        for call in dispatch.receivers:
            if _id_of(call) == receiver:
                seen.calls.append((dispatch, call))
                seen.signals.setdefault(dispatch.signal, call.sender_filter)
    for connection in trace.connections:
        if _id_of(connection) == receiver:
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


_M2M_CALL = re.compile(r"^(\w+)\.(\w+)\.(add|remove|clear|set)\(")


def m2m_relation(label: str, model: str) -> str | None:
    """``Post.tags`` for the call ``post.tags.add(...)`` on a ``Post``."""
    match = _M2M_CALL.match(label)
    if match is None or match.group(1) != model.lower():
        return None
    return f"{model}.{match.group(2)}"


def _m2m_operations(seen: _Seen, trace: Trace) -> Verdict | None:
    """An m2m_changed receiver connected for a model: the relation's calls
    send nothing it hears (with nobody listening to the through model they
    send nothing at all)."""
    wanted = seen.signals.get("m2m_changed")
    if wanted is None:
        return None
    calls = [
        (label, relation)
        for label, _, _ in _silent_writes(trace, frozenset({"m2m_changed"}))
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


def refused_arguments(call: ReceiverCall, dispatch: Dispatch) -> str | None:
    """When ``call`` failed because the receiver does not accept the keyword
    arguments the signal sends (a ``TypeError`` raised by the call itself, not
    inside it): where it is defined and what it is sent."""
    error = call.error or ""
    short = call.name.rpartition(".")[2]
    pattern = (
        rf"TypeError: (?:\S+\.)?{re.escape(short)}\(\) (?:got an unexpected|missing \d+ required)"
    )
    if not call.called or not re.match(pattern, error):
        return None
    sent = ", ".join(["sender", *dispatch.kwargs])
    return f"{call.name}, defined at {_short(call.file)}:{call.line}, is sent {sent}"


def refused_at(step: Step) -> str | None:
    """Where a step's error really lies when a receiver refused the arguments
    it was sent: the receiver's own definition, not the step's line."""
    for dispatch in _walk(step.children):
        for call in dispatch.receivers:
            if call.error == step.error and refused_arguments(call, dispatch) is not None:
                return f"{_short(call.file)}:{call.line}"
    return None


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


def _short(file: str | None) -> str:
    """A file as the user likely wrote it: relative to the working directory when inside it."""
    if file is None:
        return "?"
    try:
        return str(Path(file).relative_to(Path.cwd()))
    except ValueError:
        return file


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


def sender_hint(
    wanted: str | None, dispatch: Dispatch, trace: Trace
) -> tuple[str, str, str] | None:
    """The classic cause of a sender mismatch, when one fits: (what, fix, a
    short note for the tree).

    A proxy model sends its own class, not the class it proxies, and so does a
    model inheriting from another; ``m2m_changed``
    is sent by the relation's through model.
    """
    sender = dispatch.sender
    if wanted is None or sender is None:
        return None
    if dispatch.signal == "m2m_changed":
        instance = dispatch.kwargs.get("instance")
        models = {dispatch.kwargs.get("model")}
        if isinstance(instance, dict):
            models.add(instance.get("model"))
        if wanted in models and sender != wanted:
            field_name = sender[len(wanted) + 1 :] if sender.startswith(f"{wanted}_") else None
            through = f"{wanted}.{field_name}.through" if field_name else sender
            return (
                f"m2m_changed is sent by the relation's through model {sender}, not by {wanted}.",
                f"Connect it with sender={through}.",
                f"m2m_changed comes from the through model: use sender={through}",
            )
    if sender == wanted:
        return (
            f"The {sender} that sent is another class of the same name, not the one it "
            "listens to (a class defined twice, or one module imported under two names).",
            f"Connect it with the {sender} the code saves: import it from one place.",
            f"another class named {sender} sent",
        )
    if wanted in ancestors(sender, trace.parents):
        return (
            f"{sender} inherits from {wanted}: saving a {sender} sends {dispatch.signal} "
            f"with sender={sender} only.",
            f"Connect it with sender={sender} as well (or without sender=, checking "
            f"isinstance(instance, {wanted})).",
            f"{sender} inherits from {wanted}, and sends as {sender}",
        )
    if wanted in ancestors(sender, trace.proxies):
        return (
            f"{sender} is a proxy of {wanted}: a proxy model sends its own class.",
            f"Connect it with sender={sender} as well (or without sender=, checking "
            f"isinstance(instance, {wanted})).",
            f"{sender} is a proxy of {wanted}, and sends as {sender}",
        )
    return None


def ancestors(model: str, links: dict[str, str]) -> list[str]:
    """Following ``links`` (model -> the model it proxies, or inherits from)
    from ``model``: the models reached, nearest first."""
    chain: list[str] = []
    while model in links and model not in chain and len(chain) < 50:
        model = links[model]
        chain.append(model)
    return chain


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
    twice = [
        d
        for d in {id(d): d for d, c in seen.calls if c.called}.values()
        if sum(1 for c in d.receivers if c.called and _id_of(c) == _id_of(seen.calls[0][1])) > 1
    ]
    if ignored:
        first = next(
            (c for c in seen.connections if c.outcome is ConnectionOutcome.CONNECTED), None
        )
        places = sorted({_short(c.called_from) for c in ignored})
        if first is not None and {_short(first.called_from)} == set(places):
            where = f"{places[0]} ran again"
        else:
            origin = f", first from {_short(first.called_from)}" if first else ""
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
                        f"Its connect at {_short(connection.called_from)} was ignored: {held}, "
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
                        f"Its connect at {_short(connection.called_from)} was ignored: {held}.",
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
    for label, model, table in _silent_writes(trace, frozenset(signals)):
        if table is not None:
            if everyone or any(_is_table_of(f, table) for f in filters if f):
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


def _quiet_nodes(trace: Trace, signals: frozenset[str]) -> Iterator[Operation | SqlStatement]:
    """The ORM calls under which none of ``signals`` was sent, and the SQL
    statements sent outside any ORM call, in run order."""
    pending: list[tuple[list[Node], bool]] = [(step.children, True) for step in trace.steps]
    while pending:
        nodes, outside = pending.pop(0)
        for node in nodes:
            if isinstance(node, Operation):
                if any(d.signal in signals for d in _walk(node.children)):
                    pending.append((node.children, False))
                else:
                    yield node
            elif isinstance(node, Dispatch):
                pending += [(call.children, True) for call in node.receivers]
            elif isinstance(node, SqlStatement) and outside:
                yield node


def _silent_writes(
    trace: Trace, signals: frozenset[str]
) -> Iterator[tuple[str, str | None, str | None]]:
    """(label, model, table) of ORM calls that sent none of ``signals``, and of
    writing SQL sent outside any ORM call (its table instead of a model)."""
    for node in _quiet_nodes(trace, signals):
        if isinstance(node, Operation):
            yield node.label, node.model, None
        else:
            match = _WRITE_SQL.match(node.sql)
            if match:
                yield node.sql.split(" WHERE ")[0], None, match.group(2)


def _is_table_of(model: str, table: str) -> bool:
    """Whether ``table`` is the default table of ``model`` (``app_product``)."""
    table, model = table.lower(), model.lower()
    return table == model or table.endswith(f"_{model}")


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
        at = f" at {_short(first.called_from)}" if first and first.called_from else ""
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
                f"It was disconnected at {_short(off.called_from)} before {_listed(kinds['disconnected'])}.",
                "Reconnect it after the block that needed it quiet, or drop the disconnect.",
                _seqs(kinds["disconnected"]),
            )
        )
    if "muted" in kinds:
        off = next(c for _, c in reversed(states) if c.outcome is ConnectionOutcome.MUTED)
        verdicts.append(
            Verdict(
                "muted",
                f"Its signal's receivers were replaced at {_short(off.called_from)} (muted, as "
                f"factory_boy's mute_signals does) during {_listed(kinds['muted'])}.",
                "Send outside the muted block, or leave this signal out of the mute.",
                _seqs(kinds["muted"]),
            )
        )
    if "dead" in kinds:
        verdicts.append(_dead(kinds["dead"], receiver.name))
    return verdicts


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
            f"It was connected at {_short(lazy.called_from)} with the lazy sender "
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


# -- flags for ``sigcli receivers`` -------------------------------------------------


def receiver_flags(
    signal: str, infos: list[ReceiverInfo], connections: list[Connection]
) -> list[list[str]]:
    """For each receiver connected to ``signal`` (in order), the classic
    mistakes it shows: connected twice, a weak reference that may die, a
    connect of it or for its dispatch_uid that was ignored."""
    flags: list[list[str]] = [[] for _ in infos]
    seen: dict[tuple[str, str | None, int | None], int] = {}
    for index, info in enumerate(infos):
        key = (info.name, info.file, info.line)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            flags[index].append("connected twice: runs twice per send")
        if info.weak and info.bound:
            flags[index].append("weak reference to a bound method: stops with its object")
        elif info.weak and "<locals>" in info.name:
            flags[index].append(
                "weak reference to a local function: stops once nothing else holds it"
            )
        for connection in connections:
            if connection.signal != signal or (connection.sender_filter != info.sender_label):
                continue
            if (
                connection.outcome is ConnectionOutcome.ALREADY_CONNECTED
                and (connection.name, connection.file, connection.line) == key
            ):
                flags[index].append(f"connected again at {_short(connection.called_from)}: ignored")
            elif (
                connection.outcome is ConnectionOutcome.DISPATCH_UID_TAKEN
                and connection.holder == info.name
                and connection.dispatch_uid == _uid_text(info.dispatch_uid)
            ):
                flags[index].append(
                    f"{connection.name} ({_short(connection.file)}:{connection.line}) asked "
                    f"for the same dispatch_uid and was ignored"
                )
    return flags


def _uid_text(uid: object) -> str | None:
    return None if uid is None else str(uid)


# -- hints for the tree -----------------------------------------------------------


def hints(trace: Trace) -> dict[int, str]:
    """Short notes on the classic mistakes, keyed by the ``id()`` of the
    receiver call, ORM call or dispatch they belong next to in the tree."""
    notes: dict[int, str] = {}
    again = {
        (c.signal, _id_of(c)): c
        for c in trace.connections
        if c.outcome is ConnectionOutcome.ALREADY_CONNECTED
    }
    waiting = _never_resolved(trace)
    for _, dispatch in _ordered(trace):
        counted: dict[ReceiverId, int] = {}
        for call in dispatch.receivers:
            receiver = _id_of(call)
            note = None
            if call.skipped_reason is SkipReason.SENDER_MISMATCH:
                cause = sender_hint(call.sender_filter, dispatch, trace)
                note = cause[2] if cause else None
            elif call.called and call.error:
                note = refused_arguments(call, dispatch)
            if call.called:
                counted[receiver] = counted.get(receiver, 0) + 1
                if counted[receiver] == 2:
                    note = "connected twice (two lookup keys): runs twice per send"
            ignored = again.pop((dispatch.signal, receiver), None)
            if note is None and ignored is not None:
                note = f"connected again at {_short(ignored.called_from)}: ignored"
            if note is not None:
                notes[id(call)] = note
        lazy = waiting.pop(dispatch.signal, None)
        if lazy is not None:
            notes[id(dispatch)] = (
                f"{lazy.name} waits for sender {lazy.sender_filter!r}, which never resolved"
            )
    listening = [
        c
        for c in trace.connections
        if c.signal == "m2m_changed" and c.outcome is ConnectionOutcome.CONNECTED
    ]
    for operation in _quiet_nodes(trace, frozenset({"m2m_changed"})):
        for connection in listening:
            if not isinstance(operation, Operation):
                continue
            relation = m2m_relation(operation.label, connection.sender_filter or "")
            if relation is not None:
                notes[id(operation)] = (
                    f"no m2m_changed: {connection.name} listens to "
                    f"sender={connection.sender_filter}; use sender={relation}.through"
                )
    return notes


def _never_resolved(trace: Trace) -> dict[str, Connection]:
    """Per signal, the first connect waiting for a lazy sender that never came."""
    connected = {_id_of(c) for c in trace.connections if c.outcome is ConnectionOutcome.CONNECTED}
    found: dict[str, Connection] = {}
    for connection in trace.connections:
        if connection.outcome is ConnectionOutcome.WAITING and _id_of(connection) not in connected:
            found.setdefault(connection.signal, connection)
    return found
