"""Intake to verification for an address the shop does not know."""

from __future__ import annotations

from tests.helpers import csrf_token, download, link_in


def test_unknown_address_gets_a_verified_no_data_answer(client, inbox, run_jobs):
    """An unknown address is answered like any other and told no data is held."""
    response = client.post("/api/v1/requests", json={"email": "nobody@example.org", "type": "access"})
    assert response.status_code == 202
    run_jobs()
    [mail] = inbox.to("nobody@example.org")
    page = client.get(link_in(mail))
    assert page.status_code == 200
    done = client.post(link_in(mail), data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200, done.text
    run_jobs()
    [_, answer_mail] = inbox.to("nobody@example.org")
    answer = download(client, link_in(answer_mail) + "/report.json")
    assert answer.status_code == 200
    assert answer.json["summary"]["holds_data"] is False
