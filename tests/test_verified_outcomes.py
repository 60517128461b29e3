"""A letter says a record was erased only when, read again, it was: through the real app,
RQ worker, SMTP server and seeded shop, with a plug-in whose erasure does not do all it says.
"""

from __future__ import annotations

import io
import json
from typing import ClassVar

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dsar.connector import Category, Connector, Outcome, Record
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import RequestEvent
from dsar.registry import ConnectorRegistry
from tests.conftest import OFFICER, OFFICER_PASSWORD
from tests.helpers import (
    LINK,
    confirm_request,
    console_sign_in,
    csrf_token,
    download,
    text_of,
)

REFUSAL = "The note is evidence in a dispute about your order that is still open."


class NotesConnector(Connector):
    """A support tool holding three notes about anyone: its erasure deletes the first, says
    it deleted the second while deleting nothing, and calls the third "unchanged" though it
    is still there. `fixed` makes it honest, as a mended connector would be."""

    name = "notes"
    title = "Support notes tool"
    categories = (Category(
        name="notes", title="Notes about you", fields=("text", "written_at"),
        purpose="Helping you.", legal_basis="Legitimate interests", recipients=(),
        retention="Until erased.", source="Our support team.", basis=("legitimate_interests",)),)
    retention_rules: ClassVar = {"notes": {"policy": "Until erased.", "on_erasure": "erase"}}
    stored: ClassVar[dict[str, dict[str, str]]] = {}
    fixed: ClassVar[bool] = False

    def export(self, subject):
        """The notes still stored, by the address or by key."""
        for key, data in sorted(self.stored.items()):
            yield Record("notes", key, dict(data))

    def erase(self, subject, decisions):
        """Deletes what it should only when mended; reports as described above."""
        outcomes = []
        for decision in decisions:
            if decision.key == "n1" or self.fixed:
                self.stored.pop(decision.key, None)
            outcomes.append(Outcome("notes", decision.key,
                                    "unchanged" if decision.key == "n3" else "erased"))
        return outcomes


@pytest.fixture
def with_notes(app):
    """The shop's five connectors and the notes tool, its three notes stored afresh."""
    NotesConnector.stored.clear()
    NotesConnector.stored.update({key: {"text": f"Called about order {key}", "written_at":
                                        "2026-11-02"} for key in ("n1", "n2", "n3")})
    NotesConnector.fixed = False
    shop = app.extensions["dsar.connectors"]
    app.extensions["dsar.connectors"] = ConnectorRegistry(
        {**{name: shop.get_class(name) for name in shop.names}, "notes": NotesConnector})


def _auth(token):
    """The officer's Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def _approved_erasure(client, inbox, run_jobs, officer_token):
    """An erasure of the demo customer, approved and carried out; its id and the notes task."""
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    assert client.post(f"/api/v1/requests/{request_id}/approve",
                       headers=_auth(officer_token)).status_code == 202
    run_jobs()
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    [notes] = [t for t in status["tasks"] if (t["connector"], t["action"]) == ("notes", "erase")]
    return request_id, status, notes


def _letter(client, inbox):
    """The outcome letter's JSON and its PDF's text, line breaks made spaces."""
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if m["Subject"].startswith("The answer")]
    link = LINK.findall(text_of(mail))[0]
    data = json.loads(download(client, link + "/report.json").data)
    pdf = download(client, link + "/report.pdf").data
    return data, " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
                          .split())


def _erased(letter, category="Notes about you"):
    """The keys the letter calls erased in one category, with the by-hand day if any."""
    return {item["key"]: item.get("by_hand_on") for item in letter["erased"]
            if item["category"] == category}


def test_records_a_connector_did_not_erase_wait_for_the_officer_not_the_letter(
    app, client, inbox, run_jobs, seeded_shop, officer_token, with_notes
):
    """Read again, two notes are still there: the task is not carried out, names them, and
    the person hears nothing yet; the shop's records went and were checked."""
    request_id, status, notes = _approved_erasure(client, inbox, run_jobs, officer_token)
    assert status["status"] == "in_progress"
    assert notes["status"] == "manual"
    assert "not carried out in Support notes tool" in notes["error"]
    assert "notes n2 still holds text, written_at" in notes["error"]
    assert "notes n3 still holds text, written_at" in notes["error"]
    assert "n1 " not in notes["error"]
    others = [t for t in status["tasks"] if t["action"] == "erase" and t["connector"] != "notes"]
    assert others and all(t["status"] == "succeeded" for t in others)
    assert not [m for m in inbox.to(DEMO_EMAIL) if m["Subject"].startswith("The answer")]
    with app.app_context():
        kinds = db.session.scalars(select(RequestEvent.kind).where(
            RequestEvent.request_id == request_id)).all()
    assert "not_carried_out" in kinds


