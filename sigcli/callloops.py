"""How a send calls its receivers: resolvers, the loops generated per
receiver count and keyword names, the one receiver call of the reference
send (any names, robust or not, observed or not), and the bridge from sync
code to async receivers.

A send's keyword arguments arrive as a dict; calling each receiver with
``**named`` builds a new dict per receiver. A loop generated once for
``(receiver count, *keyword names)`` passes them as literal keywords
instead, and is unrolled up to ``UNROLL_LIMIT`` receivers: 200,000 sends
to 10 receivers take 0.59 s this way and 1.42 s with ``**named``
(``benchmarks/bench_dispatch.py`` holds the targets).

Each loop lives in a cache slot, a list ``[call_loop, resolvers, ...]``
kept per sender by the signal. A loop checks that this send uses the names
it was made for (one length test and the lookups it needs anyway) and
otherwise hands over to a relearn function that installs the right loop in
the slot. Every receiver is resolved before the first one runs, as in
Django. The source of each loop is registered with :mod:`linecache`, so a
traceback through one shows its lines.

There are two kinds of loop, from one generator:

* plain: the slot is ``[loop, resolvers]``;
* traced, for an inline journal (see :mod:`sigcli.observation`): the slot is
  ``[loop, (resolver, info, resolver, info, ...), plan]`` and the loop
  writes SEND_INLINE, a DONE per receiver but the last, and LAST, keeping
  values that may change through the journal's snapshot. Anything unusual
  (a dead receiver, many receivers) takes :func:`sigcli.observation.send_observed`.

Keyword names a loop cannot take as local variables get the generic loops,
which raise exactly what Django raises for odd names (a duplicate
``signal`` keyword, say).
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import threading
from collections.abc import Callable, Sequence
from threading import get_ident
from typing import TYPE_CHECKING, Any

from sigcli import observation
from sigcli.observation import CALL, DONE, LAST, SCALARS, SEND_INLINE, Journal, ReceiverInfo

if TYPE_CHECKING:
    from sigcli.dispatcher import Signal

Receiver = Callable[..., Any]
Responses = list[tuple[Receiver, Any]]
CacheSlot = list[Any]
CallLoop = Callable[[CacheSlot, "Signal", object, dict[str, Any]], Responses]
TracedLoop = Callable[[CacheSlot, "Signal", object, dict[str, Any], Journal], Responses]

UNROLL_LIMIT = 16

# A signal's cache holds one zero-argument "resolver" per receiver: the weak
# reference itself, or for a strong receiver ``repeat(r).__next__``, a
# C-level callable that always returns ``r``. Resolving is then one uniform
# call, done for the whole list before the first receiver runs, as Django
# does.


def is_coroutine_function(receiver: Any) -> bool:
    """True for ``async def`` callables and for callables marked with
    asgiref's ``markcoroutinefunction`` (Django's rule)."""
    import inspect

    if inspect.iscoroutinefunction(receiver):
        return True
    marker = getattr(receiver, "_is_coroutine", None)
    if marker is None:
        return False
    import asyncio.coroutines

    return marker is getattr(asyncio.coroutines, "_is_coroutine", object())


def check_receiver(receiver: Any) -> None:
    """Refuse what Django refuses under ``DEBUG``: a receiver that cannot be
    called with keyword arguments."""
    import inspect

    if not callable(receiver):
        raise TypeError("Signal receivers must be callable.")
    parameters = inspect.signature(receiver).parameters.values()
    if not any(p.kind is p.VAR_KEYWORD for p in parameters):
        raise ValueError("Signal receivers must accept keyword arguments (**kwargs).")


def strong_resolver(receiver: Any) -> Callable[[], Any]:
    """A resolver for a strongly connected receiver; a strong
    ``None`` resolves to a stand-in that fails when called, as ``None`` does."""
    return itertools.repeat(CALLING_NONE if receiver is None else receiver).__next__


def resolve(refs: Sequence[Callable[[], Any]]) -> list[Receiver]:
    live = [ref() for ref in refs]
    return [r for r in live if r is not None]


def run_coroutine_sync(make_coroutine: Callable[[], Any]) -> Any:
    """Run a coroutine to completion from synchronous code. With asgiref
    installed this is its ``async_to_sync``, as in Django (so thread-sensitive
    ``sync_to_async`` inside a receiver comes back to the sending thread).
    Otherwise a fresh event loop on a worker thread, so the caller's thread
    keeps its own loop state; it refuses, like asgiref, inside a running loop."""
    try:
        from asgiref.sync import async_to_sync
    except ImportError:
        pass
    else:
        return async_to_sync(make_coroutine)()

    import asyncio
    import contextvars

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "You cannot use AsyncToSync in the same thread as an async event loop"
            " - just await the async function directly."
        )
    context = contextvars.copy_context()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = context.run(asyncio.run, make_coroutine())
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=work, name="sigcli-async-receivers")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


class CallingNone:
    """Stands for a strongly connected ``None``: resolvers return ``None``
    only for dead weak references, yet Django keeps such an entry and fails
    when it calls it."""

    def __call__(self, **named: Any) -> Any:
        raise TypeError("'NoneType' object is not callable")

    def __repr__(self) -> str:
        return "None"


CALLING_NONE = CallingNone()


def call(
    signal: Signal,
    journal: Journal | None,
    r: Receiver,
    info: ReceiverInfo | None,
    sender: object,
    named: dict[str, Any],
    robust: bool,
) -> Any:
    """One receiver call of the reference send (any names, robust or not),
    written to ``journal`` when observed."""
    if journal is None:
        if not robust:
            return r(signal=signal, sender=sender, **named)
        try:
            return r(signal=signal, sender=sender, **named)
        except Exception as error:
            observation.log_robust_failure(r, error)
            return error
    thread = get_ident()
    journal.write((CALL, thread, signal, info))
    try:
        result = r(signal=signal, sender=sender, **named)
    except BaseException as error:
        return observation.receiver_raised(journal, thread, signal, r, info, error, robust)
    observation.write_done(journal, thread, signal, info, result, None)
    return result


async def call_async(
    signal: Signal,
    journal: Journal | None,
    r: Receiver,
    info: ReceiverInfo | None,
    sender: object,
    named: dict[str, Any],
    robust: bool,
) -> Any:
    """:func:`call` for an async receiver."""
    if journal is None:
        if not robust:
            return await r(signal=signal, sender=sender, **named)
        try:
            return await r(signal=signal, sender=sender, **named)
        except Exception as error:
            observation.log_robust_failure(r, error)
            return error
    thread = get_ident()
    journal.write((CALL, thread, signal, info))
    try:
        result = await r(signal=signal, sender=sender, **named)
    except BaseException as error:
        return observation.receiver_raised(journal, thread, signal, r, info, error, robust)
    observation.write_done(journal, thread, signal, info, result, None)
    return result


def generic_loop(
    slot: CacheSlot, signal: Signal, sender: object, named: dict[str, Any]
) -> Responses:
    """The reference plain loop, good for any names."""
    live = [ref() for ref in slot[1]]
    return [(r, r(signal=signal, sender=sender, **named)) for r in live if r is not None]


def relearn(slot: CacheSlot, signal: Signal, sender: object, named: dict[str, Any]) -> Responses:
    """Install in ``slot`` the plain loop for this send's names, and use it."""
    key = (len(slot[1]), *named)
    loop = _PLAIN.get(key) or _make(key, traced=False)
    slot[0] = loop
    return loop(slot, signal, sender, named)


