"""The live feed: the alliance's events as this region holds them, read through the portal's
partner account (so it carries only what partners may read), plus the requests decided
between regions, seen as changes in the sharing statistics (requests themselves stay with
their parties). Every open page gets each entry as a server-sent event."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from alliance.sharing.v1 import sharing_pb2 as pb
from google.protobuf.message import Message
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from yrd_alliance.kernel.event_types import UnknownEventType
from yrd_alliance.kernel.events import Event
from yrd_alliance.portal.backend import CALL_TIMEOUT_S, Problem, ask, bearer
from yrd_alliance.portal.session import PartnerToken
from yrd_alliance.portal.settings import PortalSettings
from yrd_alliance.portal.text import REGIONS
from yrd_alliance.portal.web import LOCAL, Portal

log = logging.getLogger(__name__)
RECENT = 30  # entries a newly opened page starts with
BACKLOG = 200  # events read back from the stream at start


@dataclass(frozen=True)
class Entry:
    kind: str  # "event" or "stats"
    type: str = ""
    time: str = ""
    text: dict[str, str] = field(default_factory=dict)  # language → line
    counts: dict[str, int] = field(default_factory=dict)  # element id → number (stats)

    def sse(self, lang: str) -> str:
        body = {
            "kind": self.kind,
            "type": self.type,
            "time": self.time,
            "text": self.text.get(lang, ""),
            "counts": self.counts,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def describe(event: Event) -> dict[str, str] | None:
    """One line per language for the events people care about; None for the rest."""
    kind = event.type.rsplit(".", 1)[-1]
    try:
        payload: Message = event.decode()
    except (UnknownEventType, ValueError):
        return None
    region = {lang: names.get(event.region, event.region) for lang, names in REGIONS.items()}
    if kind == "CarrierRegistered":
        name = payload.carrier.display_name  # type: ignore[attr-defined]
        return {
            "zh": f"{region['zh']}：新成员 {name} 加入联盟",
            "en": f"{region['en']}: {name} joined the alliance",
        }
    if kind in ("ResourceCreated", "ResourceUpdated"):
        resource = payload.resource  # type: ignore[attr-defined]
        if resource.state != pb.RESOURCE_STATE_PUBLISHED or not resource.title:
            return None
        verb = (
            {"zh": "上架", "en": "listed"}
            if kind == "ResourceCreated"
            else {"zh": "更新", "en": "updated"}
        )
        return {
            "zh": f"{region['zh']}：{verb['zh']}资源「{resource.title}」",
            "en": f"{region['en']}: {verb['en']} “{resource.title}”",
        }
    if kind == "CheckupCompleted":
        return {
            "zh": f"{region['zh']}：完成一次法律体检",
            "en": f"{region['en']}: a legal check-up was completed",
        }
    if kind == "CheckupBooked":
        return {
            "zh": f"{region['zh']}：预约一次法律体检",
            "en": f"{region['en']}: a legal check-up was booked",
        }
    if kind == "RoundPublished":
        return {
            "zh": f"{region['zh']}：律师结对方案发布",
            "en": f"{region['en']}: a lawyer pairing round was published",
        }
    if kind == "CarrierLeft":
        return {
            "zh": f"{region['zh']}：一家载体退出联盟",
            "en": f"{region['en']}: a carrier left the alliance",
        }
    return None


def stats_counts(stats: pb.SharingStats) -> dict[str, int]:
    """The numbers the map shows, by the ids of the elements that show them."""
    counts = {f"pair-{p.from_region}-{p.to_region}": p.requests for p in stats.pairs}
    counts |= {f"approved-{p.from_region}-{p.to_region}": p.approved for p in stats.pairs}
    counts |= {f"shared-{r.carrier.split('/')[-1]}": r.resources_shared for r in stats.regions}
    counts |= {f"carrier-shared-{c.carrier}": c.resources_shared for c in stats.carriers}
    return counts


class Feed:
    def __init__(self, settings: PortalSettings, partner_token: PartnerToken) -> None:
        self.settings = settings
        self._partner_token = partner_token
        self.recent: deque[Entry] = deque(maxlen=RECENT)
        self.counts: dict[str, int] = {}
        self._pages: set[asyncio.Queue[Entry]] = set()

    def publish(self, entry: Entry) -> None:
        if entry.kind == "event":
            self.recent.appendleft(entry)
        for page in self._pages:
            page.put_nowait(entry)

    @contextlib.contextmanager
    def subscription(self) -> Iterator[asyncio.Queue[Entry]]:
        page: asyncio.Queue[Entry] = asyncio.Queue(maxsize=1000)
        self._pages.add(page)
        try:
            yield page
        finally:
            self._pages.discard(page)

    def apply(self, event: Event) -> None:
        text = describe(event)
        if text:
            when = event.time.astimezone(LOCAL).strftime("%m-%d %H:%M:%S")
            self.publish(Entry("event", event.type.rsplit(".", 1)[-1], when, text))

    async def watch_stats(self, portal: Portal) -> None:
        """Requests decided between regions, as the sharing statistics change."""
        approved: dict[tuple[str, str], int] | None = None
        while not portal.closing.is_set():
            try:
                stats = await ask(
                    portal.services.sharing.GetSharingStats(
                        pb.GetSharingStatsRequest(parent="regions/-"),
                        metadata=bearer(self._partner_token()),
                        timeout=CALL_TIMEOUT_S,
                    )
                )
            except Problem as problem:
                log.warning("sharing statistics unavailable: %s", problem)
            else:
                now = {(p.from_region, p.to_region): p.approved for p in stats.pairs}
                for (asker, owner), count in now.items():
                    more = count - (approved or {}).get((asker, owner), 0)
                    if approved is not None and more > 0:
                        self.publish(_approved_entry(asker, owner, more))
                approved = now
                counts = stats_counts(stats)
                if counts != self.counts:
                    self.counts = counts
                    self.publish(Entry("stats", counts=counts))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(portal.closing.wait(), self.settings.stats_interval_s)


async def recent_start(js: JetStreamContext, stream: str) -> ConsumerConfig:
    """The feed starts a little before now: the stream's last BACKLOG events."""
    last = (await js.stream_info(stream)).state.last_seq
    return ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(1, last - BACKLOG + 1)
    )


def _approved_entry(asker: str, owner: str, more: int) -> Entry:
    zh, en = REGIONS["zh"], REGIONS["en"]
    return Entry(
        "event",
        "RequestsApproved",
        datetime.now(LOCAL).strftime("%m-%d %H:%M:%S"),
        {
            "zh": f"{zh.get(owner, owner)}批准了{zh.get(asker, asker)}的 {more} 个资源申请",
            "en": f"{en.get(owner, owner)} approved {more} request(s) from {en.get(asker, asker)}",
        },
    )


def routes(portal: Portal, feed: Feed) -> list[Route]:
    async def page(request: Request) -> Response:
        visitor = portal.visitor(request)
        return portal.page(request, visitor, "live.html", recent=list(feed.recent))

    async def events(request: Request) -> Response:
        lang = portal.visitor(request).lang

        async def stream() -> AsyncIterator[str]:
            with feed.subscription() as queue:
                yield "retry: 1000\n\n"
                if feed.counts:
                    yield Entry("stats", counts=feed.counts).sse(lang)
                while not portal.closing.is_set():
                    try:
                        entry = await asyncio.wait_for(queue.get(), 1.0)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        continue
                    yield entry.sse(lang)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    return [Route("/live", page), Route("/live/events", events)]
