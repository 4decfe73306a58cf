"""Trace files: JSON writing and loading.

A trace file is data. :func:`load` parses it with ``json`` and checks its
shape; it never imports or evaluates anything named in it. :func:`save`
streams the JSON node by node, so a big run is never one string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import msgspec

from sigcli import safefile
from sigcli.recorder import collector_paused, recursion_room
from sigcli.text import json_text
from sigcli.trace import (
    FORMAT_VERSION,
    Connection,
    ConnectionOutcome,
    Dispatch,
    Frame,
    Node,
    Operation,
    Output,
    ReceiverCall,
    SkipReason,
    SqlStatement,
    Step,
    Trace,
    Traceback,
    TraceFormatError,
)

__all__ = [
    "census",
    "dumps",
    "indented",
    "load",
    "node_from",
    "node_json",
    "read_value",
    "reading",
    "save",
    "trace_from",
    "write",
]


def dumps(traces: list[Trace]) -> str:
    """The JSON text of one trace, or of several under ``"runs"``."""
    with recursion_room(_JSON_RECURSION):
        return "".join(_chunks(traces))


def write(traces: list[Trace], stream: IO[str]) -> None:
    """Write the JSON text of :func:`dumps` to ``stream`` piece by piece, so
    that a run of 200,000 dispatches is never held as one string."""
    with recursion_room(_JSON_RECURSION):
        stream.writelines(_chunks(traces))
        stream.write("\n")


_JSON_RECURSION = 5000


def save(traces: list[Trace], path: Path, *, force: bool = False) -> None:
    """Write the traces to ``path``, replacing it only once the whole file is written.

    The JSON is streamed node by node, so that a run of 200,000 dispatches
    is never held as one document or one string. The file is written by
    :mod:`sigcli.safefile`: an interrupted save leaves the previous file as
    it was, and a file there that is not a trace is replaced only with
    ``force`` (:class:`~sigcli.safefile.UnsafeTarget` otherwise).
    """
    with recursion_room(_JSON_RECURSION), safefile.writing(path, "trace", force=force) as file:
        file.writelines(_chunks(traces))
        file.write("\n")


_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def _make_encode(allow_nan: bool) -> Callable[[Any], str]:
    """The encoder's C part, made once: ``JSONEncoder.encode`` makes it
    anew at every call, which is most of the time of writing a big trace
    one node at a time. Without the C accelerator, ``encode`` itself.
    Without ``allow_nan`` it refuses NaN, as JSON has none."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(ensure_ascii=False, allow_nan=allow_nan).encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    # (markers, default, encode a string, indent, key separator, item
    # separator, sort keys, skip keys, allow nan): JSONEncoder's defaults.
    encoder = make(
        None, refuse, json.encoder.encode_basestring, None, ": ", ", ", False, False, allow_nan
    )

    def encode(value: Any) -> str:
        if isinstance(value, str):
            return _encoder.encode(value)
        return "".join(encoder(value, 0))

    return encode


_fast_encode = _make_encode(allow_nan=False)
_loose_encode = _make_encode(allow_nan=True)


def _encode(value: Any) -> str:
    """``value`` as strict JSON. JSON has no NaN or infinities: a float that
    is one (a keyword argument, a result) is written as text, ``"nan"``."""
    try:
        return json_text(_fast_encode(value))
    except ValueError:
        return json_text(_fast_encode(_finite(value)))


def indented(value: Any) -> str:
    """``json.dumps(value, indent=1, ensure_ascii=False)`` in a fraction of its
    time: ``json`` indents only in pure Python, so the C encoder writes the
    text and msgspec indents it (character for character the same). A value
    holding NaN, which msgspec does not take, goes the slow way."""
    try:
        return msgspec.json.format(_loose_encode(value), indent=1)
    except (ValueError, msgspec.DecodeError):
        return json.dumps(value, indent=1, ensure_ascii=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


#: What a trace file written elsewhere may hold that JSON does not: read as
#: the text sigcli writes for them.
_CONSTANTS = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}


