"""The request cycle sends Django's request signals in the order Django's test
Client does, checked here against Django itself."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from sigcli import http
from sigcli.signals import got_request_exception, request_finished, request_started

PATHS = [
    "/",
    "/articles/1/",
    "/articles/2/",
    "/forbidden/",
    "/bad/",
    "/broken/",
    "/none/",
    "/nope/",
]


def sigcli_views(module: Any) -> list[Any]:
    """The same five views, written once against a module exposing Django's names."""

    def home(request):
        return module.HttpResponse("home")

    def article(request, pk):
        if pk != 1:
            raise module.Http404("no such article")
        return module.HttpResponse("article")

    def forbidden(request):
        raise module.PermissionDenied

    def bad(request):
        raise module.BadRequest("bad")

    def broken(request):
        return module.HttpResponse(1 / 0)

    def none(request):
        return None

    return [
        module.path("", home),
        module.path("articles/<int:pk>/", article),
        module.path("forbidden/", forbidden),
        module.path("bad/", bad),
        module.path("broken/", broken),
        module.path("none/", none),
    ]


def record(signals: list[Any], run: Any) -> list[tuple[str, str | None, list[str]]]:
    """Call ``run`` with a recorder connected to ``signals`` (in that order)."""
    events: list[tuple[str, str | None, list[str]]] = []
    names = {id(s): n for s, n in zip(signals, ["started", "exception", "finished"], strict=True)}

    def listen(sender: Any, signal: Any, **kwargs: Any) -> None:
        label = None if sender is None else sender.__name__
        events.append((names[id(signal)], label, sorted(kwargs)))

    for signal in signals:
        signal.connect(listen, weak=False)
    try:
        run()
    finally:
        for signal in signals:
            signal.disconnect(listen)
    return events


def run_sigcli() -> tuple[list[Any], list[int]]:
    client = http.Client(sigcli_views(http), raise_request_exception=False)
    statuses: list[int] = []
    events = record(
        [request_started, got_request_exception, request_finished],
        lambda: statuses.extend(client.get(p).status_code for p in PATHS),
    )
    return events, statuses


def run_django() -> tuple[list[Any], list[int]]:
    import django.core.exceptions as exceptions
    import django.http
    import django.urls
    from django.core import signals
    from django.test import Client
    from django.test.utils import override_settings

    names = types.SimpleNamespace(
        HttpResponse=django.http.HttpResponse,
        Http404=django.http.Http404,
        PermissionDenied=exceptions.PermissionDenied,
        BadRequest=exceptions.BadRequest,
        path=django.urls.path,
    )
    urlconf = types.ModuleType("tests.learn.django_urls")
    urlconf.urlpatterns = sigcli_views(names)  # type: ignore[attr-defined]
    sys.modules[urlconf.__name__] = urlconf
    statuses: list[int] = []
    client = Client(raise_request_exception=False)
    try:
        with override_settings(ROOT_URLCONF=urlconf.__name__, DEBUG=False):
            events = record(
                [signals.request_started, signals.got_request_exception, signals.request_finished],
                lambda: statuses.extend(client.get(p).status_code for p in PATHS),
            )
    finally:
        del sys.modules[urlconf.__name__]
    return events, statuses


def test_request_signals_match_django_test_client() -> None:
    import logging

    logging.disable(logging.CRITICAL)
    try:
        expected = run_django()
    finally:
        logging.disable(logging.NOTSET)
    actual = run_sigcli()
    events, statuses = actual
    assert statuses == [200, 200, 404, 403, 400, 500, 500, 404]
    started = ("started", "ClientHandler", ["environ"])
    finished = ("finished", None, [])
    failed = ("exception", None, ["request"])
    assert events == [started, finished] * 5 + [started, failed, finished] * 2 + [started, finished]
    assert actual == expected


def test_exception_is_raised_after_request_finished() -> None:
    def broken(request: http.HttpRequest) -> http.HttpResponse:
        raise KeyError("boom")

    client = http.Client([http.path("broken/", broken)])
    outcome: list[str] = []

    def run() -> None:
        with pytest.raises(KeyError):
            client.get("/broken/")
        outcome.append("raised")

    events = record([request_started, got_request_exception, request_finished], run)
    assert outcome == ["raised"]
    assert [name for name, _, _ in events] == ["started", "exception", "finished"]


def test_view_receives_query_post_data_and_path_arguments() -> None:
    received: dict[str, Any] = {}

    def view(request: http.HttpRequest, slug: str) -> http.HttpResponse:
        received.update(slug=slug, GET=request.GET, POST=request.POST, method=request.method)
        return http.HttpResponse("ok", status=201)

    client = http.Client([http.path("tags/<slug:slug>/", view)])
    response = client.post("/tags/dj-ango/?page=2", {"name": "x"})
    assert response.status_code == 201 and response.content == b"ok"
    assert received == {
        "slug": "dj-ango",
        "GET": {"page": "2"},
        "POST": {"name": "x"},
        "method": "POST",
    }
    assert client.get("/tags/a/", {"q": "a b"}).status_code == 201
    assert received["GET"] == {"q": "a b"} and received["POST"] == {}
