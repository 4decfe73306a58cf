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
)

_BY_NAME = {doc.name: doc for doc in CATALOGUE}

#: Signals the default tree hides: init signals nobody listens to are folded,
#: and loading a scenario (class_prepared, migrate) is shown only with --all.
HIDDEN_BY_DEFAULT = frozenset(
    {"pre_init", "post_init", "class_prepared", "pre_migrate", "post_migrate"}
)


class UnknownSignal(LookupError):
    """A name that is not a built-in signal; ``suggestion`` is the closest one."""

    def __init__(self, name: str) -> None:
        matches = difflib.get_close_matches(name, list(_BY_NAME), n=1)
        self.name = name
        self.suggestion = matches[0] if matches else None
        hint = f" Did you mean {self.suggestion!r}?" if self.suggestion else ""
        super().__init__(f"no built-in signal named {name!r}.{hint} Known: {', '.join(_BY_NAME)}")


def lookup(name: str) -> SignalDoc:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownSignal(name) from None


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
        parts.append(Text("pitfalls", style="bold"))
        parts.extend(Text(f"  • {pitfall}") for pitfall in doc.pitfalls)
    if doc.scenarios:
        flag = " --all" if doc.name in HIDDEN_BY_DEFAULT else ""
        shown = ", ".join(f"sigcli run {scenario}{flag}" for scenario in doc.scenarios)
        parts.append(Text.assemble(("see it", "bold"), f"  {shown}"))
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
