"""Officers' sign-in: passwords, an optional second factor (second_factor), a lock per place
after failures, and a throttle per account for browsers the officer never used (throttle).

Sessions are Flask-Login's, in cookies that are HttpOnly, SameSite=Lax and Secure outside
development. Every sign-in, failed or not, is an entry in the audit trail.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import Field, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from dsar import audit
from dsar.clock import utcnow
from dsar.extensions import db, limiter
from dsar.models import Officer, RequestEvent, SignInLock
from dsar.policy.addresses import AddressError, officer_address
from dsar.web import second_factor, throttle

P = ParamSpec("P")
R = TypeVar("R")

bp = Blueprint("auth", __name__, url_prefix="/console")
login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to see the console."

#: Failures in a row before an officer's account is locked, and for how long.
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
ROLES = ("officer", "admin")


@login_manager.user_loader
def _load(officer_id: str) -> Officer | None:
    """The signed-in officer, from the session."""
    return db.session.get(Officer, int(officer_id)) if officer_id.isdigit() else None


def _an_officer_address(_form: object, field: Field) -> None:
    """Accepts what `dsar officer create` accepts (policy.addresses.officer_address)."""
    try:
        officer_address(field.data or "")
    except AddressError:
        raise ValidationError("Enter an e-mail address.") from None


class SignInForm(FlaskForm):
    """E-mail, password and, for officers who set one up, the current TOTP code."""

    email = StringField("E-mail address",
                        validators=[DataRequired(), Length(max=320), _an_officer_address])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    code = StringField("Code from your authenticator app (if set up)",
                       validators=[Optional(), Length(max=10)])


def _audit_sign_in(kind: str, email: str) -> None:
    """Records a sign-in attempt in the audit trail; the caller commits."""
    audit.append(RequestEvent(request_id=None, kind=kind, actor=email[:120], at=utcnow()))


def check_sign_in(officer: Officer | None, address: str, password: str, code: str | None,
                  client: str, *, known_browser: bool, now: datetime) -> Officer | None:
    """The officer if the credentials hold and this client is not locked out; counts failures.

    `officer` is the one with `address` (normalised), if any. Failures are counted per
    account and client address, so wrong guesses from one place lock that place out of that
    account, and the officer signing in elsewhere is not. From a browser the officer never
    signed in with they also count towards the account's throttle.
    """
    if officer is None:
        throttle.count_failure(address, now, officer=None)
        return None
    lock = db.session.scalar(select(SignInLock).where(
        SignInLock.email == address, SignInLock.client == client[:64]))
    if lock is not None and lock.locked_until and lock.locked_until > now:
        return None
    valid = check_password_hash(officer.password_hash, password)
    if valid and officer.totp_secret:
        valid = second_factor.accept_code(officer, code, now)
    if not valid:
        if lock is None:
            lock = SignInLock(email=address, client=client[:64], failures=0)
            db.session.add(lock)
        lock.failures += 1
        if lock.failures >= MAX_FAILURES:
            lock.locked_until = now + LOCK_FOR
            lock.failures = 0
        if not known_browser:
            throttle.count_failure(address, now, officer)
        return None
    if lock is not None:
        db.session.delete(lock)
    return officer


def _officer_with(address: str) -> Officer | None:
    """The officer who has that (normalised) address."""
    return db.session.scalar(select(Officer).where(Officer.email == address))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"])
def sign_in() -> ResponseReturnValue:
    """The sign-in page; one message for every failure, so it reveals nothing."""
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("console/sign_in.html", form=form), 200 if not form.errors else 422
    address = officer_address(form.email.data or "")
    officer = _officer_with(address)
    known = throttle.is_known_browser(request.cookies.get(throttle.KNOWN_BROWSER_COOKIE), officer)
    now = utcnow()
    wait = 0 if known else throttle.retry_after(address, now)
    if wait:
        db.session.commit()
        # Before the password is looked at: the same answer for a right or a wrong one.
        page = render_template("console/sign_in_throttled.html", minutes=math.ceil(wait / 60))
        return page, 429, {"Retry-After": str(wait)}
    signed_in = check_sign_in(officer, address, form.password.data or "", form.code.data,
                              client=request.remote_addr or "unknown", known_browser=known,
                              now=now)
    # An address no officer has is somebody's typo or a probe: not kept in the trail.
    _audit_sign_in("sign_in" if signed_in else "sign_in_failed",
                   address if officer else "unknown")
    db.session.commit()
    if signed_in is not None:
        login_user(signed_in)
        response = make_response(redirect(_safe_next(request.args.get("next"))))
        throttle.remember_browser(response, signed_in)
        return response
    flash("That did not work. Check your address, password and code; after "
          f"{MAX_FAILURES} failures from one place an account is locked there for a while.",
          "error")
    return render_template("console/sign_in.html", form=form), 200


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """Ends the session (a POST with CSRF, so no link can sign an officer out)."""
    logout_user()
    return redirect(url_for("auth.sign_in"))


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("console.queue")


def officer_required(role: str = "officer") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Lets a console view run only for a signed-in officer with that role (admin has all)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()  # type: ignore[no-any-return]
            if role == "admin" and current_user.role != "admin":
                abort(403)
            return view(*args, **kwargs)

        return guarded

    return decorate
