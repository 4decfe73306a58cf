"""The layering of ``docs/design.md``, checked on every import in ``sigcli/``.

Each module belongs to one layer; a layer may import itself and the layers
listed for it, nothing else. Imports under ``if TYPE_CHECKING:`` are left
out (they name types, and load nothing). A module in no layer fails the
test too: a new module has to be given its place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sigcli

ROOT = Path(sigcli.__file__).parent

#: Layer → the module names (a trailing ``.*`` for a package) it holds.
LAYERS: dict[str, list[str]] = {
    "base": ["sigcli.text", "sigcli.safefile"],
    "dispatcher": [
        "sigcli.dispatcher",
        "sigcli.observation",
        "sigcli.callloops",
        "sigcli.receiverlist",
    ],
    "models": ["sigcli.models", "sigcli.models.*", "sigcli.signals", "sigcli.http"],
    "recording": [
        "sigcli.trace",
        "sigcli.snapshot",
        "sigcli.recorder",
        "sigcli.tracefile",
        "sigcli.skim",
        "sigcli.why",
        "sigcli.evidence",
        "sigcli.hints",
    ],
    "djangoengine": ["sigcli.djangoengine", "sigcli.djangoengine.*"],
    "scenarios": [
        "sigcli.scenario",
        "sigcli.scenariofile",
        "sigcli.isolation",
        "sigcli.djangoscenario",
    ],
    "testing": ["sigcli.muting", "sigcli.pytest_plugin", "sigcli.testing"],
    "views": [
        "sigcli.render",
        "sigcli.drawing",
        "sigcli.tables",
        "sigcli.exports",
        "sigcli.html",
        "sigcli.query",
        "sigcli.explain",
        "sigcli.stepper",
        "sigcli.shell",
        "sigcli.whyview",
    ],
    "api": ["sigcli"],
    "commands": ["sigcli.runs", "sigcli.viewing", "sigcli.messages", "sigcli.exits"],
    "cli": ["sigcli.cli", "sigcli.__main__"],
}

#: Layer → the layers it may import. ``recording`` may reach the model layer
#: only through its observer interface, listed in ``MODULES_ALLOWED``.
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "dispatcher": set(),
    "models": {"base", "dispatcher"},
    "recording": {"base", "dispatcher"},
    "djangoengine": {"base", "dispatcher", "recording"},
    "scenarios": {"base", "dispatcher", "models", "recording", "djangoengine"},
    # A failed assertion draws the test's tree as the views do; the fixture
    # observes Django through the Django engine's observer.
    "testing": {"base", "dispatcher", "models", "recording", "djangoengine", "views", "api"},
    "views": {"base", "dispatcher", "models", "recording", "djangoengine", "scenarios", "api"},
    # The package's own names load lazily (see sigcli/__init__.py).
    "api": {"dispatcher", "scenarios", "recording", "testing"},
    # A command's work, which knows nothing of click: every layer but the cli.
    "commands": set(LAYERS) - {"cli"},
    "cli": set(LAYERS),
}

#: Single modules a layer may import outside its allowed layers.
MODULES_ALLOWED: dict[str, set[str]] = {"recording": {"sigcli.models.observe"}}


def layer_of(module: str) -> str | None:
    for layer, patterns in LAYERS.items():
        for pattern in patterns:
            if module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1])):
                return layer
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, module)`` for each sigcli module that ``source`` imports at
    run time, at any depth (a lazy import inside a function counts)."""
    tree = ast.parse(source)
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(inner) for inner in ast.walk(node) if inner is not node)
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # ``from sigcli import models`` imports the module sigcli.models.
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append((node.lineno, candidate if _is_module(candidate) else base))
    return [(line, name) for line, name in found if name.split(".")[0] == "sigcli"]


def _is_module(name: str) -> bool:
    path = ROOT.parent / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Each import of ``source`` (as ``module``) that the layering forbids."""
    layer = layer_of(module)
    if layer is None:
        return [f"{module} belongs to no layer: add it to LAYERS and docs/design.md"]
    wrong = []
    for line, name in imported(source, module, is_package):
        target = layer_of(name)
        if target is None:
            wrong.append(f"{module}:{line} imports {name}, which belongs to no layer")
        elif (
            target != layer
            and target not in ALLOWED[layer]
            and name not in MODULES_ALLOWED.get(layer, set())
        ):
            wrong.append(f"{module}:{line} ({layer}) imports {name} ({target})")
    return wrong


def test_every_import_in_sigcli_keeps_to_the_layers() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        module = module_name(path)
        wrong += violations(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
    assert wrong == []


def test_the_commands_work_without_click() -> None:
    """A command's work is done by the core, which a test drives without the
    command line; only the cli maps its outcome to click's exit statuses."""
    importers = []
    for module in LAYERS["commands"]:
        path = ROOT / f"{module.removeprefix('sigcli.')}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            importers += [f"{module} imports {n}" for n in names if n.split(".")[0] == "click"]
    assert importers == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "sigcli.dispatcher",
            "def f():\n    from sigcli.trace import Trace\n",
            ["sigcli.dispatcher:2 (dispatcher) imports sigcli.trace (recording)"],
        ),
        (
            "sigcli.models.base",
            "from sigcli import recorder\n",
            ["sigcli.models.base:1 (models) imports sigcli.recorder (recording)"],
        ),
        (
            "sigcli.trace",
            "from sigcli.models import base\n",
            ["sigcli.trace:1 (recording) imports sigcli.models.base (models)"],
        ),
        (
            "sigcli.render",
            "import sigcli.cli\n",
            ["sigcli.render:1 (views) imports sigcli.cli (cli)"],
        ),
        (
            "sigcli.runs",
            "from sigcli.cli import main\n",
            ["sigcli.runs:1 (commands) imports sigcli.cli (cli)"],
        ),
        (
            "sigcli.render",
            "def f():\n    from sigcli import runs\n",
            ["sigcli.render:2 (views) imports sigcli.runs (commands)"],
        ),
        (
            "sigcli.models.query",
            "from ..djangoengine.observer import Observer\n",
            ["sigcli.models.query:1 (models) imports sigcli.djangoengine.observer (djangoengine)"],
        ),
        (
            "sigcli.newthing",
            "",
            ["sigcli.newthing belongs to no layer: add it to LAYERS and docs/design.md"],
        ),
    ],
)
def test_a_wrong_import_is_caught(module: str, source: str, expected: list[str]) -> None:
    assert violations(source, module) == expected


def test_imports_for_types_only_and_allowed_ones_pass() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from sigcli import observation\n"
        "from sigcli.models.observe import observe_orm\n"
        "if TYPE_CHECKING:\n"
        "    from sigcli.scenario import RunResult\n"
    )
    assert violations(source, "sigcli.recorder") == []
