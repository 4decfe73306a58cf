"""The trees of a trace: the run as it happened, and the dispatches a filter kept.

A tree draws at most ``--limit`` dispatches and ORM calls and a number of
lines per item, then counts what it left out; ``--compact`` draws one line
per dispatch, ``--hide-skipped`` counts skipped receivers on the
dispatch's line. How each line reads is :mod:`sigcli.drawing`'s; the table
is :mod:`sigcli.tables`', files and Mermaid :mod:`sigcli.exports`'. Their
public names are importable from here too. Nothing here runs a scenario:
the input is always a finished :class:`~sigcli.trace.Trace`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import groupby, islice
from operator import attrgetter
from pathlib import Path
from typing import Any, cast

from rich.console import RenderableType
from rich.text import Text
from rich.tree import Tree

from sigcli.drawing import (
    CALLED,
    DEFAULT_LIMIT,
    DIM,
    ERROR,
    HINT,
    SENDER,
    SIGNAL,
    SKIPPED,
    STOPPED_WITH_Q,
    ViewOptions,
    brief,
    count,
    dispatch_line,
    failed,
    inline_sql,
    interruption,
    is_folded,
    limit_note,
    one_line,
    receiver_line,
    show_kwarg,
    show_value,
    shown_kwargs,
    styled,
    traceback_text,
)
from sigcli.exports import export, export_kind, make_console, mermaid
from sigcli.query import Match, Selection
from sigcli.tables import (
    project_receivers_view,
    receivers_view,
    timeline_header,
    timeline_table,
    trace_source,
)
from sigcli.trace import (
    Dispatch,
    Node,
    Operation,
    Output,
    ReceiverCall,
    SkipReason,
    SqlStatement,
    Step,
    Trace,
    Traceback,
    walk_dispatches,
)
from sigcli.why import hints

__all__ = [
    "CALLED",
    "DEFAULT_LIMIT",
    "DIM",
    "ERROR",
    "HINT",
    "SENDER",
    "SIGNAL",
    "SKIPPED",
    "STOPPED_WITH_Q",
    "ViewOptions",
    "brief",
    "dispatch_line",
    "export",
    "export_kind",
    "failed",
    "inline_sql",
    "interruption",
    "is_folded",
    "make_console",
    "mermaid",
    "project_receivers_view",
    "receiver_line",
    "receivers_view",
    "run_view",
    "run_views",
    "selection_view",
    "show_kwarg",
    "show_value",
    "shown_kwargs",
    "timeline_header",
    "timeline_table",
    "trace_source",
    "trace_summary",
]

#: Dispatches nested deeper than this are counted, not drawn, unless ``--all``.
DRAWN_DEPTH = 8

#: A receiver reached this many times down one path is a cycle repeating
#: (a post_save receiver saving its own instance): further turns are counted,
#: unless only a dispatch or two are left, which draw as short as the note.
CYCLE_TURNS = 2


@dataclass(slots=True)
class _Budget:
    """What a tree may still draw under ``--limit``, and what it left out.

    A run of 200,000 dispatches would print for minutes and scroll away
    everything useful, so the tree stops drawing at the limit and counts
    the rest instead. ``chain`` holds the ``signal sender › receiver`` links
    open above the node being drawn, to see a cycle come round again.
    """

    limit: int
    drawn: int = 0
    cut_dispatches: int = 0
    cut_operations: int = 0
    chain: list[str] = field(default_factory=list)
    #: Notes on classic mistakes (``why.hints``), by the id of their node.
    hints: dict[int, str] = field(default_factory=dict)

    def take(self) -> bool:
        if self.limit and self.drawn >= self.limit:
            return False
        self.drawn += 1
        return True

    def leave_out(self, tree: Tree, nodes: list[Node], options: ViewOptions) -> None:
        """Count ``nodes`` as not drawn, with one line saying so where they were."""
        dispatches, operations = _census(nodes, options)
        self.cut_dispatches += dispatches
        self.cut_operations += operations
        if dispatches or operations:
            tree.add(styled((f"⋮ {_left_out(dispatches, operations)} not drawn", DIM)))

    def summary(self) -> Text | None:
        if not (self.cut_dispatches or self.cut_operations):
            return None
        return styled(
            (
                f"✂ --limit {self.limit}: {_left_out(self.cut_dispatches, self.cut_operations)} "
                "not drawn. Draw more with --limit N (0 draws everything), or pick "
                "dispatches with `sigcli trace --signal NAME` or --sender NAME.",
                SKIPPED,
            )
        )


#: Whatever the nodes are, a tree draws at most this many lines per ``--limit``
#: item: SQL, printed output, receivers and steps are not what ``--limit``
#: counts, and a trace file may hold a million of any of them.
LINES_PER_ITEM = 20


@dataclass(slots=True)
class _Lines:
    """The lines a tree may still add (``None``: no cap), and how many it did not."""

    left: int | None
    cut: int = 0

    @classmethod
    def for_limit(cls, limit: int) -> _Lines:
        return cls(limit * LINES_PER_ITEM if limit else None)

    def note(self, limit: int, narrow: str) -> Text | None:
        if not self.cut:
            return None
        return styled(
            (
                f"✂ --limit {limit}: the tree stops at {limit * LINES_PER_ITEM} lines; "
                f"{count(self.cut, 'more line')} not drawn. Draw more with --limit N "
                f"(0 draws everything), or {narrow}.",
                SKIPPED,
            )
        )


class _CappedTree(Tree):
    """A :class:`Tree` whose nodes stop adding children once ``lines`` runs out.

    ``source`` is the record a node draws (a step, a dispatch, a receiver
    call), so that another output (the HTML page) can draw the same tree
    and still know what each line is about.
    """

    def __init__(self, label: RenderableType, lines: _Lines, **options: Any) -> None:
        super().__init__(label, **options)
        self.lines = lines
        self.source: Step | Dispatch | ReceiverCall | Operation | None = None

    def add(
        self,
        label: RenderableType,
        *,
        style: Any = None,
        guide_style: Any = None,
        expanded: bool = True,
        highlight: bool | None = False,
    ) -> Tree:
        node = _CappedTree(
            label,
            self.lines,
            style=self.style if style is None else style,
            guide_style=self.guide_style if guide_style is None else guide_style,
            expanded=expanded,
            highlight=self.highlight if highlight is None else highlight,
        )
        if self.lines.left is None or self.lines.left > 0:
            if self.lines.left is not None:
                self.lines.left -= 1
            self.children.append(node)
        else:
            self.lines.cut += 1
        return node


def _add_for(tree: Tree, source: Step | Dispatch | ReceiverCall | Operation, label: Text) -> Tree:
    """Add a node drawing ``source`` under ``tree``."""
    node = tree.add(label)
    if isinstance(node, _CappedTree):
        node.source = source
    return node


def _left_out(dispatches: int, operations: int) -> str:
    parts = [count(dispatches, "more dispatch", "more dispatches")] if dispatches else []
    if operations:
        parts.append(count(operations, "more ORM call"))
    return " and ".join(parts)


def _census(nodes: list[Node], options: ViewOptions) -> tuple[int, int]:
    """Dispatches (folded ones aside) and operations under ``nodes``; iterative."""
    dispatches = operations = 0
    pending = [nodes]
    while pending:
        for node in pending.pop():
            if isinstance(node, Dispatch):
                dispatches += not is_folded(node, options)
                pending.extend(call.children for call in node.receivers)
            elif isinstance(node, Operation):
                operations += 1
                pending.append(node.children)
    return dispatches, operations


# -- the run tree -------------------------------------------------------------


def trace_summary(trace: Trace, options: ViewOptions) -> list[str]:
    """``profiles.py · 3 steps · 10 dispatches · … · no errors``, in parts."""
    dispatches = list(trace.dispatches())
    folded = sum(1 for d in dispatches if is_folded(d, options))
    interrupted_step = trace.steps[-1] if trace.interrupted and trace.steps else None
    errors = sum(1 for step in trace.steps if step.error and step is not interrupted_step)
    errors += trace.error is not None
    steps = len(trace.steps) + len(trace.not_run)
    summary = [
        Path(trace.scenario).name if trace.scenario else "capture",
        count(steps, "step") if not trace.not_run else f"{len(trace.steps)} of {steps} steps run",
        count(len(dispatches) - folded, "dispatch", "dispatches"),
    ]
    if folded:
        summary.append(f"{folded} pre_init/post_init with no receiver folded")
    if trace.interrupted:
        summary.append("interrupted")
    summary.append(count(errors, "error") if errors else "no errors")
    return summary


def run_views(traces: list[Trace], options: ViewOptions = ViewOptions()) -> list[Tree]:
    """A tree per run, all drawing from one budget of lines: a file of
    100,000 runs is cut like one run of 100,000 steps, and the runs not
    drawn are counted."""
    lines = _Lines.for_limit(options.limit)
    views: list[Tree] = []
    for index, trace in enumerate(traces):
        if lines.left is not None and lines.left <= 0:
            rest = count(len(traces) - index, "more run")
            note = f"✂ --limit {options.limit}: {rest} not drawn. Draw more with --limit N"
            views.append(Tree(styled((f"{note} (0 draws everything).", SKIPPED))))
            break
        if lines.left is not None and index:
            lines.left -= 1  # the summary line of a run after the first
        views.append(run_view(trace, options, lines))
    return views


def run_view(
    trace: Trace, options: ViewOptions = ViewOptions(), lines: _Lines | None = None
) -> Tree:
    """The whole trace of one scenario as a tree, with a summary line on top;
    ``lines`` is the budget of lines it draws from (its own by default)."""
    lines = _Lines.for_limit(options.limit) if lines is None else lines
    root = _CappedTree(styled(" · ".join(trace_summary(trace, options))), lines, guide_style=DIM)
    if trace.error:
        root.add(styled(("✗ could not run: ", ERROR), (trace.error, ERROR), multiline=True))
    budget = _Budget(options.limit, hints=hints(trace))
    _add_setup(root, trace, options, budget)
    interrupted_step = trace.steps[-1] if trace.interrupted and trace.steps else None
    for number, step in enumerate(trace.steps, 1):
        label = styled((f"{number} · ", "bold"), (step.label, "bold"))
        if step is interrupted_step:
            label.append_text(styled((f"  ✗ {interruption(step)}", ERROR)))
        elif step.error:
            label.append_text(styled(("  ✗ stopped: ", ERROR), (step.error, ERROR), multiline=True))
            if step.error_at and options.verbose:
                label.append_text(styled((f"  at {step.error_at}", DIM)))
        branch = _add_for(root, step, label)
        shown = step.traceback if options.verbose and step is not interrupted_step else None
        if not options.limit:  # nothing is cut: drawn node by node as it is printed
            made = partial(_unfolded, branch, lines, step, options, budget, shown)
            branch.children = cast(list[Tree], _Unfolding(made))
            continue
        _add_nodes(branch, step.children, options, budget)
        if shown is not None:
            branch.add(traceback_text(shown, step.error))
    why = "the run was interrupted" if trace.interrupted else "an earlier step failed"
    for number, skipped in enumerate(trace.not_run, len(trace.steps) + 1):
        root.add(styled((f"{number} · {skipped}", DIM), (f"  not run: {why}", DIM)))
    for note in (budget.summary(), lines.note(options.limit, _PICK)):
        if note is not None:
            root.children.append(Tree(note))
    return root


_PICK = "pick dispatches with `sigcli trace --signal NAME` or --sender NAME"


class _Unfolding:
    """The children of a step's branch, made as they are drawn.

    ``--limit 0`` draws every dispatch: a tree of 200,000 of them held
    whole took 11× the trace file's size. rich asks a branch's children
    whether there are any, how many (one, or more), and then goes through
    them once; so only the node being drawn, and the one after it, exist
    at a time. Going through them again (an export after the terminal)
    makes them anew.
    """

    def __init__(self, make: Callable[[], Iterator[Tree]]) -> None:
        self._make = make
        self._begun: tuple[list[Tree], Iterator[Tree]] | None = None

    def _first(self) -> list[Tree]:
        if self._begun is None:
            children = self._make()
            self._begun = (list(islice(children, 2)), children)
        return self._begun[0]

    def __len__(self) -> int:
        """0, 1, or 2 for more: all that rich reads of it."""
        return len(self._first())

    def __iter__(self) -> Iterator[Tree]:
        first, rest = self._begun if self._begun is not None else ([], self._make())
        self._begun = None
        yield from first
        yield from rest

    def __reversed__(self) -> Iterator[Tree]:
        return reversed(list(self))


def _unfolded(
    branch: Tree,
    lines: _Lines,
    step: Step,
    options: ViewOptions,
    budget: _Budget,
    traceback: Traceback | None,
) -> Iterator[Tree]:
    """What :func:`run_view` adds under a step's ``branch``, a node at a time."""
    holder = _holder(branch, lines)
    for node in step.children:
        _add_nodes(holder, [node], options, budget)
        made, holder.children = holder.children, []
        yield from made
    if traceback is not None:
        yield holder.add(traceback_text(traceback, step.error))


