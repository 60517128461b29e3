"""Both objections end to end (Art. 21): to direct marketing, and on grounds of the person's
particular situation, through the real app, RQ worker, SMTP server and seeded shop.

What the person reads is checked in the letter's JSON and its PDF, in English and Dutch.
"""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dsar.connector import Category, Connector, Record
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent
from dsar.registry import ConnectorRegistry
from dsar.tokens import Purpose, sign
from tests.conftest import OFFICER, OFFICER_PASSWORD
from tests.helpers import (
    LINK,
    confirm_request,
    console_sign_in,
    csrf_token,
    download,
    text_of,
)
from tests.test_rights_flow import TABLES, NewsletterConnector, _snapshot

ANSWER_SUBJECTS = {"en": "The answer to your privacy request is ready",
                   "nl": "Het antwoord op uw privacyverzoek is klaar"}
SITUATION = "A former colleague works in your customer service and reads my notes."
GROUNDS = "We must keep these notes to handle the warranty claim you have open with us."


def _auth(token):
    """The officer's Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def _letter(client, inbox, language="en"):
    """The outcome letter's JSON, and its PDF's text with the line breaks made spaces."""
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if m["Subject"] == ANSWER_SUBJECTS[language]]
    link = LINK.findall(text_of(mail))[0]
    data = json.loads(download(client, link + "/report.json").data)
    pdf = download(client, link + "/report.pdf").data
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return data, " ".join(text.split())


def _request(app, request_id):
    """A request's row."""
    with app.app_context():
        found = db.session.get(DsarRequest, request_id)
        db.session.expunge(found)
        return found


def _events(app, request_id, kind):
    """The request's audit events of one kind."""
    with app.app_context():
        return [(e.actor, e.note) for e in db.session.scalars(
            select(RequestEvent).where(RequestEvent.request_id == request_id,
                                       RequestEvent.kind == kind))]


def _status_page(app, client, request_id):
    """The visible words of the requester's status page."""
    with app.app_context():
        token = sign(Purpose.STATUS, {"r": request_id})
    return " ".join(client.get(f"/status/{token}").text.split())


class LegacyConnector(Connector):
    """An old system whose connector does not say on which ground it holds its data."""

    name = "legacy"
    title = "Old webshop archive"
    categories = (Category(
        name="old_profiles", title="Your profile in the old shop", fields=("email",),
        purpose="Kept from the old shop.", legal_basis="Unknown", recipients=(),
        retention="Unknown.", source="You."),)

    def export(self, subject):
        """One old profile for anyone."""
        yield Record(category="old_profiles", key="p1", data={"email": subject.email})


