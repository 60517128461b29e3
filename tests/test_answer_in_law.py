"""The access answer against Art. 15 GDPR: recipients named from the register (15(1)(c)),
automated decisions (15(1)(h)), transfers and their safeguards (15(2)), and the general right
to object wherever legitimate interests are the basis (21(1)).

Through the real app, a real RQ worker and SMTP server, against the seeded shop; the PDF is
read back as text.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select, update

from dsar.answer.report import RECIPIENTS_UNKNOWN
from dsar.connector import Category, Connector, LegalBasis, Record
from dsar.connectors.shop import schema
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DeferredErasure, RequestEvent, RetentionHold
from dsar.policy.deadlines import add_months
from dsar.policy.recipients import RecipientsRegisterError, parse_register
from dsar.policy.retention import RetentionRulesError, parse_rules
from dsar.policy.rights import RIGHTS, rights_for
from dsar.registry import ConnectorRegistry
from dsar.web.officers import create_officer
from dsar.work import deferrals, jobs, reminders
from tests.helpers import confirm_request, console_sign_in, download, link_in, text_of


def _answer(client, inbox, run_jobs, email=DEMO_EMAIL):
    """An access request made and answered; its JSON and its PDF's text."""
    request_id = confirm_request(client, inbox, run_jobs, {"email": email, "type": "access"})
    [mail] = [m for m in inbox.to(email) if m["Subject"].startswith("The answer")][-1:]
    link = link_in(mail)
    data = json.loads(download(client, link + "/report.json").data)
    pdf = PdfReader(io.BytesIO(download(client, link + "/report.pdf").data))
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    return request_id, data, text


def _categories(data):
    """Every category of the answer that holds records, by "connector.category"."""
    return {f"{section['connector']}.{category['name']}": category
            for section in data["sections"] for category in section["categories"]
            if category["records"]}


def test_every_category_names_its_recipients_and_the_transfers_out_of_the_eea(
    app, client, inbox, run_jobs, seeded_shop
):
    """No "the payment provider" without a name, no "nobody outside Cplus" for data a
    hosting company holds; the one transfer out of the EEA, PayPal's, with its safeguard."""
    _, data, text = _answer(client, inbox, run_jobs)
    found = _categories(data)
    assert {"accounts.account", "orders.orders", "orders.shipments",
            "support.contact_messages"} <= set(found)
    for name, category in found.items():
        assert category["recipients_known"], name
        named = {recipient["name"] for recipient in category["recipient_details"]}
        assert "TransIP B.V." in named, name
        assert not any(text.lower().startswith("the payment provider")
                       for text in category["recipients"]), name
    orders = {r["name"]: r for r in found["orders.orders"]["recipient_details"]}
    assert {"Mollie B.V.", "PayPal (Europe) S.à r.l. et Cie, S.C.A."} <= set(orders)
    assert orders["PayPal (Europe) S.à r.l. et Cie, S.C.A."]["outside_eea"] == "US"
    assert "shipping" not in " ".join(orders["Mollie B.V."]["fields"])
    assert {r["name"] for r in found["orders.shipments"]["recipient_details"]} >= {
        "PostNL B.V.", "DHL Parcel Nederland B.V."}

    transfers = {t["recipient"]: t for t in data["transfers"]}
    assert transfers["PayPal (Europe) S.à r.l. et Cie, S.C.A."]["country"] == "US"
    assert "Your orders (for payment method PayPal)" in transfers[
        "PayPal (Europe) S.à r.l. et Cie, S.C.A."]["categories"]
    assert set(transfers) == {"PayPal (Europe) S.à r.l. et Cie, S.C.A."}, "only PayPal's own"
    assert "Art. 46(2)(c)" in transfers["PayPal (Europe) S.à r.l. et Cie, S.C.A."]["safeguard"]
    assert data["automated_decisions"]["article"] == "15(1)(h)"
    assert "we do not profile you" in data["automated_decisions"]["text"]

    assert "Decisions by automated means" in text and "we do not profile you" in text
    assert "Transfers outside the European Economic Area" in text
    assert "to US through PayPal (Europe)" in text
    assert "Mollie B.V. (NL)" in text


