"""Where views go: the console, exported files (HTML, SVG, Mermaid).

Piped output is never wrapped and never ends a line in spaces; every
exported file is self-contained and carries sigcli's marker, so that the
next export may replace it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import islice
from pathlib import Path
from typing import IO, cast

from rich._export_format import CONSOLE_SVG_FORMAT
from rich._loop import loop_first, loop_last
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment, Segments
from rich.style import Style, StyleStack
from rich.text import Text
from rich.tree import Tree

from sigcli import safefile
from sigcli.drawing import ViewOptions, brief, interruption, is_folded
from sigcli.text import printable
from sigcli.trace import Dispatch, Node, Operation, SkipReason, Trace

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


def write_view(console: Console, renderable: RenderableType) -> None:
    """``console.print(renderable)``, written a thousand lines at a time.

    ``print`` renders the whole renderable before it writes: for a tree of
    200,000 dispatches, millions of segments held at once, and nothing on
    the screen until the end. The lines are the same: rendered with the
    options ``print`` uses, cropped to the console's width as it crops them.
    A tree on a console without colours or styles (piped, or NO_COLOR off a
    terminal) is drawn by :func:`_plain_lines`, five times faster.
    """
    options = console.options.update(
        justify=None, overflow=None, no_wrap=None, markup=None, highlight=None, height=None
    )
    if isinstance(renderable, Tree) and console.color_system is None and not console.record:
        lines = _plain_lines(console, renderable, options)
        while chunk := list(islice(lines, _LINES_AT_ONCE)):
            console.print(Segments([Segment("\n".join(chunk) + "\n")]), crop=False)
        return
    rendered = console.render(renderable, options)
    batch: list[Segment] = []
    for count, line in enumerate(Segment.split_and_crop_lines(rendered, console.width, pad=False)):
        batch += line
        if count % _LINES_AT_ONCE == _LINES_AT_ONCE - 1:
            console.print(Segments(batch), crop=False)
            batch = []
    if batch:
        console.print(Segments(batch), crop=False)


def _plain_lines(console: Console, tree: Tree, options: ConsoleOptions) -> Iterator[str]:
    """The lines rich's ``Tree`` draws, as text, for a console that writes no
    styles: its guides, its labels wrapped where they are wider than what is
    left of the line. A one-line label that fits is its plain text; any
    other is rendered by rich. Follows ``Tree.__rich_console__`` step by step."""
    space, going_on, fork, end = range(4)
    get_style = console.get_style
    null = Style.null()
    width = console.width  # asks the terminal each time

    @cache
    def guides(style: Style) -> tuple[str, str, str, str]:
        if options.ascii_only:
            return Tree.ASCII_GUIDES
        guide = 1 if style.bold else (2 if style.underline2 else 0)
        return Tree.TREE_GUIDES[0 if options.legacy_windows else guide]

    levels: list[tuple[int, Style]] = [(going_on, get_style(tree.guide_style, default="") or null)]
    stack: list[Iterator[tuple[bool, Tree]]] = [iter(loop_last([tree]))]
    guide_styles = StyleStack(get_style(tree.guide_style))
    styles = StyleStack(get_style(tree.style))
    while stack:
        try:
            last, node = next(stack[-1])
        except StopIteration:
            stack.pop()
            levels.pop()
            if levels:
                levels[-1] = (fork, levels[-1][1] or null)
                guide_styles.pop()
                styles.pop()
            continue
        if last:
            levels[-1] = (end, levels[-1][1] or null)
        guide_style = guide_styles.current + get_style(node.guide_style)
        prefix = [guides(style)[kind] for kind, style in levels[1:]]
        room = options.max_width - sum(map(cell_len, prefix))
        for first, line in loop_first(_label_lines(console, node.label, room, tree, options)):
            text = "".join(prefix) + line
            if len(text) * 2 > width and cell_len(text) > width:
                cropped = Segment.adjust_line_length([Segment(text)], width, pad=False)
                text = "".join(segment.text for segment in cropped)
            yield text
            if first and prefix:
                prefix[-1] = guides(levels[-1][1] or null)[space if last else going_on]
        if node.expanded and node.children:
            levels[-1] = (space if last else going_on, levels[-1][1] or null)
            levels.append((end if len(node.children) == 1 else fork, guide_style))
            styles.push(get_style(node.style))
            guide_styles.push(get_style(node.guide_style))
            stack.append(iter(loop_last(node.children)))


def _label_lines(
    console: Console, label: RenderableType, room: int, tree: Tree, options: ConsoleOptions
) -> list[str]:
    """A tree label's lines as text, ``room`` cells wide at most."""
    if (
        isinstance(label, Text)
        and label.justify in (None, "default")
        and label.end == "\n"
        and "\n" not in (plain := label.plain)
        and "\t" not in plain
        and 0 < (len(plain) if plain.isascii() else cell_len(plain)) <= room
    ):
        return [plain]
    lines = console.render_lines(
        label,
        options.update(width=room, highlight=tree.highlight, height=None),
        pad=options.justify is not None,
    )
    return ["".join(segment.text for segment in line if not segment.control) for line in lines]


_LINES_AT_ONCE = 1000


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


class ExportFailed(Exception):
    """The view could not be written to the file ``--export`` named; the
    message says which file and why."""


def show(
    renderables: list[RenderableType],
    traces: list[Trace],
    export_to: Path | None = None,
    *,
    force: bool = False,
) -> None:
    """Print the views on stdout, then write them to ``export_to`` too, if given."""
    console = make_console()
    for renderable in renderables:
        write_view(console, renderable)
    if export_to is None:
        return
    try:
        export(export_to, renderables, traces, force=force)
    except safefile.UnsafeTarget as error:
        raise ExportFailed(f"--export {printable(str(error))}") from None
    except OSError as error:
        problem = printable(f"{export_to}: {error.strerror or error}")
        raise ExportFailed(f"could not write the export {problem}") from None


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
