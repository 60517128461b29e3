"""The web form for corrections and restrictions: what is needed is asked, errors are shown."""

from __future__ import annotations

from sqlalchemy import select

from dsar.extensions import db
from dsar.models import DsarRequest
from tests.helpers import csrf_token


def _post(client, **fields):
    """Submits the form with a fresh CSRF token."""
    token = csrf_token(client.get("/").text)
    return client.post("/", data={"csrf_token": token, "email": "anna@example.nl", **fields})


def test_correction_without_values_is_shown_again_with_the_reason(app, client):
    """Choosing a correction but filling in nothing asks for the right values."""
    page = _post(client, type="rectification")
    assert page.status_code == 422
    assert "Give the fields to correct" in page.text
    with app.app_context():
        assert db.session.scalars(select(DsarRequest)).all() == []


def test_malformed_correction_names_its_field_and_keeps_what_was_typed(client):
    """A phone number that is not one is marked at its field; the typed values stay."""
    page = _post(client, type="rectification", **{"corrections-phone": "call me",
                                                   "corrections-city": "Utrecht"})
    assert page.status_code == 422
    assert "Give a phone number of digits" in page.text
    assert 'value="Utrecht"' in page.text


def test_correction_from_the_form_is_stored(app, client):
    """Filled-in values become the request's corrections, in their usual form."""
    page = _post(client, type="rectification", **{"corrections-postal_code": "3511ax",
                                                   "corrections-country": "nl"})
    assert page.status_code == 303
    with app.app_context():
        [stored] = db.session.scalars(select(DsarRequest)).all()
        assert stored.corrections == {"postal_code": "3511 AX", "country": "NL"}


def test_restriction_needs_a_ground(app, client):
    """A restriction without a reason is refused; with one it is stored."""
    assert _post(client, type="restriction").status_code == 422
    assert _post(client, type="restriction", ground="accuracy_contested").status_code == 303
    with app.app_context():
        [stored] = db.session.scalars(select(DsarRequest)).all()
        assert stored.restriction_ground == "accuracy_contested"
