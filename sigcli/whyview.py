"""``sigcli why`` as text: one block per verdict, with its evidence and fix."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from sigcli.render import CALLED, DIM, ERROR, SKIPPED
from sigcli.text import printable
from sigcli.why import Answer

#: The verdicts that say it did run; the others say why it did not (or not always).
_GOOD = frozenset({"ran"})


def why_view(answer: Answer) -> Group:
    """The receiver, then each verdict: its code, dispatches, what happened, what to change."""
    parts: list[RenderableType] = []
    head = Text("why ", style="bold")
    if answer.receiver is None:
        head.append(printable(answer.query), style="bold")
    else:
        head.append(printable(answer.receiver.name), style="bold")
        head.append(f"  {printable(answer.receiver.where)}", style=DIM)
    parts.append(head)
    if not answer.verdicts:
        parts.append(Text("  no verdict: the trace shows nothing about it", style=DIM))
    for verdict in answer.verdicts:
        mark, style = ("✓ ", CALLED) if verdict.reason in _GOOD else ("✗ ", SKIPPED)
        if verdict.reason == "raised":
            style = ERROR
        line = Text(f"{mark}{verdict.reason}", style=style)
        if verdict.dispatches:
            line.append("  " + ", ".join(f"#{seq}" for seq in verdict.dispatches[:20]), style=DIM)
            if len(verdict.dispatches) > 20:
                line.append(f" and {len(verdict.dispatches) - 20} more", style=DIM)
        parts.append(line)
        parts.append(Padding(Text(printable(verdict.detail)), (0, 0, 0, 2)))
        if verdict.fix:
            parts.append(Padding(Text(f"fix: {printable(verdict.fix)}", style=DIM), (0, 0, 0, 2)))
    if answer.suggestions:
        parts.append(Text(f"Did you mean: {', '.join(answer.suggestions)}?"))
    return Group(*parts)
