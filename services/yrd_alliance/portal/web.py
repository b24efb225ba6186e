"""What every page handler shares: the services, the sessions, the templates, and how a page
is rendered for whoever asked for it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from yrd_alliance.portal.backend import Problem, Services
from yrd_alliance.portal.session import Forbidden, Sessions, Visitor
from yrd_alliance.portal.settings import PortalSettings
from yrd_alliance.portal.text import Text

HERE = Path(__file__).parent
LOCAL = datetime.now().astimezone().tzinfo  # times are shown and read in the host's zone


def shown_time(stamp: Timestamp) -> str:
    if not stamp.seconds:
        return ""
    moment = datetime.fromtimestamp(stamp.seconds, UTC).astimezone(LOCAL)
    return moment.strftime("%Y-%m-%d %H:%M")


def region_of(name: str) -> str:
    """`regions/sh/carriers/…` → `sh`."""
    parts = name.split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "regions" else ""


def resource_path(name: str) -> str:
    """`regions/sh/resources/01…` → the resource's page, `/resources/sh/01…`."""
    _, region, _, resource = name.split("/", 3)
    return f"/resources/{region}/{resource}"


@dataclass
class Portal:
    settings: PortalSettings
    sessions: Sessions
    templates: Environment
    services: Services = field(init=False)  # opened on the server's event loop, at start
    closing: asyncio.Event = field(default_factory=asyncio.Event)  # set when the portal stops

    @classmethod
    def build(cls, settings: PortalSettings, sessions: Sessions) -> Portal:
        templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        templates.globals.update(
            shown_time=shown_time, region_of=region_of, resource_path=resource_path
        )
        return cls(settings, sessions, templates)

    @property
    def region(self) -> str:
        return self.settings.region

    def visitor(self, request: Request) -> Visitor:
        return self.sessions.visitor(request)

    def page(
        self, request: Request, visitor: Visitor, template: str, status: int = 200, **context: Any
    ) -> Response:
        html = self.templates.get_template(template).render(
            request=request,
            visitor=visitor,
            who=visitor.principal,
            t=Text(visitor.lang),
            region=self.region,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        self.sessions.keep(response, visitor)
        return response

    async def form(self, request: Request) -> tuple[Visitor, dict[str, str]]:
        """A posted form and who posted it; Forbidden when it came from another site or
        without this session's CSRF token."""
        visitor = self.visitor(request)
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.sessions.check_form(request, visitor, form.get("csrf", ""))
        return visitor, form

    def refused(self, request: Request, refused: Forbidden) -> Response:
        """The sign-in page, saying why a form was refused."""
        visitor = self.visitor(request)
        return self.page(request, visitor, "signin.html", status=403, error=str(refused))

    def problem(self, request: Request, visitor: Visitor, problem: Problem) -> Response:
        return self.page(
            request, visitor, "problem.html", status=problem.http_status, problem=problem
        )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
