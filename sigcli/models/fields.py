"""Model fields: what a column is called, its SQL type, its default and conversions.

Values live in the instance ``__dict__`` under the field's ``attname``; only
relations have descriptors (see ``related.py``). Conversions are kept out of
the hot path: a field has a ``prep`` (Python value to SQLite parameter) or a
``from_db`` converter only when its type needs one.
"""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigcli.models.base import Model


class FieldError(Exception):
    """A lookup, ordering or update names a field the model does not have."""


class FieldDoesNotExist(FieldError):
    """``_meta.get_field()`` found no field of that name."""


class _NotProvided:
    def __repr__(self) -> str:
        return "NOT_PROVIDED"


NOT_PROVIDED: Any = _NotProvided()


class Field:
    """A concrete column of a model's table."""

    creation_counter = 0
    auto_creation_counter = -1
    db_type_name = "text"
    empty_strings_allowed = True
    is_relation = False
    many_to_many = False
    one_to_one = False
    concrete = True
    has_custom_pre_save = False
    prep: Callable[[Any], Any] | None = None
    number_kind: type | None = None
    from_db: Callable[[Any], Any] | None = None

    def __init__(
        self,
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        primary_key: bool = False,
        max_length: int | None = None,
        unique: bool = False,
        blank: bool = False,
        null: bool = False,
        db_index: bool = False,
        default: Any = NOT_PROVIDED,
        editable: bool = True,
        db_column: str | None = None,
        help_text: str = "",
        choices: Any = None,
        auto_created: bool = False,
        validators: Any = (),
        error_messages: Any = None,
        db_comment: str | None = None,
    ) -> None:
        self.verbose_name = verbose_name
        self.name = name or ""
        self.primary_key = primary_key
        self.max_length = max_length
        self.unique = unique or primary_key
        self.blank = blank
        self.null = null
        self.db_index = db_index
        self.default = default
        self.editable = editable
        self.db_column = db_column
        self.help_text = help_text
        self.choices = list(getattr(choices, "choices", choices)) if choices is not None else None
        self.auto_created = auto_created
        self.model: type[Model] = None  # type: ignore[assignment]
        self.attname = ""
        self.column = ""
        if auto_created:
            self.creation_counter = Field.auto_creation_counter
            Field.auto_creation_counter -= 1
        else:
            self.creation_counter = Field.creation_counter
            Field.creation_counter += 1

    def clone(self) -> Field:
        """A fresh copy for a subclass of an abstract model."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.model = None  # type: ignore[assignment]
        if self.number_kind is not None:
            new.prep = _number(new, self.number_kind)
        return new

    def contribute_to_class(self, cls: type[Model], name: str) -> None:
        self.name = self.name or name
        self.attname = self.get_attname()
        self.column = self.db_column or self.attname
        self.model = cls
        cls._meta.add_field(self)
        if self.choices and f"get_{self.name}_display" not in cls.__dict__:
            setattr(cls, f"get_{self.name}_display", _display_method(self))

    def get_attname(self) -> str:
        return self.name

    def has_default(self) -> bool:
        return self.default is not NOT_PROVIDED

    def get_default(self) -> Any:
        default = self.default
        if default is not NOT_PROVIDED:
            return default() if callable(default) else default
        if not self.empty_strings_allowed or self.null:
            return None
        return ""

    def pre_save(self, instance: Model, add: bool) -> Any:
        """The value to write for ``instance``; auto-updated fields set it first."""
        return instance.__dict__.get(self.attname)

    def db_type(self) -> str:
        return self.db_type_name

    def column_sql(self) -> str:
        parts = [f'"{self.column}" {self.db_type()}']
        parts.append("NULL" if self.null else "NOT NULL")
        if self.primary_key:
            parts.append("PRIMARY KEY")
        elif self.unique:
            parts.append("UNIQUE")
        return " ".join(parts)

    def __repr__(self) -> str:
        if self.model is not None:
            return f"<{type(self).__name__}: {self.model.__name__}.{self.name}>"
        return f"<{type(self).__name__}>"


def _display_method(field: Field) -> Callable[[Any], str]:
    """``get_status_display()``: the label of the current value, or the value itself."""

    def display(instance: Any) -> str:
        value = instance.__dict__.get(field.attname)
        for choice, label in _flat_choices(field.choices or []):
            if choice == value:
                return str(label)
        return str(value)

    display.__name__ = f"get_{field.name}_display"
    return display


def _flat_choices(choices: list[Any]) -> list[tuple[Any, Any]]:
    flat: list[tuple[Any, Any]] = []
    for choice, label in choices:
        if isinstance(label, (list, tuple)):
            flat.extend(label)
        else:
            flat.append((choice, label))
    return flat


def _number(field: Field, kind: type) -> Callable[[Any], Any]:
    """Convert to ``kind`` as Django's get_prep_value does; the error names the model and field."""

    field.number_kind = kind

    def prep(value: Any) -> Any:
        if value is None or type(value) is kind:
            return value
        try:
            return kind(value)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"Field '{field.name}' of {field.model.__name__} expected a number but got {value!r}."
            ) from error

    return prep


