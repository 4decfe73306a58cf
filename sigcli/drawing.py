"""What every view of a trace shares: styles, options, and how one thing reads.

A value, a keyword argument, a statement, a dispatch's line and a
receiver's line are written here once, for the tree (:mod:`sigcli.render`),
the table (:mod:`sigcli.tables`) and the other outputs. Every string from a
scenario or a trace file goes into a :class:`rich.text.Text` after
:func:`~sigcli.text.printable`, never into markup, so ``[bold]`` in a repr
is shown as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text

from sigcli.text import clip, listens_to, printable
from sigcli.trace import (
    INIT_SIGNALS,
    MOST_FRAMES,
    OUTER_FRAMES,
    Dispatch,
    ReceiverCall,
    SkipReason,
    Step,
    Traceback,
)

SIGNAL = "bold cyan"
SENDER = "green"
CALLED = "green"
SKIPPED = "yellow"
ERROR = "bold red"
DIM = "dim"
HINT = "magenta"

#: How many dispatches and ORM calls a tree draws by default (``--limit``).
DEFAULT_LIMIT = 500

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


def styled(*parts: tuple[str, str] | str, multiline: bool = False) -> Text:
    """Parts of one line, each with its style. A newline in a name or a label
    is shown as ``\\n`` (it would otherwise draw a line of its own, under the
    tree's guides); only printed output and whole error messages keep theirs."""
    line = Text()
    for part in parts:
        text, style = (part, "") if isinstance(part, str) else part
        line.append(one_line(_clip(text)) if not multiline else printable(_clip(text)), style=style)
    return line


def one_line(text: str) -> str:
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


def _joined(parts: Iterator[str], total: int) -> str:
    """The ``parts`` of a list or dict joined, up to :data:`_LONGEST_VALUE`
    characters, then how many items were left out."""
    shown: list[str] = []
    size = 0
    for part in parts:
        if size > _LONGEST_VALUE:
            return ", ".join(shown) + f", … ({total - len(shown)} more items)"
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


# -- lines of a tree -----------------------------------------------------------


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


def brief(error: str, limit: int = 80) -> str:
    """An error message cut for a tree line; the step's line carries it whole."""
    return error if len(error) <= limit else error[: limit - 1] + "…"


def count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


#: Keyword arguments drawn on a dispatch's line; the rest are counted (the
#: trace file and ``--format json`` keep them all).
MOST_KWARGS = 50


def dispatch_line(dispatch: Dispatch, verbose: bool) -> Text:
    """``post_save  User  instance=<User: ann>  created=True``."""
    line = styled((dispatch.signal, SIGNAL))
    if dispatch.sender is not None:
        line.append_text(styled("  ", (dispatch.sender, SENDER)))
    named = shown_kwargs(dispatch, verbose)
    for key, value in named[:MOST_KWARGS]:
        line.append_text(styled(f"  {key}=", show_kwarg(key, value)))
    if len(named) > MOST_KWARGS:
        more = len(named) - MOST_KWARGS
        line.append_text(styled((f"  … {count(more, 'more keyword argument')}", DIM)))
    if dispatch.robust:
        line.append_text(styled(("  (send_robust)", DIM)))
    if not dispatch.receivers:
        line.append_text(styled(("  (no receivers)", DIM)))
    return line


def show_kwarg(key: str, value: Any) -> str:
    """A keyword argument's value; ``update_fields`` and ``pk_set`` as the sets Django sends."""
    if key in _SET_KWARGS and isinstance(value, list):
        return "{" + ", ".join(show_value(v, True) for v in value) + "}" if value else "set()"
    return show_value(value)


def receiver_line(call: ReceiverCall, width: int, verbose: bool, robust: bool = False) -> Text:
    """``✓ audit  any sender``, ``✗ notify  any sender  → raised ValueError: …``
    or ``○ create_profile  skipped: listens to sender=User``."""
    name = one_line(call.name).ljust(width)
    listens = listens_to(call.sender_filter)
    if call.called and call.error and call.error_propagated:
        kind = call.error.partition(":")[0]
        line = styled(("✗ ", ERROR), (name, ERROR), f"  {listens}")
        line.append_text(styled((f"  ↑ {kind} from a nested receiver", ERROR)))
    elif call.called and call.error:
        line = styled(("✗ ", ERROR), (name, ERROR), f"  {listens}")
        line.append_text(styled(("  → raised ", ERROR), (brief(call.error), ERROR)))
        if robust:
            line.append_text(styled(("  (send_robust returned it)", DIM)))
    elif call.called:
        line = styled(("✓ ", CALLED), (name, CALLED), f"  {listens}")
        if call.result is not None:
            line.append_text(styled(("  → returned ", DIM), (show_value(call.result), DIM)))
    elif call.skipped_reason is SkipReason.SENDER_MISMATCH:
        line = styled(("○ ", SKIPPED), (name, SKIPPED), f"  skipped: listens to {listens}")
    elif call.skipped_reason is SkipReason.DEAD_REFERENCE:
        line = styled(("○ ", SKIPPED), (name, SKIPPED), "  skipped: weak reference is dead")
    elif call.skipped_reason is SkipReason.DEAD_SENDER:
        line = styled(("○ ", SKIPPED), (name, SKIPPED), "  skipped: its sender is dead")
    elif call.skipped_reason is SkipReason.MUTED:
        line = styled(("○ ", SKIPPED), (name, SKIPPED), "  skipped: muted by sigcli.mute")
    else:
        line = styled(("· ", DIM), (name, DIM), ("  not called: an earlier receiver raised", DIM))
    if verbose and call.file:
        line.append_text(styled((f"  {where(call.file, call.line)}", DIM)))
    return line


def traceback_text(traceback: Traceback, error: str | None, receiver: str | None = None) -> Text:
    """The frames an error went through, as pytest's short tracebacks read::

        shop.py:12: in notify
            helper(instance)
        shop.py:5: in helper
            raise ValueError("boom")
        E   ValueError: boom

    headed by the ``receiver``'s name where the line above does not say
    whose it is (the compact view). A trace file's frames are drawn up to
    :data:`~sigcli.trace.MOST_FRAMES`, like a recorded traceback's."""
    frames, left_out = traceback.frames, traceback.left_out
    if len(frames) > MOST_FRAMES:
        left_out += len(frames) - MOST_FRAMES
        frames = frames[:OUTER_FRAMES] + frames[len(frames) - MOST_FRAMES + OUTER_FRAMES :]
    lines = [styled((f"traceback of {receiver}", DIM))] if receiver is not None else []
    for index, frame in enumerate(frames):
        if index == OUTER_FRAMES and left_out:
            lines.append(styled((f"… {count(left_out, 'more frame')}", DIM)))
        lines.append(styled((f"{where(frame.file, frame.line)}: in {frame.function}", DIM)))
        if frame.source:
            lines.append(styled(f"    {frame.source}"))
    lines += [styled((f"E   {line}", ERROR)) for line in (error or "").split("\n")]
    return Text("\n").join(lines)


def where(file: str, line: int | None) -> str:
    path = Path(file)
    try:
        path = path.resolve().relative_to(Path.cwd())
    except (OSError, ValueError):
        pass
    return f"{path}:{line}" if line else str(path)


def limit_note(rest: int, limit: int) -> Text:
    return styled(
        (
            f"✂ --limit {limit}: {count(rest, 'more dispatch', 'more dispatches')} not drawn. "
            "Draw more with --limit N (0 draws everything), or narrow the filter.",
            SKIPPED,
        )
    )
