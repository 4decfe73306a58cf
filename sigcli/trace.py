"""A recorded run as plain data: the trace and its nodes.

A :class:`Trace` is a tree of slotted dataclasses: step → operation →
dispatch → receiver → nested operations and dispatches, with values kept as
JSON-safe pictures taken when they were sent. It is built after the run,
from the events the run wrote (:mod:`sigcli.recorder`), saved and loaded as
JSON (:mod:`sigcli.tracefile`), and drawn by :mod:`sigcli.render`. Nothing
here runs, records or draws anything.

The names of those modules are also importable from here, as before the
split (``from sigcli.trace import capture``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sigcli.observation import ConnectionOutcome

__all__ = [
    "FORMAT_VERSION",
    "INIT_SIGNALS",
    "MOST_FRAMES",
    "OUTER_FRAMES",
    "Connection",
    "ConnectionOutcome",
    "DepthLimitExceeded",
    "Dispatch",
    "Frame",
    "Node",
    "Operation",
    "Output",
    "ReceiverCall",
    "SkipReason",
    "SqlStatement",
    "Step",
    "Trace",
    "TraceFormatError",
    "Traceback",
    "is_dispatch_of",
    "signal_name",
    "walk_dispatches",
]

FORMAT_VERSION = 1
INIT_SIGNALS = frozenset({"pre_init", "post_init"})


class SkipReason(enum.Enum):
    """Why a connected receiver was not called by a dispatch."""

    SENDER_MISMATCH = "sender_mismatch"
    DEAD_REFERENCE = "dead_reference"
    DEAD_SENDER = "dead_sender"
    #: Silenced by ``sigcli.mute`` for this send.
    MUTED = "muted"
    NOT_REACHED = "not_reached"


class TraceFormatError(ValueError):
    """A trace file that is not JSON, not a sigcli trace, or of another version."""


class DepthLimitExceeded(RecursionError):
    """Raised into a run when dispatches nest deeper than the recorder allows.

    ``cycle`` is the repeating chain of dispatches and receivers that led
    there, each link written as ``"post_save User › touch"``.
    """

    def __init__(self, limit: int, cycle: list[str]) -> None:
        self.limit = limit
        self.cycle = cycle
        loop = " → ".join([*cycle, cycle[0]]) if cycle else "?"
        super().__init__(
            f"signals nested deeper than {limit} levels; this cycle repeats: {loop}. "
            "A receiver causes the dispatch that calls it again: guard it (check "
            "`created` or `update_fields`), or write with QuerySet.update(), which "
            "sends no signals"
        )


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a traceback: where it was, in which function, and the
    source of its line (empty when the file could not be read)."""

    file: str
    line: int
    function: str
    source: str


#: A traceback keeps at most this many frames: the first ``OUTER_FRAMES``
#: and the innermost, where it raised (a recursion would otherwise keep
#: thousands); ``Traceback.left_out`` counts those between.
MOST_FRAMES = 20
OUTER_FRAMES = 5


@dataclass(slots=True)
class Traceback:
    """The frames of the user's code an exception went through, outermost
    first, as pytest shows them: sigcli's own frames (the dispatcher, the
    call loops, the model layer) are left out. A deep one keeps its first
    :data:`OUTER_FRAMES` and its last frames, :data:`MOST_FRAMES` in all;
    ``left_out`` counts those between."""

    frames: list[Frame]
    left_out: int = 0


@dataclass(slots=True)
class ReceiverCall:
    """One receiver connected to a signal at the moment it was sent."""

    name: str
    module: str | None
    file: str | None
    line: int | None
    sender_filter: str | None
    weak: bool
    dispatch_uid: str | None
    called: bool = False
    skipped_reason: SkipReason | None = None
    result: Any = None
    error: str | None = None
    error_propagated: bool = False
    children: list[Node] = field(default_factory=list)
    #: Where it raised, when it raised itself (not ``error_propagated``).
    traceback: Traceback | None = None


@dataclass(slots=True)
class Dispatch:
    """One ``send`` of a signal, with every receiver it considered."""

    seq: int
    signal: str
    sender: str | None
    depth: int
    kwargs: dict[str, Any]
    receivers: list[ReceiverCall] = field(default_factory=list)
    robust: bool = False
    error: str | None = None


@dataclass(slots=True)
class Operation:
    """An ORM call made by a step or a receiver, with what it caused."""

    label: str
    model: str | None
    children: list[Node] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class SqlStatement:
    """A statement sent to SQLite, with ``?`` placeholders and its parameters."""

    sql: str
    params: list[Any]


@dataclass(slots=True)
class Output:
    """Text the scenario printed, kept where it was printed."""

    text: str


