"""``TextChoices`` and ``IntegerChoices``: enumerations for a field's ``choices``, as in Django.

``Status.DRAFT`` is the value itself (a ``str`` or ``int``), so it compares
and saves as the plain value; ``Status.choices`` is the ``(value, label)``
list a field takes.
"""

from __future__ import annotations

import enum
from typing import Any


class ChoicesType(enum.EnumMeta):
    """Reads ``NAME = value, "Label"`` members and keeps the labels."""

    def __new__(mcs, classname: str, bases: tuple[type, ...], classdict: Any, **kwds: Any) -> Any:
        labels = []
        for key in classdict._member_names:
            value = classdict[key]
            if isinstance(value, (list, tuple)) and len(value) > 1 and isinstance(value[-1], str):
                *parts, label = value
                value = tuple(parts) if len(parts) > 1 else parts[0]
            else:
                label = key.replace("_", " ").title()
            labels.append(label)
            dict.__setitem__(classdict, key, value)
        cls = super().__new__(mcs, classname, bases, classdict, **kwds)
        members: list[Any] = list(cls.__members__.values())
        for member, label in zip(members, labels, strict=True):
            member._label_ = label
        return cls

    @property
    def choices(cls) -> list[tuple[Any, str]]:
        members: list[Any] = list(cls)
        return [(member.value, member.label) for member in members]

    @property
    def labels(cls) -> list[str]:
        return [label for _, label in cls.choices]

    @property
    def values(cls) -> list[Any]:
        return [value for value, _ in cls.choices]

    @property
    def names(cls) -> list[str]:
        members: list[Any] = list(cls)
        return [member.name for member in members]


class Choices(enum.Enum, metaclass=ChoicesType):
    """The base of the two choice enumerations."""

    @property
    def label(self) -> str:
        return self._label_  # type: ignore[attr-defined, no-any-return]

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"{self.__class__.__qualname__}.{self._name_}"


class IntegerChoices(int, Choices):
    """Integer values with labels."""


class TextChoices(str, Choices):
    """Text values with labels."""

    @staticmethod
    def _generate_next_value_(name: str, start: int, count: int, last_values: list[Any]) -> str:
        return name
