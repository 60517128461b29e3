"""The answer's delivery, and its PDF, made in a job of its own once the JSON is stored.

The person is mailed as soon as the JSON is stored: the PDF takes longer (long histories
much longer), and the answer page shows it as being prepared until it is there. The job
holds a lease, renewed by a heartbeat while it renders, so the sweep redoes the PDF of a
killed worker within SWEEP_STALE_AFTER instead of trusting RQ's "started". Its time limit
is sized to the rows the PDF will hold, never RQ's blind default. After its last attempt a
PDF that cannot be made is marked (`document_error`): the page says so, the officer sees it
and can have it made again, and the person is mailed when it is there.
"""

from __future__ import annotations

import logging
import uuid

from flask import current_app
from rq import get_current_job
from sqlalchemy import Update, update

from dsar import i18n
from dsar.answer import storage
from dsar.answer.document import render_answer
from dsar.answer.pdf import static_folder
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest
from dsar.policy.lifecycle import RequestStatus
from dsar.transitions import record_event, transition
from dsar.work import leases, mails, queues
from dsar.work.content import answer_content, forget_findings

log = logging.getLogger(__name__)


def start(request: DsarRequest, rows: int | None = None) -> None:
    """Claims the PDF of an answer whose JSON is stored and enqueues its job.

    The job's id is chosen and committed first: only the job holding the latest claim
    renders, so a retry clicked twice or a sweep racing a slow job never makes two PDFs.

    Args:
        request: the request, in progress or completed without its PDF.
        rows: how many records the answer holds, when the caller knows; else read.
    """
    rows = _rows(request) if rows is None else rows
    config = current_app.config
    timeout = config["DOCUMENT_TIMEOUT_BASE"] + config["DOCUMENT_TIMEOUT_PER_1000_ROWS"] * (
        rows // 1000 + 1)
    job_id = uuid.uuid4().hex
    request.document_started_at = utcnow()
    request.document_heartbeat_at = None
    request.document_job_id = job_id
    request.document_attempts += 1
    db.session.commit()
    if queues.enqueue(queues.DOCUMENTS, queues.RENDER_DOCUMENT, request.id, timeout=timeout,
                      job_id=job_id) is None:
        # Redis is away: no attempt is spent; the sweep enqueues it when Redis is back.
        request.document_job_id = None
        request.document_attempts -= 1
        db.session.commit()
        return
    log.info("request_id=%s state=document-enqueued rows=%d timeout=%d", request.id, rows,
             timeout)


def render(request_id: str) -> None:
    """Renders the PDF under its lease and stores it; a failure is recorded, not raised."""
    request = db.session.get(DsarRequest, request_id)
    if request is None or not _wants_document(request):
        return
    job = get_current_job()
    if job is not None and job.id != request.document_job_id:
        return  # a later claim holds the PDF: this job was superseded
    claim = request.document_job_id or ""
    db.session.execute(_beat(request_id, claim))  # started: from now on the lease speaks
    db.session.commit()
    with leases.heartbeat(lambda: _beat(request_id, claim), f"document-{request_id}"):
        pdf = _rendered(request)
    if pdf is None:
        return
    storage.write(request_id, "report.pdf", pdf)
    request = _request(request_id)
    request.document_ready_at = utcnow()
    told_it_failed = request.document_error is not None
    request.document_error = None
    if request.status != RequestStatus.COMPLETED:
        deliver(request)  # an answer begun before its JSON was mailed at once
        return
    forget_findings(request)
    record_event(request, "document_ready", actor="system")
    if told_it_failed:
        # The page said it could not be made: the person is told it is there now.
        mails.owe(request, mails.MailKind.DOCUMENT_READY)
    db.session.commit()
    mails.dispatch_unsent(request)


def _beat(request_id: str, job_id: str) -> Update:
    """The heartbeat of a PDF job's lease: only while the job still holds the claim."""
    return (update(DsarRequest)
            .where(DsarRequest.id == request_id, DsarRequest.document_job_id == job_id)
            .values(document_heartbeat_at=utcnow()))


def _rendered(request: DsarRequest) -> bytes | None:
    """The answer's PDF, in the request's language; None when making it failed (recorded)."""
    request_id, config = request.id, current_app.config
    with i18n.for_request(request.language):
        head, sections = answer_content(request)
        # Rendering a long history takes a while: hold no transaction open meanwhile.
        db.session.commit()
        db.session.close()
        try:
            return render_answer(
                head, sections, static_folder(),
                rows_per_part=config["DOCUMENT_ROWS_PER_PART"],
                processes=config["DOCUMENT_PROCESSES"],
                full_records=config["DOCUMENT_FULL_RECORDS"],
            )
        except Exception as exc:  # a time limit or any renderer failure: for the officer
            _failed(request_id, exc)
            return None


def deliver(request: DsarRequest) -> None:
    """Completes a request whose answer is stored and owes the person the mail with its link;
    an access answer's PDF may still be on its way (the page shows it being prepared)."""
    request.answered_at = utcnow()
    transition(request, RequestStatus.COMPLETED, actor="system")
    mails.owe(request, mails.MailKind.ANSWER_READY)
    if request.document_ready_at is not None:  # else kept, to make the PDF from
        forget_findings(request)
    db.session.commit()
    mails.dispatch_unsent(request)
    log.info("request_id=%s state=answered document=%s", request.id,
             "ready" if request.document_ready_at else "to follow")


def _failed(request_id: str, exc: Exception) -> None:
    """Records a failed PDF; tries again, or gives up on it and tells the officer."""
    db.session.rollback()
    request = _request(request_id)
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    log.warning("request_id=%s state=document-failed attempt=%d error_type=%s", request_id,
                request.document_attempts, type(exc).__name__)
    # The trail is permanent: it gets the kind of failure, the request row the message.
    note = f"making the PDF failed: {type(exc).__name__}"
    if request.document_attempts < current_app.config["DOCUMENT_MAX_ATTEMPTS"]:
        record_event(request, "document_failed", actor="system", note=f"{note}; trying again")
        db.session.commit()
        start(request)
        return
    request.document_error = f"making the PDF failed: {type(exc).__name__}: {first_line}"[:500]
    request.document_job_id = None
    if request.status != RequestStatus.IN_PROGRESS:
        record_event(request, "document_failed", actor="system",
                     note=f"{note}; the officer can have it made again")
        db.session.commit()
        return
    record_event(request, "document_failed", actor="system",
                 note=f"{note}; the JSON answer goes out alone, the PDF is to follow")
    deliver(request)


def redrive(request: DsarRequest) -> None:
    """For the sweep: a PDF never enqueued (Redis was away) is enqueued; one whose job
    vanished (a killed worker) is tried again or given up."""
    if request.document_job_id is None:
        start(request)
        return
    _failed(request.id, RuntimeError("the worker making the PDF stopped before it finished"))


def _wants_document(request: DsarRequest) -> bool:
    """Whether the answer's PDF is still to be made: its JSON is stored, it is not."""
    return (request.json_ready_at is not None and request.document_ready_at is None
            and request.answer_deleted_at is None
            and request.status in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED))


def _rows(request: DsarRequest) -> int:
    """How many records the answer holds: what the PDF's time depends on."""
    head, _ = answer_content(request)
    return int(head["summary"]["record_count"])


def _request(request_id: str) -> DsarRequest:
    """Returns a request that is known to exist."""
    request = db.session.get(DsarRequest, request_id)
    if request is None:
        raise LookupError(f"request {request_id} is gone")
    return request
