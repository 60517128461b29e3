"""The API answers as static/openapi.yaml says: schemathesis against the real app.

schemathesis reads the OpenAPI file the app itself serves, makes requests from it (ones the
file allows and ones it does not), sends them to the app on the test database, Redis and
SMTP server, and checks every reply: never a 5xx; only the status codes, content types and
headers the file documents for that operation; bodies as their documented schema says.

Most requests to the guarded operations carry the officer's token, so they are checked past
the 401; the others carry a made-up token or none. Most requests name real requests, tasks
and verification tokens instead of made-up ones, so what the API says about a real request
is checked too, not only its 404; and each operation is also called once for each of those
requests, so every kind of reply is checked whatever the draw was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.constants import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import BaseOpenAPISchema
from sqlalchemy import select

from dsar.app import create_app
from dsar.connectors.shop import schema as shop_schema
from dsar.connectors.shop.seed import DEMO_EMAIL
from dsar.extensions import db
from dsar.settings import load as load_settings
from tests.helpers import confirm_request, link_in, text_of

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)
EXAMPLES_PER_OPERATION = 40
#: Three times in four: most cases name real things and carry the officer's token.
MOSTLY = st.sampled_from([True, True, True, False])
REASON = "The officer's reason."


def _load_schema(app: Flask) -> BaseOpenAPISchema:
    """The OpenAPI file as the app serves it (checked to be valid OpenAPI), bound to the app
    for schemathesis to call."""
    # The file is OpenAPI 3.1; schemathesis 3 checks replies against it (as JSON Schema
    # 2020-12) only when asked to.
    schemathesis.experimental.OPEN_API_3_1.enable()
    with app.test_client() as client:
        served = client.get("/api/v1/openapi.yaml")
        assert served.status_code == 200
        raw = yaml.safe_load(served.get_data())
        served.close()
    return schemathesis.from_dict(
        raw, app=app, validate_schema=True, data_generation_methods=DataGenerationMethod.all()
    )


def _auth(token: str) -> dict[str, str]:
    """The officer's Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def _call_and_check(case: Any) -> int:
    """Sends a case to the app and checks the reply; returns its status."""
    response = case.call()
    try:
        case.validate_response(response, checks=CHECKS)
        return int(response.status_code)
    finally:
        response.close()


@dataclass
class Known:
    """Requests (with the ids of their tasks) and verification tokens that exist."""

    tasks: dict[str, list[int]] = field(default_factory=dict)
    verify_tokens: list[str] = field(default_factory=list)

    def add(self, client: FlaskClient, officer_token: str, request_id: str) -> list[Any]:
        """Notes a request and its tasks; returns the tasks as the API shows them."""
        shown = client.get(f"/api/v1/requests/{request_id}", headers=_auth(officer_token))
        tasks = list(shown.get_json(force=True)["tasks"])
        self.tasks[request_id] = [task["id"] for task in tasks]
        return tasks


def _verify_token(inbox: Any, email: str) -> str:
    """The token in the newest verification mail to an address."""
    mails = [m for m in inbox.to(email) if "/verify/" in text_of(m)]
    return link_in(mails[-1]).rsplit("/", 1)[1]


