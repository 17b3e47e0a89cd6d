"""CSRF: one random token per session, required in every form (field ``csrf``) and compared in
constant time. The session cookie is also SameSite=Strict, and a cross-site Origin is refused."""
from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

FIELD = "csrf"


def token(request: Request) -> str:
    t = request.session.get(FIELD)
    if not t:
        t = secrets.token_urlsafe(32)
        request.session[FIELD] = t
    return t


def valid(request: Request, submitted: object) -> bool:
    expected = request.session.get(FIELD)
    if not expected or not isinstance(submitted, str) or not submitted:
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin != own:
            return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
