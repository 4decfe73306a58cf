"""Short notes on the classic mistakes, drawn beside the run: the tree's
hints (a sender that never matches, arguments a receiver refuses, a
receiver connected twice or again, a lazy sender that never resolved, an
m2m call its receiver never hears) and the flags of ``sigcli receivers``.

The long form of each, with evidence and a fix, is :mod:`sigcli.why`'s.
"""

from __future__ import annotations

from sigcli.evidence import (
    connected_again,
    m2m_relation,
    ordered_dispatches,
    quiet_nodes,
    receiver_id,
    refused_arguments,
    sender_hint,
    short_path,
)
from sigcli.observation import ReceiverInfo
from sigcli.trace import Connection, ConnectionOutcome, Operation, SkipReason, Trace


def hints(trace: Trace) -> dict[int, str]:
    """Short notes on the classic mistakes, keyed by the ``id()`` of the
    receiver call, ORM call or dispatch they belong next to in the tree."""
    notes: dict[int, str] = {}
    again = {
        (c.signal, receiver_id(c)): c
        for c in trace.connections
        if c.outcome is ConnectionOutcome.ALREADY_CONNECTED
    }
    waiting = _never_resolved(trace)
    for _, dispatch in ordered_dispatches(trace):
        twice = {id(call) for call in connected_again(dispatch)}
        for call in dispatch.receivers:
            receiver = receiver_id(call)
            note = None
            if call.skipped_reason is SkipReason.SENDER_MISMATCH:
                cause = sender_hint(call.sender_filter, dispatch, trace)
                note = cause[2] if cause else None
            elif call.called and call.error:
                note = refused_arguments(call, dispatch)
            if id(call) in twice:
                note = "connected twice (two lookup keys): runs twice per send"
            ignored = again.pop((dispatch.signal, receiver), None)
            if note is None and ignored is not None:
                note = f"connected again at {short_path(ignored.called_from)}: ignored"
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
    for operation in quiet_nodes(trace, frozenset({"m2m_changed"})):
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
    connected = {
        receiver_id(c) for c in trace.connections if c.outcome is ConnectionOutcome.CONNECTED
    }
    found: dict[str, Connection] = {}
    for connection in trace.connections:
        if (
            connection.outcome is ConnectionOutcome.WAITING
            and receiver_id(connection) not in connected
        ):
            found.setdefault(connection.signal, connection)
    return found


def receiver_flags(
    signal: str, infos: list[ReceiverInfo], connections: list[Connection]
) -> list[list[str]]:
    """For each receiver connected to ``signal`` (in order), the classic
    mistakes it shows: connected twice, a weak reference that may die, a
    connect of it or for its dispatch_uid that was ignored."""
    flags: list[list[str]] = [[] for _ in infos]
    # As in connected_again: under one sender filter and dispatch_uid, one
    # name is several objects (bound methods of several instances), not one
    # function connected twice.
    seen: dict[tuple[str, str | None, int | None], set[tuple[str | None, str | None]]] = {}
    for index, info in enumerate(infos):
        key = (info.name, info.file, info.line)
        lookup = (info.sender_label, _uid_text(info.dispatch_uid))
        keys = seen.setdefault(key, set())
        if keys and lookup not in keys:
            flags[index].append("connected twice: runs twice per send")
        keys.add(lookup)
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
                flags[index].append(
                    f"connected again at {short_path(connection.called_from)}: ignored"
                )
            elif (
                connection.outcome is ConnectionOutcome.DISPATCH_UID_TAKEN
                and connection.holder == info.name
                and connection.dispatch_uid == _uid_text(info.dispatch_uid)
            ):
                flags[index].append(
                    f"{connection.name} ({short_path(connection.file)}:{connection.line}) asked "
                    f"for the same dispatch_uid and was ignored"
                )
    return flags


def _uid_text(uid: object) -> str | None:
    return None if uid is None else str(uid)