def test_an_objection_to_offers_reaches_every_system_and_recipient_before_it_completes(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """A marketing system that cannot withdraw consent gets a manual task, one without a
    legal ground a "check" task, the status page names both while they wait, and only once
    both are done is the letter "no more offers" sent and the mailing processor told."""
    shop = app.extensions["dsar.connectors"]
    app.extensions["dsar.connectors"] = ConnectorRegistry(
        {**{name: shop.get_class(name) for name in shop.names},
         "newsletter": NewsletterConnector, "legacy": LegacyConnector})
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": DEMO_EMAIL, "type": "objection"})
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    assert status["status"] == "in_progress" and status["objection_to"] == "direct_marketing"
    tasks = {(t["connector"], t["action"]): t for t in status["tasks"]}
    assert {key for key in tasks if key[1] == "export"} == {
        (name, "export") for name in app.extensions["dsar.connectors"].names}, "exports first"
    assert tasks[("marketing", "withdraw_consent")]["status"] == "succeeded"
    assert tasks[("newsletter", "withdraw_consent")]["status"] == "manual"
    assert tasks[("legacy", "check")]["status"] == "manual"
    assert ("accounts", "withdraw_consent") not in tasks, "no offers there: nothing to do"
    assert "Old webshop archive holds this person's Your profile in the old shop without" \
        in tasks[("legacy", "check")]["error"]
    page = _status_page(app, client, request_id)
    assert "Still to be done by hand by our privacy team, in: Newsletter platform, Old " \
        "webshop archive." in page, page
    assert not [m for m in inbox.messages if "answer" in str(m["Subject"]).lower()
                or str(m["Subject"]).startswith("Art. 21")], "nothing is said before it is done"

    for key, note in ((("newsletter", "withdraw_consent"), "unsubscribed from weekly"),
                      (("legacy", "check"), "no offers are sent from the archive")):
        done = client.post(f"/api/v1/requests/{request_id}/tasks/{tasks[key]['id']}/complete",
                           headers=_auth(officer_token), json={"note": note})
        assert done.status_code == 200
        run_jobs()
        if key[0] == "newsletter":
            assert _request(app, request_id).status == "in_progress", "the check still waits"
    assert _request(app, request_id).status == "completed"

    letter, text = _letter(client, inbox)
    assert letter["offers_stopped"] is True and letter["consent_withdrawn"]
    objection = letter["objection"]
    assert objection["to"] == "direct_marketing"
    assert {(o["system"], o["category"]) for o in objection["offers"]} >= {
        ("Newsletter platform", "Your newsletter subscriptions")}
    assert objection["checked"] == ["Old webshop archive"]
    assert objection["recipients_told"] == ["Brevo (Sendinblue SAS)"]
    assert "You will receive no more offers from us" in text
    assert "unsubscribed from weekly" in text and "no offers are sent from the archive" in text
    assert "We told those to whom we pass data for sending offers to stop using yours" in text

    [notice] = [m for m in inbox.messages if str(m["Subject"]).startswith("Art. 21")]
    assert notice["To"] == "dpo@brevo.example"
    assert notice["Subject"] == "Art. 21 GDPR: a person objected to direct marketing"
    body = " ".join(text_of(notice).split())
    assert "has objected to its use for direct marketing" in body
    assert f"e-mail address {DEMO_EMAIL}" in body.lower()
    assert not [m for m in inbox.messages if str(m["Subject"]).startswith("Art. 19")]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_an_objection_on_the_person_s_situation_upheld_stops_what_the_officer_chose(
    app, client, inbox, run_jobs, seeded_shop, officer_token, language
):
    """It waits for the officer, the person is told they may ask for restriction meanwhile;
    upheld, notes are erased and messages restricted by hand, and the letter says so."""
    before = _snapshot(seeded_shop)
    request_id = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": "objection", "objection_to": "legitimate_interests",
        "details": SITUATION, "language": language})
    found = _request(app, request_id)
    assert found.status == "awaiting_approval" and found.details == SITUATION
    [waiting] = [m for m in inbox.to(DEMO_EMAIL) if "/status/" in text_of(m)]
    body = " ".join(text_of(waiting).split())
    if language == "en":
        assert waiting["Subject"] == "Our privacy officer is weighing your objection"
        assert "you may ask us to restrict the use of your data" in body
        assert "(Art. 18(1)(d) GDPR)" in body
    else:
        assert waiting["Subject"] == "Onze privacyfunctionaris weegt uw bezwaar af"
        assert "kunt u ons vragen het gebruik van uw gegevens te beperken" in body
        assert "(art. 18 lid 1 onder d AVG)" in body
    page = _status_page(app, client, request_id)
    assert ("(Art. 18(1)(d) GDPR)" if language == "en" else "(art. 18 lid 1 onder d AVG)") \
        in page
    assert _snapshot(seeded_shop) == before, "nothing happens before the officer decides"

    plan = client.get(f"/api/v1/requests/{request_id}/plan", headers=_auth(officer_token)).json
    listed = {f"{c['connector']}.{c['category']}" for c in plan["objection"]["categories"]}
    assert listed == {"support.contact_messages", "support.support_notes"}, \
        "only what rests on legitimate interests"
    refused = client.post(f"/api/v1/requests/{request_id}/approve",
                          headers=_auth(officer_token))
    assert refused.status_code == 409
    assert "Choose erase or restrict for each category" in refused.json["error"]["message"]
    choices = {"support.support_notes": "erase", "support.contact_messages": "restrict"}
    approved = client.post(f"/api/v1/requests/{request_id}/approve",
                           headers=_auth(officer_token), json={"categories": choices})
    assert approved.status_code == 202, approved.json
    run_jobs()
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    assert status["status"] == "in_progress"
    [manual] = [t for t in status["tasks"] if t["status"] == "manual"]
    assert (manual["connector"], manual["action"]) == ("support", "restrict")
    assert "keep it stored only, by hand" in manual["error"]
    client.post(f"/api/v1/requests/{request_id}/tasks/{manual['id']}/complete",
                headers=_auth(officer_token), json={"note": "messages flagged storage-only"})
    run_jobs()
    assert _request(app, request_id).status == "completed"

    after = _snapshot(seeded_shop)
    assert len(after["support_notes"]) < len(before["support_notes"]), "her notes are erased"
    for table in TABLES:
        if table != "support_notes":
            assert after[table] == before[table], f"{table} is left as it was"
    assert _events(app, request_id, "objection_upheld") == [
        ("officer@cplus.example",
         "support.contact_messages: restrict; support.support_notes: erase")]

    letter, text = _letter(client, inbox, language)
    objection = letter["objection"]
    assert (objection["to"], objection["decision"], objection["grounds"]) == (
        "legitimate_interests", "upheld", None)
    assert {c["stopped"] for c in objection["categories"]} == {"erase", "restrict"}
    assert letter["erased"] and letter["offers_stopped"] is False
    assert "messages flagged storage-only" in text
    if language == "en":
        assert "What we did with your objection to our use of your data" in text
        assert "We upheld your objection" in text
        assert "Kept, stored only: we use it for nothing else" in text
    else:
        assert "Wat wij deden met uw bezwaar tegen ons gebruik van uw gegevens" in text
        assert "Wij hebben uw bezwaar gehonoreerd" in text
        assert "Bewaard, alleen opgeslagen" in text
        assert "We upheld" not in text and "offers" not in text


