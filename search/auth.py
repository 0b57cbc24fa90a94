"""Require an API key on every endpoint but /healthz: an ``Authorization: Bearer KEY`` header,
or, for people using the form, a signed cookie set by the sign-in page.

The cookie holds no key: it holds a short name of the key (its hash's first digits), signed
with the server's session secret (random at each start unless DOCSEARCH_SESSION_SECRET sets
one, so that several replicas accept each other's cookies), and expires after 12 hours.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .errors import error_response
from .keys import MISSING, WRONG, KeyRing, bearer

COOKIE = "docsearch_session"
COOKIE_SECONDS = 12 * 3600
# /healthz for load balancers; static files and the sign-in page for the sign-in page itself.
OPEN_ENDPOINTS = frozenset({"api.healthz", "static", "auth.sign_in", "auth.sign_out"})

bp = Blueprint("auth", __name__)


def init_app(app: Flask, ring: KeyRing, session_secret: str = "") -> None:
    """Refuse requests without one of ring's keys, when ring holds any; keep the ring on the app."""
    state = app.extensions["docsearch"]
    state["keys"] = ring
    if not ring:
        return
    state["signer"] = URLSafeTimedSerializer(session_secret or secrets.token_bytes(32), salt="docsearch-sign-in")
    app.register_blueprint(bp)
    app.before_request(require_key)


def require_key():
    """Let a request through if it carries an accepted key or sign-in cookie; else answer 401."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    state = current_app.extensions["docsearch"]
    header = request.headers.get("Authorization")
    if header is not None:  # a header that is there decides, even beside a good cookie
        return None if state["keys"].accepts(bearer(header)) else refuse(WRONG)
    if _signed_in(state):
        g.signed_in = True  # the pages offer to sign out
        return None
    return refuse(WRONG if COOKIE in request.cookies else MISSING)


def _signed_in(state: dict) -> bool:
    """Tell whether the request's cookie is one this server signed, unexpired, for a key it still holds."""
    try:
        badge = state["signer"].loads(request.cookies.get(COOKIE, ""), max_age=COOKIE_SECONDS)
    except BadSignature:  # also an expired one (SignatureExpired is a BadSignature)
        return False
    return isinstance(badge, str) and state["keys"].knows_badge(badge)


def _wants_page() -> bool:
    """Tell whether a refused request came from a browser page rather than an API client."""
    if request.blueprint != "web":
        return False
    if request.endpoint == "web.form":  # the form is a page whatever is asked, as its errors are
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) != "application/json"


def refuse(message: str):
    """Answer 401: the sign-in page for the form's pages, else the JSON error shape."""
    if _wants_page():
        return _sign_in_page(request.full_path.rstrip("?"), "" if message == MISSING else "Sign in again.", 401)
    response = error_response(message, 401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="docsearch"'
    return response


def _sign_in_page(next_url: str, message: str, status: int):
    """Render the sign-in form, which returns to next_url."""
    return render_template("sign_in.html", next=_local(next_url), message=message), status


def _local(url: str | None) -> str:
    """Return url if it is a path on this server, else / (never a redirect elsewhere)."""
    url = url or "/"
    if not url.startswith("/") or url.startswith("//") or "\\" in url or not url.isprintable():
        return "/"
    return url


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Show the sign-in form; given an accepted key, set the signed cookie and go back where the user was."""
    if request.method == "GET":
        return _sign_in_page(request.args.get("next", "/"), "", 200)
    key, next_url = request.form.get("key", "").strip(), request.form.get("next", "/")
    ring: KeyRing = current_app.extensions["docsearch"]["keys"]
    if not ring.accepts(key):
        return _sign_in_page(next_url, "That key is not valid." if key else "Type your API key.", 401)
    response = redirect(_local(next_url), 303)
    badge = current_app.extensions["docsearch"]["signer"].dumps(ring.badge(key))
    response.set_cookie(COOKIE, badge, max_age=COOKIE_SECONDS, httponly=True, samesite="Strict",
                        secure=request.is_secure)
    return response


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """Forget the sign-in cookie and show the sign-in form."""
    response = redirect("/sign-in", 303)
    response.delete_cookie(COOKIE, httponly=True, samesite="Strict", secure=request.is_secure)
    return response
