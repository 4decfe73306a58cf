"""Pictures of values, taken when a signal is sent.

A trace keeps JSON-safe data, never the objects themselves: an instance
changed after the send must not rewrite what the trace says was sent, and
taking the picture must not touch the database (see
:func:`sigcli.text.safe_repr`).
"""

from __future__ import annotations

import json
import linecache
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sigcli.observation import is_own_file
from sigcli.text import clip, safe_repr
from sigcli.trace import MOST_FRAMES, OUTER_FRAMES, Frame, Traceback

if TYPE_CHECKING:
    from sigcli.dispatcher import Signal

__all__ = ["LONGEST_REPR", "json_safe", "sender_label", "signal_label", "traceback_of"]


def json_safe(value: object, _depth: int = 0) -> Any:
    """A JSON-safe picture of ``value``, taken now.

    A model instance becomes ``{"model", "pk", "repr"}``, a model class its
    name, a queryset ``{"queryset": model}``, a set a sorted list; anything
    else unknown becomes its repr. Containers nested absurdly deep (or
    containing themselves) are cut off with their repr.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if _depth > 8:
        return _repr(value)
    if isinstance(value, set | frozenset):
        return sorted((json_safe(v, _depth + 1) for v in value), key=_sort_key)
    if isinstance(value, list | tuple):
        return [json_safe(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {_key_text(k): json_safe(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, type) and getattr(value, "_meta", None) is not None:
        return value.__name__
    if getattr(type(value), "_meta", None) is not None and hasattr(value, "pk"):
        return {"model": type(value).__name__, "pk": json_safe(value.pk, 8), "repr": _repr(value)}
    if any(cls.__name__ == "QuerySet" for cls in type(value).__mro__):
        model = getattr(value, "model", None)
        return {"queryset": getattr(model, "__name__", _repr(model))}
    return _repr(value)


def _key_text(key: object) -> str:
    """A dict key as JSON needs it: text. A key whose ``str()`` raises is
    shown by its (safe) repr."""
    if type(key) is str:
        return key
    try:
        return str(key)
    except Exception:
        return _repr(key)


def _sort_key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, json.dumps(value, sort_keys=True))


#: The longest repr a trace keeps. Each dispatch takes its own, so a
#: ``__repr__`` of a megabyte sent in a loop would otherwise fill memory.
LONGEST_REPR = 10_000


def _repr(value: object) -> str:
    return clip(safe_repr(value), LONGEST_REPR)


def sender_label(sender: object) -> str | None:
    """A model class by its name, other senders by name or repr, ``None`` as null."""
    if sender is None:
        return None
    name = getattr(sender, "__name__", None)
    return name if isinstance(name, str) else _repr(sender)


def signal_label(signal: Signal) -> str:
    """A signal by its name, or by its address when it has none."""
    return signal.name or f"<Signal at {id(signal):#x}>"


#: Characters kept of a frame's file, function name and source line.
LONGEST_FRAME_TEXT = 300


def traceback_of(error: BaseException) -> Traceback | None:
    """The frames of the user's code that ``error`` went through so far,
    read now (its traceback grows as it propagates); None if there are
    none (a receiver refusing the signal's arguments raises in sigcli's
    call). Frames of sigcli itself (a bundled scenario aside) and of its
    generated call loops are left out."""
    frames: list[Frame] = []
    seen = 0
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        file = code.co_filename
        if not is_own_file(file):
            seen += 1
            if len(frames) < MOST_FRAMES:
                frames.append(_frame(file, tb.tb_lineno, code.co_qualname))
            else:
                # Keep the outer frames and a window of the innermost ones.
                del frames[OUTER_FRAMES]
                frames.append(_frame(file, tb.tb_lineno, code.co_qualname))
        tb = tb.tb_next
    if not frames:
        return None
    return Traceback(frames, seen - len(frames))


def _frame(file: str, line: int | None, function: str) -> Frame:
    number = line or 0
    source = linecache.getline(file, number).strip() if number else ""
    return Frame(
        clip(file, LONGEST_FRAME_TEXT),
        number,
        clip(function, LONGEST_FRAME_TEXT),
        clip(source, LONGEST_FRAME_TEXT),
    )
