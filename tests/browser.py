"""Browser fixtures: the real app on a live loopback server, driven by Debian's headless Chromium.

A browser test module imports the fixtures (``from tests.browser import browser_fixture,
live_server_fixture``) and asks for them as ``browser`` and ``live_server``; the functions carry
another name so that the tests' arguments do not shadow the imports (ruff F811). The one
Chromium they share, `chromium`, is a session fixture of tests/conftest.py.
`scripts/ensure-browser` installs the `chromium` and `chromium-driver` packages they need.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from tests.helpers import text_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# `make screenshots` sets this to docs/screenshots, the README's pictures; a plain test run
# keeps them out of the work tree.
SCREENSHOTS = Path(
    os.environ.get("DSAR_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "dsar-screenshots"
)

# Quiet and self-contained: no GPU, no sandbox (tests run as root in containers), no calls home.
CHROMIUM_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)
PAGE_TIMEOUT = 10


@pytest.fixture(name="live_server")
def live_server_fixture(app: Flask) -> Iterator[str]:
    """Serves the test app over real HTTP on loopback; mailed links point at it meanwhile.

    Yields:
        The server's base URL, e.g. ``http://127.0.0.1:40123``.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    previous = app.config["BASE_URL"]
    app.config["BASE_URL"] = base_url
    yield base_url
    app.config["BASE_URL"] = previous
    server.shutdown()
    server.server_close()
    thread.join(timeout=PAGE_TIMEOUT)


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile, started once for the process's browser
    tests (a start costs about half a second) and quit at its end."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium is not installed; run scripts/ensure-browser (as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture(name="browser")
def browser_fixture(chromium: webdriver.Chrome) -> Iterator[webdriver.Chrome]:
    """The shared Chromium, as a new one would be: on a blank page, with no cookies.

    Every test's live server is on 127.0.0.1, and cookies do not tell ports apart: without
    this, an officer signed in by one test would be signed in for the next.
    """
    as_new(chromium)
    yield chromium
    as_new(chromium)


def as_new(browser: webdriver.Chrome) -> None:
    """Leaves the browser as a new one would be: on a blank page, with no cookies."""
    browser.get("about:blank")
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})


def screenshot(browser: webdriver.Chrome, name: str) -> Path:
    """Saves what the browser shows as <name>.png in the screenshots folder.

    Returns:
        The path of the PNG.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert browser.save_screenshot(str(path)), f"could not save the screenshot {path}"
    return path


def wait_until(browser: webdriver.Chrome, condition: Callable[[Any], Any]) -> Any:
    """Waits until `condition(browser)` is truthy and returns its value.

    While a form's answer loads, an element found in the old document can vanish before it
    is read; chromedriver then raises one of several errors. Those only mean "not yet".
    """
    return WebDriverWait(browser, PAGE_TIMEOUT, ignored_exceptions=(WebDriverException,)).until(
        condition
    )


def wait_for_heading(browser: webdriver.Chrome, text: str) -> str:
    """Waits until the page's main heading contains `text`.

    Returns:
        The heading as the browser shows it.
    """
    def heading(driver: webdriver.Chrome) -> str | bool:
        """The heading once it says `text`."""
        shown = str(driver.find_element(By.TAG_NAME, "h1").text)
        return shown if text in shown else False

    return str(wait_until(browser, heading))


def link_to(server: str, message: EmailMessage) -> str:
    """The link a mail is about (to the confirmation or the answer): the one to the live
    server that is not to the request's status page."""
    found = [link for link in re.findall(re.escape(server) + r"/[^\s\"<>]+", text_of(message))
             if not link.startswith(f"{server}/status/")]
    assert len(found) == 1, f"expected one link to {server} in {message['Subject']!r}: {found}"
    return str(found[0])
