"""Finding a scenario file and importing it: the one way a user's file gets in.

A name is a path or a bundled scenario; the file is imported with importlib
under a module name no other module has, with ``@sigcli.step`` collecting
its steps meanwhile; and anything wrong with it (a syntax error, an error
while importing, a step that cannot run) becomes a :class:`ScenarioError`
whose message names the file, the line and the fix. Running it, and
keeping the process as it was, are :mod:`sigcli.scenario`'s and
:mod:`sigcli.isolation`'s.
"""

from __future__ import annotations

import builtins
import difflib
import importlib.util
import itertools
import keyword
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any, TypeVar

from sigcli import dispatcher
from sigcli.text import describe_error, safe_repr

F = TypeVar("F", bound=Callable[..., Any])


class ScenarioPathError(ValueError):
    """The command line names no usable scenario: missing, a directory, not Python."""


class ScenarioError(Exception):
    """The scenario file itself is broken; the message names the file and line."""


class ScenarioExit(SystemExit):
    """Raised in place of ``os._exit()`` called by a scenario, so that the run
    is recorded and shown instead of ending unsaved."""


@dataclass(slots=True)
class StepFunction:
    label: str
    name: str
    function: Callable[[], Any]


# -- @step and the steps ---------------------------------------------------------

_collecting: list[Callable[[], Any]] | None = None


#: The app label of a scenario's models on either engine (``"app.User"``).
SCENARIO_APP = "app"


def step(function: F | None = None) -> F:
    """Mark ``function`` as a step of the scenario being loaded.

    Steps run in the order they are defined; the label shown is the first
    line of the docstring, else the function's name. The function is returned
    unchanged, so a step can still be called directly.
    """
    if function is None or not callable(function):
        raise TypeError(
            "@sigcli.step takes no arguments: write @sigcli.step, without parentheses, "
            "above a function"
        )
    if _collecting is not None:
        _collecting.append(function)
    return function


def _label(function: Callable[..., Any]) -> str:
    own = function.__doc__ is not type(function).__doc__  # a partial's is partial's own
    doc = (function.__doc__ or "").strip() if own else ""
    return doc.splitlines()[0].strip() if doc else _name(function)


def _name(function: Callable[..., Any]) -> str:
    """A step's name: a partial or a callable instance has no ``__name__``."""
    name = getattr(function, "__name__", None)
    return name if isinstance(name, str) else safe_repr(function)


def _step_problem(path: Path, function: Callable[..., Any]) -> str | None:
    """Why ``function`` cannot run as a step, naming where it is defined, or None.

    A generator function called runs none of its body, and a step is called
    with no arguments; both would otherwise pass silently or fail without a line.
    """
    import inspect

    code = getattr(function, "__code__", None)
    where = f"{path}:{code.co_firstlineno}" if code is not None else str(path)
    name = _name(function)
    if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
        return (
            f"{where}: step {name} is a generator function (it contains yield), so calling "
            "it would run none of its body. Remove the yield."
        )
    try:
        inspect.signature(function).bind()
    except TypeError:
        return f"{where}: step {name} needs arguments; a step is called with none."
    except ValueError:  # no signature to inspect (some builtins): let the call tell
        pass
    return None


def steps_of(
    path: Path, module: ModuleType, functions: list[Callable[[], Any]]
) -> list[StepFunction]:
    """The steps of the scenario imported from ``path``: the ``@step`` functions,
    else its ``run()``; :class:`ScenarioError` for one that cannot run as a step."""
    steps = [StepFunction(_label(f), _name(f), f) for f in functions]
    run = module.__dict__.get("run")
    if not steps and callable(run):
        steps = [StepFunction(_label(run), "run", run)]
    for entry in steps:
        problem = _step_problem(path, entry.function)
        if problem is not None:
            raise ScenarioError(problem)
    return steps


# -- finding a scenario ---------------------------------------------------------

#: A scenario is written by hand; compiling a 40 MB generated file would
#: take gigabytes of memory before anything could be shown.
LARGEST_SCENARIO = 1_000_000


def bundled_paths() -> dict[str, Path]:
    """The scenarios shipped with sigcli, by name (file name without ``.py``)."""
    from importlib import resources

    try:
        root = Path(str(resources.files("sigcli.scenarios")))
    except ModuleNotFoundError:
        # A source checkout run without installing: the directory that
        # pyproject.toml maps to the package sigcli.scenarios.
        root = Path(__file__).resolve().parent.parent / "scenarios"
    if not root.is_dir():
        return {}
    return {p.stem: p for p in sorted(root.glob("*.py")) if not p.stem.startswith("_")}


