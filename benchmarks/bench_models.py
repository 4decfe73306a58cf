"""Time one model workload on sigcli and on Django's ORM, both on in-memory SQLite.

    python benchmarks/bench_models.py [--rounds 5] [--n 1000]

The workload, with receivers connected so that every signal is really sent:

* create: ``n`` books created, a ``post_save`` receiver connected;
* update: each of them changed and saved again;
* cascade delete: their author deleted, cascading to the ``n`` books
  (a ``post_delete`` receiver connected, so the books are loaded and signalled);
* m2m add: ``n`` calls of ``pizza.toppings.add(topping)``, an ``m2m_changed``
  receiver connected.

The two implementations run in one process, interleaved, for several rounds,
each round on fresh tables; setup is not timed. The medians per phase and
their ratio (sigcli / Django) are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

PHASES = ("create", "update", "cascade delete", "m2m add")


def declare(models: Any, meta: dict[str, Any]) -> SimpleNamespace:
    """The benchmark's models, for either implementation's ``models`` module."""

    def options() -> type:
        return type("Meta", (), dict(meta))

    class Author(models.Model):
        name = models.CharField(max_length=50)
        Meta = options()

    class Book(models.Model):
        title = models.CharField(max_length=50)
        pages = models.IntegerField(default=0)
        author = models.ForeignKey(Author, on_delete=models.CASCADE)
        Meta = options()

    class Topping(models.Model):
        name = models.CharField(max_length=50)
        Meta = options()

    class Pizza(models.Model):
        name = models.CharField(max_length=50)
        toppings = models.ManyToManyField(Topping)
        Meta = options()

    return SimpleNamespace(Author=Author, Book=Book, Topping=Topping, Pizza=Pizza)


def workload(m: SimpleNamespace, signals: Any, n: int) -> dict[str, float]:
    """Run the four phases on fresh, empty tables; return seconds per phase."""
    calls = [0]

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls[0] += 1

    for signal in (signals.post_save, signals.post_delete, signals.m2m_changed):
        signal.connect(receiver)
    try:
        times: dict[str, float] = {}
        author = m.Author.objects.create(name="a")
        start = time.perf_counter()
        books = [m.Book.objects.create(title=f"b{i}", author=author) for i in range(n)]
        times["create"] = time.perf_counter() - start
        check(m.Book.objects.count(), n, "books created")

        start = time.perf_counter()
        for book in books:
            book.pages = 10
            book.save()
        times["update"] = time.perf_counter() - start
        check(m.Book.objects.filter(pages=10).count(), n, "books updated")

        start = time.perf_counter()
        author.delete()
        times["cascade delete"] = time.perf_counter() - start
        check(m.Book.objects.count(), 0, "books left")

        pizza = m.Pizza.objects.create(name="p")
        toppings = m.Topping.objects.bulk_create([m.Topping(name=f"t{i}") for i in range(n)])
        start = time.perf_counter()
        for topping in toppings:
            pizza.toppings.add(topping)
        times["m2m add"] = time.perf_counter() - start
        check(pizza.toppings.count(), n, "toppings linked")
    finally:
        for signal in (signals.post_save, signals.post_delete, signals.m2m_changed):
            signal.disconnect(receiver)
    saves = 1 + n + n + 1  # the author, the books created and updated, the pizza
    check(calls[0], saves + (n + 1) + 2 * n, "receiver calls")  # + post_delete, pre/post_add
    return times


def check(got: int, expected: int, what: str) -> None:
    """Both implementations must really have done the work being timed."""
    if got != expected:
        raise AssertionError(f"{what}: {got}, expected {expected}")


class DjangoSide:
    """Django's ORM on one in-memory database, emptied before every round."""

    name = "Django"

    def __init__(self) -> None:
        import django
        from django.conf import settings

        settings.configure(
            DEBUG=False,
            DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
            # This file doubles as the app holding Django's models: their
            # reverse relations (and so the cascade) exist only in an installed app.
            INSTALLED_APPS=["bench_models"],
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
            USE_TZ=False,
        )
        django.setup()
        from django.db import connection, models
        from django.db.models import signals

        self.connection = connection
        self.signals = signals
        self.models = declare(models, {"app_label": "bench_models"})
        with connection.schema_editor() as editor:
            for model in vars(self.models).values():
                editor.create_model(model)

    def round(self, n: int) -> dict[str, float]:
        with self.connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in self.connection.introspection.table_names(cursor):
                cursor.execute(f'DELETE FROM "{table}"')
            cursor.execute("DELETE FROM sqlite_sequence")
            cursor.execute("PRAGMA foreign_keys = ON")
        return workload(self.models, self.signals, n)


class SigcliSide:
    """sigcli's model layer, in a fresh registry (its own database) every round."""

    name = "sigcli"

    def __init__(self) -> None:
        from sigcli import models, signals

        self.modules = models
        self.signals = signals

    def round(self, n: int) -> dict[str, float]:
        registry = self.modules.Registry()
        try:
            with self.modules.use_registry(registry):
                models = declare(self.modules, {})
                registry.migrate()
                return workload(models, self.signals, n)
        finally:
            registry.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args(argv)

    sides: list[Any] = [DjangoSide(), SigcliSide()]
    results: dict[str, list[dict[str, float]]] = {side.name: [] for side in sides}
    for index in range(args.rounds):
        order: list[Any] = sides if index % 2 == 0 else sides[::-1]
        for side in order:
            results[side.name].append(side.round(args.n))

    def median(name: str, phase: str | None) -> float:
        pick: Callable[[dict[str, float]], float] = (
            (lambda times: sum(times.values())) if phase is None else (lambda times: times[phase])
        )
        return statistics.median(pick(times) for times in results[name])

    print(f"{args.rounds} rounds, n={args.n}, medians in milliseconds")
    print(f"{'phase':<16}{'Django':>10}{'sigcli':>10}{'sigcli/Django':>15}")
    for phase in (*PHASES, None):
        django_s, sigcli_s = median("Django", phase), median("sigcli", phase)
        label = phase or "total"
        ratio = sigcli_s / django_s
        print(f"{label:<16}{django_s * 1000:>10.1f}{sigcli_s * 1000:>10.1f}{ratio:>14.2f}x")


if __name__ == "__main__":
    main()
