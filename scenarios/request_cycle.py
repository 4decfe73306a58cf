"""Every request is framed by request_started and request_finished.

The view runs between the two, so the model signals it causes come after
request_started and before request_finished. A view that raises sends got_request_exception before
request_finished, but only for errors that become a 500: Http404 does not.
"""

import sigcli
from sigcli import models, receiver
from sigcli.http import Client, Http404, HttpResponse, path
from sigcli.signals import got_request_exception, post_save, request_finished, request_started


class Visit(models.Model):
    path = models.CharField(max_length=200)

    def __str__(self):
        return self.path


def home(request):
    Visit.objects.create(path=request.path)
    return HttpResponse("welcome")


def article(request, pk):
    if pk != 1:
        raise Http404(f"no article {pk}")
    return HttpResponse("article 1")


def broken(request):
    return HttpResponse(1 / 0)


urlpatterns = [
    path("", home),
    path("articles/<int:pk>/", article),
    path("broken/", broken),
]
client = Client(urlpatterns, raise_request_exception=False)


@receiver(request_started)
def open_request(sender, environ, **kwargs):
    return environ["PATH_INFO"]


@receiver(post_save, sender=Visit)
def count_visit(sender, instance, created, **kwargs):
    return f"visit to {instance.path}"


@receiver(got_request_exception)
def report_error(sender, request, **kwargs):
    return f"error while serving {request.path}"


@receiver(request_finished)
def close_request(sender, **kwargs):
    return "closed"


@sigcli.step
def ok():
    """A page that saves a Visit: started, the view's post_save, finished."""
    client.get("/")


@sigcli.step
def not_found():
    """Http404 becomes a 404 response: no got_request_exception."""
    client.get("/articles/2/")


@sigcli.step
def server_error():
    """An uncaught error becomes a 500: got_request_exception, then finished."""
    client.get("/broken/")
