"""Erasure, correction, objection and restriction end to end, checked row by row in the shop.

Through the real app, a real RQ worker on a real Redis and a real SMTP server, against a
seeded shop: what the plan promised is what the shop's database holds afterwards.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from dsar.connector import Category, Connector, LegalBasis, Record
from dsar.connectors.shop import schema
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import ConnectorTask, DsarRequest, RetentionHold
from dsar.registry import ConnectorRegistry
from dsar.work import holds
from tests.helpers import confirm_request, download, link_in, text_of

PERSONAL = {
    "customers": {"email", "name", "street", "postal_code", "city", "country", "phone",
                  "billing_street", "billing_postal_code", "billing_city", "billing_country",
                  "payment_method", "payment_details", "registration_ip", "last_login_ip"},
    "orders": {"email", "name", "phone", "ship_street", "ship_postal_code", "ship_city",
               "ship_country", "billing_street", "billing_postal_code", "billing_city",
               "billing_country", "ip_address", "payment_method", "payment_reference"},
    "subscriptions": {"billing_email", "billing_name", "billing_street", "billing_postal_code",
                      "billing_city", "billing_country", "payment_method", "payment_details",
                      "ip_address"},
}
ORDER_KEPT = {"name", "billing_street", "billing_postal_code", "billing_city", "billing_country",
              "payment_reference"}
SUBSCRIPTION_KEPT = {"billing_name", "billing_street", "billing_postal_code", "billing_city",
                     "billing_country", "payment_method"}
TABLES = ("customers", "orders", "order_lines", "shipments", "subscriptions",
          "contact_messages", "support_notes", "marketing_consents")


def _snapshot(engine):
    """Every row of every shop table, by table and id."""
    with engine.connect() as conn:
        return {
            name: {row.id: dict(row._mapping)
                   for row in conn.execute(select(schema.metadata.tables[name]))}
            for name in TABLES
        }


def _hers(email):
    """Whether a stored address is the showcase customer's, however typed."""
    return email is not None and email.strip().lower() == DEMO_EMAIL


def _auth(token):
    """The officer's Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def _status(app, request_id):
    """A request's status in the database."""
    with app.app_context():
        return str(db.session.get(DsarRequest, request_id).status)


def _answer(client, inbox, email):
    """The newest answer mail's JSON and PDF text."""
    [mail] = [m for m in inbox.to(email) if m["Subject"].startswith("The answer")][-1:]
    link = link_in(mail)
    data = json.loads(download(client, link + "/report.json").data)
    pdf = download(client, link + "/report.pdf").data
    return data, "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _notices(inbox):
    """The Art. 19 notices received, by addressee."""
    return [str(m["To"]) for m in inbox.messages if str(m["Subject"]).startswith("Art. 19")]