def _chunks(traces: list[Trace]) -> Iterator[str]:
    """The JSON text in pieces: one line per node, so a file reads and greps well."""
    if len(traces) == 1:
        yield f'{{"sigcli_trace": {FORMAT_VERSION}, '
        yield from _trace_chunks(traces[0])
        yield "}"
        return
    yield f'{{"sigcli_trace": {FORMAT_VERSION}, "runs": ['
    for index, trace in enumerate(traces):
        yield "\n{" if index == 0 else ",\n{"
        yield from _trace_chunks(trace)
        yield "}"
    yield "]}"


def _unclosed(fields: dict[str, Any], key: str) -> str:
    """``fields`` as an unfinished object whose last member ``key`` is a list."""
    return f'{_encode(fields)[:-1]}, "{key}": ['


def _trace_chunks(trace: Trace) -> Iterator[str]:
    head = {
        "scenario": trace.scenario,
        "error": trace.error,
        "interrupted": trace.interrupted,
        "not_run": trace.not_run,
        "connections": [connection_json(c) for c in trace.connections],
        "proxies": trace.proxies,
        "parents": trace.parents,
        "census": census(trace),
    }
    yield _unclosed(head, "setup")[1:]
    yield from _list_chunks(trace.setup)
    yield '], "steps": ['
    for index, step in enumerate(trace.steps):
        fields: dict[str, Any] = {
            "label": step.label,
            "function": step.function,
            "error": step.error,
            "error_at": step.error_at,
        }
        if step.traceback is not None:
            fields["traceback"] = traceback_json(step.traceback)
        yield ("\n" if index == 0 else ",\n") + _unclosed(fields, "children")
        yield from _list_chunks(step.children)
        yield "]}"
    yield "]"


def census(trace: Trace) -> list[list[Any]]:
    """``[signal, sender, [receiver names], whether any was called, count]``:
    the dispatches of the steps counted by what a filter looks at, in the
    order each kind first came. A filtered read counts the dispatches past
    what it draws from this instead of reading them (:mod:`sigcli.skim`);
    a file without it (written before) is read and counted node by node."""
    counts: dict[tuple[Any, ...], int] = {}
    # Depth first, in send order, as a file is read; iterative, as a trace
    # nests hundreds deep, and without a generator per receiver call.
    pending: list[Iterator[Node]] = [iter(step.children) for step in reversed(trace.steps)]
    while pending:
        for node in pending[-1]:
            if isinstance(node, Dispatch):
                receivers = node.receivers
                key = (
                    node.signal,
                    node.sender,
                    tuple([call.name for call in receivers]),
                    any([call.called for call in receivers]),
                )
                counts[key] = counts.get(key, 0) + 1
                nested = [iter(call.children) for call in reversed(receivers) if call.children]
                if nested:
                    pending += nested
                    break
            elif isinstance(node, Operation) and node.children:
                pending.append(iter(node.children))
                break
        else:
            pending.pop()
    return [
        [signal, sender, list(names), called, n]
        for (signal, sender, names, called), n in counts.items()
    ]


def _list_chunks(nodes: list[Node]) -> Iterator[str]:
    for index, node in enumerate(nodes):
        yield "\n" if index == 0 else ",\n"
        yield from _node_chunks(node)


def _node_chunks(node: Node) -> Iterator[str]:
    """One node; only nodes with children are split, the rest is one encode."""
    if isinstance(node, Dispatch) and any(call.children for call in node.receivers):
        fields = node_json(node, children=False)
        receivers = fields.pop("receivers")
        yield _unclosed(fields, "receivers")
        for index, (call, call_fields) in enumerate(zip(node.receivers, receivers, strict=True)):
            del call_fields["children"]
            yield ("\n" if index == 0 else ",\n") + _unclosed(call_fields, "children")
            yield from _list_chunks(call.children)
            yield "]}"
        yield "]}"
    elif isinstance(node, Operation) and node.children:
        fields = node_json(Operation(node.label, node.model, [], node.error))
        del fields["children"]
        yield _unclosed(fields, "children")
        yield from _list_chunks(node.children)
        yield "]}"
    else:
        yield _encode(node_json(node))


def load(path: Path) -> list[Trace]:
    """Read a trace file written by :func:`save`; never runs code from it.

    msgspec reads it first (:func:`sigcli.skim.read`), a few thousand nodes
    at a time. A file it does not take (NaN written by another tool, a byte
    order mark, a damaged file) is read by ``json`` node by node
    (:func:`_streamed`), each node becoming a record as soon as it is
    parsed, so that a trace of 300,000 dispatches is never held as one JSON
    document beside its records; a file that reading so does not accept is
    read again as a whole, which names the problem.
    """
    from sigcli import skim

    traces = skim.read(path)
    return traces if traces is not None else _load_json(path)


