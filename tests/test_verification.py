"""Verification: the signed link in the mail, its confirm page, and the API that confirms."""

from __future__ import annotations

from sqlalchemy import func, select

from dsar.extensions import db
from dsar.models import ConnectorTask, DsarRequest, RequestEvent
from dsar.policy.lifecycle import RequestStatus
from dsar.tokens import Purpose, sign
from dsar.transitions import transition
from tests.helpers import csrf_token, link_in

EMAIL = "anna@example.nl"


def _request_and_link(client, inbox, run_jobs, email=EMAIL):
    """Submits a request through the API and returns its id and the link from the real mail."""
    response = client.post("/api/v1/requests", json={"email": email, "type": "access"})
    assert response.status_code == 202
    run_jobs()
    [mail] = inbox.to(email)
    return response.json["id"], link_in(mail)


def _state(app, request_id):
    """What the database says about a request: its status and how many tasks and events."""
    with app.app_context():
        row = db.session.get(DsarRequest, request_id)
        tasks = db.session.scalar(select(func.count()).select_from(ConnectorTask)
                                  .where(ConnectorTask.request_id == request_id))
        events = db.session.scalar(select(func.count()).select_from(RequestEvent)
                                   .where(RequestEvent.request_id == request_id))
        return str(row.status), tasks, events


def _token(link):
    """The token part of a /verify/<token> link."""
    prefix = "/verify/"
    assert link.startswith(prefix)
    return link[len(prefix):]


def _tampered(token):
    """The token with one character in its middle changed."""
    middle = len(token) // 2
    replacement = "B" if token[middle] == "A" else "A"
    return token[:middle] + replacement + token[middle + 1:]


def _form_token(client):
    """A valid CSRF token for the client's session, from the intake form."""
    return csrf_token(client.get("/").text)


# --- the link in the mail ----------------------------------------------------------------


