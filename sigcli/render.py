"""Turning traces into things to look at: rich trees and tables, Mermaid text.

Every string that came from a scenario or a trace file (reprs, labels,
receiver names, error messages) goes into a :class:`rich.text.Text` after
:func:`~sigcli.text.printable`, never into markup, so ``[bold]`` in a repr is shown as typed
and terminal control characters are shown escaped. Nothing here runs a
scenario: the input is always a finished :class:`~sigcli.trace.Trace`.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from rich import box
from rich._export_format import CONSOLE_SVG_FORMAT
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from sigcli import safefile
from sigcli.query import Selection, instance_of
from sigcli.text import clip, listens_to, printable
from sigcli.trace import (
    INIT_SIGNALS,
    Dispatch,
    Node,
    Operation,
    Output,
    ReceiverCall,
    SkipReason,
    SqlStatement,
    Step,
    Trace,
    walk_dispatches,
)
from sigcli.why import hints

SIGNAL = "bold cyan"
SENDER = "green"
CALLED = "green"
SKIPPED = "yellow"
ERROR = "bold red"
DIM = "dim"
HINT = "magenta"

#: Dispatches nested deeper than this are counted, not drawn, unless ``--all``.
DRAWN_DEPTH = 8

#: How many dispatches and ORM calls a tree draws by default (``--limit``).
DEFAULT_LIMIT = 500

#: A receiver reached this many times down one path is a cycle repeating
#: (a post_save receiver saving its own instance): further turns are counted,
#: unless only a dispatch or two are left, which draw as short as the note.
CYCLE_TURNS = 2

_SELECT_COLUMNS = re.compile(r"^SELECT (.+?) FROM ", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ViewOptions:
    """``verbose`` adds receiver locations, full SQL and every keyword argument;
    ``show_all`` unfolds init signals and the setup section; ``limit`` caps the
    dispatches and ORM calls drawn per tree (0: no cap). Less noise, by choice:
    ``hide_skipped`` counts skipped receivers on the dispatch's line instead of
    drawing them, ``sql=False`` leaves SQL out, and ``compact`` draws one line
    per dispatch (its receivers on that line), nested dispatches under it."""

    verbose: bool = False
    show_all: bool = False
    limit: int = DEFAULT_LIMIT
    hide_skipped: bool = False
    sql: bool = True
    compact: bool = False


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
            tree.add(_text((f"⋮ {_left_out(dispatches, operations)} not drawn", DIM)))

    def summary(self) -> Text | None:
        if not (self.cut_dispatches or self.cut_operations):
            return None
        return _text(
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
        return _text(
            (
                f"✂ --limit {limit}: the tree stops at {limit * LINES_PER_ITEM} lines; "
                f"{_count(self.cut, 'more line')} not drawn. Draw more with --limit N "
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
    parts = [_count(dispatches, "more dispatch", "more dispatches")] if dispatches else []
    if operations:
        parts.append(_count(operations, "more ORM call"))
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


def _text(*parts: tuple[str, str] | str, multiline: bool = False) -> Text:
    """Parts of one line, each with its style. A newline in a name or a label
    is shown as ``\\n`` (it would otherwise draw a line of its own, under the
    tree's guides); only printed output and whole error messages keep theirs."""
    line = Text()
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(
            _one_line(_clip(text)) if not multiline else printable(_clip(text)), style=style
        )
    return line


def _one_line(text: str) -> str:
    return printable(text).replace("\n", "\\n")


#: The most characters of one string a view draws (a 2 MB argument would
#: otherwise fill thousands of lines); the trace file keeps it whole.
LONGEST = 1000


def _clip(text: str) -> str:
    return clip(text, LONGEST)


# -- values -------------------------------------------------------------------


def show_value(value: Any, nested: bool = False) -> str:
    """A recorded JSON-safe value as a person reads it.

    Strings at the top level are shown bare (most are reprs taken at send
    time); inside a list or dict they are quoted.
    """
    if isinstance(value, str):
        return repr(value) if nested or not value else value
    if isinstance(value, dict):
        if "model" in value and "pk" in value:
            return str(value.get("repr") or f"<{value['model']}: pk={value['pk']!r}>")
        if "queryset" in value and len(value) == 1:
            return f"<QuerySet of {value['queryset']}>"
        items = (f"{k!r}: {show_value(v, True)}" for k, v in value.items())
        return "{" + _joined(items, len(value)) + "}"
    if isinstance(value, list):
        return "[" + _joined((show_value(v, True) for v in value), len(value)) + "]"
    return repr(value)


#: Characters of a list or dict drawn before the rest is counted: a value
#: of a million items would otherwise be written out whole before a view
#: clips it.
_LONGEST_VALUE = 900


def _joined(parts: Iterator[str], count: int) -> str:
    """The ``parts`` of a list or dict joined, up to :data:`_LONGEST_VALUE`
    characters, then how many items were left out."""
    shown: list[str] = []
    size = 0
    for part in parts:
        if size > _LONGEST_VALUE:
            return ", ".join(shown) + f", … ({count - len(shown)} more items)"
        shown.append(part)
        size += len(part) + 2
    return ", ".join(shown)


#: Django sends these as sets; the trace stores them as sorted lists.
_SET_KWARGS = frozenset({"update_fields", "pk_set"})

_QUIET_DEFAULTS = {"using": "default", "raw": False, "update_fields": None}


def shown_kwargs(dispatch: Dispatch, verbose: bool) -> list[tuple[str, Any]]:
    """The keyword arguments worth a glance: defaults (``using='default'``,
    ``raw=False``, ``update_fields=None``) are left out unless ``verbose``."""
    return [
        (key, value)
        for key, value in dispatch.kwargs.items()
        if verbose or key not in _QUIET_DEFAULTS or _QUIET_DEFAULTS[key] != value
    ]


def inline_sql(sql: str, params: list[Any], verbose: bool = False) -> str:
    """The statement with its ``?`` placeholders replaced by literal values."""
    literals = iter(params)
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote is not None:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append(_sql_literal(next(literals, None)))
            continue
        out.append(char)
    text = "".join(out)
    if not verbose:
        match = _SELECT_COLUMNS.match(text)
        if match and "," in match.group(1):
            text = "SELECT ... FROM " + text[match.end() :]
    return text


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# -- the run tree -------------------------------------------------------------


def is_folded(dispatch: Dispatch, options: ViewOptions) -> bool:
    """Init signals that called nobody are counted, not drawn, unless ``--all``."""
    return (
        not options.show_all
        and dispatch.signal in INIT_SIGNALS
        and not any(call.called for call in dispatch.receivers)
    )


def failed(call: ReceiverCall) -> bool:
    """A receiver that raised, itself or through a nested receiver."""
    return call.called and call.error is not None


def interruption(step: Step) -> str:
    """How the step that was running when the run stopped is labelled."""
    return "stopped with q" if step.error == STOPPED_WITH_Q else "interrupted (Ctrl-C)"


#: What a step stopped by ``q`` in step mode holds as its error.
STOPPED_WITH_Q = "stopped with q"


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
        _count(steps, "step") if not trace.not_run else f"{len(trace.steps)} of {steps} steps run",
        _count(len(dispatches) - folded, "dispatch", "dispatches"),
    ]
    if folded:
        summary.append(f"{folded} pre_init/post_init with no receiver folded")
    if trace.interrupted:
        summary.append("interrupted")
    summary.append(_count(errors, "error") if errors else "no errors")
    return summary