def _add_setup(root: Tree, trace: Trace, options: ViewOptions, budget: _Budget) -> None:
    setup = list(walk_dispatches(trace.setup))
    active = [d for d in setup if any(call.called for call in d.receivers)]
    if not options.show_all and not active:
        return
    branch = root.add(styled(("setup · loading the scenario and creating its tables", "bold")))
    if options.show_all:
        _add_nodes(branch, trace.setup, options, budget)
        return
    for index, dispatch in enumerate(active):
        if not budget.take():
            budget.leave_out(branch, list(active[index:]), options)
            break
        _add_dispatch(branch, dispatch, options, budget)
    quiet = len(setup) - len(active)
    if quiet:
        branch.add(
            styled(
                (
                    f"{count(quiet, 'other dispatch', 'other dispatches')} "
                    "with no receiver called (--all shows them)",
                    DIM,
                )
            )
        )


def _holder(branch: Tree, lines: _Lines) -> _CappedTree:
    """A stand-in for ``branch`` that nodes are added to, to be drawn under it."""
    return _CappedTree(
        branch.label,
        lines,
        style=branch.style,
        guide_style=branch.guide_style,
        highlight=branch.highlight,
    )


def _add_nodes(tree: Tree, nodes: list[Node], options: ViewOptions, budget: _Budget) -> None:
    for index, node in enumerate(nodes):
        counted = isinstance(node, Operation) or (
            isinstance(node, Dispatch) and not is_folded(node, options)
        )
        if counted and not budget.take():
            budget.leave_out(tree, nodes[index:], options)
            return
        if isinstance(node, Dispatch):
            if node.depth > DRAWN_DEPTH and not options.show_all:
                deeper = sum(1 for _ in walk_dispatches([node]))
                note = f"⋮ {count(deeper, 'more dispatch', 'more dispatches')} nested deeper"
                tree.add(styled((f"{note} (--all draws them)", DIM)))
            elif not is_folded(node, options):
                _add_dispatch(tree, node, options, budget)
        elif isinstance(node, Operation):
            if options.compact:
                hint = budget.hints.get(id(node))
                if hint is not None:  # the ORM call is not drawn, its hint is
                    tree.add(styled(node.label, (f"  ← {hint}", HINT)))
                _add_nodes(tree, node.children, options, budget)
            else:
                _add_operation(tree, node, options, budget)
        elif options.compact:
            continue
        elif isinstance(node, Output):
            tree.add(styled(("print  ", DIM), node.text.removesuffix("\n"), multiline=True))
        elif options.sql:
            _add_sql(tree, node, options)


