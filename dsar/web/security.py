"""Response headers that every page and file carries."""

from __future__ import annotations

from flask import Flask, Response, request

# Links in mails carry signed tokens in their path: no page may leak its URL as a Referer.
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


#: The endpoints whose responses a browser or proxy may keep: files the same for everyone,
#: with nothing personal and no token in them. Every other response is `no-store`: console
#: pages and API answers carry personal data, the form carries a CSRF token, and a route
#: added later is private until it is named here.
CACHEABLE = frozenset({"static", "api.openapi", "api.schema"})

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
        """Sets the security headers unless a view chose its own, and `no-store` on every
        response but the CACHEABLE ones, whatever a view chose."""
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint not in CACHEABLE:
            response.headers["Cache-Control"] = "no-store"
        return response
