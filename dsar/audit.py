"""The audit trail: append-only, each entry chained to the one before by a hash.

An entry's hash covers its content and the previous entry's hash, so changing or deleting
any entry breaks every link after it, and `dsar audit verify` says where. Appends lock the
one head row, so entries written at the same time still form one chain.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import AuditHead, RequestEvent

GENESIS = "0" * 64
HEAD_ID = 1


def entry_hash(
    prev_hash: str,
    at: datetime,
    request_id: str | None,
    kind: str,
    actor: str,
    from_status: str | None,
    to_status: str | None,
    note: str | None,
) -> str:
    """The hash of one entry: SHA-256 over the previous hash and every field, unambiguously."""
    fields = [prev_hash, at.isoformat(timespec="microseconds"), request_id or "", kind, actor,
              from_status or "", to_status or "", note or ""]
    # Length-prefixing keeps "a|b" + "c" apart from "a" + "b|c".
    material = "".join(f"{len(f)}:{f};" for f in fields)
    return hashlib.sha256(material.encode()).hexdigest()


def append(event: RequestEvent) -> None:
    """Chains a new entry onto the trail and adds it to the session; the caller commits."""
    # Touching the head first takes its lock (a row lock in PostgreSQL, the write lock in
    # SQLite) before it is read, so no two appends can build on the same predecessor.
    touched = db.session.execute(
        update(AuditHead).where(AuditHead.id == HEAD_ID).values(length=AuditHead.length + 1)
    )
    if not touched.rowcount:  # type: ignore[attr-defined]
        db.session.add(AuditHead(id=HEAD_ID, hash=GENESIS, length=1))
        db.session.flush()
    head = db.session.scalars(
        select(AuditHead).where(AuditHead.id == HEAD_ID).execution_options(populate_existing=True)
    ).one()
    event.at = event.at or utcnow()
    event.prev_hash = head.hash
    event.hash = entry_hash(event.prev_hash, event.at, event.request_id, event.kind,
                            event.actor, event.from_status, event.to_status, event.note)
    head.hash = event.hash
    db.session.add(event)


@dataclass(frozen=True)
class Break:
    """Where the chain is broken, and how."""

    entry_id: int
    problem: str


def verify(trail: Iterable[RequestEvent] | None = None) -> list[Break]:
    """Walks the trail in order; returns every break (an empty list: the trail is intact)."""
    breaks = []
    expected_prev = GENESIS
    count = 0
    for entry in trail if trail is not None else entries():
        count += 1
        if entry.prev_hash != expected_prev:
            breaks.append(Break(entry.id, "an entry before it was changed or removed"))
        recomputed = entry_hash(entry.prev_hash, entry.at, entry.request_id, entry.kind,
                                entry.actor, entry.from_status, entry.to_status, entry.note)
        if recomputed != entry.hash:
            breaks.append(Break(entry.id, "its content was changed"))
        expected_prev = entry.hash
    head = db.session.get(AuditHead, HEAD_ID)
    if head is not None and (head.hash != expected_prev or head.length != count):
        breaks.append(Break(0, "entries at the end were removed"))
    return breaks


def entries(
    *, request_id: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> Iterator[RequestEvent]:
    """The entries of one request or period, in order."""
    query = select(RequestEvent).order_by(RequestEvent.id)
    if request_id:
        query = query.where(RequestEvent.request_id == request_id)
    if since:
        query = query.where(RequestEvent.at >= since)
    if until:
        query = query.where(RequestEvent.at < until)
    yield from db.session.scalars(query.execution_options(yield_per=1000))


CSV_COLUMNS = ("id", "at", "request_id", "kind", "actor", "from_status", "to_status", "note",
               "prev_hash", "hash")


def to_csv(entries: Iterable[RequestEvent]) -> str:
    """The entries as CSV, hashes included, so an export can be checked on its own."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow([
            entry.id, entry.at.isoformat(timespec="microseconds"), entry.request_id or "",
            entry.kind, entry.actor, entry.from_status or "", entry.to_status or "",
            entry.note or "", entry.prev_hash, entry.hash,
        ])
    return out.getvalue()
