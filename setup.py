"""How the source tree becomes a wheel; the project's metadata is in pyproject.toml.

The source tree keeps the design's top-level folders beside `dsar/`. The wheel carries them
inside dsar's own namespace, so an installation puts nothing into site-packages but `dsar`
(no generic `connectors` or `config` package) and needs no checkout:

- `connectors/` becomes the package `dsar.connectors` (its entry points name it so);
- the folders of files read at run time become `dsar/<folder>`, found by `dsar.resources`;
- the gettext catalogues are compiled here, at build time, so no `.mo` file is ever committed
  and no installation can lack one. An editable install (`pip install -e .`) compiles them in
  place, in the checkout's `translations/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import find_namespace_packages, find_packages, setup
from setuptools.command.build_py import build_py

#: Read at run time (dsar.resources.folder); copied into the wheel as dsar/<folder>.
DATA_FOLDERS = ("config", "migrations", "static", "templates", "translations")
#: What the source tree holds that an installation does not need.
LEFT_OUT = ("__pycache__", "*.pyc", "*.po", "*.pot", "*.mo")


def compile_catalogues(source: Path, target: Path) -> None:
    """Compiles each `<language>/LC_MESSAGES/<domain>.po` under `source` to a `.mo` under
    `target`, leaving out fuzzy entries as `pybabel compile` does."""
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as handle:
            catalogue = read_po(handle, locale=po.parts[-3])
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as handle:
            write_mo(handle, catalogue)


class BuildPy(build_py):
    """Copies the data folders into the package and compiles the catalogues."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            compile_catalogues(Path("translations"), Path("translations"))
            return
        package = Path(self.build_lib) / "dsar"
        for name in DATA_FOLDERS:
            shutil.copytree(name, package / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(*LEFT_OUT))
        compile_catalogues(Path("translations"), package / "translations")


# Namespace packages too: the scaffold's template folders hold files, not modules.
own = find_namespace_packages(include=["dsar", "dsar.*"], exclude=["*.__pycache__"])
connectors = find_packages(include=["connectors", "connectors.*"])
setup(
    packages=own + [f"dsar.{name}" for name in connectors],
    package_dir={"dsar.connectors": "connectors"},
    cmdclass={"build_py": BuildPy},
)
