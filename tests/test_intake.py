"""Intake through the JSON API and the web form: what is accepted, refused and stored."""

from __future__ import annotations

import calendar

import pytest
from sqlalchemy import func, select

from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest
from tests.helpers import csrf_token

STRANGER = "stranger@example.org"


def _stored(app) -> int:
    """How many requests the database holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(DsarRequest))


def _row(app, request_id):
    """The stored request, detached from the session so its fields stay readable."""
    with app.app_context():
        row = db.session.get(DsarRequest, request_id)
        db.session.expunge(row)
        return row


def _assert_nothing_happened(app, inbox, run_jobs):
    """Nothing was stored and, once the workers ran, no mail went out."""
    assert _stored(app) == 0
    run_jobs()
    assert inbox.messages == []


# --- the JSON API ------------------------------------------------------------------------


def test_api_accepts_a_request_and_sends_the_confirmation_mail(app, client, inbox, run_jobs):
    """A valid request is answered 202 awaiting verification, stored, and mailed a link."""
    response = client.post(
        "/api/v1/requests",
        json={"email": " Anna.Bakker@Example.NL ", "type": "access", "name": "Anna Bakker"},
    )
    assert response.status_code == 202
    assert set(response.json) == {"id", "status"}
    assert response.json["status"] == "awaiting_verification"
    row = _row(app, response.json["id"])
    assert row.email == "anna.bakker@example.nl"
    assert row.name == "Anna Bakker"
    assert str(row.type) == "access"
    run_jobs()
    [mail] = inbox.to("anna.bakker@example.nl")
    assert mail["Subject"] == "Please confirm your privacy request"


def test_known_and_unknown_addresses_get_the_same_answer(client, inbox, run_jobs, seeded_shop):
    """Intake never reveals whether the shop knows an address."""
    known = client.post("/api/v1/requests", json={"email": DEMO_EMAIL, "type": "access"})
    unknown = client.post("/api/v1/requests", json={"email": STRANGER, "type": "access"})
    assert known.status_code == unknown.status_code == 202
    assert known.headers["Content-Type"] == unknown.headers["Content-Type"]
    assert set(known.json) == set(unknown.json) == {"id", "status"}
    assert known.json["status"] == unknown.json["status"] == "awaiting_verification"
    assert len(known.json["id"]) == len(unknown.json["id"])
    assert known.json["id"] != unknown.json["id"]
    run_jobs()
    [known_mail] = inbox.to(DEMO_EMAIL)
    [unknown_mail] = inbox.to(STRANGER)
    assert known_mail["Subject"] == unknown_mail["Subject"]


def test_due_at_is_one_calendar_month_after_receipt(app, client):
    """The stored deadline is the same time on the same day one month on, clamped to month end."""
    response = client.post("/api/v1/requests", json={"email": STRANGER, "type": "portability"})
    row = _row(app, response.json["id"])
    received, due = row.received_at, row.due_at
    year, month = (received.year + 1, 1) if received.month == 12 else (received.year,
                                                                         received.month + 1)
    day = min(received.day, calendar.monthrange(year, month)[1])
    assert (due.year, due.month, due.day) == (year, month, day)
    assert due.time() == received.time()
    assert row.verified_at is None, "the deadline runs from receipt, before any verification"


GOOD = {"email": "anna@example.nl", "type": "access"}

BAD_BODIES = [
    pytest.param({"type": "access"}, 422, "invalid_request", "email", id="missing-email"),
    pytest.param({"email": "anna.example.nl", "type": "access"}, 422, "invalid_request", "email",
                 id="malformed-email"),
    pytest.param({"email": "anna@example.nl"}, 422, "invalid_request", "type", id="missing-type"),
    pytest.param({**GOOD, "type": "teleport"}, 422, "invalid_request", "type", id="unknown-type"),
    pytest.param({**GOOD, "type": "rectification"}, 422, "invalid_request", "corrections",
                 id="rectification-without-corrections"),
    pytest.param({**GOOD, "type": "rectification", "corrections": {"shoe_size": "44"}}, 422,
                 "invalid_request", "corrections.shoe_size", id="unknown-correction"),
    pytest.param({**GOOD, "type": "rectification", "corrections": {"phone": "call me"}}, 422,
                 "invalid_request", "corrections.phone", id="malformed-phone"),
    pytest.param({**GOOD, "type": "rectification",
                  "corrections": {"country": "NL", "postal_code": "10155"}}, 422,
                 "invalid_request", "corrections.postal_code", id="malformed-dutch-postal-code"),
    pytest.param({**GOOD, "corrections": {"city": "Utrecht"}}, 422, "invalid_request",
                 "corrections", id="corrections-on-access"),
    pytest.param({**GOOD, "type": "restriction"}, 422, "invalid_request", "ground",
                 id="restriction-without-ground"),
    pytest.param({**GOOD, "name": "x" * 201}, 422, "invalid_request", "name", id="long-name"),
    pytest.param({**GOOD, "details": "x" * 4001}, 422, "invalid_request", "details",
                 id="long-details"),
    pytest.param({**GOOD, "customer_number": "1" * 65}, 422, "invalid_request", "customer_number",
                 id="long-customer-number"),
    pytest.param({**GOOD, "name": 42}, 422, "invalid_request", "name", id="number-as-name"),
    pytest.param({**GOOD, "email": ["anna@example.nl"]}, 422, "invalid_request", "email",
                 id="list-as-email"),
    pytest.param({**GOOD, "phone": "0612345678"}, 422, "invalid_request", "phone",
                 id="unknown-field"),
    pytest.param([GOOD], 422, "invalid_request", "_body", id="json-array"),
]


@pytest.mark.parametrize(("body", "status", "code", "field"), BAD_BODIES)
def test_api_refuses_a_bad_body_naming_the_field(app, client, inbox, run_jobs, body, status,
                                                 code, field):
    """Bad input is a 4xx JSON error naming the field; nothing is stored or mailed."""
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    error = response.json["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["fields"][field], str) and error["fields"][field]
    _assert_nothing_happened(app, inbox, run_jobs)


@pytest.mark.parametrize("field", ["name", "customer_number", "details"])
def test_api_refuses_a_nul_character(app, client, inbox, run_jobs, field):
    """A NUL character in a text field is a 422 naming the field, never a 500."""
    response = client.post("/api/v1/requests", json={**GOOD, field: "Anna\x00Bakker"})
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    _assert_nothing_happened(app, inbox, run_jobs)


def test_api_names_every_bad_field_at_once(app, client, inbox, run_jobs):
    """A client learns about all its mistakes from one answer, not one at a time."""
    response = client.post("/api/v1/requests", json={"email": 5, "type": 6, "colour": "red"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"email", "type", "colour"}
    _assert_nothing_happened(app, inbox, run_jobs)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param("email=anna%40example.nl&type=access",
                     "application/x-www-form-urlencoded", id="form-encoded"),
        pytest.param('{"email": "anna@example.nl", "type": ', "application/json",
                     id="broken-json"),
        pytest.param("", "application/json", id="empty-body"),
    ],
)
def test_api_refuses_a_body_that_is_not_json(app, client, inbox, run_jobs, data, content_type):
    """A body that is not JSON is a 400 JSON error; nothing is stored or mailed."""
    response = client.post("/api/v1/requests", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json["error"]["code"] == "invalid_json"
    assert "JSON" in response.json["error"]["message"]
    assert response.json["error"]["fields"] == {}
    _assert_nothing_happened(app, inbox, run_jobs)


def test_rectification_stores_the_normalised_corrections(app, client):
    """Valid corrections are kept as the officer will see them: trimmed, in their usual form."""
    response = client.post("/api/v1/requests", json={
        **GOOD, "type": "rectification",
        "corrections": {"postal_code": " 3511ax ", "country": "nl", "city": " Utrecht"},
    })
    assert response.status_code == 202
    with app.app_context():
        stored = db.session.get(DsarRequest, response.json["id"])
        assert stored.corrections == {"postal_code": "3511 AX", "country": "NL", "city": "Utrecht"}


# --- the web form ------------------------------------------------------------------------


def test_form_has_labelled_fields_and_a_csrf_token(client):
    """The form labels every field and carries a CSRF token."""
    page = client.get("/")
    assert page.status_code == 200
    for name in ("email", "type", "name", "customer_number", "details"):
        assert f'<label for="{name}">' in page.text
        assert f'id="{name}"' in page.text
    assert csrf_token(page.text)
    assert 'value="access"' in page.text
    assert 'value="erasure"' in page.text


def test_form_post_without_csrf_token_is_refused(app, client, inbox, run_jobs):
    """A form post without the CSRF token is refused and stores nothing."""
    client.get("/")
    response = client.post("/", data={"email": "anna@example.nl", "type": "access"})
    assert response.status_code == 400
    assert "Check your e-mail" not in response.text
    _assert_nothing_happened(app, inbox, run_jobs)


def test_bad_form_post_shows_the_form_again_with_what_was_typed(app, client, inbox, run_jobs):
    """A bad post re-shows the form (422) with the typed values kept and the error shown."""
    token = csrf_token(client.get("/").text)
    response = client.post(
        "/",
        data={
            "csrf_token": token,
            "email": "anna.example.nl",
            "type": "portability",
            "name": "Anna Bakker",
            "details": "Orders since 2019",
        },
    )
    assert response.status_code == 422
    assert 'value="Anna Bakker"' in response.text
    assert 'value="anna.example.nl"' in response.text
    assert "Orders since 2019" in response.text
    assert "Enter an e-mail address such as name@example.nl." in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<option selected value=\"portability\">" in response.text
    _assert_nothing_happened(app, inbox, run_jobs)


def test_bad_form_post_escapes_what_was_typed(app, client, inbox, run_jobs):
    """Typed text is shown back escaped, never as markup."""
    token = csrf_token(client.get("/").text)
    response = client.post(
        "/", data={"csrf_token": token, "email": "", "type": "access",
                   "name": '<script>alert("x")</script>'},
    )
    assert response.status_code == 422
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text
    assert "Enter your e-mail address." in response.text
    _assert_nothing_happened(app, inbox, run_jobs)


def test_form_refuses_a_nul_character(app, client, inbox, run_jobs):
    """A NUL character pasted into the form re-shows it with an error, never a 500 page."""
    token = csrf_token(client.get("/").text)
    response = client.post(
        "/", data={"csrf_token": token, "email": "anna@example.nl", "type": "access",
                   "details": "Orders\x00 since 2019"},
    )
    assert response.status_code == 422
    assert 'id="details-error"' in response.text
    _assert_nothing_happened(app, inbox, run_jobs)


def test_good_form_post_redirects_to_the_submitted_page(app, client, inbox, run_jobs):
    """A good post stores the request, redirects (303) to /submitted and sends the mail."""
    token = csrf_token(client.get("/").text)
    response = client.post(
        "/",
        data={"csrf_token": token, "email": "Anna@Example.NL", "type": "access",
              "name": " Anna Bakker ", "customer_number": "", "details": ""},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/submitted")
    assert _stored(app) == 1
    with app.app_context():
        row = db.session.scalars(select(DsarRequest)).one()
        assert (row.email, row.name, row.customer_number, row.details) == (
            "anna@example.nl", "Anna Bakker", None, None)
        assert row.status == "awaiting_verification"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Check your e-mail" in page.text
    assert "24 hours" in page.text
    run_jobs()
    [mail] = inbox.to("anna@example.nl")
    assert mail["Subject"] == "Please confirm your privacy request"
