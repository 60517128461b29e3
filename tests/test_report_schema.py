"""The published JSON Schema of report.json, checked against real answers from the real app."""

from __future__ import annotations

import copy
import io
import json
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from dsar.answer.report import Found, Section, report_head, write_report
from dsar.connector import Category
from dsar.connectors.shop.seed import DEMO_EMAIL
from tests.helpers import confirm_request, download, link_in, text_of

SCHEMA_URL = "/api/v1/schemas/cplus-dsar-report-1.schema.json"

ORDERS = Category(
    name="orders", title="Orders", fields=("order_number", "placed_at"), purpose="Delivery.",
    legal_basis="Art. 6(1)(b)", recipients=("PostNL",), retention="Seven years.",
    source="You.",
)


@pytest.fixture
def schema(client: FlaskClient) -> dict[str, Any]:
    """The schema as the app serves it."""
    response = download(client, SCHEMA_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    return dict(response.json or {})


def _problems(schema: dict[str, Any], report: object) -> list[str]:
    """Why a report does not meet the schema, formats included; empty when it does."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(report)]


def _small_report() -> dict[str, Any]:
    """A report as dsar writes it, from plain data: one order of one person."""
    moment = datetime(2026, 11, 24, 10, 0)
    record = {"key": "CP-1", "data": {"order_number": "CP-1", "lines": [{"sku": 1}], "x": None},
              "flags": []}
    sections = [Section("orders", "Orders", [
        Found(ORDERS, count=1, first="2026-11-24", last="2026-11-24",
              records=lambda: iter([record]))])]
    head = report_head(
        request={"id": "a" * 32, "type": "access", "email": "anna@example.nl",
                 "received_at": moment, "due_at": moment, "verified_at": moment},
        sections=sections,
        controller={"name": "Cplus", "contact": "privacy@cplus.example"},
        generated_at=moment,
        automated_decisions="We take no decisions about you by automated means alone.",
        language="en",
    )
    out = io.StringIO()
    write_report(out, head, sections)
    return dict(json.loads(out.getvalue()))


def test_the_schema_is_a_valid_draft_2020_12_schema(schema):
    """The served file is itself a correct JSON Schema of the draft it names."""
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("email", [DEMO_EMAIL, "stranger@example.org"])
def test_a_real_answer_meets_the_served_schema(client, inbox, run_jobs, seeded_shop, schema,
                                               email):
    """The report.json of a real access request, with data and without, validates."""
    confirm_request(client, inbox, run_jobs, {"email": email, "type": "access"})
    [answer_mail] = [m for m in inbox.to(email) if "/reports/" in text_of(m)]
    report = json.loads(download(client, link_in(answer_mail) + "/report.json").data)
    assert report["summary"]["holds_data"] is (email == DEMO_EMAIL)
    if report["summary"]["holds_data"]:
        assert any(c["records"] for s in report["sections"] for c in s["categories"])
    assert _problems(schema, report) == []


def test_a_report_without_a_required_key_is_refused(schema):
    """Each required key is enforced, at the top and inside."""
    report = _small_report()
    assert _problems(schema, report) == []
    for path in (("summary",), ("request", "verified_at"), ("sections", 0, "categories", 0,
                                                              "records", 0, "flags")):
        broken = copy.deepcopy(report)
        parent = broken
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        assert any(f"'{path[-1]}' is a required property" in p for p in _problems(schema, broken))


@pytest.mark.parametrize(("where", "value"), [
    ("version", 2),
    ("version", "1"),
    ("format", "cplus-dsar-outcome"),
    ("generated_at", "2026-11-24 10:00"),
])
def test_a_wrong_version_format_or_time_is_refused(schema, where, value):
    """Only format cplus-dsar-report version 1 with UTC times meets this schema."""
    report = _small_report()
    report[where] = value
    assert _problems(schema, report)


def test_new_fields_and_the_period_are_admitted(schema):
    """Fields a later version 1 may add do not break readers; `period` holds dates or null."""
    report = _small_report()
    report["language"] = "en"
    report["sections"][0]["categories"][0]["records"][0]["origin"] = "web shop"
    summary = report["summary"]["categories"][0]
    summary["period"] = {"first": "2021-03-12", "last": None}
    assert _problems(schema, report) == []
    summary["period"] = {"first": "12 March 2021", "last": None}
    assert _problems(schema, report)
    summary["period"] = {"first": "2021-03-12"}
    assert _problems(schema, report)
