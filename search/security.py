"""Security headers on every response (filled in by the hardening work)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add security headers to every response."""
