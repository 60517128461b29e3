"""Renders answers as PDF with WeasyPrint, loading nothing but dsar's own static files.

The HTML holds content that connectors returned: untrusted. Jinja escapes it, and the
fetcher below refuses every URL outside the static folder, so a record that smuggles in
`<img src="http://...">` or `file:///etc/passwd` makes no request and reads no file.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class StaticOnlyFetcher(URLFetcher):
    """Serves files from one folder and refuses every other URL."""

    def __init__(self, root: Path) -> None:
        """Allows only files below `root`."""
        super().__init__(allowed_protocols=("file",))
        self.root = root.resolve()

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Returns a static file, or raises ValueError for anything else."""
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise ValueError("only dsar's own static files may be loaded")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError("only dsar's own static files may be loaded")
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), headers={"Content-Type": mimetype})


#: PDF/UA-1: tagged (headings, tables, lists), with the title shown and the language set,
#: so a screen reader can read the answer (Art. 12(1): intelligible and easily accessible).
PDF_VARIANT = "pdf/ua-1"


def render_pdf(template: str, **context: Any) -> bytes:
    """Renders a Jinja template to PDF bytes."""
    return html_to_pdf(render_template(template, **context), static_folder())


def static_folder() -> Path:
    """The app's static folder: the one place the renderer may load files from."""
    return Path(current_app.static_folder or "")


def html_to_pdf(html: str, static: Path) -> bytes:
    """Renders HTML to an accessible PDF, loading nothing but files below `static`.

    Needs no app context, so a child process can run it.
    """
    document = HTML(
        string=html,
        base_url=static.as_uri() + "/",
        url_fetcher=StaticOnlyFetcher(static),
    )
    pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return pdf
