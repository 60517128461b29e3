"""Records kept under a legal duty are erased when the duty ends (Art. 17(3)(b), Art. 5(1)(e)).

A periodic job looks for holds whose date has come and asks each connector to erase those
records by key; the person's address may long be gone from them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from dsar.clock import utcnow
from dsar.connector import Decision, Disposition, Subject
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent, RetentionHold
from dsar.registry import current_registry
from dsar.transitions import record_event
from dsar.work import verifying

log = logging.getLogger(__name__)


def current_holds(email: str, connector: str) -> list[RetentionHold]:
    """The holds still running on one connector's records of the person with that address."""
    return list(db.session.scalars(
        select(RetentionHold)
        .join(DsarRequest, DsarRequest.id == RetentionHold.request_id)
        .where(DsarRequest.email == email, RetentionHold.connector == connector,
               RetentionHold.erased_at.is_(None))
        .order_by(RetentionHold.id)
    ))


def held_keys(email: str, connector: str) -> dict[str, tuple[str, ...]]:
    """Per category, the keys of a connector's records kept by law after the person's earlier
    erasure: an export finds them by key, since their address is gone (Subject.held)."""
    keys: dict[str, list[str]] = defaultdict(list)
    for hold in current_holds(email, connector):
        keys[hold.category].append(hold.record_key)
    return {category: tuple(found) for category, found in keys.items()}


def hold(request: DsarRequest, connector: str, decision: Mapping[str, Any]) -> None:
    """Schedules a kept record (a minimise decision, as stored in a plan) for erasure when
    its duty ends; once per record. The caller commits."""
    exists = db.session.scalar(select(RetentionHold).where(
        RetentionHold.connector == connector,
        RetentionHold.category == decision["category"],
        RetentionHold.record_key == decision["key"],
    ))
    if exists is None:
        db.session.add(RetentionHold(
            request_id=request.id, connector=connector, category=decision["category"],
            record_key=decision["key"], retain_until=date.fromisoformat(decision["retain_until"]),
            legal_basis=decision["legal_basis"] or "",
        ))


#: The event of a held record that did not read back erased when its duty ended.
NOT_ERASED = "retention_erase_not_carried_out"


def noted(request_id: str, kind: str, note: str) -> bool:
    """Whether the request's trail already has this event: a job that runs every hour and
    meets the same trouble says it once."""
    return db.session.scalar(select(RequestEvent.id).where(
        RequestEvent.request_id == request_id, RequestEvent.kind == kind,
        RequestEvent.note == note).limit(1)) is not None


def overdue_holds(today: date) -> list[RetentionHold]:
    """Holds whose duty ended more than a day ago and whose record is still there: the
    officers' digest lists them until they are erased."""
    return list(db.session.scalars(
        select(RetentionHold).where(RetentionHold.retain_until < today - timedelta(days=1),
                                    RetentionHold.erased_at.is_(None))
        .order_by(RetentionHold.retain_until)))


def end_due_holds(today: date | None = None) -> int:
    """Erases every held record whose duty has ended; returns how many were erased."""
    today = today or utcnow().date()
    due = db.session.scalars(
        select(RetentionHold).where(
            RetentionHold.retain_until <= today, RetentionHold.erased_at.is_(None)
        ).order_by(RetentionHold.id)
    ).all()
    by_connector: dict[str, list[RetentionHold]] = defaultdict(list)
    for hold in due:
        by_connector[hold.connector].append(hold)
    erased = 0
    for name, holds in by_connector.items():
        decisions = [
            Decision(h.category, h.record_key, Disposition.ERASE, reason="retention ended")
            for h in holds
        ]
        try:
            connector = current_registry().create(name, current_app.config)
            list(connector.erase(Subject(email=""), decisions))
            # Read again: a hold ends only when its record shows it erased.
            left = {(item["category"], item["key"]) for item in verifying.erasure_left(
                connector, Subject(email=""), decisions)}
        except Exception:  # one system being down must not keep the others' data longer
            log.exception("connector=%s state=retention-erase-failed holds=%d", name, len(holds))
            db.session.rollback()
            continue
        for hold in holds:
            if (hold.category, hold.record_key) in left:
                # Tried again on the next run; the trail says so once, and the officers'
                # digest lists every hold past its day (`overdue_holds`).
                note = f"{name}: {hold.category} {hold.record_key}"
                if not noted(hold.request_id, NOT_ERASED, note):
                    record_event(hold.request, NOT_ERASED, actor="system", note=note)
                continue
            hold.erased_at = utcnow()
            record_event(hold.request, "retention_ended", actor="system",
                         note=f"{name}: {hold.category} {hold.record_key}")
            erased += 1
        db.session.commit()
    log.info("retention holds_ended=%d", erased)
    return erased
