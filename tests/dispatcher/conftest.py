"""Fixtures that run each dispatcher test against Django's and sigcli's Signal.

A test parametrised over ``impl`` asserts one behaviour on both
implementations, so a pass is evidence of fidelity, not just of consistency.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(DEBUG=False)


@dataclass(frozen=True)
class Impl:
    """One signal implementation and the knobs that differ between them."""

    name: str
    Signal: Any
    receiver: Callable[..., Any]
    logger_name: str
    validating: Callable[[], contextlib.AbstractContextManager[None]]


def _django() -> Impl:
    from django.dispatch import Signal, receiver
    from django.test import override_settings

    return Impl(
        "django", Signal, receiver, "django.dispatch", lambda: override_settings(DEBUG=True)
    )


def _sigcli() -> Impl:
    from sigcli.dispatcher import Signal, receiver
    from sigcli.isolation import validating_receivers

    return Impl("sigcli", Signal, receiver, "sigcli.dispatch", validating_receivers)


IMPLS = {"django": _django, "sigcli": _sigcli}


@pytest.fixture(params=sorted(IMPLS))
def impl(request: pytest.FixtureRequest) -> Impl:
    return IMPLS[request.param]()
