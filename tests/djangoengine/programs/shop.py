"""A small Django program for `sigcli record`: its own app and models, a
receiver connected in AppConfig.ready(), tests or a plain command."""

import sys

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    INSTALLED_APPS=["shopapp"],
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    USE_TZ=False,
)
django.setup()

from django.db import connection  # noqa: E402
from shopapp.models import Order  # noqa: E402

with connection.schema_editor() as editor:
    editor.create_model(Order)

if sys.argv[1:2] == ["test"]:
    import unittest

    from shopapp import tests

    result = unittest.main(module=tests, argv=["shop"], exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)

order = Order.objects.create(item="tea")
print(f"ordered {order.item}; input was {sys.stdin.read()!r}")
sys.exit(int(sys.argv[1]) if sys.argv[1:] else 0)