def generic_traced_loop(
    slot: CacheSlot, signal: Signal, sender: object, named: dict[str, Any], journal: Journal
) -> Responses:
    """The reference traced loop: the signal's written-out observed send."""
    return observation.send_observed(signal, journal, sender, named, False)


def relearn_traced(
    slot: CacheSlot, signal: Signal, sender: object, named: dict[str, Any], journal: Journal
) -> Responses:
    """Install in ``slot`` the traced loop for this send's names, and use it."""
    key = (len(slot[1]) // 2, *named)
    loop = _TRACED.get(key) or _make(key, traced=True)
    slot[0] = loop
    return loop(slot, signal, sender, named, journal)


_PLAIN: dict[tuple[Any, ...], Callable[..., Responses]] = {}
_TRACED: dict[tuple[Any, ...], Callable[..., Responses]] = {}

# What a generated loop finds by name besides its arguments and locals.
_NAMESPACE: dict[str, Any] = {
    "relearn": relearn,
    "relearn_traced": relearn_traced,
    "get_async_depth": observation.async_depth.get,
    "sync_depths": observation.sync_depths,
    "get_ident": get_ident,
    "snapshot_all": observation.snapshot_all,
    "failed": observation.write_failed_inline,
    "send_observed": observation.send_observed,
    "SCALARS": SCALARS,
    "SEND_INLINE": SEND_INLINE,
    "DONE": DONE,
    "LAST": LAST,
}


def _make(key: tuple[Any, ...], traced: bool) -> Callable[..., Responses]:
    """The loop for ``key = (receiver count, *keyword names)``, made once."""
    count, names = key[0], key[1:]
    cache = _TRACED if traced else _PLAIN
    generic = generic_traced_loop if traced else generic_loop
    if traced and not 1 <= count <= UNROLL_LIMIT:
        cache[key] = generic
        return generic
    # The names the loop uses itself, read from the same loop made for
    # stand-in names: a keyword argument of one of those could not be a
    # local variable.
    if names:
        stand_ins = tuple(f"_n{i}" for i in range(len(names)))
        own = _names_used(_compile(_source(count, stand_ins, traced), "<template>"))
        if not all(_usable(name) for name in names) or own & set(names):
            cache[key] = generic
            return generic
    source = _source(count, names, traced)
    filename = f"<sigcli {'traced ' if traced else ''}call loop {key}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    loop = _compile(source, filename)
    cache[key] = loop
    return loop


def _usable(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


def _names_used(loop: Callable[..., Any]) -> set[str]:
    names: set[str] = set()
    codes = [loop.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names, code.co_varnames, code.co_cellvars, code.co_freevars)
        codes.extend(const for const in code.co_consts if hasattr(const, "co_names"))
    return names


def _compile(source: str, filename: str) -> Callable[..., Responses]:
    namespace = dict(_NAMESPACE)
    exec(compile(source, filename, "exec"), namespace)
    loop: Callable[..., Responses] = namespace["call_loop"]
    return loop


def _source(count: int, names: tuple[str, ...], traced: bool) -> str:
    """The loop's source; see the module docstring for what it does."""
    arguments = "slot, signal, sender, named, journal" if traced else "slot, signal, sender, named"
    again = f"return {'relearn_traced' if traced else 'relearn'}({arguments})"
    lines = [f"def call_loop({arguments}):"]
    # The preamble: this send uses the names the loop was made for.
    if names:
        lines += [
            f"    if len(named) != {len(names)}:",
            f"        {again}",
            "    try:",
            *(f"        {name} = named[{name!r}]" for name in names),
            "    except KeyError:",
            f"        {again}",
        ]
    else:
        lines += ["    if named:", f"        {again}"]
    passing = "".join(f", {name}={name}" for name in names)
    slots = [f"_r{i}" for i in range(count)]
    if traced:
        lines += _traced_body(count, names, passing, slots)
    elif count == 0:
        lines.append("    return []")
    elif count <= UNROLL_LIMIT:
        calls = ", ".join(
            f"({each}, {each}(signal=signal, sender=sender{passing}))" for each in slots
        )
        lines += [
            f"    {', '.join(slots)}, = slot[1]",
            *(f"    {each} = {each}()" for each in slots),
            f"    if {' and '.join(f'{each} is not None' for each in slots)}:",
            f"        return [{calls}]",
            f"    return [(r, r(signal=signal, sender=sender{passing}))"
            f" for r in ({', '.join(slots)},) if r is not None]",
        ]
    else:
        lines += [
            "    live = [ref() for ref in slot[1]]",
            f"    return [(r, r(signal=signal, sender=sender{passing})) for r in live if r is not None]",
        ]
    return "\n".join(lines) + "\n"


def _traced_body(count: int, names: tuple[str, ...], passing: str, slots: list[str]) -> list[str]:
    infos = [f"_i{i}" for i in range(count)]
    unchanging = " and ".join(f"type({name}) in SCALARS" for name in names) or "True"
    lines = [
        f"    {', '.join(f'{r}, {i}' for r, i in zip(slots, infos, strict=True))}, = slot[1]",
        *(f"    {each} = {each}()" for each in slots),
        f"    if {' or '.join(f'{each} is None' for each in slots)}:",
        "        return send_observed(signal, journal, sender, named, False)",
        "    _thread = get_ident()",
        "    _level = sync_depths.get(_thread, 0)",
        "    _depth = get_async_depth() + _level + 1",
        "    if _depth > journal.max_depth:",
        "        journal.too_deep(_depth)",
        f"    _kwargs = named if {unchanging} else snapshot_all(journal, named)",
        "    if sender is None or isinstance(sender, type):",
        "        _shown = sender",
        "    else:",
        "        _shown = journal.label_sender(sender)",
        "    _write = journal.write",
        "    _write((SEND_INLINE, _thread, signal, _shown, _kwargs, slot[2], False))",
        "    sync_depths[_thread] = _level + 1",
        "    try:",
    ]
    for index, (each, info) in enumerate(zip(slots, infos, strict=True)):
        lines.append(f"        _v{index} = {each}(signal=signal, sender=sender{passing})")
        if index < count - 1:
            kept = f"_v{index} if type(_v{index}) in SCALARS else journal.snapshot(_v{index})"
            lines.append(f"        _write((DONE, _thread, signal, {info}, {kept}, None))")
    last = count - 1
    return [
        *lines,
        "    except BaseException as _error:",
        "        failed(journal, _thread, signal, _error)",
        "        raise",
        "    finally:",
        "        sync_depths[_thread] = _level",
        f"    _kept = _v{last} if type(_v{last}) in SCALARS else journal.snapshot(_v{last})",
        f"    _write((LAST, _thread, signal, {infos[last]}, _kept))",
        f"    return [{', '.join(f'({each}, _v{i})' for i, each in enumerate(slots))}]",
    ]
