"""`dsar scheduler`: puts the periodic jobs (the sweep, the end of retention holds, the
officers' digest) on the maintenance queue, from one process at a time per Redis.

RQ's CronScheduler holds no lock: two of them would each enqueue every job, and the officers
would get two digests. So a scheduler first takes a lock in Redis, held under an expiry and
renewed on every round; a second scheduler against the same Redis stands by, looking every
few seconds, and takes over when the first stops (at once after SIGTERM, within
`LOCK_SECONDS` after a crash). Before each round the lock is renewed: a scheduler that lost
it (paused for longer than the expiry, say, while another took over) enqueues nothing and
goes back to standing by.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from types import FrameType

from redis import Redis
from redis.exceptions import RedisError
from rq.cron import CronJob, CronScheduler

from dsar.app import create_app
from dsar.processes import logs, restart
from dsar.work import jobcontext, jobs, queues

#: The Redis key of the lock; its value says which scheduler holds it (host:pid).
LOCK_KEY = "dsar:scheduler:lock"
#: Seconds the lock outlives a scheduler that stopped renewing it (one that crashed).
LOCK_SECONDS = 60
#: The longest a scheduler sleeps between rounds, well within the lock's expiry.
ROUND_SECONDS = 15
#: Seconds between a standing-by scheduler's looks at the lock.
STANDBY_SECONDS = 2

log = logging.getLogger("dsar.scheduler")

# Renews or releases the lock only while it holds this scheduler's value.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class LockLost(Exception):
    """Another scheduler holds the lock now: this one must enqueue nothing more."""


class SchedulerLock:
    """The one lock in Redis that lets one scheduler at a time enqueue the periodic jobs."""

    def __init__(self, connection: Redis, holder: str) -> None:
        """A lock taken in the name of `holder` (host:pid: the same after a restart in place,
        so a scheduler that started afresh takes back its own lock at once)."""
        self.connection = connection
        self.holder = holder

    def take(self) -> bool:
        """Takes the lock when it is free or already this holder's; says whether it did."""
        if self.connection.set(LOCK_KEY, self.holder, nx=True, ex=LOCK_SECONDS):
            return True
        return self.renew()

    def renew(self) -> bool:
        """Extends the lock's expiry if this holder still holds it; says whether it did."""
        return bool(self.connection.eval(_RENEW, 1, LOCK_KEY, self.holder, LOCK_SECONDS))

    def release(self) -> None:
        """Lets the lock go, if this holder holds it, so one standing by takes over at once."""
        self.connection.eval(_RELEASE, 1, LOCK_KEY, self.holder)

    def held_by(self) -> str:
        """Who holds the lock now ("" when nobody does)."""
        value = self.connection.get(LOCK_KEY)
        return value.decode() if isinstance(value, bytes) else ""


class SoleScheduler(CronScheduler):
    """RQ's CronScheduler that enqueues only while it holds the lock."""

    def __init__(self, connection: Redis, lock: SchedulerLock) -> None:
        """A scheduler on `connection` guarded by `lock`."""
        super().__init__(connection=connection)
        self.lock = lock

    def enqueue_jobs(self) -> list[CronJob]:
        """Renews the lock, then enqueues what is due; enqueues nothing without the lock."""
        if not self.lock.renew():
            raise LockLost(self.lock.held_by())
        return super().enqueue_jobs()

    def calculate_sleep_interval(self) -> float:
        """Sleeps no longer than a round, so the lock is renewed well before it expires."""
        return min(super().calculate_sleep_interval(), ROUND_SECONDS)


class _Stopped(Exception):
    """SIGTERM or SIGINT while standing by."""


def _raise_stopped(_signum: int, _frame: FrameType | None) -> None:
    """Turns a stop signal into an exception that ends the wait."""
    raise _Stopped


def stand_by(lock: SchedulerLock) -> bool:
    """Waits until the lock is this scheduler's; says whether it is (False: told to stop)."""
    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGINT, _raise_stopped)
    try:
        if lock.take():
            return True
        log.info("process=scheduler state=standing-by held_by=%s", lock.held_by())
        while not lock.take():
            time.sleep(STANDBY_SECONDS)
        return True
    except _Stopped:
        return False
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def run() -> None:
    """Runs the scheduler until stopped: stands by while another holds the lock, then puts
    each periodic job on the maintenance queue at its interval."""
    logs.to_stdout()
    app = create_app()
    jobcontext.bind(app)
    with app.app_context():
        connection = queues.redis_connection()
    lock = SchedulerLock(connection, f"{socket.gethostname()}:{os.getpid()}")
    try:
        while stand_by(lock):
            log.info("process=scheduler state=scheduling holder=%s", lock.holder)
            scheduler = SoleScheduler(connection, lock)
            scheduler.register(jobs.sweep, queue_name=queues.MAINTENANCE,
                               interval=app.config["SWEEP_INTERVAL"])
            scheduler.register(jobs.end_retention, queue_name=queues.MAINTENANCE,
                               interval=app.config["RETENTION_SWEEP_INTERVAL"])
            scheduler.register(jobs.mail_digest, queue_name=queues.MAINTENANCE,
                               interval=app.config["DIGEST_INTERVAL"])
            try:
                scheduler.start()
            except LockLost as lost:
                log.warning("process=scheduler state=lock-lost held_by=%s", lost.args[0])
                continue
            lock.release()
            return
    except RedisError as exc:
        log.warning("process=scheduler state=redis-lost error_type=%s", type(exc).__name__)
        restart.wait_for_redis(connection)
        restart.start_afresh()