def _load_json(path: Path) -> list[Trace]:
    """:func:`load` with ``json``."""
    try:
        with recursion_room(_JSON_RECURSION):
            text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TraceFormatError(f"{path} is not a sigcli trace (not text: {exc.reason})") from None
    if len(text) > LARGEST_TRACE:
        raise TraceFormatError(
            f"{path} holds {len(text):,} characters; sigcli reads traces of at most "
            f"{LARGEST_TRACE:,} (about 2,000,000 dispatches). Record fewer dispatches "
            "(one scenario or step at a time)."
        )
    try:
        with reading():
            document = _streamed(text)
            if isinstance(document, dict) and document.get("sigcli_trace") == FORMAT_VERSION:
                if type(document["sigcli_trace"]) is int:
                    runs = document["runs"] if "runs" in document else [document]
                    return [trace_from(_obj(run)) for run in _list(runs)]
    except Exception:  # noqa: BLE001 - read again as a whole, which says what is wrong
        pass
    with collector_paused():
        return _load_whole(path, text)


@contextmanager
def reading() -> Iterator[None]:
    """Around reading a trace: room to recurse as deep as a trace nests,
    recurring strings kept once, and no cyclic garbage collection, which
    would walk the records read so far again and again (it made reading a
    300,000-dispatch trace five times slower)."""
    with recursion_room(_JSON_RECURSION), _strings_shared(), collector_paused():
        yield


def read_value(text: bytes | str) -> Any:
    """One JSON value of a trace file, as :func:`load` parses values."""
    return json.loads(text, parse_constant=_CONSTANTS.__getitem__)


def node_from(value: Any) -> Node:
    """One node of a trace file (its parsed JSON) as a record, as :func:`load` reads it."""
    return _node_from(_obj(value))


def trace_from(data: dict[str, Any]) -> Trace:
    """One run of a trace file as a record (its nodes may be records already),
    refused if nested deeper than any run records."""
    trace = _trace_from(data)
    _check_nesting(trace)
    return trace


#: The most characters of a trace file sigcli reads: about 2,000,000
#: dispatches of one receiver each, which take some 6 GB once read.
LARGEST_TRACE = 1_000_000_000


def _load_whole(path: Path, text: str) -> list[Trace]:
    """Read ``text`` as one JSON document, then turn it into records."""
    try:
        with recursion_room(_JSON_RECURSION):
            document = json.loads(text, parse_constant=_CONSTANTS.__getitem__)
    except RecursionError:
        raise TraceFormatError(f"{path} is not a sigcli trace (nested too deeply)") from None
    except json.JSONDecodeError as exc:
        raise TraceFormatError(
            f"{path} is not a sigcli trace (invalid JSON at line {exc.lineno}: {exc.msg})"
        ) from None
    except ValueError:  # an integer literal longer than Python converts
        raise TraceFormatError(
            f"{path} is not a sigcli trace (a number with too many digits)"
        ) from None
    if not isinstance(document, dict) or "sigcli_trace" not in document:
        raise TraceFormatError(f'{path} is not a sigcli trace (no "sigcli_trace" version key)')
    version = document["sigcli_trace"]
    if type(version) is not int or version != FORMAT_VERSION:  # true == 1 in Python
        raise TraceFormatError(
            f"{path} is a sigcli trace of format version {version!r}; this sigcli reads "
            f"version {FORMAT_VERSION}. Record it again with `sigcli run`."
        )
    try:
        runs = document["runs"] if "runs" in document else [document]
        with recursion_room(_JSON_RECURSION):
            traces = [_trace_from(_obj(run)) for run in _list(runs)]
        for loaded in traces:
            _check_nesting(loaded)
        return traces
    except RecursionError:
        raise TraceFormatError(f"{path} is a damaged sigcli trace (nested too deeply)") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceFormatError(f"{path} is a damaged sigcli trace ({exc})") from None