@pytest.mark.parametrize("language", ["en", "nl"])
def test_an_objection_on_the_person_s_situation_rejected_gives_the_grounds_and_the_complaint(
    app, client, inbox, run_jobs, seeded_shop, officer_token, language
):
    """Rejected with the officer's compelling grounds: nothing changes in the shop, and the
    letter gives the grounds in the officer's words and the complaint route."""
    before = _snapshot(seeded_shop)
    request_id = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": "objection", "objection_to": "legitimate_interests",
        "details": SITUATION, "language": language})
    denied = client.post(f"/api/v1/requests/{request_id}/deny", headers=_auth(officer_token),
                         json={"reason": GROUNDS})
    assert denied.status_code == 202, denied.json
    run_jobs()
    assert _request(app, request_id).status == "completed"
    assert _snapshot(seeded_shop) == before
    assert _events(app, request_id, "objection_rejected") == [("officer@cplus.example", GROUNDS)]

    letter, text = _letter(client, inbox, language)
    objection = letter["objection"]
    assert (objection["decision"], objection["grounds"]) == ("rejected", GROUNDS)
    assert letter["erased"] == [] and letter["offers_stopped"] is False
    assert GROUNDS in text and "Autoriteit Persoonsgegevens" in text
    if language == "en":
        assert "We did not uphold your objection" in text
        assert "Our compelling legitimate grounds, which override your interests" in text
        assert "take the matter to court (Art. 12(4) and Art. 79 GDPR)" in text
    else:
        assert "Wij hebben uw bezwaar niet gehonoreerd" in text
        assert "Onze dwingende gerechtvaardigde gronden" in text
        assert "We did not" not in text