def run_views(traces: list[Trace], options: ViewOptions = ViewOptions()) -> list[Tree]:
    """A tree per run, all drawing from one budget of lines: a file of
    100,000 runs is cut like one run of 100,000 steps, and the runs not
    drawn are counted."""
    lines = _Lines.for_limit(options.limit)
    views: list[Tree] = []
    for index, trace in enumerate(traces):
        if lines.left is not None and lines.left <= 0:
            rest = _count(len(traces) - index, "more run")
            note = f"✂ --limit {options.limit}: {rest} not drawn. Draw more with --limit N"
            views.append(Tree(_text((f"{note} (0 draws everything).", SKIPPED))))
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
    root = _CappedTree(_text(" · ".join(trace_summary(trace, options))), lines, guide_style=DIM)
    if trace.error:
        root.add(_text(("✗ could not run: ", ERROR), (trace.error, ERROR), multiline=True))
    budget = _Budget(options.limit, hints=hints(trace))
    _add_setup(root, trace, options, budget)
    interrupted_step = trace.steps[-1] if trace.interrupted and trace.steps else None
    for number, step in enumerate(trace.steps, 1):
        label = _text((f"{number} · ", "bold"), (step.label, "bold"))
        if step is interrupted_step:
            label.append_text(_text((f"  ✗ {interruption(step)}", ERROR)))
        elif step.error:
            label.append_text(_text(("  ✗ stopped: ", ERROR), (step.error, ERROR), multiline=True))
            if step.error_at and options.verbose:
                label.append_text(_text((f"  at {step.error_at}", DIM)))
        _add_nodes(_add_for(root, step, label), step.children, options, budget)
    why = "the run was interrupted" if trace.interrupted else "an earlier step failed"
    for number, skipped in enumerate(trace.not_run, len(trace.steps) + 1):
        root.add(_text((f"{number} · {skipped}", DIM), (f"  not run: {why}", DIM)))
    for note in (budget.summary(), lines.note(options.limit, _PICK)):
        if note is not None:
            root.children.append(Tree(note))
    return root


