"""One tap to ask: a signed-in carrier asks for units of a resource and follows its requests'
states as they change; an owner approves or declines what others asked of it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from alliance.membership.v1 import membership_pb2 as mpb
from alliance.sharing.v1 import sharing_pb2 as pb
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from yrd_alliance.kernel.auth import Role
from yrd_alliance.portal.backend import CALL_TIMEOUT_S, Problem, ask, bearer
from yrd_alliance.portal.catalogue_pages import FIELD_TIME, time_window
from yrd_alliance.portal.session import Forbidden, Visitor
from yrd_alliance.portal.text import Text
from yrd_alliance.portal.web import LOCAL, Portal, see_other

LIST_SIZE = 100
States = dict[str, dict[str, object]]  # a row's name → what its state cell shows
Endpoint = Callable[[Request], Awaitable[Response]]
POLL_S = 0.5  # how often a live page's states are read again


def routes(portal: Portal) -> list[Route]:
    async def carrier_form(request: Request) -> tuple[Visitor, dict[str, str]]:
        """The signed-in carrier and its form, or Forbidden."""
        visitor, form = await portal.form(request)
        if not _is_carrier(visitor):
            raise Forbidden("sign in as a carrier first")
        return visitor, form

    async def create(request: Request) -> Response:
        try:
            visitor, form = await carrier_form(request)
        except Forbidden as refused:
            return portal.refused(request, refused)
        assert visitor.principal is not None
        try:
            units = int(form.get("units", ""))
            start = datetime.strptime(form.get("start", ""), FIELD_TIME).replace(tzinfo=LOCAL)
            end = datetime.strptime(form.get("end", ""), FIELD_TIME).replace(tzinfo=LOCAL)
        except ValueError:
            return portal.problem(
                request, visitor, Problem.invalid("units, start and end must be filled in")
            )
        asked = pb.Request(
            resource=form.get("resource", ""),
            requester=visitor.principal.carrier,
            units=units,
            window=time_window(start, end),
            purpose=form.get("purpose", ""),
        )
        try:
            await ask(
                portal.services.sharing.CreateRequest(
                    pb.CreateRequestRequest(
                        parent=f"regions/{portal.region}",
                        request=asked,
                        request_id=form.get("request_id", ""),
                    ),
                    metadata=bearer(visitor.token),
                    timeout=CALL_TIMEOUT_S,
                )
            )
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        return see_other("/requests")

    async def mine(request: Request) -> Response:
        visitor = portal.visitor(request)
        if not _is_carrier(visitor):
            return see_other("/signin")
        try:
            requests = await _my_requests(portal, visitor)
            titles = await _titles(portal, visitor, {r.resource for r in requests})
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        return portal.page(request, visitor, "requests.html", requests=requests, titles=titles)

    def live(read: Callable[[Visitor, Text], Awaitable[States]]) -> Endpoint:
        """A page's states as server-sent events, for the signed-in carrier only."""

        async def states(request: Request) -> Response:
            visitor = portal.visitor(request)
            if not _is_carrier(visitor):
                return Response(status_code=401)
            text = Text(visitor.lang)
            return _stream(request, portal, lambda: read(visitor, text))

        return states

    async def my_states(visitor: Visitor, text: Text) -> States:
        return {
            r.name: {
                "state": text.request_state(r.state),
                "code": pb.RequestState.Name(r.state),
                "held": r.capacity_held,
                "waitlist": r.waitlist_position,
            }
            for r in await _my_requests(portal, visitor)
        }

    async def queue_states(visitor: Visitor, text: Text) -> States:
        return {
            b.request: {
                "state": text.booking_state(b.state),
                "code": pb.BookingState.Name(b.state),
                "held": False,
                "waitlist": b.waitlist_position,
            }
            for b in await _incoming(portal, visitor)
        }

    async def cancel(request: Request) -> Response:
        try:
            visitor, form = await carrier_form(request)
        except Forbidden as refused:
            return portal.refused(request, refused)
        try:
            await ask(
                portal.services.sharing.CancelRequest(
                    pb.CancelRequestRequest(name=form.get("name", "")),
                    metadata=bearer(visitor.token),
                    timeout=CALL_TIMEOUT_S,
                )
            )
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        return see_other("/requests")

    async def incoming(request: Request) -> Response:
        visitor = portal.visitor(request)
        if not _is_carrier(visitor):
            return see_other("/signin")
        try:
            bookings = await _incoming(portal, visitor)
            titles, requesters = await asyncio.gather(
                _titles(portal, visitor, {b.resource for b in bookings}),
                _carriers(portal, visitor, {b.requester for b in bookings}),
            )
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        return portal.page(
            request,
            visitor,
            "incoming.html",
            bookings=bookings,
            titles=titles,
            requesters=requesters,
        )

    def decision(approve: bool) -> Endpoint:
        async def decide(request: Request) -> Response:
            try:
                visitor, form = await carrier_form(request)
            except Forbidden as refused:
                return portal.refused(request, refused)
            name, md = form.get("name", ""), bearer(visitor.token)
            sharing = portal.services.sharing
            call = (
                sharing.ApproveRequest(pb.ApproveRequestRequest(name=name), metadata=md)
                if approve
                else sharing.DeclineRequest(
                    pb.DeclineRequestRequest(name=name, reason=form.get("reason", "")), metadata=md
                )
            )
            try:
                await ask(call)
            except Problem as problem:
                return portal.problem(request, visitor, problem)
            return see_other("/incoming")

        return decide

    return [
        Route("/requests", create, methods=["POST"]),
        Route("/requests", mine, methods=["GET"]),
        Route("/requests/live", live(my_states)),
        Route("/requests/cancel", cancel, methods=["POST"]),
        Route("/incoming", incoming, methods=["GET"]),
        Route("/incoming/live", live(queue_states)),
        Route("/incoming/approve", decision(approve=True), methods=["POST"]),
        Route("/incoming/decline", decision(approve=False), methods=["POST"]),
    ]


