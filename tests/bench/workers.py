"""The processes a benchmark starts: RQ workers and gunicorn, as production starts them.

Workers are `python worker.py` from the repository root with the session's DSAR_ variables;
`worker_command` is the one place that says so, to change when worker.py grows options.
Every process is stopped by its pid (SIGTERM, then SIGKILL after a grace period), along
with any work-horse children it left, never by name.

`MemoryMonitor` samples /proc every 50 ms for the workers and their children (RQ forks a
work horse per job): a window's peak is the highest VmHWM of a process born during the
window, or the highest VmRSS sampled of one that was already there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from rq import Worker

ROOT = Path(__file__).resolve().parents[2]
STOP_GRACE_SECONDS = 20.0


#: Extra arguments for worker.py (--worker-args); none by default, as production starts it.
WORKER_ARGS: list[str] = []


def worker_command() -> list[str]:
    """The command that starts one worker, exactly as production does (from ROOT)."""
    return [sys.executable, "worker.py", *WORKER_ARGS]


def gunicorn_command(port: int, options: list[str]) -> list[str]:
    """The command that starts the web app, as `dsar run` does, with the given options."""
    return [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT),
            "--bind", f"127.0.0.1:{port}", *options, "app:app"]


#: gunicorn as `dsar run` (dsar/runner.py) starts it.
GUNICORN_AS_RUN = ["--workers", "2", "--access-logfile", "-"]


def process_env(session_env: dict[str, str]) -> dict[str, str]:
    """The environment of a child: ours without stray DSAR_ settings, plus the session's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSAR_")}
    env.update(session_env)
    return env


@dataclass
class Started:
    """A process the benchmark started."""

    label: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """Its process id."""
        return self.process.pid


@dataclass
class Processes:
    """Every process started during a run, so each is stopped by its pid."""

    started: list[Started] = field(default_factory=list)

    def start(self, label: str, command: list[str], env: dict[str, str], log_dir: Path) -> Started:
        """Starts one process from the repository root, its output in a log file."""
        log_path = log_dir / f"{label}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
                command, cwd=ROOT, env=process_env(env), stdout=log, stderr=subprocess.STDOUT
            )
        child = Started(label, process, log_path)
        self.started.append(child)
        return child

    def start_workers(self, count: int, env: dict[str, str], log_dir: Path) -> list[Started]:
        """Starts `count` workers."""
        return [self.start(f"worker-{n + 1}", worker_command(), env, log_dir)
                for n in range(count)]

    def stop(self, children: list[Started], grace: float = STOP_GRACE_SECONDS) -> None:
        """Stops these processes by pid: SIGTERM, then SIGKILL for those still there."""
        horses = {pid for child in children for pid in descendants(child.pid)}
        for child in children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in children:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
        for pid in horses:  # work horses whose worker was killed before it could end them
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for child in children:
            if child in self.started:
                self.started.remove(child)

    def stop_all(self) -> None:
        """Stops whatever is still running."""
        self.stop(list(self.started), grace=5.0)


def exited(children: list[Started]) -> str | None:
    """Which of these processes exited, with the last line each logged; None if none did."""
    gone = [child for child in children if child.process.poll() is not None]
    if not gone:
        return None
    return "; ".join(f"{child.label} (pid {child.pid}) exited with code "
                     f"{child.process.returncode}, its last log line: {_last_line(child)!r}"
                     for child in gone)


#: Words of a log line that say why a process ended, the most telling first.
_ENDINGS = ("quitting", "traceback", "error", "exception", "killed", "stopping")


def _last_line(child: Started) -> str:
    """The last line of a process's log that says why it ended, else its last line."""
    try:
        with child.log_path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 8192))
            lines = [line for line in log.read().decode(errors="replace").splitlines()
                     if line.strip()]
    except OSError:
        return ""
    for word in _ENDINGS:
        telling = [line for line in lines if word in line.lower()]
        if telling:
            return telling[-1][-160:]
    return lines[-1][-160:] if lines else ""


