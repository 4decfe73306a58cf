"""Reference models for the differential tests: Django's side of ``diff_schema``."""

from django.db import models

from tests.models.diff_schema import declare

globals().update(declare(models, __name__))
