"""The map of the alliance (海棠地图) and the pairing board."""

from __future__ import annotations

import asyncio
import math

from alliance.membership.v1 import membership_pb2 as mpb
from alliance.sharing.v1 import sharing_pb2 as spb
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from yrd_alliance.portal import geo
from yrd_alliance.portal.backend import CALL_TIMEOUT_S, Problem, ask, bearer
from yrd_alliance.portal.board import Board
from yrd_alliance.portal.live import stats_counts
from yrd_alliance.portal.web import Portal, region_of


def routes(portal: Portal, board: Board) -> list[Route]:
    async def carriers(md: tuple[tuple[str, str], ...]) -> list[mpb.Carrier]:
        reply = await ask(
            portal.services.membership.ListCarriers(
                mpb.ListCarriersRequest(parent="regions/-", page_size=1000),
                metadata=md,
                timeout=CALL_TIMEOUT_S,
            )
        )
        return [c for c in reply.carriers if c.state == mpb.CARRIER_STATE_ACTIVE]

    async def map_page(request: Request) -> Response:
        visitor = portal.visitor(request)
        md = bearer(visitor.token)
        try:
            members, stats = await asyncio.gather(
                carriers(md),
                ask(
                    portal.services.sharing.GetSharingStats(
                        spb.GetSharingStatsRequest(parent="regions/-"),
                        metadata=md,
                        timeout=CALL_TIMEOUT_S,
                    )
                ),
            )
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        by_region: dict[str, list[mpb.Carrier]] = {}
        for carrier in members:
            by_region.setdefault(region_of(carrier.name), []).append(carrier)
        places = {
            c.name: geo.around(region, i, len(cs))
            for region, cs in by_region.items()
            if region in geo.REGION_CITIES
            for i, c in enumerate(cs)
        }
        links = [
            {
                "id": f"pair-{p.from_region}-{p.to_region}",
                "from": geo.point(*geo.REGION_CITIES[p.from_region]),
                "to": geo.point(*geo.REGION_CITIES[p.to_region]),
                "requests": p.requests,
                "width": round(2 + 2 * math.log2(1 + p.requests), 1),
            }
            for p in stats.pairs
            if p.from_region != p.to_region
            and {p.from_region, p.to_region} <= geo.REGION_CITIES.keys()
        ]
        return portal.page(
            request,
            visitor,
            "map.html",
            geo=geo,
            carriers=[c for c in members if c.name in places],
            places=places,
            counts=stats_counts(stats),
            links=links,
            board=board,
        )

    async def pairs_page(request: Request) -> Response:
        visitor = portal.visitor(request)
        try:
            members = {c.name: c for c in await carriers(bearer(visitor.token))}
        except Problem as problem:
            return portal.problem(request, visitor, problem)
        rounds = sorted(board.rounds.values(), key=lambda r: r.publish_time.seconds, reverse=True)
        return portal.page(
            request, visitor, "pairs.html", rounds=rounds, members=members, board=board
        )

    return [Route("/map", map_page), Route("/pairs", pairs_page)]