def _add_operation(tree: Tree, operation: Operation, options: ViewOptions, budget: _Budget) -> None:
    label = styled(operation.label)
    if not any(True for _ in walk_dispatches(operation.children)):
        label.append_text(styled(("  no signals", SKIPPED)))
    if operation.error:
        label.append_text(styled(("  ✗ ", ERROR), (brief(operation.error), ERROR)))
    _add_hint(label, budget.hints, operation)
    _add_nodes(_add_for(tree, operation, label), operation.children, options, budget)


def _add_sql(tree: Tree, statement: SqlStatement, options: ViewOptions) -> None:
    tree.add(
        styled(("SQL  ", DIM), (inline_sql(statement.sql, statement.params, options.verbose), DIM))
    )


def _skipped_note(skipped: int) -> Text:
    return styled((f"  ({count(skipped, 'receiver')} skipped)", SKIPPED))


def _compact_line(dispatch: Dispatch, options: ViewOptions) -> Text:
    """``post_save  User  created=True  → ✓ create_profile, ✗ audit raised ValueError: …``."""
    line = dispatch_line(dispatch, options.verbose)
    shown = [call for call in dispatch.receivers if _drawn_when_compact(call)]
    for index, call in enumerate(shown):
        line.append_text(styled(("  → " if index == 0 else ", ", DIM)))
        name = one_line(call.name)
        if not call.called:
            line.append_text(styled(("· ", DIM), (f"{name} not called", DIM)))
        elif call.error and call.error_propagated:
            kind = call.error.partition(":")[0]
            line.append_text(styled(("✗ ", ERROR), (f"{name} ↑ {kind}", ERROR)))
        elif call.error:
            line.append_text(styled(("✗ ", ERROR), (f"{name} raised {brief(call.error)}", ERROR)))
        else:
            line.append_text(styled(("✓ ", CALLED), (name, CALLED)))
    skipped = len(dispatch.receivers) - len(shown)
    if skipped:
        line.append_text(_skipped_note(skipped))
    return line


