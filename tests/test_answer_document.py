"""The readable answer (PDF): layered, tagged, whole at any size, and never withholding the JSON."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from dsar.connectors.shop import schema
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import RequestEvent
from tests.conftest import OFFICER, OFFICER_PASSWORD
from tests.helpers import csrf_token, download, link_in, submit_and_confirm, text_of
from tests.history import add_customer_with_orders

#: A typical answer fits in a handful of pages: seven since it names every recipient,
#: the transfers, automated decisions and each record's end of keeping (Art. 15 in full).
HANDFUL_OF_PAGES = 7


def _pdf(client, link: str) -> tuple[PdfReader, str]:
    """The answer's PDF, read back, and its text."""
    response = download(client, link + "/report.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _structure(reader: PdfReader) -> list[tuple[str, int]]:
    """The tagged structure, depth first: (type, depth) per element."""
    found: list[tuple[str, int]] = []

    def walk(element: Any, depth: int) -> None:
        element = element.get_object()
        if not hasattr(element, "keys") or "/S" not in element:
            return
        found.append((str(element["/S"]), depth))
        kids = element.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if kid is not None and not isinstance(kid, int):
                walk(kid, depth + 1)

    for top in reader.trailer["/Root"]["/StructTreeRoot"]["/K"]:
        walk(top, 0)
    return found


def _data_rows(reader: PdfReader) -> int:
    """How many table rows hold data cells only (no header cell): records, and the front
    page's summary lines."""
    structure = _structure(reader)
    rows = 0
    for index, (kind, depth) in enumerate(structure):
        if kind != "/TR":
            continue
        cells = []
        for inner, inner_depth in structure[index + 1:]:
            if inner_depth <= depth:
                break
            if inner_depth == depth + 1:
                cells.append(inner)
        rows += bool(cells) and all(cell == "/TD" for cell in cells)
    return rows


def _money(cents: int) -> str:
    """An amount as an English answer writes it, worked out here independently: €1,234.56
    (a Dutch answer writes € 1.234,56: tests/test_languages.py)."""
    return f"€{cents // 100:,}.{cents % 100:02d}"


def _screenshots(pdf: bytes, folder: str) -> None:
    """Renders the first two pages to PNG for the README."""
    document = pypdfium2.PdfDocument(pdf)
    for index in range(min(2, len(document))):
        image = document[index].render(scale=1.6).to_pil()
        image.save(Path(folder) / f"answer-pdf-page-{index + 1}.png")
    document.close()


def test_a_typical_answer_is_a_short_layered_document(
    app, client, inbox, run_jobs, seeded_shop
):
    """A summary first, then a row per record in human terms; every field in the JSON."""
    _, answer_mail = submit_and_confirm(client, inbox, run_jobs, DEMO_EMAIL)
    link = link_in(answer_mail)
    reader, text = _pdf(client, link)
    report = json.loads(download(client, link + "/report.json").data)

    assert len(reader.pages) <= HANDFUL_OF_PAGES
    first_page = reader.pages[0].extract_text()
    assert "Your personal data at Cplus" in first_page
    assert "What we hold about you" in first_page
    for entry in report["summary"]["categories"]:
        assert entry["title"] in first_page
        assert entry["period"]["first"] is not None, entry["title"]
    assert "report.json" in first_page, "the PDF says where the complete data is"

    with seeded_shop.connect() as connection:
        her_orders = [dict(row._mapping) for row in connection.execute(
            select(schema.orders).where(schema.orders.c.email.ilike(f"%{DEMO_EMAIL}%")))]
    assert her_orders
    lines = text.splitlines()
    for order in her_orders:
        # Its row in the orders table; the deliveries table names the order too.
        [row] = [line for line in lines if order["order_number"] in line.split(" ")[:2]
                 and "€" in line]
        assert _money(order["total_cents"]) in row, row
        assert re.search(r"\d+ items?", row), row
    assert "total_cents" not in text and "total cents" not in text
    assert "Delivered to" in text and "Amount" in text
    # Every record is a row of a table, and every field of it is in the JSON.
    assert _data_rows(reader) == (report["summary"]["record_count"]
                                  + len(report["summary"]["categories"]))
    orders = next(c for s in report["sections"] for c in s["categories"] if c["name"] == "orders")
    assert set(orders["records"][0]["data"]) >= {"total_cents", "billing_street", "ip_address"}

    if os.environ.get("DSAR_SCREENSHOTS_DIR"):
        _screenshots(download(client, link + "/report.pdf").data,
                     os.environ["DSAR_SCREENSHOTS_DIR"])


def test_the_answer_is_an_accessible_pdf(app, client, inbox, run_jobs, seeded_shop):
    """Tagged (PDF/UA-1), with its title shown and its language set."""
    _, answer_mail = submit_and_confirm(client, inbox, run_jobs, DEMO_EMAIL)
    reader, _ = _pdf(client, link_in(answer_mail))
    catalogue = reader.trailer["/Root"]
    assert catalogue["/Lang"] == "en"
    assert bool(catalogue["/MarkInfo"]["/Marked"])
    assert bool(catalogue["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == "Your personal data at Cplus"
    assert b"pdfuaid" in catalogue["/Metadata"].get_object().get_data()
    kinds = {kind for kind, _ in _structure(reader)}
    assert {"/Document", "/H1", "/H2", "/Table", "/THead", "/TBody", "/TR", "/TH",
            "/TD"} <= kinds


@pytest.mark.slow
def test_a_long_history_is_rendered_in_parts_and_joined_whole(
    app, client, inbox, run_jobs, shop_url
):
    """Parts rendered apart make one PDF: every order a row, one tagged structure."""
    numbers = add_customer_with_orders(shop_url, "lang@example.org", "Lotte Lang", 700)
    app.config["DOCUMENT_ROWS_PER_PART"] = 250
    app.config["DOCUMENT_FULL_RECORDS"] = 1000  # every order a row, not a summary
    _, answer_mail = submit_and_confirm(client, inbox, run_jobs, "lang@example.org")
    reader, text = _pdf(client, link_in(answer_mail))

    for number in numbers:
        assert number in text
    # 700 orders and 700 deliveries, plus the account: a row each, and a summary line each.
    assert _data_rows(reader) == 1 + 700 + 700 + 3
    assert text.index(numbers[0]) < text.index(numbers[-1])
    # The first part holds the account's row and 249 orders; the next part says where it is.
    assert "records 250 to 499 of 700" in text, "a table cut between parts says so"
    assert "Your orders (continued)" in text
    [document] = reader.trailer["/Root"]["/StructTreeRoot"]["/K"]
    assert document.get_object()["/S"] == "/Document"
    keys = [page["/StructParents"] for page in reader.pages]
    assert len(set(keys)) == len(keys), "each page keeps its own marked content"
    assert reader.trailer["/Root"]["/Lang"] == "en"


@pytest.mark.slow
def test_a_pdf_that_cannot_be_made_does_not_withhold_the_json(
    app, client, inbox, run_jobs, shop_url, officer_token
):
    """The JSON is mailed before the PDF is made; past its time limit the page says the PDF
    could not be made yet, and the officer has it made again: then one mail says it is there."""
    numbers = add_customer_with_orders(shop_url, "tijd@example.org", "Tim Tijd", 800)
    app.config.update(DOCUMENT_TIMEOUT_BASE=1, DOCUMENT_TIMEOUT_PER_1000_ROWS=0,
                      DOCUMENT_MAX_ATTEMPTS=1, DOCUMENT_FULL_RECORDS=1000)
    request_id, answer_mail = submit_and_confirm(client, inbox, run_jobs, "tijd@example.org")

    assert "The document to read (PDF) is being prepared" in text_of(answer_mail)
    link = link_in(answer_mail)
    page = client.get(link)
    assert "report.json" in page.text and "report.pdf" not in page.text
    assert "could not be made yet" in page.text
    assert 'http-equiv="refresh"' not in page.text, "nothing to wait for on the page"
    report = json.loads(download(client, link + "/report.json").data)
    dumped = json.dumps(report)
    assert all(number in dumped for number in numbers)
    with app.app_context():
        events = db.session.scalars(
            select(RequestEvent.kind).where(RequestEvent.request_id == request_id)).all()
    assert "document_failed" in events

    # The officer sees why on the request's page, and has the PDF made again from there.
    sign_in = csrf_token(client.get("/console/sign-in").text)
    client.post("/console/sign-in", data={"csrf_token": sign_in, "email": OFFICER,
                                          "password": OFFICER_PASSWORD})
    page = client.get(f"/console/requests/{request_id}").text
    assert "PDF could not be made" in page and "JobTimeoutException" in page
    app.config["DOCUMENT_TIMEOUT_BASE"] = 600
    for _ in range(2):  # clicked twice before a worker got to it: one PDF, one mail
        retried = client.post(f"/console/requests/{request_id}/retry",
                              data={"csrf_token": csrf_token(page)})
        assert retried.status_code == 303
    run_jobs()
    with app.app_context():
        events = db.session.scalars(
            select(RequestEvent.kind).where(RequestEvent.request_id == request_id)).all()
    assert events.count("document_ready") == 1
    [ready] = [m for m in inbox.to("tijd@example.org")
               if m["Subject"] == "The document of your privacy answer is ready"]
    _, text = _pdf(client, link_in(ready))
    assert numbers[0] in text and numbers[-1] in text
