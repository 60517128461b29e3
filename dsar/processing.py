"""Carrying out a verified request: one task per connector (fan-out), one answer (fan-in).

The database is the truth: a task row says what each connector has done. Jobs carry only
ids, and every step may run twice without harm, because each first looks at the rows.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from dsar import queues
from dsar.clock import utcnow
from dsar.connector import Subject
from dsar.extensions import db, rows_changed
from dsar.lifecycle import TASK_ENDS, RequestStatus, RequestType, TaskStatus
from dsar.models import ConnectorTask, DsarRequest
from dsar.registry import ConnectorRegistry
from dsar.transitions import record_event, transition

log = logging.getLogger(__name__)

#: The connector action each request type needs.
ACTIONS = {RequestType.ACCESS: "export", RequestType.PORTABILITY: "export"}


def registry() -> ConnectorRegistry:
    """The connectors installed in this environment."""
    reg: ConnectorRegistry = current_app.extensions["dsar.connectors"]
    return reg


def start(request: DsarRequest, *, actor: str) -> None:
    """Moves a verified request into progress and creates its tasks; the caller commits.

    Call `enqueue_pending(request)` after the commit: a job must never run before the
    rows it reads exist.
    """
    transition(request, RequestStatus.IN_PROGRESS, actor=actor)
    action = ACTIONS[RequestType(request.type)]
    existing = {(t.connector, t.action) for t in request.tasks}
    for name in registry().names:
        if (name, action) not in existing:
            request.tasks.append(ConnectorTask(connector=name, action=action))


def enqueue_pending(request: DsarRequest) -> None:
    """Enqueues a job for each pending task, or the answer when there is nothing to run."""
    from dsar import jobs

    pending = [t for t in request.tasks if t.status == TaskStatus.PENDING]
    for task in pending:
        task.job_id = queues.enqueue(queues.CONNECTORS, jobs.run_task, task.id)
    db.session.commit()
    if not request.tasks:
        claim_assembly(request.id)


def run_task(task_id: int) -> None:
    """Runs one connector task, records its outcome, and starts the answer if it was last."""
    task = db.session.get(ConnectorTask, task_id)
    if task is None or task.status in TASK_ENDS:
        return
    request = task.request
    task.status = TaskStatus.RUNNING
    task.attempts += 1
    subject = Subject(email=request.email, name=request.name)
    connector_name, request_id = task.connector, request.id
    db.session.commit()
    # The connector reaches another system: hold no transaction open while it does.
    db.session.close()

    try:
        result = _export(connector_name, subject)
    except Exception as exc:  # a connector may fail in any way; it is recorded, not hidden
        _record_failure(task_id, exc)
    else:
        task = _task(task_id)
        task.result = result
        task.status = TaskStatus.SUCCEEDED
        task.error = None
        task.finished_at = utcnow()
        db.session.commit()
        log.info("request_id=%s connector=%s state=succeeded", request_id, connector_name)
    claim_assembly(request_id)


def _task(task_id: int) -> ConnectorTask:
    """Returns a task that is known to exist."""
    task = db.session.get(ConnectorTask, task_id)
    if task is None:
        raise LookupError(f"connector task {task_id} is gone")
    return task


def _export(connector_name: str, subject: Subject) -> dict[str, Any]:
    """Asks a connector for the subject's records, grouped by category."""
    connector = registry().create(connector_name, current_app.config)
    categories: dict[str, list[dict[str, Any]]] = {c.name: [] for c in connector.categories}
    for record in connector.export(subject):
        categories.setdefault(record.category, []).append(
            {"key": record.key, "data": dict(record.data), "flags": list(record.flags)}
        )
    return {"categories": categories}


def _record_failure(task_id: int, exc: Exception) -> None:
    """Records why a task failed; it runs again until its attempts are used up."""
    db.session.rollback()
    task = _task(task_id)
    # The exception's type and first line: enough to act on, short of dumping query values.
    task.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
    max_attempts = current_app.config["TASK_MAX_ATTEMPTS"]
    log.warning(
        "request_id=%s connector=%s state=error attempt=%d of=%d error_type=%s",
        task.request_id, task.connector, task.attempts, max_attempts, type(exc).__name__,
    )
    if task.attempts < max_attempts:
        from dsar import jobs

        task.status = TaskStatus.PENDING
        db.session.commit()
        delay = current_app.config["TASK_RETRY_DELAY"] * task.attempts
        task.job_id = queues.enqueue(queues.CONNECTORS, jobs.run_task, task.id, delay=delay)
    else:
        task.status = TaskStatus.FAILED
        task.finished_at = utcnow()
        note = f"{task.connector}: {task.error}"
        record_event(task.request, "task_failed", actor="system", note=note)
    db.session.commit()


def claim_assembly(request_id: str) -> None:
    """Enqueues the answer once every task has ended; of racing callers, exactly one wins."""
    from dsar import jobs

    open_tasks = db.session.scalar(
        select(db.func.count())
        .select_from(ConnectorTask)
        .where(ConnectorTask.request_id == request_id, ConnectorTask.status.not_in(TASK_ENDS))
    )
    if open_tasks:
        return
    claimed = rows_changed(
        update(DsarRequest)
        .where(DsarRequest.id == request_id, DsarRequest.assembly_started_at.is_(None))
        .values(assembly_started_at=utcnow())
    )
    db.session.commit()
    if claimed:
        queues.enqueue(queues.ANSWERS, jobs.assemble_answer, request_id)