def wait_for_workers(redis: Redis, children: list[Started], timeout: float = 90) -> None:
    """Waits until each of these worker processes has registered in Redis."""
    deadline = time.monotonic() + timeout
    pids = {child.pid for child in children}
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.label} exited with {child.process.returncode}; "
                                   f"see {child.log_path}")
        if pids <= {worker.pid for worker in Worker.all(connection=redis)}:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the workers did not register within {timeout:.0f} s")


def wait_for_http(port: int, child: Started, timeout: float = 60) -> None:
    """Waits until something answers HTTP on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(f"{child.label} exited with {child.process.returncode}; "
                               f"see {child.log_path}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            if s.recv(12).startswith(b"HTTP/1.1 200"):
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} within {timeout:.0f} s")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Every descendant of a process, from /proc."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        for child in _children(current):
            found.append(child)
            todo.append(child)
    return found


def _children(pid: int) -> list[int]:
    """The direct children of a process."""
    children: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                children.extend(int(p) for p in f.read().split())
    return children


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system) these processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def all_cpu() -> dict[int, tuple[str, float]]:
    """Every process's name and CPU seconds so far, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"/proc/{entry}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
            fields = tail.split()
            found[int(entry)] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / ticks)
    return found


def cpu_shares(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
               ours: set[int], seconds: float) -> dict[str, float]:
    """CPU used between two `all_cpu` snapshots, in cores: ours, redis-server, the rest."""
    shares = {"ours": 0.0, "redis-server": 0.0, "other processes": 0.0}
    for pid, (name, used) in after.items():
        spent = used - before.get(pid, (name, 0.0))[1]
        if pid in ours:
            shares["ours"] += spent
        elif name.startswith("redis-server"):
            shares["redis-server"] += spent
        else:
            shares["other processes"] += spent
    return {key: value / seconds for key, value in shares.items()}


def machine_cpu() -> tuple[int, int]:
    """The machine's (busy, total) CPU ticks so far, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def _memory_kb(pid: int) -> tuple[int, int] | None:
    """A process's (VmHWM, VmRSS) in kB, or None when it is gone."""
    hwm = rss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
    except OSError:
        return None
    return hwm, rss


@dataclass
class _Window:
    """The peaks seen while a window was open."""

    known: set[int]
    peak_kb: int = 0
    processes: int = 0
    known_peak_kb: int = 0  # the workers themselves (sampled VmRSS)
    new_peak_kb: int = 0  # processes they started during the window (VmHWM)


class MemoryMonitor:
    """Samples the memory of the workers and their children in a background thread."""

    def __init__(self, roots: Callable[[], list[int]], interval: float = 0.05) -> None:
        """Watches the processes `roots()` names and all their descendants."""
        self._roots = roots
        self._interval = interval
        self._windows: list[_Window] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-monitor", daemon=True)
        self.overall_peak_kb = 0

    def __enter__(self) -> MemoryMonitor:
        """Starts sampling."""
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stops sampling."""
        self._stop.set()
        self._thread.join(timeout=2)

    def _pids(self) -> list[int]:
        """The processes watched now."""
        pids: list[int] = []
        for root in self._roots():
            pids.append(root)
            pids.extend(descendants(root))
        return pids

    def _run(self) -> None:
        """Samples until stopped."""
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)

    def sample(self) -> None:
        """Takes one sample of every watched process."""
        readings = {pid: m for pid in self._pids() if (m := _memory_kb(pid)) is not None}
        with self._lock:
            for pid, (hwm, rss) in readings.items():
                self.overall_peak_kb = max(self.overall_peak_kb, rss)
                for window in self._windows:
                    if pid in window.known:
                        window.known_peak_kb = max(window.known_peak_kb, rss)
                    else:
                        window.new_peak_kb = max(window.new_peak_kb, hwm)
                    window.peak_kb = max(window.known_peak_kb, window.new_peak_kb)
                    window.processes = max(window.processes, len(readings))

    @contextlib.contextmanager
    def window(self) -> Iterator[_Window]:
        """Measures the peak while the block runs (read `.peak_kb` afterwards)."""
        window = _Window(known=set(self._pids()))
        with self._lock:
            self._windows.append(window)
        try:
            yield window
        finally:
            self.sample()
            with self._lock:
                self._windows.remove(window)
