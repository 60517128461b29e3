"""An officer's second factor: a TOTP code from an authenticator app, each accepted once.

A code is valid for its 30-second time step and one step either side (clocks drift). Without
more, the same code would sign in a second session within that minute and a half, so the step
of the last code accepted is kept on the officer, and a code of that step or an older one is
refused. The check and the update are one conditional statement: two sessions racing with
one code cannot both win.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from sqlalchemy import or_, update

from dsar.extensions import db
from dsar.models import Officer

#: Time steps either side of now whose codes are taken, for a phone's clock that drifts.
DRIFT_STEPS = 1


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step within the drift whose code `code` is, newest first; None if none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current + DRIFT_STEPS, current - DRIFT_STEPS - 1, -1):
        if hmac.compare_digest(totp.generate_otp(step), code.strip()):
            return step
    return None


def accept_code(officer: Officer, code: str | None, now: datetime) -> bool:
    """Whether `code` is the officer's and not yet used; marks its step used if so (the
    caller commits)."""
    if not officer.totp_secret or not code:
        return False
    step = matching_step(officer.totp_secret, code, now)
    if step is None:
        return False
    spent = db.session.execute(
        update(Officer)
        .where(Officer.id == officer.id,
               or_(Officer.totp_last_step.is_(None), Officer.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))
    return spent.rowcount == 1  # type: ignore[attr-defined]