def test_the_api_takes_what_an_objection_is_to_and_refuses_what_does_not_fit(app, client):
    """direct_marketing by default; legitimate_interests needs the situation in details;
    only an objection takes objection_to."""
    made = client.post("/api/v1/requests", json={"email": "a@example.nl", "type": "objection"})
    assert made.status_code == 202
    assert _request(app, made.json["id"]).objection_to == "direct_marketing"
    for body, field in (
        ({"type": "objection", "objection_to": "legitimate_interests"}, "details"),
        ({"type": "objection", "objection_to": "legitimate_interests", "details": "  "},
         "details"),
        ({"type": "objection", "objection_to": "everything"}, "objection_to"),
        ({"type": "access", "objection_to": "direct_marketing"}, "objection_to"),
    ):
        refused = client.post("/api/v1/requests", json={"email": "a@example.nl", **body})
        assert refused.status_code == 422, body
        assert field in refused.json["error"]["fields"], (body, refused.json)


def test_only_the_same_objection_joins_an_open_one(app, client, inbox, run_jobs, seeded_shop):
    """An objection on the person's situation does not join an open objection to offers,
    while the same one does."""
    situation = {"email": DEMO_EMAIL, "type": "objection",
                 "objection_to": "legitimate_interests", "details": SITUATION}
    first = confirm_request(client, inbox, run_jobs, situation)
    assert _request(app, first).status == "awaiting_approval"
    offers = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "objection"})
    assert _request(app, offers).status == "completed"
    again = confirm_request(client, inbox, run_jobs, situation)
    assert (_request(app, again).status, _request(app, again).joined_to_id) == ("joined", first)


def test_the_form_takes_an_objection_on_the_person_s_situation_without_script(
    app, client, inbox
):
    """Posted as a browser without script posts it: the situation is required for that
    objection, kept as its details, and the other objection needs none."""
    page = client.get("/")
    assert 'value="legitimate_interests"' in page.text and 'id="situation"' in page.text
    form = {"csrf_token": csrf_token(page.text), "email": "b@example.nl", "type": "objection",
            "objection_to": "legitimate_interests", "situation": ""}
    missing = client.post("/", data=form)
    assert missing.status_code == 422
    assert "Describe your particular situation: this objection rests on it." in missing.text
    made = client.post("/", data={**form, "situation": SITUATION, "details": "Thank you."})
    assert made.status_code == 303
    offers = client.post("/", data={**form, "email": "c@example.nl",
                                    "objection_to": "direct_marketing"})
    assert offers.status_code == 303
    with app.app_context():
        stored = {r.email: (r.objection_to, r.details) for r in db.session.scalars(
            select(DsarRequest))}
    assert stored == {"b@example.nl": ("legitimate_interests", SITUATION + "\n\nThank you."),
                      "c@example.nl": ("direct_marketing", None)}


def test_the_officer_weighs_an_objection_in_the_console(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """The console shows the person's situation and each category resting on legitimate
    interests with a choice; upholding there restricts what the officer chose."""
    request_id = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": "objection", "objection_to": "legitimate_interests",
        "details": SITUATION})
    assert console_sign_in(client, OFFICER, OFFICER_PASSWORD).status_code == 302
    page = client.get(f"/console/requests/{request_id}").text
    assert SITUATION in page and "Reject the objection" in page
    assert 'name="stop:support.support_notes"' in page
    assert 'name="stop:support.contact_messages"' in page
    client.post(f"/console/requests/{request_id}/approve", data={
        "csrf_token": csrf_token(page), "stop:support.support_notes": "restrict",
        "stop:support.contact_messages": "restrict"})
    run_jobs()
    found = _request(app, request_id)
    assert found.status == "in_progress"
    assert found.plan["objection"]["choices"] == {"support.support_notes": "restrict",
                                                  "support.contact_messages": "restrict"}
    assert found.plan["connectors"] == {}, "nothing is erased"
