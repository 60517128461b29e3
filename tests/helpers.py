"""Small helpers the tests share: reading links from mails and tokens from pages."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import AnyConverter
from werkzeug.test import TestResponse

#: The checkout the tests run from.
ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"http://dsar\.test(/[^\s\"<]+)")
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a mail."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the mail has no plain-text part"
    return str(part.get_content())


def link_in(message: EmailMessage) -> str:
    """The path of the one dsar link in a mail."""
    found = LINK.findall(text_of(message))
    assert found, f"no link in mail {message['Subject']!r}"
    return urlsplit("http://dsar.test" + found[0]).path


def csrf_token(html: str) -> str:
    """The CSRF token of the form on a page."""
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def console_sign_in(client: FlaskClient, email: str, password: str) -> TestResponse:
    """Signs an officer in to the console through its form."""
    page = client.get("/console/sign-in")
    return client.post("/console/sign-in", data={
        "csrf_token": csrf_token(page.text), "email": email, "password": password, "code": ""})


def download(client: FlaskClient, path: str) -> TestResponse:
    """GETs a file and closes the response, so no file handle is left open."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def confirm_request(client: FlaskClient, inbox: object, run_jobs: object, payload: dict) -> str:
    """Submits a request, confirms it from its mail through the API, runs the workers."""
    response = client.post("/api/v1/requests", json=payload)
    assert response.status_code == 202, response.json
    run_jobs()  # type: ignore[operator]
    mails = [m for m in inbox.to(payload["email"].strip())  # type: ignore[attr-defined]
             if "/verify/" in text_of(m)]
    token = link_in(mails[-1]).rsplit("/", 1)[1]
    confirmed = client.post("/api/v1/requests/verify", json={"token": token})
    assert confirmed.status_code == 200, confirmed.json
    run_jobs()  # type: ignore[operator]
    return str(response.json["id"])


def submit_and_confirm(client, inbox, run_jobs, email, kind="access"):
    """Submits a request, confirms it from the mail, runs the workers; returns the answer mail."""
    response = client.post("/api/v1/requests", json={"email": email, "type": kind})
    assert response.status_code == 202
    assert response.json["status"] == "awaiting_verification"
    run_jobs()
    [verify_mail] = inbox.to(email.strip())
    assert verify_mail["Subject"] == "Please confirm your privacy request"
    page = client.get(link_in(verify_mail))
    assert "Confirm my request" in page.text
    done = client.post(link_in(verify_mail), data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200
    run_jobs()
    answer_mails = [m for m in inbox.to(email.strip()) if m is not verify_mail]
    assert len(answer_mails) == 1
    return response.json["id"], answer_mails[0]


def stop(process: subprocess.Popen[bytes], seconds: float = 30) -> int | None:
    """Stops a process the test started, by its pid: SIGTERM, then SIGKILL if it lingers.

    Returns:
        Its exit status when SIGTERM stopped it in time, else None.
    """
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return None


#: Values for the parts of the app's URLs, to build one of each route.
SAMPLE_VALUES = {"request_id": "0" * 32, "task_id": 1, "action": "approve",
                 "filename": "report.pdf", "token": "x", "name": "cplus-dsar-report-1"}


def every_route(app: Flask) -> Iterator[tuple[str, str, str]]:
    """Every (method, path, endpoint) of the URL map, built from SAMPLE_VALUES, and once per
    choice of a part that takes one of a few words. Built from the map itself, so a route
    added later is walked too."""
    adapter = app.url_map.bind("dsar.test")
    for rule in app.url_map.iter_rules():
        choices = [{**SAMPLE_VALUES, "filename": "style.css" if rule.endpoint == "static"
                    else SAMPLE_VALUES["filename"]}]
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                choices = [{**c, name: item} for c in choices for item in converter.items]
        for values in choices:
            args = {arg: values[arg] for arg in rule.arguments}
            path = adapter.build(rule.endpoint, args, method=next(iter(rule.methods or ())))
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, path, rule.endpoint
