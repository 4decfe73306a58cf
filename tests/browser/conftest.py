"""A headless Chromium for the HTML page's tests, driven by selenium.

Chromium comes from the system (Debian's ``chromium`` and ``chromium-driver``;
``.ci/run`` installs them). Where they are missing the browser tests are
skipped, and the session's summary says so in capitals; with
``SIGCLI_REQUIRE_BROWSER=1`` (as in CI) a missing browser is a failure instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SIGCLI_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SIGCLI_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1200,900",
)

_missing: list[str] = []


def _why_no_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() or shutil.which(path)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    why = _why_no_browser()
    if why is not None:
        if os.environ.get("SIGCLI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the HTML page cannot be tested in a browser: {why}")
        _missing.append(why)
        pytest.skip(f"NO BROWSER: {why}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _missing:
        terminalreporter.write_sep(
            "!", f"THE HTML PAGE WAS NOT TESTED IN A BROWSER: {_missing[0]}", red=True, bold=True
        )
