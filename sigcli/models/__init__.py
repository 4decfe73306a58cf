"""A Django-shaped model layer on SQLite that sends Django's model signals.

``from sigcli import models`` gives the names a Django scenario uses
(``models.Model``, ``models.CharField``, ``models.CASCADE``...), so moving a
scenario to Django means changing its imports.
"""

from sigcli.models import transaction  # noqa: E402 - needs the registry imported first
from sigcli.models.aggregates import Avg, Count, Max, Min, Sum
from sigcli.models.base import (
    DEFERRED,
    Model,
    ModelBase,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
)
from sigcli.models.db import (
    DatabaseError,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    TransactionManagementError,
)
from sigcli.models.deletion import (
    CASCADE,
    DO_NOTHING,
    PROTECT,
    RESTRICT,
    SET,
    SET_DEFAULT,
    SET_NULL,
    Collector,
    ProtectedError,
    RestrictedError,
)
from sigcli.models.enums import Choices, IntegerChoices, TextChoices
from sigcli.models.expressions import F, Q
from sigcli.models.fields import (
    NOT_PROVIDED,
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    EmailField,
    Field,
    FieldDoesNotExist,
    FieldError,
    FloatField,
    IntegerField,
    JSONField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SlugField,
    SmallIntegerField,
    TextField,
    URLField,
    UUIDField,
)
from sigcli.models.manager import Manager
from sigcli.models.observe import OrmObserver, observe_orm
from sigcli.models.prefetch import Prefetch
from sigcli.models.query import QuerySet
from sigcli.models.registry import AppConfig, Registry, default_registry, get_registry, use_registry
from sigcli.models.related import ForeignKey, ManyToManyField, OneToOneField

__all__ = [
    "DEFERRED",
    "NOT_PROVIDED",
    "Model",
    "ModelBase",
    "ObjectDoesNotExist",
    "MultipleObjectsReturned",
    "DatabaseError",
    "NotSupportedError",
    "IntegrityError",
    "OperationalError",
    "TransactionManagementError",
    "FieldError",
    "FieldDoesNotExist",
    "ProtectedError",
    "RestrictedError",
    "Collector",
    "CASCADE",
    "PROTECT",
    "RESTRICT",
    "SET",
    "SET_NULL",
    "SET_DEFAULT",
    "DO_NOTHING",
    "Field",
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "FloatField",
    "BooleanField",
    "CharField",
    "SlugField",
    "EmailField",
    "TextField",
    "DateTimeField",
    "DecimalField",
    "URLField",
    "UUIDField",
    "JSONField",
    "PositiveSmallIntegerField",
    "DateField",
    "ForeignKey",
    "OneToOneField",
    "ManyToManyField",
    "Manager",
    "Prefetch",
    "QuerySet",
    "Registry",
    "AppConfig",
    "default_registry",
    "get_registry",
    "use_registry",
    "OrmObserver",
    "observe_orm",
    "F",
    "Q",
    "transaction",
    "Choices",
    "IntegerChoices",
    "TextChoices",
    "Count",
    "Sum",
    "Avg",
    "Min",
    "Max",
]