def test_opening_the_link_shows_a_confirm_page_and_changes_nothing(app, client, inbox, run_jobs):
    """Following the link (as a mail scanner would) only shows the confirm button."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    before = _state(app, request_id)
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my request" in page.text
    assert csrf_token(page.text)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    client.get(link)
    assert _state(app, request_id) == before
    assert before[:2] == ("awaiting_verification", 0)


def test_confirming_starts_the_request_and_answers_it(app, client, inbox, run_jobs):
    """POSTing the confirm form verifies the request; the workers then answer it."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    page = client.get(link)
    done = client.post(link, data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200
    assert "your request is confirmed" in done.text
    assert request_id in done.text
    status, tasks, _ = _state(app, request_id)
    assert status == "in_progress"
    assert tasks > 0
    with app.app_context():
        assert db.session.get(DsarRequest, request_id).verified_at is not None
    run_jobs()
    assert _state(app, request_id)[0] == "completed"
    answers = [m for m in inbox.to(EMAIL)
               if m["Subject"] == "The answer to your privacy request is ready"]
    assert len(answers) == 1


def test_confirming_without_csrf_token_changes_nothing(app, client, inbox, run_jobs):
    """A cross-site POST to the link cannot confirm the request."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    client.get(link)
    before = _state(app, request_id)
    response = client.post(link, data={})
    assert response.status_code == 400
    assert _state(app, request_id) == before


def test_a_used_link_gives_409_and_changes_nothing(app, client, inbox, run_jobs):
    """Using the link a second time explains it was used and changes nothing."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    form_token = csrf_token(client.get(link).text)
    assert client.post(link, data={"csrf_token": form_token}).status_code == 200
    run_jobs()
    after_first = _state(app, request_id)
    mails = len(inbox.messages)

    again = client.get(link)
    assert again.status_code == 409
    assert "already been confirmed" in again.text
    assert "Confirm my request" not in again.text
    repost = client.post(link, data={"csrf_token": form_token})
    assert repost.status_code == 409
    assert "already been confirmed" in repost.text
    run_jobs()
    assert _state(app, request_id) == after_first
    assert len(inbox.messages) == mails


def test_a_tampered_link_gives_400(app, client, inbox, run_jobs):
    """A link with one character changed is refused as not valid, on GET and on POST."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    before = _state(app, request_id)
    bad = "/verify/" + _tampered(_token(link))
    page = client.get(bad)
    assert page.status_code == 400
    assert "This link is not valid" in page.text
    response = client.post(bad, data={"csrf_token": _form_token(client)})
    assert response.status_code == 400
    assert _state(app, request_id) == before


def test_an_expired_link_gives_410(app, client, inbox, run_jobs):
    """A link older than VERIFY_MAX_AGE says it expired and confirms nothing."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    before = _state(app, request_id)
    assert client.get(link).status_code == 200, "the link worked before it expired"
    app.config["VERIFY_MAX_AGE"] = -1
    page = client.get(link)
    assert page.status_code == 410
    assert "This link has expired" in page.text
    response = client.post(link, data={"csrf_token": _form_token(client)})
    assert response.status_code == 410
    api = client.post("/api/v1/requests/verify", json={"token": _token(link)})
    assert api.status_code == 410
    assert api.json["error"]["code"] == "token_expired"
    assert _state(app, request_id) == before


def test_the_link_of_an_expired_request_gives_410(app, client, inbox, run_jobs):
    """Once a request expired unverified, its still-fresh link says so and confirms nothing."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    with app.app_context():
        transition(db.session.get(DsarRequest, request_id), RequestStatus.EXPIRED, actor="system")
        db.session.commit()
    before = _state(app, request_id)
    page = client.get(link)
    assert page.status_code == 410
    assert "make a new request" in page.text
    api = client.post("/api/v1/requests/verify", json={"token": _token(link)})
    assert api.status_code == 410
    assert _state(app, request_id) == before


def test_a_token_signed_for_reports_does_not_verify(app, client, inbox, run_jobs):
    """A token made for a report link, with the right request and nonce, opens no confirmation."""
    request_id, _ = _request_and_link(client, inbox, run_jobs)
    with app.app_context():
        nonce = db.session.get(DsarRequest, request_id).verification_nonce
    with app.test_request_context():
        token = sign(Purpose.REPORT, {"r": request_id, "n": nonce})
    before = _state(app, request_id)
    page = client.get(f"/verify/{token}")
    assert page.status_code == 400
    assert "Confirm my request" not in page.text
    api = client.post("/api/v1/requests/verify", json={"token": token})
    assert api.status_code == 400
    assert api.json["error"]["code"] == "token_invalid"
    assert _state(app, request_id) == before


def test_a_token_signed_with_another_key_does_not_verify(app, client, inbox, run_jobs):
    """A verify token signed with a different secret key is not valid."""
    request_id, _ = _request_and_link(client, inbox, run_jobs)
    with app.app_context():
        nonce = db.session.get(DsarRequest, request_id).verification_nonce
    app.config["SECRET_KEY"] = "another-secret-" + "y" * 40
    with app.test_request_context():
        forged = sign(Purpose.VERIFY, {"r": request_id, "n": nonce})
    app.config["SECRET_KEY"] = "test-secret-" + "x" * 40
    api = client.post("/api/v1/requests/verify", json={"token": forged})
    assert api.status_code == 400
    assert _state(app, request_id)[0] == "awaiting_verification"


# --- the API -----------------------------------------------------------------------------


def test_api_confirms_once_then_answers_409(app, client, inbox, run_jobs):
    """The API confirms with the token from the mail; a second use is a 409 error."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    first = client.post("/api/v1/requests/verify", json={"token": _token(link)})
    assert first.status_code == 200
    assert first.json == {"id": request_id, "status": "in_progress"}
    after_first = _state(app, request_id)

    second = client.post("/api/v1/requests/verify", json={"token": _token(link)})
    assert second.status_code == 409
    assert second.headers["Content-Type"] == "application/json"
    assert second.json["error"]["code"] == "token_used"
    assert "already been confirmed" in second.json["error"]["message"]
    assert "token" in second.json["error"]["fields"]
    assert _state(app, request_id) == after_first
    assert client.get(link).status_code == 409, "the page agrees the link is used"


def test_api_without_token_is_422(app, client, inbox, run_jobs):
    """A verify call without a token, or with a non-string one, names the token field."""
    request_id, _ = _request_and_link(client, inbox, run_jobs)
    before = _state(app, request_id)
    for body in ({}, {"token": ""}, {"token": 12345}, ["token"]):
        response = client.post("/api/v1/requests/verify", json=body)
        assert response.status_code == 422, body
        assert response.json["error"]["code"] == "invalid_request"
        assert "token" in response.json["error"]["fields"]
    not_json = client.post("/api/v1/requests/verify", data="token=abc",
                           content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 422
    assert _state(app, request_id) == before


def test_api_with_a_tampered_token_is_400(app, client, inbox, run_jobs):
    """A tampered token is refused as invalid and confirms nothing."""
    request_id, link = _request_and_link(client, inbox, run_jobs)
    before = _state(app, request_id)
    response = client.post("/api/v1/requests/verify", json={"token": _tampered(_token(link))})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "token_invalid"
    assert "not valid" in response.json["error"]["message"]
    assert _state(app, request_id) == before
    assert client.post("/api/v1/requests/verify",
                       json={"token": _token(link)}).status_code == 200, "the real one still works"
