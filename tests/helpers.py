"""Small helpers the tests share: reading links from mails and tokens from pages."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

LINK = re.compile(r"http://dsar\.test(/[^\s\"<]+)")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def text_of(message: EmailMessage) -> str:
    """The plain-text body of a mail."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the mail has no plain-text part"
    return str(part.get_content())


def link_in(message: EmailMessage) -> str:
    """The path of the one dsar link in a mail."""
    found = LINK.findall(text_of(message))
    assert found, f"no link in mail {message['Subject']!r}"
    return urlsplit("http://dsar.test" + found[0]).path


def csrf_token(html: str) -> str:
    """The CSRF token of the form on a page."""
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def download(client: FlaskClient, path: str) -> TestResponse:
    """GETs a file and closes the response, so no file handle is left open."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response
