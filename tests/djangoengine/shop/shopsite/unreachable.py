"""The test project with a test database that cannot be created."""

from shopsite.settings import *  # noqa: F403

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "shop.sqlite3",
        "TEST": {"NAME": "/nonexistent-sigcli-folder/test-shop.sqlite3"},
    }
}
