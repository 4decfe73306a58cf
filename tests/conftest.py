"""Configure Django once per test session, for the differential tests.

Django runs on an in-memory SQLite database with the test app
``tests.djangoapp``; its tables are created directly from the models, so no
migrations are needed. ``DEBUG`` stays False so that Django's dispatcher skips
its DEBUG-only argument checks, as in production.
"""

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="sigcli-tests",  # Django 4.2's admin mail logging needs one
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["tests.djangoapp"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=False,
    )
    django.setup()

    from django.apps import apps
    from django.db import connection

    with connection.schema_editor() as editor:
        for model in apps.get_app_config("djangoapp").get_models():
            if not model._meta.proxy:
                editor.create_model(model)