def resolve(name: str) -> Path:
    """The file ``name`` points to: an existing path, else a bundled scenario."""
    if name == "-":
        raise ScenarioPathError(
            "sigcli does not read a scenario from standard input; "
            "save it in a .py file and pass its name."
        )
    path = Path(name)
    if path.is_dir():
        found = sorted(path.glob("*.py"))
        hint = f" such as {found[0]}" if found else ""
        raise ScenarioPathError(f"{name} is a directory; pass a scenario .py file{hint}.")
    if path.is_symlink() and not path.exists():
        raise ScenarioPathError(
            f"{name} is a symbolic link that leads to no file (a loop, or its target is "
            "missing); point it at a scenario .py file."
        )
    if path.exists():
        if not path.is_file():  # a FIFO would block the import until someone writes to it
            raise ScenarioPathError(f"{name} is not a regular file; pass a scenario .py file.")
        if path.suffix != ".py":
            raise ScenarioPathError(
                f"{name} is not a Python file; a scenario is a .py file "
                "(to look at a saved trace, use `sigcli trace FILE.json`)."
            )
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            raise ScenarioPathError(
                f"{name} cannot be read ({error.strerror or error}); check its permissions."
            ) from None
        size = path.stat().st_size
        if size > LARGEST_SCENARIO:
            raise ScenarioPathError(
                f"{name} is {size:,} bytes; a scenario is a hand-written .py file of at most "
                f"{LARGEST_SCENARIO:,} bytes. Move data it needs into a file it reads."
            )
        return path
    bundled = bundled_paths()
    stem = name.removesuffix(".py")
    if "/" not in name and stem in bundled:
        return bundled[stem]
    message = f"No file {name!r} and no bundled scenario of that name."
    close = difflib.get_close_matches(stem, list(bundled), n=1)
    if close:
        message += f" Did you mean {close[0]!r}?"
    if bundled:
        message += "\nBundled scenarios: " + ", ".join(bundled)
    raise ScenarioPathError(message)


# -- importing ------------------------------------------------------------------

_module_numbers = itertools.count(1)


def put_back_builtins(names: dict[str, Any]) -> list[str]:
    """Make the builtins ``names`` again; the names that had been replaced or deleted."""
    current = vars(builtins)
    for name in [n for n in current if n not in names]:
        del current[name]
    changed = [n for n, value in names.items() if current.get(n) is not value]
    for name in changed:
        current[name] = names[name]
    return changed


