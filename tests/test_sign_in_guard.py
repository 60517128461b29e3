"""The officers' door: a TOTP code works once, failures against one account from anywhere
throttle it without locking the officer out, nothing personal is kept in a browser's cache,
and the sign-in form takes every address `dsar officer create` takes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsar.cli import cli
from dsar.clock import utcnow
from dsar.extensions import db
from dsar.models import SignInThrottle
from dsar.web.officers import create_officer, find_officer
from dsar.web.security import CACHEABLE
from dsar.work import reminders, sweep
from tests.helpers import csrf_token, every_route, text_of

OFFICER = "olga@cplus.example"
PASSWORD = "correct horse battery"


@pytest.fixture
def officer(app: Flask) -> str:
    """An officer with a second factor set up; returns its TOTP secret."""
    with app.app_context():
        created = create_officer(OFFICER, PASSWORD, role="admin")
        created.totp_secret = pyotp.random_base32()
        db.session.commit()
        return str(created.totp_secret)


def _browser(app: Flask, address: str) -> FlaskClient:
    """A browser of its own, at a client address of its own."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def _sign_in(browser: FlaskClient, password: str = PASSWORD, code: str = "",
             email: str = OFFICER):
    """Signs in through the form; returns the response."""
    token = csrf_token(browser.get("/console/sign-in").text)
    return browser.post("/console/sign-in", data={
        "csrf_token": token, "email": email, "password": password, "code": code})


def _a_minute_ago_at(second: int) -> datetime:
    """A moment in the last minute, at `second`: a fixed place in a 30-second TOTP step, and
    never in the future (a session signed in the future is refused as expired)."""
    return (utcnow() - timedelta(minutes=1)).replace(second=second)


# --- a TOTP code works once ----------------------------------------------------------------


def test_a_code_replayed_in_a_second_session_is_refused(app, officer):
    """The code that signed in one browser does not sign in another, even within its step."""
    with time_machine.travel(_a_minute_ago_at(5), tick=False):
        code = pyotp.TOTP(officer).now()
        assert _sign_in(_browser(app, "198.51.100.1"), code=code).status_code == 302
        again = _sign_in(_browser(app, "198.51.100.2"), code=code)
    assert again.status_code == 200 and "That did not work" in again.text


def test_an_older_code_inside_the_window_is_refused_after_a_newer_one(app, officer):
    """The previous step's code is still within the drift allowed, but older than the code
    accepted last: refused. The next step's code, used later, signs in."""
    totp = pyotp.TOTP(officer)
    with time_machine.travel(_a_minute_ago_at(35), tick=False) as clock:
        now = utcnow()
        assert _sign_in(_browser(app, "198.51.100.1"), code=totp.at(now)).status_code == 302
        older = totp.at(now - timedelta(seconds=30))
        assert "That did not work" in _sign_in(_browser(app, "198.51.100.2"), code=older).text
        clock.shift(30)
        assert _sign_in(_browser(app, "198.51.100.3"), code=totp.now()).status_code == 302


# --- a cap per account, never a lock-out ------------------------------------------------------


def _sixty_failures_from_thirty_places(app: Flask) -> list[int]:
    """Two wrong passwords from each of 30 addresses; returns the statuses."""
    return [_sign_in(_browser(app, f"203.0.113.{place}"), password=f"guess {place}-{n}").status_code
            for place in range(1, 31) for n in range(2)]


def test_failures_from_many_places_throttle_the_account_for_everyone_unknown(app, officer):
    """After ten failures from anywhere, further attempts get 429 with Retry-After, the right
    password the same reply as a wrong one; after Retry-After the right one signs in."""
    del officer  # a password alone: no code is set up for this officer
    with app.app_context():
        find_officer(OFFICER).totp_secret = None
        db.session.commit()
    with time_machine.travel(utcnow(), tick=False) as clock:
        statuses = _sixty_failures_from_thirty_places(app)
        assert statuses[:10] == [200] * 10
        assert statuses[10:] == [429] * 50
        wrong = _sign_in(_browser(app, "192.0.2.50"), password="another guess")
        right = _sign_in(_browser(app, "192.0.2.51"))
        assert (right.status_code, right.text) == (wrong.status_code, wrong.text)
        assert right.status_code == 429 and "Sign-in paused" in right.text
        wait = int(right.headers["Retry-After"])
        assert 0 < wait <= 15 * 60
        clock.shift(wait - 1)
        assert _sign_in(_browser(app, "192.0.2.52")).status_code == 429
        clock.shift(1)
        assert _sign_in(_browser(app, "192.0.2.53")).status_code == 302


