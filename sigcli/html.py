"""The HTML page of ``--export trace.html``: the terminal's view, foldable and filterable.

The page is drawn from the same rich renderables the terminal prints, so it
says exactly what the terminal says: a tree from :mod:`sigcli.render`
becomes nested lists whose branches fold (a click on a line with a
``fold`` class folds its ``li``; not ``<details>``, whose shadow tree per
element made a 10,000-dispatch page take three times longer to open), each dispatch
carrying its signal, sender and receivers for the filter box, and each
failure (a receiver that raised, a step that stopped) marked. A table
becomes a table; anything else is kept as the text it prints.

The file is self-contained: styles and script are inline and nothing is
fetched, so it opens offline and from a mail attachment. Every string from
a trace is escaped; the page's script reads only ``data-`` attributes and
text, never builds markup from them.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from sigcli.text import printable
from sigcli.trace import Dispatch, Operation, ReceiverCall, Step

if TYPE_CHECKING:
    from rich.style import Style

#: CSS classes for the styles :mod:`sigcli.render` draws with.
_CLASSES = {"bold cyan": "sig", "green": "ok", "yellow": "skip", "bold red": "err", "dim": "dim"}


def page(title: str, renderables: Iterable[RenderableType]) -> str:
    """The whole page: ``title``, then each renderable as HTML."""
    parts = [_HEAD.replace("{title}", html.escape(title)), _CONTROLS]
    for renderable in renderables:
        if isinstance(renderable, Tree):
            parts.append('<ul class="tree">')
            _tree(renderable, parts)
            parts.append("</ul>")
        elif isinstance(renderable, Table):
            parts.append(_table(renderable))
        else:
            parts.append(f"<pre>{html.escape(_plain(renderable))}</pre>")
    parts.append(_TAIL)
    return "".join(parts)


def _tree(node: Tree, out: list[str]) -> None:
    """``node`` as one ``<li>``, written iteratively: a trace nests hundreds deep."""
    pending: list[Tree | None] = [node]
    while pending:
        current = pending.pop()
        if current is None:
            out.append("</ul></li>")
            continue
        source = getattr(current, "source", None)
        kinds = _kinds(source)
        line = _line(current.label)
        if not current.children:
            opening = f'<li class="{" ".join(kinds)} leaf"' if kinds else "<li"
            out.append(f"{opening}{_data(source)}>{line}</li>")
            continue
        opening = f'<li class="{" ".join(kinds)}"' if kinds else "<li"
        line = f'<div class="fold" tabindex="0">{line}</div>'
        out.append(f"{opening}{_data(source)}>{line}<ul>")
        pending.append(None)
        pending.extend(reversed(current.children))


def _kinds(source: object) -> list[str]:
    """The classes that say what a node draws and whether it failed."""
    if isinstance(source, Dispatch):
        failed = source.error is not None or any(
            call.called and call.error for call in source.receivers
        )
        return ["d", "failed"] if failed else ["d"]
    if isinstance(source, ReceiverCall):
        return ["r", "failed"] if source.called and source.error else ["r"]
    if isinstance(source, Step):
        return ["s", "failed"] if source.error else ["s"]
    if isinstance(source, Operation):
        return ["o", "failed"] if source.error else ["o"]
    return []


def _data(source: object) -> str:
    """A dispatch's signal, sender and receiver names, for the filter box."""
    if not isinstance(source, Dispatch):
        return ""
    receivers = "\n".join(printable(call.name) for call in source.receivers)
    return (
        f' data-signal="{html.escape(printable(source.signal))}"'
        f' data-sender="{html.escape(printable(source.sender or ""))}"'
        f' data-receivers="{html.escape(receivers)}"'
    )


def _line(label: RenderableType) -> str:
    """A tree label as escaped HTML, each run of one style in one span."""
    if not isinstance(label, Text):
        return html.escape(_plain(label))
    plain = label.plain
    cuts = sorted({0, len(plain), *(s.start for s in label.spans), *(s.end for s in label.spans)})
    runs: list[tuple[str, str]] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        styles = [_class(s.style) for s in label.spans if s.start <= start and s.end >= end]
        classes = " ".join(c for c in styles if c)
        if runs and runs[-1][0] == classes:
            runs[-1] = (classes, runs[-1][1] + plain[start:end])
        elif start < end:
            runs.append((classes, plain[start:end]))
    return "".join(
        f'<span class="{classes}">{html.escape(piece)}</span>' if classes else html.escape(piece)
        for classes, piece in runs
    )


def _class(style: str | Style) -> str:
    return _CLASSES.get(str(style), "b" if str(style) == "bold" else "")


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(_plain(column.header))}</th>" for column in table.columns)
    columns = [list(column.cells) for column in table.columns]
    rows = []
    for index in range(table.row_count):
        cells = "".join(
            f"<td>{_line(column[index])}</td>" for column in columns if index < len(column)
        )
        rows.append(f"<tr>{cells}</tr>")
    caption = f"<p>{_line(table.caption)}</p>" if table.caption is not None else ""
    return f'<table class="timeline"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{caption}'


