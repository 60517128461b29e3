"""Bad input is refused with a 4xx that names what is wrong, never a 500; token pages are
kept out of caches."""

from __future__ import annotations

from sqlalchemy import func, select

from dsar.extensions import db
from dsar.models import DsarRequest


def _count(app) -> int:
    """How many requests are stored."""
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(DsarRequest)))


def test_a_lone_surrogate_is_refused_naming_the_field(app, client):
    """Half a UTF-16 pair can be neither stored nor mailed: the field is named, nothing kept."""
    body = '{"email": "a@example.org", "type": "access", "name": "Anna \\ud800"}'
    response = client.post("/api/v1/requests", data=body, content_type="application/json")
    assert response.status_code == 422
    assert "name" in response.json["error"]["fields"]
    assert _count(app) == 0


def test_a_token_with_a_broken_character_is_an_invalid_link(client):
    """A lone surrogate in a verification token is the same 400 as any tampered token."""
    body = '{"token": "abc\\udc80.def"}'
    response = client.post("/api/v1/requests/verify", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "token_invalid"
    assert "token" in response.json["error"]["fields"]


def test_json_nested_thousands_deep_is_refused_as_broken_json(app, client):
    """Nesting beyond what the parser can follow is a 400, like any body that is not JSON."""
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"email": "a@example.org", "type": "access", "details": ' + deep + "}"
    response = client.post("/api/v1/requests", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"
    assert _count(app) == 0


def test_json_nested_as_deep_as_the_parser_goes_is_refused_naming_the_field(app, client):
    """Just inside the parser's reach, the checks that follow must not fall over either."""
    depth = 900
    body = ('{"email": "a@example.org", "type": "access", "details": '
            + "[" * depth + "]" * depth + "}")
    response = client.post("/api/v1/requests", data=body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.json["error"]["code"] in ("invalid_json", "invalid_request")
    assert _count(app) == 0


def test_verification_pages_are_not_kept_in_caches(client):
    """The token is in the address: the page must not be stored by a browser or proxy."""
    response = client.get("/verify/not-a-token")
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
