"""Starts an RQ worker for dsar's queues, or with --cron the scheduler of periodic jobs.

Runs on any machine pointed at the same database and Redis (DSAR_DATABASE_URL,
DSAR_REDIS_URL); start as many as the load needs, and one scheduler.
"""

from __future__ import annotations

import argparse
import logging

from rq import Worker
from rq.cron import CronScheduler

from dsar.app import create_app
from dsar.work import jobcontext, jobs, queues

#: How often the sweep looks for lost work, in seconds.
SWEEP_INTERVAL = 60


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments and runs a worker or the scheduler until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--cron", action="store_true", help="run the periodic-job scheduler")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    app = create_app()
    jobcontext.bind(app)
    with app.app_context():
        connection = queues.redis_connection()
    if args.cron:
        scheduler = CronScheduler(connection=connection)
        scheduler.register(jobs.sweep, queue_name=queues.MAINTENANCE, interval=SWEEP_INTERVAL)
        scheduler.register(jobs.end_retention, queue_name=queues.MAINTENANCE,
                           interval=app.config["RETENTION_SWEEP_INTERVAL"])
        scheduler.register(jobs.mail_digest, queue_name=queues.MAINTENANCE,
                           interval=app.config["DIGEST_INTERVAL"])
        scheduler.start()
        return
    worker = Worker(list(queues.ALL_QUEUES), connection=connection)
    worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
