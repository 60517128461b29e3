"""The mails dsar owes a requester, each sent once however often a job runs."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_mail import Message
from sqlalchemy import and_, select, update

from dsar import i18n
from dsar.clock import utcnow
from dsar.extensions import db, rows_changed
from dsar.models import DsarRequest, OutgoingMail
from dsar.policy.backoff import retry_delay
from dsar.policy.lifecycle import RequestStatus
from dsar.tokens import Purpose, sign
from dsar.transitions import record_event
from dsar.work import keeping, notices, queues, tasks, transport
from dsar.work.rules import recipients_register

log = logging.getLogger(__name__)


class MailKind(StrEnum):
    """The mails a request can cause; each kind goes out at most once per request."""

    VERIFY = "verify"
    VERIFY_REMINDER = "verify_reminder"  # once, before an unconfirmed request lapses
    ANSWER_READY = "answer_ready"
    DOCUMENT_READY = "document_ready"  # the PDF, made again after the JSON went out alone
    RESTRICTION_LIFTING = "restriction_lifting"
    DENIED = "denied"
    EXTENDED = "extended"
    DELAYED = "delayed"  # a system failed for good: we are on it, and answer by the due date
    # An objection on grounds of the person's situation waits for the officer's weighing.
    OBJECTION_WEIGHED = "objection_weighed"


#: The mails that carry the verification link.
VERIFYING = frozenset({MailKind.VERIFY, MailKind.VERIFY_REMINDER})

#: Art. 19 notices to recipients are of kind "notice:<recipient>", one per recipient.
NOTICE_PREFIX = "notice:"

#: Alerts to officers are of kind "alert:<officer's address>", one per officer and request.
ALERT_PREFIX = "alert:"

#: Follow-up letters of an erasure that carried on are of kind "follow_up:<day>".
FOLLOW_UP_PREFIX = "follow_up:"

SUBJECTS = {
    MailKind.VERIFY: _l("Please confirm your privacy request"),
    MailKind.VERIFY_REMINDER: _l("Reminder: please confirm your privacy request"),
    MailKind.ANSWER_READY: _l("The answer to your privacy request is ready"),
    MailKind.DOCUMENT_READY: _l("The document of your privacy answer is ready"),
    MailKind.RESTRICTION_LIFTING: _l("The restriction of your data will be lifted"),
    MailKind.DENIED: _l("We cannot act on your privacy request"),
    MailKind.EXTENDED: _l("We need more time for your privacy request"),
    MailKind.DELAYED: _l("We are working on your privacy request"),
    MailKind.OBJECTION_WEIGHED: _l("Our privacy officer is weighing your objection"),
}


def notice_kind(recipient: str) -> str:
    """The mail kind of the notice to one recipient."""
    return f"{NOTICE_PREFIX}{recipient}"[:120]


def alert_kind(officer_email: str) -> str:
    """The mail kind of the alert to one officer."""
    return f"{ALERT_PREFIX}{officer_email}"[:120]


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
        if owed.sent_at is None and owed.dropped_reason is None:
            dispatch(owed)


def dispatch(owed: OutgoingMail, delay: int = 0) -> None:
    """Enqueues the delivery of a committed mail row."""
    queues.enqueue(queues.MAIL, queues.DELIVER_MAIL, owed.id, delay=delay)


def deliver(mail_id: int) -> None:
    """Sends an owed mail unless it went out already; a failure is recorded and retried.

    A mail is never given up while it is of use: only one whose purpose has passed (a
    verification link for a request no longer waiting, the link to an answer since deleted)
    is dropped, with the reason kept.
    """
    if not _claim(mail_id):
        return
    owed = db.session.get(OutgoingMail, mail_id)
    request = db.session.get(DsarRequest, owed.request_id) if owed else None
    if owed is None or request is None:
        return
    kind = owed.kind
    useless = _of_no_use(owed, request)
    if useless:
        owed.dropped_reason = useless
        record_event(request, "mail_dropped", actor="system", note=f"{kind}: {useless}")
        db.session.commit()
        return
    try:
        transport.send(compose(owed, request), name=f"{_name(kind)}-{request.id}-{owed.id}")
    except Exception as exc:  # any transport failure is recorded and retried, never fatal
        _record_failure(owed, request, exc)
        return
    owed.sent_at = utcnow()
    owed.last_error = None
    if kind in (MailKind.ANSWER_READY, MailKind.DOCUMENT_READY):
        keeping.link_sent(request, owed.sent_at)
    record_event(request, "mail_sent", actor="system", note=str(kind))
    db.session.commit()
    log.info("request_id=%s mail=%s state=sent", request.id, kind)


def _name(kind: str) -> str:
    """A mail kind as it may appear in a file name or Message-ID (no recipient in it)."""
    for prefix in (NOTICE_PREFIX, ALERT_PREFIX, FOLLOW_UP_PREFIX):
        if kind.startswith(prefix):
            return prefix.rstrip(":")
    return kind


def _of_no_use(owed: OutgoingMail, request: DsarRequest) -> str | None:
    """Why an owed mail would be of no use now, or None while it is."""
    if owed.kind in VERIFYING and request.status != RequestStatus.AWAITING_VERIFICATION:
        return "the request is no longer waiting for its confirmation"
    answer_link = owed.kind in (MailKind.ANSWER_READY, MailKind.DOCUMENT_READY)
    if answer_link and request.answer_deleted_at is not None:
        return "the answer it links to was deleted"
    return None


def _describe(exc: Exception) -> str:
    """What went wrong, without the addresses SMTP errors quote."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}{f' (SMTP {code})' if code else ''}"