#: Where the document's lists of nodes are: in the document (one run) or in
#: each of its ``runs``, ``setup`` and each step's ``children``.
_SPINE: dict[str, dict[str, str]] = {
    "document": {"runs": "runs", "setup": "nodes", "steps": "steps"},
    "run": {"setup": "nodes", "steps": "steps"},
    "step": {"children": "nodes"},
}
_ITEMS = {"runs": "run", "steps": "step"}
_SPACE = re.compile(r"[ \t\n\r]*")


class _NotStreamed(Exception):
    """The text is not laid out as :func:`_streamed` reads it."""


def _streamed(text: str) -> Any:
    """The document in ``text``, its nodes already records (see :func:`load`).

    The objects and lists around the nodes are walked here; every other value
    (a node, with its receivers and nested nodes) is parsed by ``json``'s own
    scanner and turned into a record at once.
    """
    decode = json.JSONDecoder(parse_constant=_CONSTANTS.__getitem__).raw_decode
    space = _SPACE.match

    def skip(pos: int) -> int:
        match = space(text, pos)
        return pos if match is None else match.end()

    def value(pos: int, kind: str | None) -> tuple[Any, int]:
        pos = skip(pos)
        if kind in _SPINE and text.startswith("{", pos):
            return members(pos + 1, _SPINE[kind])
        if kind is not None and kind not in _SPINE and text.startswith("[", pos):
            return items(pos + 1, kind)
        return decode(text, pos)

    def members(pos: int, spine: dict[str, str]) -> tuple[dict[str, Any], int]:
        found: dict[str, Any] = {}
        pos = skip(pos)
        if text.startswith("}", pos):
            return found, pos + 1
        while True:
            if not text.startswith('"', pos):
                raise _NotStreamed
            key, pos = decode(text, pos)
            pos = skip(pos)
            if not text.startswith(":", pos):
                raise _NotStreamed
            found[key], pos = value(pos + 1, spine.get(key))
            pos = skip(pos)
            if text.startswith("}", pos):
                return found, pos + 1
            if not text.startswith(",", pos):
                raise _NotStreamed
            pos = skip(pos + 1)

    def items(pos: int, kind: str) -> tuple[list[Any], int]:
        found: list[Any] = []
        pos = skip(pos)
        if text.startswith("]", pos):
            return found, pos + 1
        while True:
            if kind == "nodes":
                node, pos = decode(text, pos)
                found.append(_node_from(_obj(node)))
            else:
                item, pos = value(pos, _ITEMS[kind])
                found.append(item)
            pos = skip(pos)
            if text.startswith("]", pos):
                return found, pos + 1
            if not text.startswith(",", pos):
                raise _NotStreamed
            pos = skip(pos + 1)

    document, end = value(0, "document")
    if skip(end) != len(text):
        raise _NotStreamed
    return document


#: Strings that recur in a trace (signal, sender and receiver names, files,
#: modules) are kept once while a file is read: a third less memory.
_shared: dict[str, str] | None = None


@contextmanager
def _strings_shared() -> Iterator[None]:
    global _shared
    _shared = {}
    try:
        yield
    finally:
        _shared = None


def _one(text: Any) -> Any:
    """``text`` as the copy already read, if any (see :data:`_shared`)."""
    if _shared is None or type(text) is not str:
        return text
    return _shared.setdefault(text, text)


_RECORDS = (Dispatch, Operation, SqlStatement, Output)


def _nodes(value: Any) -> list[Node]:
    """A list of nodes: records already (read by :func:`_streamed`), or JSON objects."""
    return [n if isinstance(n, _RECORDS) else _node_from(_obj(n)) for n in _list(value)]


#: A run nests at most ``--max-depth`` (200) dispatches, each under an
#: operation; values are cut at 8 levels when recorded. Anything deeper in a
#: file was not written by sigcli, and would only exhaust the stack of
#: whatever walks it next (filters, the tree, JSON output).
_MAX_NODE_NESTING = 2 * 200 + 10
_MAX_VALUE_NESTING = 20


def _check_nesting(trace: Trace) -> None:
    """Reject a loaded trace nested deeper than any run records; iterative."""
    pending: list[tuple[list[Node], int]] = [(trace.setup, 1)]
    pending += [(step.children, 1) for step in trace.steps]
    while pending:
        nodes, level = pending.pop()
        if nodes and level > _MAX_NODE_NESTING:
            raise ValueError(f"nodes nested more than {_MAX_NODE_NESTING} levels deep")
        for node in nodes:
            if isinstance(node, Dispatch):
                _check_value(node.kwargs, "kwargs")
                for call in node.receivers:
                    _check_value(call.result, "a result")
                    pending.append((call.children, level + 1))
            elif isinstance(node, Operation):
                pending.append((node.children, level + 1))
            elif isinstance(node, SqlStatement):
                _check_value(node.params, "SQL params")