_PICK = "pick dispatches with `sigcli trace --signal NAME` or --sender NAME"


def brief(error: str, limit: int = 80) -> str:
    """An error message cut for a tree line; the step's line carries it whole."""
    return error if len(error) <= limit else error[: limit - 1] + "…"


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _add_setup(root: Tree, trace: Trace, options: ViewOptions, budget: _Budget) -> None:
    setup = list(walk_dispatches(trace.setup))
    active = [d for d in setup if any(call.called for call in d.receivers)]
    if not options.show_all and not active:
        return
    branch = root.add(_text(("setup · loading the scenario and creating its tables", "bold")))
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
            _text(
                (
                    f"{_count(quiet, 'other dispatch', 'other dispatches')} "
                    "with no receiver called (--all shows them)",
                    DIM,
                )
            )
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
                note = f"⋮ {_count(deeper, 'more dispatch', 'more dispatches')} nested deeper"
                tree.add(_text((f"{note} (--all draws them)", DIM)))
            elif not is_folded(node, options):
                _add_dispatch(tree, node, options, budget)
        elif isinstance(node, Operation):
            if options.compact:
                _add_nodes(tree, node.children, options, budget)
            else:
                _add_operation(tree, node, options, budget)
        elif options.compact:
            continue
        elif isinstance(node, Output):
            tree.add(_text(("print  ", DIM), node.text.removesuffix("\n"), multiline=True))
        elif options.sql:
            _add_sql(tree, node, options)


def _add_operation(tree: Tree, operation: Operation, options: ViewOptions, budget: _Budget) -> None:
    label = _text(operation.label)
    if not any(True for _ in walk_dispatches(operation.children)):
        label.append_text(_text(("  no signals", SKIPPED)))
    if operation.error:
        label.append_text(_text(("  ✗ ", ERROR), (brief(operation.error), ERROR)))
    _add_hint(label, budget, operation)
    _add_nodes(_add_for(tree, operation, label), operation.children, options, budget)


def _add_sql(tree: Tree, statement: SqlStatement, options: ViewOptions) -> None:
    tree.add(
        _text(("SQL  ", DIM), (inline_sql(statement.sql, statement.params, options.verbose), DIM))
    )


