"""Reading a trace file with msgspec; for a filter, only the nodes it keeps become records.

``sigcli trace FILE --sender X`` on a trace of 300,000 dispatches draws a few
hundred of them and counts the rest. Parsing every node into dictionaries
and records would be most of its time and memory. Here msgspec cuts the file into its step-level nodes without parsing
them (``msgspec.Raw``, slices of the file's bytes) and reads each as a
:class:`NodeDigest`: the signals, senders and receivers a filter looks at,
everything else skipped in C. Only the nodes the caller keeps are parsed in
full, by :func:`sigcli.tracefile.node_from`, exactly as ``load`` parses them.
:func:`read` reads every node so, in batches: :func:`sigcli.tracefile.load`
tries it first, as it takes a third of the time and less memory than
parsing with ``json``.

A file that is not laid out as sigcli writes it (another version, a byte
order mark, a value of the wrong type) is left to ``load``, which reads
everything and names what is wrong.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import msgspec

from sigcli import tracefile
from sigcli.trace import FORMAT_VERSION, Node, Trace

__all__ = ["Chooser", "NodeDigest", "ReceiverDigest", "Tally", "read", "skim"]


class ReceiverDigest(msgspec.Struct):
    """What a filter reads of one receiver call."""

    name: str
    called: bool = False
    children: list[NodeDigest] = []


class NodeDigest(msgspec.Struct):
    """What a filter reads of one node: a dispatch's signal, sender and
    receivers, an operation's nested nodes; nothing of SQL or output."""

    type: str
    signal: str | None = None
    sender: str | None = None
    receivers: list[ReceiverDigest] = []
    children: list[NodeDigest] = []


class Tally(msgspec.Struct, array_like=True):
    """One entry of a run's census (:func:`sigcli.tracefile.census`): how
    many dispatches of the steps had this signal, sender and receivers."""

    signal: str
    sender: str | None
    receivers: list[str]
    called: bool
    count: int


class Chooser(Protocol):
    """What a filtered read asks which nodes to read (see :func:`skim`)."""

    def keep(self, node: NodeDigest, always: bool) -> bool:
        """Whether to read ``node`` in full; ``always`` tells a setup node,
        read whatever the answer."""

    def begin(self, census: list[Tally] | None) -> None:
        """A run starts; with its ``census``, :meth:`keep` counts only the
        nodes it keeps, and :meth:`settle` the rest."""

    def satisfied(self) -> bool:
        """Whether no further node would be kept."""

    def settle(self, census: list[Tally]) -> None:
        """The run ended: count from its census what was not kept."""


_KINDS = frozenset({"dispatch", "operation", "sql", "output"})
_Unset = msgspec.UnsetType
_UNSET = msgspec.UNSET


class _Step(msgspec.Struct):
    label: str
    function: str
    error: str | None = None
    error_at: str | None = None
    traceback: msgspec.Raw | _Unset = _UNSET
    children: msgspec.Raw | _Unset = _UNSET


class _Run(msgspec.Struct):
    """One run; every field but the nodes is parsed by ``load``'s own code."""

    steps: list[_Step] | _Unset = _UNSET
    setup: msgspec.Raw | _Unset = _UNSET
    scenario: msgspec.Raw | _Unset = _UNSET
    error: msgspec.Raw | _Unset = _UNSET
    interrupted: msgspec.Raw | _Unset = _UNSET
    not_run: msgspec.Raw | _Unset = _UNSET
    connections: msgspec.Raw | _Unset = _UNSET
    proxies: msgspec.Raw | _Unset = _UNSET
    parents: msgspec.Raw | _Unset = _UNSET
    census: list[Tally] | _Unset = _UNSET


class _Document(_Run):
    sigcli_trace: int | _Unset = _UNSET
    runs: list[_Run] | _Unset = _UNSET


_RUN_FIELDS = ("scenario", "error", "interrupted", "not_run", "connections", "proxies", "parents")
_read_digests = msgspec.json.Decoder(list[NodeDigest]).decode
_read_values = msgspec.json.Decoder(list[Any]).decode
_cut = msgspec.json.Decoder(list[msgspec.Raw]).decode


def read(path: Path) -> list[Trace] | None:
    """Every trace in ``path``, every node a record, as :func:`sigcli.tracefile.load`
    reads them; None when the file is not laid out as sigcli writes it."""
    return _read(path, None)


def skim(path: Path, chooser: Chooser) -> list[Trace] | None:
    """The traces in ``path``, each step holding only the nodes whose digest
    ``chooser.keep`` accepts; setup is read whole. ``keep(digest, always)``
    sees the nodes of setup and steps in order, ``always`` telling a setup
    node, read whatever it answers. In a run with a census, once the chooser
    is satisfied the rest of the steps is not read at all: the chooser
    counts it from the census. None when the file is not laid out as sigcli
    writes it: :func:`sigcli.tracefile.load` reads it then, and says what is
    wrong.

    The nodes left out are checked only as far as their digest goes, or not
    at all once counted from the census.
    """
    return _read(path, chooser)


def _read(path: Path, chooser: Chooser | None) -> list[Trace] | None:
    try:
        if path.stat().st_size > tracefile.LARGEST_TRACE:
            return None
        with open(path, "rb") as file:
            data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        laid_out = _laid_out(data) if chooser is not None else None
        document = laid_out or msgspec.json.decode(data, type=_Document)
        if document.sigcli_trace != FORMAT_VERSION:
            return None
        release = partial(_release, data)
        release()
        runs = [document] if isinstance(document.runs, _Unset) else document.runs
        with tracefile.reading():
            return [_trace(run, chooser, release) for run in runs]
    except Exception:  # noqa: BLE001 - load reads it again, and names the problem
        return None