class AutoField(Field):
    """An integer primary key the database assigns."""

    db_type_name = "integer"
    empty_strings_allowed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["blank"] = True
        super().__init__(*args, **kwargs)
        self.prep = _number(self, int)

    def column_sql(self) -> str:
        return f'"{self.column}" integer NOT NULL PRIMARY KEY AUTOINCREMENT'


class BigAutoField(AutoField):
    pass


class IntegerField(Field):
    db_type_name = "integer"
    empty_strings_allowed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prep = _number(self, int)


class BigIntegerField(IntegerField):
    db_type_name = "bigint"


class PositiveIntegerField(IntegerField):
    db_type_name = "integer unsigned"


class SmallIntegerField(IntegerField):
    db_type_name = "smallint"


class FloatField(Field):
    db_type_name = "real"
    empty_strings_allowed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prep = _number(self, float)


class BooleanField(Field):
    db_type_name = "bool"
    empty_strings_allowed = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "default" in kwargs and kwargs.get("null"):
            kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    @staticmethod
    def from_db(value: Any) -> Any:  # type: ignore[override]
        return value if value is None else bool(value)


def _text(value: Any) -> Any:
    """Django's CharField/TextField conversion: anything but text becomes its ``str``."""
    return value if value is None or type(value) is str else str(value)


class CharField(Field):
    prep = staticmethod(_text)

    def __init__(self, *args: Any, max_length: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)

    def db_type(self) -> str:
        return f"varchar({self.max_length})" if self.max_length else "varchar"


class SlugField(CharField):
    def __init__(
        self, *args: Any, max_length: int = 50, db_index: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, max_length=max_length, db_index=db_index, **kwargs)


class EmailField(CharField):
    def __init__(self, *args: Any, max_length: int = 254, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)


class TextField(Field):
    db_type_name = "text"
    prep = staticmethod(_text)


def _datetime_prep(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class DateTimeField(Field):
    """A timestamp; ``auto_now`` sets it on every save, ``auto_now_add`` on insert.

    Stored as UTC text as Django stores it on SQLite, read back as an aware
    UTC datetime.
    """

    db_type_name = "datetime"
    empty_strings_allowed = False
    has_custom_pre_save = True
    prep = staticmethod(_datetime_prep)

    def __init__(
        self, *args: Any, auto_now: bool = False, auto_now_add: bool = False, **kwargs: Any
    ) -> None:
        self.auto_now = auto_now
        self.auto_now_add = auto_now_add
        if auto_now or auto_now_add:
            kwargs["editable"] = False
            kwargs["blank"] = True
        super().__init__(*args, **kwargs)

    def pre_save(self, instance: Model, add: bool) -> Any:
        if self.auto_now or (self.auto_now_add and add):
            value = datetime.datetime.now(datetime.UTC)
            instance.__dict__[self.attname] = value
            return value
        return instance.__dict__.get(self.attname)

    @staticmethod
    def from_db(value: Any) -> Any:  # type: ignore[override]
        if value is None or isinstance(value, datetime.datetime):
            return value
        parsed = datetime.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return parsed


class DateField(DateTimeField):
    db_type_name = "date"

    def pre_save(self, instance: Model, add: bool) -> Any:
        if self.auto_now or (self.auto_now_add and add):
            value = datetime.date.today()
            instance.__dict__[self.attname] = value
            return value
        return instance.__dict__.get(self.attname)

    @staticmethod
    def from_db(value: Any) -> Any:  # type: ignore[override]
        if value is None or isinstance(value, datetime.date):
            return value
        return datetime.date.fromisoformat(value)


class PositiveSmallIntegerField(IntegerField):
    db_type_name = "smallint unsigned"


class URLField(CharField):
    def __init__(self, *args: Any, max_length: int = 200, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)


class DecimalField(Field):
    """A fixed-point number, stored as text and read back as a ``Decimal``."""

    db_type_name = "decimal"
    empty_strings_allowed = False

    def __init__(
        self,
        *args: Any,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        super().__init__(*args, **kwargs)
        places = decimal_places

        def from_db(value: Any) -> Any:
            number = decimal.Decimal(str(value))
            return (
                number.quantize(decimal.Decimal(1).scaleb(-places))
                if places is not None
                else number
            )

        self.from_db = from_db

    @staticmethod
    def prep(value: Any) -> Any:  # type: ignore[override]
        return value if value is None else str(decimal.Decimal(str(value)))


class UUIDField(Field):
    """A UUID, stored as 32 hex digits as Django stores it on SQLite."""

    db_type_name = "char(32)"
    empty_strings_allowed = False

    @staticmethod
    def prep(value: Any) -> Any:  # type: ignore[override]
        if value is None:
            return None
        return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex

    @staticmethod
    def from_db(value: Any) -> Any:  # type: ignore[override]
        return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


class JSONField(Field):
    """Any JSON value, stored as text."""

    db_type_name = "text"
    empty_strings_allowed = False

    @staticmethod
    def prep(value: Any) -> Any:  # type: ignore[override]
        return json.dumps(value)

    @staticmethod
    def from_db(value: Any) -> Any:  # type: ignore[override]
        return json.loads(value)