def _claim(mail_id: int) -> bool:
    """Takes the mail for one delivery attempt; False when it is done, held or not yet due.

    The claim is committed before the mail is handed to SMTP: a worker killed after the
    server accepted it, before the send was recorded, leaves a claim that lapses after
    MAIL_SEND_LEASE, and the mail goes once more, with the same Message-ID.
    """
    now = utcnow()
    claimed = rows_changed(
        update(OutgoingMail)
        .where(
            OutgoingMail.id == mail_id,
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.dropped_reason.is_(None),
            OutgoingMail.next_attempt_at <= now,
        )
        .values(attempts=OutgoingMail.attempts + 1, next_attempt_at=now + timedelta(
            seconds=current_app.config["MAIL_SEND_LEASE"]))
    )
    db.session.commit()
    return bool(claimed)


def _record_failure(owed: OutgoingMail, request: DsarRequest, exc: Exception) -> None:
    """Records a failed attempt and plans the next, further off each time up to a cap."""
    owed.last_error = _describe(exc)
    log.warning(
        "request_id=%s mail=%s state=not-sent attempt=%d error_type=%s",
        request.id, owed.kind, owed.attempts, type(exc).__name__,
    )
    config = current_app.config
    delay = retry_delay(owed.attempts, config["MAIL_RETRY_DELAY"], config["MAIL_RETRY_MAX_DELAY"])
    owed.next_attempt_at = utcnow() + timedelta(seconds=delay)
    db.session.commit()
    dispatch(owed, delay=delay)


def overdue_filter() -> Any:
    """Mails owed longer than MAIL_OVERDUE_AFTER and still not sent: an officer should know."""
    since = utcnow() - timedelta(seconds=current_app.config["MAIL_OVERDUE_AFTER"])
    return and_(OutgoingMail.sent_at.is_(None), OutgoingMail.dropped_reason.is_(None),
                OutgoingMail.created_at < since)


def message_id(owed: OutgoingMail) -> str:
    """The mail's Message-ID, the same at every attempt, so that a mail sent twice (a crash
    between the server's acceptance and our record of it) reads as one in a mail client."""
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    domain = sender.rpartition("@")[2] or "dsar.invalid"
    return f"<dsar.{owed.request_id}.{owed.id}.{_name(owed.kind)}@{domain}>"


def compose(owed: OutgoingMail, request: DsarRequest) -> Message:
    """Builds an owed mail in its reader's language, with a fresh signed link where it
    carries one."""
    with i18n.for_request(_language(owed, request)):
        return _compose(owed, request)


