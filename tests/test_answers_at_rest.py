"""Answers at rest: sealed in the database, and gone when their link expires or the person
is erased.

Through the real app, a real RQ worker and SMTP server, against a seeded shop: what a thief
of the database would read, and what the person sees on the old link afterwards.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, func, select, update

from dsar.answer import storage
from dsar.answer.sealing import SealError, new_key
from dsar.clock import utcnow
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent, StoredChunk, StoredFile
from dsar.work import jobs
from tests.helpers import confirm_request, download, link_in


def _answer_link(inbox, email=DEMO_EMAIL):
    """The link of the newest answer mail."""
    [mail] = [m for m in inbox.to(email) if m["Subject"].startswith("The answer")][-1:]
    return link_in(mail)


def _visible(page: str) -> str:
    """A page's text as a person reads it."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _stored_names(app, request_id):
    """The names of a request's stored files."""
    with app.app_context():
        return sorted(db.session.scalars(
            select(StoredFile.name).where(StoredFile.request_id == request_id)))


def _sweep(app):
    """Runs the periodic sweep once, as the scheduler would."""
    with app.app_context():
        jobs.sweep()


def test_the_answer_is_sealed_in_the_database_and_opens_whole(
    app, client, inbox, run_jobs, seeded_shop
):
    """No byte of the stored rows shows the person's data; the download is the answer."""
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    link = _answer_link(inbox)
    answer = json.loads(download(client, link + "/report.json").data)
    assert answer["request"]["id"] == request_id
    assert _stored_names(app, request_id) == ["report.json", "report.pdf"], \
        "the findings are deleted once the answer is made"

    with app.app_context():
        chunks = db.session.scalars(
            select(StoredChunk.data).join(StoredFile).where(StoredFile.request_id == request_id)
        ).all()
    stored = b"".join(chunks)
    assert len(stored) > 1000
    for plain in (DEMO_EMAIL.encode(), b"Sanne", b"cplus-dsar-report", b"%PDF"):
        assert plain not in stored, plain

    pdf = download(client, link + "/report.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert int(pdf.headers["Content-Length"]) == len(pdf.data)
    assert pdf.headers["Cache-Control"] == "no-store"


def test_a_chunk_moved_or_a_key_lost_never_opens(app, client, inbox, run_jobs, seeded_shop):
    """Swapping the sealed JSON and PDF, or opening with other keys, is refused."""
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    with app.app_context():
        ids = {name: file_id for name, file_id in db.session.execute(
            select(StoredFile.name, StoredFile.id).where(StoredFile.request_id == request_id))}
        pdf_chunk = db.session.scalar(
            select(StoredChunk.data).where(StoredChunk.file_id == ids["report.pdf"],
                                           StoredChunk.seq == 0))
        db.session.execute(update(StoredChunk).where(
            StoredChunk.file_id == ids["report.json"], StoredChunk.seq == 0).values(
            data=pdf_chunk))
        db.session.commit()
        with pytest.raises(SealError, match="altered or is not where it belongs"):
            storage.read(request_id, "report.json")
        assert storage.read(request_id, "report.pdf").startswith(b"%PDF")

        app.extensions.pop("dsar.sealer")
        app.config["STORAGE_KEY"] = new_key()
        with pytest.raises(SealError, match="no configured storage key"):
            storage.read(request_id, "report.pdf")


def test_an_erasure_deletes_the_persons_earlier_answers_at_once(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """The old link then says the answer was deleted with the erasure, and how to ask again;
    another person's answer is untouched."""
    app.config["ERASURE_REQUIRES_APPROVAL"] = False
    access_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    old_link = _answer_link(inbox)
    other = "someone.else@example.org"
    other_id = confirm_request(client, inbox, run_jobs, {"email": other, "type": "access"})
    assert download(client, old_link).status_code == 200

    erasure_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL,
                                                           "type": "erasure"})
    with app.app_context():
        assert db.session.get(DsarRequest, erasure_id).status == "completed"
    assert _stored_names(app, access_id) == []
    assert _stored_names(app, other_id) == ["report.json", "report.pdf"]

    for path in (old_link, old_link + "/report.pdf", old_link + "/report.json"):
        gone = download(client, path)
        assert gone.status_code == 410, path
        text = _visible(gone.text)
        assert "when we erased your data at your request; we keep no copy of it." in text
        assert "To see what we hold about you now, please make a new request." in text
        assert 'href="/"' in gone.text and "Make a new request" in text
    with app.app_context():
        [note] = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == access_id, RequestEvent.kind == "answer_deleted"))
    assert note == f"erased with request {erasure_id}"


def test_an_answer_is_deleted_when_its_link_expires(app, client, inbox, run_jobs, seeded_shop):
    """The sweep deletes it once the last link it was mailed with has run out."""
    app.config["REPORT_LINK_MAX_AGE"] = 60
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    link = _answer_link(inbox)
    _sweep(app)
    assert _stored_names(app, request_id) == ["report.json", "report.pdf"], "still in time"

    with time_machine.travel(timedelta(seconds=61)):  # the link's minute has passed
        _sweep(app)
        assert _stored_names(app, request_id) == []
        with app.app_context():
            found = db.session.get(DsarRequest, request_id)
            assert found.answer_deleted_reason == "expired"
            assert db.session.scalar(select(func.count()).select_from(StoredChunk)) == 0
        page = download(client, link)
    assert page.status_code == 410
    # The link's own signature runs out in whole seconds: either reason may be the one seen.
    text = _visible(page.text)
    assert ("This link has expired. Please make a new request" in text
            or "when its link expired; we keep no copy of it." in text), text


def test_a_stored_file_cut_short_never_opens(app):
    """Dropping a file's last chunks leaves a chunk sealed as 'more follows' at the end."""
    with app.app_context():
        request = DsarRequest(id="f" * 32, type="access", email="cut@example.org",
                              due_at=utcnow())
        db.session.add(request)
        content = bytes(range(256)) * (storage.CHUNK_BYTES * 5 // 2 // 256)
        storage.write(request.id, "report.pdf", content)
        db.session.commit()
        assert storage.read(request.id, "report.pdf") == content
        file_id = db.session.scalar(select(StoredFile.id).where(
            StoredFile.request_id == request.id))
        db.session.execute(delete(StoredChunk).where(StoredChunk.file_id == file_id,
                                                     StoredChunk.seq == 2))
        db.session.commit()
        with pytest.raises(SealError, match="altered or is not where it belongs"):
            storage.read(request.id, "report.pdf")