def test_done_by_hand_the_letter_says_so_and_when(
    app, client, inbox, run_jobs, seeded_shop, officer_token, with_notes
):
    """The officer deletes the two notes in the tool and says so: the letter lists them as
    erased by hand on that day, the first as simply erased."""
    request_id, _, notes = _approved_erasure(client, inbox, run_jobs, officer_token)
    NotesConnector.stored.clear()
    done = client.post(f"/api/v1/requests/{request_id}/tasks/{notes['id']}/complete",
                       headers=_auth(officer_token), json={"note": "deleted n2 and n3 in the tool"})
    assert done.status_code == 200
    run_jobs()
    letter, text = _letter(client, inbox)
    hand = _erased(letter)
    assert hand["n1"] is None and hand["n2"] == hand["n3"] is not None
    assert "n2 (erased by hand on " in text
    assert letter["refused"] == []
    assert any(item["category"] == "Your orders" for item in letter["minimised"]), \
        "the shop's part is in the letter as before"


def test_a_refused_part_is_a_refusal_with_reasons_not_an_erasure(
    app, client, inbox, run_jobs, seeded_shop, officer_token, with_notes
):
    """The officer refuses the part the tool did not erase: the letter carries the notes
    under what was not done, with the reasons and the complaint route, not as erased."""
    request_id, _, notes = _approved_erasure(client, inbox, run_jobs, officer_token)
    refused = client.post(f"/api/v1/requests/{request_id}/tasks/{notes['id']}/complete",
                          headers=_auth(officer_token), json={"note": REFUSAL, "refused": True})
    assert refused.status_code == 200
    run_jobs()
    letter, text = _letter(client, inbox)
    assert set(_erased(letter)) == {"n1"}
    assert {(item["key"], item["reason"]) for item in letter["refused"]} == {
        ("n2", REFUSAL), ("n3", REFUSAL)}
    assert "What we did not do, and why" in text and REFUSAL in text
    assert "Autoriteit Persoonsgegevens" in text
    assert "Done by our privacy officer" not in text, "a refusal is not something done"


def test_tried_again_from_the_console_once_mended_the_records_are_checked_and_erased(
    app, client, inbox, run_jobs, seeded_shop, officer_token, with_notes
):
    """The console offers the three ways out; once the connector is mended, "Try again"
    erases and checks the notes, and the letter calls all three erased, none by hand."""
    request_id, _, notes = _approved_erasure(client, inbox, run_jobs, officer_token)
    assert console_sign_in(client, OFFICER, OFFICER_PASSWORD).status_code == 302
    page = client.get(f"/console/requests/{request_id}").text
    for offered in ("Done by hand", "Try again", "Refuse this part"):
        assert offered in page
    NotesConnector.fixed = True
    again = client.post(f"/console/requests/{request_id}/tasks/{notes['id']}/again",
                        data={"csrf_token": csrf_token(page)})
    assert again.status_code == 303
    run_jobs()
    letter, text = _letter(client, inbox)
    assert _erased(letter) == {"n1": None, "n2": None, "n3": None}
    assert "by hand" not in text and not NotesConnector.stored


