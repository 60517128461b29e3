"""`dsar connector new`: a new connector's package, ready to fill in and to test.

The package is made from the files in `template/` (shipped as package data): each is read,
its `${...}` placeholders filled from the connector's name with `string.Template`, and
written under `dsar-<name>/`; the `package/` folder becomes the `dsar_<name>` module and a
file's `.tmpl` ending is dropped. What comes out is a working connector for one SQL table,
its conformance tests on an example SQLite database, and a README that says what the
author changes next.

Pure file work: no Flask, no database, nothing of dsar imported, so the command needs no app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

#: A connector's name: lower-case letters, digits and single underscores, starting with a
#: letter. It is the entry point's name, a Python module's suffix and a settings key's prefix.
NAME = re.compile(r"[a-z](?:[a-z0-9]|_(?=[a-z0-9]))*")
MAX_NAME_LENGTH = 40

TEMPLATE_SUFFIX = ".tmpl"
#: The template folder that becomes the connector's module.
PACKAGE_FOLDER = "package"


class ScaffoldError(Exception):
    """The package cannot be made: a bad name, or its folder exists already."""


@dataclass(frozen=True)
class Names:
    """The names a new connector is made under, all from the one its author chose.

    Attributes:
        name: the connector's name, e.g. "gift_cards": its entry point in `dsar.connectors`.
        distribution: the package to install and its folder, e.g. "dsar-gift_cards".
        module: the Python package, e.g. "dsar_gift_cards".
        class_name: the connector's class, e.g. "GiftCardsConnector".
        settings_key: the setting holding its database's URL, e.g. "GIFT_CARDS_DATABASE_URL".
        title: the name in words, e.g. "Gift cards".
    """

    name: str
    distribution: str
    module: str
    class_name: str
    settings_key: str
    title: str

    @classmethod
    def of(cls, name: str) -> Names:
        """Returns the names for a connector's name, refusing one that cannot serve them all."""
        check_name(name)
        parts = name.split("_")
        return cls(
            name=name,
            distribution=f"dsar-{name}",
            module=f"dsar_{name}",
            class_name="".join(part.capitalize() for part in parts) + "Connector",
            settings_key=f"{name.upper()}_DATABASE_URL",
            title=" ".join(parts).capitalize(),
        )

    def substitutions(self) -> dict[str, str]:
        """The placeholders the templates may use, and their values."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "module": self.module,
            "class_name": self.class_name,
            "settings_key": self.settings_key,
            "title": self.title,
        }


def check_name(name: str) -> None:
    """Refuses a name that is not a short slug of lower-case letters, digits and underscores.

    Raises:
        ScaffoldError: saying what a good name looks like.
    """
    if len(name) > MAX_NAME_LENGTH or not NAME.fullmatch(name):
        raise ScaffoldError(
            f"{name!r} cannot name a connector: use lower-case letters, digits and single "
            f"underscores, starting with a letter, at most {MAX_NAME_LENGTH} characters "
            "(such as loyalty or gift_cards)"
        )


def template_files() -> dict[str, str]:
    """Returns every template by its path inside `template/`, as text."""
    found: dict[str, str] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.name == "__pycache__":
                continue
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif entry.name.endswith(TEMPLATE_SUFFIX):
                found[f"{prefix}{entry.name}"] = entry.read_text(encoding="utf-8")

    walk(files(__name__) / "template", "")
    if not found:
        raise ScaffoldError("the scaffold's templates are missing from this installation of dsar")
    return dict(sorted(found.items()))


def rendered(names: Names) -> dict[str, str]:
    """Returns the new package's files, by path inside its folder, with their text."""
    values = names.substitutions()
    out: dict[str, str] = {}
    for path, text in template_files().items():
        target = path.removesuffix(TEMPLATE_SUFFIX)
        head, _, rest = target.partition("/")
        if head == PACKAGE_FOLDER and rest:
            target = f"{names.module}/{rest}"
        try:
            out[target] = Template(text).substitute(values)
        except (KeyError, ValueError) as exc:  # a template's own mistake, not the author's
            raise ScaffoldError(f"template {path}: bad placeholder {exc}") from exc
    return out


def new_connector(name: str, directory: Path | str = ".") -> Path:
    """Makes the package `dsar-<name>/` in `directory` and returns its folder.

    Raises:
        ScaffoldError: the name is not a slug, or the folder exists already (nothing in it
            is overwritten).
    """
    names = Names.of(name)
    contents = rendered(names)
    target = Path(directory) / names.distribution
    if target.exists():
        raise ScaffoldError(f"{target} exists already; choose another --directory or remove it")
    Path(directory).mkdir(parents=True, exist_ok=True)
    try:
        target.mkdir()
    except FileExistsError:
        raise ScaffoldError(f"{target} exists already") from None
    for path, text in contents.items():
        file = target / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return target
