"""What officers are told of sign-in throttles (on the console's queue and in the digest),
and the throttles' counters cleared once they say nothing more (by the sweep)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from dsar.extensions import db
from dsar.models import RequestEvent, SignInThrottle

#: The audit trail's word for a sign-in throttle that began (dsar.web.throttle).
THROTTLED = "sign_in_throttled"


@dataclass(frozen=True)
class Throttle:
    """One throttle of an account: when it began, why, and how many attempts it refused
    (counted for the account's latest throttle only)."""

    account: str
    at: datetime
    reason: str
    refused: int | None


def throttles_since(since: datetime, account: str | None = None) -> list[Throttle]:
    """The throttles that began since `since`, newest first; of one account if given."""
    query = select(RequestEvent).where(RequestEvent.kind == THROTTLED, RequestEvent.at >= since)
    if account is not None:
        query = query.where(RequestEvent.actor == account)
    events = db.session.scalars(query.order_by(RequestEvent.id.desc())).all()
    latest: set[str] = set()
    found = []
    for event in events:
        refused = None
        if event.actor not in latest:
            latest.add(event.actor)
            counter = db.session.get(SignInThrottle, event.actor)
            refused = counter.refused if counter is not None else None
        found.append(Throttle(event.actor, event.at, event.note or "", refused))
    return found


def forget_stale(now: datetime) -> int:
    """Drops counters that have said nothing for a day (most are probes of addresses nobody
    has); returns how many. The caller commits."""
    result = db.session.execute(SignInThrottle.__table__.delete().where(
        SignInThrottle.window_started_at < now - timedelta(days=1)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
