"""``sigcli.http`` for scenarios on ``--engine django``: the same names, Django's classes.

A scenario builds ``Client(urlpatterns)`` and calls ``client.get(path)``;
here that is Django's own test ``Client``, serving the scenario's
``urlpatterns`` (``ROOT_URLCONF`` points at them for the request), so the
request signals and Django's own receivers on them are the real ones.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.test.client import Client as DjangoClient
from django.test.client import ClientHandler
from django.urls import clear_url_caches, path

__all__ = [
    "BadRequest",
    "Client",
    "ClientHandler",
    "Http404",
    "HttpRequest",
    "HttpResponse",
    "PermissionDenied",
    "SuspiciousOperation",
    "path",
]

_UNSET = object()


class Client:
    """Django's test client for the views in ``urlpatterns``."""

    def __init__(
        self, urlpatterns: list[Any], raise_request_exception: bool = True, **defaults: Any
    ) -> None:
        self.urlconf = ModuleType("urls", "The scenario's URLconf.")
        self.urlconf.urlpatterns = urlpatterns  # type: ignore[attr-defined]
        self.client = DjangoClient(raise_request_exception=raise_request_exception, **defaults)

    def get(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self._serve(self.client.get, url, data, **extra)

    def post(self, url: str, data: Any = None, **extra: Any) -> Any:
        return self._serve(self.client.post, url, data, **extra)

    def _serve(self, method: Any, url: str, data: Any, **extra: Any) -> Any:
        from django.conf import settings

        # Set directly rather than with override_settings, which would send
        # setting_changed into the trace.
        previous = getattr(settings, "ROOT_URLCONF", _UNSET)
        settings.ROOT_URLCONF = self.urlconf
        clear_url_caches()
        try:
            return method(url, data, **extra)
        finally:
            if previous is _UNSET:
                del settings.ROOT_URLCONF
            else:
                settings.ROOT_URLCONF = previous
            clear_url_caches()
