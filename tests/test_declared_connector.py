"""A connector made of configuration: the example loyalty programme, declared in a TOML file.

Installed only by dropping its file in CONNECTORS_DIR, it answers access and erasure
requests through the real app, worker, Redis and SMTP server, against a real SQLite file;
`dsar connector check` reads that file's database and runs the conformance kit on a scratch
copy, never on it.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, text

from dsar.cli import cli
from dsar.connector import Decision, Disposition, LegalBasis, Subject
from dsar.connectors.shop.seed import DEMO_EMAIL, DEMO_NAME
from dsar.declarative import SpecError, connector_class, load_spec
from dsar.declarative.inspection import normalised
from dsar.declarative.scratch import scratch_copy
from dsar.declarative.tables import dispose_engine
from dsar.extensions import db
from dsar.kit import run_checks
from dsar.models import DsarRequest
from dsar.policy.planner import NO_RULE, plan_erasure
from dsar.registry import ConnectorRegistry
from dsar.work.rules import load_rules, retention_rules
from examples.loyalty import seed as loyalty
from tests.helpers import confirm_request, download, link_in, submit_and_confirm

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "loyalty" / "loyalty.toml"
URL_VARIABLE = "LOYALTY_DATABASE_URL"
TABLES = ("members", "points", "rewards")

#: What the shop's retention rules would say of the loyalty programme's categories: no
#: duty keeps them. config/retention.toml has no such rules, so the test brings its own.


@pytest.fixture
def loyalty_url(tmp_path, monkeypatch):
    """The example loyalty database in a SQLite file, its URL in the declared variable."""
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    loyalty.seed(url)
    monkeypatch.setenv(URL_VARIABLE, url)
    yield url
    dispose_engine(url)  # the connector's pooled connections to the file


@pytest.fixture
def declared_app(app, loyalty_url, tmp_path):
    """The app with a CONNECTORS_DIR holding the example declaration, and nothing else."""
    folder = tmp_path / "connectors"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "loyalty.toml")
    app.config["CONNECTORS_DIR"] = str(folder)
    # As create_app reads the folder at start-up.
    app.extensions["dsar.connectors"] = ConnectorRegistry.discover(declared=str(folder))
    return app


def _rows(url):
    """Every row of the loyalty tables, by table and id: the test's own view of the truth."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {name: {row.id: dict(row._mapping)
                           for row in conn.execute(text(f"SELECT * FROM {name}"))}  # noqa: S608
                    for name in TABLES}
    finally:
        engine.dispose()


def _hers(email):
    """Whether a stored address is the demo customer's, however typed."""
    return email is not None and email.strip().lower() == DEMO_EMAIL


def _auth(token):
    """The officer's Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def _declaration(tmp_path, change):
    """The example declaration with one text replaced, written beside the test."""
    source = EXAMPLE.read_text()
    old, new = change
    assert old in source
    path = tmp_path / "changed.toml"
    path.write_text(source.replace(old, new, 1))
    return path


# --- the declaration ------------------------------------------------------------------------


def test_the_example_declares_three_categories_with_its_texts():
    """The file becomes a spec and a connector class with the customer's words in it."""
    spec = load_spec(EXAMPLE)
    cls = connector_class(spec)
    assert cls.name == "loyalty" and cls.title == "Cplus loyalty programme"
    assert [c.name for c in cls.categories] == ["members", "points", "rewards"]
    assert cls.category_title("points") == "Your loyalty points"
    assert spec.category("points").match.through == "members"
    assert spec.category("rewards").personal == ("member_email",)
    assert cls.translations is None
    assert all(c.basis == (LegalBasis.CONTRACT,) and not c.direct_marketing
               for c in cls.categories)
    members = cls.categories[0]
    assert members.labels["joined_at"] == "date joined"
    assert members.values == {"tier": {"bronze": "bronze", "silver": "silver", "gold": "gold"}}
    assert all(set(c.labels) == set(c.fields) for c in cls.categories), "every field labelled"


