"""The interface every connector implements; the only part of dsar a connector imports.

A connector reaches one system that holds personal data and does what it is told for one
subject. It never decides policy: what to keep and for how long is the retention planner's.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

#: A value a record may hold: what JSON can carry.
JSONValue = str | int | float | bool | None | list[Any] | dict[str, Any]


def is_cleared(value: JSONValue) -> bool:
    """Whether a field holds nothing personal: null, or an empty text, list or mapping."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == {}


def translatable(text: str) -> str:
    """Marks a text a person reads (a category's title, purpose, a column's heading) for
    the gettext catalogue, and returns it unchanged.

    Connectors describe their data in English. dsar puts each marked text through the
    catalogue of the request's language when it writes an answer: dsar's own for its
    built-in connectors, the connector's own (`Connector.translations`) for the others.
    `pybabel extract -k translatable` finds the marked texts.
    """
    return text


@dataclass(frozen=True)
class Subject:
    """The person a request is about, as proven by control of the e-mail address.

    Attributes:
        email: the verified address, trimmed and lower-cased.
        name: the name the person gave, if any; a hint, never proof of identity.
        held: per category, the keys of this connector's records that an earlier erasure
            kept under a legal duty. They no longer carry the address (it was cleared), yet
            are still this person's data: an export must find them by key as well.
    """

    email: str
    name: str | None = None
    held: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class ColumnKind(StrEnum):
    """How the readable answer shows a column's value."""

    TEXT = "text"  # as it is
    DATE = "date"  # an ISO date or date-time, shown as a date ("12 Mar 2021")
    MONEY = "money"  # an amount in cents, in the record's "currency" (EUR when it has none)
    COUNT = "count"  # a list, shown as how many it holds ("3 items")


@dataclass(frozen=True)
class Column:
    """A column of a category's table in the readable answer (the PDF).

    The PDF shows what a person cares about, a row per record; every field stays in the
    JSON answer.

    Attributes:
        label: the column's heading, e.g. "Delivered to".
        fields: the record's fields it shows; several are joined with ", " (an address).
        kind: how the value is shown.
    """

    label: str
    fields: tuple[str, ...]
    kind: ColumnKind = ColumnKind.TEXT


class LegalBasis(StrEnum):
    """The grounds of Art. 6(1) GDPR on which personal data may be processed."""

    CONSENT = "consent"  # (a)
    CONTRACT = "contract"  # (b)
    LEGAL_OBLIGATION = "legal_obligation"  # (c)
    VITAL_INTERESTS = "vital_interests"  # (d)
    PUBLIC_TASK = "public_task"  # (e)
    LEGITIMATE_INTERESTS = "legitimate_interests"  # (f)


@dataclass(frozen=True)
class Category:
    """A kind of personal data a connector holds, described as Art. 15(1) asks.

    Attributes:
        name: a stable key, e.g. "orders".
        title: what a customer would call it.
        fields: the fields a record of this category carries.
        purpose: why the shop processes it, in the policy's words.
        legal_basis: the Art. 6(1) ground, in words a person reads.
        recipients: who receives it besides the shop.
        retention: how long it is kept, in the policy's words.
        source: where the data came from (Art. 15(1)(g)).
        columns: what the readable answer's table shows of each record; when empty, the
            first few fields under their names.
        basis: the same ground as programs read it: one or more `LegalBasis` values (a
            category kept under a legal duty after its contract ended has both). A category
            without one is flagged to the privacy officer in every answer that finds it.
        direct_marketing: whether the data is used to send the person offers, so that an
            objection to direct marketing (Art. 21(2)) concerns it.
        stopped_field: the field a withdrawal of consent or a restriction sets on each
            record (a consent's `withdrawn_at`), by which dsar checks it was done. Without
            one, the privacy officer confirms it by hand.
        labels: each field as a person reads it in the middle of a sentence ("order
            number", "IP address"), marked `translatable(...)`: the answer's tables, the
            outcome letters and the notices name fields by it. A field without one is
            flagged to the privacy officer and shown as its name in words. The fields of
            the records a field holds (an order's lines) may have labels here too: the
            spreadsheet copy names them by it.
        values: for fields that hold codes, each stored value as a person reads it
            (status "paid" → "paid", payment method "creditcard" → "credit card"), marked
            `translatable(...)`. The JSON answer keeps the stored value; the readable
            answer shows the label. A code without one is flagged to the privacy officer.
    """

    name: str
    title: str
    fields: tuple[str, ...]
    purpose: str
    legal_basis: str
    recipients: tuple[str, ...]
    retention: str
    source: str
    columns: tuple[Column, ...] = ()
    basis: tuple[LegalBasis, ...] = field(default=(), kw_only=True)
    direct_marketing: bool = field(default=False, kw_only=True)
    stopped_field: str | None = field(default=None, kw_only=True)
    labels: Mapping[str, str] = field(default_factory=dict, kw_only=True, hash=False)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict, kw_only=True,
                                                    hash=False)

    def __post_init__(self) -> None:
        """Takes the grounds as their names too ("contract"); refuses one that is not."""
        object.__setattr__(self, "basis", tuple(LegalBasis(ground) for ground in self.basis))


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