def test_a_stranger_cannot_lock_the_officer_out(app, officer, inbox):
    """The officer's own browser, at their own address, signs in throughout an attack, is
    told of it on the queue, and every officer reads of it in the digest."""
    own = _browser(app, "198.51.100.20")
    with time_machine.travel(_a_minute_ago_at(5), tick=False) as clock:
        assert _sign_in(own, code=pyotp.TOTP(officer).now()).status_code == 302
        own.post("/console/sign-out", data={"csrf_token": csrf_token(own.get("/console/").text)})
        _sixty_failures_from_thirty_places(app)
        # A stranger at the officer's own address is throttled like any other.
        assert _sign_in(_browser(app, "198.51.100.20")).status_code == 429
        clock.shift(30)
        assert _sign_in(own, code=pyotp.TOTP(officer).now()).status_code == 302
        queue = own.get("/console/").text
    assert "Sign-in to your account was paused" in queue
    assert "10 failed sign-ins within 15 minutes" in queue
    assert "51 further attempts refused" in queue
    with app.app_context():
        create_officer("adam@cplus.example", PASSWORD)
        db.session.commit()
        assert reminders.send_digest() == 2
    [digest] = inbox.to("adam@cplus.example")
    assert "sign-in paused 1 times" in digest["Subject"]
    assert f"- {OFFICER}, " in text_of(digest)
    assert "51 further attempts refused" in text_of(digest)


# --- one rule for officers' addresses --------------------------------------------------------


def test_an_officer_created_with_a_reserved_domain_signs_in(app, monkeypatch):
    """`dsar officer create` takes olga@cplus.test; so does the sign-in form."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    made = app.test_cli_runner().invoke(cli, ["officer", "create", " Olga@Cplus.TEST "],
                                        input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    response = _sign_in(_browser(app, "198.51.100.9"), email="olga@cplus.test")
    assert response.status_code == 302, response.text
    refused = app.test_cli_runner().invoke(cli, ["officer", "create", "olga"],
                                           input=PASSWORD + "\n")
    assert refused.exit_code != 0 and "not an e-mail address" in refused.output
    assert _sign_in(_browser(app, "198.51.100.9"), email="olga").status_code == 422


# --- nothing personal kept in a cache ---------------------------------------------------------


def test_every_route_but_the_files_for_everyone_is_no_store(app, officer):
    """Walked from the URL map, signed out and signed in: every response carries
    `Cache-Control: no-store`, except the few files that are the same for everyone."""
    walked = list(every_route(app))
    assert len(walked) >= 45, walked
    signed_in = _browser(app, "198.51.100.30")
    assert _sign_in(signed_in, code=pyotp.TOTP(officer).now()).status_code == 302
    token = csrf_token(signed_in.get("/console/").text)
    for browser in (app.test_client(), signed_in):
        for method, path, endpoint in walked:
            response = browser.open(path, method=method,
                                    data={"csrf_token": token} if method == "POST" else None)
            response.close()
            if endpoint in CACHEABLE:
                assert "no-store" not in response.headers.get("Cache-Control", ""), path
            else:
                assert response.headers.get("Cache-Control") == "no-store", \
                    (method, path, response.status_code)
    assert signed_in.get("/console/").headers["Cache-Control"] == "no-store"


def test_the_sweep_drops_counters_that_said_nothing_for_a_day(app):
    """Probes of addresses nobody has leave counters; the sweep drops those a day old and
    keeps the ones still counting."""
    with app.app_context():
        now = utcnow()
        db.session.add_all([
            SignInThrottle(email="probe@example.org", window_started_at=now - timedelta(days=2),
                           failures=3, refused=0),
            SignInThrottle(email=OFFICER, window_started_at=now - timedelta(minutes=5),
                           failures=4, refused=0)])
        db.session.commit()
        sweep.sweep()
        kept = db.session.scalars(select(SignInThrottle.email)).all()
    assert kept == [OFFICER]
