"""Configuring Django lazily: sigcli's own in-memory set-up, or a user's project.

sigcli never needs Django to start. ``--engine django`` configures it in
memory (one SQLite database in RAM, no installed apps), so that whatever a
scenario writes disappears with the process; ``--settings PROJECT.settings``
sets up the user's project instead, and anything that writes then goes to a
test database (:mod:`sigcli.djangoengine.project`).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

INSTALL_HINT = "pip install 'sigcli[django]'"


class DjangoSetupError(Exception):
    """Django is missing, or the project named by ``--settings`` cannot be set up."""


def require_django() -> Any:
    """The ``django`` package, or a :class:`DjangoSetupError` saying how to install it."""
    try:
        import django
    except ImportError:
        raise DjangoSetupError(
            f"Django is not installed in this environment; install it with: {INSTALL_HINT}"
        ) from None
    return django


def configure_in_memory() -> None:
    """Configure Django for scenarios, unless it already is (a test session, a
    project set up by ``--settings``): an in-memory SQLite database, no apps.

    ``DEBUG`` stays off, as in production: with it on, Django keeps every
    query in memory and its ``lru_cache`` of receiver signatures keeps
    local-function receivers alive, which a weak reference would not.
    """
    django = require_django()
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            INSTALLED_APPS=[],
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
            ALLOWED_HOSTS=["testserver"],
            SECRET_KEY="sigcli-scenarios-only",  # signing and sessions refuse to work without
        )
    from django.apps import apps

    if not apps.ready:
        django.setup()


def configure_project(settings_module: str) -> None:
    """Set up the Django project whose settings module is ``settings_module``.

    The current directory comes first on ``sys.path``, as ``manage.py`` puts
    the project's own directory there; an import error names the module and
    what to do.
    """
    django = require_django()
    from django.conf import settings

    if settings.configured:
        current = os.environ.get("DJANGO_SETTINGS_MODULE")
        if current == settings_module:
            return
        raise DjangoSetupError(
            f"Django is already configured in this process; --settings {settings_module} "
            "cannot set up a second project."
        )
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        importlib.import_module(settings_module)
    except ImportError as error:
        raise DjangoSetupError(
            f"--settings {settings_module}: cannot import it ({error}). Run sigcli from the "
            "project's directory (where manage.py is), or add that directory to PYTHONPATH."
        ) from None
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        django.setup()
    except Exception as error:
        raise DjangoSetupError(
            f"--settings {settings_module}: django.setup() failed: {type(error).__name__}: {error}"
        ) from None
