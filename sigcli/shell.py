"""``sigcli shell``: a Python console that draws the signals of each statement.

The console's namespace is the scenario's module (its models, receivers and
signals), plus the usual names (``models``, ``receiver``, ``Signal`` and the
built-in signals) where the scenario did not define them. Its steps run only
with ``--run``. Each statement runs under a fresh recorder; when it sent
anything worth showing, the tree of each ORM call or send it made is printed
right after it, as ``sigcli run`` draws a step. Receivers
connected or disconnected at the prompt act on the very next statement, as
the console works on the scenario's live signals. Without a scenario the
console starts from an empty registry.

Tab completes names where the ``readline`` module is available.
"""

from __future__ import annotations

import code
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigcli.recorder import Recorder
from sigcli.trace import INIT_SIGNALS, Node, Operation, SqlStatement, Trace

if TYPE_CHECKING:
    from types import CodeType

    from rich.console import Console

    from sigcli.scenario import Engine, LoadedScenario


class SignalConsole(code.InteractiveConsole):
    """An interactive console that records each statement and shows its tree."""

    def __init__(
        self,
        namespace: dict[str, Any],
        console: Console,
        max_depth: int = 50,
        engine: Engine | None = None,
    ) -> None:
        from sigcli.scenario import OWN_ENGINE

        super().__init__(namespace, filename="<sigcli shell>")
        self.console = console
        self.max_depth = max_depth
        self.engine = engine or OWN_ENGINE
        self._source = ""

    def runsource(self, source: str, filename: str = "<input>", symbol: str = "single") -> bool:
        self._source = source
        return super().runsource(source, filename, symbol)

    def runcode(self, code: CodeType) -> None:
        trace = Trace(scenario="shell")
        recorder = Recorder(trace, max_depth=self.max_depth)
        recorder.start_step(
            self._source.strip().splitlines()[0] if self._source.strip() else "", ""
        )
        failure: BaseException | None = None
        with self.engine.recording(recorder):
            try:
                exec(code, self.locals)
            except SystemExit:
                raise
            except BaseException as error:
                failure = error
                self.showtraceback()
        recorder.finish_step(failure)
        if worth_showing(trace):
            from sigcli import render

            step = render.run_view(trace).children[0]
            for branch in step.children:
                self.console.print(branch)


def worth_showing(trace: Trace) -> bool:
    """True when the statement sent a signal that the default tree draws, or
    wrote to the database: a write that sent nothing (``update()``,
    ``bulk_create()``) is a lesson too, while a plain query is not."""
    if any(
        d.signal not in INIT_SIGNALS or any(call.called for call in d.receivers)
        for d in trace.dispatches()
    ):
        return True
    return any(_writes(step.children) for step in trace.steps)


def _writes(nodes: list[Node]) -> bool:
    for node in nodes:
        if isinstance(node, SqlStatement) and node.sql.lstrip().upper().startswith(_WRITES):
            return True
        if isinstance(node, Operation) and _writes(node.children):
            return True
    return False


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def enable_completion(namespace: dict[str, Any]) -> bool:
    """Tab completion over ``namespace`` through readline, when it exists."""
    try:
        import readline
        import rlcompleter
    except ImportError:
        return False
    readline.set_completer(rlcompleter.Completer(namespace).complete)
    if "libedit" in (readline.__doc__ or ""):
        readline.parse_and_bind("bind ^I rl_complete")
    else:
        readline.parse_and_bind("tab: complete")
    return True


def banner(scenario: LoadedScenario | None, ran: bool) -> str:
    if scenario is None:
        return (
            "sigcli shell · no scenario: define models and receivers here.\n"
            "The signal tree of each statement is printed after it. Ctrl-D leaves."
        )
    models = ", ".join(sorted(m.__name__ for m in scenario.registry.models.values())) or "none"
    count = len(scenario.steps)
    steps = (
        "its steps ran above"
        if ran
        else f"{count} step{'s' * (count != 1)} not run (--run runs them)"
    )
    return (
        f"sigcli shell · {scenario.path.name} loaded · models: {models} · {steps}.\n"
        "The signal tree of each statement is printed after it. Ctrl-D leaves."
    )


def start(
    name: str | None,
    console: Console,
    *,
    run_steps: bool = False,
    max_depth: int = 50,
    engine: Engine | None = None,
) -> None:
    """Load the scenario ``name`` (or nothing) on ``engine`` (sigcli's own by
    default) and hand the terminal to the console."""
    from sigcli import render, scenario

    engine = engine or scenario.OWN_ENGINE

    with ExitStack() as stack:
        if name is not None:
            path = scenario.resolve(name)
        else:
            path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "shell.py"
            path.write_text('"""An empty scenario: the console starts from nothing."""\n')
        loaded = stack.enter_context(scenario.loaded(path, engine=engine))
        namespace = loaded.module.__dict__
        import sigcli

        for key, value in ({"sigcli": sigcli} | engine.starting_names()).items():
            namespace.setdefault(key, value)
        if run_steps:
            trace = Trace(scenario=str(path))
            recorder = Recorder(trace, max_depth=max_depth)
            with engine.recording(recorder):
                scenario.run_steps(loaded, recorder)
            console.print(render.run_view(trace))
        enable_completion(namespace)
        shell = SignalConsole(namespace, console, max_depth=max_depth, engine=engine)
        sys.ps1, sys.ps2 = ">>> ", "... "
        shell.interact(banner(loaded if name is not None else None, run_steps), exitmsg="")
