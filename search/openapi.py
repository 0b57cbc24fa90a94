"""The OpenAPI 3 description of the HTTP API, served at /openapi.json (filled in by the hardening work)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("openapi", __name__)