def test_the_general_right_to_object_is_stated_where_legitimate_interests_are_the_basis(
    app, client, inbox, run_jobs, seeded_shop
):
    """Her contact messages rest on legitimate interests: Art. 21(1) is stated for them."""
    _, data, text = _answer(client, inbox, run_jobs)
    [objection] = [right for right in data["rights"] if right["article"] == "21"]
    assert "(Art. 21(1))" in objection["text"]
    assert "on grounds relating to your particular situation" in objection["text"]
    titles = {c["title"] for c in _categories(data).values()
              if re.search(r"6\(1\)\(f\)", c["legal_basis"])}
    assert titles and all(f"\u201c{title}\u201d" in objection["text"] for title in titles)
    assert "grounds relating to your particular situation" in text


def test_rights_without_legitimate_interests_keep_the_marketing_objection_alone():
    """Nothing on legitimate interests: the objection right is the direct-marketing one."""
    assert rights_for([("Your orders", "Legal obligation, Art. 6(1)(c) GDPR")]) == [
        dict(right) for right in RIGHTS]
    stated = rights_for([("Notes", "Legitimate interests, Art. 6(1)(f) GDPR")])
    assert "(Art. 21(1))" in next(r["text"] for r in stated if r["article"] == "21")


NOTES = Category(
    name="notes", title="Notes in the archive", fields=("text",), purpose="testing",
    legal_basis="Consent, Art. 6(1)(a) GDPR", recipients=("Perhaps an archive service.",),
    retention="none", source="tests",
)


class ArchiveConnector(Connector):
    """A system the recipients register has never heard of."""

    name = "archive"
    title = "The archive"
    categories = (NOTES,)

    def export(self, subject):
        """One note for anyone."""
        yield Record(category="notes", key="1", data={"text": "an old note"})


def test_a_category_the_register_does_not_know_is_said_so_and_flagged_to_the_officer(
    app, client, inbox, run_jobs
):
    """Never papered over: the answer says it is not established, the officer is told."""
    app.extensions["dsar.connectors"] = ConnectorRegistry({"archive": ArchiveConnector})
    request_id, data, text = _answer(client, inbox, run_jobs, "nora@example.org")
    [notes] = _categories(data).values()
    assert notes["recipients_known"] is False
    assert notes["recipients"] == ["Perhaps an archive service.", RECIPIENTS_UNKNOWN]
    assert "Not yet established: our privacy officer has been asked" in text
    assert data["transfers"] == [] and data["transfers_unknown"] == ["Notes in the archive"]
    assert "None of the data in this answer leaves" not in text
    assert "whether that data leaves the European Economic Area" in text
    with app.app_context():
        [note] = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == request_id, RequestEvent.kind == "recipients_unknown"))
    assert note == "archive.notes"
    with app.app_context():
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
    console_sign_in(client, "olga@cplus.example", "correct horse battery")
    page = client.get(f"/console/requests/{request_id}").text
    assert "The recipients register does not know who receives archive.notes" in page


def test_each_category_states_its_grounds_for_programs_too(client, inbox, run_jobs, seeded_shop):
    """Beside the words a person reads, report.json gives each category's Art. 6(1) grounds
    as programs read them; marketing consents are the direct-marketing data."""
    _, data, _ = _answer(client, inbox, run_jobs, DEMO_EMAIL)
    found = _categories(data)
    assert found["orders.orders"]["basis"] == ["legal_obligation", "contract"]
    assert found["subscriptions.subscriptions"]["basis"] == ["contract", "legal_obligation"]
    assert found["support.support_notes"]["basis"] == ["legitimate_interests"]
    assert found["marketing.marketing_consents"]["basis"] == ["consent"]
    assert all(entry["basis"] for entry in found.values()), "every shop category has one"