def _identifier(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def fresh_module_name(path: Path) -> str:
    """The file's own name (``shop`` for shop.py) when no module has it, so that
    reprs, class paths and receiver modules read as the user's file; else a
    fresh ``sigcli_scenario_N_shop``. Either way no other module shares it."""
    name = _identifier(path.stem)
    if name.isidentifier() and not keyword.iskeyword(name) and name not in sys.modules:
        return name
    return f"sigcli_scenario_{next(_module_numbers)}_{name}"


def import_file(
    path: Path, module_name: str, names: dict[str, Any] | None = None
) -> tuple[ModuleType, list[Callable[[], Any]]]:
    """Import ``path`` as ``module_name``, its namespace starting with ``names``;
    collect the ``@step`` functions it defines."""
    global _collecting
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ScenarioPathError(f"{path} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(names or {})
    sys.modules[module_name] = module
    ours = {n: m for n, m in sys.modules.items() if n.partition(".")[0] == "sigcli"}
    names = dict(vars(builtins))
    outer, _collecting = _collecting, []
    try:
        spec.loader.exec_module(module)
        replaced = put_back_builtins(names)
        if replaced:
            raise ScenarioError(
                f"{path}: the scenario replaced the builtins {', '.join(sorted(replaced))}, "
                "which sigcli and Python itself rely on. Leave builtins as they are."
            )
        removed = sorted(n for n, m in ours.items() if sys.modules.get(n) is not m)
        if removed:
            raise ScenarioError(
                f"{path}: the scenario removed sigcli's own modules from sys.modules "
                f"({', '.join(removed[:3])}{', ...' if len(removed) > 3 else ''}), so its "
                "steps and receivers cannot be found. Delete only modules the scenario imported."
            )
        return module, _collecting
    except SyntaxError as error:
        raise ScenarioError(_syntax_message(path, error)) from None
    except (ScenarioError, KeyboardInterrupt):
        raise
    except BaseException as error:
        raise ScenarioError(import_message(path, error)) from None
    finally:
        _collecting = outer


def name_signals(module: ModuleType) -> dict[str, dispatcher.Signal]:
    """Name each unnamed signal after the module global that holds it, or
    after the class attribute (``Orders.placed``) of a class the module defines."""
    named: dict[str, dispatcher.Signal] = {}
    places = list(vars(module).items())
    for owner, value in list(places):
        if isinstance(value, type) and value.__module__ == module.__name__:
            places += [(f"{owner}.{k}", v) for k, v in vars(value).items()]
    for name, value in places:
        if isinstance(value, dispatcher.Signal):
            if value.name is None:
                value.name = name
            named[value.name] = value
    return named


# -- what went wrong, where -----------------------------------------------------


def _syntax_message(path: Path, error: SyntaxError) -> str:
    if error.lineno is None:
        return f"{path} is not Python source ({error.msg}); a scenario is a .py text file."
    where = f"{path}:{error.lineno}" if error.lineno else str(path)
    undecodable = "'utf-8' codec can't decode "
    if undecodable in error.msg:
        reason = re.sub(r" in position \d+", "", error.msg.partition(undecodable)[2])
        return (
            f"{where}: the file is not UTF-8 text (can't decode {reason}).\n"
            "Save it as UTF-8, or declare its encoding on the first line, "
            "for example: # -*- coding: latin-1 -*-"
        )
    message = f"{where}: {type(error).__name__}: {error.msg}"
    if error.text:
        line = error.text.rstrip("\n")
        message += f"\n    {line.strip()}"
        if error.offset:
            indent = len(line) - len(line.lstrip())
            message += "\n    " + " " * max(error.offset - 1 - indent, 0) + "^"
    return message + "\nFix the syntax and run again."


def import_message(path: Path, error: BaseException, doing: str = "importing the scenario") -> str:
    line, source = scenario_line(path, error.__traceback__)
    where = f"{path}:{line}" if line else str(path)
    message = f"{where}: error while {doing}: {describe_error(error)}"
    if source:
        message += f"\n    {source}"
    if isinstance(error, ValueError) and "**kwargs" in str(error):
        receiver = _rejected_receiver(error.__traceback__)
        name = f" {receiver}" if receiver else ""
        message += (
            f"\nGive the receiver{name} a **kwargs parameter, "
            "for example: def handler(sender, **kwargs): ..."
        )
    elif isinstance(error, ValueError) and str(error).startswith("Invalid model reference"):
        named = re.match(r"Invalid model reference '([^']*)'", str(error))
        model = named.group(1).rpartition(".")[2] if named else "Model"
        message += (
            f"\nA scenario's models are in the app {SCENARIO_APP!r}: "
            f"write sender='{SCENARIO_APP}.{model or 'Model'}'."
        )
    elif _needs_django(error):
        message += (
            "\nThe scenario imports code that needs Django itself: run it on real Django "
            "with --engine django, or against a project with --settings PROJECT.settings."
        )
    elif isinstance(error, SystemExit) and not isinstance(error, ScenarioExit):
        message += "\nA scenario must not call sys.exit() while it is imported."
    return message


def never_defined(path: Path, references: list[str]) -> str:
    """The error for lazy model references (relations, sender strings) left
    waiting once a scenario is imported: a typo, or another app's label."""
    message = (
        f"{path}: a lazy model reference (a relation or a sender string) names a "
        f"model that is never defined: {', '.join(references)}. Check the spelling."
    )
    foreign = [r for r in references if r.count(".") == 1 and r.partition(".")[0] != SCENARIO_APP]
    if foreign:
        message += (
            f" A scenario's models are in the app {SCENARIO_APP!r}: "
            f"write {SCENARIO_APP}.{foreign[0].partition('.')[2]}, not {foreign[0]}."
        )
    return message


def scenario_line(path: Path, tb: TracebackType | None) -> tuple[int | None, str]:
    """The deepest traceback line inside the scenario file, with its source."""
    found: tuple[int | None, str] = (None, "")
    target = path.resolve()
    for frame in traceback.extract_tb(tb):
        if Path(frame.filename).resolve() == target:
            found = (frame.lineno, (frame.line or "").strip())
    return found


def _needs_django(error: BaseException) -> bool:
    """Django imported but not set up, as only sigcli's own engine leaves it:
    the scenario uses a third-party app's models or mixins, which need the
    real Django."""
    kind = type(error)
    if kind.__module__ != "django.core.exceptions":
        return False
    unset = kind.__name__ == "ImproperlyConfigured" and "settings are not configured" in str(error)
    return unset or kind.__name__ == "AppRegistryNotReady"


def _rejected_receiver(tb: TracebackType | None) -> str | None:
    """The receiver that ``connect`` refused, read from the connecting frame."""
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "connect" and "receiver" in frame.f_locals:
            receiver = frame.f_locals["receiver"]
            return getattr(receiver, "__qualname__", None) or repr(receiver)
        tb = tb.tb_next
    return None