#: Keyword arguments drawn on a dispatch's line; the rest are counted (the
#: trace file and ``--format json`` keep them all).
MOST_KWARGS = 50


def dispatch_line(dispatch: Dispatch, verbose: bool) -> Text:
    """``post_save  User  instance=<User: ann>  created=True``."""
    line = _text((dispatch.signal, SIGNAL))
    if dispatch.sender is not None:
        line.append_text(_text("  ", (dispatch.sender, SENDER)))
    named = shown_kwargs(dispatch, verbose)
    for key, value in named[:MOST_KWARGS]:
        line.append_text(_text(f"  {key}=", show_kwarg(key, value)))
    if len(named) > MOST_KWARGS:
        more = len(named) - MOST_KWARGS
        line.append_text(_text((f"  … {_count(more, 'more keyword argument')}", DIM)))
    if dispatch.robust:
        line.append_text(_text(("  (send_robust)", DIM)))
    if not dispatch.receivers:
        line.append_text(_text(("  (no receivers)", DIM)))
    return line


def show_kwarg(key: str, value: Any) -> str:
    """A keyword argument's value; ``update_fields`` and ``pk_set`` as the sets Django sends."""
    if key in _SET_KWARGS and isinstance(value, list):
        return "{" + ", ".join(show_value(v, True) for v in value) + "}" if value else "set()"
    return show_value(value)


def _skipped_note(skipped: int) -> Text:
    return _text((f"  ({_count(skipped, 'receiver')} skipped)", SKIPPED))


def _compact_line(dispatch: Dispatch, options: ViewOptions) -> Text:
    """``post_save  User  created=True  → ✓ create_profile, ✗ audit raised ValueError: …``."""
    line = dispatch_line(dispatch, options.verbose)
    shown = [call for call in dispatch.receivers if _drawn_when_compact(call)]
    for index, call in enumerate(shown):
        line.append_text(_text(("  → " if index == 0 else ", ", DIM)))
        name = _one_line(call.name)
        if not call.called:
            line.append_text(_text(("· ", DIM), (f"{name} not called", DIM)))
        elif call.error and call.error_propagated:
            kind = call.error.partition(":")[0]
            line.append_text(_text(("✗ ", ERROR), (f"{name} ↑ {kind}", ERROR)))
        elif call.error:
            line.append_text(_text(("✗ ", ERROR), (f"{name} raised {brief(call.error)}", ERROR)))
        else:
            line.append_text(_text(("✓ ", CALLED), (name, CALLED)))
    skipped = len(dispatch.receivers) - len(shown)
    if skipped:
        line.append_text(_skipped_note(skipped))
    return line


def _drawn_when_compact(call: ReceiverCall) -> bool:
    """Called receivers, and those an earlier one kept from being called."""
    return call.called or call.skipped_reason is SkipReason.NOT_REACHED


def _add_dispatch(
    tree: Tree, dispatch: Dispatch, options: ViewOptions, budget: _Budget | None = None
) -> None:
    """The dispatch and its receivers; with a ``budget``, what they caused too."""
    if options.compact:
        branch = _add_for(tree, dispatch, _compact_line(dispatch, options))
    else:
        label = dispatch_line(dispatch, options.verbose)
        _add_hint(label, budget, dispatch)
        skipped = sum(not _drawn_when_compact(call) for call in dispatch.receivers)
        if options.hide_skipped and skipped:
            label.append_text(_skipped_note(skipped))
        branch = _add_for(tree, dispatch, label)
    shown = [
        call
        for call in dispatch.receivers
        if not (options.hide_skipped or options.compact) or _drawn_when_compact(call)
    ]
    width = max((len(_one_line(call.name)) for call in shown), default=0)
    for call in shown:
        if options.compact:
            sub = branch
        else:
            line = receiver_line(call, width, options.verbose, dispatch.robust)
            _add_hint(line, budget, call)
            sub = _add_for(branch, call, line)
        if budget is None:
            continue
        link = f"{dispatch.signal} {dispatch.sender} › {call.name}"
        if not options.show_all and budget.chain.count(link) >= CYCLE_TURNS:
            further, _ = _census(call.children, options)
            if further > 2:
                more = _count(further, "more dispatch", "more dispatches")
                note = f"⋮ {link} again: the cycle repeats, {more} further down (--all draws them)"
                sub.add(_text((note, DIM)))
                continue
        budget.chain.append(link)
        _add_nodes(sub, call.children, options, budget)
        budget.chain.pop()