def _check_value(value: Any, what: str) -> None:
    pending = [(value, 0)]
    while pending:
        item, level = pending.pop()
        if level > _MAX_VALUE_NESTING:
            raise ValueError(f"{what} nested more than {_MAX_VALUE_NESTING} levels deep")
        if isinstance(item, dict):
            pending.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            pending.extend((v, level + 1) for v in item)


def node_json(node: Node, children: bool = True) -> dict[str, Any]:
    """One node as JSON; without ``children``, receivers' nested nodes are left out."""
    if isinstance(node, Dispatch):
        return {
            "type": "dispatch",
            "seq": node.seq,
            "signal": node.signal,
            "sender": node.sender,
            "depth": node.depth,
            "robust": node.robust,
            "kwargs": node.kwargs,
            "error": node.error,
            "receivers": [_receiver_json(c, children) for c in node.receivers],
        }
    if isinstance(node, Operation):
        return {
            "type": "operation",
            "label": node.label,
            "model": node.model,
            "error": node.error,
            "children": [node_json(n) for n in node.children],
        }
    if isinstance(node, Output):
        return {"type": "output", "text": node.text}
    return {"type": "sql", "sql": node.sql, "params": node.params}


def _receiver_json(call: ReceiverCall, children: bool) -> dict[str, Any]:
    fields = {
        "name": call.name,
        "module": call.module,
        "file": call.file,
        "line": call.line,
        "sender_filter": call.sender_filter,
        "weak": call.weak,
        "dispatch_uid": call.dispatch_uid,
        "called": call.called,
        "skipped_reason": call.skipped_reason.value if call.skipped_reason else None,
        "result": call.result,
        "error": call.error,
        "error_propagated": call.error_propagated,
        "children": [node_json(n) for n in call.children] if children else [],
    }
    if call.traceback is not None:  # only a receiver that raised has one
        fields["traceback"] = traceback_json(call.traceback)
    return fields


def traceback_json(traceback: Traceback) -> dict[str, Any]:
    """``{"frames": [{"file", "line", "function", "source"}], "left_out": N}``."""
    return {
        "frames": [
            {"file": f.file, "line": f.line, "function": f.function, "source": f.source}
            for f in traceback.frames
        ],
        "left_out": traceback.left_out,
    }


def _traceback_from(value: Any) -> Traceback | None:
    if value is None:
        return None
    data = _obj(value)
    frames = [
        Frame(
            file=_req(frame, "file", str),
            line=_req(frame, "line", int),
            function=_req(frame, "function", str),
            source=_req(frame, "source", str),
        )
        for frame in map(_obj, _list(data.get("frames", [])))
    ]
    left_out = _req(data, "left_out", int) if "left_out" in data else 0
    return Traceback(frames, left_out)


def connection_json(connection: Connection) -> dict[str, Any]:
    return {
        "signal": connection.signal,
        "name": connection.name,
        "module": connection.module,
        "file": connection.file,
        "line": connection.line,
        "sender_filter": connection.sender_filter,
        "weak": connection.weak,
        "dispatch_uid": connection.dispatch_uid,
        "outcome": connection.outcome.value,
        "called_from": connection.called_from,
        "holder": connection.holder,
        "step": connection.step,
        "after": connection.after,
    }


def _connection_from(data: dict[str, Any]) -> Connection:
    return Connection(
        signal=_req(data, "signal", str),
        name=_one(_req(data, "name", str)),
        module=_one(_opt(data.get("module"), str)),
        file=_one(_opt(data.get("file"), str)),
        line=_opt(data.get("line"), int),
        sender_filter=_one(_opt(data.get("sender_filter"), str)),
        weak=bool(data.get("weak", True)),
        dispatch_uid=_one(_opt(data.get("dispatch_uid"), str)),
        outcome=ConnectionOutcome(data.get("outcome")),
        called_from=_opt(data.get("called_from"), str),
        holder=_opt(data.get("holder"), str),
        step=_opt(data.get("step"), int),
        after=_req(data, "after", int),
    )


