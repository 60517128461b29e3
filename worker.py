"""Starts an RQ worker for dsar's queues, or with --cron the scheduler of periodic jobs:
`python worker.py` is `dsar worker`, `python worker.py --cron` is `dsar scheduler`.

Runs on any machine pointed at the same database and Redis (DSAR_DATABASE_URL,
DSAR_REDIS_URL); start as many workers as the load needs, and a scheduler (a second one
stands by). How they run, restart in place and stop is told in dsar.processes.
"""

from __future__ import annotations

import argparse

from dsar.processes import scheduler, worker


def main(argv: list[str] | None = None) -> None:
    """Parses the arguments and runs a worker or the scheduler until stopped."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--cron", action="store_true", help="run the periodic-job scheduler")
    parser.add_argument("--max-jobs", type=int, default=worker.MAX_JOBS,
                        help="start afresh after this many jobs (0: never)")
    parser.add_argument("--queues", default="", metavar="KIND,...",
                        help=f"only these queues (of {', '.join(worker.KINDS)})")
    args = parser.parse_args(argv)
    if args.cron:
        scheduler.run()
        return
    try:
        names = worker.queue_names([kind.strip() for kind in args.queues.split(",")
                                    if kind.strip()])
    except ValueError as exc:
        parser.error(str(exc))
    worker.run(names, burst=args.burst, max_jobs=args.max_jobs)


if __name__ == "__main__":
    main()