_STEP = b'\n{"label": '
_CHILDREN = b'"children": ['
_read_step = msgspec.json.Decoder(_Step).decode


def _laid_out(data: mmap.mmap) -> _Document | None:
    """The document of one run in ``data``, its steps found where sigcli
    writes them instead of parsed: a filter that reads the first few
    steps need not go through a file of 240 MB (half a second).

    sigcli's writer begins each step on a line of its own with
    ``{"label": `` and ends it with its ``"children"`` list; a newline is
    never inside a JSON string, so those lines are the steps. None for
    any other layout, several runs among them: the file is decoded whole.
    A step cut wrongly is not JSON, which :func:`skim` leaves to ``load``.
    """
    first = data.find(_STEP)
    if first < 0:
        return None
    try:
        document = msgspec.json.decode(data[:first].rstrip() + b"]}", type=_Document)
    except msgspec.DecodeError:  # several runs, or not laid out so
        return None
    if not isinstance(document.runs, _Unset) or document.steps:
        return None
    end = len(data)
    while end and data[end - 1] in b" \t\r\n":
        end -= 1
    starts = []
    at = first
    while at >= 0:
        starts.append(at + 1)
        at = data.find(_STEP, at + 1)
    view = memoryview(data)
    steps = []
    for start, stop in zip(starts, [s - 2 for s in starts[1:]] + [end - 2], strict=True):
        opening = data.find(_CHILDREN, start, stop)
        if opening < 0 or data[stop - 1 : stop] != b"}" or data[stop - 2 : stop - 1] != b"]":
            return None
        cut = opening + len(_CHILDREN)
        try:
            step = _read_step(data[start:cut] + b"]}")
        except msgspec.DecodeError:
            return None
        step.children = msgspec.Raw(view[cut - 1 : stop - 1])
        steps.append(step)
    document.steps = steps
    return document


def _release(data: mmap.mmap) -> None:
    """Let the system take back the pages of the file read so far.

    The file is mapped, not read into a string: its nodes are slices of
    the mapping (``msgspec.Raw``), and the pages they were read from count
    in the process's memory until released. Released after each batch of
    nodes, the file takes its size in memory only while it is cut into
    nodes, before any record exists (a Django suite's 240 MB trace peaks at
    N× its size instead of 2.7×).
    """
    if hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED)


def _trace(run: _Run, chooser: Chooser | None, release: Callable[[], None]) -> Trace:
    fields: dict[str, Any] = {
        name: tracefile.read_value(bytes(raw))
        for name in _RUN_FIELDS
        if not isinstance(raw := getattr(run, name), _Unset)
    }
    if isinstance(run.steps, _Unset):
        raise ValueError("a run without steps")
    census = None if isinstance(run.census, _Unset) else run.census
    if chooser is not None:
        chooser.begin(census)
    fields["setup"] = _nodes(run.setup, chooser, release, everything=True)
    counted = census is not None
    fields["steps"] = [_step(step, chooser, release, counted) for step in run.steps]
    if chooser is not None and census is not None:
        chooser.settle(census)
    return tracefile.trace_from(fields)


def _nodes(
    raw: msgspec.Raw | _Unset,
    chooser: Chooser | None,
    release: Callable[[], None],
    *,
    everything: bool,
    counted: bool = False,
) -> list[Node]:
    """The records of the nodes in the JSON list ``raw`` that ``chooser``
    keeps, or of all of them (the chooser still sees each; without one, none
    is read as a digest). When the run's nodes are ``counted`` from its
    census, reading stops once the chooser is satisfied."""
    if isinstance(raw, _Unset) or (counted and chooser is not None and chooser.satisfied()):
        return []
    nodes = _cut(raw)
    release()
    kept: list[Node] = []
    for first in range(0, len(nodes), _BATCH):
        if counted and chooser is not None and chooser.satisfied():
            break
        kept += _batch(nodes[first : first + _BATCH], chooser, everything, counted)
        release()
    return kept


def _batch(
    nodes: list[msgspec.Raw], chooser: Chooser | None, everything: bool, counted: bool
) -> list[Node]:
    """The records of the ``nodes`` the chooser keeps (see :func:`_nodes`)."""
    chosen = nodes
    if chooser is not None:
        chosen = []
        for node, digest in zip(nodes, _read_digests(b"[%b]" % b",".join(nodes)), strict=True):
            if digest.type not in _KINDS:
                raise ValueError(f"unknown node type {digest.type!r}")
            if counted and chooser.satisfied():
                break
            if chooser.keep(digest, everything) or everything:
                chosen.append(node)
    if not chosen:
        return []
    return list(map(tracefile.node_from, _read_values(b"[%b]" % b",".join(chosen))))


#: Nodes read as digests at once: few calls, and never a whole huge step's
#: digests in memory (a step of 1,000,000 dispatches took 2.5× the file).
_BATCH = 2000


def _step(
    step: _Step, chooser: Chooser | None, release: Callable[[], None], counted: bool
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "label": step.label,
        "function": step.function,
        "error": step.error,
        "error_at": step.error_at,
    }
    if not isinstance(step.traceback, _Unset):
        fields["traceback"] = tracefile.read_value(bytes(step.traceback))
    fields["children"] = _nodes(step.children, chooser, release, everything=False, counted=counted)
    return fields
