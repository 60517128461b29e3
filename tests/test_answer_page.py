"""The answer page behind the mailed link: what a person sees there, through the real app."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from dsar.answer import storage
from dsar.clock import utcnow
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import RequestEvent
from dsar.tokens import Purpose
from dsar.web.delivery import human_size, link_expiry
from tests.helpers import confirm_request, link_in, text_of

EXPIRY = re.compile(r"This link works until (\w+) (\d+ \w+ \d{4} at \d{2}:\d{2}) UTC\.")


def _answer(client, inbox, run_jobs) -> tuple[str, str]:
    """Asks for the demo customer's data and confirms it; returns the request id and its link."""
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    [answer_mail] = [m for m in inbox.to(DEMO_EMAIL) if "/reports/" in text_of(m)]
    return request_id, link_in(answer_mail)


def _visible(page: str) -> str:
    """The page's text as a person reads it: no tags, one space between words."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


def _shown_expiry(page: str) -> datetime:
    """The moment the page says the link stops working, checked to name the right weekday."""
    found = EXPIRY.search(_visible(page))
    assert found, _visible(page)
    moment = datetime.strptime(found.group(2), "%d %B %Y at %H:%M")
    assert found.group(1) == moment.strftime("%A")
    return moment


def _size(app: Flask, request_id: str, name: str) -> int:
    """The size of one of a request's stored answer files."""
    with app.app_context():
        return len(storage.read(request_id, name))


def _remove(app: Flask, request_id: str, name: str) -> None:
    """Deletes one of a request's stored answer files behind the app's back."""
    with app.app_context():
        assert storage.delete(request_id, prefix=name) == 1
        db.session.commit()


def _in_kb(size: int) -> str:
    """A size of 10 KB up to 999 KB, as the page should write it."""
    assert 10_000 <= size < 999_500, size
    return f"{round(size / 1000)} KB"


def test_the_page_shows_when_the_link_expires_and_how_large_each_file_is(
    app, client, inbox, run_jobs, seeded_shop
):
    """A week after the mail was made, to the minute; each file's size in KB."""
    before = utcnow().replace(microsecond=0)
    request_id, link = _answer(client, inbox, run_jobs)
    after = utcnow()

    page = client.get(link)
    assert page.status_code == 200
    week = timedelta(seconds=app.config["REPORT_LINK_MAX_AGE"])
    assert week == timedelta(days=7)
    assert (before + week).replace(second=0) <= _shown_expiry(page.text) <= after + week

    text = _visible(page.text)
    pdf = _in_kb(_size(app, request_id, "report.pdf"))
    json_size = _in_kb(_size(app, request_id, "report.json"))
    assert f"Your answer as a document (PDF), {pdf}, to read and keep." in text
    assert f"Your data as a file (JSON), {json_size}, to take to another service." in text


def test_the_expiry_counts_from_when_the_link_was_signed(app, client, inbox, run_jobs,
                                                          seeded_shop):
    """A link signed a day ago, with a max age of 2 days 90 minutes, ends 1 day 90 minutes on."""
    request_id, _ = _answer(client, inbox, run_jobs)
    signed_at = (utcnow() - timedelta(days=1)).replace(second=42, microsecond=0)

    class SignedThen(TimestampSigner):
        """Signs as if it were `signed_at`."""

        def get_timestamp(self) -> int:
            """The signing time, in seconds since the epoch."""
            return int((signed_at - datetime(1970, 1, 1)).total_seconds())

    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=str(Purpose.REPORT),
                                   signer=SignedThen).dumps({"r": request_id})
    app.config["REPORT_LINK_MAX_AGE"] = 2 * 86400 + 90 * 60

    page = client.get(f"/reports/{token}")
    assert page.status_code == 200
    ends = signed_at + timedelta(days=2, minutes=90)
    assert _shown_expiry(page.text) == ends.replace(second=0)

    app.config["REPORT_LINK_MAX_AGE"] = 12 * 3600
    assert client.get(f"/reports/{token}").status_code == 410


def test_a_missing_file_is_not_offered(app, client, inbox, run_jobs, seeded_shop):
    """Only the files that exist are listed; with none left, the person is told to write."""
    request_id, link = _answer(client, inbox, run_jobs)
    _remove(app, request_id, "report.pdf")

    page = client.get(link)
    assert page.status_code == 200
    text = _visible(page.text)
    assert "(PDF)" not in text and "report.pdf" not in page.text
    json_size = _in_kb(_size(app, request_id, "report.json"))
    assert f"Your data as a file (JSON), {json_size}, to take to another service." in text

    _remove(app, request_id, "report.json")
    gone = client.get(link)
    assert gone.status_code == 404
    contact = app.config["CONTROLLER_CONTACT"]
    assert f"The answer file cannot be found. Please write to {contact}." in _visible(gone.text)
    with app.app_context():
        notes = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == request_id, RequestEvent.kind == "answer_missing")).all()
    assert sorted(notes) == ["report.json", "report.pdf"]


def test_sizes_and_times_read_as_a_person_reads_them():
    """Bytes, KB and MB at their edges; the expiry with weekday, date and minute."""
    assert [human_size(n) for n in (512, 9_940, 9_960, 84_000, 120_499, 999_499, 999_500,
                                    1_234_567)] == [
        "512 bytes", "9.9 KB", "10 KB", "84 KB", "120 KB", "999 KB", "1.0 MB", "1.2 MB"]
    assert link_expiry(datetime(2026, 12, 1, 10, 0, 59)) == "Tuesday 1 December 2026 at 10:00 UTC"