def _trace_from(data: dict[str, Any]) -> Trace:
    return Trace(
        scenario=_opt(data.get("scenario"), str),
        error=_opt(data.get("error"), str),
        interrupted=bool(data.get("interrupted", False)),
        not_run=[str(label) for label in _list(data.get("not_run", []))],
        setup=_nodes(data.get("setup", [])),
        connections=[_connection_from(_obj(c)) for c in _list(data.get("connections", []))],
        proxies=_names(data.get("proxies", {})),
        parents=_names(data.get("parents", {})),
        steps=[
            Step(
                label=_req(s, "label", str),
                function=_req(s, "function", str),
                error=_opt(s.get("error"), str),
                error_at=_opt(s.get("error_at"), str),
                children=_nodes(s.get("children", [])),
                traceback=_traceback_from(s.get("traceback")),
            )
            for s in map(_obj, _list(data["steps"]))
        ],
    )


def _node_from(data: dict[str, Any]) -> Node:
    kind = data.get("type")
    if kind == "dispatch":
        return Dispatch(
            seq=_req(data, "seq", int),
            signal=_one(_req(data, "signal", str)),
            sender=_one(_opt(data.get("sender"), str)),
            depth=_req(data, "depth", int),
            kwargs=_obj(data.get("kwargs", {})),
            robust=bool(data.get("robust", False)),
            error=_opt(data.get("error"), str),
            receivers=[_receiver_from(_obj(r)) for r in _list(data.get("receivers", []))],
        )
    if kind == "operation":
        return Operation(
            label=_req(data, "label", str),
            model=_opt(data.get("model"), str),
            error=_opt(data.get("error"), str),
            children=[_node_from(_obj(n)) for n in _list(data.get("children", []))],
        )
    if kind == "sql":
        return SqlStatement(sql=_req(data, "sql", str), params=_list(data.get("params", [])))
    if kind == "output":
        return Output(text=_req(data, "text", str))
    raise ValueError(f"unknown node type {kind!r}")


def _receiver_from(data: dict[str, Any]) -> ReceiverCall:
    reason = data.get("skipped_reason")
    name, module, file, line, sender_filter, weak, dispatch_uid = _connected(data)
    return ReceiverCall(
        name=name,
        module=module,
        file=file,
        line=line,
        sender_filter=sender_filter,
        weak=weak,
        dispatch_uid=dispatch_uid,
        called=bool(data.get("called", False)),
        skipped_reason=None if reason is None else SkipReason(reason),
        result=data.get("result"),
        error=_opt(data.get("error"), str),
        error_propagated=bool(data.get("error_propagated", False)),
        children=[_node_from(_obj(n)) for n in _list(data.get("children", []))],
        traceback=_traceback_from(data.get("traceback")),
    )


def _connected(data: dict[str, Any]) -> tuple[Any, ...]:
    """What a receiver call shares with every call of that receiver, checked
    once per receiver while a file is read (see :data:`_shared`)."""
    get = data.get
    if _shared is not None and "name" in data:
        key = (
            get("name"),
            get("module"),
            get("file"),
            get("line"),
            type(get("line")),
            get("sender_filter"),
            get("weak", True),
            get("dispatch_uid"),
        )
        known = _shared.get(key)  # type: ignore[call-overload]
        if known is not None:
            return known  # type: ignore[no-any-return]
    fields = (
        _one(_req(data, "name", str)),
        _one(_opt(get("module"), str)),
        _one(_opt(get("file"), str)),
        _opt(get("line"), int),
        _one(_opt(get("sender_filter"), str)),
        bool(get("weak", True)),
        _one(_opt(get("dispatch_uid"), str)),
    )
    if _shared is not None and "name" in data:
        _shared[key] = fields  # type: ignore[index, assignment]
    return fields


def _names(value: Any) -> dict[str, str]:
    """A JSON object whose values are all strings."""
    names = _obj(value)
    for key in names:
        _req(names, key, str)
    return dict(names)


def _obj(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {type(value).__name__}")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {type(value).__name__}")
    return value


def _req(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{key!r} should be {kind.__name__}, found {type(value).__name__}")
    return value


def _opt(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__} or null, found {type(value).__name__}")
    return value
