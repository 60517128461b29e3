"""Processes the fault tests start and break: workers, the scheduler, an SMTP server and a
database's network. Each is the test's own, started on loopback and stopped by its pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

from tests.helpers import ROOT, stop

#: What a worker logs at the end of each sweep (dsar.work.sweep).
SWEEP_LOGGED = " dsar.work.sweep INFO sweep tasks="


def wait_for(find: Callable[[], Any], what: str, seconds: float) -> Any:
    """Polls until `find` returns something true, or fails saying what did not happen."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")


def worker_env(app: Flask, database_url: str, redis_url: str) -> dict[str, str]:
    """The environment of a worker process on the test's database, Redis and SMTP server."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DSAR_ENV": "testing",
        "DSAR_DATABASE_URL": database_url,
        "DSAR_REDIS_URL": redis_url,
        "DSAR_SHOP_DATABASE_URL": app.config["SHOP_DATABASE_URL"],
        "DSAR_MAIL_SERVER": "127.0.0.1",
        "DSAR_MAIL_PORT": str(app.config["MAIL_PORT"]),
        "DSAR_SECRET_KEY": app.config["SECRET_KEY"],
        "DSAR_BASE_URL": "http://dsar.test",
    }


def redis_server(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """A redis-server of the test's own on loopback, empty, answering before it returns."""
    server = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "redis-server"), "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    connection = Redis(port=port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            connection.ping()
            return server
        except RedisError:
            time.sleep(0.05)
    raise AssertionError("redis-server did not start")


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, by pid: the process gets no chance to tidy up."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def children_of(pid: int) -> set[int]:
    """The processes whose parent is `pid` now (read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone while we looked
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether a process of that pid still runs (a zombie counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Processes:
    """The processes of one test, all stopped by pid when it ends."""

    def __init__(self, app: Flask, database_url: str, redis_url: str, folder: Path) -> None:
        """Takes its settings from the test's app."""
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []
        self.env = worker_env(app, database_url, redis_url)

    def start(self, *args: str, env: dict[str, str] | None = None,
              name: str = "process", cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        """Starts `python ARGS` in the project folder (or `cwd`); its output goes to a log
        file."""
        log = (self.folder / f"{name}-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, *args], env={**self.env, **(env or {})}, cwd=cwd,
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.started.append(process)
        return process

    def worker(self, *, gated: bool = False, **env: str) -> subprocess.Popen[bytes]:
        """A worker as production starts it, or with the gated test connector alone."""
        program = ["-m", "tests.programs.gated_worker"] if gated else [str(ROOT / "worker.py")]
        return self.start(*program, env=env, name="worker")

    def scheduler(self, **env: str) -> subprocess.Popen[bytes]:
        """The scheduler of periodic jobs (the sweep among them)."""
        return self.start(str(ROOT / "worker.py"), "--cron", env=env, name="scheduler")

    def ready(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        """Starts a helper program and waits until it says it is ready."""
        process = self.start(*args, name=name)
        log = self.folder / f"{name}-{len(self.started) - 1}.log"
        wait_for(lambda: b"ready" in log.read_bytes() or process.poll() is not None,
                 f"{name} starting", 20)
        assert process.poll() is None, log.read_text()
        return process

    def smtp_sink(self, port: int, folder: Path) -> subprocess.Popen[bytes]:
        """An SMTP server on `port` that keeps what it receives in `folder`."""
        return self.ready("-m", "tests.programs.smtp_sink", str(port), str(folder),
                          name="smtp")

    def tcp_proxy(self, port: int, upstream: int) -> subprocess.Popen[bytes]:
        """A forwarder from `port` to `upstream`: the network to a database."""
        return self.ready("-m", "tests.programs.tcp_proxy", str(port), str(upstream),
                          name="proxy")

    def logged(self, text: str) -> int:
        """How many times the test's processes have logged `text` so far."""
        needle = text.encode()
        return sum(log.read_bytes().count(needle) for log in self.folder.glob("*-*.log"))

    def wait_for_sweeps(self, count: int, seconds: float = 60) -> None:
        """Waits until the workers have finished `count` more sweeps (each logs a line): the
        time for leases to lapse and for whatever a sweep would drive again to show."""
        before = self.logged(SWEEP_LOGGED)
        wait_for(lambda: self.logged(SWEEP_LOGGED) >= before + count,
                 f"{count} more sweeps", seconds)

    def stop_all(self) -> None:
        """Stops every process still running, by pid."""
        for process in self.started:
            stop(process, 10)


def received(folder: Path) -> list[EmailMessage]:
    """The messages an SMTP sink kept, oldest first."""
    return [message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for path in sorted(folder.glob("*.eml"))]


@pytest.fixture
def processes(app: Flask, database_url: str, redis_url: str,
              tmp_path: Path) -> Iterator[Processes]:
    """The test's own processes, stopped by pid when it ends."""
    started = Processes(app, database_url, redis_url, tmp_path)
    yield started
    started.stop_all()
