"""Art. 19 notices a recipient can act on: each record under the identifier the recipient
knows it by, in the recipient's language, and every payment method placed by the register.

Through the real app, a real RQ worker on a real Redis and a real SMTP server, against the
seeded shop; the notices are read as the recipients receive them.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from dsar.connectors.shop import schema
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import RequestEvent
from dsar.policy.recipients import RecipientsRegisterError, parse_register
from dsar.web.officers import create_officer
from dsar.work.notices import RECIPIENTS_UNPLACED
from dsar.work.rules import recipients_register
from tests.helpers import confirm_request, console_sign_in, text_of

MOLLIE = "privacy@payments.example"
PAYPAL = "privacy@paypal.example"
BREVO = "dpo@brevo.example"
CARRIERS = {"PostNL": "privacy@postnl.example", "DHL": "privacy@dhl.example"}
#: The words a person reads for her categories, never what a recipient is told.
CUSTOMER_TITLES = ("Your orders", "Uw bestellingen", "Deliveries of your orders",
                   "Bezorging van uw bestellingen", "Your subscriptions", "Uw abonnementen",
                   "Your account", "Uw account")


def _hers(email):
    """Whether a stored address is the showcase customer's, however typed."""
    return email is not None and email.strip().lower() == DEMO_EMAIL


def _her_rows(engine):
    """Her orders with their shipments, and her subscriptions, as the shop holds them."""
    with engine.connect() as conn:
        ids = {row.id for row in conn.execute(select(schema.customers)) if _hers(row.email)}
        orders = [dict(row._mapping) for row in conn.execute(select(schema.orders))
                  if row.customer_id in ids or _hers(row.email)]
        shipments = [dict(row._mapping) for row in conn.execute(select(schema.shipments))
                     if row.order_id in {order["id"] for order in orders}]
        subscriptions = [dict(row._mapping) for row in conn.execute(
            select(schema.subscriptions)) if row.customer_id in ids]
    return orders, shipments, subscriptions


def _notices(inbox):
    """The Art. 19 notices received: per address, its subject and its lines."""
    told = {}
    for message in inbox.messages:
        if str(message["Subject"]).startswith("Art. 19"):
            body = text_of(message)
            told[str(message["To"])] = (str(message["Subject"]), body, [
                line[2:] for line in body.splitlines() if line.startswith("- ")])
    return told


def _approved(client, inbox, run_jobs, officer_token, payload):
    """A request made, confirmed, its plan approved and carried out; its plan."""
    request_id = confirm_request(client, inbox, run_jobs, payload)
    auth = {"Authorization": f"Bearer {officer_token}"}
    plan = client.get(f"/api/v1/requests/{request_id}/plan", headers=auth).json
    assert client.post(f"/api/v1/requests/{request_id}/approve", headers=auth).status_code == 202
    run_jobs()
    return request_id, plan


def _events(app, request_id, kind):
    """The notes of a request's events of one kind."""
    with app.app_context():
        return list(db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == request_id, RequestEvent.kind == kind)))