def _drawn_when_compact(call: ReceiverCall) -> bool:
    """Called receivers, and those an earlier one kept from being called."""
    return call.called or call.skipped_reason is SkipReason.NOT_REACHED


def _add_dispatch(
    tree: Tree,
    dispatch: Dispatch,
    options: ViewOptions,
    budget: _Budget | None = None,
    notes: dict[int, str] | None = None,
) -> None:
    """The dispatch and its receivers; with a ``budget``, what they caused
    too. ``notes`` are the hints on classic mistakes (the budget's if it
    has one): every view shows those of what it draws, and the compact and
    ``--hide-skipped`` views those of the receivers they leave out on the
    dispatch's line."""
    notes = budget.hints if budget is not None else notes or {}
    hides = options.hide_skipped or options.compact
    if options.compact:
        label = _compact_line(dispatch, options)
        _add_hint(label, notes, dispatch)
    else:
        label = dispatch_line(dispatch, options.verbose)
        _add_hint(label, notes, dispatch)
        skipped = sum(not _drawn_when_compact(call) for call in dispatch.receivers)
        if options.hide_skipped and skipped:
            label.append_text(_skipped_note(skipped))
    shown = [call for call in dispatch.receivers if not hides or _drawn_when_compact(call)]
    for call in dispatch.receivers if hides else ():
        hint = notes.get(id(call))
        if hint is not None and (options.compact or not _drawn_when_compact(call)):
            label.append_text(styled((f"  ← {one_line(call.name)}: {hint}", HINT)))
    branch = _add_for(tree, dispatch, label)
    width = max((len(one_line(call.name)) for call in shown), default=0)
    for call in shown:
        if options.compact:
            sub = branch
        else:
            line = receiver_line(call, width, options.verbose, dispatch.robust)
            _add_hint(line, notes, call)
            sub = _add_for(branch, call, line)
        if budget is not None:
            # What it did, unless a cycle comes round again (written out
            # here: a trace nests hundreds deep, and so does drawing it).
            link = f"{dispatch.signal} {dispatch.sender} › {call.name}"
            further = 0
            if not options.show_all and budget.chain.count(link) >= CYCLE_TURNS:
                further = _census(call.children, options)[0]
            if further > 2:
                more = count(further, "more dispatch", "more dispatches")
                note = f"⋮ {link} again: the cycle repeats, {more} further down (--all draws them)"
                sub.add(styled((note, DIM)))
            else:
                budget.chain.append(link)
                _add_nodes(sub, call.children, options, budget)
                budget.chain.pop()
        if options.verbose and call.traceback is not None:
            sub.add(
                traceback_text(call.traceback, call.error, call.name if options.compact else None)
            )


