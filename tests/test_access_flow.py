"""An access request end to end: the real app, a real RQ worker on a real Redis, real SMTP."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from dsar.connectors.shop import schema
from dsar.connectors.shop.seed import DEMO_EMAIL, DEMO_NAME
from tests.helpers import download, link_in, submit_and_confirm


def _rows(engine, table):
    """Every row of a shop table, read directly: the test's own view of the truth."""
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(table))]


def _is_hers(email):
    """Whether a stored address is the showcase customer's, however it was typed."""
    return email is not None and email.strip().lower() == DEMO_EMAIL


def test_demo_customer_gets_all_her_data_and_nobody_elses(
    app, client, inbox, run_jobs, seeded_shop, officer_token
):
    """The answer holds every record of hers in every system, and nothing of anyone else."""
    request_id, answer_mail = submit_and_confirm(
        client, inbox, run_jobs, " Sanne.DeVries@Example.NL "
    )
    assert "report.pdf" not in [p.get_filename() for p in answer_mail.iter_attachments()]

    status = client.get(
        f"/api/v1/requests/{request_id}", headers={"Authorization": f"Bearer {officer_token}"}
    )
    assert status.json["status"] == "completed"
    assert {t["connector"] for t in status.json["tasks"]} == {
        "accounts", "orders", "subscriptions", "support", "marketing"
    }
    assert all(t["status"] == "succeeded" for t in status.json["tasks"])

    link = link_in(answer_mail)
    page = client.get(link)
    assert "report.pdf" in page.text and "report.json" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    report = download(client, link + "/report.json")
    assert report.headers["Content-Type"] == "application/json"
    data = json.loads(report.data)
    pdf = download(client, link + "/report.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)

    customers = _rows(seeded_shop, schema.customers)
    orders = _rows(seeded_shop, schema.orders)
    her_ids = {c["id"] for c in customers if _is_hers(c["email"])}
    assert len(her_ids) == 2, "the showcase customer has a closed and a new account"
    her_orders = [o for o in orders if o["customer_id"] in her_ids or _is_hers(o["email"])]
    assert any(o["customer_id"] is None for o in her_orders), "a guest order of hers exists"

    dumped = json.dumps(data)
    for order in her_orders:
        assert order["order_number"] in dumped
        assert order["order_number"] in pdf_text
    for customer in customers:
        if customer["id"] in her_ids:
            assert customer["customer_number"] in dumped
        else:
            assert customer["customer_number"] not in dumped
            assert customer["email"].strip().lower() not in dumped.lower()
            assert customer["email"].strip().lower() not in pdf_text.lower()
            if customer["name"] != DEMO_NAME:
                assert customer["name"] not in dumped
    counts = {(c["connector"], c["category"]): c["count"] for c in data["summary"]["categories"]}
    assert counts[("accounts", "account")] == 2
    assert counts[("orders", "orders")] == len(her_orders)
    her_subscriptions = [s for s in _rows(seeded_shop, schema.subscriptions)
                         if s["customer_id"] in her_ids]
    assert counts[("subscriptions", "subscriptions")] == len(her_subscriptions)

    assert data["format"] == "cplus-dsar-report" and data["version"] == 1
    orders_category = next(c for s in data["sections"] for c in s["categories"]
                           if c["name"] == "orders")
    assert "seven years" in orders_category["retention"]
    assert orders_category["legal_basis"]
    assert DEMO_NAME in pdf_text
    assert "Autoriteit Persoonsgegevens" in pdf_text
    assert "What we hold about you" in pdf_text.split(orders_category["title"])[0], (
        "the summary comes first")


def test_portability_answer_is_the_same_structured_json(client, inbox, run_jobs, seeded_shop):
    """A portability request gets the machine-readable report too."""
    _, answer_mail = submit_and_confirm(client, inbox, run_jobs, DEMO_EMAIL, "portability")
    data = download(client, link_in(answer_mail) + "/report.json").json
    assert data["request"]["type"] == "portability"
    assert data["summary"]["holds_data"] is True


def test_unknown_address_is_told_no_data_is_held(client, inbox, run_jobs, seeded_shop):
    """An address the shop does not know gets a verified answer saying so."""
    _, answer_mail = submit_and_confirm(client, inbox, run_jobs, "stranger@example.org")
    link = link_in(answer_mail)
    assert download(client, link + "/report.json").json["summary"]["holds_data"] is False
    pdf = download(client, link + "/report.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "We hold no personal data about you" in text
