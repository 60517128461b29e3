"""Response headers that every page and file carries."""

from __future__ import annotations

from flask import Flask, Response

# Links in mails carry signed tokens in their path: no page may leak its URL as a Referer.
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


#: For pages and files reached by a token in their address: nobody's to keep or index.
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}


def keep_private(response: Response) -> Response:
    """Marks a response reached by a token in its address: no cache, no index (an
    after_request hook of the blueprints whose every page is such)."""
    response.headers.update(PRIVATE)
    return response


def init_app(app: Flask) -> None:
    """Adds the headers to every response."""

    @app.after_request
    def add_headers(response: Response) -> Response:
        """Sets the security headers unless a view chose its own."""
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