def _is_carrier(visitor: Visitor) -> bool:
    return visitor.principal is not None and visitor.principal.role is Role.CARRIER


async def _my_requests(portal: Portal, visitor: Visitor) -> list[pb.Request]:
    assert visitor.principal is not None
    reply = await ask(
        portal.services.sharing.ListRequests(
            pb.ListRequestsRequest(
                parent=f"regions/{portal.region}",
                requester=visitor.principal.carrier,
                page_size=LIST_SIZE,
            ),
            metadata=bearer(visitor.token),
            timeout=CALL_TIMEOUT_S,
        )
    )
    return sorted(reply.requests, key=lambda r: r.create_time.ToNanoseconds(), reverse=True)


async def _incoming(portal: Portal, visitor: Visitor) -> list[pb.Booking]:
    assert visitor.principal is not None
    reply = await ask(
        portal.services.sharing.ListIncomingRequests(
            pb.ListIncomingRequestsRequest(parent=visitor.principal.carrier, page_size=LIST_SIZE),
            metadata=bearer(visitor.token),
            timeout=CALL_TIMEOUT_S,
        )
    )
    return sorted(reply.bookings, key=lambda b: b.update_time.ToNanoseconds(), reverse=True)


async def _titles(portal: Portal, visitor: Visitor, names: set[str]) -> dict[str, str]:
    """Resource names → their titles (the name itself where the caller may not read it)."""

    async def title(name: str) -> str:
        call = portal.services.sharing.GetResource(
            pb.GetResourceRequest(name=name), metadata=bearer(visitor.token), timeout=CALL_TIMEOUT_S
        )
        return (await ask(call)).title

    return await _each(names, title)


async def _carriers(portal: Portal, visitor: Visitor, names: set[str]) -> dict[str, str]:
    """Carrier names → their display names."""

    async def display_name(name: str) -> str:
        call = portal.services.membership.GetCarrier(
            mpb.GetCarrierRequest(name=name), metadata=bearer(visitor.token), timeout=CALL_TIMEOUT_S
        )
        return (await ask(call)).display_name

    return await _each(names, display_name)


async def _each(names: set[str], read: Callable[[str], Awaitable[str]]) -> dict[str, str]:
    async def one(name: str) -> str:
        try:
            return await read(name)
        except Problem:
            return name

    ordered = sorted(names)
    return dict(zip(ordered, await asyncio.gather(*map(one, ordered)), strict=True))


def _stream(
    request: Request, portal: Portal, read: Callable[[], Awaitable[States]]
) -> StreamingResponse:
    """Server-sent events: each entry of `read()` whenever it differs from what was sent."""

    async def events() -> AsyncIterator[str]:
        sent: States = {}
        yield "retry: 1000\n\n"
        while not portal.closing.is_set() and not await request.is_disconnected():
            try:
                now = await read()
            except Problem as problem:
                yield f"event: problem\ndata: {json.dumps(problem.message)}\n\n"
                return
            for name, value in now.items():
                if sent.get(name) != value:
                    yield f"data: {json.dumps({'name': name, **value}, ensure_ascii=False)}\n\n"
            sent = now
            try:
                await asyncio.wait_for(portal.closing.wait(), POLL_S)
            except TimeoutError:
                pass

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
