"""Files sigcli writes: whole or not at all, never through a link, never over
a file it did not write; the database only into a new plain file.

The attacks that need a real process (a planted link, a SQLite URI, two
runs saving at once, kill -9 during a save) run ``python -m sigcli``.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sigcli import safefile
from tests.robust.conftest import Invoke

ROOT = Path(__file__).resolve().parents[2]
SAVED = Path(".sigcli") / "last-trace.json"

TICKS = """\
import os

import sigcli
from sigcli import Signal, receiver

tick = Signal()


@receiver(tick)
def count(sender, n, **kwargs):
    pass


@sigcli.step
def ticks():
    \"\"\"ticks in a loop\"\"\"
    for n in range(int(os.environ["TICKS"])):
        tick.send(sender="clock", n=n)
"""


def start(cwd: Path, *args: str, ticks: int = 10) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100", NO_COLOR="1", TERM="dumb")
    env["TICKS"] = str(ticks)
    return subprocess.Popen(
        [sys.executable, "-m", "sigcli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


def dispatches(path: Path) -> int:
    document = json.loads(path.read_text(encoding="utf-8"))
    return len(document["steps"][0]["children"])


# -- the trace file ---------------------------------------------------------------------


def test_a_planted_link_at_the_old_temporary_name_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    victim = tmp_path / "somefile"
    victim.write_text("precious\n")
    (tmp_path / ".sigcli").mkdir()
    (tmp_path / ".sigcli" / ".last-trace.json.partial").symlink_to("../somefile")
    status, _, stderr = finish(start(tmp_path, "run", "ticks.py"))
    assert (status, stderr) == (0, "")
    assert victim.read_text() == "precious\n"
    assert dispatches(tmp_path / SAVED) == 10


def test_a_link_at_the_trace_is_replaced_not_written_through(tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    victim = tmp_path / "precious.json"
    victim.write_text('{"sigcli_trace": 1, "mine": true}\n')
    (tmp_path / ".sigcli").mkdir()
    (tmp_path / SAVED).symlink_to("../precious.json")
    status, _, stderr = finish(start(tmp_path, "run", "ticks.py"))
    assert (status, stderr) == (0, "")
    assert victim.read_text() == '{"sigcli_trace": 1, "mine": true}\n'
    assert not (tmp_path / SAVED).is_symlink()
    assert dispatches(tmp_path / SAVED) == 10


def test_a_linked_sigcli_folder_is_not_written_into(tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / ".sigcli").symlink_to("elsewhere")
    status, stdout, stderr = finish(start(tmp_path, "run", "ticks.py"))
    assert status == 2
    assert stdout.startswith("ticks.py · 1 step · 10 dispatches · no errors\n")
    assert stderr == (
        "Error: could not save the trace (.sigcli is a symbolic link; sigcli keeps its last "
        "trace in a folder .sigcli of its own. Rename or remove it.)\n"
    )
    assert list(elsewhere.iterdir()) == []


def test_a_file_named_sigcli_is_named_in_the_error(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    (tmp_path / ".sigcli").write_text("not a folder")
    result = sigcli("run", "ticks.py", env={"TICKS": "1"})
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: could not save the trace (.sigcli is not a folder; sigcli keeps its last "
        "trace in a folder .sigcli of its own. Rename or remove it.)\n"
    )
    assert (tmp_path / ".sigcli").read_text() == "not a folder"


@pytest.mark.slow
def test_two_runs_saving_at_once_leave_one_whole_trace(tmp_path: Path) -> None:
    """The small run starts while the big one writes its file, and finishes first."""
    (tmp_path / "ticks.py").write_text(TICKS)
    (tmp_path / ".sigcli").mkdir()
    big = start(tmp_path, "run", "ticks.py", ticks=150_000)
    deadline = time.monotonic() + 120
    while not [p for p in (tmp_path / ".sigcli").iterdir() if p.name != "last-trace.json"]:
        assert big.poll() is None and time.monotonic() < deadline, "the big run never saved"
        time.sleep(0.005)
    small = start(tmp_path, "run", "ticks.py", ticks=2_000)
    assert finish(small)[::2] == (0, "")
    assert finish(big)[::2] == (0, "")
    assert dispatches(tmp_path / SAVED) == 150_000
    assert [p.name for p in (tmp_path / ".sigcli").iterdir()] == ["last-trace.json"]


@pytest.mark.slow
def test_a_killed_save_leaves_the_previous_trace_and_its_leftover_is_removed_later(
    tmp_path: Path,
) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    assert finish(start(tmp_path, "run", "ticks.py", ticks=3))[0] == 0
    big = start(tmp_path, "run", "ticks.py", ticks=150_000)
    folder = tmp_path / ".sigcli"
    deadline = time.monotonic() + 120
    while not (leftovers := [p for p in folder.iterdir() if p.name != "last-trace.json"]):
        assert big.poll() is None and time.monotonic() < deadline, "the big run never saved"
        time.sleep(0.005)
    big.send_signal(signal.SIGKILL)
    big.communicate(timeout=60)
    assert dispatches(folder / "last-trace.json") == 3
    # A fresh leftover might belong to a save still starting; an old one is removed.
    assert finish(start(tmp_path, "run", "ticks.py", ticks=4))[0] == 0
    assert [p for p in folder.iterdir() if p.name != "last-trace.json"] == leftovers
    os.utime(leftovers[0], (time.time() - 3600, time.time() - 3600))
    assert finish(start(tmp_path, "run", "ticks.py", ticks=5))[0] == 0
    assert [p.name for p in folder.iterdir()] == ["last-trace.json"]
    assert dispatches(folder / "last-trace.json") == 5


def test_a_save_in_progress_is_not_taken_for_a_leftover(tmp_path: Path) -> None:
    target = tmp_path / "t.json"
    with safefile.writing(target, "trace") as file:
        file.write('{"sigcli_trace": 1}\n')
        (temporary,) = [p for p in tmp_path.iterdir()]
        os.utime(temporary, (time.time() - 3600, time.time() - 3600))
        safefile.write_text(tmp_path / "other.json", '{"sigcli_trace": 1}\n', "trace")
        assert temporary.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.json", "t.json"]


def test_save_refuses_to_replace_a_file_that_is_not_a_trace(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "one.py").write_text(TICKS)
    (tmp_path / "two.py").write_text(TICKS)
    result = sigcli("run", "--save", "one.py", "two.py", env={"TICKS": "1"})
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.endswith(
        "Error: Invalid value for '--save': one.py already exists and is not a sigcli trace; "
        "sigcli will not replace it. Choose another file name, or pass --force to replace it.\n"
    )
    assert (tmp_path / "one.py").read_text() == TICKS
    forced = sigcli("run", "--save", "one.py", "--force", "two.py", env={"TICKS": "1"})
    assert forced.exit_code == 0
    assert json.loads((tmp_path / "one.py").read_text())["scenario"] == "two.py"


def test_save_replaces_a_trace_it_wrote_keeping_its_permissions(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    assert sigcli("run", "ticks.py", "--save", "t.json", env={"TICKS": "1"}).exit_code == 0
    (tmp_path / "t.json").chmod(0o640)
    assert sigcli("run", "ticks.py", "--save", "t.json", env={"TICKS": "2"}).exit_code == 0
    assert dispatches(tmp_path / "t.json") == 2
    assert (tmp_path / "t.json").stat().st_mode & 0o777 == 0o640


def test_a_save_name_of_255_bytes_is_written(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    name = "t" * 250 + ".json"
    result = sigcli("run", "ticks.py", "--save", name, env={"TICKS": "1"})
    assert (result.exit_code, result.stderr) == (0, "")
    assert dispatches(tmp_path / name) == 1


# -- exports ----------------------------------------------------------------------------


def test_an_export_replaces_a_link_instead_of_writing_through_it(
    sigcli: Invoke, tmp_path: Path
) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    (tmp_path / "precious.html").write_text("<p>mine</p>\n")
    (tmp_path / "view.html").symlink_to("precious.html")
    result = sigcli("run", "ticks.py", "--export", "view.html", env={"TICKS": "1"})
    assert (result.exit_code, result.stderr) == (0, "")
    assert (tmp_path / "precious.html").read_text() == "<p>mine</p>\n"
    assert not (tmp_path / "view.html").is_symlink()
    assert "sigcli export: html" in (tmp_path / "view.html").read_text()


def test_an_export_replaces_its_own_kind_only(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    for name in ("t.svg", "t.html", "t.mmd"):
        assert sigcli("run", "ticks.py", "--export", name, env={"TICKS": "1"}).exit_code == 0
        assert sigcli("run", "ticks.py", "--export", name, env={"TICKS": "2"}).exit_code == 0
    (tmp_path / "drawing.svg").write_text("<svg>mine</svg>\n")
    (tmp_path / "t.svg").rename(tmp_path / "wrong-kind.mmd")
    for name in ("drawing.svg", "wrong-kind.mmd"):
        result = sigcli("run", "ticks.py", "--export", name, env={"TICKS": "1"})
        assert (result.exit_code, result.stdout) == (1, "")
        kind = "an SVG export" if name.endswith(".svg") else "a Mermaid export"
        assert result.stderr == (
            f"Error: --export {name} already exists and is not {kind} of sigcli; sigcli will "
            "not replace it. Choose another file name, or pass --force to replace it.\n"
        )
    assert (tmp_path / "drawing.svg").read_text() == "<svg>mine</svg>\n"
    forced = sigcli("run", "ticks.py", "--export", "drawing.svg", "--force", env={"TICKS": "1"})
    assert forced.exit_code == 0
    assert "<svg" in (tmp_path / "drawing.svg").read_text()


def test_trace_export_is_checked_before_loading(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "notes.mmd").write_text("graph TD; a-->b\n")
    result = sigcli("trace", "missing.json", "--export", "notes.mmd")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("Error: --export notes.mmd already exists and is not a")


# -- the database -----------------------------------------------------------------------


def test_db_refuses_a_sqlite_uri_and_leaves_the_database_alone(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "shop.db") as connection:
        connection.execute("CREATE TABLE app_item (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO app_item (name) VALUES ('kept')")
    connection.close()
    before = (tmp_path / "shop.db").read_bytes()
    (tmp_path / "ticks.py").write_text(TICKS)
    for uri in (f"file:{tmp_path}/shop.db", "FILE:shop.db?mode=rwc", "file:shop.db"):
        status, stdout, stderr = finish(start(tmp_path, "run", "ticks.py", "--db", uri))
        assert (status, stdout) == (2, "")
        assert stderr.endswith(
            f"Error: --db {uri}: SQLite would read this as a URI and open an existing "
            "database, which the scenario would change. --db takes the plain path of a new "
            "file, such as --db run.sqlite3.\n"
        )
    assert (tmp_path / "shop.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.db", "ticks.py"]


def test_db_refuses_memory_an_empty_name_and_links(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "ticks.py").write_text(TICKS)
    (tmp_path / "dangling.db").symlink_to("nowhere/x.db")
    fix = "--db takes the plain path of a new file, such as --db run.sqlite3."
    for name, problem in [
        ("", f"The --db file name is empty; {fix}"),
        (
            ":memory:",
            "--db :memory:: SQLite would keep this database in memory, not in a file "
            f"(without --db it is in memory anyway). {fix}",
        ),
        ("dangling.db", f"--db dangling.db is a symbolic link; {fix}"),
        (
            "no/such/dir.db",
            "--db no/such/dir.db: the folder no/such does not exist; create it first.",
        ),
    ]:
        result = sigcli("run", "ticks.py", "--db", name, env={"TICKS": "1"})
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr.endswith(f"Error: {problem}\n")
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "no").exists()


ITEMS = """\
import sigcli
from sigcli import models


class Item(models.Model):
    name = models.CharField(max_length=9)


@sigcli.step
def create():
    \"\"\"three items\"\"\"
    for n in range(3):
        Item.objects.create(name=str(n))
"""


def test_db_writes_a_new_file_whole(sigcli: Invoke, tmp_path: Path) -> None:
    (tmp_path / "items.py").write_text(ITEMS)
    result = sigcli("run", "items.py", "--db", "kept.sqlite3")
    assert (result.exit_code, result.stderr) == (0, "")
    with sqlite3.connect(tmp_path / "kept.sqlite3") as connection:
        rows = connection.execute("SELECT name FROM app_item ORDER BY id").fetchall()
    connection.close()
    assert rows == [("0",), ("1",), ("2",)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sigcli", "items.py", "kept.sqlite3"]
