"""The periodic sweep: nothing is lost when a worker dies or Redis forgets its queues.

Redis carries only ids, so whatever it lost can be found again in the database: tasks that
sat queued or running too long with no live job, answers never assembled, mails never sent,
and requests never verified, which expire.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import or_, select

from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import ConnectorTask, DsarRequest, OutgoingMail
from dsar.policy.lifecycle import ACCESS_TYPES, RequestStatus, TaskStatus
from dsar.transitions import record_event, transition
from dsar.work import documents, mails, queues, tasks

log = logging.getLogger(__name__)

_LIVE_JOB = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def sweep() -> None:
    """Drives again whatever was lost; safe to run at any time, on any machine."""
    stale_before = utcnow() - timedelta(seconds=current_app.config["SWEEP_STALE_AFTER"])
    redriven = _redrive_tasks(stale_before)
    assembled = _redrive_answers(stale_before)
    documents_redriven = _redrive_documents(stale_before)
    resent = _redrive_mails(stale_before)
    expired = _expire_unverified()
    log.info(
        "sweep tasks=%d answers=%d documents=%d mails=%d expired=%d",
        redriven, assembled, documents_redriven, resent, expired,
    )


def _job_alive(job_id: str | None) -> bool:
    """Whether RQ still holds a job that will run or is running."""
    if not job_id:
        return False
    try:
        status = Job.fetch(job_id, connection=queues.redis_connection()).get_status()
    except (NoSuchJobError, RedisError):
        return False
    return status in _LIVE_JOB


def _redrive_tasks(stale_before: datetime) -> int:
    """Re-enqueues tasks whose job is gone; a task out of attempts fails for good."""
    stale = db.session.scalars(
        select(ConnectorTask).where(
            ConnectorTask.status.in_([TaskStatus.PENDING, TaskStatus.RUNNING]),
            ConnectorTask.updated_at < stale_before,
        )
    ).all()
    count = 0
    for task in stale:
        if _job_alive(task.job_id):
            continue
        if task.status == TaskStatus.RUNNING:
            task.error = "the worker running this task stopped before it finished"
            if task.attempts >= current_app.config["TASK_MAX_ATTEMPTS"]:
                task.status = TaskStatus.FAILED
                task.finished_at = utcnow()
                record_event(task.request, "task_failed", actor="system", note=task.error)
                db.session.commit()
                tasks.claim_assembly(task.request_id)
                continue
            task.status = TaskStatus.PENDING
        db.session.commit()
        task.job_id = queues.enqueue(queues.CONNECTORS, queues.RUN_TASK, task.id)
        task.updated_at = utcnow()
        db.session.commit()
        count += 1
    return count


def _redrive_answers(stale_before: datetime) -> int:
    """Claims or re-enqueues the answer of requests whose tasks have all ended."""
    in_progress = db.session.scalars(
        select(DsarRequest).where(
            DsarRequest.status == RequestStatus.IN_PROGRESS,
            DsarRequest.json_ready_at.is_(None),  # once stored, the PDF is _redrive_documents'
        )
    ).all()
    count = 0
    for request in in_progress:
        if request.assembly_started_at is None:
            count += tasks.claim_assembly(request.id)
        elif request.assembly_started_at < stale_before:
            request.assembly_started_at = utcnow()
            db.session.commit()
            queues.enqueue(queues.ANSWERS, queues.ASSEMBLE_ANSWER, request.id)
            count += 1
    return count


def _redrive_documents(stale_before: datetime) -> int:
    """Tries again, or gives up on, PDFs whose job vanished with a killed worker or Redis."""
    waiting = db.session.scalars(
        select(DsarRequest).where(
            DsarRequest.status == RequestStatus.IN_PROGRESS,
            DsarRequest.json_ready_at.is_not(None),
            DsarRequest.type.in_(ACCESS_TYPES),
            or_(DsarRequest.document_started_at.is_(None),
                DsarRequest.document_started_at < stale_before),
        )
    ).all()
    count = 0
    for request in waiting:
        # A long history's PDF may rightly take longer than the sweep waits: ask RQ first.
        if _job_alive(request.document_job_id):
            continue
        documents.redrive(request)
        count += 1
    return count


def _redrive_mails(stale_before: datetime) -> int:
    """Dispatches owed mails whose delivery should have happened a while ago."""
    owed = db.session.scalars(
        select(OutgoingMail).where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.next_attempt_at < stale_before,
            OutgoingMail.attempts < current_app.config["MAIL_MAX_ATTEMPTS"],
        )
    ).all()
    for mail in owed:
        mails.dispatch(mail)
    return len(owed)


def _expire_unverified() -> int:
    """Ends requests whose verification link has run out unused."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["VERIFY_MAX_AGE"])
    unverified = db.session.scalars(
        select(DsarRequest).where(
            DsarRequest.status == RequestStatus.AWAITING_VERIFICATION,
            DsarRequest.received_at < cutoff,
        )
    ).all()
    for request in unverified:
        request.verification_nonce = None
        transition(request, RequestStatus.EXPIRED, actor="system", note="never verified")
    db.session.commit()
    return len(unverified)
