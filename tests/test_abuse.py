"""Nobody can use the service to flood an inbox, put words in its mails, or lift its limits
by taking Redis down."""

from __future__ import annotations

import os
import signal
import time

from redis import Redis
from redis.exceptions import RedisError

from dsar.app import create_app
from dsar.embedded_redis import EmbeddedRedis
from dsar.extensions import db
from dsar.settings import load as load_settings
from tests.helpers import text_of


def _answers(url: str) -> bool:
    """Whether a Redis server answers at that address."""
    try:
        return bool(Redis.from_url(url, socket_timeout=1).ping())
    except RedisError:
        return False


def test_one_address_gets_a_few_verification_mails_a_day_however_often_asked(
    client, inbox, run_jobs
):
    """Six submissions for one address: each answered alike, three mails in its inbox."""
    answers = [client.post("/api/v1/requests", json={"email": "doelwit@example.org",
                                                     "type": "access"}) for _ in range(6)]
    assert {a.status_code for a in answers} == {202}
    assert {a.json["status"] for a in answers} == {"awaiting_verification"}
    run_jobs()
    assert len(inbox.to("doelwit@example.org")) == 3


def test_what_a_stranger_types_is_not_put_in_the_mail(client, inbox, run_jobs):
    """The name is whatever the sender typed; the mail to the address owner does not say it."""
    client.post("/api/v1/requests", json={
        "email": "iemand@example.org", "type": "access",
        "name": "Your account is blocked, call +31 20 000 0000"})
    run_jobs()
    [mail] = inbox.to("iemand@example.org")
    assert "blocked" not in text_of(mail) and "+31" not in text_of(mail)
    assert text_of(mail).startswith("Hello,")


def test_the_intake_limit_holds_while_redis_is_down(app, tmp_path):
    """With the Redis that counts the limits killed, each process counts in its memory."""
    redis = EmbeddedRedis(tmp_path / "limits.rdb")
    settings = {name: app.config[name] for name in load_settings()}
    limited = create_app({**settings, "REDIS_URL": redis.url, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_INTAKE": "3 per hour",
                          "RATELIMIT_STORAGE_URI": "redis+" + redis.url})
    try:
        os.kill(redis.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _answers(redis.url):
            time.sleep(0.05)
        assert not _answers(redis.url)
        client = limited.test_client()
        codes = [client.post("/api/v1/requests", json={"email": f"p{i}@example.org",
                                                       "type": "access"}).status_code
                 for i in range(5)]
        assert codes == [202, 202, 202, 429, 429]
    finally:
        with limited.app_context():
            db.engine.dispose()