def _language(owed: OutgoingMail, request: DsarRequest) -> str | None:
    """The language of a mail: the request's for the requester, the one the recipients
    register gives for a recipient's notice, dsar's default for an officer's alert."""
    if owed.kind.startswith(NOTICE_PREFIX):
        return recipients_register().language_of(str((owed.payload or {}).get("recipient")))
    if owed.kind.startswith(ALERT_PREFIX):
        return None
    return request.language


def _compose(owed: OutgoingMail, request: DsarRequest) -> Message:
    """Builds an owed mail in the language in force."""
    context: dict[str, object] = {
        "request": request, "controller": current_app.config["CONTROLLER_NAME"]
    }
    message = _message(owed, request, context)
    message.msgId = message_id(owed)
    return message


def _message(owed: OutgoingMail, request: DsarRequest, context: dict[str, object]) -> Message:
    """The owed mail's recipients, subject and body."""
    if owed.kind.startswith(ALERT_PREFIX):
        context["link"] = external_url("console.detail", request_id=request.id)
        return Message(
            subject=f"Privacy request {request.id[:8]} failed and needs you",
            recipients=[owed.to_address or ""],
            body=render_template("mail/officer_alert.txt", **context),
        )
    if owed.kind.startswith(FOLLOW_UP_PREFIX):
        context["items"] = (owed.payload or {}).get("items", [])
        return Message(
            subject=str(_l("We have finished erasing your data")),
            recipients=[request.email],
            body=render_template("mail/follow_up.txt", **context),
            html=render_template("mail/follow_up.html", **context),
        )
    if owed.kind.startswith(NOTICE_PREFIX):
        notice = owed.payload or {}
        context["notice"] = {**notice,
                             "items": notices.worded(notice.get("items", []))}
        if notice.get("about") == "direct_marketing":
            subject = _l("Art. 21 GDPR: a person objected to direct marketing")
        elif request.type == "rectification":
            subject = _l("Art. 19 GDPR: personal data you received was corrected")
        else:
            subject = _l("Art. 19 GDPR: personal data you received was erased")
        return Message(
            subject=str(subject),
            recipients=[owed.to_address or ""],
            body=render_template("mail/recipient_notice.txt", **context),
        )
    kind = MailKind(owed.kind)
    if kind not in VERIFYING:
        # Every mail after the confirmation leads to the request's status page as well.
        context["status_link"] = external_url(
            "status.page", token=sign(Purpose.STATUS, {"r": request.id}))
    if kind is MailKind.RESTRICTION_LIFTING:
        context["reason"] = (owed.payload or {}).get("reason", "")
    elif kind is MailKind.DELAYED:
        context["stayed_away"] = tasks.stayed_away(request)
    elif kind is MailKind.OBJECTION_WEIGHED:
        context["form_link"] = external_url("intake.form")
    elif kind in VERIFYING:
        token = sign(Purpose.VERIFY, {"r": request.id, "n": request.verification_nonce or ""})
        lapses = request.received_at + timedelta(seconds=current_app.config["VERIFY_MAX_AGE"])
        context["lapses"] = f"{i18n.day(lapses)}, {lapses:%H:%M} UTC"
        context["link"] = external_url("verification.confirm_page", token=token)
        context["hours"] = current_app.config["VERIFY_MAX_AGE"] // 3600
    elif kind in (MailKind.ANSWER_READY, MailKind.DOCUMENT_READY):
        token = sign(Purpose.REPORT, {"r": request.id})
        context["link"] = external_url("delivery.answer", token=token)
        context["days"] = current_app.config["REPORT_LINK_MAX_AGE"] // 86400
    return Message(
        subject=str(SUBJECTS[kind]),
        recipients=[owed.to_address or request.email],
        body=render_template(f"mail/{kind}.txt", **context),
        html=render_template(f"mail/{kind}.html", **context),
    )


def external_url(endpoint: str, **values: str) -> str:
    """An absolute link under BASE_URL, which holds for mails sent by a worker too.

    Built from the URL map rather than url_for, which needs a request or SERVER_NAME,
    neither of which a worker has.
    """
    path = current_app.url_map.bind("dsar").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path
