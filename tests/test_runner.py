"""`dsar run` keeps every part running: a worker killed under it is started again. In
development its banner says how to add an officer in a line that works as printed, and a
first try is not stopped by the intake's production limit; `make run` takes PORT and HOST."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from dsar.extensions import db
from dsar.models import Officer
from dsar.runner import _forget_rate_limits
from tests.conftest import _free_port
from tests.faults import wait_for
from tests.helpers import ROOT, stop


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is `pid`, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def _workers(pid: int) -> set[int]:
    """The worker processes `dsar run` started (not the scheduler)."""
    return {child for child, cmd in _children(pid).items()
            if "-m dsar worker" in cmd}


def test_dsar_run_starts_a_killed_worker_again(app, database_url, redis_url, shop_url,
                                               tmp_path):
    """SIGKILL one worker: `dsar run` stays up and starts another in its place."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DSAR_ENV": "testing",
           "DSAR_DATABASE_URL": database_url, "DSAR_REDIS_URL": redis_url,
           "DSAR_SHOP_DATABASE_URL": shop_url, "DSAR_SECRET_KEY": app.config["SECRET_KEY"],
           "DSAR_OUTBOX_DIR": str(tmp_path / "outbox")}
    runner = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "dsar"), "run", "--port", str(_free_port()),
         "--workers", "1"], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _workers(runner.pid):
            time.sleep(0.2)
        [first] = _workers(runner.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _workers(runner.pid) in (set(), {first}):
            time.sleep(0.2)
        assert runner.poll() is None, "dsar run stopped when a worker died"
        [second] = _workers(runner.pid)
        assert second != first
    finally:
        assert stop(runner, 60) == 0, "dsar run did not stop cleanly on SIGTERM"


@pytest.mark.slow
def test_in_development_the_banner_adds_an_officer_and_the_intake_allows_a_first_try(
        app, database_url, redis_url, shop_url, tmp_path):
    """`dsar run` on the development defaults: the officer line of its banner, run as printed,
    makes an admin; the intake allows 100 submissions an hour per client, not 10."""
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DSAR_ENV": "development",
           "DSAR_DATABASE_URL": database_url, "DSAR_REDIS_URL": redis_url,
           "DSAR_SHOP_DATABASE_URL": shop_url, "DSAR_SECRET_KEY": app.config["SECRET_KEY"],
           "DSAR_OUTBOX_DIR": str(tmp_path / "outbox")}
    output = tmp_path / "run.log"
    with output.open("wb") as log:
        runner = subprocess.Popen(  # noqa: S603
            [str(Path(sys.executable).parent / "dsar"), "run", "--port", str(port),
             "--workers", "1"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        line = wait_for(lambda: re.search(r"^ +(echo .* officer create .*)$",
                                          output.read_text(), re.MULTILINE),
                        "the banner", 30).group(1)
        assert "--role admin" in line
        made = subprocess.run(line, shell=True, env=env, cwd=ROOT,  # noqa: S602
                              capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        with app.app_context():
            [officer] = db.session.scalars(select(Officer)).all()
            assert officer.role == "admin"

        def submitted() -> tuple[int, str] | None:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/requests", method="POST",
                data=json.dumps({"email": "first.try@example.org", "type": "access"}).encode(),
                headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    return response.status, response.headers["X-RateLimit-Limit"]
            except OSError:
                return None

        assert wait_for(submitted, "the web app answering", 30) == (202, "100")
    finally:
        assert stop(runner, 60) == 0, "dsar run did not stop cleanly on SIGTERM"


def test_a_development_run_forgets_the_rate_limit_counts_and_keeps_the_jobs(redis, redis_url):
    """What `dsar run` does to its embedded Redis at start: the limiter's counts go, the
    queued jobs stay."""
    redis.set("LIMITS:LIMITER/127.0.0.1/intake.api_submit/10/1/hour", 10)
    redis.set("rq:job:kept", "a job")
    _forget_rate_limits(redis_url)
    assert redis.keys("LIMITS:*") == []
    assert redis.get("rq:job:kept") == b"a job"


def test_make_run_passes_port_and_host_to_dsar_run():
    """`make run PORT=5123 HOST=0.0.0.0` starts `dsar run` on that port and address."""
    planned = subprocess.run(["make", "-n", "run", "PORT=5123", "HOST=0.0.0.0"],  # noqa: S607
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "dsar run --host '0.0.0.0' --port '5123'" in planned
