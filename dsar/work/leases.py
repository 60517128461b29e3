"""A running task's lease: taken in the database, renewed while the connector works (the
heartbeat serves the answer's PDF job too, dsar.work.documents).

RQ's own view of a job killed with its worker stays "started" for many minutes, so the
sweep does not ask RQ: it trusts the lease. A worker takes a task by moving it from
pending to running with its next attempt number, which is the lease's token; a heartbeat
thread renews the lease while the connector works; and the result is kept only if the
lease is still this run's, so a run the sweep gave up on cannot overwrite the one that
replaced it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import Update, or_, update
from sqlalchemy.exc import SQLAlchemyError

from dsar.clock import utcnow
from dsar.extensions import db, rows_changed
from dsar.models import ConnectorTask
from dsar.policy.lifecycle import TaskStatus

log = logging.getLogger(__name__)

#: How many heartbeats fit in SWEEP_STALE_AFTER: a missed one or two never looks like death.
BEATS_PER_LEASE = 4


def take(task_id: int) -> int | None:
    """Takes a pending task that is due; returns the lease's token (the attempt number),
    or None when it is not pending, not yet due, or another run took it first. Commits."""
    task = db.session.get(ConnectorTask, task_id)
    if task is None or task.status != TaskStatus.PENDING:
        return None
    now = utcnow()
    token = task.attempts + 1
    taken = rows_changed(
        update(ConnectorTask)
        .where(
            ConnectorTask.id == task_id,
            ConnectorTask.status == TaskStatus.PENDING,
            ConnectorTask.attempts == task.attempts,
            or_(ConnectorTask.next_attempt_at.is_(None), ConnectorTask.next_attempt_at <= now),
        )
        .values(status=TaskStatus.RUNNING, attempts=token, claimed_at=now, heartbeat_at=now)
    )
    db.session.commit()
    return token if taken else None


def held(task: ConnectorTask, token: int) -> bool:
    """Whether this run still holds the task's lease."""
    return task.status == TaskStatus.RUNNING and task.attempts == token


def task_beat(task_id: int, token: int) -> Update:
    """The heartbeat of a task's lease: only while this run still holds it."""
    return (update(ConnectorTask)
            .where(ConnectorTask.id == task_id, ConnectorTask.attempts == token,
                   ConnectorTask.status == TaskStatus.RUNNING)
            .values(heartbeat_at=utcnow()))


@contextmanager
def heartbeat(beat: Callable[[], Update], name: str) -> Iterator[None]:
    """Renews a lease in a thread of its own for as long as the block runs: `beat` makes
    the UPDATE that renews it (afresh each time, so it carries the time of that beat)."""
    interval = max(0.5, current_app.config["SWEEP_STALE_AFTER"] / BEATS_PER_LEASE)
    engine = db.engine
    stop = threading.Event()

    def beating() -> None:
        while not stop.wait(interval):
            try:
                with engine.begin() as conn:
                    conn.execute(beat())
            except SQLAlchemyError as exc:  # the database is away: the next beat tries again
                log.warning("lease=%s state=heartbeat-missed error_type=%s", name,
                            type(exc).__name__)

    thread = threading.Thread(target=beating, name=f"lease-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
