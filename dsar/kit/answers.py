"""What a connector answered, in the forms the checks compare: keys, contents, texts.

The checks ask a connector about the kit's people and compare the answers; these helpers
take the answers apart and name records the way a failure message shows them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from dsar.connector import Connector, JSONValue, Record, Subject

#: A record's identity across calls: its category and its key.
RecordId = tuple[str, str]

#: How many records a message names before it says how many more there are.
NAMED_IN_MESSAGE = 5


def subject_of(email: str, name: str | None = None) -> Subject:
    """Returns the subject a request about that address carries, as dsar builds it."""
    return Subject(email=email, name=name)


def exported(connector: Connector, subject: Subject) -> list[Record]:
    """Returns every record the connector exports for the subject."""
    return list(connector.export(subject))


def record_ids(records: Iterable[Record]) -> set[RecordId]:
    """Returns the identities of the records."""
    return {(record.category, record.key) for record in records}


def duplicates(records: Iterable[Record]) -> list[RecordId]:
    """Returns the identities given to more than one record, in order."""
    counts = Counter((record.category, record.key) for record in records)
    return sorted(identity for identity, count in counts.items() if count > 1)


def _canonical(data: Mapping[str, JSONValue]) -> str:
    """Returns a record's data as one text, fields in a fixed order."""
    # default=repr: a value JSON cannot carry still compares, and another check reports it.
    return json.dumps(dict(data), sort_keys=True, default=repr)


def changed_ids(before: Iterable[Record], after: Iterable[Record]) -> list[RecordId]:
    """Returns the records that went, came or changed between two exports.

    Records are compared by what they hold, not by key, so that keys that change between
    exports (a failure of their own check) do not make unchanged data look changed.
    """
    before, after = list(before), list(after)
    old = Counter(_content(record) for record in before)
    new = Counter(_content(record) for record in after)
    gone, came = old - new, new - old
    return sorted({(r.category, r.key) for r in before if _content(r) in gone}
                  | {(r.category, r.key) for r in after if _content(r) in came})


def _content(record: Record) -> tuple[str, str, tuple[str, ...]]:
    """Returns what a record holds, without its key."""
    return record.category, _canonical(record.data), tuple(record.flags)


def named(identities: Iterable[RecordId]) -> str:
    """Names records for a message: "orders 'O-1', account 'C2' and 3 more"."""
    listed = sorted(set(identities))
    shown = [f"{category} {key!r}" for category, key in listed[:NAMED_IN_MESSAGE]]
    more = len(listed) - len(shown)
    if more:
        return ", ".join(shown) + f" and {more} more"
    if len(shown) > 1:
        return ", ".join(shown[:-1]) + " and " + shown[-1]
    return shown[0] if shown else "no records"


def texts_in(value: Any) -> Iterator[str]:
    """Yields every text in a record's value, inside lists and objects too."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from texts_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_in(item)


def how_typed(spelling: str) -> str:
    """Describes how a stored spelling of an address differs from the canonical form."""
    traits = []
    if spelling.strip() != spelling.strip().lower():
        traits.append("capitals")
    if spelling != spelling.strip():
        traits.append("blanks around it")
    return " and ".join(traits)
