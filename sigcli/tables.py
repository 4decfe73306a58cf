"""The trace as a table, and the receivers a scenario or project connected.

``sigcli trace --format table`` draws one row per dispatch a filter kept;
``sigcli receivers`` lists each signal's receivers with where they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from sigcli.drawing import (
    DEFAULT_LIMIT,
    DIM,
    ERROR,
    HINT,
    SENDER,
    SIGNAL,
    brief,
    count,
    limit_note,
    show_kwarg,
    show_value,
    styled,
    where,
)
from sigcli.query import Selection, instance_of
from sigcli.text import listens_to, printable
from sigcli.trace import Dispatch

#: Columns of the timeline drawn only when some row has a value for them.
_KWARG_COLUMNS = ("action", "created", "pk_set")


def trace_source(path: Path) -> str:
    """``Showing .sigcli/last-trace.json, saved 2026-12-02 21:20 UTC.``: which
    saved trace a view shows, so that an older run is never shown silently."""
    import datetime

    try:
        stamp = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC)
    except OSError:
        return printable(f"Showing {path}.")
    return printable(f"Showing {path}, saved {stamp:%Y-%m-%d %H:%M} UTC.")


def timeline_header(selection: Selection, source: str | None = None) -> Text:
    """``.sigcli/last-trace.json · filter: sender=User · 4 of 10 dispatches``:
    which trace a table shows, and what of it."""
    parts = [source] if source is not None else []
    parts += [
        f"filter: {selection.filters.describe()}",
        f"{selection.passed} of {count(selection.total, 'dispatch', 'dispatches')}",
    ]
    return styled((" · ".join(parts), "bold"))


def timeline_table(selection: Selection, limit: int = DEFAULT_LIMIT) -> Table:
    """The same selection as a flat timeline, one row per dispatch, at most ``limit``.

    A scenario column appears for a trace of several scenarios, and
    ``action``, ``created`` and ``pk_set`` columns when some dispatch has
    them. The last column names every receiver that raised.
    """
    drawn = selection.matches[: limit or None]
    rest = selection.passed - len(drawn)
    caption = limit_note(rest, limit) if rest else None
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        caption=caption,
        caption_justify="left",
    )
    several = any(match.scenario is not None for match in drawn)
    extra = [key for key in _KWARG_COLUMNS if any(key in m.dispatch.kwargs for m in drawn)]
    columns = ["scenario"] if several else []
    columns += [
        "seq",
        "depth",
        "signal",
        "sender",
        "instance",
        *extra,
        "receivers called",
        "errors",
    ]
    for column in columns:
        table.add_column(column, justify="right" if column in ("seq", "depth") else "left")
    for match in drawn:
        dispatch = match.dispatch
        instance = instance_of(dispatch)
        called = [printable(call.name) for call in dispatch.receivers if call.called]
        row: list[RenderableType] = [styled(Path(match.scenario or "").name)] if several else []
        row += [
            str(dispatch.seq),
            str(dispatch.depth),
            styled((dispatch.signal, SIGNAL)),
            styled((dispatch.sender or "-", SENDER)),
            styled(show_value(instance) if instance is not None else "-"),
        ]
        row += [
            styled(show_kwarg(key, dispatch.kwargs[key]) if key in dispatch.kwargs else "-")
            for key in extra
        ]
        row += [styled(", ".join(called) or "-"), _errors(dispatch)]
        table.add_row(*row)
    return table


def _errors(dispatch: Dispatch) -> Text:
    """``✗ notify: ValueError: …`` for each receiver that raised, else ``-``."""
    failures = [call for call in dispatch.receivers if call.called and call.error]
    if not failures:
        return styled("-")
    line = Text()
    for index, call in enumerate(failures):
        where = " (↑ nested)" if call.error_propagated else ""
        separator = "; " if index else ""
        line.append_text(
            styled(
                separator, ("✗ ", ERROR), (f"{call.name}: {brief(call.error or '')}{where}", ERROR)
            )
        )
    return line


# -- receivers after loading ----------------------------------------------------


def receivers_view(
    name: str,
    listing: list[tuple[str, list[Any]]],
    flags: dict[str, list[list[str]]] | None = None,
) -> Tree:
    """Per signal, each connected receiver: where it is and what it listens to,
    and the ``flags`` of each (``why.receiver_flags``) as hints."""
    total = sum(len(infos) for _, infos in listing)
    root = Tree(styled(f"{name} · {count(total, 'receiver')} connected"), guide_style=DIM)
    for signal, infos in listing:
        branch = root.add(styled((signal, SIGNAL)))
        notes = (flags or {}).get(signal) or [[] for _ in infos]
        for info, noted in zip(infos, notes, strict=True):
            line = styled(
                (f"{info.module}:{info.name}", "bold"), f"  {listens_to(info.sender_label)}"
            )
            line.append_text(styled(("  weak" if info.weak else "  strong", DIM)))
            if info.dispatch_uid is not None:
                line.append_text(styled(f"  dispatch_uid={info.dispatch_uid!r}"))
            if info.is_async:
                line.append_text(styled("  async"))
            if info.file:
                line.append_text(styled((f"  {where(info.file, info.line)}", DIM)))
            for note in noted:
                line.append_text(styled((f"  ← {note}", HINT)))
            branch.add(line)
    if not listing:
        root.add(styled(("no receivers connected", DIM)))
    return root


def project_receivers_view(listing: Any) -> Tree:
    """``sigcli receivers --settings``: per signal of a Django project, each
    receiver, flagged when it is connected twice; then the receivers whose
    lazy sender string never resolved (connected to nothing)."""
    total = sum(len(receivers) for _, receivers in listing.signals)
    root = Tree(
        styled(f"{listing.settings} · {count(total, 'receiver')} connected"), guide_style=DIM
    )
    for signal, receivers in listing.signals:
        branch = root.add(styled((signal, SIGNAL)))
        for receiver in receivers:
            info = receiver.info
            if receiver.dead:
                branch.add(styled(("(a receiver whose weak reference died)", DIM)))
                continue
            listens = "any sender" if info.sender_label is None else f"sender={info.sender_label}"
            line = styled((f"{info.module}:{info.name}", "bold"), f"  {listens}")
            line.append_text(styled(("  weak" if info.weak else "  strong", DIM)))
            if info.dispatch_uid is not None:
                line.append_text(styled(f"  dispatch_uid={info.dispatch_uid!r}"))
            line.append_text(styled("  async" if info.is_async else "  sync"))
            if receiver.twice:
                line.append_text(styled(("  connected twice", "bold red")))
            if info.file:
                line.append_text(styled((f"  {where(info.file, info.line)}", DIM)))
            branch.add(line)
    if listing.pending:
        branch = root.add(styled(("never connected: the sender string names no model", "bold red")))
        for waiting in listing.pending:
            info = waiting.info
            line = styled((f"{info.module}:{info.name}", "bold"), f"  {waiting.signal}")
            line.append_text(styled(f"  sender={waiting.reference!r}"))
            if info.file:
                line.append_text(styled((f"  {where(info.file, info.line)}", DIM)))
            branch.add(line)
    return root
