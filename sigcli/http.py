"""A tiny request cycle that sends Django's request signals in Django's order.

A scenario declares views and ``urlpatterns`` and calls
``client.get("/path")``. The cycle mirrors Django's test ``Client`` (the sync
one), signal for signal:

1. ``request_started`` with ``sender=ClientHandler`` (the handler class) and
   ``environ``, before the request object exists;
2. the view, whose ORM work sends its own signals in between;
3. for an exception that becomes a 500, and only then,
   ``got_request_exception`` with ``sender=None`` and ``request``. ``Http404``,
   ``PermissionDenied``, ``BadRequest`` and ``SuspiciousOperation`` become
   404, 403 and 400 responses without it;
4. ``request_finished`` from ``response.close()``, with ``sender=None``: under
   the test client no WSGI handler has stamped the response (a real WSGI
   server gives ``WSGIHandler`` there).

The environ holds only the method, the path, the query string and the
server name. Like Django's client, ``raise_request_exception=True`` (the
default) re-raises a view's exception after ``request_finished``; with
``False`` the 500 response is returned. Django's own receivers on these signals (connection and
cache clean-up) are not modelled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sigcli.signals import got_request_exception, request_finished, request_started

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


class Http404(Exception):
    """Raised by a view for a missing page: a 404 response, no exception signal."""


class PermissionDenied(Exception):
    """A 403 response, no exception signal."""


class BadRequest(Exception):
    """A 400 response, no exception signal."""


class SuspiciousOperation(Exception):
    """A 400 response, no exception signal."""


_CLIENT_ERRORS: tuple[tuple[type[Exception], int], ...] = (
    (Http404, 404),
    (PermissionDenied, 403),
    (BadRequest, 400),
    (SuspiciousOperation, 400),
)


@dataclass
class HttpRequest:
    """What a view receives: the method, the path and the submitted data."""

    method: str
    path: str
    environ: dict[str, Any]
    GET: dict[str, str] = field(default_factory=dict)
    POST: dict[str, Any] = field(default_factory=dict)

    @property
    def META(self) -> dict[str, Any]:
        return self.environ

    def __repr__(self) -> str:
        # Django's test client hands views a WSGIRequest, and traces show its repr.
        return f"<WSGIRequest: {self.method} {self.path!r}>"


class HttpResponse:
    """A response whose ``close()`` sends ``request_finished``, as Django's does."""

    def __init__(self, content: object = b"", status: int = 200) -> None:
        if isinstance(content, bytes):
            self.content = content
        else:
            self.content = str(content).encode()
        self.status_code = status
        self._handler_class: type | None = None
        self._exception: BaseException | None = None

    def close(self) -> None:
        request_finished.send(sender=self._handler_class)

    def __repr__(self) -> str:
        return f"<HttpResponse status_code={self.status_code}>"


View = Callable[..., HttpResponse]

_CONVERTERS = {"int": (r"[0-9]+", int), "str": (r"[^/]+", str), "slug": (r"[-a-zA-Z0-9_]+", str)}
_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class URLPattern:
    route: str
    view: View
    regex: re.Pattern[str]
    converters: Mapping[str, Callable[[str], Any]]

    def match(self, path_info: str) -> dict[str, Any] | None:
        found = self.regex.fullmatch(path_info)
        if found is None:
            return None
        return {name: self.converters[name](value) for name, value in found.groupdict().items()}


def path(route: str, view: View) -> URLPattern:
    """A URL pattern as Django writes it: ``path("articles/<int:pk>/", view)``.

    The route has no leading slash; ``<int:…>``, ``<str:…>``, ``<slug:…>`` and
    a bare ``<name>`` (a string) become keyword arguments of the view.
    """
    pattern, converters, position = "", {}, 0
    for parameter in _PARAMETER.finditer(route):
        kind = parameter["converter"] or "str"
        if kind not in _CONVERTERS:
            raise ValueError(f"unknown path converter {kind!r} in route {route!r}")
        regex, convert = _CONVERTERS[kind]
        pattern += re.escape(route[position : parameter.start()])
        pattern += f"(?P<{parameter['name']}>{regex})"
        converters[parameter["name"]] = convert
        position = parameter.end()
    pattern += re.escape(route[position:])
    return URLPattern(route, view, re.compile(pattern), converters)


class ClientHandler:
    """Turns an environ into a response, sending the request signals on the way."""

    def __init__(self, urlpatterns: Iterable[URLPattern]) -> None:
        self.urlpatterns = list(urlpatterns)

    def __call__(self, environ: dict[str, Any], data: dict[str, Any]) -> HttpResponse:
        request_started.send(sender=type(self), environ=environ)
        method = environ["REQUEST_METHOD"]
        request = HttpRequest(
            method=method,
            path=environ["PATH_INFO"],
            environ=environ,
            GET=dict(parse_qsl(environ["QUERY_STRING"])),
            POST=dict(data) if method == "POST" else {},
        )
        response = self.get_response(request)
        response.close()
        return response

    def get_response(self, request: HttpRequest) -> HttpResponse:
        try:
            view, kwargs = self.resolve(request.path)
            response = view(request, **kwargs)
            if not isinstance(response, HttpResponse):
                raise ValueError(
                    f"The view {getattr(view, '__qualname__', view)} didn't return an "
                    f"HttpResponse object. It returned {response!r} instead."
                )
            return response
        except Exception as error:
            return self.response_for_exception(request, error)

    def resolve(self, path_info: str) -> tuple[View, dict[str, Any]]:
        for pattern in self.urlpatterns:
            kwargs = pattern.match(path_info.removeprefix("/"))
            if kwargs is not None:
                return pattern.view, kwargs
        raise Http404(f"no URL pattern matches {path_info!r}")

    def response_for_exception(self, request: HttpRequest, error: Exception) -> HttpResponse:
        for kind, status in _CLIENT_ERRORS:
            if isinstance(error, kind):
                return HttpResponse(f"{status}", status=status)
        got_request_exception.send(sender=None, request=request)
        response = HttpResponse("<h1>Server Error (500)</h1>", status=500)
        response._exception = error
        return response


class Client:
    """``client.get(path)`` / ``client.post(path, data)`` against ``urlpatterns``."""

    def __init__(
        self, urlpatterns: Iterable[URLPattern], raise_request_exception: bool = True
    ) -> None:
        self.handler = ClientHandler(urlpatterns)
        self.raise_request_exception = raise_request_exception

    def get(self, path: str, data: Mapping[str, Any] | None = None) -> HttpResponse:
        return self.request("GET", path, query=data)

    def post(self, path: str, data: Mapping[str, Any] | None = None) -> HttpResponse:
        return self.request("POST", path, form=data)

    def request(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> HttpResponse:
        parts = urlsplit(path)
        query_string = parts.query
        if query:
            extra = urlencode(dict(query))
            query_string = f"{query_string}&{extra}" if query_string else extra
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": parts.path or "/",
            "QUERY_STRING": query_string,
            "SERVER_NAME": "testserver",
        }
        response = self.handler(environ, dict(form or {}))
        if self.raise_request_exception and response._exception is not None:
            raise response._exception
        return response