def _plain(renderable: RenderableType) -> str:
    if isinstance(renderable, str):
        return renderable
    if isinstance(renderable, Text):
        return renderable.plain
    console = Console(file=io.StringIO(), width=120, color_system=None, highlight=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body { font: 14px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       margin: 1em 2em; color: #1f2328; background: #fff; }
h1 { font-size: 1.2em; margin: 0 0 .6em; }
.controls { position: sticky; top: 0; background: #fff; padding: .4em 0;
            border-bottom: 1px solid #d0d7de; margin-bottom: .6em; z-index: 1; }
.controls input { font: inherit; width: 14em; margin-right: .6em; }
.controls button { font: inherit; margin-right: .3em; }
#count { color: #57606a; margin-left: .6em; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 1.4em; }
ul.tree { padding-left: 0; margin-bottom: 1.2em; }
ul.tree ul { border-left: 1px solid #d0d7de; }
/* Off-screen steps and dispatches are not laid out until scrolled to:
   with plain elements for folding, a page of 10,000 dispatches opens in
   about 0.4 s. */
li.s, li.d { content-visibility: auto; contain-intrinsic-size: auto 4.5em; }
.fold { cursor: pointer; }
.fold::before { content: "▾ "; color: #8c959f; }
li.shut > .fold::before { content: "▸ "; }
li.shut > ul { display: none; }
ul.tree li { white-space: pre-wrap; overflow-wrap: anywhere; padding-left: 1.05em; }
ul.tree li > .fold { margin-left: -1.05em; }
.sig { color: #0a6d8a; font-weight: bold; }
.ok { color: #1a7f37; }
.skip { color: #9a6700; }
.err { color: #cf222e; font-weight: bold; }
.dim { color: #6e7781; }
.b { font-weight: bold; }
li.failed.leaf, li.failed > .fold { background: #ffebe9; border-radius: 3px; }
li.r.failed.leaf, li.r.failed > .fold { outline: 1px solid #cf222e; }
.filtering ul.tree li { display: none; }
.filtering ul.tree li.keep, .filtering ul.tree li.match, .filtering ul.tree li.match li {
  display: list-item; }
.filtering li.match.leaf, .filtering li.match > .fold { background: #fff8c5; }
table.timeline { border-collapse: collapse; margin-bottom: 1.2em; }
table.timeline th, table.timeline td { text-align: left; padding: .1em .8em .1em 0;
                                       border-bottom: 1px solid #eaeef2; vertical-align: top; }
</style></head><body>
<h1>{title}</h1>
"""

_CONTROLS = """<div class="controls">
<input id="f-signal" type="search" placeholder="signal" aria-label="filter by signal">
<input id="f-sender" type="search" placeholder="sender" aria-label="filter by sender">
<input id="f-receiver" type="search" placeholder="receiver" aria-label="filter by receiver">
<button id="unfold" type="button">unfold all</button>
<button id="fold" type="button">fold all</button>
<button id="failures" type="button">show failures</button>
<span id="count"></span>
</div>
<main id="view">
"""

_TAIL = """</main>
<script>
"use strict";
(function () {
  const view = document.getElementById("view");
  const inputs = ["signal", "sender", "receiver"].map(
    (name) => document.getElementById("f-" + name));
  const count = document.getElementById("count");
  const dispatches = view.querySelectorAll("li.d");
  const failedDispatches = view.querySelectorAll("li.d.failed");
  const failedSteps = view.querySelectorAll("li.s.failed");
  const total = dispatches.length + " dispatches, " + failedDispatches.length + " with a failure";
  count.textContent = total;

  function keepAncestors(node) {
    for (let up = node.parentElement.closest("li"); up && !up.classList.contains("keep");
         up = up.parentElement.closest("li")) {
      up.classList.add("keep");
      up.classList.remove("shut");
    }
  }
  function clear() {
    for (const node of view.querySelectorAll("li.keep, li.match")) {
      node.classList.remove("keep", "match");
    }
  }
  function matches(node, signal, sender, receiver) {
    if (signal && !node.dataset.signal.toLowerCase().includes(signal)) return false;
    if (sender && !node.dataset.sender.toLowerCase().includes(sender)) return false;
    if (receiver && !node.dataset.receivers.toLowerCase().includes(receiver)) return false;
    return true;
  }
  function filter() {
    const [signal, sender, receiver] = inputs.map((input) => input.value.trim().toLowerCase());
    clear();
    if (!signal && !sender && !receiver) {
      view.classList.remove("filtering");
      count.textContent = total;
      return;
    }
    let shown = 0;
    for (const node of dispatches) {
      if (matches(node, signal, sender, receiver)) {
        node.classList.add("match");
        keepAncestors(node);
        shown += 1;
      }
    }
    view.classList.add("filtering");
    count.textContent = shown + " of " + dispatches.length + " dispatches match";
  }
  function foldAll(open) {
    // The top line of each tree stays open: folded, the steps show as a list.
    for (const line of view.querySelectorAll("ul.tree li li > .fold")) {
      line.parentElement.classList.toggle("shut", !open);
    }
  }
  // A line that folds is clicked, or Enter or Space is pressed on it.
  function toggle(event) {
    const line = event.target.closest(".fold");
    if (!line || !view.contains(line)) return;
    if (event.type === "keydown") {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
    }
    line.parentElement.classList.toggle("shut");
  }
  view.addEventListener("click", toggle);
  view.addEventListener("keydown", toggle);
  for (const input of inputs) input.addEventListener("input", filter);
  document.getElementById("unfold").addEventListener("click", () => foldAll(true));
  document.getElementById("fold").addEventListener("click", () => foldAll(false));
  document.getElementById("failures").addEventListener("click", () => {
    for (const input of inputs) input.value = "";
    clear();
    view.classList.add("filtering");
    for (const node of failedDispatches) {
      node.classList.add("match");
      keepAncestors(node);
    }
    for (const node of failedSteps) {
      node.classList.add("keep");
      node.classList.remove("shut");
    }
    count.textContent = failedDispatches.length + " dispatches with a failure";
  });
})();
</script>
</body></html>
"""
