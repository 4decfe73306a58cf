"""How a command's process ends: a second Ctrl-C at once, past the threads a
scenario left running, quietly when stdout can no longer be written.

A scenario runs in sigcli's own process, so these take care that what it
left behind (threads, a patched ``os._exit``) never keeps sigcli from
ending as documented.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

#: ``os._exit`` as it was when sigcli started: a scenario's own call is
#: refused while it runs (see :mod:`sigcli.isolation`), never sigcli's.
hard_exit = os._exit

#: Writing the tree to stdout failed: a full disk, a closed descriptor, a pipe
#: whose reader left.
OUTPUT_ERRORS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EPIPE, errno.EFBIG, errno.EDQUOT}


@contextmanager
def second_interrupt_exits() -> Iterator[None]:
    """The first Ctrl-C stops the run, which then saves and shows what it
    recorded; a second one ends the process at once (a file being saved is
    left as it was before). Only in the real process's main thread."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def first(number: int, frame: object) -> None:
        signal.signal(signal.SIGINT, again)
        raise KeyboardInterrupt

    def again(number: int, frame: object) -> None:
        os.write(2, b"Interrupted again: exiting now.\n")
        hard_exit(130)

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def end(status: int, threads_left: bool) -> NoReturn:
    """Exit with ``status``; past threads a scenario left running, which Python
    would wait for forever, when this is the real process (under a test
    runner's captured stdout those threads are the runner's business)."""
    if threads_left and sys.stdout is sys.__stdout__:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        hard_exit(status)
    sys.exit(status)


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit does not fail
    a second time with a traceback of its own."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