@pytest.mark.parametrize(("change", "named"), [
    (('table = "members"', 'tabel = "members"'),
     '[[categories]] #1 (members): tabel: unknown key'),
    (('on_erase = "clear"', 'on_erase = "wipe"'),
     '[[categories]] #3 (rewards): on_erase: must be one of delete, clear, minimise'),
    (('clear = ["member_email"]', 'clear = ["member_mail"]'),
     "[[categories]] #3 (rewards): clear: member_mail must be among the category's fields"),
    (('clear = ["member_email"]', 'clear = ["reward"]'),
     "[[categories]] #3 (rewards): clear: must clear 'member_email', the address"),
    (('database_url_env = "LOYALTY_DATABASE_URL"',
      'database_url_env = "postgresql://loyalty:secret@db/loyalty"'),
     "database_url_env: must be the NAME of the environment variable"),
    (('correctable = ["name"]', 'correctable = ["nickname"]'),
     "[[categories]] #1 (members): correctable: nickname must be among the category's fields"),
    (('match = { column = "member_email" }', 'match = { column = "member_email", on = "x" }'),
     "[[categories]] #3 (rewards): match.through: is missing"),
    (('kind = "date"', 'kind = "calendar"'),
     "[[categories]] #1 (members): columns #3: kind: must be one of text, date, money, count"),
    (('name = "points"', 'name = "members"'),
     "[[categories]] #2: name: 'members' is declared twice"),
    (('on_erase = "delete"\ncorrectable', 'on_erase = "minimise"\ncorrectable'),
     '[[categories]] #1 (members): rule: on_erase = "minimise" needs the retention rule'),
    (('on_erase = "delete"\ncorrectable',
      'on_erase = "delete"\nrule = { on_erasure = "minimise" }\ncorrectable'),
     "[[categories]] #1 (members): rule: [members] a minimised category needs anchor"),
    (('basis = ["contract"]', 'basis = ["contract", "interest"]'),
     "[[categories]] #1 (members): basis: 'interest' is not a ground of Art. 6(1); one or "
     "more of: consent, contract, legal_obligation"),
    (('basis = ["contract"]', 'basis = []'),
     "[[categories]] #1 (members): basis: name one or more grounds of Art. 6(1)"),
    (('basis = ["contract"]', 'basis = ["contract"]\ndirect_marketing = "yes"'),
     "[[categories]] #1 (members): direct_marketing: must be true or false"),
    (('joined_at = "date joined"', 'joined = "date joined"'),
     "[[categories]] #1 (members): labels: joined must be among the category's fields"),
    (('joined_at = "date joined"', 'joined_at = ""'),
     "[[categories]] #1 (members): labels.joined_at: must be a text that is not empty"),
    (('values = { tier = { bronze', 'values = { rank = { bronze'),
     "[[categories]] #1 (members): values: rank must be among the category's fields"),
    (('values = { tier = { bronze = "bronze", silver = "silver", gold = "gold" } }',
      'values = { tier = "gold" }'),
     "[[categories]] #1 (members): values: must be a table of field = { value = \"label\" }"),
    (('gold = "gold" }', 'gold = 3 }'),
     "[[categories]] #1 (members): values.tier.gold: must be a text that is not empty"),
])
def test_a_declaration_with_a_mistake_is_refused_naming_it(tmp_path, change, named):
    """Each mistake is refused with the file, the place and the key, and what is wrong."""
    path = _declaration(tmp_path, change)
    with pytest.raises(SpecError) as refused:
        load_spec(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert named in str(refused.value)


def test_a_file_that_is_not_toml_is_refused_naming_it(tmp_path):
    """A syntax error is refused as such, with the file's name."""
    path = tmp_path / "broken.toml"
    path.write_text('name = "loyalty"\n[[categories]\n')
    with pytest.raises(SpecError, match=r"broken\.toml: is not valid TOML"):
        load_spec(path)


# --- loading from CONNECTORS_DIR ------------------------------------------------------------


def test_declared_connectors_join_the_registry_and_broken_files_are_left_out(
    tmp_path, caplog
):
    """Every valid file becomes a connector; a broken file or a taken name is logged and
    skipped, as a broken entry point is."""
    folder = tmp_path / "connectors"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "loyalty.toml")
    (folder / "broken.toml").write_text('name = "broken"\n')
    (folder / "twin.toml").write_text(
        EXAMPLE.read_text().replace('name = "loyalty"', 'name = "accounts"', 1))
    (folder / "notes.txt").write_text("not a declaration")
    # A category named like one of the shop's would be erased by the shop's rule for it.
    (folder / "rival.toml").write_text(EXAMPLE.read_text().replace(
        'name = "loyalty"', 'name = "rival"', 1).replace('name = "points"', 'name = "orders"'))
    (folder / "latin1.toml").write_bytes("title = \"Caf\xe9\"\n".encode("latin-1"))
    installed = ConnectorRegistry.discover()
    with caplog.at_level(logging.ERROR, logger="dsar.registry"):
        registry = installed.with_declared(str(folder))
    assert registry.names == sorted([*installed.names, "loyalty"])
    assert registry.get_class("accounts") is installed.get_class("accounts")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "connector=broken.toml state=broken reason=invalid-declaration" in logged
    assert "broken.toml: database_url_env: is missing" in logged
    assert "connector=accounts state=broken reason=duplicate-name file=twin.toml" in logged
    assert ("connector=rival state=broken reason=category-name-taken categories=orders "
            "by=orders") in logged
    assert "latin1.toml: cannot be read as a declaration: UnicodeDecodeError" in logged


