"""The audit trail: a real trail verifies; an edited, removed or cut entry is detected."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select, update

from dsar.cli import cli
from dsar.extensions import db
from dsar.models import RequestEvent
from tests.helpers import confirm_request


def _verify(app):
    """Runs `dsar audit verify` and returns its exit code and output."""
    result = app.test_cli_runner().invoke(cli, ["audit", "verify"])
    return result.exit_code, result.output


def _trail(app, client, inbox, run_jobs):
    """Makes a real trail: two requests through the whole flow."""
    confirm_request(client, inbox, run_jobs, {"email": "anna@example.org", "type": "access"})
    return confirm_request(client, inbox, run_jobs, {"email": "bo@example.org", "type": "access"})


def test_a_real_trail_verifies(app, client, inbox, run_jobs):
    """Every step of real requests is chained, and the chain checks out."""
    _trail(app, client, inbox, run_jobs)
    code, output = _verify(app)
    assert code == 0, output
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(RequestEvent))
    assert count > 10
    assert f"intact: {count} entries" in output


def test_an_edited_entry_is_detected(app, client, inbox, run_jobs):
    """Changing one entry's note breaks the chain at that entry."""
    _trail(app, client, inbox, run_jobs)
    with app.app_context():
        target = db.session.scalars(select(RequestEvent).order_by(RequestEvent.id)).all()[5]
        db.session.execute(update(RequestEvent).where(RequestEvent.id == target.id)
                           .values(actor="someone else"))
        db.session.commit()
        target_id = target.id
    code, output = _verify(app)
    assert code == 1
    assert f"entry {target_id}: its content was changed" in output


def test_a_removed_entry_is_detected(app, client, inbox, run_jobs):
    """Deleting an entry in the middle breaks the link of the one after it."""
    _trail(app, client, inbox, run_jobs)
    with app.app_context():
        ids = db.session.scalars(select(RequestEvent.id).order_by(RequestEvent.id)).all()
        db.session.execute(RequestEvent.__table__.delete().where(RequestEvent.id == ids[3]))
        db.session.commit()
    code, output = _verify(app)
    assert code == 1
    assert f"entry {ids[4]}: an entry before it was changed or removed" in output


def test_cutting_off_the_newest_entries_is_detected(app, client, inbox, run_jobs):
    """Removing entries at the end is caught by the head of the chain."""
    _trail(app, client, inbox, run_jobs)
    with app.app_context():
        last = db.session.scalar(select(func.max(RequestEvent.id)))
        db.session.execute(RequestEvent.__table__.delete().where(RequestEvent.id == last))
        db.session.commit()
    code, output = _verify(app)
    assert code == 1
    assert "the end of the trail" in output


def test_export_per_request_as_csv(app, client, inbox, run_jobs):
    """One request's entries export as CSV with their hashes."""
    request_id = _trail(app, client, inbox, run_jobs)
    result = app.test_cli_runner().invoke(cli, ["audit", "export", "--request", request_id])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert rows and {row["request_id"] for row in rows} == {request_id}
    assert [row["kind"] for row in rows][:2] == ["received", "mail_sent"]
    assert all(len(row["hash"]) == 64 for row in rows)
