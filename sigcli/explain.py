"""What each built-in signal is for, and which bundled scenario shows it.

The catalogue is plain data (:data:`CATALOGUE`), written from what Django 5.2
does; :func:`signal_table` and :func:`signal_detail` turn it into rich
renderables for ``sigcli explain``. :func:`bundled_summaries` reads the
lessons of the scenario library from the files' docstrings without importing
them, for ``sigcli scenarios``.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table


@dataclass(frozen=True)
class SignalDoc:
    """One built-in signal as a learner needs it."""

    name: str
    django_path: str
    sent_when: str
    sender: str
    kwargs: tuple[tuple[str, str], ...]
    pitfalls: tuple[str, ...]
    scenarios: tuple[str, ...]
    #: Other modules it can be imported from.
    also_in: tuple[str, ...] = ()


_MODEL = "django.db.models.signals"
_REQUEST = "django.core.signals"

CATALOGUE: tuple[SignalDoc, ...] = (
    SignalDoc(
        "pre_init",
        _MODEL,
        "at the start of Model.__init__, for every instance: built by you or loaded from a row",
        "the model class",
        (
            ("args", "the positional arguments (the column values, for a loaded row)"),
            ("kwargs", "the keyword arguments, the live dict that __init__ then empties"),
        ),
        (
            "kwargs is consumed by __init__: a receiver that keeps the dict later sees it empty; copy it.",
            "Every row loaded by get(), iteration or the delete collector sends it; values(), count() and update() do not.",
        ),
        ("bulk_operations",),
    ),
    SignalDoc(
        "post_init",
        _MODEL,
        "at the end of Model.__init__, once the field values are set",
        "the model class",
        (("instance", "the new instance"),),
        (
            "For a loaded row, _state.adding is still True and _state.db unset: they are set after post_init.",
            "It runs for every instance built, so a slow receiver slows every query.",
        ),
        ("bulk_operations",),
    ),
    SignalDoc(
        "pre_save",
        _MODEL,
        "by Model.save(), before the INSERT or UPDATE",
        "the model class (the proxy class for a proxy model)",
        (
            ("instance", "the instance being saved; pk is None for a new row"),
            ("raw", "True when loading fixtures: save_base(raw=True)"),
            ("using", "the database alias"),
            (
                "update_fields",
                "a frozenset of the names passed to save(update_fields=...), or None",
            ),
        ),
        (
            "QuerySet.update(), bulk_create() and bulk_update() never call save(): no pre_save.",
            "save(update_fields=[]) saves nothing and sends nothing.",
            "Changes a receiver makes to the instance are written: no second save needed.",
            "There is no 'created' here: test instance._state.adding instead.",
        ),
        ("slug_from_title", "connecting", "bulk_operations", "on_delete"),
    ),
    SignalDoc(
        "post_save",
        _MODEL,
        "by Model.save(), after the row is written",
        "the model class (the proxy class for a proxy model)",
        (
            ("instance", "the saved instance, pk set"),
            (
                "created",
                "True when the row was INSERTed (also for an explicit pk not yet in the table)",
            ),
            (
                "update_fields",
                "a frozenset of the names passed to save(update_fields=...), or None",
            ),
            ("raw", "True when loading fixtures: save_base(raw=True)"),
            ("using", "the database alias"),
        ),
        (
            "A receiver that saves its own instance sends post_save again: endless recursion.",
            "A receiver that raises fails the save, but the row is already written (unless in atomic()).",
            "Check raw: during loaddata, related rows come from the fixture, not from your receiver.",
            "update(), bulk_create() and bulk_update() send nothing; SET_NULL on delete sends nothing either.",
            "A receiver defined inside a function is held weakly and silently disappears.",
        ),
        (
            "profile_on_signup",
            "sender_filtering",
            "update_fields",
            "raw_saves",
            "recursion",
            "dispatch_uid",
            "weak_receivers",
            "send_robust",
            "async_receivers",
        ),
    ),
    SignalDoc(
        "pre_delete",
        _MODEL,
        "by the delete collector, for every instance to delete, before any row is deleted",
        "the model class of each instance",
        (
            ("instance", "the instance about to be deleted, pk still set"),
            ("using", "the database alias"),
            (
                "origin",
                "the instance or QuerySet whose delete() was called, the same for the whole cascade",
            ),
        ),
        (
            "Sent for cascaded rows too, leaf models first, pk ascending, all before the first DELETE.",
            "Rows of a model nobody listens to (and that nothing cascades from) are deleted in bulk, without signals.",
            "A listener for any sender makes Django load rows that it would otherwise delete directly.",
            "PROTECT raises ProtectedError before any pre_delete is sent.",
        ),
        ("cascade_order", "on_delete"),
    ),
    SignalDoc(
        "post_delete",
        _MODEL,
        "by the delete collector, right after each model's DELETE statement",
        "the model class of each instance",
        (
            ("instance", "the deleted instance, pk still set (cleared after the whole delete)"),
            ("using", "the database alias"),
            ("origin", "the instance or QuerySet whose delete() was called"),
        ),
        (
            "Per model pk descending, while rows of models later in the order (the parent) still exist.",
            "The whole delete is one transaction: a receiver that raises rolls it all back.",
            "Deleting an object with many-to-many links sends no m2m_changed.",
        ),
        ("cascade_order", "on_delete"),
    ),
    SignalDoc(
        "m2m_changed",
        _MODEL,
        "by a many-to-many manager's add(), remove(), clear() and set(), before and after the change",
        "the through model (Pizza.toppings.through), not either side",
        (
            ("action", "pre_add, post_add, pre_remove, post_remove, pre_clear or post_clear"),
            ("instance", "the object whose manager was used"),
            ("reverse", "False from the side declaring the field, True from the other side"),
            ("model", "the class of the objects added, removed or cleared"),
            (
                "pk_set",
                "their pks; only the new ones for add; all requested for remove; None for clear",
            ),
            ("using", "the database alias"),
        ),
        (
            "Connect with sender=Model.field.through: sender=Pizza hears nothing.",
            "add() of already linked objects still sends, with an empty pk_set.",
            "set() is remove then add, each pair left out when empty; only set(clear=True) clears.",
            "pk_set is one shared, mutable set: a pre_add receiver that edits it changes what is inserted.",
        ),
        ("m2m_changed",),
    ),
    SignalDoc(
        "class_prepared",
        _MODEL,
        "when a model class has been created, before it is registered",
        "the model class",
        (),
        (
            "Sent while models are imported: connect receivers before the models module is imported.",
            "Not sent for abstract models; sent for proxies and auto-created through models.",
        ),
        ("profile_on_signup",),
    ),
    SignalDoc(
        "pre_migrate",
        _MODEL,
        "by migrate, once per installed app with models, before migrations run",
        "the AppConfig",
        (
            ("app_config", "the AppConfig (also the sender)"),
            ("verbosity", "the command's verbosity"),
            ("interactive", "whether the user may be prompted"),
            ("using", "the database alias"),
            ("stdout", "the command's output stream"),
            ("apps", "the project state before the migrations"),
            ("plan", "the migrations to apply, as (Migration, backwards) pairs"),
        ),
        ("Sent even when there is nothing to migrate.",),
        ("profile_on_signup",),
    ),
    SignalDoc(
        "post_migrate",
        _MODEL,
        "by migrate (and flush), once per installed app with models, at the very end",
        "the AppConfig",
        (
            ("app_config", "the AppConfig (also the sender)"),
            ("verbosity", "the command's verbosity"),
            ("interactive", "whether the user may be prompted"),
            ("using", "the database alias"),
            ("stdout", "the command's output stream (migrate only)"),
            ("apps", "the project state after the migrations (migrate only)"),
            ("plan", "the migrations applied (migrate only)"),
        ),
        (
            "flush and test set-up send it with only app_config, verbosity, interactive and using.",
            "Receivers that create rows must be idempotent: it is sent on every migrate.",
        ),
        ("profile_on_signup",),
    ),
    SignalDoc(
        "request_started",
        _REQUEST,
        "when a request arrives, before the request object is built",
        "the handler class (WSGIHandler, ASGIHandler, or the test client's ClientHandler)",
        (("environ", "the WSGI environ (ASGI sends scope instead)"),),
        ("Under ASGI it is sent with asend and the keyword is scope, not environ.",),
        ("request_cycle",),
    ),
    SignalDoc(
        "request_finished",
        _REQUEST,
        "when the response is closed, after its body has been sent",
        "the handler class, or None under the test client",
        (),
        (
            "A streaming response sends it only once its content has been consumed.",
            "It is sent even when the view raised.",
        ),
        ("request_cycle",),
    ),
    SignalDoc(
        "got_request_exception",
        _REQUEST,
        "when a view raises an exception that becomes a 500 response",
        "None",
        (("request", "the request being handled"),),
        (
            "Not sent for Http404, PermissionDenied, BadRequest or SuspiciousOperation.",
            "Sent before request_finished.",
        ),
        ("request_cycle",),
    ),
    SignalDoc(
        "setting_changed",
        _REQUEST,
        "by override_settings, modify_settings and TestCase.settings(): once per setting on"
        " entering, once on leaving",
        "the class of the settings in effect: UserSettingsHolder on entering, the restored"
        " settings' class on leaving",
        (
            ("setting", "the setting's name"),
            ("value", "its value now: the new one on entering, the restored one on leaving"),
            ("enter", "True on entering the override, False on leaving it"),
        ),
        (
            "Also importable as django.test.signals.setting_changed, where the docs list it.",
            "On leaving, value is None for a setting that did not exist before the override.",
            "Entering uses send: a receiver that raises ends the override at once and re-raises.",
            "Leaving uses send_robust: every receiver runs, and the first error is raised after.",
        ),
        (),
        ("django.test.signals",),
    ),
    SignalDoc(
        "template_rendered",
        "django.test.signals",
        "by the test framework when a template is rendered (only while tests run)",
        "the Template being rendered",
        (
            ("template", "the Template (also the sender)"),
            ("context", "the Context it is rendered with"),
        ),
        (
            "Only sent under the test runner's instrumented rendering, never in production.",
            "The test client connects to it itself, to fill response.templates and .context.",
        ),
        (),
    ),
    SignalDoc(
        "connection_created",
        "django.db.backends.signals",
        "when a database wrapper opens its connection to the database",
        "the DatabaseWrapper class of the backend",
        (("connection", "the DatabaseWrapper instance that connected"),),
        (
            "Sent for every new connection: per thread, and again after a connection is closed.",
            "Connect it before the first query, or the first connection goes unseen.",
        ),
        (),
    ),
    SignalDoc(
        "user_logged_in",
        "django.contrib.auth.signals",
        "by login() (and alogin()) once the user is stored in the session",
        "the user's class",
        (
            ("request", "the current HttpRequest"),
            ("user", "the user who just logged in"),
        ),
        (
            "alogin() sends it with asend: async receivers are awaited, sync ones run in a thread.",
            "Django itself connects update_last_login here (when the user model has last_login).",
        ),
        (),
    ),
    SignalDoc(
        "user_logged_out",
        "django.contrib.auth.signals",
        "by logout() (and alogout()), before the session is flushed",
        "the user's class; NoneType when nobody was logged in",
        (
            ("request", "the current HttpRequest"),
            ("user", "the user who is logging out, or None when nobody was logged in"),
        ),
        (
            "For an anonymous visitor user is None and the sender is type(None), not None:"
            " sender=None filters catch nothing.",
        ),
        (),
    ),
    SignalDoc(
        "user_login_failed",
        "django.contrib.auth.signals",
        "by authenticate() when no backend accepted the credentials",
        "the name of the module: 'django.contrib.auth'",
        (
            ("credentials", "the keyword arguments given to authenticate(), secrets masked"),
            ("request", "the HttpRequest passed to authenticate(), or None"),
        ),
        (
            "Keys matching api, token, key, secret, password or signature arrive as asterisks.",
            "A backend raising PermissionDenied ends authenticate() early, and it is still sent.",
            "The sender is a string: connect with sender='django.contrib.auth', not a class.",
        ),
        (),
    ),
)

_BY_NAME = {doc.name: doc for doc in CATALOGUE}

#: Signals the default tree hides: init signals nobody listens to are folded,
#: and loading a scenario (class_prepared, migrate) is shown only with --all.
HIDDEN_BY_DEFAULT = frozenset(
    {"pre_init", "post_init", "class_prepared", "pre_migrate", "post_migrate"}
)


class UnknownSignal(LookupError):
    """A name that is not a built-in signal; ``suggestion`` is the closest one."""

    def __init__(self, name: str, message: str | None = None) -> None:
        wanted = _normalised(name).rpartition(".")[2]
        matches = difflib.get_close_matches(wanted, list(_BY_NAME), n=1, cutoff=0.5)
        self.name = name
        self.suggestion = matches[0] if matches else None
        hint = f" Did you mean {self.suggestion!r}?" if self.suggestion else ""
        super().__init__(
            message or f"no built-in signal named {name!r}.{hint} Known: {', '.join(_BY_NAME)}"
        )


def _normalised(name: str) -> str:
    """``POST_SAVE``, ``post-save``, ``PostSave`` and ``post_save()`` as ``post_save``."""
    name = name.strip().removesuffix("()")
    if name.replace(".", "").isalpha() and not name.isupper() and not name.islower():
        name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return name.replace("-", "_").lower()


def lookup(name: str) -> SignalDoc:
    """The signal named ``name``: its name in any case, or its full import path
    (``django.db.models.signals.post_save``)."""
    module, dot, wanted = _normalised(name).rpartition(".")
    doc = _BY_NAME.get(wanted)
    if doc is None:
        raise UnknownSignal(name)
    if dot and module not in (doc.django_path, *doc.also_in):
        raise UnknownSignal(
            name,
            f"{module} has no signal {wanted!r}: it is "
            f"{doc.django_path}.{doc.name}. Try `sigcli explain {doc.name}`.",
        )
    return doc


def signal_table() -> Table:
    """Every built-in signal: when it is sent, its sender, its keyword arguments."""
    from rich.table import Table

    table = Table(title="Django's built-in signals", title_justify="left", expand=False)
    table.add_column("signal", style="bold", no_wrap=True)
    table.add_column("sent")
    table.add_column("sender")
    table.add_column("kwargs")
    for doc in CATALOGUE:
        table.add_row(
            doc.name, doc.sent_when, doc.sender, ", ".join(k for k, _ in doc.kwargs) or "—"
        )
    return table


def signal_detail(name: str) -> RenderableType:
    """One signal: import path, when, sender, each keyword, pitfalls, scenarios."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    doc = lookup(name)
    head = Text.assemble((doc.name, "bold"), f"  from {doc.django_path} import {doc.name}")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("sent", doc.sent_when)
    facts.add_row("sender", doc.sender)
    for key, meaning in doc.kwargs:
        facts.add_row(key, meaning)
    parts: list[RenderableType] = [head, facts]
    if doc.pitfalls:
        # A grid, so that a long pitfall wraps under its own text, not to column 0.
        pitfalls = Table.grid(padding=(0, 1))
        pitfalls.add_column(no_wrap=True)
        pitfalls.add_column()
        for pitfall in doc.pitfalls:
            pitfalls.add_row("  •", Text(pitfall))
        parts.extend([Text("pitfalls", style="bold"), pitfalls])
    if doc.scenarios:
        flag = " --all" if doc.name in HIDDEN_BY_DEFAULT else ""
        shown = ", ".join(f"sigcli run {scenario}{flag}" for scenario in doc.scenarios)
        see = Table.grid(padding=(0, 2))
        see.add_column(style="bold", no_wrap=True)
        see.add_column()
        see.add_row("see it", shown)
        parts.append(see)
    return Group(*parts)


# -- the scenario library -----------------------------------------------------


@dataclass(frozen=True)
class ScenarioSummary:
    name: str
    path: Path
    lesson: str


def bundled_summaries() -> list[ScenarioSummary]:
    """Every bundled scenario with the first paragraph of its docstring, by name.

    The files are parsed, not imported, so listing runs none of their code.
    """
    from sigcli.scenario import bundled_paths

    summaries = []
    for name, path in bundled_paths().items():
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        lesson = " ".join(docstring.split("\n\n")[0].split()).replace("``", "")
        summaries.append(ScenarioSummary(name, path, lesson))
    return summaries


def scenarios_table() -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Bundled scenarios: sigcli run NAME", title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("lesson")
    for summary in bundled_summaries():
        table.add_row(summary.name, Text(summary.lesson))
    return table