def _add_hint(line: Text, budget: _Budget | None, node: object) -> None:
    """``  ← Staff is a proxy of User``: the classic mistake this node shows."""
    hint = None if budget is None else budget.hints.get(id(node))
    if hint is not None:
        line.append_text(_text((f"  ← {hint}", HINT)))


def receiver_line(call: ReceiverCall, width: int, verbose: bool, robust: bool = False) -> Text:
    """``✓ audit  any sender``, ``✗ notify  any sender  → raised ValueError: …``
    or ``○ create_profile  skipped: listens to sender=User``."""
    name = _one_line(call.name).ljust(width)
    listens = listens_to(call.sender_filter)
    if call.called and call.error and call.error_propagated:
        kind = call.error.partition(":")[0]
        line = _text(("✗ ", ERROR), (name, ERROR), f"  {listens}")
        line.append_text(_text((f"  ↑ {kind} from a nested receiver", ERROR)))
    elif call.called and call.error:
        line = _text(("✗ ", ERROR), (name, ERROR), f"  {listens}")
        line.append_text(_text(("  → raised ", ERROR), (brief(call.error), ERROR)))
        if robust:
            line.append_text(_text(("  (send_robust returned it)", DIM)))
    elif call.called:
        line = _text(("✓ ", CALLED), (name, CALLED), f"  {listens}")
        if call.result is not None:
            line.append_text(_text(("  → returned ", DIM), (show_value(call.result), DIM)))
    elif call.skipped_reason is SkipReason.SENDER_MISMATCH:
        line = _text(("○ ", SKIPPED), (name, SKIPPED), f"  skipped: listens to {listens}")
    elif call.skipped_reason is SkipReason.DEAD_REFERENCE:
        line = _text(("○ ", SKIPPED), (name, SKIPPED), "  skipped: weak reference is dead")
    elif call.skipped_reason is SkipReason.DEAD_SENDER:
        line = _text(("○ ", SKIPPED), (name, SKIPPED), "  skipped: its sender is dead")
    elif call.skipped_reason is SkipReason.MUTED:
        line = _text(("○ ", SKIPPED), (name, SKIPPED), "  skipped: muted by sigcli.mute")
    else:
        line = _text(("· ", DIM), (name, DIM), ("  not called: an earlier receiver raised", DIM))
    if verbose and call.file:
        line.append_text(_text((f"  {_where(call.file, call.line)}", DIM)))
    return line


def _where(file: str, line: int | None) -> str:
    path = Path(file)
    try:
        path = path.resolve().relative_to(Path.cwd())
    except (OSError, ValueError):
        pass
    return f"{path}:{line}" if line else str(path)


# -- filtered views -----------------------------------------------------------


def selection_view(selection: Selection, options: ViewOptions = ViewOptions()) -> Tree:
    """The dispatches a filter kept, each under a one-line path to where it
    happened, with the dispatcher's own per-receiver decision shown."""
    header = [
        f"filter: {selection.filters.describe()}",
        f"{len(selection.matches)} of {_count(selection.total, 'dispatch', 'dispatches')} shown",
    ]
    hidden = selection.total - len(selection.matches)
    header.append(f"{hidden} hidden{selection.hidden_note()}")
    lines = _Lines.for_limit(options.limit)
    root = _CappedTree(_text(" · ".join(header)), lines, guide_style=DIM)
    branch: Tree | None = None
    previous: tuple[str, ...] | None = None
    drawn = selection.matches[: options.limit or None]
    for match in drawn:
        if match.path != previous:
            branch = root.add(_text((" › ".join(match.path), "bold")))
            previous = match.path
        assert branch is not None
        _add_dispatch(branch, match.dispatch, options)
    rest = len(selection.matches) - len(drawn)
    if rest:
        root.children.append(Tree(_limit_note(rest, options.limit)))
    note = lines.note(options.limit, "narrow the filter")
    if note is not None:
        root.children.append(Tree(note))
    return root


