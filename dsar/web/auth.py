"""Officers' sign-in: passwords, an optional second factor, and lock-out after failures.

Sessions are Flask-Login's, in cookies that are HttpOnly, SameSite=Lax and Secure outside
development. Every sign-in, failed or not, is an entry in the audit trail.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import pyotp
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from dsar import audit
from dsar.clock import utcnow
from dsar.extensions import db, limiter
from dsar.models import Officer, RequestEvent, SignInLock
from dsar.policy.addresses import normalise_email

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


class SignInForm(FlaskForm):
    """E-mail, password and, for officers who set one up, the current TOTP code."""

    email = StringField("E-mail address", validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    code = StringField("Code from your authenticator app (if set up)",
                       validators=[Optional(), Length(max=10)])


def _audit_sign_in(kind: str, email: str) -> None:
    """Records a sign-in attempt in the audit trail; the caller commits."""
    audit.append(RequestEvent(request_id=None, kind=kind, actor=email[:120], at=utcnow()))


def check_sign_in(email: str, password: str, code: str | None, client: str) -> Officer | None:
    """The officer if the credentials hold and this client is not locked out; counts failures.

    Failures are counted per account and client address, so wrong guesses from one place
    lock that place out of that account, and the officer signing in elsewhere is not.
    """
    address = normalise_email(email)
    officer = db.session.scalar(select(Officer).where(Officer.email == address))
    if officer is None:
        return None
    now = utcnow()
    lock = db.session.scalar(select(SignInLock).where(
        SignInLock.email == address, SignInLock.client == client[:64]))
    if lock is not None and lock.locked_until and lock.locked_until > now:
        return None
    valid = check_password_hash(officer.password_hash, password)
    if valid and officer.totp_secret:
        valid = bool(code) and pyotp.TOTP(officer.totp_secret).verify(code or "", valid_window=1)
    if not valid:
        if lock is None:
            lock = SignInLock(email=address, client=client[:64], failures=0)
            db.session.add(lock)
        lock.failures += 1
        if lock.failures >= MAX_FAILURES:
            lock.locked_until = now + LOCK_FOR
            lock.failures = 0
        return None
    if lock is not None:
        db.session.delete(lock)
    return officer


def _officer_exists(email: str) -> bool:
    """Whether an officer has that address."""
    return db.session.scalar(
        select(Officer.id).where(Officer.email == normalise_email(email))
    ) is not None


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("20 per 15 minutes", methods=["POST"])
def sign_in() -> ResponseReturnValue:
    """The sign-in page; one message for every failure, so it reveals nothing."""
    form = SignInForm()
    if form.validate_on_submit():
        officer = check_sign_in(form.email.data or "", form.password.data or "", form.code.data,
                                client=request.remote_addr or "unknown")
        # An address no officer has is somebody's typo or a probe: not kept in the trail.
        known = _officer_exists(form.email.data or "")
        address = normalise_email(form.email.data or "") if known else "unknown"
        _audit_sign_in("sign_in" if officer else "sign_in_failed", address)
        db.session.commit()
        if officer is not None:
            login_user(officer)
            return redirect(_safe_next(request.args.get("next")))
        flash("That did not work. Check your address, password and code; after "
              f"{MAX_FAILURES} failures from one place an account is locked there for a while.",
              "error")
    return render_template("console/sign_in.html", form=form), 200 if not form.errors else 422


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
