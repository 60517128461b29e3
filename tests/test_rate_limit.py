"""The intake is rate-limited per client, counted in the shared Redis."""

from __future__ import annotations

from dsar.app import create_app
from dsar.extensions import db
from dsar.settings import load as load_settings


def test_intake_refuses_a_flood_from_one_client(app, redis):
    """After the allowed number of submissions the API answers 429 in its error shape."""
    settings = {name: app.config[name] for name in load_settings()}
    limited = create_app({**settings, "RATELIMIT_ENABLED": True, "RATELIMIT_INTAKE": "3 per hour"})
    client = limited.test_client()
    responses = [
        client.post("/api/v1/requests", json={"email": f"p{i}@example.org", "type": "access"})
        for i in range(5)
    ]
    assert [r.status_code for r in responses] == [202, 202, 202, 429, 429]
    assert responses[-1].json["error"]["code"] == "too_many_requests"
    assert any(key.startswith(b"LIMITS") for key in redis.keys("*")), redis.keys("*")
    with limited.app_context():
        db.engine.dispose()