class TemporaryFailure(Exception):
    """Raised by a connector when its system cannot be reached for now (down, overloaded,
    rate-limited): dsar tries again with growing pauses over hours, and the request says it
    is waiting for the system. Refused connections, timeouts and database locks are taken as
    temporary without it; any other exception is tried only a few times.
    """


class Disposition(StrEnum):
    """What an erasure does to one record, as the retention planner decided."""

    ERASE = "erase"  # the record goes, or keeps no personal data at all
    MINIMISE = "minimise"  # only the fields a legal duty needs stay, until retain_until
    RETAIN = "retain"  # kept unchanged until retain_until (it holds only what the duty needs)
    BLOCKED = "blocked"  # left alone: a contract still needs it (reason says which)


@dataclass(frozen=True)
class Decision:
    """The planner's decision for one record a connector found.

    Attributes:
        category: the record's category.
        key: the record's key, as the connector gave it.
        disposition: what to do with it.
        keep_fields: for MINIMISE, the fields that stay; every other personal field is cleared.
        retain_until: for MINIMISE and RETAIN, the day the record is erased after all.
        legal_basis: why it is kept (Art. 17(3)(b) and the law that imposes the duty).
        reason: in plain words, for the officer and the outcome letter.
    """

    category: str
    key: str
    disposition: Disposition
    keep_fields: tuple[str, ...] = ()
    retain_until: date | None = None
    legal_basis: str | None = None
    reason: str = ""

    def left_in(self, record: Record | None) -> tuple[str, ...]:
        """The fields of the record, read again once the decision was carried out, that
        still hold what it was to clear; empty when it was carried out.

        An erased record is gone, or keeps nothing but its key (a row others point at); a
        minimised one keeps nothing but its key and `keep_fields`. Records kept or blocked
        as they are have nothing left to check.
        """
        if record is None or self.disposition in (Disposition.RETAIN, Disposition.BLOCKED):
            return ()
        kept = set(self.keep_fields) if self.disposition is Disposition.MINIMISE else set()
        return tuple(name for name, value in record.data.items()
                     if name not in kept and not is_cleared(value) and str(value) != record.key)


@dataclass(frozen=True)
class Outcome:
    """What a connector did to one record; `recipients` are those to tell (Art. 19).

    Attributes:
        category: the record's category.
        key: the record's key.
        done: "erased", "minimised", "corrected", "withdrawn", "restricted" or "unchanged".
        fields: the fields that changed (for a correction: their names).
        recipients: who received this data and must be told of the change.
    """

    category: str
    key: str
    done: str
    fields: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """A correction to one field of one record (Art. 16).

    Attributes:
        category: the record's category.
        key: the record's key.
        field: the field's name in that record.
        old: the value now held.
        new: the corrected value.
        recipients: who received the old value and must be told (Art. 19).
        record: the record as it stood before the correction, its fields as `export`
            gives them, when a preview lists the change: who received the record and
            how they know it (an order number, a payment reference) are settled from it
            by the recipients register, as for an erasure. Optional; not compared.
    """

    category: str
    key: str
    field: str
    old: JSONValue
    new: JSONValue
    recipients: tuple[str, ...] = ()
    # dataclasses.field: `field` is one of this class's attributes.
    record: Mapping[str, JSONValue] | None = dataclasses.field(default=None, compare=False)

    def made_in(self, record: Record | None) -> bool:
        """Whether the record, read again once the correction was made, holds the new value
        (texts compared as a person would: case and runs of spaces aside)."""
        if record is None:
            return False
        held = record.data.get(self.field)
        if isinstance(held, str) and isinstance(self.new, str):
            return " ".join(held.split()).casefold() == " ".join(self.new.split()).casefold()
        return held == self.new


