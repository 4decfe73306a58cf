"""Any trace survives a save and load unchanged, and renders without error,
whatever text its reprs, names and labels hold."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from sigcli.query import Filters, select
from sigcli.render import ViewOptions, mermaid, run_view, selection_view, timeline_table
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
