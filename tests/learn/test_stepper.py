"""The step-mode observer without a terminal: scripted keys, recorded output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from sigcli import scenario, tracefile
from sigcli.scenario import RunResult
from sigcli.stepper import PROMPT, run_stepping


def keys(*pressed: str) -> Callable[[], str]:
    remaining: Iterator[str] = iter(pressed)
    return lambda: next(remaining)


def console() -> Console:
    return Console(record=True, width=120, color_system=None, force_terminal=False)


def pauses(output: str) -> list[list[str]]:
    """The output cut into pauses, each without its prompt line."""
    chunks: list[list[str]] = [[]]
    for line in output.splitlines():
        if line.rstrip() == PROMPT:
            chunks.append([])
        else:
            chunks[-1].append(line.rstrip())
    return chunks[:-1]


def test_a_dead_receiver_is_shown_as_skipped_before_the_send() -> None:
    screen = console()
    result = run_stepping(["weak_receivers"], screen, read_key=keys("", "", "c"))
    shown = pauses(screen.export_text())
    assert shown[0] == [
        "step 1 · A local function connected weakly is gone once connect_local_receiver returns.",
        "⏸ post_save  Note",
        "  instance      <Note: nobody hears this>",
        "  created       True",
        "  update_fields None",
        "  raw           False",
        "  using         'default'",
        "  ○ connect_local_receiver.<locals>.note_saved  skipped: weak reference is dead",
    ]
    assert len(shown) == 3
    assert not result.interrupted and [len(t.steps) for t in result.traces] == [3]


def test_a_dispatch_with_no_receiver_gets_no_pause_unless_all() -> None:
    quiet, everything = console(), console()
    run_stepping(["weak_receivers"], quiet, read_key=keys("c"))
    run_stepping(["weak_receivers"], everything, read_key=keys("", "c"), show_all=True)
    assert [pause[1] for pause in pauses(quiet.export_text())] == ["⏸ post_save  Note"]
    assert pauses(everything.export_text())[:2] == [
        [
            "step 1 · A local function connected weakly is gone once connect_local_receiver returns.",
            "⏸ pre_init  Note",
            "  args   ()",
            "  kwargs {'text': 'nobody hears this'}",
            "  (no receivers)",
        ],
        [
            "step 1 · A local function connected weakly is gone once connect_local_receiver returns.",
            "⏸ post_init  Note",
            "  instance <Note: nobody hears this>",
            "  (no receivers)",
        ],
    ]


def test_keys_that_arrive_together_count_as_the_first() -> None:
    """A terminal hands "c" and a quick Enter over as one string."""
    screen = console()
    result = run_stepping(["custom_signal"], screen, read_key=keys("c\r"))
    assert screen.export_text().count("⏸ payment_received") == 1
    assert result.exit_status == 0


def test_an_unknown_key_repeats_the_prompt_and_waits_again() -> None:
    screen = console()
    result = run_stepping(["custom_signal"], screen, read_key=keys("x", "?", "c"))
    output = screen.export_text()
    assert output.count(PROMPT) == 3
    assert output.count("⏸ payment_received") == 1
    assert result.exit_status == 0


def test_q_stops_before_the_dispatch_is_recorded() -> None:
    result = run_stepping(["custom_signal"], console(), read_key=keys("", "q"))
    assert result.interrupted and result.exit_status == 130
    trace = result.traces[0]
    assert [d.sender for d in trace.dispatches()] == ["Stripe"]
    assert trace.steps[-1].error == "stopped with q"


RELATION_IN_STR = '''
import sigcli
from sigcli import models
from sigcli.dispatcher import receiver
from sigcli.signals import post_save


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    title = models.CharField(max_length=50)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)

    def __str__(self):
        return f"{self.title} by {self.author.name}"


@receiver(post_save, sender=Book)
def book_saved(sender, instance, **kwargs):
    print(f"saved {instance.title}")


@sigcli.step
def write():
    """a book is written"""
    Book.objects.create(title="Emma", author=Author.objects.create(name="Austen"))


@sigcli.step
def retitle():
    """a book loaded again is saved"""
    book = Book.objects.get(title="Emma")
    book.title = "Persuasion"
    book.save()
'''


def test_step_mode_records_what_run_records_when_str_reads_a_relation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A pause shows the instance; describing a book loaded without its author
    # must not load the author (two more init signals) as plain repr() would.
    path = tmp_path / "relation_in_str.py"
    path.write_text(RELATION_IN_STR, encoding="utf-8")
    ran = scenario.run([str(path)])
    screen = console()
    stepped = run_stepping([str(path)], screen, read_key=lambda: "")

    def steps(result: RunResult) -> list[str]:
        (trace,) = result.traces
        text = [tracefile.node_json(node) for step in trace.steps for node in step.children]
        return [re.sub(r"sigcli_scenario_\d+_", "", json.dumps(node)) for node in text]

    assert steps(stepped) == steps(ran)
    (trace,) = stepped.traces
    # What the receiver printed is in the trace, and on the terminal, once.
    printed = re.findall(r'"type": "output", "text": "([^"]*)"', "".join(steps(stepped)))
    assert printed == ["saved Emma\\n", "saved Persuasion\\n"]
    assert capsys.readouterr().out.count("saved Persuasion\n") == 1
    assert [[(d.signal, d.sender) for d in trace.dispatches()]] == [
        [
            ("pre_init", "Author"),
            ("post_init", "Author"),
            ("pre_save", "Author"),
            ("post_save", "Author"),
            ("pre_init", "Book"),
            ("post_init", "Book"),
            ("pre_save", "Book"),
            ("post_save", "Book"),
            ("pre_init", "Book"),
            ("post_init", "Book"),
            ("pre_save", "Book"),
            ("post_save", "Book"),
        ]
    ]
    assert "  instance      <Book: Book object (1)>" in screen.export_text().splitlines()
