"""`dsar run` keeps every part running: a worker killed under it is started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dsar.app import ROOT
from tests.conftest import _free_port
from tests.helpers import stop


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
            if "worker.py" in cmd and "--cron" not in cmd}


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
