"""What the connectors found for a request, kept as stored files until its answer is made.

A connector's records are written to a private temporary file as the export yields them,
one JSON line per record and one file per category, and stored sealed when the export
ends, so no process ever holds a long history whole: the answer's JSON and PDF read them
back one by one, on whichever machine makes them. The task row keeps only a summary: how
many records each category has and the period they span.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from typing import IO, Any

from dsar.answer import storage
from dsar.answer.readable import columns_of, record_day
from dsar.connector import Category, Record

PREFIX = "findings/"

#: The summary a task row keeps for an export: {"categories": {name: CategorySummary}}.
CategorySummary = dict[str, Any]


def store(
    request_id: str, task_id: int, records: Iterable[Record], categories: Sequence[Category]
) -> dict[str, Any]:
    """Writes an export's records to files as they come and stores them when it ends;
    returns the task's summary. The caller commits.

    A repeated run (a retried task) replaces what an earlier run stored.
    """
    declared = {category.name: category for category in categories}
    summary: dict[str, CategorySummary] = {
        name: {"count": 0, "first": None, "last": None} for name in declared}
    with ExitStack() as files:
        handles: dict[str, IO[bytes]] = {}
        for record in records:
            handle = handles.get(record.category)
            if handle is None:
                handle = files.enter_context(storage.spooled())
                handles[record.category] = handle
            data = dict(record.data)
            handle.write(json.dumps(
                {"key": record.key, "data": data, "flags": list(record.flags)},
                ensure_ascii=False, default=str).encode() + b"\n")
            _count(summary.setdefault(
                record.category, {"count": 0, "first": None, "last": None}),
                data, declared.get(record.category))
        # Only now, with the export over, is a transaction begun: none is held while a
        # connector reaches its system.
        storage.delete(request_id, prefix=_task_prefix(task_id))
        for category, handle in handles.items():
            storage.put(request_id, _name(task_id, category), handle, replace=False)
    return {"categories": summary}


def records(request_id: str, task_id: int, category: str) -> Iterator[dict[str, Any]]:
    """The stored records of one category found with records, in the order they came.

    Raises:
        FileNotFoundError: they were deleted; an answer made now would silently lack them.
    """
    with storage.reading(request_id, _name(task_id, category)) as handle:
        for line in handle:
            yield json.loads(line)


def counts(summary: Mapping[str, Any] | None) -> dict[str, CategorySummary]:
    """The categories an export task found records of, with their summaries (none for any
    other task)."""
    return {name: counted for name, counted in (summary or {}).get("categories", {}).items()
            if counted.get("count")}


def discard(request_id: str) -> None:
    """Deletes every finding of a request: its answer is made, or it needs them no more.
    The caller commits."""
    storage.delete(request_id, prefix=PREFIX)


def _count(summary: CategorySummary, data: Mapping[str, Any], category: Category | None) -> None:
    """Adds a record to its category's count and period."""
    summary["count"] += 1
    if category is None:
        return
    day = record_day(data, columns_of(category))
    if day is not None:
        text = day.isoformat()
        summary["first"] = min(summary["first"] or text, text)
        summary["last"] = max(summary["last"] or text, text)


def _task_prefix(task_id: int) -> str:
    """The start of the names of one task's findings."""
    return f"{PREFIX}{int(task_id)}/"


def _name(task_id: int, category: str) -> str:
    """A category's stored name: the name made plain (connectors choose names), and a digest
    of the name, so two names never share a file."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in category)[:64]
    digest = hashlib.sha256(category.encode()).hexdigest()[:12]
    return f"{_task_prefix(task_id)}{cleaned}-{digest}.jsonl"