def _add_hint(line: Text, notes: dict[int, str], node: object) -> None:
    """``  ← Staff is a proxy of User``: the classic mistake this node shows."""
    hint = notes.get(id(node))
    if hint is not None:
        line.append_text(styled((f"  ← {hint}", HINT)))


# -- filtered views -----------------------------------------------------------


def selection_view(
    selection: Selection, options: ViewOptions = ViewOptions(), traces: Iterable[Trace] = ()
) -> Tree:
    """The dispatches a filter kept, each under a one-line path to where it
    happened, with the dispatcher's own per-receiver decision shown, and the
    hints on classic mistakes that ``traces`` (those selected from) prove."""
    notes: dict[int, str] = {}
    traces = list(traces)
    for trace in traces:
        notes.update(hints(trace))
    header = [
        f"filter: {selection.filters.describe()}",
        f"{selection.passed} of {count(selection.total, 'dispatch', 'dispatches')} shown",
    ]
    hidden = selection.total - selection.passed
    header.append(f"{hidden} hidden{selection.hidden_note()}")
    lines = _Lines.for_limit(options.limit)
    root = _CappedTree(styled(" · ".join(header)), lines, guide_style=DIM)
    if not options.limit:  # nothing is cut: drawn as it is printed, as run_view does
        rest = selection.passed - len(selection.matches)
        made = partial(_selected, root, lines, selection.matches, options, notes, traces, rest)
        root.children = cast(list[Tree], _Unfolding(made))
        return root
    branch: Tree | None = None
    previous: tuple[str, ...] | None = None
    drawn = selection.matches[: options.limit]
    for match in drawn:
        if match.path != previous:
            branch = root.add(styled((" › ".join(match.path), "bold")))
            previous = match.path
        assert branch is not None
        _add_dispatch(branch, match.dispatch, options, notes=notes)
    for line in _hinted_lines(traces, notes):
        root.add(line)
    rest = selection.passed - len(drawn)
    if rest:
        root.children.append(Tree(limit_note(rest, options.limit)))
    note = lines.note(options.limit, "narrow the filter")
    if note is not None:
        root.children.append(Tree(note))
    return root