def _officer_told(app, client, request_id, kind):
    """The note of the request's one event of `kind`, and the request's console page as a
    signed-in officer sees it."""
    with app.app_context():
        [note] = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == request_id, RequestEvent.kind == kind))
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
    console_sign_in(client, "olga@cplus.example", "correct horse battery")
    return note, client.get(f"/console/requests/{request_id}").text


def test_a_category_without_grounds_for_programs_is_flagged_to_the_officer(
    app, client, inbox, run_jobs
):
    """A system that gives its ground in words only: the answer still says the words, and
    the officer is told to have its connector name its basis."""
    app.extensions["dsar.connectors"] = ConnectorRegistry({"archive": ArchiveConnector})
    request_id, data, _ = _answer(client, inbox, run_jobs, "nora@example.org")
    [notes] = _categories(data).values()
    assert notes["basis"] == [] and notes["legal_basis"] == "Consent, Art. 6(1)(a) GDPR"
    note, page = _officer_told(app, client, request_id, "basis_unknown")
    assert note == "archive.notes"
    assert "The system does not say on which ground of Art. 6(1) it holds archive.notes" in page


def test_a_ground_that_is_not_in_art_6_is_refused():
    """A connector cannot name a ground the law does not have."""
    with pytest.raises(ValueError, match="'interest'"):
        Category(name="x", title="X", fields=("a",), purpose="p", legal_basis="l",
                 recipients=(), retention="r", source="s", basis=("interest",))
    assert Category(name="x", title="X", fields=("a",), purpose="p", legal_basis="l",
                    recipients=(), retention="r", source="s",
                    basis=("contract",)).basis == (LegalBasis.CONTRACT,)


@pytest.mark.parametrize(("entry", "complaint"), [
    ({"name": "Far Away Inc.", "role": "processor", "purpose": "x", "country": "US",
      "receives": [{"category": "a.b", "fields": ["*"]}]}, "outside the EEA; name the"),
    ({"name": "Onward B.V.", "role": "processor", "purpose": "x", "country": "NL",
      "transfer": "IN", "receives": [{"category": "a.b", "fields": ["*"]}]}, "reaches IN"),
    ({"name": "Vague B.V.", "role": "partner", "purpose": "x", "country": "NL",
      "receives": [{"category": "a.b", "fields": ["*"]}]}, "role must be"),
    ({"name": "Typo B.V.", "role": "processor", "purpose": "x", "country": "NL",
      "recieves": []}, "unknown keys recieves"),
])
def test_the_register_refuses_what_it_cannot_act_on(entry, complaint):
    """A transfer without its safeguard, an unknown role or key: refused, naming it."""
    with pytest.raises(RecipientsRegisterError, match=re.escape(complaint)):
        parse_register({"recipients": [entry]})


