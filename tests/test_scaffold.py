"""`dsar connector new`: the package it makes works as made, and it overwrites nothing.

The made package's own tests (the conformance kit on an example SQLite database) run in a
second pytest, with the package on PYTHONPATH: nothing is installed into this environment.
"""

from __future__ import annotations

import ast
import glob
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsar.cli import cli
from dsar.scaffold import Names, template_files
from tests.helpers import ROOT


def _new(*args: str) -> Result:
    """Runs `dsar connector new` with those arguments."""
    return CliRunner().invoke(cli, ["connector", "new", *args])


def test_the_new_package_passes_its_own_conformance_tests(tmp_path: Path):
    """`dsar connector new loyalty` makes a package whose tests, the conformance kit on a
    seeded example database among them, pass without a change to it or to dsar."""
    made = _new("loyalty", "--directory", str(tmp_path))
    assert made.exit_code == 0, made.output
    package = tmp_path / "dsar-loyalty"
    assert f"Made {package}" in made.output

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package,
        env={**os.environ, "PYTHONPATH": str(package)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert "13 passed" in summary and "failed" not in summary and "error" not in summary, (
        run.stdout)


def test_the_package_is_named_and_registered_after_the_connector(tmp_path: Path):
    """The folder, module, class, entry point and setting all follow from the name, and
    no placeholder is left in any file."""
    assert _new("gift_cards", "--directory", str(tmp_path)).exit_code == 0
    package = tmp_path / "dsar-gift_cards"

    made = sorted(str(path.relative_to(package)) for path in package.rglob("*")
                  if path.is_file())
    assert made == ["README.md", "dsar_gift_cards/__init__.py", "dsar_gift_cards/connector.py",
                    "pyproject.toml", "tests/conftest.py", "tests/test_conformance.py",
                    "tests/test_members.py"]
    project = tomllib.loads((package / "pyproject.toml").read_text())
    assert project["project"]["name"] == "dsar-gift_cards"
    assert "dsar" in project["project"]["dependencies"]
    assert project["project"]["entry-points"]["dsar.connectors"] == {
        "gift_cards": "dsar_gift_cards.connector:GiftCardsConnector"}
    connector = (package / "dsar_gift_cards/connector.py").read_text()
    assert 'SETTINGS_KEY = "GIFT_CARDS_DATABASE_URL"' in connector
    assert "class GiftCardsConnector(Connector):" in connector
    for path in package.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "${" not in text, path
            if path.suffix == ".py":
                ast.parse(text, str(path))
    # What the author must still fill in is marked, and the README says what to do next.
    assert connector.count("TODO") >= 5
    assert "## What to change next" in (package / "README.md").read_text()


def test_an_existing_folder_is_left_alone(tmp_path: Path):
    """A second `new` for the same name refuses, and overwrites nothing of the first."""
    folder = tmp_path / "dsar-loyalty"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")

    refused = _new("loyalty", "--directory", str(tmp_path))

    assert refused.exit_code != 0
    assert "exists already" in refused.output
    assert [path.name for path in folder.iterdir()] == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("name", [
    "Loyalty", "gift-cards", "1loyalty", "_loyalty", "loyalty_", "gift__cards", "loyalty.x",
    "../loyalty", "lo yalty", "x" * 41, "",
])
def test_a_name_that_is_not_a_slug_is_refused(tmp_path: Path, name: str):
    """Only a short slug of lower-case letters, digits and single underscores can name the
    entry point, the module and the setting at once; anything else makes no folder."""
    refused = _new(name, "--directory", str(tmp_path))

    assert refused.exit_code != 0
    assert "cannot name a connector" in refused.output
    assert list(tmp_path.iterdir()) == []


def test_the_names_follow_from_the_connector_s_name():
    """One name gives the package, module, class, setting and title."""
    names = Names.of("gift_cards2")
    assert (names.distribution, names.module, names.class_name, names.settings_key,
            names.title) == ("dsar-gift_cards2", "dsar_gift_cards2", "GiftCards2Connector",
                             "GIFT_CARDS2_DATABASE_URL", "Gift cards2")


def test_every_template_ships_with_dsar():
    """pyproject.toml's package data covers every template, so an installed dsar (a wheel,
    not only this checkout) can make a package."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["dsar.scaffold"]
    # Matched as setuptools matches them: glob, with ** for any depth.
    shipped = {
        Path(found).as_posix()
        for pattern in patterns
        for found in glob.glob(pattern, root_dir=ROOT / "dsar/scaffold", recursive=True)
    }
    templates = {f"template/{path}" for path in template_files()}
    assert templates and templates <= shipped, sorted(templates - shipped)
