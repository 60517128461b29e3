"""The mails dsar owes a requester, each sent once however often a job runs."""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import select, update

from dsar.clock import utcnow
from dsar.extensions import db, rows_changed
from dsar.models import DsarRequest, OutgoingMail
from dsar.policy.lifecycle import RequestStatus
from dsar.tokens import Purpose, sign
from dsar.transitions import record_event
from dsar.work import queues, transport

log = logging.getLogger(__name__)


class MailKind(StrEnum):
    """The mails a request can cause; each kind goes out at most once per request."""

    VERIFY = "verify"
    ANSWER_READY = "answer_ready"
    DOCUMENT_READY = "document_ready"  # the PDF, made again after the JSON went out alone
    RESTRICTION_LIFTING = "restriction_lifting"
    DENIED = "denied"
    EXTENDED = "extended"


#: Art. 19 notices to recipients are of kind "notice:<recipient>", one per recipient.
NOTICE_PREFIX = "notice:"

#: How long one delivery attempt holds a mail before another may try.
SEND_LEASE = timedelta(minutes=2)

SUBJECTS = {
    MailKind.VERIFY: "Please confirm your privacy request",
    MailKind.ANSWER_READY: "The answer to your privacy request is ready",
    MailKind.DOCUMENT_READY: "The document of your privacy answer is ready",
    MailKind.RESTRICTION_LIFTING: "The restriction of your data will be lifted",
    MailKind.DENIED: "We cannot act on your privacy request",
    MailKind.EXTENDED: "We need more time for your privacy request",
}


def notice_kind(recipient: str) -> str:
    """The mail kind of the notice to one recipient."""
    return f"{NOTICE_PREFIX}{recipient}"[:120]


def owe(request: DsarRequest, kind: str, to_address: str | None = None) -> OutgoingMail:
    """Records that a mail is owed (once per kind); the caller commits, then dispatches."""
    existing = db.session.scalar(
        select(OutgoingMail).where(OutgoingMail.request_id == request.id, OutgoingMail.kind == kind)
    )
    if existing is not None:
        return existing
    owed = OutgoingMail(request_id=request.id, kind=kind, to_address=to_address)
    db.session.add(owed)
    return owed


def owed_mails(request: DsarRequest) -> list[OutgoingMail]:
    """Every mail a request owes or sent, oldest first."""
    return list(db.session.scalars(
        select(OutgoingMail).where(OutgoingMail.request_id == request.id).order_by(OutgoingMail.id)
    ))


def dispatch_unsent(request: DsarRequest) -> None:
    """Enqueues every committed mail of the request that has not gone out yet."""
    for owed in owed_mails(request):
        if owed.sent_at is None:
            dispatch(owed)


def dispatch(owed: OutgoingMail, delay: int = 0) -> None:
    """Enqueues the delivery of a committed mail row."""
    queues.enqueue(queues.MAIL, queues.DELIVER_MAIL, owed.id, delay=delay)


def deliver(mail_id: int) -> None:
    """Sends an owed mail unless it went out already; a failure is recorded and retried."""
    if not _claim(mail_id):
        return
    owed = db.session.get(OutgoingMail, mail_id)
    request = db.session.get(DsarRequest, owed.request_id) if owed else None
    if owed is None or request is None:
        return
    kind = owed.kind
    if kind == MailKind.VERIFY and request.status != RequestStatus.AWAITING_VERIFICATION:
        owed.sent_at = utcnow()  # confirmed or expired meanwhile: the link is of no use now
        db.session.commit()
        return
    try:
        name = "notice" if kind.startswith(NOTICE_PREFIX) else kind
        transport.send(compose(owed, request), name=f"{name}-{request.id}-{owed.id}")
    except Exception as exc:  # any transport failure is recorded and retried, never fatal
        _record_failure(owed, request, exc)
        return
    owed.sent_at = utcnow()
    owed.last_error = None
    record_event(request, "mail_sent", actor="system", note=str(kind))
    db.session.commit()
    log.info("request_id=%s mail=%s state=sent", request.id, kind)


def _describe(exc: Exception) -> str:
    """What went wrong, without the addresses SMTP errors quote."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' (SMTP {code})' if code else ''}"


def _claim(mail_id: int) -> bool:
    """Takes the mail for one delivery attempt; False when it is sent, held or not yet due."""
    now = utcnow()
    claimed = rows_changed(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.next_attempt_at <= now,
            OutgoingMail.attempts < current_app.config["MAIL_MAX_ATTEMPTS"],
        )
        .values(attempts=OutgoingMail.attempts + 1, next_attempt_at=now + SEND_LEASE)
    )
    db.session.commit()
    return bool(claimed)


def _record_failure(owed: OutgoingMail, request: DsarRequest, exc: Exception) -> None:
    """Records a failed attempt and plans the next one, backing off each time."""
    owed.last_error = _describe(exc)
    log.warning(
        "request_id=%s mail=%s state=not-sent attempt=%d error_type=%s",
        request.id, owed.kind, owed.attempts, type(exc).__name__,
    )
    if owed.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        record_event(request, "mail_failed", actor="system", note=f"{owed.kind}: {owed.last_error}")
        db.session.commit()
        return
    delay = current_app.config["MAIL_RETRY_DELAY"] * 2 ** (owed.attempts - 1)
    owed.next_attempt_at = utcnow() + timedelta(seconds=delay)
    db.session.commit()
    dispatch(owed, delay=delay)


def compose(owed: OutgoingMail, request: DsarRequest) -> Message:
    """Builds an owed mail, with a fresh signed link where it carries one."""
    context: dict[str, object] = {
        "request": request, "controller": current_app.config["CONTROLLER_NAME"]
    }
    if owed.kind.startswith(NOTICE_PREFIX):
        context["notice"] = owed.payload or {}
        return Message(
            subject=f"Art. 19 GDPR: personal data you received was {_changed(request)}",
            recipients=[owed.to_address or ""],
            body=render_template("mail/recipient_notice.txt", **context),
        )
    kind = MailKind(owed.kind)
    if kind is MailKind.RESTRICTION_LIFTING:
        context["reason"] = (owed.payload or {}).get("reason", "")
    elif kind is MailKind.VERIFY:
        token = sign(Purpose.VERIFY, {"r": request.id, "n": request.verification_nonce or ""})
        context["link"] = external_url("verification.confirm_page", token=token)
        context["hours"] = current_app.config["VERIFY_MAX_AGE"] // 3600
    elif kind in (MailKind.ANSWER_READY, MailKind.DOCUMENT_READY):
        token = sign(Purpose.REPORT, {"r": request.id})
        context["link"] = external_url("delivery.answer", token=token)
        context["days"] = current_app.config["REPORT_LINK_MAX_AGE"] // 86400
    return Message(
        subject=SUBJECTS[kind],
        recipients=[owed.to_address or request.email],
        body=render_template(f"mail/{kind}.txt", **context),
        html=render_template(f"mail/{kind}.html", **context),
    )


def _changed(request: DsarRequest) -> str:
    """What happened to the data, in a notice's subject line."""
    return "corrected" if request.type == "rectification" else "erased"


def external_url(endpoint: str, **values: str) -> str:
    """An absolute link under BASE_URL, which holds for mails sent by a worker too.

    Built from the URL map rather than url_for, which needs a request or SERVER_NAME,
    neither of which a worker has.
    """
    path = current_app.url_map.bind("dsar").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path