class Connector(ABC):
    """A system that holds personal data, reached for one subject at a time.

    Subclasses set `name`, `title` and `categories`, and implement `export`. The other
    actions raise ActionNotSupported until a connector can do them. Every action must be
    idempotent: a job may run twice after a crash.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    categories: ClassVar[tuple[Category, ...]]
    #: The folder of the connector's own gettext catalogues (`<folder>/nl/LC_MESSAGES/
    #: messages.mo`), which translate its marked texts; None: dsar's catalogue does.
    translations: ClassVar[str | None] = None
    #: Retention rules for its categories, by category name, in config/retention.toml's
    #: format: what the planner decides on erasure. The shop's own file wins where it has a
    #: rule of that name; a category with neither is put to the privacy officer.
    retention_rules: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def __init__(self, settings: Mapping[str, Any]) -> None:
        """Keeps the service's settings; connectors read what they need from them."""
        self.settings = settings

    @abstractmethod
    def export(self, subject: Subject) -> Iterable[Record]:
        """Yields every record this system holds about the subject."""

    def erase(self, subject: Subject, decisions: Sequence[Decision]) -> Iterable[Outcome]:
        """Carries out the planner's decisions, record by record, found by key.

        Must be idempotent: a record already erased or minimised is reported "unchanged".
        The subject may no longer be findable by address (a retained record whose e-mail
        was cleared), so records are found by their keys.
        """
        raise ActionNotSupported(f"{self.name} cannot erase")

    def rectify(
        self, subject: Subject, corrections: Mapping[str, str], *, apply: bool
    ) -> Iterable[Change]:
        """Lists, or with apply=True makes, the corrections in the subject's current data.

        Only current data changes (an open account, an active contract, an order not yet
        shipped); closed records under a legal duty keep what they held. A field that
        already holds the corrected value is no change.
        """
        raise ActionNotSupported(f"{self.name} cannot correct data")

    def restrict(self, subject: Subject) -> Iterable[Outcome]:
        """Marks the subject's data storage-only (Art. 18)."""
        raise ActionNotSupported(f"{self.name} cannot restrict processing")

    def withdraw_consent(self, subject: Subject) -> Iterable[Outcome]:
        """Withdraws every marketing consent of the subject (Art. 7(3), Art. 21(3)).

        Only connectors that hold consents implement it. One that holds data used for
        offers (`Category.direct_marketing`) but does not implement it gets a manual task
        for the officer, saying what to do where; for the others an objection to direct
        marketing has nothing to do.
        """
        offers = ", ".join(c.title for c in self.categories if c.direct_marketing)
        if offers:
            raise ActionNotSupported(
                f"{self.title} uses {offers} to send offers and cannot withdraw consent "
                "itself: stop all offers to this person there, by hand, then complete this task")
        raise ActionNotSupported(f"{self.name} holds no consents")

    def verify(self, subject: Subject) -> Iterable[Record]:
        """Reads the subject's records again after an action, to check it was carried out.

        `subject.held` names, per category, every record the action was about, found by key
        whatever the action did to their address. By default this is `export`; a connector
        may read just those records, more cheaply, as long as it reads what is stored.
        """
        return self.export(subject)

    @classmethod
    def sends_offers(cls) -> bool:
        """Whether the connector holds data used to send people offers, which an objection
        to direct marketing must reach."""
        return any(category.direct_marketing for category in cls.categories)

    @classmethod
    def supports(cls, action: str) -> bool:
        """Whether this connector implements an action rather than inheriting the refusal."""
        return getattr(cls, action) is not getattr(Connector, action)

    @classmethod
    def category_title(cls, name: str) -> str:
        """What a customer calls a category; its name if the connector does not hold it."""
        return next((c.title for c in cls.categories if c.name == name), name)

    def category(self, name: str) -> Category:
        """Returns the category of that name."""
        for category in self.categories:
            if category.name == name:
                return category
        raise KeyError(f"{self.name} has no category {name!r}")