def test_each_record_gets_its_own_end_and_those_past_it_reach_the_officer(
    app, client, inbox, run_jobs, seeded_shop
):
    """Retention applied, not quoted: her closed account ends the day it closed, a contact
    message six months after it was resolved; records past their end are flagged in the
    answer and reported to the officer on the request and in the digest."""
    request_id, data, text = _answer(client, inbox, run_jobs)
    found = _categories(data)
    accounts = found["accounts.account"]["records"]
    closed = [r for r in accounts if r["data"]["closed_at"]]
    still_open = [r for r in accounts if not r["data"]["closed_at"]]
    assert closed and still_open
    for record in closed:
        assert record["kept_until"] == record["data"]["closed_at"][:10]
        assert "kept_past_its_retention_period" in record["flags"]
    for record in still_open:
        assert record["kept_until"] is None
        assert record["kept_note"] == "while your account is open"
        assert "kept_past_its_retention_period" not in record["flags"]
    resolved = [r for r in found["support.contact_messages"]["records"]
                if r["data"]["resolved_at"]]
    assert resolved
    for record in resolved:
        day = date.fromisoformat(record["data"]["resolved_at"][:10])
        assert record["kept_until"] == add_months(day, 6).isoformat()
    notes = found["support.support_notes"]["records"]
    assert notes and all(r["kept_until"] == add_months(
        date.fromisoformat(r["data"]["created_at"][:10]), 24).isoformat() for r in notes), \
        "the policy names no period: the shop's upper bound is given"
    assert "Kept until" in text
    # A date that has passed is never shown without a word on it.
    assert "§" in text and "we should no longer hold it" in text

    with app.app_context():
        [note] = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == request_id, RequestEvent.kind == "over_retention"))
        create_officer("olga@cplus.example", "correct horse battery")
        db.session.commit()
        assert reminders.send_digest() == 1
    assert f"accounts.account: {len(closed)} record" in note
    [digest] = inbox.to("olga@cplus.example")
    assert "answers found data kept too long" in digest["Subject"]
    assert note in " ".join(text_of(digest).split())
    console_sign_in(client, "olga@cplus.example", "correct horse battery")
    page = client.get(f"/console/requests/{request_id}").text
    assert "Kept past their retention period" in page


@pytest.mark.parametrize(("kept", "data", "end"), [
    ({"after": "resolved_at", "months": 6, "open": "o"}, {"resolved_at": "2025-08-31T23:59:00"},
     date(2026, 2, 28)),
    ({"after": "resolved_at", "months": 6, "open": "o"}, {"resolved_at": "2024-02-29"},
     date(2024, 8, 29)),
    ({"after": "completed_at", "years": 7, "open": "o"}, {"completed_at": "2024-02-29"},
     date(2031, 2, 28)),
    ({"after": "completed_at", "years": 7, "open": "o"}, {"completed_at": None}, None),
    ({"until": "closed_at", "open": "o"}, {"closed_at": "2023-05-01T10:00:00+00:00"},
     date(2023, 5, 1)),
])
def test_the_end_of_keeping_crosses_month_ends_and_leap_days(kept, data, end):
    """Months clamp to the month's end, leap days fall back, an empty date runs on."""
    rules = parse_rules({"notes": {"on_erasure": "erase", "kept": kept}})
    assert rules["notes"].kept.end(data) == end


def test_a_kept_rule_must_say_from_when_and_in_words():
    """Neither or both of `until` and `after`, or no `open`: refused."""
    for kept in ({"open": "o"}, {"until": "a", "after": "b", "open": "o"}, {"after": "a"}):
        with pytest.raises(RetentionRulesError, match="kept needs"):
            parse_rules({"notes": {"on_erasure": "erase", "kept": kept}})


def test_records_kept_by_law_after_an_erasure_are_in_every_later_answer(
    app, client, inbox, run_jobs, seeded_shop
):
    """Her minimised orders lost her address in the erasure, yet are hers: a later access
    answer finds them by key, with the day the duty ends and why they are kept."""
    app.config["ERASURE_REQUIRES_APPROVAL"] = False
    erasure = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    with app.app_context():
        held = {(h.category, h.record_key): h for h in db.session.scalars(
            select(RetentionHold).where(RetentionHold.request_id == erasure))}
        db.session.expunge_all()
    assert any(category == "orders" for category, _ in held)

    _, data, _ = _answer(client, inbox, run_jobs)
    found = _categories(data)
    orders = {r["key"]: r for r in found["orders.orders"]["records"]}
    for (category, key), hold in held.items():
        if category != "orders":
            continue
        record = orders[key]
        assert record["kept_until"] == hold.retain_until.isoformat()
        assert "17(3)(b)" in record["kept_note"]
        assert "kept_under_a_legal_duty" in record["flags"]
        assert not record["data"]["email"], "the erasure cleared the address"