@pytest.fixture
def known(
    app: Flask, client: FlaskClient, inbox: Any, run_jobs: Any, seeded_shop: Any,
    officer_token: str,
) -> Known:
    """Requests in the states the officer's operations act on, made through the API."""
    found = Known()
    # One awaiting verification, its token unused: the first confirmation of it is a 200.
    waiting = "waiting@example.org"
    response = client.post("/api/v1/requests", json={"email": waiting, "type": "access"})
    run_jobs()
    found.add(client, officer_token, response.get_json(force=True)["id"])
    found.verify_tokens.append(_verify_token(inbox, waiting))
    # An address gets only a few verification mails a day, so two customers share the rest.
    with seeded_shop.connect() as conn:
        emails = conn.scalars(select(shop_schema.customers.c.email)
                              .order_by(shop_schema.customers.c.id)).all()
    other = next(e for e in emails if e and e.strip().lower() != DEMO_EMAIL)
    # A restriction with manual tasks; another one carried out, which can be lifted.
    for email, carried_out in ((DEMO_EMAIL, False), (other, True)):
        restriction = confirm_request(client, inbox, run_jobs, {
            "email": email, "type": "restriction", "ground": "accuracy_contested"})
        for task in found.add(client, officer_token, restriction):
            if carried_out and task["status"] == "manual":
                client.post(f"/api/v1/requests/{restriction}/tasks/{task['id']}/complete",
                            headers=_auth(officer_token), json={"note": "marked by hand"})
        run_jobs()
    # An erasure and a rectification awaiting approval of their plans, and an access answered.
    for payload in (
        {"email": DEMO_EMAIL, "type": "erasure"},
        {"email": other, "type": "rectification", "corrections": {"city": "Utrecht"}},
        {"email": "nobody@example.org", "type": "access"},
    ):
        found.add(client, officer_token, confirm_request(client, inbox, run_jobs, payload))
    # A link used once already: confirming with it again is a 409.
    found.verify_tokens.append(_verify_token(inbox, "nobody@example.org"))
    return found


@pytest.fixture
def api_schema(app: Flask, known: Known, officer_token: str) -> BaseOpenAPISchema:
    """The app's OpenAPI file, loaded by schemathesis; its cases mostly name known things."""
    loaded = _load_schema(app)

    def before_generate_case(context: Any, strategy: st.SearchStrategy[Any]) -> Any:
        """Cases as schemathesis makes them, then most of them pointed at real things."""
        guarded = bool(context.operation.definition.raw.get("security"))
        return _pointed_at_known_things(strategy, known, officer_token if guarded else None)

    loaded.hooks.register_hook_with_name(before_generate_case, "before_generate_case")
    return loaded


# The filter arguments are given as None: schemathesis 3.39 warns about them unless given.
schema = schemathesis.from_pytest_fixture(
    "api_schema", method=None, endpoint=None, tag=None, operation_id=None
)


@st.composite
def _pointed_at_known_things(
    draw: st.DrawFn, cases: st.SearchStrategy[Any], known: Known, officer_token: str | None
) -> Any:
    """A case that mostly names a real request, task or token, and mostly carries the
    officer's token (on a guarded operation) instead of the made-up one or none."""
    case = draw(cases)
    path = dict(case.path_parameters or {})
    if "id" in path and draw(MOSTLY):
        with_tasks = [rid for rid, tasks in known.tasks.items() if tasks or "task_id" not in path]
        path["id"] = draw(st.sampled_from(with_tasks))
        if "task_id" in path and draw(MOSTLY):
            path["task_id"] = draw(st.sampled_from(known.tasks[path["id"]]))
        case.path_parameters = path
    if case.path == "/requests/verify" and isinstance(case.body, dict) and draw(MOSTLY):
        case.body = {**case.body, "token": draw(st.sampled_from(known.verify_tokens))}
    if "action" in path and (case.body is NOT_SET or isinstance(case.body, dict)) and draw(MOSTLY):
        # Deny and extend need a reason; the cases made from the file mostly have none.
        case.body = {"reason": REASON, **(case.body if isinstance(case.body, dict) else {})}
    if officer_token is not None and draw(MOSTLY):
        case.headers = {**(case.headers or {}), **_auth(officer_token)}
    return case


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,  # no example database in the work tree; a failure prints its example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_every_reply_is_as_documented(case: Any) -> None:
    """Each operation, with requests the file allows and ones it does not."""
    _call_and_check(case)


