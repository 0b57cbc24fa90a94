"""Security headers on every response: a strict Content-Security-Policy and its companions."""

from __future__ import annotations

from flask import Flask, Response

# The pages load only their own stylesheet and script, have no inline script or style, and the
# script fetches only the app's own pages (live results); anything else a page tries to load or
# embed is refused.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    """Set the security headers on one response, replacing any a view set (a sandbox a view asks for stays)."""
    sandboxed = "sandbox" in response.headers.get("Content-Security-Policy", "")
    response.headers.update(SECURITY_HEADERS)
    if sandboxed:  # a corpus web page sent as itself: no script, no form, an origin of its own
        response.headers["Content-Security-Policy"] = "sandbox; " + CONTENT_SECURITY_POLICY
    return response


def init_app(app: Flask) -> None:
    """Add security headers to every response: pages, JSON, static files and errors."""
    app.after_request(add_security_headers)