def test_an_erasure_held_up_by_contracts_carries_on_by_itself_when_they_end(
    app, client, inbox, run_jobs, seeded_shop
):
    """Erasure with an order under way and a subscription running: the letter says it will
    carry on and how to have it sooner; once the order is completed and the subscription
    ended, the periodic job erases the account, minimises the order and subscription, the
    person gets a follow-up letter, and a later answer lists the order with its end date."""
    app.config["ERASURE_REQUIRES_APPROVAL"] = False
    erasure = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if m["Subject"].startswith("The answer")]
    link = link_in(mail)
    letter = json.loads(download(client, link + "/report.json").data)
    pdf = PdfReader(io.BytesIO(download(client, link + "/report.pdf").data))
    words = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    blocked = {(item["category"], item["key"]) for item in letter["blocked"]}
    assert blocked and all(item["carries_on"] for item in letter["blocked"])
    assert letter["offer_to_end_subscription"] is True
    assert "we erase them without you asking again, and write to you" in words
    assert "you can end the subscription" in words
    with app.app_context():
        deferred = db.session.scalars(select(DeferredErasure).where(
            DeferredErasure.request_id == erasure)).all()
        assert {(d.category, d.record_key) for d in deferred} >= {
            ("orders", key) for category, key in blocked if category == "Your orders"}
        open_orders = {d.record_key for d in deferred if d.category == "orders"}
        db.session.expunge_all()
    assert open_orders

    # Nothing has ended yet: the job leaves everything as it is.
    with app.app_context():
        assert deferrals.resume_due() == 0
    done = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    with seeded_shop.begin() as conn:
        conn.execute(update(schema.orders).where(
            schema.orders.c.order_number.in_(open_orders)).values(
            status="delivered", completed_at=done))
        conn.execute(update(schema.subscriptions).where(
            schema.subscriptions.c.status == "active",
            schema.subscriptions.c.billing_email.ilike(f"%{DEMO_EMAIL}%")).values(
            status="cancelled", terminated_at=done))
    with app.app_context():
        jobs.end_retention()
    run_jobs()

    with seeded_shop.connect() as conn:
        kept = conn.execute(select(schema.orders).where(
            schema.orders.c.order_number.in_(open_orders))).mappings().all()
        accounts = conn.execute(select(schema.customers).where(
            schema.customers.c.email.ilike(f"%{DEMO_EMAIL.split('@')[0]}%"))).all()
    assert kept and all(not row["email"] and row["name"] for row in kept), "minimised"
    assert accounts == [], "her accounts are erased now"
    [follow_up] = inbox.to(DEMO_EMAIL)[-1:]
    assert follow_up["Subject"] == "We have finished erasing your data"
    body = " ".join(text_of(follow_up).split())
    for key in open_orders:
        assert f"Your orders {key}: erased, except what the law makes us keep until " \
               f"{add_months(done.date(), 84).isoformat()}" in body
    with app.app_context():
        assert all(d.resolved_at for d in db.session.scalars(select(DeferredErasure)))
    # Art. 19 for what was done now: the payment provider of each order hears of it by the
    # order number it knows, in its own language (Mollie in Dutch, PayPal in English).
    notices = [" ".join(text_of(m).split()) for m in inbox.messages
               if str(m["Subject"]).startswith("Art. 19")]
    for key in open_orders:
        assert any(f"order number {key}" in notice or f"bestelnummer {key}" in notice
                   for notice in notices), key

    _, data, _ = _answer(client, inbox, run_jobs)
    orders = {r["key"]: r for r in _categories(data)["orders.orders"]["records"]}
    for key in open_orders:
        assert orders[key]["kept_until"] == add_months(done.date(), 84).isoformat()
        assert "kept_under_a_legal_duty" in orders[key]["flags"]


def test_a_legal_duty_s_period_is_one_number_for_the_planner_and_the_answer():
    """Orders' `kept` names no period of its own: it runs from the duty's anchor and years."""
    rules = parse_rules({"orders": {
        "on_erasure": "minimise", "anchor": "completed_at", "retain_years": 7,
        "keep": ["order_number"], "legal_basis": "a law", "kept": {"open": "7 years after"}}})
    assert rules["orders"].kept.end({"completed_at": "2020-02-29"}) == date(2027, 2, 28)


