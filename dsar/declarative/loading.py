"""The declared connectors of a folder: every `*.toml` file in it, as a connector class."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dsar.declarative.connector import DeclaredConnector, connector_class
from dsar.declarative.spec import SpecError, load_spec


def load_folder(folder: str | Path) -> Iterator[tuple[Path, type[DeclaredConnector] | SpecError]]:
    """Each declaration file of the folder, in name order, with its connector class, or
    with what is wrong with it (the caller logs it and leaves it out).

    Raises:
        NotADirectoryError: the folder does not exist.
    """
    place = Path(folder)
    if not place.is_dir():
        raise NotADirectoryError(f"{place} is not a folder")
    for path in sorted(place.glob("*.toml")):
        try:
            yield path, connector_class(load_spec(path))
        except SpecError as exc:
            yield path, exc
        except Exception as exc:  # noqa: BLE001  (one bad file must not stop the service)
            # Not UTF-8, a value of a type the format never expects: left out, like the rest.
            yield path, SpecError(f"{path}: cannot be read as a declaration: "
                                  f"{type(exc).__name__}")
