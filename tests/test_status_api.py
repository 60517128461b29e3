"""The officers' status API and the `dsar officer` commands that give access to it."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from dsar.cli import cli
from dsar.extensions import db
from dsar.models import ApiToken, Officer
from tests.conftest import OFFICER

PASSWORD = "a-long-password-123"  # noqa: S105 - a test officer's password


@pytest.fixture
def request_id(client):
    """The id of a stored access request."""
    response = client.post("/api/v1/requests", json={"email": "anna@example.nl", "type": "access"})
    assert response.status_code == 202
    return response.json["id"]


@pytest.fixture
def invoke(app, monkeypatch):
    """Runs a `dsar` command against the test app; returns click's result."""
    # FlaskGroup marks the process as run from the CLI; keep that out of other tests.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")
    runner = app.test_cli_runner()

    def run(*args, stdin=None):
        """Runs `dsar ARGS...` with `stdin` as standard input."""
        return runner.invoke(cli, list(args), input=stdin)

    return run


def _bearer(token):
    """The Authorization header for an API token."""
    return {"Authorization": f"Bearer {token}"}


def _assert_unauthorized(response):
    """The response is the API's 401 error, with a challenge and no data."""
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]["code"] == "unauthorized"
    assert "Bearer" in response.json["error"]["message"]
    assert "anna@example.nl" not in response.text
    assert "status" not in response.json


# --- the status API ----------------------------------------------------------------------


def test_status_without_a_token_is_401(client, request_id, officer_token):
    """No Authorization header: 401 with a Bearer challenge."""
    _assert_unauthorized(client.get(f"/api/v1/requests/{request_id}"))


def test_status_with_a_wrong_token_is_401(client, request_id, officer_token):
    """A token nobody was given is refused."""
    _assert_unauthorized(client.get(f"/api/v1/requests/{request_id}",
                                    headers=_bearer(officer_token + "x")))
    _assert_unauthorized(client.get(f"/api/v1/requests/{request_id}", headers=_bearer("")))


@pytest.mark.parametrize("scheme", ["Basic", "Token", "Bearer:"])
def test_status_with_another_scheme_is_401(client, request_id, officer_token, scheme):
    """A real token under another scheme than Bearer is refused."""
    _assert_unauthorized(client.get(f"/api/v1/requests/{request_id}",
                                    headers={"Authorization": f"{scheme} {officer_token}"}))


def test_status_with_a_token_shows_the_request(client, request_id, officer_token):
    """An officer's token reads the request's type, status and dates."""
    response = client.get(f"/api/v1/requests/{request_id}", headers=_bearer(officer_token))
    assert response.status_code == 200
    body = response.json
    assert body["id"] == request_id
    assert body["type"] == "access"
    assert body["status"] == "awaiting_verification"
    assert body["received_at"].endswith("Z") and body["due_at"].endswith("Z")
    assert body["due_at"] > body["received_at"]
    assert body["verified_at"] is None and body["answered_at"] is None
    assert body["tasks"] == []


@pytest.mark.parametrize("unknown", ["0" * 32, "x" * 100, "not-a-request", "%C3%A9"])
def test_status_of_an_unknown_request_is_a_404_json_error(client, officer_token, unknown):
    """An id that does not exist is a JSON 404, not an HTML page."""
    response = client.get(f"/api/v1/requests/{unknown}", headers=_bearer(officer_token))
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["message"]


def test_status_of_an_id_with_a_nul_character_is_404(client, officer_token):
    """An id no request can have is a 404 on every database, never a 500."""
    response = client.get("/api/v1/requests/a%00b", headers=_bearer(officer_token))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_using_a_token_is_noted(app, client, request_id, officer_token):
    """A token's last use is recorded, so an officer can see which tokens are alive."""
    client.get(f"/api/v1/requests/{request_id}", headers=_bearer(officer_token))
    with app.app_context():
        [api_token] = db.session.scalars(select(ApiToken)).all()
        assert api_token.last_used_at is not None


# --- the CLI -----------------------------------------------------------------------------


def test_officer_create_reads_the_password_from_input(app, invoke):
    """`officer create` stores the officer with a hashed password read from standard input."""
    result = invoke("officer", "create", " Officer@Cplus.Example ", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert f"Created officer {OFFICER}." in result.output
    assert PASSWORD not in result.output
    with app.app_context():
        officer = db.session.scalars(select(Officer)).one()
        assert officer.email == OFFICER
        assert officer.role == "officer"
        assert officer.password_hash != PASSWORD
        assert check_password_hash(officer.password_hash, PASSWORD)


def test_officer_create_refuses_a_short_password(app, invoke):
    """A password under 12 characters fails with a clear message and creates nobody."""
    result = invoke("officer", "create", OFFICER, stdin="short-pw\n")
    assert result.exit_code != 0
    assert "the password needs at least 12 characters" in result.output
    with app.app_context():
        assert db.session.scalars(select(Officer)).all() == []


def test_officer_create_refuses_a_second_officer_with_the_address(app, invoke):
    """Creating an officer twice fails with a clear message and keeps one officer."""
    assert invoke("officer", "create", OFFICER, stdin=PASSWORD + "\n").exit_code == 0
    result = invoke("officer", "create", OFFICER.upper(), stdin=PASSWORD + "\n")
    assert result.exit_code != 0
    assert "exists already" in result.output
    with app.app_context():
        assert len(db.session.scalars(select(Officer)).all()) == 1


def test_officer_token_prints_a_working_token_stored_only_as_its_hash(
    app, client, invoke, request_id
):
    """`officer token` prints a token that opens the API; the database holds only its SHA-256."""
    assert invoke("officer", "create", OFFICER, stdin=PASSWORD + "\n").exit_code == 0
    result = invoke("officer", "token", OFFICER)
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert len(token) >= 32 and " " not in token

    response = client.get(f"/api/v1/requests/{request_id}", headers=_bearer(token))
    assert response.status_code == 200
    assert response.json["id"] == request_id

    with app.app_context():
        rows = db.session.execute(select(ApiToken.__table__)).all()
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_each_officer_token_is_new(app, client, invoke, request_id):
    """Two `officer token` runs print two different tokens that both work."""
    invoke("officer", "create", OFFICER, stdin=PASSWORD + "\n")
    first = invoke("officer", "token", OFFICER).output.strip()
    second = invoke("officer", "token", OFFICER).output.strip()
    assert first != second
    for token in (first, second):
        assert client.get(f"/api/v1/requests/{request_id}",
                          headers=_bearer(token)).status_code == 200


def test_officer_token_for_an_unknown_officer_fails_clearly(app, invoke):
    """Asking a token for an address that is no officer fails and stores nothing."""
    result = invoke("officer", "token", "nobody@cplus.example")
    assert result.exit_code != 0
    assert "no officer with address nobody@cplus.example" in result.output
    with app.app_context():
        assert db.session.scalars(select(ApiToken)).all() == []
