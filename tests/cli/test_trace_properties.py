"""Any trace survives a save and load unchanged, and renders without error,
whatever text its reprs, names and labels hold."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from sigcli.query import Filters, select, select_saved
from sigcli.render import ViewOptions, mermaid, run_view, selection_view, timeline_table
from sigcli.skim import NodeDigest, Tally, skim
from sigcli.trace import (
    Dispatch,
    Operation,
    Output,
    ReceiverCall,
    SkipReason,
    SqlStatement,
    Step,
    Trace,
    load,
    save,
)
from sigcli.tracefile import _load_json, indented

text = st.text(max_size=12)
scalar = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | text
value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
instance = st.builds(
    lambda m, pk, r: {"model": m, "pk": pk, "repr": r}, text, st.none() | st.integers(0, 9), text
)


def receiver(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(
        ReceiverCall,
        name=text,
        module=st.none() | text,
        file=st.none() | text,
        line=st.none() | st.integers(1, 999),
        sender_filter=st.none() | text,
        weak=st.booleans(),
        dispatch_uid=st.none() | text,
        called=st.booleans(),
        skipped_reason=st.none() | st.sampled_from(SkipReason),
        result=value,
        error=st.none() | text,
        error_propagated=st.booleans(),
        children=st.lists(children, max_size=2),
    )


nodes = st.deferred(
    lambda: (
        st.builds(
            Dispatch,
            seq=st.integers(0, 99),
            signal=st.sampled_from(["pre_save", "post_save", "pre_init", "custom"]) | text,
            sender=st.none() | text,
            depth=st.integers(1, 9),
            kwargs=st.dictionaries(text, value | instance, max_size=3),
            receivers=st.lists(receiver(nodes), max_size=2),
            robust=st.booleans(),
            error=st.none() | text,
        )
        | st.builds(
            Operation,
            label=text,
            model=st.none() | text,
            children=st.lists(nodes, max_size=3),
            error=st.none() | text,
        )
        | st.builds(SqlStatement, sql=text, params=st.lists(scalar, max_size=3))
        | st.builds(Output, text=text)
    )
)

traces = st.builds(
    Trace,
    scenario=st.none() | text,
    setup=st.lists(nodes, max_size=2),
    steps=st.lists(
        st.builds(
            Step,
            label=text,
            function=text,
            children=st.lists(nodes, max_size=3),
            error=st.none() | text,
            error_at=st.none() | text,
        ),
        max_size=3,
    ),
    error=st.none() | text,
    interrupted=st.booleans(),
    not_run=st.lists(text, max_size=2),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(traces, min_size=1, max_size=2))
def test_save_then_load_gives_the_same_traces(recorded: list[Trace]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.json"
        save(recorded, path)
        assert load(path) == recorded
        assert _load_json(path) == recorded  # as read when msgspec does not take a file


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        scalar | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )
)
def test_indented_json_is_what_json_dumps_writes(value: object) -> None:
    assert indented(value) == json.dumps(value, indent=1, ensure_ascii=False)


@settings(max_examples=40, deadline=None)
@given(traces, st.booleans(), st.booleans())
def test_every_view_renders_any_trace(trace: Trace, verbose: bool, show_all: bool) -> None:
    console = Console(file=io.StringIO(), width=80, color_system=None)
    options = ViewOptions(verbose=verbose, show_all=show_all)
    console.print(run_view(trace, options))
    selection = select([trace], Filters(), show_all=show_all)
    console.print(selection_view(selection, options))
    console.print(timeline_table(selection))
    for line in mermaid([trace]).splitlines()[1:]:
        assert line.startswith("    ")
    assert "\x1b" not in console.file.getvalue()  # type: ignore[attr-defined]


class _Everything:
    """Keeps every node: a skim that reads what load reads."""

    def keep(self, node: NodeDigest, always: bool) -> bool:
        return True

    def begin(self, census: list[Tally] | None) -> None:
        pass

    def satisfied(self) -> bool:
        return False

    def settle(self, census: list[Tally]) -> None:
        pass


def _without_census(path: Path) -> Path:
    """The trace file as sigcli wrote it before runs carried a census."""
    document = json.loads(path.read_text(encoding="utf-8"))
    for run in document.get("runs", [document]):
        del run["census"]
    older = path.with_name("older.json")
    older.write_text(json.dumps(document), encoding="utf-8")
    return older


@settings(max_examples=60, deadline=None)
@given(
    st.lists(traces, min_size=1, max_size=2),
    st.data(),
    st.booleans(),
    st.sampled_from([0, 1, 2, 500]),
)
def test_a_filtered_read_selects_what_reading_everything_does(
    recorded: list[Trace], data: st.DataObject, show_all: bool, limit: int
) -> None:
    """select_saved reads only the nodes holding the first ``limit`` matches,
    yet its selection is the one of reading the whole file: the same counts,
    the hidden names in the same order, the same first matches; whether it
    counts the rest from the file's census or, in a file without one, node
    by node."""
    dispatches = [d for trace in recorded for d in trace.dispatches(setup=True)]
    senders = sorted({d.sender for d in dispatches if d.sender is not None})
    signals = sorted({d.signal for d in dispatches})
    receivers = sorted({c.name for d in dispatches for c in d.receivers if c.name.strip()})
    filters = Filters(
        senders=tuple(data.draw(st.lists(st.sampled_from(senders), max_size=2))) if senders else (),
        signals=tuple(data.draw(st.lists(st.sampled_from(signals), max_size=2))) if signals else (),
        receiver=data.draw(st.none() | st.sampled_from(receivers)) if receivers else None,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.json"
        save(recorded, path)
        try:
            whole = select(load(path), filters, show_all=show_all)
        except LookupError as error:
            try:
                select_saved(path, filters, show_all=show_all, limit=limit)
            except LookupError as same:
                assert str(same) == str(error)
                return
            raise AssertionError(
                f"the filtered read accepted what the whole refused: {error}"
            ) from None
        _, part = select_saved(path, filters, show_all=show_all, limit=limit)
        _, older = select_saved(_without_census(path), filters, show_all=show_all, limit=limit)
        assert skim(path, _Everything()) == recorded  # not read by load instead
    for selection in (part, older):
        assert (
            selection.passed,
            selection.total,
            list(selection.hidden.items()),
            selection.hidden_by,
        ) == (len(whole.matches), whole.total, list(whole.hidden.items()), whole.hidden_by)
        drawn = limit or None
        assert selection.matches[:drawn] == whole.matches[:drawn]
        assert len(selection.matches) >= min(limit or len(whole.matches), len(whole.matches))
