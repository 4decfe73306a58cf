"""One escaping rule for every view: what prints as nothing (format
characters, fillers, variation selectors, tags) or acts on the terminal is
shown as an escape in the tree, the table, JSON, Mermaid, SVG and HTML, and
filters match on what is shown."""

from __future__ import annotations

import json
from pathlib import Path

from sigcli.text import json_text, printable
from tests.robust.conftest import Invoke

#: "audit" followed by the tag characters spelling "steal": shown as "audit".
TAGS = "".join(chr(0xE0000 + ord(c)) for c in "steal")
HIDDEN = "\u00ad\u180e\u034f\ufe0f\ufff9\ufffa\ufffb\u3164\u115f\U000e0100\u2066"
SHOWN_TAGS = "\\U000e0073\\U000e0074\\U000e0065\\U000e0061\\U000e006c"

SCENARIO = f"""\
import sigcli
from sigcli import Signal

ping = Signal()


def audit(sender, **kwargs):
    pass


def sneaky(sender, **kwargs):
    pass


audit.__qualname__ = "audit" + {TAGS!r}
sneaky.__qualname__ = "x%%{{init: {{'theme': 'dark'}}}}%%"
ping.connect(audit)
ping.connect(sneaky)


@sigcli.step
def go():
    \"\"\"go\"\"\"
    ping.send(sender="shop", note={HIDDEN!r})
"""


def test_printable_escapes_every_invisible_character() -> None:
    assert printable("audit" + TAGS) == "audit" + SHOWN_TAGS
    assert printable(HIDDEN) == (
        "\\xad\\u180e\\u034f\\ufe0f\\ufff9\\ufffa\\ufffb\\u3164\\u115f\\U000e0100\\u2066"
    )
    assert printable("café 日本\tok\n") == "café 日本\tok\n"
    assert printable("\x1b[2J\x7f\x85\ue000\u2028") == "\\x1b[2J\\x7f\\x85\\ue000\\u2028"


def test_json_text_escapes_the_same_characters_and_stays_the_same_json() -> None:
    text = json.dumps({"name": "audit" + TAGS, "note": HIDDEN + "\x7f"}, ensure_ascii=False)
    shown = json_text(text)
    assert shown.isascii()
    assert "\\udb40\\udc73" in shown
    assert json.loads(shown) == json.loads(text)


def test_every_view_shows_the_hidden_characters(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "hidden.py").write_text(SCENARIO)
    tree = sigcli("run", "hidden.py")
    assert tree.exit_code == 0
    assert f"audit{SHOWN_TAGS}" in tree.stdout
    assert "note=\\xad\\u180e\\u034f" in tree.stdout
    printed = sigcli("run", "hidden.py", "--json", "--no-save").stdout
    table = sigcli("trace", "--format", "table").stdout
    as_json = sigcli("trace", "--format", "json").stdout
    for output in (tree.stdout, printed, table, as_json):
        assert not any(c in output for c in TAGS + HIDDEN)
    assert "\\udb40\\udc73" in printed and "\\udb40\\udc73" in as_json
    assert f"audit{SHOWN_TAGS}"[:20] in table
    for name in ("t.svg", "t.html", "t.mmd"):
        assert sigcli("trace", "--export", name).exit_code == 0
        exported = (tmp_path / name).read_text(encoding="utf-8")
        assert not any(c in exported for c in TAGS + HIDDEN), name


def test_mermaid_directives_in_names_are_neutralised(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "hidden.py").write_text(SCENARIO)
    assert sigcli("run", "hidden.py", "--export", "t.mmd").exit_code == 0
    diagram = (tmp_path / "t.mmd").read_text(encoding="utf-8")
    assert "%%{" not in diagram
    assert "    participant p2 as x#37;#37;{init: {'theme': 'dark'}}#37;#37;" in diagram


def test_filters_match_what_is_shown_not_what_is_hidden(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "hidden.py").write_text(SCENARIO)
    assert sigcli("run", "hidden.py").exit_code == 0
    hidden = sigcli("trace", "--receiver", "steal")
    assert hidden.exit_code == 2
    assert hidden.stderr.endswith(
        "Error: Invalid value for '--receiver': no receiver named 'steal' in this trace.\n"
        f"Known receivers: audit{SHOWN_TAGS}, x%%{{init: {{'theme': 'dark'}}}}%%\n"
    )
    shown = sigcli("trace", "--receiver", "U000e0073", "--format", "json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["shown"] == 1