def test_a_url_in_place_of_its_variable_is_refused_without_repeating_it(tmp_path):
    """Whoever writes the URL itself into the file is told, and its password is not
    repeated into a log or a terminal."""
    path = _declaration(tmp_path, ('database_url_env = "LOYALTY_DATABASE_URL"',
                                   'database_url_env = "postgresql://dsar:S3cret@db/x"'))
    with pytest.raises(SpecError) as refused:
        load_spec(path)
    assert "database_url_env: must be the NAME" in str(refused.value)
    assert "S3cret" not in str(refused.value)


def test_no_connectors_dir_loads_none(app):
    """Without the setting (the default) only the installed connectors run."""
    from dsar.registry import current_registry

    assert app.config["CONNECTORS_DIR"] == ""
    with app.app_context():
        assert "loyalty" not in current_registry().names


# --- through the app ------------------------------------------------------------------------


def test_the_declared_system_appears_in_the_access_answer(
    declared_app, client, inbox, run_jobs, seeded_shop, loyalty_url, officer_token
):
    """Dropped in CONNECTORS_DIR, the loyalty programme answers beside the shop: her member
    row, points and rewards under every spelling of her address, nobody else's."""
    request_id, answer_mail = submit_and_confirm(client, inbox, run_jobs, DEMO_EMAIL)
    status = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token)).json
    assert status["status"] == "completed"
    assert {t["connector"]: t["status"] for t in status["tasks"]}["loyalty"] == "succeeded"

    link = link_in(answer_mail)
    data = json.loads(download(client, link + "/report.json").data)
    pdf = download(client, link + "/report.pdf").data
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)

    rows = _rows(loyalty_url)
    her_members = {i for i, m in rows["members"].items() if _hers(m["email"])}
    her_points = {i for i, p in rows["points"].items() if p["member_id"] in her_members}
    her_rewards = {i for i, r in rows["rewards"].items() if _hers(r["member_email"])}
    assert len(her_members) == 1 and len(her_points) == 3 and len(her_rewards) == 2

    [section] = [s for s in data["sections"] if s["connector"] == "loyalty"]
    assert section["title"] == "Cplus loyalty programme"
    found = {c["name"]: c for c in section["categories"]}
    assert {c: {r["key"] for r in found[c]["records"]} for c in TABLES} == {
        "members": {str(i) for i in her_members},
        "points": {str(i) for i in her_points},
        "rewards": {str(i) for i in her_rewards},
    }
    [member] = found["members"]["records"]
    assert member["data"]["name"] == DEMO_NAME
    assert member["data"]["joined_at"] == "2021-03-14T10:05:00", "dates as ISO text"
    assert found["points"]["purpose"].startswith("Keeping count of the points")
    dumped = json.dumps(section)
    for others in ("Sander Visser", "Daan Jansen", "Emma Bakker", "x" + DEMO_EMAIL):
        assert others not in dumped, f"{others} is someone else"
    counts = {(c["connector"], c["category"]): c["count"] for c in data["summary"]["categories"]}
    assert counts[("loyalty", "points")] == 3
    assert counts[("accounts", "account")] == 2, "the shop answers as before"

    for title in ("Your loyalty membership", "Your loyalty points", "Your loyalty rewards",
                  "Free shipping voucher", "Order CP-104877"):
        assert title in pdf_text