def test_erasure_notices_name_each_record_as_the_recipient_knows_it_in_its_language(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Carriers by tracking and order number, the payment providers by order number and, for
    the SEPA subscription, by account; each once, in Dutch for a Dutch company, in English
    for a foreign one; her address once to the mail service, however she typed it."""
    orders, shipments, subscriptions = _her_rows(seeded_shop)
    request_id, plan = _approved(client, inbox, run_jobs, officer_token,
                                 {"email": DEMO_EMAIL, "type": "erasure"})
    acted = {(d["category"], d["key"]) for items in plan["connectors"].values() for d in items
             if d["disposition"] in {"erase", "minimise"}}
    told = _notices(inbox)
    assert _events(app, request_id, RECIPIENTS_UNPLACED) == [], "every payment method placed"

    for address, (subject, body, lines) in told.items():
        assert lines and len(lines) == len(set(lines)), (address, lines)
        assert not any(title in body for title in CUSTOMER_TITLES), body
        dutch = address in {MOLLIE, *CARRIERS.values()}
        assert subject == ("Art. 19 AVG: persoonsgegevens die u ontving zijn gewist" if dutch
                           else "Art. 19 GDPR: personal data you received was erased"), subject
        for line in lines:
            assert line.endswith(" gewist" if dutch else " erased"), line

    by_order = {order["id"]: order for order in orders}
    for shipment in shipments:
        order = by_order[shipment["order_id"]]
        if ("shipments", shipment["tracking_number"]) not in acted and (
                "orders", order["order_number"]) not in acted:
            continue
        _, _, lines = told[CARRIERS[shipment["carrier"]]]
        [line] = [x for x in lines if shipment["tracking_number"] in x]
        assert line.startswith(f"trackingnummer {shipment['tracking_number']}, bestelnummer "
                               f"{order['order_number']}: "), line
    for order in orders:
        if ("orders", order["order_number"]) not in acted:
            continue
        address, word = {"iDEAL": (MOLLIE, "bestelnummer"), "creditcard": (MOLLIE,
                         "bestelnummer"), "PayPal": (PAYPAL, "order number")}[
                             order["payment_method"]]
        [line] = [x for x in told[address][2] if order["order_number"] in x]
        assert line.startswith(f"{word} {order['order_number']}, "), line
        assert order["payment_reference"] in line, line
    # Her ended SEPA subscription is kept as a billing record without its account number:
    # the direct-debit provider hears so, by the account it debited.
    ended = [s for s in subscriptions if s["status"] == "cancelled"]
    assert ended and {s["payment_method"] for s in subscriptions} == {"SEPA direct debit"}
    [sepa] = [x for x in told[MOLLIE][2] if ended[0]["payment_details"] in x]
    assert re.fullmatch(rf"betaalgegevens {ended[0]['payment_details']}: .+ gewist", sepa), sepa
    # Brevo knows her by e-mail address: her account, orders and consents, typed four ways,
    # are one line, in English.
    [brevo] = told[BREVO][2]
    assert re.fullmatch(rf"e-mail address {re.escape(DEMO_EMAIL)}: .+ erased", brevo, re.IGNORECASE)


def test_an_address_correction_tells_the_sepa_provider_by_the_account_it_debits(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """Her active SEPA subscription's billing address changes: the provider holding the
    mandate is told in Dutch, under her account number, with the new address; nobody who
    never had the address is told."""
    _, _, subscriptions = _her_rows(seeded_shop)
    [active] = [s for s in subscriptions if s["status"] == "active"]
    corrections = {"billing_street": "Zijlweg 7", "billing_postal_code": "2013 DB",
                   "billing_city": "Haarlem"}
    request_id, _ = _approved(client, inbox, run_jobs, officer_token,
                              {"email": DEMO_EMAIL, "type": "rectification",
                               "corrections": corrections})
    told = _notices(inbox)
    assert set(told) == {MOLLIE}, told.keys()
    subject, body, [line] = told[MOLLIE]
    assert subject == "Art. 19 AVG: persoonsgegevens die u ontving zijn verbeterd"
    assert body.startswith("Aan het privacyteam van Mollie B.V.")
    assert line.startswith(f"betaalgegevens {active['payment_details']}: "), line
    assert "verbeterd in" in line and all(value in line for value in corrections.values())
    assert _events(app, request_id, "notice_for_officer") == [], "settled from the record"


def test_a_payment_method_the_register_does_not_know_reaches_the_officer(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """An order paid by a method no entry handles: nobody would hear of its erasure, so the
    officer is told when the plan is made, on the request's page in the console."""
    orders, _, _ = _her_rows(seeded_shop)
    order = max(orders, key=lambda o: o["placed_at"])
    with seeded_shop.begin() as conn:
        conn.execute(update(schema.orders).where(schema.orders.c.id == order["id"]).values(
            payment_method="Klarna"))
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL,
                                                           "type": "erasure"})
    [note] = _events(app, request_id, RECIPIENTS_UNPLACED)
    assert note == f"orders.orders with payment method 'Klarna' ({order['order_number']})"
    with app.app_context():
        create_officer("dpo@cplus.example", "a long enough password")
        db.session.commit()
    console_sign_in(client, "dpo@cplus.example", "a long enough password")
    page = client.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert "No entry of the recipients register receives orders.orders with payment method " \
           f"&#39;Klarna&#39; ({order['order_number']})" in page


def test_the_demo_register_places_every_payment_method_of_the_demo_shop(app, seeded_shop):
    """Each order's and subscription's payment method in the seeded shop has its provider."""
    with seeded_shop.connect() as conn:
        rows = [("orders.orders", dict(row._mapping))
                for row in conn.execute(select(schema.orders))]
        rows += [("subscriptions.subscriptions", dict(row._mapping))
                 for row in conn.execute(select(schema.subscriptions))]
    methods = {data["payment_method"] for _, data in rows}
    assert {"iDEAL", "creditcard", "PayPal", "SEPA direct debit"} <= methods
    register = recipients_register()
    assert [(c, d["payment_method"]) for c, d in rows if register.unplaced(c, d)] == []
    assert register.unplaced("orders.orders", {"payment_method": "Klarna"}) == [
        ("payment_method", "Klarna")]


def _entry(**changes):
    """A register of one recipient, its entry changed as given."""
    entry = {"name": "Example B.V.", "role": "controller", "purpose": "testing",
             "country": "NL", "notices_to": "privacy@example.org",
             "receives": [{"category": "orders.orders", "fields": ["email"],
                           "known_by": ["order_number"]}]}
    return {"recipients": [{**entry, **changes}]}


def test_a_recipient_s_language_is_the_shop_s_at_home_and_english_abroad():
    """No `language`: Dutch for a company in the Netherlands, English anywhere else."""
    assert parse_register(_entry()).recipients[0].language == "nl"
    assert parse_register(_entry(country="FR")).recipients[0].language == "en"
    assert parse_register(_entry(country="FR", language="nl")).recipients[0].language == "nl"


def test_a_recipient_that_takes_notices_must_say_how_it_knows_a_record():
    """A notice names records by the recipient's identifiers, never by our internal ids."""
    receives = [{"category": "orders.orders", "fields": ["email"]}]
    with pytest.raises(RecipientsRegisterError, match="known_by"):
        parse_register(_entry(receives=receives))
    assert parse_register(_entry(receives=receives, notices_to=""))
