"""Builds the portal's ASGI app from its settings and serves it (alliance-portal)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yrd_alliance.kernel import logs
from yrd_alliance.kernel.settings import load_settings
from yrd_alliance.kernel.tokens import KeySet, TokenVerifier
from yrd_alliance.portal import account_pages, board_pages, catalogue_pages, live, request_pages
from yrd_alliance.portal.backend import Services
from yrd_alliance.portal.board import Board, from_first
from yrd_alliance.portal.event_reader import follow
from yrd_alliance.portal.live import Feed, recent_start
from yrd_alliance.portal.metrics import PortalMetrics
from yrd_alliance.portal.session import PartnerToken, Sessions
from yrd_alliance.portal.settings import PortalSettings
from yrd_alliance.portal.web import HERE, Portal

log = logging.getLogger(__name__)

# Every script, style and image comes from the portal itself; no page may be framed.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def build(settings: PortalSettings) -> ASGIApp:
    secret = (
        settings.secret.get_secret_value().encode() if settings.secret else secrets.token_bytes(32)
    )
    verifier = TokenVerifier(KeySet(settings.jwks_file), settings.token_max_lifetime_s)
    partner_token = PartnerToken(settings.partner_token_file)
    sessions = Sessions(verifier, partner_token, secret, secure=settings.https)
    portal = Portal.build(settings, sessions)
    feed = Feed(settings, partner_token)
    board = Board()

    async def health(_request: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # gRPC's aio channels belong to the loop they were made on: the server's.
        portal.services = Services(
            settings.membership, settings.sharing, settings.pairing, settings.grpc_ca_file
        )
        closing = portal.closing
        tasks = [
            asyncio.create_task(follow(settings, closing, "alliance.>", recent_start, feed.apply)),
            asyncio.create_task(follow(settings, closing, "alliance.>", from_first, board.apply)),
            asyncio.create_task(feed.watch_stats(portal)),
        ]
        try:
            yield
        finally:
            portal.closing.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await portal.services.close()

    routes = [
        *catalogue_pages.routes(portal),
        *account_pages.routes(portal),
        *request_pages.routes(portal),
        *live.routes(portal, feed),
        *board_pages.routes(portal, board),
        Route("/healthz", health),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)], lifespan=lifespan)
    if settings.metrics_port is None:
        return app
    metrics = PortalMetrics(settings.region)
    port = metrics.serve(settings.http_host, settings.metrics_port)
    log.info("metrics on http://%s:%d/metrics", settings.http_host, port)
    return metrics.middleware(app)


def main() -> None:
    settings = load_settings(PortalSettings)
    logs.configure("portal", settings.region, settings.log_level, settings.log_format)
    config = uvicorn.Config(
        build(settings),
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
        log_level=settings.log_level.lower(),
        access_log=False,
        timeout_graceful_shutdown=2,
        server_header=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
