"""Signing in with a token the alliance issued, signing out, and the language switch."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import jwt
from alliance.membership.v1 import membership_pb2 as mpb
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from yrd_alliance.kernel.auth import Principal, Role
from yrd_alliance.kernel.errors import AllianceError, PermissionDenied
from yrd_alliance.portal.backend import CALL_TIMEOUT_S, Problem, ask, bearer
from yrd_alliance.portal.session import LANG_COOKIE, Forbidden
from yrd_alliance.portal.text import LANGUAGES
from yrd_alliance.portal.web import Portal, see_other


def routes(portal: Portal) -> list[Route]:
    async def sign_in_form(request: Request) -> Response:
        return portal.page(request, portal.visitor(request), "signin.html", error="")

    async def sign_in(request: Request) -> Response:
        try:
            visitor, form = await portal.form(request)
        except Forbidden as refused:
            return portal.refused(request, refused)
        token = form.get("token", "").strip()
        try:
            who = portal.sessions.verify(token)
            _belongs_here(who, portal.region)
            await _accepted_by_services(portal, who, token)
        except (AllianceError, Problem) as refused:
            return portal.page(request, visitor, "signin.html", status=401, error=str(refused))
        expires = int(jwt.decode(token, options={"verify_signature": False})["exp"])
        response = see_other("/requests" if who.role is Role.CARRIER else "/")
        portal.sessions.sign_in(response, token, max(1, expires - int(time.time())))
        return response

    async def sign_out(request: Request) -> Response:
        try:
            await portal.form(request)
        except Forbidden as refused:
            return portal.refused(request, refused)
        response = see_other("/")
        portal.sessions.sign_out(response)
        return response

    async def language(request: Request) -> Response:
        lang = request.path_params["lang"]
        response = see_other(_same_site_path(request.headers.get("referer", "")))
        if lang in LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
        return response

    return [
        Route("/signin", sign_in_form, methods=["GET"]),
        Route("/signin", sign_in, methods=["POST"]),
        Route("/signout", sign_out, methods=["POST"]),
        Route("/lang/{lang}", language),
    ]


def _same_site_path(referer: str) -> str:
    """Where the language switch returns to: the referring page's path on this site, never
    another host (`//evil.example` is a path that browsers read as a host)."""
    back = urlsplit(referer)
    if not back.path.startswith("/") or back.path.startswith("//"):
        return "/"
    return back.path + (f"?{back.query}" if back.query else "")


def _belongs_here(who: Principal, region: str) -> None:
    """A carrier or operator writes through its own region's services, so it signs in there."""
    home = who.carrier.split("/")[1] if who.role is Role.CARRIER else who.region
    if who.role in (Role.CARRIER, Role.OPERATOR) and home != region:
        raise PermissionDenied(f"this is the portal of {region}; sign in to the portal of {home}")


async def _accepted_by_services(portal: Portal, who: Principal, token: str) -> None:
    """The services have the last word (a revoked token verifies here but not there)."""
    membership, md = portal.services.membership, bearer(token)
    if who.carrier:
        call = membership.GetCarrier(
            mpb.GetCarrierRequest(name=who.carrier), metadata=md, timeout=CALL_TIMEOUT_S
        )
    else:
        call = membership.ListCarriers(
            mpb.ListCarriersRequest(parent=f"regions/{portal.region}", page_size=1),
            metadata=md,
            timeout=CALL_TIMEOUT_S,
        )
    await ask(call)