def _limit_note(rest: int, limit: int) -> Text:
    return _text(
        (
            f"✂ --limit {limit}: {_count(rest, 'more dispatch', 'more dispatches')} not drawn. "
            "Draw more with --limit N (0 draws everything), or narrow the filter.",
            SKIPPED,
        )
    )


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
        f"{len(selection.matches)} of {_count(selection.total, 'dispatch', 'dispatches')}",
    ]
    return _text((" · ".join(parts), "bold"))


def timeline_table(selection: Selection, limit: int = DEFAULT_LIMIT) -> Table:
    """The same selection as a flat timeline, one row per dispatch, at most ``limit``.

    A scenario column appears for a trace of several scenarios, and
    ``action``, ``created`` and ``pk_set`` columns when some dispatch has
    them. The last column names every receiver that raised.
    """
    drawn = selection.matches[: limit or None]
    rest = len(selection.matches) - len(drawn)
    caption = _limit_note(rest, limit) if rest else None
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
        row: list[RenderableType] = [_text(Path(match.scenario or "").name)] if several else []
        row += [
            str(dispatch.seq),
            str(dispatch.depth),
            _text((dispatch.signal, SIGNAL)),
            _text((dispatch.sender or "-", SENDER)),
            _text(show_value(instance) if instance is not None else "-"),
        ]
        row += [
            _text(show_kwarg(key, dispatch.kwargs[key]) if key in dispatch.kwargs else "-")
            for key in extra
        ]
        row += [_text(", ".join(called) or "-"), _errors(dispatch)]
        table.add_row(*row)
    return table


