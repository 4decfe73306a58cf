"""Scenarios on real Django: ``sigcli run SCENARIO --engine django``.

The scenario file is the one written for sigcli's own engine. While it is
imported and run, its imports of ``sigcli``, ``sigcli.models``,
``sigcli.signals``, ``sigcli.dispatcher`` and ``sigcli.http`` give Django's
objects (through the module's own ``__import__``, so sigcli itself keeps its
own modules). Its models get an app of their own, labelled ``app`` as on
sigcli's engine, registered in Django's app registry for the run; the schema
editor makes their tables (between ``pre_migrate`` and ``post_migrate`` for
that app, as ``migrate`` sends them) and drops them afterwards, and the
receivers a scenario connects to any Django signal are taken off again.
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from sigcli import observation
from sigcli.scenario import Engine, ScenarioError
from sigcli.scenariofile import SCENARIO_APP, import_message, never_defined


class ScenarioApp:
    """A scenario's app in Django's registry, for one run."""

    def __init__(self, config: Any, pending_before: dict[Any, list[Any]]) -> None:
        self.config = config
        self.label: str = config.label
        self.tables: list[type] = []
        #: Django's waiting lazy operations before the scenario was imported:
        #: the ones it adds are its own references that never resolved.
        self.pending_before = pending_before

    @property
    def models(self) -> dict[str, type]:
        return dict(self.config.models)


class DjangoEngine(Engine):
    """Runs scenarios on the Django configured in this process (sigcli's
    in-memory set-up unless a project was set up first)."""

    name = "django"

    def __init__(self) -> None:
        from sigcli.djangoengine.configure import configure_in_memory

        configure_in_memory()
        from django.db import DEFAULT_DB_ALIAS, connections

        # Opened now, so that connection_created belongs to no scenario's trace.
        connections[DEFAULT_DB_ALIAS].ensure_connection()

    @contextmanager
    def world(
        self, path: Path, database: str | None, module_name: str, threads: list[Any]
    ) -> Iterator[ScenarioApp]:
        from django.apps import apps

        if database is not None:
            raise ScenarioError("--db keeps sigcli's own database; --engine django has none.")
        with ExitStack() as stack:
            stack.callback(_restore_receivers, _snapshot_receivers())
            pending_before = {k: list(v) for k, v in apps._pending_operations.items()}
            stack.callback(_restore_pending, apps, pending_before)
            app = ScenarioApp(_register_app(apps, module_name, path), pending_before)
            stack.callback(_unregister_app, apps, app.config)
            stack.callback(_drop_tables, app)
            yield app

    @contextmanager
    def recording(self, recorder: Any) -> Iterator[Any]:
        """Every send of every Django signal goes to ``recorder`` for the block."""
        from sigcli.djangoengine.observer import observe_django

        with ExitStack() as stack:
            stack.enter_context(observe_django(recorder))
            stack.callback(recorder.flush)
            yield recorder

    def module_globals(self) -> dict[str, Any]:
        names = dict(vars(builtins))
        names["__import__"] = _importer(_stand_ins())
        return {"__builtins__": names}

    def prepare(self, path: Path, module: ModuleType, registry: Any) -> dict[str, Any]:
        from django.apps import apps
        from django.db import DEFAULT_DB_ALIAS
        from django.dispatch import Signal

        from sigcli.djangoengine.observer import name_signal
        from sigcli.djangoengine.project import NotATestDatabase, check_scratch

        app: ScenarioApp = registry
        builtin = builtin_signals()
        named = {}
        for name, value in vars(module).items():
            if issubclass(type(value), Signal) and value not in builtin.values():
                name_signal(value, name)
                named[name] = value
        missing = sorted(
            f"{label}.{model}"
            for (label, model), waiting in apps._pending_operations.items()
            if len(waiting) > len(app.pending_before.get((label, model), ()))
        )
        if missing:
            raise ScenarioError(never_defined(path, missing))
        app.config.models_module = module
        try:
            check_scratch(DEFAULT_DB_ALIAS)
        except NotATestDatabase as error:
            raise ScenarioError(f"{path}: {error}") from None
        try:
            _make_tables(app)
        except Exception as error:
            raise ScenarioError(import_message(path, error, "creating the tables")) from None
        return builtin | named

    def starting_names(self) -> dict[str, Any]:
        stand_ins = _stand_ins()
        top = stand_ins["sigcli"]
        names: dict[str, Any] = {
            "sigcli": top,
            "models": top.models,
            "receiver": top.receiver,
            "Signal": top.Signal,
        }
        return names | builtin_signals()

    def receiver_infos(self, signal: Any) -> list[observation.ReceiverInfo]:
        from sigcli.djangoengine.receivers import connected

        return [r.info for r in connected(signal) if not r.dead]


def builtin_signals() -> dict[str, Any]:
    """Django's signals that ``sigcli.signals`` stands for, by name: the same
    names as sigcli's own ``BUILTIN_SIGNALS``."""
    from django.core import signals as core
    from django.db.models import signals as model_signals

    from sigcli.signals import BUILTIN_SIGNALS

    return {
        s.name: getattr(model_signals, s.name, None) or getattr(core, s.name)
        for s in BUILTIN_SIGNALS
        if s.name
    }


