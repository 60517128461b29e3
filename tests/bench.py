"""Benchmarks (`make bench`): how long the slow parts take on a shop of realistic size.

Prints, for a demo shop of --customers customers on SQLite:
- each connector's export for the showcase customer (median of --repeat runs), which must not
  grow with the shop, since every table is read through an index;
- one access request from confirmation to answer (connector jobs, JSON and PDF) through a real
  RQ worker on an embedded Redis;
- the console's queue and dashboard over --requests stored requests.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rq import SimpleWorker
from sqlalchemy import create_engine

from connectors.shop.schema import create_demo_shop
from connectors.shop.seed import DEMO_EMAIL, seed_shop
from dsar.app import create_app
from dsar.connector import Subject
from dsar.embedded_redis import EmbeddedRedis
from dsar.policy.lifecycle import RequestStatus
from dsar.registry import current_registry
from dsar.work import jobcontext, queues


def main() -> None:
    """Seeds a shop, times the connectors, then times one request end to end."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100_000,
                        help="requests in the queue for the console timings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shop_url = f"sqlite:///{folder / 'shop.db'}"
        started = time.perf_counter()
        engine = create_engine(shop_url)
        create_demo_shop(engine)
        seed_shop(engine, customers=args.customers, seed=1)
        print(f"seeded {args.customers} customers in {time.perf_counter() - started:.1f} s")
        redis = EmbeddedRedis(folder / "redis.rdb")
        try:
            _bench(folder, shop_url, redis.url, args.repeat, args.requests)
        finally:
            redis.stop()


def _bench(folder: Path, shop_url: str, redis_url: str, repeat: int, queue_size: int) -> None:
    """Runs the timings against a prepared shop and Redis."""
    from flask_migrate import upgrade

    from dsar.extensions import db
    from dsar.models import DsarRequest
    from dsar.transitions import transition
    from dsar.web.intake import submit
    from dsar.work import tasks

    app = create_app({
        "DATABASE_URL": f"sqlite:///{folder / 'dsar.db'}", "SHOP_DATABASE_URL": shop_url,
        "REDIS_URL": redis_url, "REPORTS_DIR": str(folder / "reports"),
        "OUTBOX_DIR": str(folder / "outbox"), "SECRET_KEY": "bench-" + "x" * 40,
    })
    jobcontext.bind(app)
    with app.app_context():
        upgrade()
        registry = current_registry()
        subject = Subject(email=DEMO_EMAIL)
        for name in registry.names:
            connector = registry.create(name, app.config)
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                records = list(connector.export(subject))
                timings.append(time.perf_counter() - started)
            print(f"export {name:<14} {len(records):>3} records  "
                  f"median {statistics.median(timings) * 1000:6.1f} ms")

        dsar_request = submit({"email": DEMO_EMAIL, "type": "access"})
        transition(dsar_request, RequestStatus.VERIFIED, actor="requester")
        tasks.start(dsar_request, actor="system")
        db.session.commit()
        tasks.enqueue_pending(dsar_request)
        request_id = dsar_request.id
    worker = SimpleWorker(list(queues.ALL_QUEUES), connection=_redis(app))
    started = time.perf_counter()
    worker.work(burst=True)
    elapsed = time.perf_counter() - started
    with app.app_context():
        status = db.session.get(DsarRequest, request_id).status
    print(f"one access request, confirmation to answer: {elapsed:.2f} s ({status})")
    _bench_queue(app, queue_size)


def _bench_queue(app, size: int) -> None:  # type: ignore[no-untyped-def]
    """Times the console's queue pages over `size` stored requests."""
    import uuid
    from datetime import timedelta

    from dsar.clock import utcnow
    from dsar.extensions import db
    from dsar.models import DsarRequest
    from dsar.web.officers import create_officer

    now = utcnow()
    statuses = ["in_progress", "completed", "awaiting_approval", "completed", "denied"]
    kinds = ["access", "erasure", "rectification", "objection"]
    rows = [{
        "id": uuid.uuid4().hex, "type": kinds[i % 4], "status": statuses[i % 5],
        "email": f"person{i}@example.org", "received_at": now - timedelta(minutes=i),
        "due_at": now + timedelta(days=30) - timedelta(minutes=i),
    } for i in range(size)]
    with app.app_context():
        db.session.execute(DsarRequest.__table__.insert(), rows)
        create_officer("bench@cplus.example", "bench-password-123")
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        from dsar.models import Officer
        with app.app_context():
            officer_id = db.session.scalar(
                db.select(Officer.id).where(Officer.email == "bench@cplus.example"))
        session["_user_id"] = str(officer_id)
        session["_fresh"] = True
    for label, path in [("queue, first page", "/console/"),
                        ("queue, page 500 of all", "/console/?status=all&page=500"),
                        ("queue, overdue", "/console/?overdue=1"),
                        ("queue, search by e-mail", f"/console/?q=person{size // 2}@example.org"),
                        ("dashboard", "/console/dashboard")]:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
        print(f"{label:<26} over {size} requests: median "
              f"{statistics.median(timings) * 1000:6.1f} ms")


def _redis(app):  # type: ignore[no-untyped-def]
    """The app's Redis connection."""
    with app.app_context():
        return queues.redis_connection()


if __name__ == "__main__":
    main()