def _errors(dispatch: Dispatch) -> Text:
    """``✗ notify: ValueError: …`` for each receiver that raised, else ``-``."""
    failures = [call for call in dispatch.receivers if call.called and call.error]
    if not failures:
        return _text("-")
    line = Text()
    for index, call in enumerate(failures):
        where = " (↑ nested)" if call.error_propagated else ""
        separator = "; " if index else ""
        line.append_text(
            _text(
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
    root = Tree(_text(f"{name} · {_count(total, 'receiver')} connected"), guide_style=DIM)
    for signal, infos in listing:
        branch = root.add(_text((signal, SIGNAL)))
        notes = (flags or {}).get(signal) or [[] for _ in infos]
        for info, noted in zip(infos, notes, strict=True):
            line = _text(
                (f"{info.module}:{info.name}", "bold"), f"  {listens_to(info.sender_label)}"
            )
            line.append_text(_text(("  weak" if info.weak else "  strong", DIM)))
            if info.dispatch_uid is not None:
                line.append_text(_text(f"  dispatch_uid={info.dispatch_uid!r}"))
            if info.is_async:
                line.append_text(_text("  async"))
            if info.file:
                line.append_text(_text((f"  {_where(info.file, info.line)}", DIM)))
            for note in noted:
                line.append_text(_text((f"  ← {note}", HINT)))
            branch.add(line)
    if not listing:
        root.add(_text(("no receivers connected", DIM)))
    return root


def project_receivers_view(listing: Any) -> Tree:
    """``sigcli receivers --settings``: per signal of a Django project, each
    receiver, flagged when it is connected twice; then the receivers whose
    lazy sender string never resolved (connected to nothing)."""
    total = sum(len(receivers) for _, receivers in listing.signals)
    root = Tree(
        _text(f"{listing.settings} · {_count(total, 'receiver')} connected"), guide_style=DIM
    )
    for signal, receivers in listing.signals:
        branch = root.add(_text((signal, SIGNAL)))
        for receiver in receivers:
            info = receiver.info
            if receiver.dead:
                branch.add(_text(("(a receiver whose weak reference died)", DIM)))
                continue
            listens = "any sender" if info.sender_label is None else f"sender={info.sender_label}"
            line = _text((f"{info.module}:{info.name}", "bold"), f"  {listens}")
            line.append_text(_text(("  weak" if info.weak else "  strong", DIM)))
            if info.dispatch_uid is not None:
                line.append_text(_text(f"  dispatch_uid={info.dispatch_uid!r}"))
            line.append_text(_text("  async" if info.is_async else "  sync"))
            if receiver.twice:
                line.append_text(_text(("  connected twice", "bold red")))
            if info.file:
                line.append_text(_text((f"  {_where(info.file, info.line)}", DIM)))
            branch.add(line)
    if listing.pending:
        branch = root.add(_text(("never connected: the sender string names no model", "bold red")))
        for waiting in listing.pending:
            info = waiting.info
            line = _text((f"{info.module}:{info.name}", "bold"), f"  {waiting.signal}")
            line.append_text(_text(f"  sender={waiting.reference!r}"))
            if info.file:
                line.append_text(_text((f"  {_where(info.file, info.line)}", DIM)))
            branch.add(line)
    return root


# -- output -------------------------------------------------------------------


def make_console() -> Console:
    """A console for stdout; plain text when not a terminal or with NO_COLOR.
    Highlighting and emoji codes are off: user text is shown as it is.

    Piped, a line is never wrapped (``grep`` must find what it looks for
    whole) and never ends in spaces."""
    console = Console(highlight=False, emoji=False)
    if console.is_terminal:
        return console
    width = None if "COLUMNS" in os.environ else PIPED_WIDTH  # a width asked for is kept
    piped = cast(IO[str], _NoTrailingSpaces(console.file))
    return Console(file=piped, width=width, highlight=False, emoji=False)


#: Lines written to a pipe are this wide at most: in practice, never wrapped.
PIPED_WIDTH = 100_000


class _NoTrailingSpaces(io.TextIOBase):
    """Writes through to ``stream``, dropping the spaces that end a line (rich
    pads table cells and tree labels); spaces at the end of a write wait for
    what follows them."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._spaces = ""

    def write(self, text: str) -> int:
        text = _TRAILING_SPACES.sub("\n", self._spaces + text)
        kept = text.rstrip(" ")
        self._spaces = text[len(kept) :]
        self._stream.write(kept)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._stream.fileno()


_TRAILING_SPACES = re.compile(r" +\n")


def export(
    path: Path, renderables: Iterable[RenderableType], traces: list[Trace], *, force: bool = False
) -> None:
    """Write the view to ``path``: ``.html`` as a page that folds and filters,
    ``.svg`` as drawn, ``.mmd`` as Mermaid. Nothing in them is fetched from
    the network.

    Each kind carries its marker (:func:`sigcli.safefile.marker`), so that the
    next export may replace it and nothing else (unless ``force``).
    """
    kind = export_kind(path)
    names = printable(", ".join(Path(t.scenario).name for t in traces if t.scenario))
    title = f"sigcli · {names or 'sigcli'}"
    if kind == "mmd":
        text = safefile.marker(kind) + mermaid(traces)
    elif kind == "html":
        from sigcli.html import page

        doctype, _, rest = page(title, renderables).partition("\n")
        text = f"{doctype}\n{safefile.marker(kind)}\n{rest}"
    else:
        console = Console(record=True, file=io.StringIO(), width=120, highlight=False, emoji=False)
        for renderable in renderables:
            console.print(renderable)
        drawn = console.export_svg(title=title, code_format=_SVG_WITHOUT_WEB_FONTS)
        text = f"{safefile.marker(kind)}\n{drawn}"
    safefile.write_text(path, text, kind, force=force)


#: rich's SVG template loads Fira Code from a CDN; without it the picture
#: uses the reader's monospace font and fetches nothing.
_SVG_WITHOUT_WEB_FONTS = re.sub(
    r"@font-face \{\{.*?\}\}\s*", "", CONSOLE_SVG_FORMAT, flags=re.DOTALL
)


def export_kind(path: Path) -> str:
    """``svg``, ``html`` or ``mmd``, from the file name's suffix."""
    return path.suffix.lower().removeprefix(".")


# -- Mermaid --------------------------------------------------------------------


def mermaid(traces: list[Trace]) -> str:
    """A Mermaid sequence diagram: who sent which signal to which receiver.

    Failures are drawn as they are in the tree: a receiver that raised gets a
    crossed arrow and a note with the error, one never reached a dotted
    crossed arrow, a stopped step and the steps never run a note each.
    """
    participants: dict[str, str] = {"scenario": "p0"}
    lines: list[str] = []

    def who(name: str) -> str:
        if name not in participants:
            participants[name] = f"p{len(participants)}"
        return participants[name]

    def note(where: str, text: str) -> None:
        lines.append(f"    Note {where}: {_mermaid_text(text)}")

    def walk(nodes: list[Node], caller: str) -> None:
        for node in nodes:
            if isinstance(node, Operation):
                note(f"over {caller}", node.label)
                walk(node.children, caller)
            elif isinstance(node, Dispatch) and not is_folded(node, ViewOptions()):
                message = _mermaid_text(f"{node.signal} {node.sender or ''}".strip())
                if not node.receivers:
                    lines.append(f"    Note right of {caller}: {message} (no receivers)")
                for call in node.receivers:
                    target = who(call.name)
                    if call.called and call.error:
                        lines.append(f"    {caller}-x{target}: {message}")
                        walk(call.children, target)
                        raised = "↑ from a nested receiver" if call.error_propagated else "raised"
                        returned = " (send_robust returned it)" if node.robust else ""
                        note(f"right of {target}", f"✗ {raised} {brief(call.error)}{returned}")
                    elif call.called:
                        lines.append(f"    {caller}->>{target}: {message}")
                        walk(call.children, target)
                    elif call.skipped_reason is SkipReason.NOT_REACHED:
                        lines.append(
                            f"    {caller}--x{target}: {message} (not called: an earlier receiver raised)"
                        )
                    else:
                        lines.append(f"    {caller}--x{target}: {message} (skipped)")

    for trace in traces:
        if trace.error:
            note("over p0", f"✗ could not run: {brief(trace.error)}")
        interrupted_step = trace.steps[-1] if trace.interrupted and trace.steps else None
        for number, step in enumerate(trace.steps, 1):
            note("over p0", f"{number} · {step.label}")
            walk(step.children, "p0")
            if step is interrupted_step:
                note("over p0", f"✗ {interruption(step)}")
            elif step.error:
                note("over p0", f"✗ stopped: {brief(step.error)}")
        why = "the run was interrupted" if trace.interrupted else "an earlier step failed"
        for number, label in enumerate(trace.not_run, len(trace.steps) + 1):
            note("over p0", f"{number} · {label} (not run: {why})")
    header = ["sequenceDiagram"] + [
        f"    participant {pid} as {_mermaid_text(name)}" for name, pid in participants.items()
    ]
    return "\n".join(header + lines) + "\n"


#: Mermaid's entity codes for what would end a label or start markup; ``%``
#: too, since ``%%{init: ...}%%`` anywhere in the text is a directive that
#: changes how the whole diagram is drawn.
_MERMAID_ESCAPES = {
    "#": "#35;",
    ";": "#59;",
    "<": "#lt;",
    ">": "#gt;",
    "%": "#37;",
    "\n": " ",
    "\r": " ",
}


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in printable(text))