def test_an_approved_erasure_erases_the_declared_records_once(
    declared_app, client, inbox, run_jobs, loyalty_url, officer_token, monkeypatch
):
    """Her member row and points are deleted and her rewards lose her address; nobody
    else's row changes, and a second erasure changes nothing."""
    before = _rows(loyalty_url)
    request_id = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    plan = client.get(f"/api/v1/requests/{request_id}/plan", headers=_auth(officer_token)).json
    planned = plan["connectors"]["loyalty"]
    assert {d["disposition"] for d in planned} == {"erase"} and len(planned) == 6
    assert _rows(loyalty_url) == before, "nothing happens before approval"

    approved = client.post(f"/api/v1/requests/{request_id}/approve", headers=_auth(officer_token))
    assert approved.status_code == 202
    run_jobs()
    with declared_app.app_context():
        assert str(db.session.get(DsarRequest, request_id).status) == "completed"
    [mail] = [m for m in inbox.to(DEMO_EMAIL) if m["Subject"].startswith("The answer")]
    letter = json.loads(download(client, link_in(mail) + "/report.json").data)
    told = {(i["system"], i["category"], i["key"]) for i in letter["erased"]}
    assert told == {("Cplus loyalty programme", {"members": "Your loyalty membership",
                     "points": "Your loyalty points", "rewards": "Your loyalty rewards"}[
                         d["category"]], d["key"]) for d in planned}

    after = _rows(loyalty_url)
    her_members = {i for i, m in before["members"].items() if _hers(m["email"])}
    assert her_members and not her_members & set(after["members"])
    for table in ("members", "points"):
        for row_id, row in before[table].items():
            hers = row_id in her_members if table == "members" else row["member_id"] in her_members
            assert (row_id not in after[table]) if hers else after[table][row_id] == row
    for row_id, row in before["rewards"].items():
        if _hers(row["member_email"]):
            assert after["rewards"][row_id] == {**row, "member_email": None}
        else:
            assert after["rewards"][row_id] == row
    assert "x" + DEMO_EMAIL in {m["email"] for m in after["members"].values()}

    again = confirm_request(client, inbox, run_jobs, {"email": DEMO_EMAIL, "type": "erasure"})
    client.post(f"/api/v1/requests/{again}/approve", headers=_auth(officer_token))
    run_jobs()
    with declared_app.app_context():
        assert str(db.session.get(DsarRequest, again).status) == "completed"
    assert _rows(loyalty_url) == after


