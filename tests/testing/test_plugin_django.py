"""The pytest plugin on Django with pytest-django, in pytest processes of its own.

A small Django project (settings, an app whose receivers connect in
``AppConfig.ready()``) is written out for each test; its tests use the
``signals`` fixture and ``sigcli.mute`` on ``django.dispatch``'s signals.
"""

from __future__ import annotations

import textwrap

import pytest

from sigcli import trace as trace_module
from sigcli import tracefile

PROJECT = {
    "settings.py": """
        SECRET_KEY = "test"
        INSTALLED_APPS = ["shop"]
        DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
        DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
        USE_TZ = True
    """,
    "pytest.ini": """
        [pytest]
        DJANGO_SETTINGS_MODULE = settings
    """,
    "shop/__init__.py": "",
    "shop/apps.py": """
        from django.apps import AppConfig

        installed_at_ready = None


        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                global installed_at_ready
                from sigcli.djangoengine import observer

                installed_at_ready = observer.installed()
                from shop import receivers  # noqa: F401
    """,
    "shop/models.py": """
        from django.db import models


        class Customer(models.Model):
            name = models.CharField(max_length=20)

            def __str__(self):
                return self.name


        class Wallet(models.Model):
            customer = models.OneToOneField(Customer, on_delete=models.CASCADE)
    """,
    "shop/receivers.py": """
        from django.db.models.signals import post_delete, post_save
        from django.dispatch import receiver

        from shop.models import Customer, Wallet


        @receiver(post_save, sender=Customer)
        def open_wallet(sender, instance, created, **kwargs):
            if created:
                Wallet.objects.create(customer=instance)


        @receiver(post_delete, sender=Customer)
        def say_goodbye(sender, instance, **kwargs):
            pass
    """,
}

HEADER = """
import pytest
from django.db.models.signals import post_delete, post_save, pre_save

import sigcli
from shop.models import Customer, Wallet
from shop.receivers import open_wallet, say_goodbye

"""


def run(pytester: pytest.Pytester, tests: str, *args: str) -> pytest.RunResult:
    for name, text in PROJECT.items():
        path = pytester.path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    pytester.makepyfile(test_shop=HEADER + textwrap.dedent(tests))
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_assertions_on_djangos_signals(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.django_db
        def test_sign_up(signals):
            ann = Customer.objects.create(name="ann")
            signals.assert_sent(post_save, sender=Customer, created=True, instance=ann)
            signals.assert_called(open_wallet, times=1)
            signals.assert_not_called(say_goodbye)
            signals.assert_not_sent(post_delete)
            signals.assert_order([(pre_save, Customer), (post_save, Customer), (post_save, Wallet)])
            assert [(d.signal, d.sender) for d in signals.dispatches()] == [
                ("pre_init", "Customer"), ("post_init", "Customer"),
                ("pre_save", "Customer"), ("post_save", "Customer"),
                ("pre_init", "Wallet"), ("post_init", "Wallet"),
                ("pre_save", "Wallet"), ("post_save", "Wallet"),
            ]


        @pytest.mark.django_db
        def test_mute_one_receiver(signals):
            with sigcli.mute(post_save, receiver=open_wallet, sender=Customer):
                Customer.objects.create(name="bob")
            assert Wallet.objects.count() == 0
            signals.assert_sent(post_save, sender=Customer)
            signals.assert_not_called(open_wallet)
            Customer.objects.create(name="cy")
            assert Wallet.objects.count() == 1


        def test_the_observer_was_installed_before_django_setup():
            from shop.apps import installed_at_ready

            assert installed_at_ready is True
        """,
    )
    result.assert_outcomes(passed=3)


def test_failures_explain_themselves_on_django(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        @pytest.mark.django_db
        def test_twice(signals):
            Customer.objects.create(name="ann")
            signals.assert_called(open_wallet, times=2)


        @pytest.mark.django_db
        def test_goodbye(signals):
            Customer.objects.create(name="ann")
            signals.assert_called(say_goodbye)
        """,
        "--sigcli-trace=traces",
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: open_wallet was called once, expected twice.",
            "E       Skipped by:",
            "E         #* post_save Wallet: it listens to sender=Customer only",
            "E       ",
            "E       What the test sent (SQL left out):",
            "E       the test · 1 step · 4 dispatches · 4 pre_init/post_init with no receiver folded · no errors",
            "E       └── 1 · call",
            "E           └── Customer.objects.create(name='ann')",
            "E               ├── pre_save  Customer  instance=<Customer: ann>  (no receivers)",
            "E               └── post_save  Customer  instance=<Customer: ann>  created=True",
            "E                   └── ✓ open_wallet  sender=Customer",
            "E                       └── Wallet.objects.create(customer=<Customer: ann>)",
            "E                           ├── pre_save  Wallet  instance=<Wallet: Wallet object (None)>  (no receivers)",
            "E                           └── post_save  Wallet  instance=<Wallet: Wallet object (1)>  created=True",
            "E                               └── ○ open_wallet  skipped: listens to sender=Customer",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "E       AssertionError: say_goodbye was not called.",
            "E       It is connected to:",
            "E         post_delete (sender=Customer), which the test never sent",
            "E       ",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        ["signals of this test: sigcli trace traces/test_shop.py__test_goodbye.json"]
    )
    [trace] = tracefile.load(pytester.path / "traces" / "test_shop.py__test_twice.json")
    setup, call, teardown = trace.steps
    assert [(d.signal, d.sender) for d in trace_module.walk_dispatches(call.children)] == [
        ("pre_init", "Customer"),
        ("post_init", "Customer"),
        ("pre_save", "Customer"),
        ("post_save", "Customer"),
        ("pre_init", "Wallet"),
        ("post_init", "Wallet"),
        ("pre_save", "Wallet"),
        ("post_save", "Wallet"),
    ]
