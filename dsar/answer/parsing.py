"""A stored report.json read back one category and one record at a time.

`json.load` would hold the whole answer, and a long history, in memory at once. This walks
the report's structure instead and decodes only small values whole: the head's members, a
category's description, one record. Memory stays bounded by the largest record, however
many there are, as it does while the report is written (`report.write_report`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

#: Characters read from the stored file at a time.
READ_CHARS = 1 << 16
_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class StoredCategory:
    """One category of a stored report, its records still to be read.

    Attributes:
        connector: the `connector` of its section.
        entry: the category's members that come before its records (name, title, fields…).
        records: its records, one at a time; read them before asking for the next category.
    """

    connector: str
    entry: dict[str, Any]
    records: Iterator[dict[str, Any]]


def categories(text: IO[str]) -> Iterator[StoredCategory]:
    """Every category of every section of a stored report, in the report's order.

    Raises:
        ValueError: the text is not a report as `report.write_report` writes it.
    """
    scanner = _Scanner(text)
    for key in scanner.members():
        if key != "sections":
            scanner.value()  # the head, the rights, the complaint: not needed here
            continue
        for _ in scanner.items():
            connector = ""
            for member in scanner.members():
                if member != "categories":
                    value = scanner.value()
                    connector = str(value) if member == "connector" else connector
                    continue
                for _ in scanner.items():
                    yield from _category(scanner, connector)


def _category(scanner: _Scanner, connector: str) -> Iterator[StoredCategory]:
    """One category object: its description, then its records as they are read."""
    entry: dict[str, Any] = {}
    for member in scanner.members():
        if member != "records":
            entry[member] = scanner.value()
            continue
        records = scanner.values()
        yield StoredCategory(connector=connector, entry=dict(entry), records=records)
        for _ in records:  # what the reader left unread, so that the walk can go on
            pass


class _Scanner:
    """The text of a JSON document, read in pieces, walked object by object."""

    def __init__(self, text: IO[str]) -> None:
        """Reads from `text`, nothing yet."""
        self._text = text
        self._buffer = ""
        self._at = 0

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; the caller reads each key's value
        before asking for the next."""
        self._expect("{")
        if self._peek() == "}":
            self._at += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise ValueError("report.json: an object's key is not a string")
            self._expect(":")
            yield key
            if self._next_of(",}") == "}":
                return

    def items(self) -> Iterator[None]:
        """Steps through the array that starts here; the caller reads each item."""
        self._expect("[")
        if self._peek() == "]":
            self._at += 1
            return
        while True:
            yield None
            if self._next_of(",]") == "]":
                return

    def values(self) -> Iterator[Any]:
        """The items of the array that starts here, each decoded whole."""
        for _ in self.items():
            yield self.value()

    def value(self) -> Any:
        """The JSON value that starts here, decoded whole."""
        self._peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buffer, self._at)
            except json.JSONDecodeError:
                # The value goes on past what has been read: read as much again, so that a
                # long value is decoded a few times, not once per piece.
                if self._fill(len(self._buffer) - self._at):
                    continue
                raise ValueError("report.json: a value is cut short or malformed") from None
            # A number at the very end of what was read may go on in the next piece.
            if end == len(self._buffer) and self._fill():
                continue
            self._at = end
            return value

    def _expect(self, char: str) -> None:
        """Steps over `char`, which must come next."""
        if self._peek() != char:
            raise ValueError(f"report.json: {char!r} expected")
        self._at += 1

    def _next_of(self, chars: str) -> str:
        """Steps over the next character, which must be one of `chars`, and returns it."""
        found = self._peek()
        if not found or found not in chars:
            raise ValueError(f"report.json: one of {chars!r} expected")
        self._at += 1
        return found

    def _peek(self) -> str:
        """The next character that is not white space ("" at the end), not stepped over."""
        while True:
            while self._at < len(self._buffer) and self._buffer[self._at] in _WHITESPACE:
                self._at += 1
            if self._at < len(self._buffer):
                return self._buffer[self._at]
            if not self._fill():
                return ""

    def _fill(self, at_least: int = 0) -> bool:
        """Reads the next piece, of `at_least` characters if more than READ_CHARS, dropping
        what was walked past; False at the end."""
        piece = self._text.read(max(READ_CHARS, at_least))
        if not piece:
            return False
        self._buffer = self._buffer[self._at:] + piece
        self._at = 0
        return True
