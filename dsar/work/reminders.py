"""The officers' digest: what falls due within a week, what is overdue, and mails that could
not be sent (a daily job)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_mail import Message
from sqlalchemy import select

from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import DsarRequest, Officer, OutgoingMail, RequestEvent
from dsar.policy.lifecycle import OPEN_STATUSES
from dsar.work import deferrals, holds, queues, sign_in_alerts, transport
from dsar.work.content import OVER_RETENTION
from dsar.work.mails import external_url, overdue_filter

log = logging.getLogger(__name__)

DUE_SOON = timedelta(days=7)
DAY = 86400


def send_digest() -> int:
    """Mails every officer the requests due within 7 days and the overdue ones.

    Returns:
        How many officers were mailed (none when nothing is due).
    """
    now = utcnow()
    # Once a day however often the job runs (a restarted scheduler starts its interval anew).
    redis, day_key = queues.redis_connection(), f"dsar:digest:{now.date()}"
    if not redis.set(day_key, 1, nx=True, ex=DAY):
        return 0
    try:
        return _send(now)
    except Exception:
        redis.delete(day_key)  # not sent after all: the next run tries again
        raise


def _send(now: datetime) -> int:
    """Mails the digest to every officer; returns how many were mailed."""
    urgent = db.session.scalars(
        select(DsarRequest)
        .where(DsarRequest.status.in_(OPEN_STATUSES), DsarRequest.due_at < now + DUE_SOON)
        .order_by(DsarRequest.due_at)
    ).all()
    stuck = db.session.scalars(
        select(OutgoingMail).where(overdue_filter()).order_by(OutgoingMail.created_at)
    ).all()
    kept_too_long = db.session.scalars(
        select(RequestEvent).where(
            RequestEvent.kind == OVER_RETENTION,
            RequestEvent.at >= now - timedelta(seconds=current_app.config["DIGEST_INTERVAL"]))
        .order_by(RequestEvent.id)
    ).all()
    # Erasures that ran by themselves but did not read back as done: tried on every run.
    not_erased = [f"{hold.connector}: {hold.category} {hold.record_key}, its duty ended "
                  f"{hold.retain_until.isoformat()} (request {hold.request_id[:8]})"
                  for hold in holds.overdue_holds(now.date())] + [
        f"{event.note}, its contract ended (request {(event.request_id or '')[:8]})"
        for event in db.session.scalars(select(RequestEvent).where(
            RequestEvent.kind == deferrals.NOT_ERASED,
            RequestEvent.at >= now - timedelta(seconds=current_app.config["DIGEST_INTERVAL"])))]
    throttled = sign_in_alerts.throttles_since(
        now - timedelta(seconds=current_app.config["DIGEST_INTERVAL"]))
    if not urgent and not stuck and not kept_too_long and not not_erased and not throttled:
        return 0
    overdue = [r for r in urgent if r.due_at < now]
    soon = [r for r in urgent if r.due_at >= now]
    links = {r.id: external_url("console.detail", request_id=r.id)
             for r in urgent} | {m.request_id: external_url("console.detail",
                                                             request_id=m.request_id)
                                 for m in stuck} | {
        e.request_id: external_url("console.detail", request_id=e.request_id)
        for e in kept_too_long if e.request_id}
    body = render_template("mail/digest.txt", overdue=overdue, soon=soon, stuck=stuck,
                           kept_too_long=kept_too_long, not_erased=not_erased, links=links,
                           throttled=throttled, now=now)
    subject = f"Privacy requests: {len(overdue)} overdue, {len(soon)} due within 7 days"
    if stuck:
        subject += f", {len(stuck)} mails not sent"
    if kept_too_long:
        subject += f", {len(kept_too_long)} answers found data kept too long"
    if not_erased:
        subject += f", {len(not_erased)} records not erased"
    if throttled:
        subject += f", sign-in paused {len(throttled)} times"
    officers = db.session.scalars(select(Officer).order_by(Officer.id)).all()
    for officer in officers:
        message = Message(subject=subject, recipients=[officer.email], body=body)
        transport.send(message, name=f"digest-{now.date()}-{officer.id}")
    log.info("digest officers=%d overdue=%d soon=%d", len(officers), len(overdue), len(soon))
    return len(officers)
