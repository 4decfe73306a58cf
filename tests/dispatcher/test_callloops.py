"""The generated call loops: what a traceback through one shows, and keyword
names a loop cannot take as local variables."""

from __future__ import annotations

import traceback
from typing import Any

import pytest

from sigcli import callloops
from sigcli.dispatcher import Journal, Signal, observe
from sigcli.recorder import Recorder
from sigcli.trace import Trace


def raising(sender: Any, **kwargs: Any) -> None:
    raise ValueError("from the receiver")


def test_a_traceback_through_a_call_loop_shows_its_line_and_the_receivers() -> None:
    signal = Signal()
    signal.connect(raising)
    with pytest.raises(ValueError) as caught:
        signal.send(sender=None, instance=1)
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert [(frame.filename, frame.name, frame.line) for frame in frames[-2:]] == [
        (
            "<sigcli call loop (1, 'instance')>",
            "call_loop",
            "return [(_r0, _r0(signal=signal, sender=sender, instance=instance))]",
        ),
        (__file__, "raising", 'raise ValueError("from the receiver")'),
    ]


def test_a_traceback_through_a_traced_call_loop_shows_its_line() -> None:
    def raising_later(sender: Any, fail: bool, **kwargs: Any) -> None:
        if fail:
            raise ValueError("from the receiver")

    signal = Signal()
    signal.connect(raising_later)
    with observe(Recorder(Trace(scenario=None))), pytest.raises(ValueError) as caught:
        signal.send(sender=None, fail=False)  # the first observed send plans the loop
        signal.send(sender=None, fail=True)
    frames = traceback.extract_tb(caught.value.__traceback__)
    assert [(frame.filename, frame.line) for frame in frames[-2:]] == [
        (
            "<sigcli traced call loop (1, 'fail')>",
            "_v0 = _r0(signal=signal, sender=sender, fail=fail)",
        ),
        (__file__, 'raise ValueError("from the receiver")'),
    ]


# Names each loop uses for itself (arguments, locals, globals and builtins it
# calls), and names a loop never takes.
NAMES = ["len", "named", "slot", "journal", "relearn", "SCALARS", "_r0", "_private", "type"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("observed", [False, True])
def test_a_keyword_named_like_a_loops_own_name_reaches_the_receiver(
    name: str, observed: bool
) -> None:
    signal = Signal()
    seen: list[dict[str, Any]] = []

    def record(sender: Any, **kwargs: Any) -> str:
        seen.append(kwargs)
        return "done"

    signal.connect(record)
    journal = Recorder(Trace(scenario=None)) if observed else None
    with observe(journal):
        results = [signal.send(sender=None, **{name: index}) for index in range(3)]
    assert seen == [{"signal": signal, name: index} for index in range(3)]
    assert results == [[(record, "done")]] * 3


def test_a_plain_journal_gets_every_event_of_a_send_through_write() -> None:
    signal = Signal()
    signal.connect(raising)
    journal = Journal()
    with observe(journal), pytest.raises(ValueError):
        signal.send(sender=None)
    kinds = [field for field in journal.events if isinstance(field, str)]
    assert kinds == ["send", "call", "done", "end"]


def test_a_traced_loop_whose_receiver_died_since_the_plan_sends_the_reference_way() -> None:
    # A receiver can die on another thread between the lookup and the call.
    signal = Signal()
    journal = Recorder(Trace(scenario=None))
    journal.start_step("send", "send")
    loop = callloops.relearn_traced  # installs and runs the loop for the slot
    slot = [loop, (lambda: None, None), []]
    with observe(journal):
        assert loop(slot, signal, None, {}, journal) == []
    assert slot[0].__name__ == "call_loop"
    assert [d.receivers for d in journal.trace.dispatches()] == [[]]