def test_the_declaration_gives_the_planner_its_rules(declared_app, loyalty_url):
    """A category the declaration deletes or clears is erased: it says nothing obliges
    keeping it. The shop's own rules file keeps its rules; without any rule the planner
    leaves a record to the privacy officer."""
    cls = connector_class(load_spec(EXAMPLE))
    records = list(cls({}).export(Subject(DEMO_EMAIL)))
    assert len(records) == 6
    with declared_app.app_context():
        rules = retention_rules()
    assert rules["orders"] == load_rules()["orders"], "the shop's file as it is"
    assert {d.disposition for d in plan_erasure(records, rules, date(2025, 1, 1))} == {
        Disposition.ERASE}
    unruled = plan_erasure(records, load_rules(), date(2025, 1, 1))
    assert {(d.disposition, d.reason) for d in unruled} == {(Disposition.BLOCKED, NO_RULE)}


# --- the connector itself -------------------------------------------------------------------


def test_a_minimised_record_keeps_only_the_kept_fields_and_is_found_by_key(loyalty_url):
    """MINIMISE clears every exported field but the rule's; the record is found by key
    afterwards (its address is gone), and a second run reports it unchanged."""
    connector = connector_class(load_spec(EXAMPLE))({})
    subject = Subject(DEMO_EMAIL)
    rewards = [r for r in connector.export(subject) if r.category == "rewards"]
    member = next(r for r in connector.export(subject) if r.category == "members")
    decisions = [
        Decision("members", member.key, Disposition.MINIMISE, keep_fields=("joined_at",)),
        *(Decision("rewards", r.key, Disposition.MINIMISE, keep_fields=("reward",))
          for r in rewards),
    ]
    outcomes = connector.erase(Subject("cleared@example.invalid"), decisions)
    assert [(o.category, o.done, o.fields) for o in outcomes] == [
        ("members", "minimised", ("email", "name", "tier")),
        *[("rewards", "minimised", ("member_email",))] * len(rewards),
    ]
    assert [o.done for o in connector.erase(subject, decisions)] == ["unchanged"] * 3
    assert list(connector.export(subject)) == [], "her address is in none of them now"
    held = Subject(DEMO_EMAIL, held={"members": (member.key,),
                                     "rewards": tuple(r.key for r in rewards)})
    kept = {(r.category, r.key): r.data for r in connector.export(held)}
    assert kept[("members", member.key)] == {
        "id": int(member.key), "email": "", "name": "", "joined_at": "2021-03-14T10:05:00",
        "tier": ""}
    assert all(kept[("rewards", r.key)]["member_email"] is None for r in rewards)


def test_a_correction_changes_only_what_differs_and_only_once(loyalty_url):
    """rectify lists the change, makes it with apply=True, and finds nothing the second time;
    a field the declaration does not make correctable is not touched."""
    connector = connector_class(load_spec(EXAMPLE))({})
    subject = Subject(DEMO_EMAIL)
    wanted = {"name": "Sanne de Vries-Jansen", "city": "Haarlem"}
    listed = connector.rectify(subject, wanted, apply=False)
    assert [(c.category, c.field, c.old, c.new) for c in listed] == [
        ("members", "name", DEMO_NAME, "Sanne de Vries-Jansen")]
    assert connector.rectify(subject, wanted, apply=True) == listed
    assert connector.rectify(subject, wanted, apply=True) == []
    names = {m["name"] for m in _rows(loyalty_url)["members"].values()}
    assert "Sanne de Vries-Jansen" in names and "Sander Visser" in names


def test_a_missing_database_variable_is_named(monkeypatch):
    """The connector says which variable it needs instead of guessing a database."""
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    connector = connector_class(load_spec(EXAMPLE))({})
    with pytest.raises(RuntimeError, match=f"{URL_VARIABLE} is not set"):
        list(connector.export(Subject(DEMO_EMAIL)))


# --- dsar connector check -------------------------------------------------------------------


