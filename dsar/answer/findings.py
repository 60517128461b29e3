"""What the connectors found for a request, kept as files until its answer is made.

A connector's records are written to disk as the export yields them, one JSON line per
record and one file per category, so no process ever holds a long history whole: the
answer's JSON and PDF read them back one by one. The task row keeps only a summary: how
many records each category has and the period they span.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from dsar.answer.readable import columns_of, record_day
from dsar.answer.storage import answer_dir
from dsar.connector import Category, Record

#: The summary a task row keeps for an export: {"categories": {name: CategorySummary}}.
CategorySummary = dict[str, Any]


def store(
    request_id: str, task_id: int, records: Iterable[Record], categories: Sequence[Category]
) -> dict[str, Any]:
    """Writes an export's records to files as they come; returns the task's summary.

    A repeated run (a retried task) replaces what an earlier run wrote.
    """
    folder = _task_dir(request_id, task_id)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    declared = {category.name: category for category in categories}
    summary: dict[str, CategorySummary] = {
        name: {"count": 0, "first": None, "last": None} for name in declared}
    with ExitStack() as files:
        handles: dict[str, IO[str]] = {}
        for record in records:
            handle = handles.get(record.category)
            if handle is None:
                handle = files.enter_context(_open_private(_file(folder, record.category)))
                handles[record.category] = handle
            data = dict(record.data)
            handle.write(json.dumps(
                {"key": record.key, "data": data, "flags": list(record.flags)},
                ensure_ascii=False, default=str) + "\n")
            _count(summary.setdefault(
                record.category, {"count": 0, "first": None, "last": None}),
                data, declared.get(record.category))
    return {"categories": summary}


def records(request_id: str, task_id: int, category: str) -> Iterator[dict[str, Any]]:
    """The stored records of one category found with records, in the order they came.

    Raises:
        FileNotFoundError: they were deleted; an answer made now would silently lack them.
    """
    path = _file(_task_dir(request_id, task_id), category)
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def counts(summary: Mapping[str, Any] | None) -> dict[str, CategorySummary]:
    """The categories an export task found records of, with their summaries (none for any
    other task)."""
    return {name: counted for name, counted in (summary or {}).get("categories", {}).items()
            if counted.get("count")}


def discard(request_id: str) -> None:
    """Deletes every finding of a request: its answer is made, or it needs them no more."""
    shutil.rmtree(answer_dir(request_id) / "findings", ignore_errors=True)


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


def _task_dir(request_id: str, task_id: int) -> Path:
    """The folder of one task's findings."""
    return answer_dir(request_id) / "findings" / str(int(task_id))


def _file(folder: Path, category: str) -> Path:
    """A category's file: its name made safe (connectors choose names, so nothing else may
    get into the path), and a digest of the name, so two names never share a file."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in category)[:64]
    digest = hashlib.sha256(category.encode()).hexdigest()[:12]
    return folder / f"{cleaned}-{digest}.jsonl"


def _open_private(path: Path) -> IO[str]:
    """Opens a new file that only this service's user may read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(descriptor, "w", encoding="utf-8")