Node = Operation | Dispatch | SqlStatement | Output


@dataclass(slots=True)
class Connection:
    """One change to a signal's receivers, and where it happened in the run:
    during ``step`` (1-based; None while the scenario loaded), after the
    dispatch numbered ``after`` (0: before any)."""

    signal: str
    name: str
    module: str | None
    file: str | None
    line: int | None
    sender_filter: str | None
    weak: bool
    dispatch_uid: str | None
    outcome: ConnectionOutcome
    called_from: str | None = None
    #: The receiver already holding the dispatch_uid (``DISPATCH_UID_TAKEN``).
    holder: str | None = None
    step: int | None = None
    after: int = 0


@dataclass(slots=True)
class Step:
    """One ``@step`` function (or the scenario's ``run()``)."""

    label: str
    function: str
    children: list[Node] = field(default_factory=list)
    error: str | None = None
    error_at: str | None = None
    #: Where the step's own code raised; None when a receiver raised it
    #: (the receiver holds the traceback) or the step did not fail.
    traceback: Traceback | None = None


@dataclass(slots=True)
class Trace:
    """Everything recorded for one scenario: loading (``setup``) and its steps."""

    scenario: str | None
    setup: list[Node] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    error: str | None = None
    interrupted: bool = False
    not_run: list[str] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    #: Proxy model name -> the model it is a proxy of.
    proxies: dict[str, str] = field(default_factory=dict)
    #: Model name -> the model it inherits from (with a table of its own, or abstract).
    parents: dict[str, str] = field(default_factory=dict)

    def dispatches(
        self, signal: object = None, sender: object = None, *, setup: bool = False
    ) -> Iterator[Dispatch]:
        """Every dispatch of the steps (and of setup if asked), in send order;
        only those of ``signal`` and ``sender`` if given (see :func:`is_dispatch_of`)."""
        roots: list[list[Node]] = [self.setup] if setup else []
        roots += [step.children for step in self.steps]
        for nodes in roots:
            for dispatch in walk_dispatches(nodes):
                if is_dispatch_of(dispatch, signal, sender):
                    yield dispatch

    @property
    def failed(self) -> bool:
        return self.error is not None or any(step.error for step in self.steps)


#: Ways to name a signal object that has no ``name`` as traces name it; the
#: testing layer adds Django's (``post_save`` for Django's post_save).
SIGNAL_NAMERS: list[Callable[[object], str | None]] = []


def signal_name(signal: object) -> str:
    """The name a trace gives ``signal`` (given as the signal or its name)."""
    if isinstance(signal, str):
        return signal
    name = getattr(signal, "name", None)
    if isinstance(name, str) and name:
        return name
    for namer in SIGNAL_NAMERS:
        found = namer(signal)
        if found:
            return found
    return f"<Signal at {id(signal):#x}>"


def is_dispatch_of(dispatch: Dispatch, signal: object = None, sender: object = None) -> bool:
    """Whether ``dispatch`` is a send of ``signal`` (the signal, or the name
    the trace gives it) by ``sender`` (a class, or the name the trace gives
    it); ``None`` matches any."""
    from sigcli.snapshot import sender_label

    if signal is not None and dispatch.signal != signal_name(signal):
        return False
    if sender is None:
        return True
    return dispatch.sender == (sender if isinstance(sender, str) else sender_label(sender))


def walk_dispatches(nodes: list[Node]) -> Iterator[Dispatch]:
    """Dispatches under ``nodes``, depth first, in the order they were sent."""
    for node in nodes:
        if isinstance(node, Dispatch):
            yield node
            for call in node.receivers:
                yield from walk_dispatches(call.children)
        elif isinstance(node, Operation):
            yield from walk_dispatches(node.children)


# Names that moved to the modules of each stage, still importable from here.
_MOVED = {
    "json_safe": "sigcli.snapshot",
    "sender_label": "sigcli.snapshot",
    "signal_label": "sigcli.snapshot",
    "LONGEST_REPR": "sigcli.snapshot",
    "printable": "sigcli.text",
    "json_text": "sigcli.text",
    "describe_error": "sigcli.text",
    "Recorder": "sigcli.recorder",
    "PrintedOutput": "sigcli.recorder",
    "recording": "sigcli.recorder",
    "capture": "sigcli.recorder",
    "recursion_room": "sigcli.recorder",
    "dumps": "sigcli.tracefile",
    "save": "sigcli.tracefile",
    "load": "sigcli.tracefile",
    "node_json": "sigcli.tracefile",
}


def __getattr__(name: str) -> Any:
    module_name = _MOVED.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sigcli.trace' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
