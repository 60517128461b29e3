"""`GET /health`: whether this web process can do its work, for load balancers and service
managers. It reaches dsar's database and Redis and says which it cannot reach; nothing
about any request or person. It is not rate-limited (a balancer asks every few seconds)
and never cached. The API's description lists it as `/api/v1/health`, served alike.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dsar.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

#: Seconds a check may wait for Redis: a balancer gives up on a slow answer anyway.
REDIS_TIMEOUT = 2.0
OK = "ok"
UNREACHABLE = "unreachable"


def _database() -> str:
    """Whether dsar's database answers a query."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health database=unreachable error_type=%s", type(exc).__name__)
        return UNREACHABLE
    finally:
        db.session.rollback()
    return OK


def _redis() -> str:
    """Whether Redis answers a ping, asked once on a connection of the check's own (the
    app's connection retries for seconds, longer than a balancer waits)."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return UNREACHABLE
    connection = current_app.extensions.get("dsar.health.redis")
    if connection is None:
        connection = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                    socket_connect_timeout=REDIS_TIMEOUT,
                                    retry=Retry(NoBackoff(), 0))
        current_app.extensions["dsar.health.redis"] = connection
    try:
        connection.ping()
    except RedisError as exc:
        log.warning("health redis=unreachable error_type=%s", type(exc).__name__)
        return UNREACHABLE
    return OK


@bp.get("/health")
@bp.get("/api/v1/health")
@limiter.exempt
def health() -> tuple[Response, int]:
    """200 when the database and Redis both answer, else 503 naming the one that does not."""
    checks = {"database": _database(), "redis": _redis()}
    healthy = all(state == OK for state in checks.values())
    response = jsonify(status=OK if healthy else "unavailable", checks=checks)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503