def _selected(
    root: Tree,
    lines: _Lines,
    matches: list[Match],
    options: ViewOptions,
    notes: dict[int, str],
    traces: list[Trace],
    rest: int,
) -> Iterator[Tree]:
    """What :func:`selection_view` adds under its ``root``, a path at a time,
    each path's dispatches made as they are drawn; ``rest`` counts those
    that passed but were not read."""
    holder = _holder(root, lines)
    for path, group in groupby(matches, key=attrgetter("path")):
        branch = holder.add(styled((" › ".join(path), "bold")))
        holder.children = []
        made = partial(_selected_dispatches, branch, lines, list(group), options, notes)
        branch.children = cast(list[Tree], _Unfolding(made))
        yield branch
    for line in _hinted_lines(traces, notes):
        yield holder.add(line)
    if rest:
        yield Tree(limit_note(rest, options.limit))


def _selected_dispatches(
    branch: Tree, lines: _Lines, matches: list[Match], options: ViewOptions, notes: dict[int, str]
) -> Iterator[Tree]:
    holder = _holder(branch, lines)
    for match in matches:
        _add_dispatch(holder, match.dispatch, options, notes=notes)
        made, holder.children = holder.children, []
        yield from made


def _hinted_lines(traces: list[Trace], notes: dict[int, str]) -> Iterator[Text]:
    """``← 2 · label › pizza.toppings.add(...)  no m2m_changed: …``: no
    dispatch draws an ORM call whose mistake is a signal it did not send."""
    for path, operation in _hinted_operations(traces, notes):
        line = styled(("← ", HINT), (" › ".join(path), "bold"))
        line.append_text(styled((f"  {notes[id(operation)]}", HINT)))
        yield line


def _hinted_operations(
    traces: list[Trace], notes: dict[int, str]
) -> Iterator[tuple[tuple[str, ...], Operation]]:
    """The ORM calls ``notes`` has a hint for, each with the path of its
    step, and its scenario when there are several; iterative, as a trace
    nests hundreds deep."""
    for trace in traces:
        prefix = (Path(trace.scenario or "capture").name,) if len(traces) > 1 else ()
        for number, step in enumerate(trace.steps, 1):
            pending: list[list[Node]] = [step.children]
            while pending:
                for node in pending.pop():
                    if isinstance(node, Operation):
                        if id(node) in notes:
                            yield (*prefix, f"{number} · {step.label}", node.label), node
                        pending.append(node.children)
                    elif isinstance(node, Dispatch):
                        pending.extend(call.children for call in node.receivers)
