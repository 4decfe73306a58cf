"""The step-mode observer without a terminal: scripted keys, recorded output."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rich.console import Console

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
