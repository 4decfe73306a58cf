"""A receiver Django calls that raises has the same traceback as on
sigcli's own engine: its own frames, not the observer's stand-in."""

from __future__ import annotations

from pathlib import Path

from sigcli import scenario
from sigcli.djangoscenario import DjangoEngine
from sigcli.trace import Frame, ReceiverCall, Trace, walk_dispatches

SCENARIO = Path(__file__).parent.parent / "cli" / "scenarios" / "nested_failure.py"


def raised(trace: Trace) -> list[tuple[str, list[tuple[str, int, str, str]]]]:
    """Each receiver that raised itself, with its frames (file names only)."""
    calls: list[ReceiverCall] = [
        call
        for step in trace.steps
        for dispatch in walk_dispatches(step.children)
        for call in dispatch.receivers
        if call.traceback is not None
    ]
    return [(call.name, [_shown(f) for f in call.traceback.frames]) for call in calls]  # type: ignore[union-attr]


def _shown(frame: Frame) -> tuple[str, int, str, str]:
    return (Path(frame.file).name, frame.line, frame.function, frame.source)


def test_receivers_on_django_raise_with_their_own_frames() -> None:
    own = scenario.run([str(SCENARIO)], keep_going=True).traces[0]
    real = scenario.run([str(SCENARIO)], keep_going=True, engine=DjangoEngine()).traces[0]
    raise_line = 'raise ValueError(f"order {invoice.order.number}: empty invoice")'
    expected = [
        (
            "validate",
            [
                ("nested_failure.py", 25, "validate", "check(instance)"),
                ("nested_failure.py", 20, "check", raise_line),
            ],
        ),
        ("flaky", [("nested_failure.py", 36, "flaky", "return 1 / 0")]),
    ]
    assert raised(own) == expected
    assert raised(real) == expected
    assert [step.traceback is not None for step in real.steps] == [False, False, True]
    own_step, real_step = own.steps[2].traceback, real.steps[2].traceback
    assert own_step is not None and real_step is not None
    assert (
        [_shown(f) for f in real_step.frames]
        == [_shown(f) for f in own_step.frames]
        == [
            ("nested_failure.py", 58, "own", 'lookup("missing")'),
            ("nested_failure.py", 40, "lookup", "return {}[key]"),
        ]
    )
