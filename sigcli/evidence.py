"""What a trace shows about one receiver: finding it by the name a user
typed, the dispatches in run order, and the classic causes a trace can
prove (a proxy, a child model or a through model as the sender, a receiver
that refuses the signal's arguments, ORM calls that write without a signal).

Pure functions of :class:`~sigcli.trace.Trace` records, shared by the
verdicts of :mod:`sigcli.why` and the short notes of :mod:`sigcli.hints`.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from sigcli.trace import (
    Connection,
    Dispatch,
    Node,
    Operation,
    ReceiverCall,
    SqlStatement,
    Step,
    Trace,
    walk_dispatches,
)

# -- finding the receiver ---------------------------------------------------------


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


def receiver_id(item: ReceiverCall | Connection) -> ReceiverId:
    return ReceiverId(item.name, item.module, item.file, item.line)


def known_receivers(traces: Iterable[Trace]) -> list[ReceiverId]:
    """Every receiver a trace mentions (in a dispatch or a connection), first seen first."""
    seen: dict[ReceiverId, None] = {}
    for trace in traces:
        for connection in trace.connections:
            seen.setdefault(receiver_id(connection))
        for dispatch in trace.dispatches(setup=True):
            for call in dispatch.receivers:
                seen.setdefault(receiver_id(call))
    return list(seen)


def _names(receiver: ReceiverId) -> set[str]:
    """The names RECEIVER may use for ``receiver``: short, qualified, dotted;
    a ``partial(function)`` is found by its function's names too."""
    names = {receiver.name, receiver.name.rpartition(".")[2]}
    for prefix in (receiver.module, receiver.file and Path(receiver.file).stem):
        if prefix:
            names |= {f"{prefix}.{receiver.name}", f"{prefix}:{receiver.name}"}
    if receiver.name.startswith("partial(") and receiver.name.endswith(")"):
        names |= _names(replace(receiver, name=receiver.name[8:-1]))
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


# -- where it shows up --------------------------------------------------------------


def connected_again(dispatch: Dispatch) -> list[ReceiverCall]:
    """The calls in ``dispatch`` of a receiver called earlier in the same send
    under another lookup key: another sender filter or dispatch_uid. Calls
    that share the name and the key are of other objects (bound methods of
    two instances, two closures, two partials of one function): Django's key
    holds the object's id, so one object cannot be connected twice under
    one key."""
    keys: dict[ReceiverId, set[tuple[str | None, str | None]]] = {}
    again = []
    for call in dispatch.receivers:
        if not call.called:
            continue
        seen = keys.setdefault(receiver_id(call), set())
        key = (call.sender_filter, call.dispatch_uid)
        if seen and key not in seen:
            again.append(call)
        seen.add(key)
    return again


def ordered_dispatches(trace: Trace) -> Iterator[tuple[tuple[int, int], Dispatch]]:
    """Each dispatch with its position in the run: (step number, seq), the
    setup being step 0; a connection's is (step or 0, after)."""
    for dispatch in walk_dispatches(trace.setup):
        yield (0, dispatch.seq), dispatch
    for number, step in enumerate(trace.steps, 1):
        for dispatch in walk_dispatches(step.children):
            yield (number, dispatch.seq), dispatch


def short_path(file: str | None) -> str:
    """A file as the user likely wrote it: relative to the working directory when inside it."""
    if file is None:
        return "?"
    try:
        return str(Path(file).relative_to(Path.cwd()))
    except ValueError:
        return file


# -- the classic causes -------------------------------------------------------------


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
    return f"{call.name}, defined at {short_path(call.file)}:{call.line}, is sent {sent}"


def refused_at(step: Step) -> str | None:
    """Where a step's error really lies when a receiver refused the arguments
    it was sent: the receiver's own definition, not the step's line."""
    for dispatch in walk_dispatches(step.children):
        for call in dispatch.receivers:
            if call.error == step.error and refused_arguments(call, dispatch) is not None:
                return f"{short_path(call.file)}:{call.line}"
    return None


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


_M2M_CALL = re.compile(r"^(\w+)\.(\w+)\.(add|remove|clear|set)\(")


def m2m_relation(label: str, model: str) -> str | None:
    """``Post.tags`` for the call ``post.tags.add(...)`` on a ``Post``."""
    match = _M2M_CALL.match(label)
    if match is None or match.group(1) != model.lower():
        return None
    return f"{model}.{match.group(2)}"


_WRITE_SQL = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def quiet_nodes(trace: Trace, signals: frozenset[str]) -> Iterator[Operation | SqlStatement]:
    """The ORM calls under which none of ``signals`` was sent, and the SQL
    statements sent outside any ORM call, in run order."""
    # A queue: a trace of 200,000 dispatches puts as many lists on it, and
    # taking each from the front of a list would move all the others.
    pending: deque[tuple[list[Node], bool]] = deque((step.children, True) for step in trace.steps)
    while pending:
        nodes, outside = pending.popleft()
        for node in nodes:
            if isinstance(node, Operation):
                if any(d.signal in signals for d in walk_dispatches(node.children)):
                    pending.append((node.children, False))
                else:
                    yield node
            elif isinstance(node, Dispatch):
                pending.extend((call.children, True) for call in node.receivers)
            elif isinstance(node, SqlStatement) and outside:
                yield node


def silent_writes(
    trace: Trace, signals: frozenset[str]
) -> Iterator[tuple[str, str | None, str | None]]:
    """(label, model, table) of ORM calls that sent none of ``signals``, and of
    writing SQL sent outside any ORM call (its table instead of a model)."""
    for node in quiet_nodes(trace, signals):
        if isinstance(node, Operation):
            yield node.label, node.model, None
        else:
            match = _WRITE_SQL.match(node.sql)
            if match:
                yield node.sql.split(" WHERE ")[0], None, match.group(2)


def is_table_of(model: str, table: str) -> bool:
    """Whether ``table`` is the default table of ``model`` (``app_product``)."""
    table, model = table.lower(), model.lower()
    return table == model or table.endswith(f"_{model}")
