"""The officer console through the real app: sign-in, who may see what, the queue, decisions."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from dsar.answer import findings
from dsar.cli import cli
from dsar.clock import utcnow
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent
from dsar.web.officers import create_officer
from tests.helpers import confirm_request, csrf_token, every_route, text_of

PASSWORD = "correct horse battery"
# Routes anyone may use: the person's side, the sign-in page, static files, the health check.
PUBLIC = {"intake.form", "intake.form_submit", "intake.submitted", "intake.api_submit",
          "verification.confirm_page", "verification.confirm_submit", "verification.api_confirm",
          "delivery.answer", "delivery.answer_file", "delivery.answer_spreadsheets", "status.page",
          "auth.sign_in", "auth.sign_out", "static", "api.openapi", "api.schema", "health.health"}
ADMIN_ONLY = {"console.officers"}


@pytest.fixture
def officers(app):
    """An officer and an admin."""
    with app.app_context():
        create_officer("olga@cplus.example", PASSWORD)
        create_officer("adam@cplus.example", PASSWORD, role="admin")
        db.session.commit()


def _sign_in(client, email, password=PASSWORD, code=""):
    """Signs in through the form; returns the response."""
    token = csrf_token(client.get("/console/sign-in").text)
    return client.post("/console/sign-in", data={
        "csrf_token": token, "email": email, "password": password, "code": code})


def _guarded_routes(app):
    """Every (method, path, endpoint) a signed-out visitor must be refused."""
    return [route for route in every_route(app) if route[2] not in PUBLIC]


def test_every_route_refuses_visitors_and_the_wrong_role(app, client, officers):
    """Without a session or token every officer route is refused; admin pages need an admin."""
    walked = list(_guarded_routes(app))
    assert len(walked) >= 20, walked
    # A valid CSRF token, so it is the sign-in check that refuses, not the CSRF check.
    token = {"csrf_token": csrf_token(client.get("/console/sign-in").text)}
    for method, path, _endpoint in walked:
        response = client.open(path, method=method, data=token if method == "POST" else None)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
            assert response.json["error"]["code"] == "unauthorized"
        else:
            assert response.status_code == 302, (method, path, response.status_code)
            assert "/console/sign-in" in response.headers["Location"], (method, path)
    _sign_in(client, "olga@cplus.example")
    for method, path, endpoint in walked:
        if endpoint in ADMIN_ONLY:
            response = client.open(path, method=method,
                                   data={"csrf_token": csrf_token(client.get("/console/").text)})
            assert response.status_code == 403, (method, path)


def test_sign_in_reaches_the_queue_and_is_audited(app, client, officers):
    """A right password signs in; the sign-in is in the audit trail."""
    response = _sign_in(client, "olga@cplus.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    assert "Requests" in client.get("/console/").text
    with app.app_context():
        kinds = db.session.scalars(select(RequestEvent.kind).where(
            RequestEvent.request_id.is_(None))).all()
    assert kinds == ["sign_in"]


def test_repeated_failures_lock_out_that_place_not_the_officer(app, client, officers):
    """After five wrong passwords from one address even the right one is refused there;
    the officer signing in from another address is not locked out by a stranger."""
    for _ in range(5):
        assert "That did not work" in _sign_in(client, "olga@cplus.example", "wrong").text
    refused = _sign_in(client, "olga@cplus.example")
    assert "That did not work" in refused.text
    assert client.get("/console/").status_code == 302

    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert _sign_in(elsewhere, "olga@cplus.example").status_code == 302
    assert "Requests" in elsewhere.get("/console/").text


def test_a_second_factor_is_asked_once_set_up(app, client, officers):
    """With TOTP set up, the password alone is not enough; the current code is."""
    result = app.test_cli_runner().invoke(cli, ["officer", "totp", "olga@cplus.example"])
    uri = result.output.strip()
    assert uri.startswith("otpauth://totp/")
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert "That did not work" in _sign_in(client, "olga@cplus.example").text
    ok = _sign_in(client, "olga@cplus.example", code=pyotp.TOTP(secret).now())
    assert ok.status_code == 302


def test_next_never_leads_off_the_site(client, officers):
    """A ?next= pointing elsewhere lands on the queue instead."""
    token = csrf_token(client.get("/console/sign-in").text)
    response = client.post("/console/sign-in?next=//evil.example/x", data={
        "csrf_token": token, "email": "olga@cplus.example", "password": PASSWORD})
    assert response.headers["Location"].endswith("/console/")


def test_queue_puts_overdue_first_and_filters(app, client, inbox, run_jobs, officers):
    """The most urgent request leads, overdue ones are marked, filters narrow the list."""
    late = confirm_request(client, inbox, run_jobs, {"email": "late@example.org", "type": "access"})
    client.post("/api/v1/requests", json={"email": "new@example.org", "type": "objection"})
    with app.app_context():
        db.session.get(DsarRequest, late).due_at = utcnow() - timedelta(days=3)
        db.session.get(DsarRequest, late).status = "in_progress"
        db.session.commit()
    _sign_in(client, "olga@cplus.example")
    page = client.get("/console/").text
    assert page.index("late@example.org") < page.index("new@example.org")
    assert "overdue by 3 days" in page
    assert "1 open request overdue" in page
    only = client.get("/console/?type=objection").text
    assert "new@example.org" in only and "late@example.org" not in only
    found = client.get(f"/console/?q={late[:8]}").text
    assert "late@example.org" in found and "new@example.org" not in found


def test_deny_sends_the_reasons_and_the_complaint_route(app, client, inbox, run_jobs, officers):
    """A denial with reasons ends the request and tells the person where to complain."""
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": "dora@example.org", "type": "erasure"})
    _sign_in(client, "olga@cplus.example")
    page = client.get(f"/console/requests/{request_id}").text
    client.post(f"/console/requests/{request_id}/deny", data={
        "csrf_token": csrf_token(page), "reason": "Manifestly unfounded: repeated daily."})
    run_jobs()
    with app.app_context():
        assert db.session.get(DsarRequest, request_id).status == "denied"
    [mail] = [m for m in inbox.to("dora@example.org") if "cannot act" in str(m["Subject"])]
    body = text_of(mail)
    assert "Manifestly unfounded" in body and "Autoriteit Persoonsgegevens" in body
    assert "court" in body


def test_extend_once_moves_the_deadline_and_tells_the_person(
    app, client, inbox, run_jobs, officers
):
    """An extension by two months is told to the person; a second one is refused."""
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": "eli@example.org", "type": "erasure"})
    with app.app_context():
        before = db.session.get(DsarRequest, request_id).due_at
    _sign_in(client, "olga@cplus.example")
    token = csrf_token(client.get(f"/console/requests/{request_id}").text)
    client.post(f"/console/requests/{request_id}/extend",
                data={"csrf_token": token, "months": "2", "reason": "Many systems to search."})
    again = client.post(f"/console/requests/{request_id}/extend", follow_redirects=True,
                        data={"csrf_token": token, "months": "1", "reason": "More."})
    assert "extended already" in again.text
    run_jobs()
    with app.app_context():
        after = db.session.get(DsarRequest, request_id).due_at
    assert (after.year * 12 + after.month) - (before.year * 12 + before.month) == 2
    [mail] = [m for m in inbox.to("eli@example.org") if "more time" in str(m["Subject"])]
    assert "Many systems to search." in text_of(mail)


def test_reviewed_access_answer_withholds_the_redacted_passage(
    app, client, inbox, run_jobs, seeded_shop, officers
):
    """With review on, the answer waits; a withheld passage is gone from what is released."""
    app.config["REVIEW_ACCESS_REPORTS"] = True
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    with app.app_context():
        assert db.session.get(DsarRequest, request_id).status == "awaiting_approval"
    _sign_in(client, "olga@cplus.example")
    page = client.get(f"/console/requests/{request_id}").text
    assert "Review before release" in page and "third parties" in page
    forms = [dict(re.findall(r'name="(connector|category|key|field)" value="([^"]*)"', form))
             for form in re.findall(r'<form[^>]*class="redact">(.*?)</form>', page, re.S)]
    target = next(f for f in forms if f["category"] == "support_notes" and f["field"] == "body")
    with app.app_context():
        held = db.session.get(DsarRequest, request_id)
        body = next(r["data"]["body"] for t in held.tasks if t.connector == "support"
                    for r in findings.records(request_id, t.id, "support_notes")
                    if r["key"] == target["key"])
    passage = " ".join(body.split()[:2])
    token = csrf_token(page)
    client.post(f"/console/requests/{request_id}/redact", data={
        "csrf_token": token, **target, "passage": passage, "reason": "Concerns another person"})
    client.post(f"/console/requests/{request_id}/approve", data={"csrf_token": token})
    run_jobs()
    with app.app_context():
        assert db.session.get(DsarRequest, request_id).status == "completed"
    report = client.get(f"/console/requests/{request_id}/answer/report.json")
    text = report.get_data(as_text=True)
    report.close()
    assert "[withheld: Concerns another person]" in text
