"""A pytest plugin that ``sigcli record -- -m pytest`` loads (through
``PYTEST_ADDOPTS``): each test is a step of the trace, named by its node id.
Anywhere else (a pytest started without ``sigcli record``) it does nothing."""

from __future__ import annotations

from typing import Any

from sigcli.djangoengine import record


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    steps = record._pytest_steps
    if steps is not None:
        steps.start("test", nodeid, str(location[2]) if location else nodeid)


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    steps = record._pytest_steps
    if steps is not None:
        steps.finish("test")
