"""``--export trace.html`` opened in headless Chromium: it folds, filters and
marks failures, fetches nothing, and opens a 10,000-dispatch run fast."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sigcli.cli import main
from sigcli.html import page
from sigcli.render import ViewOptions, run_view
from sigcli.trace import Dispatch, ReceiverCall, Step, Trace

ENV = {"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "FORCE_COLOR": None}


@pytest.fixture
def robust_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The page of the bundled ``send_robust`` scenario, as a file:// URL."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner(env=ENV).invoke(
        main, ["run", "send_robust", "--no-save", "--export", "run.html"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return (tmp_path / "run.html").as_uri()


def by_css(driver: Any, selector: str) -> list[Any]:
    return driver.find_elements("css selector", selector)


def shown_dispatches(driver: Any) -> list[str]:
    """The signal and sender of each dispatch line the reader can see."""
    return [
        f"{node.get_attribute('data-signal')} {node.get_attribute('data-sender')}"
        for node in by_css(driver, "li.d")
        if node.is_displayed()
    ]


def test_the_page_shows_the_terminal_tree_and_fetches_nothing(
    browser: Any, robust_page: str
) -> None:
    browser.get(robust_page)
    assert browser.title == "sigcli · send_robust"
    assert shown_dispatches(browser) == [
        "pre_save Order",
        "post_save Order",
        "order_paid Order",
        "order_paid Order",
        "pre_save Order",
        "post_save Order",
    ]
    lines = [line.text for line in by_css(browser, "li.r")]
    assert lines == [
        "✓ check_total  sender=Order",
        "✗ charge_card   any sender  → raised GatewayDown: the payment gateway timed out",
        "· send_receipt  not called: an earlier receiver raised",
        "✗ charge_card   any sender  → raised GatewayDown: the payment gateway timed out"
        "  (send_robust returned it)",
        "✓ send_receipt  any sender  → returned receipt for order 1",
        "✗ check_total  sender=Order  → raised ValueError: negative total",
    ]
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_failures_are_marked(browser: Any, robust_page: str) -> None:
    browser.get(robust_page)
    failed = by_css(browser, "li.r.failed")
    assert [line.text.split("  ")[0].split(" any")[0] for line in failed] == [
        "✗ charge_card",
        "✗ charge_card",
        "✗ check_total",
    ]
    assert {line.value_of_css_property("background-color") for line in failed} == {
        "rgba(255, 235, 233, 1)"
    }
    assert (
        by_css(browser, "li.r:not(.failed)")[0].value_of_css_property("background-color")
        == "rgba(0, 0, 0, 0)"
    )
    browser.find_element("id", "failures").click()
    assert shown_dispatches(browser) == ["order_paid Order", "order_paid Order", "post_save Order"]


def test_branches_fold_and_unfold(browser: Any, robust_page: str) -> None:
    browser.get(robust_page)
    paid = by_css(browser, "li.d[data-signal=order_paid]")[0]
    receipt = paid.find_element("css selector", "li.r")
    assert receipt.is_displayed()
    paid.find_element("css selector", ".fold").click()
    assert not receipt.is_displayed() and paid.is_displayed()
    paid.find_element("css selector", ".fold").click()
    assert receipt.is_displayed()
    from selenium.webdriver.common.keys import Keys  # skipped without selenium (conftest)

    paid.find_element("css selector", ".fold").send_keys(Keys.ENTER)
    assert not receipt.is_displayed()
    paid.find_element("css selector", ".fold").send_keys(Keys.SPACE)
    assert receipt.is_displayed()
    browser.find_element("id", "fold").click()
    assert shown_dispatches(browser) == []
    assert len([s for s in by_css(browser, "li.s") if s.is_displayed()]) == 3
    browser.find_element("id", "unfold").click()
    assert len(shown_dispatches(browser)) == 6


def test_the_filter_box_picks_signal_sender_and_receiver(browser: Any, robust_page: str) -> None:
    browser.get(robust_page)
    signal = browser.find_element("id", "f-signal")
    signal.send_keys("post_")
    assert shown_dispatches(browser) == ["post_save Order", "post_save Order"]
    assert browser.find_element("id", "count").text == "2 of 6 dispatches match"
    steps = [s.find_element("css selector", ".fold").text for s in by_css(browser, "li.s")]
    shown_steps = [s for s in by_css(browser, "li.s") if s.is_displayed()]
    assert len(steps) == 3 and len(shown_steps) == 2
    signal.clear()
    browser.find_element("id", "f-receiver").send_keys("RECEIPT")
    assert shown_dispatches(browser) == ["order_paid Order", "order_paid Order"]
    browser.find_element("id", "f-sender").send_keys("nobody")
    assert shown_dispatches(browser) == []
    assert browser.find_element("id", "count").text == "0 of 6 dispatches match"
    for box in ("f-sender", "f-receiver"):
        browser.find_element("id", box).clear()
    browser.execute_script("document.getElementById('f-sender').dispatchEvent(new Event('input'))")
    assert len(shown_dispatches(browser)) == 6


#: Seconds from the start of navigation to the load event's end, plus a layout.
OPEN_TIME = """
const loaded = performance.getEntriesByType("navigation")[0].loadEventEnd;
const start = performance.now();
document.body.getBoundingClientRect();
window.scrollTo(0, document.body.scrollHeight);
document.body.getBoundingClientRect();
return loaded + (performance.now() - start);
"""


def big_trace(dispatches: int) -> Trace:
    """``dispatches`` sends in 100 steps, every tenth with a receiver that raised."""
    steps = []
    per_step = dispatches // 100
    for number in range(100):
        children: list[Any] = []
        for index in range(per_step):
            seq = number * per_step + index
            calls = [
                ReceiverCall("audit", "app", "app.py", 3, None, True, None, called=True),
                ReceiverCall(
                    "notify", "app", "app.py", 9, "Order", True, None, called=True,
                    error="ValueError: no mail" if seq % 10 == 0 else None,
                ),
            ]  # fmt: skip
            instance = {"model": "Order", "pk": seq, "repr": f"<Order: {seq}>"}
            children.append(Dispatch(seq, "post_save", "Order", 1, {"instance": instance}, calls))
        steps.append(Step(f"step {number}", f"step_{number}", children))
    return Trace("big.py", steps=steps)


def test_ten_thousand_dispatches_open_in_under_two_seconds(browser: Any, tmp_path: Path) -> None:
    """Opening is the browser's own clock from the start of navigation to the
    end of the load event, plus laying the page out. The fastest of three
    opens counts: the test machine is shared, and a busy moment is not the
    page's cost."""
    path = tmp_path / "big.html"
    tree = run_view(big_trace(10_000), ViewOptions(limit=0))
    path.write_text(page("big", [tree]), encoding="utf-8")
    times = []
    for _ in range(3):
        browser.get("about:blank")
        browser.get(path.as_uri())
        times.append(browser.execute_script(OPEN_TIME) / 1000)
    assert min(times) < 2.0, times
    assert browser.execute_script("return document.querySelectorAll('li.d').length") == 10_000
    assert len(by_css(browser, "li.d.failed")) == 1_000
    started = time.perf_counter()
    browser.find_element("id", "f-signal").send_keys("x")
    assert browser.find_element("id", "count").text == "0 of 10000 dispatches match"
    assert time.perf_counter() - started < 2.0
