"""``sigcli run --step``: pause before each dispatch and show what will happen.

:class:`Stepper` is a journal and ORM observer that wraps the run's recorder:
before handing a dispatch to the recorder it shows the signal, the sender,
the keyword arguments and, for every connected receiver, whether this send
will call it, then waits for a key. Enter goes on to the next dispatch, ``c``
runs to the end without stopping, ``q`` stops the run as Ctrl-C does (the
steps after it are not run; the trace recorded so far is kept).

It does not stop at a dispatch with no receiver connected unless ``--all``:
such a pause would only say that nothing happens.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sigcli import observation
from sigcli.observation import ConnectionChange, Decision, Journal, ReceiverPlan
from sigcli.recorder import Recorder
from sigcli.render import STOPPED_WITH_Q
from sigcli.snapshot import sender_label, signal_label
from sigcli.text import clip, listens_to, printable, safe_repr

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from sigcli.dispatcher import Signal
    from sigcli.scenario import Engine, RunResult

#: The most characters of an argument a pause shows; the trace keeps more.
SHORTEST = 100

PROMPT = "[Enter] next dispatch · c run to the end · q stop"


class StopRun(KeyboardInterrupt):
    """The user pressed ``q``: the run stops the way Ctrl-C stops it."""


def read_key() -> str:
    """One key from the terminal, or one line when stdin is not a terminal.

    The end of input counts as ``c``, so a piped run never hangs.
    """
    if sys.stdin.isatty():
        import click

        try:
            return click.getchar()
        except EOFError:
            return "c"
    line = sys.stdin.readline()
    return line.strip()[:1] if line else "c"


class Stepper(Journal):
    """Pauses before each dispatch of a step, then hands every event on to
    the recorder. The dispatcher writes raw values here (the pause shows
    them as they are); the recorder keeps its own pictures of them."""

    def __init__(
        self,
        recorder: Recorder,
        console: Console,
        read_key: Callable[[], str] = read_key,
        show_all: bool = False,
    ) -> None:
        super().__init__(max_depth=recorder.max_depth)
        self.recorder = recorder
        self.console = console
        self.read_key = read_key
        self.pausing = True
        self.show_all = show_all

    def write(self, event: tuple[Any, ...]) -> None:
        if event[0] == observation.SEND and self.pausing:
            _, _thread, signal, sender, named, plan, robust = event
            if self._worth_a_pause(plan):
                where = self._step_label()
                self.console.print(pause_view(where, signal, sender, named, plan, robust))
                self._wait()
        self.recorder.write_raw(event)

    def too_deep(self, depth: int) -> None:
        self.recorder.too_deep(depth)

    def connection_changed(self, change: ConnectionChange) -> None:
        self.recorder.connection_changed(change)

    def flush(self) -> None:
        self.recorder.flush()

    # ORM observer

    def operation_started(self, label: str, model: str | None) -> None:
        self.recorder.operation_started(label, model)

    def operation_finished(self, error: BaseException | None) -> None:
        self.recorder.operation_finished(error)

    def sql_executed(self, sql: str, params: tuple[object, ...]) -> None:
        self.recorder.sql_executed(sql, params)

    # pausing

    def _worth_a_pause(self, plan: list[ReceiverPlan]) -> bool:
        if not self.recorder.trace.steps:
            return False
        return bool(plan) or self.show_all

    def _step_label(self) -> str:
        steps = self.recorder.trace.steps
        return f"step {len(steps)} · {steps[-1].label}"

    def _wait(self) -> None:
        while True:
            # A terminal hands over everything that arrived at once: "c" and a
            # quick Enter come as "c\r". The first key that is not Enter counts.
            key = self.read_key().lower().strip()[:1]
            if not key:
                return
            if key == "c":
                self.pausing = False
                return
            if key == "q":
                raise StopRun(STOPPED_WITH_Q)
            self.console.print(PROMPT, markup=False, highlight=False)


def pause_view(
    where: str,
    signal: Signal,
    sender: object,
    named: dict[str, Any],
    plan: list[ReceiverPlan],
    robust: bool,
) -> RenderableType:
    """What a pause shows: the dispatch about to happen and who it will call,
    in the tree's words."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from sigcli.render import DIM, SENDER, SIGNAL, SKIPPED

    head = Text.assemble(("⏸ ", "yellow"), (printable(signal_label(signal)), SIGNAL))
    label = sender_label(sender)
    if label is not None:
        head.append_text(Text.assemble("  ", (printable(label), SENDER)))
    if robust:
        head.append("  (send_robust)", style=DIM)
    arguments = Table.grid(padding=(0, 1))
    arguments.add_column(style="cyan", no_wrap=True)
    arguments.add_column()
    for key, value in named.items():
        arguments.add_row(f"  {key}", Text(printable(clip(safe_repr(value), SHORTEST))))
    receivers = Table.grid(padding=(0, 2))
    receivers.add_column(no_wrap=True)
    receivers.add_column()
    if not plan:
        receivers.add_row(Text("  (no receivers)", style=DIM), "")
    for entry in plan:
        listens = listens_to(entry.info.sender_label)
        name = printable(entry.info.name)
        if entry.decision is Decision.CALL:
            mark, verdict = Text("  ✓ " + name, style="green"), f"{listens}  will run"
        elif entry.decision is Decision.SKIP_DEAD:
            mark, verdict = Text("  ○ " + name, style=SKIPPED), "skipped: weak reference is dead"
        elif entry.decision is Decision.SKIP_DEAD_SENDER:
            mark, verdict = Text("  ○ " + name, style=SKIPPED), "skipped: its sender is dead"
        elif entry.decision is Decision.SKIP_MUTED:
            mark, verdict = Text("  ○ " + name, style=SKIPPED), "skipped: muted by sigcli.mute"
        else:
            mark, verdict = Text("  ○ " + name, style=SKIPPED), f"skipped: listens to {listens}"
        receivers.add_row(mark, Text(verdict))
    prompt = Text(PROMPT, style=DIM)
    return Group(Text(where, style=DIM), head, arguments, receivers, prompt)


def run_stepping(
    names: list[str],
    console: Console,
    *,
    read_key: Callable[[], str] = read_key,
    max_depth: int = 50,
    show_all: bool = False,
    keep_going: bool = False,
    engine: Engine | None = None,
) -> RunResult:
    """Run scenarios as ``sigcli run`` does, pausing before each dispatch.

    ``q`` ends the run like Ctrl-C: the result is marked interrupted and its
    traces hold everything recorded up to the pause.
    """
    from sigcli import scenario

    # Pin the console to today's stdout: while the scenario runs, sys.stdout
    # is the stand-in that records its prints, and a pause is not one.
    console.file = console.file
    return scenario.run(
        names,
        max_depth=max_depth,
        engine=engine or scenario.OWN_ENGINE,
        watch=lambda recorder: Stepper(recorder, console, read_key, show_all),
        keep_going=keep_going,
    )
