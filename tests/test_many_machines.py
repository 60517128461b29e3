"""dsar on several machines: `dsar web`, two `dsar worker` and one `dsar scheduler`, each
started in an empty folder of its own, with nothing between them but PostgreSQL and Redis
(and the systems dsar talks to: the shop's database, the mail server). An access request and
an erasure are carried to their answers, read back through the web process."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dsar.connectors.shop.schema import customers
from dsar.connectors.shop.seed import DEMO_EMAIL, DEMO_NAME
from tests.conftest import _free_port
from tests.faults import wait_for
from tests.helpers import link_in
from tests.test_processes import DSAR

pytestmark = pytest.mark.slow

ROLES = {
    "web": ["web", "--workers", "2"],
    "worker-1": ["worker"],
    "worker-2": ["worker"],
    "scheduler": ["scheduler"],
}


def _call(method: str, url: str, body: dict | None = None,
          token: str | None = None) -> tuple[int, bytes]:
    """One HTTP request to the web process: its status and body (0 while nothing listens)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def _mail(inbox: Any, subject: str) -> Any:
    """Waits for the newest mail to the demo customer with this subject."""
    def found() -> Any:
        mails = [m for m in inbox.to(DEMO_EMAIL) if str(m["Subject"]) == subject]
        return mails[-1] if mails else None
    return wait_for(found, f"the mail {subject!r}", 90)


def _confirmed(base: str, inbox: Any, kind: str) -> str:
    """Submits a request of `kind` and confirms it from its mail; returns its id."""
    status, body = _call("POST", f"{base}/api/v1/requests", {"email": DEMO_EMAIL, "type": kind})
    assert status == 202, body
    verify = _mail(inbox, "Please confirm your privacy request")
    token = link_in(verify).rsplit("/", 1)[1]
    status, body = _call("POST", f"{base}/api/v1/requests/verify", {"token": token})
    assert status == 200, body
    inbox.clear()
    return str(json.loads(body)["id"])


def _status(base: str, request_id: str, token: str) -> str:
    """A request's status, as the API tells an officer."""
    status, body = _call("GET", f"{base}/api/v1/requests/{request_id}", token=token)
    assert status == 200, body
    return str(json.loads(body)["status"])


def test_web_two_workers_and_a_scheduler_from_empty_folders_answer_access_and_erasure(
    app, seeded_shop, officer_token, inbox, processes, tmp_path, database_url
):
    """Each machine's folder stays empty of state; the answers are complete and the shop's
    account is erased."""
    if not database_url.startswith("postgresql"):
        pytest.skip("machines share a database server, not a file: runs in .ci/run's "
                    "PostgreSQL pass (DSAR_TEST_DATABASE_URL)")
    base = f"http://127.0.0.1:{_free_port()}"
    machines: dict[str, Path] = {}
    for role, args in ROLES.items():
        machines[role] = tmp_path / "machines" / role
        machines[role].mkdir(parents=True)
        bind = ["--bind", base.removeprefix("http://")] if role == "web" else []
        processes.start(DSAR, *args, *bind, name=role, cwd=machines[role],
                        env={"DSAR_INSTANCE_DIR": str(machines[role] / "instance")})
    wait_for(lambda: _call("GET", f"{base}/health")[0] == 200, "dsar web answering", 60)

    access = _confirmed(base, inbox, "access")
    answer = link_in(_mail(inbox, "The answer to your privacy request is ready"))
    # The mail goes out with the JSON; the PDF follows on the same page.
    wait_for(lambda: "report.pdf" in _call("GET", f"{base}{answer}")[1].decode(),
             "the PDF on the answer page", 90)
    status, data = _call("GET", f"{base}{answer}/report.json")
    assert status == 200
    report = json.loads(data)
    assert report["request"]["id"] == access
    assert DEMO_NAME in data.decode()
    status, pdf = _call("GET", f"{base}{answer}/report.pdf")
    assert status == 200 and pdf.startswith(b"%PDF-")

    erasure = _confirmed(base, inbox, "erasure")
    wait_for(lambda: _status(base, erasure, officer_token) == "awaiting_approval",
             "the erasure's plan", 90)
    assert _call("POST", f"{base}/api/v1/requests/{erasure}/approve",
                 token=officer_token)[0] == 202
    letter = link_in(_mail(inbox, "The answer to your privacy request is ready"))
    status, data = _call("GET", f"{base}{letter}/report.json")
    assert status == 200
    assert json.loads(data)["request"] | {"id": erasure, "type": "erasure"} == \
        json.loads(data)["request"]
    status, pdf = _call("GET", f"{base}{letter}/report.pdf")
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "erased" in words, words
    assert _status(base, erasure, officer_token) == "completed"
    with seeded_shop.connect() as shop:
        left = shop.execute(select(customers.c.email).where(customers.c.email == DEMO_EMAIL))
        assert left.first() is None

    for role in ROLES:
        [log] = tmp_path.glob(f"{role}-*.log")
        assert "Traceback" not in log.read_text(), (role, log.read_text())
    for role, folder in machines.items():
        kept = [p.relative_to(folder) for p in folder.rglob("*") if p.is_file()]
        assert not [p for p in kept if p.suffix in {".db", ".rdb", ".eml"}], (role, kept)
