"""The service supermarket: search the whole alliance's published resources, and a
resource's own page with its owner, terms and the units free in a chosen window."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlencode

from alliance.membership.v1 import membership_pb2 as mpb
from alliance.sharing.v1 import sharing_pb2 as pb
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from yrd_alliance.kernel.settings import REGION_PATTERN
from yrd_alliance.portal.backend import CALL_TIMEOUT_S, Problem, ask, bearer
from yrd_alliance.portal.text import CATEGORIES, CHAINS
from yrd_alliance.portal.web import LOCAL, Portal

PAGE_SIZE = 20
FIELD_TIME = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def routes(portal: Portal) -> list[Route]:
    async def supermarket(request: Request) -> Response:
        visitor = portal.visitor(request)
        params = request.query_params
        chosen_region = params.get("region", "")
        if not REGION_PATTERN.match(chosen_region):
            chosen_region = ""
        search = pb.SearchResourcesRequest(
            query=params.get("q", "").strip(),
            category=_choice(params.get("category"), CATEGORIES["zh"]),  # type: ignore[arg-type]
            region=f"regions/{chosen_region}" if chosen_region else "",
            industrial_chain=_choice(params.get("chain"), CHAINS["zh"]),  # type: ignore[arg-type]
            order=pb.SEARCH_ORDER_RECENT
            if params.get("order") == "recent"
            else pb.SEARCH_ORDER_UNSPECIFIED,
            page_size=PAGE_SIZE,
            page_token=params.get("page", ""),
        )
        try:
            found = await ask(
                portal.services.sharing.SearchResources(
                    search, metadata=bearer(visitor.token), timeout=CALL_TIMEOUT_S
                )
            )
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        return portal.page(
            request,
            visitor,
            "supermarket.html",
            search=search,
            chosen_region=chosen_region,
            found=found,
            categories=[(pb.Category.Value(f.key), f.count) for f in found.categories],
            exact=found.total_size <= 20_000,
            params=params,
            next_page=_with(params, page=found.next_page_token) if found.next_page_token else "",
            chains=CHAINS,
        )

    async def resource(request: Request) -> Response:
        visitor = portal.visitor(request)
        name = f"regions/{request.path_params['region']}/resources/{request.path_params['id']}"
        md = bearer(visitor.token)
        try:
            item = await ask(
                portal.services.sharing.GetResource(
                    pb.GetResourceRequest(name=name), metadata=md, timeout=CALL_TIMEOUT_S
                )
            )
            start, end = window_of(
                request.query_params.get("start"), request.query_params.get("end")
            )
            owner, free = await asyncio.gather(
                ask(
                    portal.services.membership.GetCarrier(
                        mpb.GetCarrierRequest(name=item.owner),
                        metadata=md,
                        timeout=CALL_TIMEOUT_S,
                    )
                ),
                free_units(portal, md, item, start, end),
            )
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        return portal.page(
            request,
            visitor,
            "resource.html",
            item=item,
            owner=owner,
            start=start.strftime(FIELD_TIME),
            end=end.strftime(FIELD_TIME),
            free=free,
            request_id=str(uuid.uuid4()),
        )

    return [
        Route("/", supermarket),
        Route("/resources/{region}/{id}", resource),
    ]


def window_of(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The window a page asks about: the one given, or tomorrow 09:00–12:00."""
    try:
        if start and end:
            return (
                datetime.strptime(start, FIELD_TIME).replace(tzinfo=LOCAL),
                datetime.strptime(end, FIELD_TIME).replace(tzinfo=LOCAL),
            )
    except ValueError:
        pass
    morning = (datetime.now(LOCAL) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return morning, morning + timedelta(hours=3)


def time_window(start: datetime, end: datetime) -> pb.TimeWindow:
    window = pb.TimeWindow()
    window.start_time.FromDatetime(start)
    window.end_time.FromDatetime(end)
    return window


async def free_units(
    portal: Portal,
    md: tuple[tuple[str, str], ...],
    item: pb.Resource,
    start: datetime,
    end: datetime,
) -> int | None:
    """The most units free throughout the window, as the owner's ledger counts them (None:
    unlimited). The search's "N units free" filter answers yes or no, so this looks for the
    largest N it says yes to, halving the range each time (at most 7 searches)."""
    if item.capacity == 0:
        return None
    if end <= start:
        return 0
    window = time_window(start, end)

    async def fits(units: int) -> bool:
        reply = await ask(
            portal.services.sharing.SearchResources(
                pb.SearchResourcesRequest(
                    query=item.title,
                    owner=item.owner,
                    category=item.category,
                    window=window,
                    free_units=units,
                    page_size=100,
                ),
                metadata=md,
                timeout=CALL_TIMEOUT_S,
            )
        )
        return any(found.name == item.name for found in reply.resources)

    low, high = 0, item.capacity  # low fits (0 always does); find the largest that fits
    while low < high:
        middle = (low + high + 1) // 2
        if await fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _choice(value: str | None, known: dict[int, str]) -> int:
    try:
        number = int(value or 0)
    except ValueError:
        return 0
    return number if number in known else 0


def _with(params: Mapping[str, str], **changes: str) -> str:
    merged = {**params, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v})
