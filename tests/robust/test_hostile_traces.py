"""Trace files written by someone else: loading one runs no code, every string
from it is shown as typed (rich markup and terminal controls are not
interpreted), and a file of the wrong shape is refused with exit status 2 and
a message naming it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.robust.conftest import Invoke

#: Rich markup, an OSC 8 hyperlink, colour, a bell, a C1 CSI, a bidi override,
#: a zero-width space, a carriage return and a backspace.
EVIL = (
    "[bold red]x[/] [link=http://e.vil]y[/link] "
    "\x1b[31mz\x1b]8;;http://e.vil\x07w\x1b]8;;\x07 \x9b2J \u202eq\u200b \r\b!"
)
#: How EVIL reads on the screen.
SHOWN = (
    "[bold red]x[/] [link=http://e.vil]y[/link] "
    "\\x1b[31mz\\x1b]8;;http://e.vil\\x07w\\x1b]8;;\\x07 \\x9b2J \\u202eq\\u200b \\r\\x08!"
)
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colours rich itself adds


def dispatch(signal: str = "tick", sender: str | None = "S", **fields: Any) -> dict[str, Any]:
    return {
        "type": "dispatch",
        "seq": 1,
        "signal": signal,
        "sender": sender,
        "depth": 1,
        "kwargs": {},
        "receivers": [],
        **fields,
    }


def receiver(name: str = "r", **fields: Any) -> dict[str, Any]:
    return {"name": name, "called": True, "children": [], **fields}


def document(*children: dict[str, Any], **fields: Any) -> dict[str, Any]:
    step = {"label": "step", "function": "f", "children": list(children)}
    return {"sigcli_trace": 1, "scenario": "s.py", "steps": [step], **fields}


def write(path: Path, content: dict[str, Any] | str) -> str:
    if not isinstance(content, str):
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(10_000)  # the deepest documents here
        try:
            content = json.dumps(content)
        finally:
            sys.setrecursionlimit(limit)
    path.write_text(content)
    return path.name


def hostile() -> dict[str, Any]:
    """EVIL in every string a view shows."""
    instance = {"model": "User", "pk": 1, "repr": f"<User: {EVIL}>"}
    return {
        "sigcli_trace": 1,
        "scenario": f"{EVIL}.py",
        "error": None,
        "not_run": [f"later {EVIL}"],
        "steps": [
            {
                "label": f"label {EVIL}",
                "function": "f",
                "error": f"step error {EVIL}",
                "error_at": f"at {EVIL}",
                "children": [
                    {
                        "type": "operation",
                        "label": f"operation {EVIL}",
                        "model": "User",
                        "error": f"operation error {EVIL}",
                        "children": [
                            {"type": "sql", "sql": f"SELECT ? -- {EVIL}", "params": [EVIL]},
                            {"type": "output", "text": f"printed {EVIL}\n"},
                            dispatch(
                                signal=f"signal {EVIL}",
                                sender=f"sender {EVIL}",
                                kwargs={
                                    "instance": instance,
                                    f"key {EVIL}": f"value {EVIL}",
                                    "nested": [EVIL, {EVIL: EVIL}],
                                },
                                error=f"dispatch error {EVIL}",
                                receivers=[
                                    receiver(
                                        f"receiver {EVIL}",
                                        module=EVIL,
                                        file=f"/{EVIL}.py",
                                        line=3,
                                        sender_filter=f"filter {EVIL}",
                                        dispatch_uid=f"uid {EVIL}",
                                        result=f"result {EVIL}",
                                    ),
                                    receiver(
                                        f"failing {EVIL}",
                                        error=f"receiver error {EVIL}",
                                    ),
                                ],
                            ),
                        ],
                    }
                ],
            }
        ],
    }


COLOUR = {"NO_COLOR": None, "FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "1000"}


@pytest.mark.parametrize(
    "view",
    [
        [],
        ["-v"],
        ["--all", "-v"],
        ["--format", "table"],
        ["--receiver", "receiver"],
        ["--signal", f"signal {EVIL}"],
    ],
    ids=["tree", "verbose", "all", "table", "filtered", "by-signal"],
)
def test_every_string_is_shown_as_typed_even_on_a_colour_terminal(
    sigcli: Invoke, tmp_path: Path, view: list[str]
) -> None:
    name = write(tmp_path / "evil.json", hostile())
    result = sigcli("trace", name, *view, env=COLOUR)
    assert result.exit_code == 0, result.output
    plain = SGR.sub("", result.stdout)
    assert plain != result.stdout  # colours on: markup would have been interpreted
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\r", "\b"):
        assert raw not in plain
    assert "[bold red]x[/] [link=http://e.vil]y[/link]" in plain
    assert SHOWN.split("[/link] ")[1] in plain


def test_the_tree_shows_each_field_escaped(sigcli: Invoke, tmp_path: Path) -> None:
    name = write(tmp_path / "evil.json", hostile())
    result = sigcli("trace", name, "-v", env={"COLUMNS": "1000"})
    assert result.exit_code == 0
    shown = result.stdout
    for prefix in (
        "label ",
        "step error ",
        "at ",
        "operation ",
        "SQL  SELECT '",
        "print  printed ",
        "signal ",
        "sender ",
        "key ",
        "value ",
        "instance=<User: ",
        "✓ receiver ",
        "sender=filter ",
        "result ",
        "later ",
    ):
        assert prefix + SHOWN in shown, prefix


def test_exports_escape_too(sigcli: Invoke, tmp_path: Path) -> None:
    name = write(tmp_path / "evil.json", hostile())
    for export in ("t.svg", "t.html", "t.mmd"):
        assert sigcli("trace", name, "--export", export).exit_code == 0
        text = (tmp_path / export).read_text(encoding="utf-8")
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in text, export
    assert "<a " not in (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "[link=http://e.vil]" in (tmp_path / "t.mmd").read_text(encoding="utf-8")


def test_filter_errors_escape_the_names_they_list(sigcli: Invoke, tmp_path: Path) -> None:
    name = write(tmp_path / "evil.json", hostile())
    result = sigcli("trace", name, "--sender", "nobody")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Known senders: sender {SHOWN}"


def test_loading_runs_no_code(sigcli: Invoke, tmp_path: Path) -> None:
    payload = "__import__('pathlib').Path('pwned').touch()"
    data = document(
        dispatch(
            signal=payload,
            sender="!!python/object/apply:os.system ['touch pwned']",
            kwargs={
                "__class__": payload,
                "__reduce__": ["os.system", ["touch pwned"]],
                "instance": {"model": "os.system", "pk": payload, "repr": "{0.__class__}"},
            },
            receivers=[receiver("{__import__}", module="os", file="pwned", result=payload)],
        )
    )
    name = write(tmp_path / "code.json", data)
    for view in ([], ["--format", "table"], ["--format", "json"], ["--all", "-v"]):
        assert sigcli("trace", name, *view).exit_code == 0
    assert not (tmp_path / "pwned").exists()
    assert "os" not in sys.modules["sigcli.trace"].__dict__
    result = sigcli("trace", name)
    assert "instance={0.__class__}" in result.stdout
    assert "✓ {__import__}" in result.stdout


def test_a_node_of_an_unknown_type_is_refused(sigcli: Invoke, tmp_path: Path) -> None:
    name = write(tmp_path / "t.json", document({"type": "__import__('os')"}))
    result = sigcli("trace", name)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: t.json is a damaged sigcli trace (unknown node type \"__import__('os')\")\n"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("[]", 'is not a sigcli trace (no "sigcli_trace" version key)'),
        ('"sigcli_trace"', 'is not a sigcli trace (no "sigcli_trace" version key)'),
        ('{"sigcli_trace": 1, "steps": "none"}', "is a damaged sigcli trace (expected a list, found str)"),
        ('{"sigcli_trace": 1, "steps": [7]}', "is a damaged sigcli trace (expected an object, found int)"),
        ('{"sigcli_trace": 1, "steps": [{"label": 1}]}', "is a damaged sigcli trace ('label' should be str, found int)"),
        ('{"sigcli_trace": 1, "runs": {"a": 1}}', "is a damaged sigcli trace (expected a list, found dict)"),
        ('{"sigcli_trace": 1, "steps": [], "setup": [{"type": "sql", "sql": null}]}', "is a damaged sigcli trace ('sql' should be str, found NoneType)"),
    ],
    ids=["list", "string", "steps-str", "step-int", "label-int", "runs-dict", "sql-null"],
)  # fmt: skip
def test_wrong_shapes_are_refused_naming_the_file(
    sigcli: Invoke, tmp_path: Path, content: str, reason: str
) -> None:
    result = sigcli("trace", write(tmp_path / "t.json", content))
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: t.json {reason}\n")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"seq": "1"}, "'seq' should be int, found str"),
        ({"seq": True}, "'seq' should be int, found bool"),
        ({"depth": 1.5}, "'depth' should be int, found float"),
        ({"kwargs": ["a"]}, "expected an object, found list"),
        ({"sender": 7}, "expected str or null, found int"),
        ({"receivers": [{"name": "r", "line": "7"}]}, "expected int or null, found str"),
        ({"receivers": [{"name": "r", "skipped_reason": "\x1b[2J"}]}, "'\\x1b[2J' is not a valid SkipReason"),
        ({"receivers": [{"name": ["r"]}]}, "'name' should be str, found list"),
        ({"receivers": [{"called": True}]}, "'name'"),
    ],
    ids=["seq-str", "seq-bool", "depth-float", "kwargs-list", "sender-int", "line-str", "skip-reason", "name-list", "no-name"],
)  # fmt: skip
def test_wrong_types_in_fields_are_refused(
    sigcli: Invoke, tmp_path: Path, fields: dict[str, Any], reason: str
) -> None:
    result = sigcli("trace", write(tmp_path / "t.json", document(dispatch(**fields))))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: t.json is a damaged sigcli trace ({reason})\n"


def test_another_version_is_refused_with_what_to_do(sigcli: Invoke, tmp_path: Path) -> None:
    for version, shown in (("2", "2"), ('"1"', "'1'"), ("true", "True"), ("null", "None")):
        name = write(tmp_path / "t.json", f'{{"sigcli_trace": {version}, "steps": []}}')
        result = sigcli("trace", name)
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr == (
            f"Error: t.json is a sigcli trace of format version {shown}; this sigcli reads "
            "version 1. Record it again with `sigcli run`.\n"
        )


def test_json_nested_too_deeply_is_refused(sigcli: Invoke, tmp_path: Path) -> None:
    name = write(tmp_path / "t.json", '{"sigcli_trace": 1, "steps": ' + "[" * 100_000)
    result = sigcli("trace", name)
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: t.json is not a sigcli trace (nested too deeply)\n",
    )


def nested_dispatches(levels: int) -> dict[str, Any]:
    node = dispatch(receivers=[receiver()])
    for _ in range(levels - 1):
        node = dispatch(receivers=[receiver(children=[node])])
    return node


def test_nodes_nested_deeper_than_any_run_records_are_refused(
    sigcli: Invoke, tmp_path: Path
) -> None:
    name = write(tmp_path / "t.json", document(nested_dispatches(411)))
    result = sigcli("trace", name)
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: t.json is a damaged sigcli trace (nodes nested more than 410 levels deep)\n",
    )


@pytest.mark.parametrize(
    "view",
    [[], ["--all"], ["--format", "table"], ["--format", "json"], ["--signal", "tick"]],
)
def test_the_deepest_accepted_nesting_works_in_every_view(
    sigcli: Invoke, tmp_path: Path, view: list[str]
) -> None:
    name = write(tmp_path / "t.json", document(nested_dispatches(410)))
    result = sigcli("trace", name, *view)
    assert result.exit_code == 0
    assert "Traceback" not in result.output


def test_values_nested_deeper_than_any_run_records_are_refused(
    sigcli: Invoke, tmp_path: Path
) -> None:
    value: Any = 1
    for _ in range(21):
        value = [value]
    name = write(tmp_path / "t.json", document(dispatch(kwargs={"deep": value})))
    result = sigcli("trace", name)
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: t.json is a damaged sigcli trace (kwargs nested more than 20 levels deep)\n",
    )
    value = [value]
    name = write(tmp_path / "t.json", document(dispatch(receivers=[receiver(result=value)])))
    assert "a result nested more than 20 levels deep" in sigcli("trace", name).stderr


def test_huge_numbers(sigcli: Invoke, tmp_path: Path) -> None:
    too_long = document(dispatch(kwargs={"n": 1}))
    name = write(tmp_path / "t.json", json.dumps(too_long).replace('"n": 1', '"n": ' + "9" * 5000))
    result = sigcli("trace", name)
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: t.json is not a sigcli trace (a number with too many digits)\n",
    )

    infinite = json.dumps(document(dispatch(kwargs={"n": 1, "m": 2})))
    infinite = infinite.replace('"n": 1', '"n": 1e999').replace('"m": 2', '"m": NaN')
    result = sigcli("trace", write(tmp_path / "t.json", infinite))
    assert result.exit_code == 0
    assert "tick  S  n=inf  m=nan  (no receivers)" in result.stdout

    big = 10**4000
    name = write(tmp_path / "t.json", document(dispatch(seq=big, kwargs={"n": big})))
    result = sigcli("trace", name, "--format", "table", env={"COLUMNS": "5000"})
    assert result.exit_code == 0
    assert str(big) in result.stdout

    name = write(tmp_path / "t.json", document(dispatch(seq=1e300)))
    assert "'seq' should be int, found float" in sigcli("trace", name).stderr


def test_json_output_escapes_what_a_terminal_would_act_on(sigcli: Invoke, tmp_path: Path) -> None:
    name = write(tmp_path / "evil.json", hostile())
    selected = sigcli("trace", name, "--format", "json")
    assert selected.exit_code == 0
    for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\r", "\b"):
        assert raw not in selected.stdout
    [dispatch] = json.loads(selected.stdout)["dispatches"]
    assert dispatch["signal"] == f"signal {EVIL}"

    scenario = tmp_path / "prints.py"
    scenario.write_text(
        "import sigcli\n\n\n@sigcli.step\ndef go():\n    sigcli.Signal().send(sender=None, note='\\x9b\\u202e')\n"
    )
    run = sigcli("run", "prints.py", "--json")
    assert run.exit_code == 0
    assert "\x9b" not in run.stdout and "\u202e" not in run.stdout
    assert json.loads(run.stdout)["steps"][0]["children"][0]["kwargs"] == {"note": "\x9b\u202e"}
    saved = (tmp_path / ".sigcli" / "last-trace.json").read_text(encoding="utf-8")
    assert "\x9b" not in saved and "\\u009b" in saved


def test_a_huge_string_is_drawn_clipped_and_kept_whole_in_json(
    sigcli: Invoke, tmp_path: Path
) -> None:
    blob = "ab" * 1_000_000
    name = write(tmp_path / "t.json", document(dispatch(kwargs={"blob": blob})))
    result = sigcli("trace", name, env={"COLUMNS": "5000"})
    assert result.exit_code == 0
    [line] = [line for line in result.stdout.splitlines() if "blob=" in line]
    assert line.endswith(f"  blob={blob[:1000]}… (1999000 more characters)  (no receivers)")
    selected = json.loads(sigcli("trace", name, "--format", "json").stdout)
    assert selected["dispatches"][0]["kwargs"] == {"blob": blob}


def test_reading_node_by_node_gives_the_records_reading_whole_gives(
    sigcli: Invoke, tmp_path: Path
) -> None:
    from sigcli import tracefile

    for name in ("profiles", "cascade_order", "async_receivers", "recursion", "send_robust"):
        assert sigcli("run", name, "--save", f"{name}.json").exit_code in (0, 1)
    assert sigcli("run", "profiles", "m2m_changed", "--save", "two.json").exit_code in (0, 1)
    for path in tmp_path.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert tracefile.load(path) == tracefile._load_whole(path, text)
        assert tracefile._streamed(text) != json.loads(text)  # its nodes are records


def test_a_trace_file_above_the_size_sigcli_reads_is_refused(
    sigcli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sigcli import tracefile

    assert sigcli("run", "profiles", "--save", "t.json").exit_code == 0
    monkeypatch.setattr(tracefile, "LARGEST_TRACE", 1000)
    result = sigcli("trace", "t.json")
    size = len((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        f"Error: t.json holds {size:,} characters; sigcli reads traces of at most 1,000 (about "
        "2,000,000 dispatches). Record fewer dispatches (one scenario or step at a time).\n"
    )
