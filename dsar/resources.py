"""Where dsar's own files are: templates, static files, migrations, catalogues, default config.

The source tree keeps them in top-level folders beside `dsar/`; the wheel carries them inside
the package (`dsar/templates`, ...; setup.py's DATA_FOLDERS), so an installation needs no
checkout and puts nothing but `dsar` into site-packages. An editable install (`pip install -e
.`, as `make` does) leaves them where they are in the checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def folder(name: str) -> Path:
    """The folder `name` of the installed package, or of the checkout."""
    package = Path(str(files("dsar")))
    installed = package / name
    return installed if installed.is_dir() else package.parent / name