def test_check_warns_of_the_missing_index_and_passes(app, loyalty_url):
    """The example holds what it declares: the check passes, warning that members.email has
    no index for the address's comparison and what that costs, and the kit passes."""
    before = _rows(loyalty_url)
    result = app.test_cli_runner().invoke(cli, ["connector", "check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "the declaration of 'loyalty' is valid (3 categories)" in result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert any("members: no index on lower(trim(email))" in w and "each request reads all 5 "
               "rows" in w and "CREATE INDEX members_email_match ON members "
               "(lower(trim(email)))" in w for w in warnings), warnings
    assert not any("rewards: no index" in w for w in warnings), "rewards has its index"
    assert not any("rule" in w for w in warnings), "the declaration gives its rules"
    assert "the conformance kit passes on a scratch copy of the tables." in result.output
    assert _rows(loyalty_url) == before, "the live database is only read"


def test_check_fails_on_a_column_the_database_lacks(app, loyalty_url, tmp_path):
    """A declared column that is not in the table is an error, named, with a non-zero exit."""
    path = _declaration(tmp_path, ('"joined_at", "tier"]', '"joined_at", "tier", "birthday"]'))
    result = app.test_cli_runner().invoke(cli, ["connector", "check", str(path)])
    assert result.exit_code == 1
    assert "ERROR: table 'members' has no column 'birthday'" in result.output
    assert "conformance kit" not in result.output


def _declared_table(url, tmp_path, statements, category):
    """A table of the test's own in the example database, made by `statements`, and a
    declaration of the example's connector with that one category (`category` gives its
    name, table and erasure; the texts a person reads are filled in). Returns its path."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()
    texts = """
title = "A table of the test's own"
purpose = "Testing the check."
legal_basis = "Performance of a contract, Art. 6(1)(b) GDPR."
recipients = []
retention = "As long as you are a member."
source = "You."
"""
    path = tmp_path / "one-table.toml"
    path.write_text(EXAMPLE.read_text().split("[[categories]]")[0] + "[[categories]]" +
                    category + texts)
    return path


def test_check_refuses_clearing_a_unique_column_that_may_not_be_null(
    app, loyalty_url, tmp_path
):
    """Cleared to an empty text, a NOT NULL unique address would make the second person's
    erasure fail for good: the check says so before it happens."""
    path = _declared_table(loyalty_url, tmp_path, [
        "CREATE TABLE cards (id INTEGER PRIMARY KEY, holder_email TEXT NOT NULL UNIQUE, "
        "issued_at TEXT)"], """
name = "cards"
table = "cards"
key = "id"
fields = ["id", "holder_email", "issued_at"]
match = { column = "holder_email" }
on_erase = "clear"
clear = ["holder_email"]
""")
    result = app.test_cli_runner().invoke(cli, ["connector", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert ("ERROR: cards: cards.holder_email may not be NULL and must be unique: an erasure "
            "clears it to an empty text, and the second person's erasure then fails") in \
        result.output


def test_check_refuses_a_key_held_twice_or_missing_naming_the_rows(
    app, loyalty_url, tmp_path
):
    """A key that two rows share, or that a row lacks, cannot tell records apart: erasure
    would reach the wrong rows or none. The check reads the data and says which."""
    path = _declared_table(loyalty_url, tmp_path, [
        "CREATE TABLE visits (code TEXT, email TEXT, seen_at TEXT)",
        "INSERT INTO visits VALUES ('v-1', 'a@example.org', '2026-01-02'), "
        "('v-1', 'b@example.org', '2026-01-03'), ('v-2', 'c@example.org', '2026-01-04'), "
        "(NULL, 'd@example.org', '2026-01-05')"], """
name = "visits"
table = "visits"
key = "code"
fields = ["code", "email", "seen_at"]
match = { column = "email" }
on_erase = "delete"
rule = { on_erasure = "erase" }
""")
    result = app.test_cli_runner().invoke(cli, ["connector", "check", str(path)])
    assert result.exit_code == 1, result.output
    assert ("ERROR: visits: 1 row of visits has no code (NULL): erasure and correction find "
            "a record by its key and cannot reach it; find it with SELECT * FROM visits "
            "WHERE code IS NULL") in result.output
    assert ("ERROR: visits: visits.code is not unique: 1 value is held by more than one row "
            "('v-1' (2 rows)); an erasure or correction of one record would reach the others "
            "too.") in result.output
    assert "conformance kit" not in result.output, "the kit is not run on a broken key"


def test_check_refuses_a_declaration_with_a_mistake(app, tmp_path):
    """A mistake in the file is reported before any database is reached."""
    path = _declaration(tmp_path, ('on_erase = "clear"', 'on_erase = "wipe"'))
    result = app.test_cli_runner().invoke(cli, ["connector", "check", str(path)])
    assert result.exit_code == 1
    assert "on_erase: must be one of delete, clear, minimise" in result.output


def test_check_leaves_no_empty_file_where_a_sqlite_database_is_missing(
    app, monkeypatch, tmp_path
):
    """A SQLite URL to a file that is not there is an error, and the check, which only
    reads, leaves no empty database behind."""
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv(URL_VARIABLE, f"sqlite:///{missing}")
    result = app.test_cli_runner().invoke(cli, ["connector", "check", str(EXAMPLE)])
    assert result.exit_code == 1
    assert f"ERROR: {URL_VARIABLE} names a SQLite file that does not exist" in result.output
    assert not missing.exists()


def test_check_needs_the_database_variable(app, monkeypatch):
    """Without the variable the declaration names, the check says which one to set."""
    monkeypatch.delenv(URL_VARIABLE, raising=False)
    result = app.test_cli_runner().invoke(cli, ["connector", "check", str(EXAMPLE)])
    assert result.exit_code == 1
    assert f"ERROR: {URL_VARIABLE} is not set" in result.output


# --- the conformance kit --------------------------------------------------------------------


def test_the_kit_passes_on_a_scratch_copy_of_the_declared_tables(loyalty_url):
    """Every conformance check passes on the declared connector, run on a scratch copy
    seeded from the declaration; the live database is not touched."""
    before = _rows(loyalty_url)
    spec = load_spec(EXAMPLE)
    with scratch_copy(spec, loyalty_url) as scratch:
        assert scratch.url != loyalty_url
        failures = run_checks(scratch.make_connector, scratch.seed,
                              corrections=scratch.corrections, seed_many=scratch.seed_many)
    assert failures == []
    assert _rows(loyalty_url) == before


def test_the_kit_finds_an_erasure_that_leaves_the_name(loyalty_url, tmp_path):
    """A declaration whose erasure clears the address but leaves the name fails the kit's
    erase and minimise checks, saying why: only the kit's records show what a field holds."""
    path = _declaration(tmp_path, ('on_erase = "delete"', 'on_erase = "clear"\nclear = ["email"]'))
    with scratch_copy(load_spec(path), loyalty_url) as scratch:
        failures = dict(run_checks(scratch.make_connector, scratch.seed))
    assert list(failures) == ["erase_by_key_after_the_address_is_cleared",
                              "minimise_keeps_only_the_kept_fields"], failures
    assert "erased records still hold anna's address, name or text" in failures[
        "erase_by_key_after_the_address_is_cleared"]
    assert "still hold fields that were not to be kept (members '" in failures[
        "minimise_keeps_only_the_kept_fields"]
    assert "(name)" in failures["minimise_keeps_only_the_kept_fields"]



@pytest.mark.parametrize("written", [
    "lower(trim(email))",
    'lower(trim("email"))',
    "LOWER(TRIM(email)) DESC",
    "lower(TRIM(BOTH FROM email))",  # PostgreSQL, as it shows an index on lower(trim(email))
    "lower(TRIM(BOTH FROM (email)::text))",  # the same on a varchar column
    "lower(btrim((email)::text))",  # older PostgreSQL
])
def test_an_index_on_the_address_is_recognised_however_the_database_writes_it(written):
    """The check takes each database's way of writing the expression for the one it needs."""
    assert normalised(written) == "lower(trim(email))"
    assert normalised("lower((email)::text)") != "lower(trim(email))"