def test_a_hold_ends_only_when_its_record_reads_back_erased(app, inbox, with_notes):
    """When a legal duty ends and the connector's erasure leaves the record, the hold stays
    (tried again on the next run), the request's trail says so once and the officers' digest
    lists it; mended, it ends."""
    from datetime import date, timedelta

    from dsar.clock import utcnow
    from dsar.models import DsarRequest, RetentionHold
    from dsar.web.officers import create_officer
    from dsar.work.holds import end_due_holds
    from dsar.work.reminders import send_digest

    with app.app_context():
        now = utcnow()
        request = DsarRequest(type="erasure", email=DEMO_EMAIL, status="completed",
                              received_at=now, due_at=now + timedelta(days=30))
        db.session.add(request)
        db.session.flush()
        db.session.add(RetentionHold(request_id=request.id, connector="notes", category="notes",
                                     record_key="n2", retain_until=date(2026, 1, 1),
                                     legal_basis="a duty that ended"))
        db.session.commit()
        assert end_due_holds() == 0
        assert end_due_holds() == 0, "tried again on the next run"
        [hold] = db.session.scalars(select(RetentionHold)).all()
        assert hold.erased_at is None and "n2" in NotesConnector.stored
        notes = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.kind == "retention_erase_not_carried_out")).all()
        assert notes == ["notes: notes n2"], "said once, however often it is tried"
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
        assert send_digest() == 1
        [digest] = inbox.to("olga@cplus.example")
        assert "1 records not erased" in digest["Subject"]
        assert "notes: notes n2, its duty ended 2026-01-01" in text_of(digest)

        NotesConnector.fixed = True
        assert end_due_holds() == 1
        assert db.session.get(RetentionHold, hold.id).erased_at is not None
        assert "n2" not in NotesConnector.stored


class OffersConnector(Connector):
    """A mailing tool that shows a withdrawal in `unsubscribed_at`, yet whose withdrawal
    reports the person unsubscribed while changing nothing."""

    name = "mailer"
    title = "Mailing tool"
    categories = (Category(
        name="subscribers", title="Your subscription to our mailings", fields=(
            "list", "unsubscribed_at"), purpose="Sending offers.", legal_basis="Consent",
        recipients=(), retention="Until you unsubscribe.", source="You.",
        basis=("consent",), direct_marketing=True, stopped_field="unsubscribed_at"),)

    def export(self, subject):
        """One subscription, never unsubscribed."""
        yield Record("subscribers", "s1", {"list": "weekly", "unsubscribed_at": None})

    def withdraw_consent(self, subject):
        """Says it unsubscribed the person; does nothing."""
        return [Outcome("subscribers", "s1", "withdrawn", fields=("unsubscribed_at",))]


def test_a_refused_withdrawal_is_no_promise_of_no_more_offers(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Read back, the mailing tool still sends offers: the officer refuses that part, and
    the letter lists it with the reasons instead of "no more offers"."""
    shop = app.extensions["dsar.connectors"]
    app.extensions["dsar.connectors"] = ConnectorRegistry(
        {**{name: shop.get_class(name) for name in shop.names}, "mailer": OffersConnector})
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": DEMO_EMAIL, "type": "objection"})
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    [mailer] = [t for t in status["tasks"] if t["connector"] == "mailer"
                and t["action"] == "withdraw_consent"]
    assert mailer["status"] == "manual"
    assert "subscribers s1 still holds unsubscribed_at" not in mailer["error"]
    assert "subscribers s1" in mailer["error"]
    reason = "The mailing tool's contract ends next month; it will be switched off then."
    refused = client.post(f"/api/v1/requests/{request_id}/tasks/{mailer['id']}/complete",
                          headers=_auth(officer_token), json={"note": reason, "refused": True})
    assert refused.status_code == 200
    run_jobs()
    letter, text = _letter(client, inbox)
    assert letter["offers_stopped"] is False
    assert [(i["system"], i["key"], i["reason"]) for i in letter["refused"]] == [
        ("Mailing tool", "s1", reason)]
    assert "no more offers" not in text and reason in text
    assert all(item["system"] != "Mailing tool" for item in letter["objection"]["offers"])