# -- the names a scenario imports -----------------------------------------------


def _stand_ins() -> dict[str, ModuleType]:
    """Modules named as sigcli's, holding Django's objects."""
    import django.db.models
    import django.dispatch
    from django.db.models.signals import ModelSignal

    from sigcli.scenario import step

    signals = ModuleType("sigcli.signals", "Django's built-in signals, under sigcli's names.")
    vars(signals).update(builtin_signals())
    signals.ModelSignal = ModelSignal  # type: ignore[attr-defined]
    signals.BUILTIN_SIGNALS = tuple(builtin_signals().values())  # type: ignore[attr-defined]
    dispatch = ModuleType("sigcli.dispatcher", "Django's dispatcher, under sigcli's name.")
    dispatch.Signal = django.dispatch.Signal  # type: ignore[attr-defined]
    dispatch.receiver = django.dispatch.receiver  # type: ignore[attr-defined]
    from sigcli.djangoengine import http

    top = ModuleType("sigcli", "sigcli, on Django's engine.")
    vars(top).update(
        step=step,
        Signal=django.dispatch.Signal,
        receiver=django.dispatch.receiver,
        models=django.db.models,
        signals=signals,
        dispatcher=dispatch,
        http=http,
    )
    return {
        "sigcli": top,
        "sigcli.models": django.db.models,
        "sigcli.signals": signals,
        "sigcli.dispatcher": dispatch,
        "sigcli.http": http,
    }


def _importer(stand_ins: dict[str, ModuleType]) -> Any:
    """An ``__import__`` that answers sigcli's public modules with Django's objects."""
    real = builtins.__import__

    def engine_import(
        name: str,
        globals: Any = None,
        locals: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        if level == 0 and (name == "sigcli" or name.startswith("sigcli.")):
            module = stand_ins.get(name)
            if module is not None:
                return module if fromlist else stand_ins["sigcli"]
            if name.startswith("sigcli.models."):
                raise ImportError(
                    f"{name} is part of sigcli's own model layer; a scenario run with "
                    "--engine django imports from sigcli.models (Django's models) only."
                )
        return real(name, globals, locals, fromlist, level)

    return engine_import


# -- the scenario's app and tables ----------------------------------------------


def _register_app(apps: Any, module_name: str, path: Path) -> Any:
    """An ``AppConfig`` for the scenario module, installed in Django's registry.

    Its name is the module's, so that Django finds it as the app of every
    model class the scenario defines.
    """
    from django.apps import AppConfig

    if SCENARIO_APP in apps.app_configs:
        raise ScenarioError(
            f"{path}: the project already has an app labelled {SCENARIO_APP!r}, the label "
            "sigcli gives a scenario's models; rename that app's label to run scenarios."
        )
    config = AppConfig.__new__(AppConfig)
    config.label = SCENARIO_APP
    config.path = str(path.resolve().parent)
    config.__init__(module_name, None)  # type: ignore[misc]
    config.apps = apps
    config.models = apps.all_models[SCENARIO_APP]
    apps.app_configs[SCENARIO_APP] = config
    apps.clear_cache()
    return config


def _unregister_app(apps: Any, config: Any) -> None:
    apps.app_configs.pop(config.label, None)
    apps.all_models.pop(config.label, None)
    apps.clear_cache()


def _make_tables(app: ScenarioApp) -> None:
    """Create the app's tables, announced as ``migrate`` announces them."""
    from django.apps import apps
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.models import signals

    config = app.config
    arguments = {
        "app_config": config,
        "verbosity": 1,
        "interactive": False,
        "using": DEFAULT_DB_ALIAS,
        "stdout": sys.stdout,
        "apps": apps,
        "plan": [],
    }
    signals.pre_migrate.send(sender=config, **arguments)
    with connections[DEFAULT_DB_ALIAS].schema_editor() as editor:
        for model in config.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)
                app.tables.append(model)
    signals.post_migrate.send(sender=config, **arguments)


def _drop_tables(app: ScenarioApp) -> None:
    from django.db import DEFAULT_DB_ALIAS, connections

    if not app.tables:
        return
    with connections[DEFAULT_DB_ALIAS].schema_editor() as editor:
        for model in reversed(app.tables):
            editor.delete_model(model)


def _snapshot_receivers() -> list[tuple[Any, list[Any]]]:
    from sigcli.djangoengine.receivers import live_signals

    snapshot = []
    for signal in live_signals():
        with signal.lock:
            snapshot.append((signal, list(signal.receivers)))
    return snapshot


def _restore_receivers(snapshot: list[tuple[Any, list[Any]]]) -> None:
    for signal, receivers in snapshot:
        with signal.lock:
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()


def _restore_pending(apps: Any, before: dict[Any, list[Any]]) -> None:
    for key in [k for k in apps._pending_operations if k not in before]:
        del apps._pending_operations[key]
    for key, functions in before.items():
        apps._pending_operations[key] = functions
