"""dsar as an operator installs it: the wheel built from this checkout, installed into a fresh
virtual environment outside it, and run from an empty folder with the three role commands.

Checks what only an installation can show: the database migrates, the pages are Dutch for a
Dutch browser, the stylesheet is served, a Dutch verification mail is written, a worker stops
with status 0 on SIGTERM, and a second scheduler stands by instead of scheduling twice.
Nothing of the checkout is on the installed Python's path. Run by .ci/run; alone:
`python3 .ci/installed.py`.
"""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
DUTCH = {"Accept-Language": "nl"}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(find, what: str, seconds: float = 60):
    """Polls until `find` returns something true; stops the check saying what did not happen.

    (tests/faults.py has its like; this script runs on the standard library alone, outside
    the checkout's environment, so it imports nothing of the tests.)
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.25)
    sys.exit(f"FAILED: {what} did not happen within {seconds:.0f} s")


def check(condition: bool, what: str, detail: str = "") -> None:
    """Stops the check with `what` (and `detail`) when `condition` does not hold."""
    if not condition:
        sys.exit(f"FAILED: {what}\n{detail}")
    print(f"ok: {what}")


class Site:
    """The empty folder dsar runs in, with the processes started there."""

    def __init__(self, root: Path, venv: Path, env: dict[str, str]) -> None:
        """Remembers where the logs go and how to call the installed `dsar`."""
        self.root, self.venv, self.env = root, venv, env
        self.logs = root.parent / "logs"
        self.logs.mkdir(exist_ok=True)
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Starts `dsar ARGS` in the folder, its output in logs/NAME.log."""
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen([str(self.venv / "bin" / "dsar"), *args],  # noqa: S603
                                       cwd=self.root, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def log(self, name: str) -> str:
        """What a process logged so far."""
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        """SIGTERM to every process still running, by pid; SIGKILL to those that linger."""
        for process in self.started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def build_and_install(work: Path) -> Path:
    """Builds the wheel and installs it into a new virtual environment; returns the venv."""
    dist = work / "dist"
    subprocess.run([str(CHECKOUT / ".venv" / "bin" / "pip"), "wheel", "--quiet", "--no-deps",  # noqa: S603
                    "--wheel-dir", str(dist), str(CHECKOUT)], check=True)
    [wheel] = dist.glob("dsar-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    check({top for top in tops if not top.endswith(".dist-info")} == {"dsar"},
          "the wheel installs dsar alone", f"top-level names: {sorted(tops)}")
    for needed in ("dsar/connectors/shop/accounts.py", "dsar/templates/base.html",
                   "dsar/static/style.css", "dsar/migrations/env.py",
                   "dsar/config/retention.toml", "dsar/translations/nl/LC_MESSAGES/messages.mo"):
        check(needed in names, f"the wheel holds {needed}")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    subprocess.run([str(venv / "bin" / "pip"), "install", "-qq", str(wheel)],  # noqa: S603
                   check=True)
    return venv


def main() -> None:
    """Builds, installs, runs and checks; the folder it used is removed at the end."""
    work = Path(tempfile.mkdtemp(prefix="dsar-installed-"))
    site: Site | None = None
    redis: subprocess.Popen[bytes] | None = None
    try:
        venv = build_and_install(work)
        redis_port, web_port = free_port(), free_port()
        redis = subprocess.Popen(  # noqa: S603
            [str(venv / "bin" / "redis-server"), "--port", str(redis_port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)],
            stdout=subprocess.DEVNULL)
        root = work / "site"
        root.mkdir()
        base = f"http://127.0.0.1:{web_port}"
        site = Site(root, venv, {
            "PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
            "DSAR_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "DSAR_BASE_URL": base})
        upgrade = subprocess.run([str(venv / "bin" / "dsar"), "db", "upgrade"], cwd=root,  # noqa: S603
                                 env=site.env, capture_output=True, text=True)
        check(upgrade.returncode == 0, "`dsar db upgrade` from an empty folder", upgrade.stderr)
        check((root / "instance" / "dsar.db").is_file(), "the database is in ./instance")

        web = site.start("web", "web", "--bind", f"127.0.0.1:{web_port}", "--workers", "2")
        worker = site.start("worker", "worker")
        site.start("scheduler", "scheduler")
        browser = Browser(base)
        wait_for(lambda: browser.get("/health")[0] == 200 or web.poll() is not None,
                 "dsar web answering")
        check(web.poll() is None, "`dsar web` runs", site.log("web"))
        check_dutch_pages_and_mail(browser, root / "instance" / "outbox")
        check_worker_stops(worker)
        check_second_scheduler(site)
        print(f"dsar {wheel_version(venv)} installed from its wheel and run from an empty folder: "
              "all checks passed")
    finally:
        if site is not None:
            site.stop_all()
        if redis is not None:
            redis.terminate()
            redis.wait()
        shutil.rmtree(work, ignore_errors=True)


class Browser:
    """A Dutch browser on the site: it keeps its cookies (the form's CSRF token needs them)."""

    def __init__(self, base: str) -> None:
        """Browses `base` (loopback)."""
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        """GETs `path`, or POSTs `form` to it: status, content type and text (0 while nothing
        listens)."""
        data = urllib.parse.urlencode(form).encode() if form else None
        request = urllib.request.Request(self.base + path, data=data, headers=DUTCH)  # noqa: S310
        try:
            with self.opener.open(request, timeout=10) as response:
                return (response.status, response.headers.get("Content-Type", ""),
                        response.read().decode())
        except OSError:
            return 0, "", ""


def check_dutch_pages_and_mail(browser: Browser, outbox: Path) -> None:
    """The form in Dutch with its stylesheet; submitted, a Dutch verification mail."""
    status, _, page = browser.get("/")
    check(status == 200 and 'lang="nl"' in page and "Uw persoonsgegevens" in page,
          "the form is in Dutch for a Dutch browser", page[:2000])
    [stylesheet] = re.findall(r'href="(/static/style\.css[^"]*)"', page)
    status, kind, css = browser.get(stylesheet)
    check(status == 200 and kind.startswith("text/css") and "{" in css,
          f"the stylesheet {stylesheet} is served")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    check(token is not None, "the form carries a CSRF token")
    assert token is not None
    status, _, _ = browser.get("/", {"csrf_token": token.group(1), "type": "access",
                                     "email": "sanne.devries@example.nl"})
    check(status == 200, "the form is submitted")
    [found] = wait_for(lambda: sorted(outbox.glob("*.eml")), "the verification mail")
    mail = email.message_from_bytes(found.read_bytes(), policy=email.policy.default)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    check("Bevestig" in str(mail["Subject"]) and "/verify/" in body and "Open deze link" in body,
          f"the verification mail is Dutch ({mail['Subject']})", body)


def check_worker_stops(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM to `dsar worker`: it stops by itself, with status 0."""
    os.kill(worker.pid, signal.SIGTERM)
    try:
        status = worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        status = None
    check(status == 0, f"SIGTERM stops `dsar worker` with status 0 (got {status})")


def check_second_scheduler(site: Site) -> None:
    """A second `dsar scheduler` against the same Redis stands by."""
    second = site.start("scheduler-2", "scheduler")
    wait_for(lambda: "state=standing-by" in site.log("scheduler-2") or second.poll() is not None,
             "the second scheduler's word")
    check(second.poll() is None and "state=scheduling" not in site.log("scheduler-2"),
          "a second `dsar scheduler` stands by instead of scheduling too", site.log("scheduler-2"))


def wheel_version(venv: Path) -> str:
    """What `dsar --version` says in the installed environment."""
    return subprocess.run([str(venv / "bin" / "dsar"), "--version"], capture_output=True,  # noqa: S603
                          text=True, check=True).stdout.split()[-1]


if __name__ == "__main__":
    main()
