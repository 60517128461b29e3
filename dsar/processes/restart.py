"""How a worker or the scheduler outlives a Redis outage and a long run: it waits for Redis,
then starts afresh in the same process id, so a service manager sees no stop."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

from redis import Redis
from redis.exceptions import RedisError

#: The longest pause, in seconds, between two tries to reach a Redis that went away.
REDIS_RETRY_CAP = 30

#: Linux's prctl option that sends a child a signal when the thread that forked it dies.
PR_SET_PDEATHSIG = 1

#: Whether a job is running in this process now (jobs run in the main thread).
in_job = False


def die_with_parent() -> None:
    """In a process a worker forks between jobs (RQ's scheduler of delayed jobs): be killed
    when the worker dies. A worker killed with SIGKILL gets no chance to stop it, and that
    process would otherwise live on alone, holding its lock, for as long as the machine.

    Not for what a job forks (the PDF renderers' pool): Linux ties the signal to the thread
    that forked, the pool forks replacement workers from a thread of its own, and a worker
    killed when that thread ends may hold the pool's queue lock and hang the job.
    """
    if sys.platform == "linux" and not in_job:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def wait_for_redis(connection: Redis) -> None:
    """Waits, as long as it takes, until Redis answers again; SIGTERM still ends the wait."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    pause = 1.0
    while True:
        try:
            connection.ping()
            return
        except RedisError:
            time.sleep(pause)
            pause = min(pause * 2, REDIS_RETRY_CAP)


def start_afresh() -> None:
    """Replaces this process with a new run of the same command line, keeping its process id.

    The command line as it was given (`sys.orig_argv`), not `sys.argv`: started as
    `python -m dsar worker`, `sys.argv[0]` is a file inside the package, which run as a
    script would put the package's own folder first on the import path.
    """
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # noqa: S606
