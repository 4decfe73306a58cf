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
import unicodedata

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

#: Characters that print as nothing although Unicode files them as letters
#: or marks (its "default ignorable" code points outside the categories
#: below): the combining grapheme joiner, the Hangul and Khmer fillers,
#: Mongolian variation selectors, variation selectors and their supplement.
_FILLERS = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef"
)
_FILLER = re.compile(f"[{_FILLERS}]")
#: Every character that is not printable ASCII, tab or newline: a candidate,
#: decided one by one by :func:`_hides`.
_SUSPECT = re.compile("[^\t\n -~]")
#: The same for JSON text, which escapes C0 controls itself.
_JSON_SUSPECT = re.compile("[^\x00-\x7e]")
#: Unicode categories whose characters act on the terminal or print as
#: nothing: controls, format characters (bidirectional controls, zero-width
#: characters, tags, the soft hyphen, interlinear annotation), private use,
#: surrogates, line and paragraph separators, and unassigned code points.
_HIDING = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


def _hides(character: str) -> bool:
    """Whether ``character`` could drive a terminal or hide what a text says."""
    if character.isprintable():
        return _FILLER.match(character) is not None
    return unicodedata.category(character) in _HIDING


def _escape(character: str) -> str:
    """``\\r``, ``\\x7f``, ``\\u200b``, ``\\U000e0073``: as Python writes them."""
    code = ord(character)
    if code < 0x100:
        return repr(character)[1:-1]
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _shown(match: re.Match[str]) -> str:
    character = match.group()
    return _escape(character) if _hides(character) else character


def printable(text: str) -> str:
    """``text`` as every view shows it: control characters, bidirectional
    controls and every character that prints as nothing (format characters,
    fillers, variation selectors, tags) written as escapes, so that a
    scenario's or a trace file's strings can neither drive the terminal nor
    hide what they say. Tab and newline stay. Filters match on this text."""
    if text.isascii():
        if text.isprintable():
            return text
    elif text.isprintable() and _FILLER.search(text) is None:
        return text
    return _SUSPECT.sub(_shown, text)


def _json_shown(match: re.Match[str]) -> str:
    character = match.group()
    if not _hides(character):
        return character
    code = ord(character)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(text: str) -> str:
    """JSON ``text`` with the characters :func:`printable` escapes written as
    ``\\uXXXX`` (a surrogate pair above U+FFFF): the same JSON, safe to print.
    They can only occur inside strings, where the escape is valid."""
    if text.isascii():
        if "\x7f" not in text:
            return text
    elif text.isprintable() and _FILLER.search(text) is None:
        return text
    return _JSON_SUSPECT.sub(_json_shown, text)


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
