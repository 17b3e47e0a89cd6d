"""CSRF: one random token per server-side session (kept in the portal database with the session, never
in the cookie), required in every form (field ``csrf``) and compared in constant time. A new token is
made at login; an ended session's token is worthless. The session cookie is also SameSite=Strict, and a
cross-site Origin is refused."""
from __future__ import annotations

import hmac

from starlette.requests import Request

from pipelines.web import sessions
from pipelines.web.auth import request_scheme

FIELD = "csrf"


def token(request: Request) -> str:
    return sessions.current(request).csrf_token()


def valid(request: Request, submitted: object) -> bool:
    expected = sessions.current(request).csrf
    if not expected or not isinstance(submitted, str) or not submitted:
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{request_scheme(request)}://{request.url.netloc}"
        if origin != own:
            return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
