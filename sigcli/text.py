"""Text shown to people: one home for each rule, so that copies cannot drift.

* :func:`printable`: control and invisible characters written as escapes;
* :func:`json_text`: the same for JSON text, as ``\\uXXXX`` escapes;
* :func:`clip`: a long string cut with "… (N more characters)";
* :func:`safe_repr`: a repr that never queries the database or raises;
* :func:`describe_error`: ``"ValueError: message"``, whatever ``__str__`` does;
* :func:`listens_to`: "any sender" or "sender=X", a receiver's sender filter.

Imports nothing of sigcli's, so every layer may use it.
"""

from __future__ import annotations

import re
import threading

__all__ = [
    "QueriesForbidden",
    "clip",
    "describe_error",
    "describing",
    "json_text",
    "listens_to",
    "printable",
    "safe_repr",
]

# C1 controls, and the invisible Unicode format characters: bidirectional
# overrides and isolates, which can make a line read differently from what it
# contains, and zero-width characters.
_INVISIBLE = "\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
#: Those, and the C0 controls but tab and newline.
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f{_INVISIBLE}]")
#: What ``json`` leaves as is with ``ensure_ascii=False`` that a terminal may
#: act on or that hides text (it escapes C0 controls itself).
_JSON_UNSAFE = re.compile(f"[{_INVISIBLE}]")


def printable(text: str) -> str:
    """``text`` with terminal control characters and invisible format characters
    written as escapes, so that a scenario's or a trace file's strings can
    neither drive the terminal nor hide what they say."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def json_text(text: str) -> str:
    """JSON ``text`` with those characters written as ``\\uXXXX``: the same JSON,
    safe to print. They can only occur inside strings, where the escape is valid."""
    if text.isascii():
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def clip(text: str, limit: int) -> str:
    """``text`` cut after ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def listens_to(sender_label: str | None) -> str:
    """How a receiver's sender filter reads: "any sender" or "sender=User"."""
    return "any sender" if sender_label is None else f"sender={sender_label}"


def describe_error(error: BaseException) -> str:
    """``"ValueError: message"``; an exception whose ``str()`` fails is still named."""
    try:
        text = str(error)
    except Exception:
        text = "<message could not be shown: its __str__ failed>"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class QueriesForbidden(Exception):
    """Raised by the database when a ``__str__`` queries while being described."""


_describing = threading.local()


def describing() -> bool:
    """True while :func:`safe_repr` runs on this thread: the database then
    refuses to run statements, so that describing an instance never sends a
    query (or the init signals of rows it would load) that Django would not."""
    return getattr(_describing, "active", False)


def safe_repr(value: object) -> str:
    """``repr(value)`` without side effects on the database. A ``__str__``
    that would query (``self.author.name`` on an unloaded relation) gets
    Django's default ``<Model: Model object (pk)>`` instead; one that raises
    gets a stand-in: describing a value must never change or break it."""
    outer = describing()
    _describing.active = True
    try:
        return repr(value)
    except QueriesForbidden:
        name = type(value).__name__
        return f"<{name}: {name} object ({getattr(value, 'pk', None)})>"
    except Exception as error:  # noqa: BLE001 - any failure of user code
        return f"<{type(value).__name__} (repr failed: {type(error).__name__})>"
    finally:
        _describing.active = outer
