"""Django's built-in signals, with Django's names, flavours and keyword arguments.

The model signals are :class:`ModelSignal`\\ s: cached per sender, and their
``connect``/``disconnect`` accept a lazy string sender ``"app.User"`` that
names a model of the current registry (a scenario's models are in the app
``app``), the operation waiting until the model class is defined. As in
Django, a string without its app label is refused, and one naming another
app waits for ever.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from sigcli import observation
from sigcli.dispatcher import Signal

if TYPE_CHECKING:
    from sigcli.models.registry import Registry


class ModelSignal(Signal):
    """A signal whose sender may be given as a model reference string."""

    def _lazy_method(
        self, method: Any, apps: Registry | None, receiver: Any, sender: Any, **kwargs: Any
    ) -> Any:
        operation = partial(method, receiver, **kwargs)
        if isinstance(sender, str):
            if apps is None:
                from sigcli.models.registry import get_registry

                apps = get_registry()
            if sender.count(".") != 1:
                raise ValueError(
                    f"Invalid model reference {sender!r}. String model references must be "
                    "of the form 'app_label.ModelName'."
                )
            resolved: list[Any] = []

            def run(model: Any) -> None:
                resolved.append(model)
                operation(sender=model)

            apps.lazy_model_operation(run, sender, exact_label=True)
            if not resolved and method.__name__ == "connect":
                _report_waiting(self, receiver, sender, **kwargs)
            return None
        return operation(sender=sender)

    def connect(  # type: ignore[override]
        self,
        receiver: Any,
        sender: Any = None,
        weak: bool = True,
        dispatch_uid: Any = None,
        apps: Registry | None = None,
    ) -> None:
        self._lazy_method(
            super().connect, apps, receiver, sender, weak=weak, dispatch_uid=dispatch_uid
        )

    def disconnect(  # type: ignore[override]
        self,
        receiver: Any = None,
        sender: Any = None,
        dispatch_uid: Any = None,
        apps: Registry | None = None,
    ) -> bool | None:
        return self._lazy_method(  # type: ignore[no-any-return]
            super().disconnect, apps, receiver, sender, dispatch_uid=dispatch_uid
        )


def _report_waiting(
    signal: Signal, receiver: Any, sender: str, weak: bool = True, dispatch_uid: Any = None
) -> None:
    """A connect whose string sender names no model yet: it happens when the
    model is defined, or never (a typo)."""
    info = observation.describe_lazy(receiver, sender, weak, dispatch_uid)
    observation.report_change(signal, info, observation.ConnectionOutcome.WAITING)


def _named(signal: Signal, name: str) -> Any:
    signal.name = name
    return signal


pre_init = _named(ModelSignal(use_caching=True), "pre_init")
post_init = _named(ModelSignal(use_caching=True), "post_init")
pre_save = _named(ModelSignal(use_caching=True), "pre_save")
post_save = _named(ModelSignal(use_caching=True), "post_save")
pre_delete = _named(ModelSignal(use_caching=True), "pre_delete")
post_delete = _named(ModelSignal(use_caching=True), "post_delete")
m2m_changed = _named(ModelSignal(use_caching=True), "m2m_changed")
class_prepared = _named(Signal(), "class_prepared")
pre_migrate = _named(Signal(), "pre_migrate")
post_migrate = _named(Signal(), "post_migrate")
request_started = _named(Signal(), "request_started")
request_finished = _named(Signal(), "request_finished")
got_request_exception = _named(Signal(), "got_request_exception")

BUILTIN_SIGNALS: tuple[Signal, ...] = (
    pre_init,
    post_init,
    pre_save,
    post_save,
    pre_delete,
    post_delete,
    m2m_changed,
    class_prepared,
    pre_migrate,
    post_migrate,
    request_started,
    request_finished,
    got_request_exception,
)

__all__ = [
    "ModelSignal",
    "BUILTIN_SIGNALS",
    "pre_init",
    "post_init",
    "pre_save",
    "post_save",
    "pre_delete",
    "post_delete",
    "m2m_changed",
    "class_prepared",
    "pre_migrate",
    "post_migrate",
    "request_started",
    "request_finished",
    "got_request_exception",
]
