"""The one way sigcli writes a file: whole or not at all, never through a link.

Every file sigcli writes (a trace, an export, a kept database) is first
written to a fresh temporary file in the target's folder, created
exclusively (a link planted at that name makes the creation fail instead of
being followed), flushed to the disk, then renamed over the target. So a
crash, a full disk or Ctrl-C leaves the previous file as it was; a link at
the target is replaced, never written through; and two runs saving at once
each rename a whole file of their own: the last to finish wins.

A temporary file carries a lock while it is written. One left behind by a
killed save is unlocked, and the next save into that folder removes it.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: leftovers are only ignored
    fcntl = None  # type: ignore[assignment]


class UnsafeTarget(ValueError):
    """The target cannot or should not be replaced; the message says why and what to do."""


#: Temporary names are short and fixed in length, so that a target whose
#: name uses the whole 255 bytes a folder allows can still be written.
_PREFIX = ".sigcli-"
_SUFFIX = ".tmp"
_TEMPORARY = re.compile(r"\.sigcli-\d+-[0-9a-f]{16}\.tmp")

#: A leftover younger than this is left alone even when unlocked: its
#: writer may have created it and not yet taken the lock.
_LEFTOVER_AGE = 60.0

#: How a file sigcli wrote announces itself in its first bytes, per kind.
#: A trace starts with its version key; exports carry a marker near the top.
_SIGNATURES: dict[str, re.Pattern[bytes]] = {
    "trace": re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"sigcli_trace"\s*:'),
    "svg": re.compile(rb"<!-- sigcli export: svg -->"),
    "html": re.compile(rb"<!-- sigcli export: html -->"),
    "mmd": re.compile(rb"\A%% sigcli export: mermaid\n"),
}

#: Bytes written at a time. Each write lets go of the interpreter lock,
#: and a busy thread then keeps it for a switch interval (5 ms): with
#: Python's 8 KB a 30 MB trace took 14 s to save beside such a thread.
_BUFFER = 1 << 20

#: What each kind is called in a message.
_KIND_NAMES = {
    "trace": "a sigcli trace",
    "svg": "an SVG export of sigcli",
    "html": "an HTML export of sigcli",
    "mmd": "a Mermaid export of sigcli",
}


def marker(kind: str) -> str:
    """The text an export of ``kind`` (``svg``, ``html``, ``mmd``) must hold near
    its top, so that a later export recognises the file as one it may replace."""
    return {
        "svg": "<!-- sigcli export: svg -->",
        "html": "<!-- sigcli export: html -->",
        "mmd": "%% sigcli export: mermaid\n",
    }[kind]


def check_target(path: Path, kind: str | None = None, *, force: bool = False) -> None:
    """Raise :class:`UnsafeTarget` unless ``path`` may be written.

    Its folder must exist (it is never created on the user's behalf). What
    is there may be nothing, a link (which is replaced, not followed), or a
    regular file that sigcli wrote as ``kind``; with ``force``, any regular
    file. With ``kind`` None, any regular file may be replaced.
    """
    if not path.name:
        raise UnsafeTarget("the file name is empty.")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UnsafeTarget(
            f"{path}: the folder {folder} {what}; create it first or choose another file."
        )
    try:
        status = path.lstat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise UnsafeTarget(f"{path}: {error.strerror or error}") from None
    if stat.S_ISLNK(status.st_mode):
        return
    if not stat.S_ISREG(status.st_mode):
        raise UnsafeTarget(f"{path} is not a regular file; choose another file name.")
    if force or kind is None or is_ours(path, kind):
        return
    raise UnsafeTarget(
        f"{path} already exists and is not {_KIND_NAMES[kind]}; sigcli will not replace it. "
        "Choose another file name, or pass --force to replace it."
    )


def is_ours(path: Path, kind: str) -> bool:
    """Whether the regular file at ``path`` is one sigcli wrote as ``kind``."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except OSError:
        return False
    with os.fdopen(descriptor, "rb") as file:
        head = file.read(4096)
    return _SIGNATURES[kind].search(head) is not None


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


@contextmanager
def replacing(path: Path, kind: str | None = None, *, force: bool = False) -> Iterator[Path]:
    """Yield the name of a new empty file to fill; on a clean exit it replaces ``path``.

    For writers that open the file by name themselves (sqlite3). The target
    is checked again here, right before writing (:func:`check_target`). On
    an exception the temporary file is removed and ``path`` is untouched.
    """
    with _replacement(path, kind, force) as (_, temporary):
        yield temporary


@contextmanager
def writing(
    path: Path, kind: str | None = None, *, force: bool = False, encoding: str = "utf-8"
) -> Iterator[IO[str]]:
    """Yield a text file to write; on a clean exit it replaces ``path``, whole."""
    with (
        _replacement(path, kind, force) as (descriptor, _),
        os.fdopen(descriptor, "w", buffering=_BUFFER, encoding=encoding, closefd=False) as file,
    ):
        yield file


@contextmanager
def _replacement(path: Path, kind: str | None, force: bool) -> Iterator[tuple[int, Path]]:
    check_target(path, kind, force=force)
    _remove_leftovers(path.parent)
    descriptor, temporary = _create(path)
    try:
        try:
            yield descriptor, temporary
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        _move(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def write_text(path: Path, text: str, kind: str | None = None, *, force: bool = False) -> None:
    """Replace ``path`` with ``text``, whole (see :func:`writing`)."""
    with writing(path, kind, force=force) as file:
        file.write(text)


def write_chunks(
    path: Path, chunks: Iterator[str], kind: str | None = None, *, force: bool = False
) -> None:
    """Replace ``path`` with the text of ``chunks``, streamed, whole."""
    with writing(path, kind, force=force) as file:
        file.writelines(chunks)


def _create(path: Path) -> tuple[int, Path]:
    """A new temporary file next to ``path``, created exclusively and locked.

    It takes the permissions of the file it will replace, when that is a
    regular file; else the usual ones under the umask.
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    while True:
        temporary = path.with_name(f"{_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{_SUFFIX}")
        try:
            descriptor = os.open(temporary, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with suppress(OSError):
            status = path.lstat()
            if stat.S_ISREG(status.st_mode):
                os.fchmod(descriptor, stat.S_IMODE(status.st_mode))
    except BaseException:
        os.close(descriptor)
        os.unlink(temporary)
        raise
    return descriptor, temporary


def _move(temporary: Path, path: Path) -> None:
    """Rename ``temporary`` over ``path`` and make the rename itself durable."""
    os.replace(temporary, path)
    with suppress(OSError):
        folder = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _remove_leftovers(folder: Path, now: Callable[[], float] = time.time) -> None:
    """Remove temporary files of saves that were killed: old enough, and unlocked."""
    if fcntl is None:
        return
    try:
        names = [n for n in os.listdir(folder) if _TEMPORARY.fullmatch(n)]
    except OSError:
        return
    for name in names:
        leftover = folder / name
        with suppress(OSError):
            descriptor = os.open(leftover, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
            try:
                status = os.fstat(descriptor)
                if not stat.S_ISREG(status.st_mode) or now() - status.st_mtime < _LEFTOVER_AGE:
                    continue
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.unlink(leftover)
            finally:
                os.close(descriptor)
