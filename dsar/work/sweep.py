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
from sqlalchemy import func, or_, select

from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import ConnectorTask, DsarRequest, OutgoingMail
from dsar.policy.lifecycle import ACCESS_TYPES, RequestStatus, TaskStatus
from dsar.transitions import transition
from dsar.work import documents, keeping, mails, queues, sign_in_alerts, tasks

log = logging.getLogger(__name__)

_WAITING_JOB = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED})
_LIVE_JOB = _WAITING_JOB | {JobStatus.STARTED}


def sweep() -> None:
    """Drives again whatever was lost; safe to run at any time, on any machine."""
    stale_before = utcnow() - timedelta(seconds=current_app.config["SWEEP_STALE_AFTER"])
    redriven = _redrive_tasks(stale_before)
    assembled = _redrive_answers(stale_before)
    documents_redriven = _redrive_documents(stale_before)
    resent = _redrive_mails(stale_before)
    reminded = _remind_unverified()
    expired = _expire_unverified()
    answers_deleted = keeping.delete_expired()
    counters = sign_in_alerts.forget_stale(utcnow())
    db.session.commit()
    log.info(
        "sweep tasks=%d answers=%d documents=%d mails=%d reminded=%d expired=%d "
        "answers_deleted=%d sign_in_counters_dropped=%d",
        redriven, assembled, documents_redriven, resent, reminded, expired, answers_deleted,
        counters,
    )


def _job_alive(job_id: str | None, statuses: frozenset[JobStatus] = _LIVE_JOB) -> bool:
    """Whether RQ still holds a job that will run or is running."""
    if not job_id:
        return False
    try:
        status = Job.fetch(job_id, connection=queues.redis_connection()).get_status()
    except (NoSuchJobError, RedisError):
        return False
    return status in statuses


def _redrive_tasks(stale_before: datetime) -> int:
    """Runs again the tasks whose worker died, and enqueues those whose job was lost.

    A running task is judged by its lease alone: RQ goes on calling a job of a killed
    worker "started" for many minutes. A pending task is enqueued again unless RQ holds
    its job waiting to run (a long queue is not a lost one); a job RQ calls started while
    the task is still pending died before it took the task.
    """
    lost = db.session.scalars(
        select(ConnectorTask.id).where(
            ConnectorTask.status == TaskStatus.RUNNING,
            func.coalesce(ConnectorTask.heartbeat_at, ConnectorTask.updated_at) < stale_before,
        )
    ).all()
    for task_id in lost:
        tasks.worker_lost(task_id, stale_before)
    waiting = db.session.scalars(
        select(ConnectorTask).where(
            ConnectorTask.status == TaskStatus.PENDING,
            ConnectorTask.updated_at < stale_before,
            or_(ConnectorTask.next_attempt_at.is_(None),
                ConnectorTask.next_attempt_at < stale_before),
        )
    ).all()
    count = 0
    for task in waiting:
        if _job_alive(task.job_id, _WAITING_JOB):
            continue
        task.job_id = queues.enqueue(queues.CONNECTORS, queues.RUN_TASK, task.id)
        task.updated_at = utcnow()
        db.session.commit()
        count += 1
    return len(lost) + count


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
    """Tries again, or gives up on, PDFs whose job vanished with a killed worker or Redis.

    A job that started is judged by its lease alone (RQ calls the job of a killed worker
    "started" for many minutes); one still waiting in a long queue has no heartbeat yet, and
    RQ is asked whether it still holds it.
    """
    waiting = db.session.scalars(
        select(DsarRequest).where(
            DsarRequest.status.in_((RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED)),
            DsarRequest.json_ready_at.is_not(None),
            DsarRequest.document_ready_at.is_(None),
            DsarRequest.document_error.is_(None),
            DsarRequest.answer_deleted_at.is_(None),
            DsarRequest.type.in_(ACCESS_TYPES),
            or_(DsarRequest.document_started_at.is_(None),
                DsarRequest.document_started_at < stale_before),
            or_(DsarRequest.document_heartbeat_at.is_(None),
                DsarRequest.document_heartbeat_at < stale_before),
        )
    ).all()
    count = 0
    for request in waiting:
        if request.document_heartbeat_at is None and _job_alive(request.document_job_id,
                                                                 _WAITING_JOB):
            continue
        documents.redrive(request)
        count += 1
    return count


def _redrive_mails(stale_before: datetime) -> int:
    """Dispatches owed mails whose delivery should have happened a while ago."""
    owed = db.session.scalars(
        select(OutgoingMail).where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.dropped_reason.is_(None),
            OutgoingMail.next_attempt_at < stale_before,
        )
    ).all()
    for mail in owed:
        mails.dispatch(mail)
    return len(owed)


def _remind_unverified() -> int:
    """Owes one reminder to each requester whose verification mail went out a while ago and
    who has not confirmed yet. A request whose mail was withheld (too many for one address
    that day) gets none: a reminder must not become a way to flood an inbox."""
    after = current_app.config["VERIFY_REMINDER_AFTER"]
    if not after:
        return 0
    cutoff = utcnow() - timedelta(seconds=after)
    waiting = db.session.scalars(
        select(DsarRequest)
        .join(OutgoingMail, OutgoingMail.request_id == DsarRequest.id)
        .where(
            DsarRequest.status == RequestStatus.AWAITING_VERIFICATION,
            DsarRequest.received_at < cutoff,
            OutgoingMail.kind == mails.MailKind.VERIFY,
            OutgoingMail.sent_at.is_not(None),
            ~DsarRequest.id.in_(select(OutgoingMail.request_id).where(
                OutgoingMail.kind == mails.MailKind.VERIFY_REMINDER)),
        )
    ).all()
    for request in waiting:
        mails.owe(request, mails.MailKind.VERIFY_REMINDER)
    db.session.commit()
    for request in waiting:
        mails.dispatch_unsent(request)
    return len(waiting)


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