def test_every_reply_about_a_real_request_is_as_documented(
    api_schema: BaseOpenAPISchema, known: Known, officer_token: str
) -> None:
    """Each operation on a request, for every request made above, as the officer."""
    officer = _auth(officer_token)

    def call(path: str, method: str, **parameters: Any) -> int:
        """One documented operation, called with the officer's token."""
        if "body" in parameters:
            parameters["media_type"] = "application/json"
        case = api_schema[path][method].make_case(headers=officer, **parameters)
        return _call_and_check(case)

    statuses: dict[str, set[int]] = {}
    for request_id, task_ids in known.tasks.items():
        ids = {"id": request_id}
        replies = [
            call("/requests/{id}", "GET", path_parameters=ids),
            call("/requests/{id}/plan", "GET", path_parameters=ids),
            *(call("/requests/{id}/{action}", "POST", path_parameters={**ids, "action": action},
                   body={"reason": REASON, "months": 1})
              for action in ("extend", "approve", "retry", "deny")),
            *(call("/requests/{id}/tasks/{task_id}/complete", "POST",
                   path_parameters={**ids, "task_id": task_id}, body={"note": "done by hand"})
              for task_id in task_ids),
            call("/requests/{id}/lift-restriction", "POST", path_parameters=ids,
                 body={"reason": REASON}),
            call("/requests/{id}", "GET", path_parameters=ids),
        ]
        statuses[request_id] = set(replies)
    # Each kind of reply about a real request was seen, and checked, at least once.
    assert set().union(*statuses.values()) >= {200, 202, 409}, statuses


#: Text no request can hold: NUL (which PostgreSQL refuses outright), another control
#: character, and half of a UTF-16 pair, as JSON carries it.
AWKWARD_TEXTS = ('"nul\\u0000@example.org"', '"bell\\u0007@example.org"',
                 '"half\\ud800@example.org"')


def test_awkward_input_is_answered_as_documented(
    api_schema: BaseOpenAPISchema, known: Known, officer_token: str
) -> None:
    """Text no request can hold, and a page past any end: a documented reply, never a 500."""
    officer = _auth(officer_token)

    def call(path: str, method: str, body: str | None = None, **parameters: Any) -> int:
        """One documented operation as the officer, with the body given as JSON text."""
        if body is not None:
            parameters.update(body=body.encode(), media_type="application/json")
        case = api_schema[path][method].make_case(headers=officer, **parameters)
        return _call_and_check(case)

    for name in ("q", "status", "type"):
        assert call("/requests", "GET", query={name: "a\x00b"}) == 422
    assert call("/requests", "GET", query={"page": 2**70}) == 200
    checked = {call("/suppressions/check", "POST", f'{{"emails": [{text}]}}')
               for text in AWKWARD_TEXTS}
    lifted = {call("/suppressions/lift", "POST", f'{{"email": {text}}}') for text in AWKWARD_TEXTS}
    # Only half a pair cannot be hashed; the address with it is refused.
    assert checked == lifted == {200, 422}
    statuses = set()
    for text in AWKWARD_TEXTS:
        for request_id, task_ids in known.tasks.items():
            ids = {"id": request_id}
            statuses.add(call("/requests/{id}/{action}", "POST", f'{{"reason": {text}}}',
                              path_parameters={**ids, "action": "extend"}))
            statuses.update(call("/requests/{id}/tasks/{task_id}/complete", "POST",
                                 f'{{"note": {text}}}', path_parameters={**ids, "task_id": task})
                            for task in task_ids)
            statuses.add(call("/requests/{id}/lift-restriction", "POST",
                              f'{{"reason": {text}}}', path_parameters=ids))
    assert statuses == {409, 422}


@pytest.fixture
def limited_app(app: Flask) -> Iterator[Flask]:
    """The app as in production: the intake rate limit on, three a client."""
    settings_ = {name: app.config[name] for name in load_settings()}
    limited = create_app({**settings_, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_INTAKE": "3 per hour"})
    yield limited
    with limited.app_context():
        db.engine.dispose()


def test_the_rate_limit_reply_is_as_documented(limited_app: Flask, redis: Any) -> None:
    """The 429 of a flooded intake: documented status, body and Retry-After header."""
    operation = _load_schema(limited_app)["/requests"]["POST"]
    statuses = [
        _call_and_check(operation.make_case(
            body={"email": f"p{number}@example.org", "type": "access"},
            media_type="application/json",
        ))
        for number in range(4)
    ]
    assert statuses == [202, 202, 202, 429]