def test_erasure_does_what_the_plan_promised_row_by_row(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Erased rows hold no personal data, minimised rows only fiscal fields, the rest untouched."""
    before = _snapshot(seeded_shop)
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    assert _status(app, request_id) == "awaiting_approval"
    assert _notices(inbox) == [], "nothing happens before approval"
    assert _snapshot(seeded_shop) == before

    plan = client.get(f"/api/v1/requests/{request_id}/plan", headers=_auth(officer_token)).json
    decisions = {(d["category"], d["key"]): d for items in plan["connectors"].values()
                 for d in items}
    approved = client.post(f"/api/v1/requests/{request_id}/approve", headers=_auth(officer_token))
    assert approved.status_code == 202
    run_jobs()
    assert _status(app, request_id) == "completed", client.get(
        f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    after = _snapshot(seeded_shop)

    her_ids = {i for i, c in before["customers"].items() if _hers(c["email"])}
    her_orders = {i: o for i, o in before["orders"].items()
                  if o["customer_id"] in her_ids or _hers(o["email"])}
    assert her_orders and any(o["customer_id"] is None for o in her_orders.values())
    for customer_id in her_ids:
        decision = decisions[("account", before["customers"][customer_id]["customer_number"])]
        row = after["customers"][customer_id]
        if decision["disposition"] == "erase":
            assert all(not row[c] for c in PERSONAL["customers"]), row
            assert row["customer_number"] != before["customers"][customer_id]["customer_number"]
        else:
            assert row == before["customers"][customer_id]
    for order_id, order in her_orders.items():
        decision = decisions[("orders", order["order_number"])]
        if decision["disposition"] == "erase":
            assert order_id not in after["orders"]
            assert not any(line["order_id"] == order_id for line in after["order_lines"].values())
        elif decision["disposition"] == "minimise":
            row = after["orders"][order_id]
            for column in PERSONAL["orders"]:
                assert row[column] == (order[column] if column in ORDER_KEPT else row[column])
                if column not in ORDER_KEPT:
                    assert not row[column], (column, row[column])
            assert row["customer_id"] is None
            assert row["total_cents"] == order["total_cents"]
            assert date.fromisoformat(decision["retain_until"]) > date.today()
        else:
            assert decision["disposition"] == "blocked"
            assert "still being processed" in decision["reason"]
            assert after["orders"][order_id] == order
    for shipment_id, shipment in before["shipments"].items():
        if shipment["order_id"] in her_orders:
            order_blocked = decisions[("orders", her_orders[shipment["order_id"]]["order_number"])][
                "disposition"] == "blocked"
            assert (after["shipments"].get(shipment_id) == shipment) if order_blocked \
                else shipment_id not in after["shipments"]
    for sub_id, sub in before["subscriptions"].items():
        if sub["customer_id"] not in her_ids:
            continue
        row = after["subscriptions"].get(sub_id)
        if sub["status"] == "active":
            assert row == sub
        elif row is not None:
            assert all(not row[c] for c in PERSONAL["subscriptions"] - SUBSCRIPTION_KEPT)
            assert all(row[c] == sub[c] for c in SUBSCRIPTION_KEPT)
    for table in ("contact_messages", "support_notes", "marketing_consents"):
        for row_id, row in before[table].items():
            if row.get("customer_id") in her_ids or _hers(row.get("email")) or (
                table == "contact_messages" and row["customer_number"] in
                    {before["customers"][i]["customer_number"] for i in her_ids}):
                assert row_id not in after[table], (table, row)

    others = {t: {i: r for i, r in before[t].items()
                  if not (t == "customers" and i in her_ids)} for t in ("customers",)}
    for customer_id, row in others["customers"].items():
        assert after["customers"][customer_id] == row, "nobody else's account changed"

    suppressed = client.post("/api/v1/suppressions/check", headers=_auth(officer_token),
                             json={"emails": [" Sanne.DeVries@EXAMPLE.nl", "x@example.org"]})
    assert suppressed.json["suppressed"] == [" Sanne.DeVries@EXAMPLE.nl"]

    letter, text = _answer(client, inbox, DEMO_EMAIL)
    assert letter["format"] == "cplus-dsar-outcome"
    assert {i["key"] for i in letter["minimised"]} == {
        k for (c, k), d in decisions.items() if d["disposition"] == "minimise"}
    assert all("17(3)(b)" in i["legal_basis"] for i in letter["minimised"])
    assert "Kept because the law requires it" in text and "Autoriteit Persoonsgegevens" in text
    notices = _notices(inbox)
    assert sorted(notices) == sorted(set(notices)), "one notice per recipient"
    assert len(notices) == len(letter["recipients_told"]) > 0
    # Art. 19 from the register: only those that had the data, told in their own terms.
    told = {str(m["To"]): " ".join(text_of(m).split()) for m in inbox.messages
            if str(m["Subject"]).startswith("Art. 19")}
    # The Dutch carriers and payment provider are written to in Dutch (their `language` in
    # the register), PayPal in Luxembourg in English.
    carrier = told.get("privacy@postnl.example") or told["privacy@dhl.example"]
    assert carrier.startswith("Aan het privacyteam van ")
    assert re.search(r"- trackingnummer \w+, bestelnummer CP-\d{4}-\d{6}: ", carrier), carrier
    assert "Bezorging van uw bestellingen" not in carrier, "the customer's title, not theirs"
    payments = {a: told[a] for a in ("privacy@payments.example", "privacy@paypal.example")
                if a in told}
    assert payments, told.keys()
    for address, notice in payments.items():
        if address == "privacy@payments.example":
            assert "- bestelnummer CP-" in notice and "Uw bestellingen" not in notice
        else:
            assert notice.startswith("To the privacy team of ")
            assert "- order number CP-" in notice and "Your orders" not in notice
        assert not re.search(r"delivered to|bezorgd aan|phone|telefoon|ip address", notice,
                             re.IGNORECASE), notice

    # The same erasure again changes nothing and tells nobody anything new.
    inbox.clear()
    again = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    client.post(f"/api/v1/requests/{again}/approve", headers=_auth(officer_token))
    run_jobs()
    assert _status(app, again) == "completed"
    assert _snapshot(seeded_shop) == after
    assert _notices(inbox) == []

    # When the duty ends, the periodic job erases what was kept.
    with app.app_context():
        held = db.session.scalars(select(RetentionHold)).all()
        assert {h.record_key for h in held} == {i["key"] for i in letter["minimised"]}
        holds.end_due_holds(today=date(2100, 1, 1))
    final = _snapshot(seeded_shop)
    for order_id, order in her_orders.items():
        if decisions[("orders", order["order_number"])]["disposition"] == "minimise":
            assert order_id not in final["orders"]


def test_erasure_without_approval_when_the_shop_says_so(app, client, inbox, run_jobs, seeded_shop):
    """With ERASURE_REQUIRES_APPROVAL off, a verified erasure is carried out at once."""
    app.config["ERASURE_REQUIRES_APPROVAL"] = False
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    assert _status(app, request_id) == "completed"


def test_correction_reaches_every_current_record_and_no_closed_one(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """The open account and unshipped orders change; closed accounts and delivered orders do not."""
    before = _snapshot(seeded_shop)
    payload = {"email": DEMO_EMAIL, "type": "rectification",
               "corrections": {"city": "Haarlem", "phone": "+31 6 98765432"}}
    request_id = confirm_request(client, inbox, run_jobs, payload)
    assert _status(app, request_id) == "awaiting_approval"
    plan = client.get(f"/api/v1/requests/{request_id}/plan", headers=_auth(officer_token)).json
    assert any(c["field"] in {"city", "ship_city"} for items in plan["connectors"].values()
               for c in items)
    client.post(f"/api/v1/requests/{request_id}/approve", headers=_auth(officer_token))
    run_jobs()
    assert _status(app, request_id) == "completed"
    after = _snapshot(seeded_shop)
    for customer_id, row in before["customers"].items():
        if _hers(row["email"]) and row["closed_at"] is None:
            assert after["customers"][customer_id]["city"] == "Haarlem"
            assert after["customers"][customer_id]["phone"] == "+31 6 98765432"
        else:
            assert after["customers"][customer_id] == row
    her_ids = {i for i, c in before["customers"].items() if _hers(c["email"])}
    for order_id, order in before["orders"].items():
        if (order["customer_id"] in her_ids or _hers(order["email"])) and \
                order["status"] in {"placed", "paid"}:
            assert after["orders"][order_id]["ship_city"] == "Haarlem"
        else:
            assert after["orders"][order_id] == order
    assert after["shipments"] == before["shipments"]

    letter, text = _answer(client, inbox, DEMO_EMAIL)
    assert {c["new"] for c in letter["corrected"]} == {"Haarlem", "+31 6 98765432"}
    assert "Haarlem" in text
    told = _notices(inbox)
    # Nobody received her account's city or phone, nor an unshipped order's address:
    # telling a carrier would disclose them (Art. 5(1)(c)).
    assert told == [], told

    inbox.clear()
    again = confirm_request(client, inbox, run_jobs, payload)
    client.post(f"/api/v1/requests/{again}/approve", headers=_auth(officer_token))
    run_jobs()
    assert _snapshot(seeded_shop) == after, "the same correction twice changes nothing"
    assert _notices(inbox) == [], f"no second notice (first time: {told})"


def test_objection_withdraws_every_consent_and_suppresses_without_approval(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Every consent of the address, in any case, is withdrawn at once and stays suppressed."""
    before = _snapshot(seeded_shop)
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": DEMO_EMAIL, "type": "objection"})
    assert _status(app, request_id) == "completed"
    after = _snapshot(seeded_shop)
    her_ids = {i for i, c in before["customers"].items() if _hers(c["email"])}
    hers = [i for i, c in before["marketing_consents"].items()
            if _hers(c["email"]) or c["customer_id"] in her_ids]
    assert hers
    for consent_id in hers:
        assert after["marketing_consents"][consent_id]["withdrawn_at"] is not None
    for consent_id, row in before["marketing_consents"].items():
        if consent_id not in hers:
            assert after["marketing_consents"][consent_id] == row
    check = client.post("/api/v1/suppressions/check", headers=_auth(officer_token),
                        json={"emails": [DEMO_EMAIL.upper()]})
    assert check.json["suppressed"] == [DEMO_EMAIL.upper()]
    letter, _ = _answer(client, inbox, DEMO_EMAIL)
    assert letter["offers_stopped"] is True and letter["consent_withdrawn"]
    for table in TABLES:
        if table != "marketing_consents":
            assert after[table] == before[table], f"an objection leaves {table} alone"

    # Opting in anew in the shop lifts the suppression; nothing else does.
    lifted = client.post("/api/v1/suppressions/lift", headers=_auth(officer_token),
                         json={"email": DEMO_EMAIL})
    assert lifted.json == {"lifted": True}
    check = client.post("/api/v1/suppressions/check", headers=_auth(officer_token),
                        json={"emails": [DEMO_EMAIL]})
    assert check.json["suppressed"] == []


NEWSLETTER = Category(
    name="newsletter_subscriptions", title="Your newsletter subscriptions", fields=("list",),
    purpose="Sending you our newsletter.", legal_basis="Consent, Art. 6(1)(a) GDPR",
    recipients=(), retention="Until you unsubscribe.", source="You.",
    basis=(LegalBasis.CONSENT,), direct_marketing=True)


class NewsletterConnector(Connector):
    """A mailing platform that sends offers, and whose connector cannot unsubscribe anyone."""

    name = "newsletter"
    title = "Newsletter platform"
    categories = (NEWSLETTER,)

    def export(self, subject):
        """One subscription for anyone."""
        yield Record(category="newsletter_subscriptions", key="1", data={"list": "weekly"})


def test_an_objection_reaches_a_marketing_system_that_cannot_withdraw_consent_by_hand(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """No system that sends offers is skipped: one whose connector cannot withdraw consent
    gets a manual task saying what to do where, and "no more offers" waits for it."""
    shop = app.extensions["dsar.connectors"]
    app.extensions["dsar.connectors"] = ConnectorRegistry(
        {**{name: shop.get_class(name) for name in shop.names},
         "newsletter": NewsletterConnector})
    request_id = confirm_request(client, inbox, run_jobs,
                                 {"email": DEMO_EMAIL, "type": "objection"})
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    assert status["status"] == "in_progress", "it waits for the newsletter platform"
    [manual] = [t for t in status["tasks"] if t["status"] == "manual"]
    assert manual["connector"] == "newsletter"
    with app.app_context():
        task = db.session.get(ConnectorTask, manual["id"])
        assert "Newsletter platform uses Your newsletter subscriptions to send offers" in \
            task.error and "stop all offers to this person there, by hand" in task.error
    assert not [m for m in inbox.to(DEMO_EMAIL) if "answer" in str(m["Subject"]).lower()]

    done = client.post(f"/api/v1/requests/{request_id}/tasks/{manual['id']}/complete",
                       headers=_auth(officer_token), json={"note": "unsubscribed from weekly"})
    assert done.status_code == 200
    run_jobs()
    assert _status(app, request_id) == "completed"
    letter, text = _answer(client, inbox, DEMO_EMAIL)
    assert letter["offers_stopped"] is True
    assert "unsubscribed from weekly" in text


def test_restriction_asks_the_officer_where_a_system_cannot_mark_data(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Systems without a storage-only mark become manual tasks; lifting tells the person first."""
    before = _snapshot(seeded_shop)
    request_id = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": "restriction", "ground": "accuracy_contested"})
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    assert status["status"] == "in_progress"
    manual = [t for t in status["tasks"] if t["status"] == "manual"]
    assert {t["connector"] for t in manual} >= {"accounts", "orders"}
    for task in manual:
        done = client.post(f"/api/v1/requests/{request_id}/tasks/{task['id']}/complete",
                           headers=_auth(officer_token), json={"note": "flagged storage-only"})
        assert done.status_code == 200
    run_jobs()
    assert _status(app, request_id) == "completed"
    after = _snapshot(seeded_shop)
    for table in TABLES:
        if table != "marketing_consents":
            assert after[table] == before[table], f"a restriction keeps {table} as it is"
    assert all(row["withdrawn_at"] for row_id, row in after["marketing_consents"].items()
               if row != before["marketing_consents"][row_id]), "marketing stops"
    letter, text = _answer(client, inbox, DEMO_EMAIL)
    assert "contest the accuracy" in letter["restriction"]["ground"]
    assert letter["restriction"]["marked"], "the marketing consents were marked"
    assert "flagged storage-only" in text

    lifted = client.post(f"/api/v1/requests/{request_id}/lift-restriction",
                         headers=_auth(officer_token), json={"reason": "The data was checked."})
    assert lifted.status_code == 200
    run_jobs()
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if "will be lifted" in str(m["Subject"])]
    assert "The data was checked." in mail.get_body(preferencelist=("plain",)).get_content()
