"""The cap on failed sign-ins per account, from all places together.

Failures are counted per place too (auth.SignInLock: five wrong passwords lock that place
out of that account for a while). That alone lets an attacker with many addresses guess on
and on. So failures against one account are also counted from everywhere: after
ACCOUNT_FAILURES within WINDOW the account is throttled for THROTTLE_FOR. While throttled,
every attempt on it gets the same 429 with Retry-After, right password or wrong: nothing is
learnt, and no web process is kept waiting.

A throttle that held everyone back would let any stranger lock the officer out, so it holds
back only browsers the officer has not signed in with: a successful sign-in leaves a signed
cookie (KNOWN_BROWSER_COOKIE) naming the officer, and a browser that carries it for the
account it signs in to passes the throttle (its own failures still count towards its place's
lock). The account is never locked.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from dsar import audit
from dsar.extensions import db
from dsar.models import Officer, RequestEvent, SignInThrottle
from dsar.work.sign_in_alerts import THROTTLED

#: Failed sign-ins to one account, from anywhere, within WINDOW before it is throttled.
ACCOUNT_FAILURES = 10
WINDOW = timedelta(minutes=15)
#: How long a throttle lasts. With these numbers strangers get at most 50 guesses in any
#: hour at one account, however many addresses they have: up to 9 before a window ends, then
#: at most four rounds of 10, each followed by a pause.
THROTTLE_FOR = timedelta(minutes=15)
#: The cookie that marks a browser an officer signed in with, and how long it is honoured.
KNOWN_BROWSER_COOKIE = "dsar_officer_browser"
KNOWN_BROWSER_DAYS = 90


def _signer() -> URLSafeTimedSerializer:
    """Signs the known-browser cookie with the app's key, for that purpose alone."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="officer-browser")


def remember_browser(response: Response, officer: Officer) -> None:
    """Marks the browser that just signed in as the officer's."""
    response.set_cookie(
        KNOWN_BROWSER_COOKIE, _signer().dumps(officer.id), max_age=KNOWN_BROWSER_DAYS * 86400,
        path="/console/", httponly=True, samesite="Strict",
        secure=current_app.config["SESSION_COOKIE_SECURE"])


def is_known_browser(cookie: str | None, officer: Officer | None) -> bool:
    """Whether the cookie says an officer signed in with this browser to this account."""
    if not cookie or officer is None:
        return False
    try:
        officer_id = _signer().loads(cookie, max_age=KNOWN_BROWSER_DAYS * 86400)
    except BadSignature:
        return False
    return bool(officer_id == officer.id)


def retry_after(address: str, now: datetime) -> int:
    """Seconds until `address` may be tried again (0: not throttled); a refused attempt is
    counted for the officers to see. The caller commits."""
    row = db.session.get(SignInThrottle, address)
    if row is None or row.throttled_until is None or row.throttled_until <= now:
        return 0
    db.session.execute(update(SignInThrottle).where(SignInThrottle.email == address)
                       .values(refused=SignInThrottle.refused + 1)
                       .execution_options(synchronize_session=False))
    return max(1, math.ceil((row.throttled_until - now).total_seconds()))


def count_failure(address: str, now: datetime, officer: Officer | None) -> None:
    """Counts a failed sign-in to `address` from a browser not known to it; the one that
    reaches the cap starts the throttle and notes it in the audit trail. The caller commits.

    Each step is one conditional statement, so failures arriving at once are all counted
    and only one of them starts the throttle.
    """
    _ensure_row(address, now)
    table = SignInThrottle
    db.session.execute(update(table).where(table.email == address,
                                           table.window_started_at <= now - WINDOW)
                       .values(window_started_at=now, failures=0)
                       .execution_options(synchronize_session=False))
    db.session.execute(update(table).where(table.email == address)
                       .values(failures=table.failures + 1)
                       .execution_options(synchronize_session=False))
    started = db.session.execute(
        update(table)
        .where(table.email == address, table.failures >= ACCOUNT_FAILURES,
               or_(table.throttled_until.is_(None), table.throttled_until <= now))
        .values(throttled_until=now + THROTTLE_FOR, window_started_at=now + THROTTLE_FOR,
                failures=0, refused=0)
        .execution_options(synchronize_session=False))
    if started.rowcount == 1 and officer is not None:  # type: ignore[attr-defined]
        # Only an officer's account is noted: an address nobody has is somebody's probe.
        audit.append(RequestEvent(request_id=None, kind=THROTTLED, at=now, actor=address[:120],
                                  note=f"{ACCOUNT_FAILURES} failed sign-ins within "
                                       f"{WINDOW.seconds // 60} minutes"))


def _ensure_row(address: str, now: datetime) -> None:
    """Makes the address's counter if it has none (two processes may try at once)."""
    if db.session.get(SignInThrottle, address) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(SignInThrottle(email=address, window_started_at=now, failures=0,
                                          refused=0))
    except IntegrityError:
        pass  # the other process made it