def _pdf_text(client, link):
    """A PDF's text behind a link, its line breaks made spaces."""
    pdf = PdfReader(io.BytesIO(download(client, link).data))
    return " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)


def _day(value, pattern="d MMM y"):
    """A day as the documents write it in English: "3 Mar 2030" in an answer's tables,
    "3 March 2030" in a letter's running text."""
    return format_date(date.fromisoformat(value[:10]), pattern, locale="en_GB")


def test_a_kept_record_has_the_same_dates_before_in_and_after_its_erasure(
    app, client, inbox, run_jobs, seeded_shop
):
    """Her orders and her ended subscription: the access answer made before the erasure,
    the outcome letter and the access answer made after it give each the same end, compared
    by record key, in the JSON and in the PDF; the subscription's two stages (all of it for
    two years after it ended, the billing record for seven) are both named before, and the
    PDF after the erasure names the legal duty for what is kept."""
    _, before, before_text = _answer(client, inbox, run_jobs)
    titles = {"orders.orders": "Your orders", "subscriptions.subscriptions":
              "Your subscriptions"}
    found = _categories(before)
    ended = {r["key"]: r for r in found["subscriptions.subscriptions"]["records"]
             if r["data"]["terminated_at"]}
    assert ended, "the showcase customer has an ended subscription"
    for record in ended.values():
        first, last = record["stages"]
        terminated = date.fromisoformat(record["data"]["terminated_at"][:10])
        assert first["fields"] == "all" and first["until"] == add_months(terminated, 24).isoformat()
        assert last["until"] == add_months(terminated, 84).isoformat() == record["kept_until"]
        assert "billing_name" in last["fields"] and "17(3)(b)" in last["legal_basis"]
        assert (f"{_day(first['until'])}; what the law requires until {_day(last['until'])}"
                in before_text)
    assert {r["key"] for r in found["orders.orders"]["records"]}

    app.config["ERASURE_REQUIRES_APPROVAL"] = False
    inbox.clear()
    confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if m["Subject"].startswith("The answer")]
    link = link_in(mail)
    letter = json.loads(download(client, link + "/report.json").data)
    letter_text = _pdf_text(client, link + "/report.pdf")
    inbox.clear()
    _, after, after_text = _answer(client, inbox, run_jobs)
    later = _categories(after)

    compared = 0
    for name, title in titles.items():
        earlier = {r["key"]: r["kept_until"] for r in found[name]["records"]}
        kept = {item["key"]: item["retained_until"] for item in letter["minimised"]
                if item["category"] == title}
        again = {r["key"]: r["kept_until"] for r in later[name]["records"]}
        assert kept, f"the erasure kept some of {title} by law"
        for key, until in kept.items():
            assert earlier[key] == until == again[key], (name, key)
            for text in (before_text, after_text):
                assert _day(until) in text, (name, key, until)
            assert _day(until, "d MMMM y") in letter_text, (name, key, until)
            compared += 1
    assert compared >= 3
    assert "† Kept after you had your data erased, because the law requires it: Art. " \
        "17(3)(b) GDPR" in after_text


