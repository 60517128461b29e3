"""Benchmarks (`make bench`): how long the slow parts take on a shop of realistic size.

Prints, for a demo shop of --customers customers on SQLite:
- each connector's export for the showcase customer (median of --repeat runs), which must not
  grow with the shop, since every table is read through an index;
- one access request from confirmation to answer (connector jobs, JSON and PDF) through a real
  RQ worker on an embedded Redis.
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
from dsar import create_app, jobcontext, queues
from dsar.connector import Subject
from dsar.embedded_redis import EmbeddedRedis
from dsar.lifecycle import RequestStatus


def main() -> None:
    """Seeds a shop, times the connectors, then times one request end to end."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=20)
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
            _bench(folder, shop_url, redis.url, args.repeat)
        finally:
            redis.stop()


def _bench(folder: Path, shop_url: str, redis_url: str, repeat: int) -> None:
    """Runs the timings against a prepared shop and Redis."""
    from flask_migrate import upgrade

    from dsar import processing
    from dsar.extensions import db
    from dsar.intake import submit
    from dsar.models import DsarRequest
    from dsar.transitions import transition

    app = create_app({
        "DATABASE_URL": f"sqlite:///{folder / 'dsar.db'}", "SHOP_DATABASE_URL": shop_url,
        "REDIS_URL": redis_url, "REPORTS_DIR": str(folder / "reports"),
        "OUTBOX_DIR": str(folder / "outbox"), "SECRET_KEY": "bench-" + "x" * 40,
    })
    jobcontext.bind(app)
    with app.app_context():
        upgrade()
        registry = processing.registry()
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
        processing.start(dsar_request, actor="system")
        db.session.commit()
        processing.enqueue_pending(dsar_request)
        request_id = dsar_request.id
    worker = SimpleWorker(list(queues.ALL_QUEUES), connection=_redis(app))
    started = time.perf_counter()
    worker.work(burst=True)
    elapsed = time.perf_counter() - started
    with app.app_context():
        status = db.session.get(DsarRequest, request_id).status
    print(f"one access request, confirmation to answer: {elapsed:.2f} s ({status})")


def _redis(app):  # type: ignore[no-untyped-def]
    """The app's Redis connection."""
    with app.app_context():
        return queues.redis_connection()


if __name__ == "__main__":
    main()
