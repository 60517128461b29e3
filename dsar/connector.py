"""The interface every connector implements; the only part of dsar a connector imports.

A connector reaches one system that holds personal data and does what it is told for one
subject. It never decides policy: what to keep and for how long is the retention planner's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

#: A value a record may hold: what JSON can carry.
JSONValue = str | int | float | bool | None | list[Any] | dict[str, Any]


@dataclass(frozen=True)
class Subject:
    """The person a request is about, as proven by control of the e-mail address.

    Attributes:
        email: the verified address, trimmed and lower-cased.
        name: the name the person gave, if any; a hint, never proof of identity.
    """

    email: str
    name: str | None = None


@dataclass(frozen=True)
class Category:
    """A kind of personal data a connector holds, described as Art. 15(1) asks.

    Attributes:
        name: a stable key, e.g. "orders".
        title: what a customer would call it.
        fields: the fields a record of this category carries.
        purpose: why the shop processes it, in the policy's words.
        legal_basis: the Art. 6(1) ground.
        recipients: who receives it besides the shop.
        retention: how long it is kept, in the policy's words.
        source: where the data came from (Art. 15(1)(g)).
    """

    name: str
    title: str
    fields: tuple[str, ...]
    purpose: str
    legal_basis: str
    recipients: tuple[str, ...]
    retention: str
    source: str


@dataclass(frozen=True)
class Record:
    """One record a connector found for the subject.

    Attributes:
        category: the name of the Category it belongs to.
        key: its identity within the system (an order number, a row id).
        data: its fields, as JSON values; untrusted content, escaped wherever shown.
        flags: remarks for the reader, e.g. that third parties' data was redacted.
    """

    category: str
    key: str
    data: Mapping[str, JSONValue]
    flags: tuple[str, ...] = field(default_factory=tuple)


class ActionNotSupported(Exception):
    """The connector cannot do this action; the request gets a manual task instead."""


class Connector(ABC):
    """A system that holds personal data, reached for one subject at a time.

    Subclasses set `name`, `title` and `categories`, and implement `export`. The other
    actions raise ActionNotSupported until a connector can do them. Every action must be
    idempotent: a job may run twice after a crash.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    categories: ClassVar[tuple[Category, ...]]

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Keeps the service's settings; connectors read what they need from them."""
        self.settings = settings

    @abstractmethod
    def export(self, subject: Subject) -> Iterable[Record]:
        """Yields every record this system holds about the subject."""

    def category(self, name: str) -> Category:
        """Returns the category of that name."""
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(f"{self.name} has no category {name!r}")