def test_records_past_their_period_are_erased_in_one_step_and_the_answer_says_when(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Held for review, the answer finds her old records past their period; the officer
    has them erased in one step: the order completed eight years ago and the old note go,
    the subscription ended three years ago keeps only its billing record until its duty
    ends, each is read back, a recipient is told, and the answer, released, still lists
    them as held when she asked, "erased on" today."""
    from tests.test_rights_flow import _snapshot

    app.config["REVIEW_ACCESS_REPORTS"] = True
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "access"})
    auth = {"Authorization": f"Bearer {officer_token}"}
    with app.app_context():
        [note] = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == request_id, RequestEvent.kind == "over_retention"))
    assert "orders.orders" in note and "subscriptions.subscriptions" in note, \
        "the officer is told before the answer goes"
    before = _snapshot(seeded_shop)
    old_orders = {row_id for row_id, row in before["orders"].items()
                  if row["email"].strip().lower() == DEMO_EMAIL and row["completed_at"]
                  and row["completed_at"] < datetime(2019, 12, 1)}
    assert old_orders
    inbox.clear()

    started = client.post(f"/api/v1/requests/{request_id}/erase-past-period", headers=auth)
    assert started.status_code == 202
    run_jobs()
    after = _snapshot(seeded_shop)
    assert not old_orders & set(after["orders"]), "orders past their seven years are gone"
    ended = [row for row in after["subscriptions"].values()
             if row["terminated_at"] and row["billing_name"] == "Sanne de Vries"]
    assert ended and all(row["payment_details"] is None and row["billing_email"] is None
                         for row in ended), "only the billing record stays"
    with app.app_context():
        holds_now = db.session.scalars(select(RetentionHold).where(
            RetentionHold.request_id == request_id)).all()
        kinds = [e.kind for e in db.session.scalars(select(RequestEvent).where(
            RequestEvent.request_id == request_id))]
    assert {h.category for h in holds_now} == {"subscriptions"}
    assert "past_period_erasure" in kinds and "past_period_not_carried_out" not in kinds
    assert [m for m in inbox.messages if DEMO_EMAIL not in str(m["To"])], \
        "those who received the erased data are told (Art. 19)"

    released = client.post(f"/api/v1/requests/{request_id}/approve", headers=auth)
    assert released.status_code == 202
    run_jobs()
    _, data, text = _answer_of(client, inbox)
    found = _categories(data)
    orders = {r["key"]: r for r in found["orders.orders"]["records"]}
    erased = [r for r in orders.values() if "erased_past_its_retention_period" in r["flags"]]
    assert len(erased) == len(old_orders), "the answer lists what was held when she asked"
    today = _day(datetime.now(UTC).date().isoformat())
    assert all(r["kept_note"] == f"erased on {today}" for r in erased)
    assert f"erased on {today}" in text


def _answer_of(client, inbox, email=DEMO_EMAIL):
    """The last answer mailed: its link, JSON and PDF text."""
    [mail] = [m for m in inbox.to(email) if m["Subject"].startswith("The answer")][-1:]
    link = link_in(mail)
    data = json.loads(download(client, link + "/report.json").data)
    return link, data, _pdf_text(client, link + "/report.pdf")


def test_a_field_or_code_without_a_label_is_shown_in_words_and_flagged_to_the_officer(
    app, client, inbox, run_jobs
):
    """A connector that gives its fields no labels: the answer shows them as words, never
    as `snake_case`, and the officer is told which they are."""
    notes = Category(name="notes", title="Notes in the archive", fields=("note_text", "kind"),
                     purpose="p", legal_basis="l", recipients=(), retention="r", source="s",
                     basis=("consent",), labels={"note_text": "note"},
                     values={"kind": {"memo": "memo"}})

    class Unlabelled(ArchiveConnector):
        """The archive, with a field and a code it gives no label."""

        categories = (notes,)

        def export(self, subject):
            """One note, of a kind it has no word for."""
            yield Record(category="notes", key="1",
                         data={"note_text": "an old note", "kind": "old_memo"})

    app.extensions["dsar.connectors"] = ConnectorRegistry({"archive": Unlabelled})
    request_id, data, text = _answer(client, inbox, run_jobs, "nora@example.org")
    [found] = _categories(data).values()
    assert found["records"][0]["data"] == {"note_text": "an old note", "kind": "old_memo"}
    assert "Kind" in text and "old memo" in text and "old_memo" not in text
    note, page = _officer_told(app, client, request_id, "labels_unknown")
    assert note == "archive.notes: kind, kind 'old_memo'"
    assert "as their names in words" in page and "archive.notes: kind" in page
