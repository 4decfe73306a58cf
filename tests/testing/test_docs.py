"""docs/testing.md runs: its files (each block opening with ``# file: NAME``)
are written out, and each ``$ pytest ...`` block is run in a pytest process
of its own and must print what it shows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

DOC = Path(__file__).parents[2] / "docs" / "testing.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))]


def _files() -> dict[str, str]:
    files = {}
    for _kind, text in _blocks():
        first, _, rest = text.partition("\n")
        if first.startswith("# file: "):
            files[first.removeprefix("# file: ")] = rest
    return files


def _commands() -> list[tuple[list[str], list[str]]]:
    commands = []
    for kind, text in _blocks():
        if kind == "console":
            first, *expected = text.rstrip("\n").split("\n")
            assert first.startswith("$ pytest "), first
            commands.append((shlex.split(first)[2:], expected))
    return commands


def test_the_page_has_examples_to_run() -> None:
    assert sorted(_files()) == [
        "app.py",
        "pytest.ini",
        "settings.py",
        "shop/apps.py",
        "shop/models.py",
        "shop/receivers.py",
        "test_capture.py",
        "test_failing.py",
        "test_mute.py",
        "test_profiles.py",
        "test_shop.py",
    ]
    assert len(_commands()) == 6


@pytest.mark.parametrize("args, expected", _commands(), ids=lambda v: " ".join(v)[:40])
def test_each_command_prints_what_the_page_shows(
    pytester: pytest.Pytester, args: list[str], expected: list[str]
) -> None:
    for name, text in _files().items():
        path = pytester.path / name
        if not path.parent.exists():
            path.parent.mkdir()
            (path.parent / "__init__.py").touch()  # a package, as in any project
        path.write_text(text, encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    summary = re.fullmatch(r"(\d+) passed", expected[0]) if len(expected) == 1 else None
    if summary:
        result.assert_outcomes(passed=int(summary.group(1)))
    else:
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(expected, consecutive=True)
