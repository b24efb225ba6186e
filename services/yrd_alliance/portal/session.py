"""Who is looking at a page, and the forms' protection against cross-site requests.

A signed-in person's bearer token is kept in an HttpOnly, SameSite=Strict cookie: scripts on
the page cannot read it and other sites' pages do not send it. Everyone else is a visitor and
sees what the portal's own partner token may read. Every form carries a CSRF token: an HMAC,
under the portal's secret, of a random nonce kept in a cookie of its own and of the session,
so a form copied from another session, or posted by another site, is refused."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import AllianceError
from yrd_alliance.kernel.tokens import TokenVerifier

SESSION_COOKIE = "alliance_session"
NONCE_COOKIE = "alliance_csrf"
LANG_COOKIE = "alliance_lang"


class Forbidden(Exception):
    """A form without a valid CSRF token, or posted from another site."""


@dataclass(frozen=True)
class Visitor:
    token: str  # what the page's calls are made with: the person's own, or the portal's
    principal: Principal | None  # None: not signed in
    csrf: str  # for the page's forms
    nonce: str  # the cookie the csrf token is bound to (set on the response when new)
    lang: str

    @property
    def signed_in(self) -> bool:
        return self.principal is not None


class PartnerToken:
    """The portal's own token, reread when its file changes (a new one is issued monthly)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[float, str] = (-1.0, "")

    def __call__(self) -> str:
        mtime = self._path.stat().st_mtime
        if mtime != self._seen[0]:
            self._seen = (mtime, self._path.read_text().strip())
        return self._seen[1]


class Sessions:
    def __init__(
        self, verifier: TokenVerifier, partner_token: PartnerToken, secret: bytes, secure: bool
    ) -> None:
        self._verifier = verifier
        self._partner_token = partner_token
        self._secret = secret
        self._secure = secure

    def visitor(self, request: Request) -> Visitor:
        lang = request.cookies.get(LANG_COOKIE, "zh")
        nonce = request.cookies.get(NONCE_COOKIE) or secrets.token_urlsafe(24)
        token = request.cookies.get(SESSION_COOKIE, "")
        principal = self.principal_of(token) if token else None
        if principal is None:
            token = ""
        return Visitor(
            token or self._partner_token(),
            principal,
            self._csrf(nonce, token),
            nonce,
            lang if lang in ("zh", "en") else "zh",
        )

    def principal_of(self, token: str) -> Principal | None:
        try:
            return self.verify(token)
        except AllianceError:
            return None

    def verify(self, token: str) -> Principal:
        """Whom the token names, or an AllianceError saying why it is refused."""
        return self._verifier.verify(token)

    def check_form(self, request: Request, visitor: Visitor, sent: str) -> None:
        """Refuses a form posted from another site or without this session's CSRF token."""
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            raise Forbidden(f"a form posted from {origin} is refused")
        if NONCE_COOKIE not in request.cookies or not hmac.compare_digest(sent, visitor.csrf):
            raise Forbidden("the form's CSRF token is missing or does not match; reload the page")

    def _csrf(self, nonce: str, token: str) -> str:
        session = hashlib.sha256(token.encode()).hexdigest()
        return hmac.new(self._secret, f"{nonce}|{session}".encode(), hashlib.sha256).hexdigest()

    def keep(self, response: Response, visitor: Visitor) -> None:
        """Sets the nonce cookie the page's forms are bound to, when it is new."""
        response.set_cookie(
            NONCE_COOKIE, visitor.nonce, httponly=True, samesite="strict", secure=self._secure
        )

    def sign_in(self, response: Response, token: str, lifetime_s: int) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=lifetime_s,
            httponly=True,
            samesite="strict",
            secure=self._secure,
        )

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, httponly=True, samesite="strict", secure=self._secure
        )
