"""The federation supervisor of a region: restarts ALL_<R>'s sources from another region as soon
as that region's JetStream domain answers again (a leaf link healed, the region restarted), or
its source has never been active (ALL_<R> was made before the leaf link was up), or has gone
silent (the route to its origin changed, e.g. through another spoke while the hub is down).
Left alone, the server retries a failed source with a back-off that grows to two minutes.

It reports each other region on the service's gRPC health as `federation/<region>`: SERVING
while that region's JetStream domain answers, NOT_SERVING while it is cut off. The service's
own health ("") stays SERVING meanwhile: reads and writes go on in every region.

A restart updates the stream once without those sources and once with them again; an update
with an unchanged source list is a no-op for the server and restarts nothing. A source that
starts again resumes after the last message it stored, so nothing is lost or repeated."""

from __future__ import annotations

import asyncio
import logging
import time

from alliance.federation.v1 import federation_pb2, federation_pb2_grpc
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.streams import RETENTION_S, all_stream_config, all_stream_name
from yrd_alliance.kernel.tasks import cancel_and_wait, pause

log = logging.getLogger(__name__)

REAPPLY_EVERY_S = 2.0  # at most this often for idle sources; a healed link re-applies at once
SILENT_AFTER_NS = 5_000_000_000


def health_name(region: str) -> str:
    """The gRPC health service name that says whether `region` is reachable."""
    return f"federation/{region}"


class FederationSupervisor:
    def __init__(
        self,
        link: NatsLink,
        region: str,
        federation: list[str],
        *,
        health: HealthServicer | None = None,
        interval_s: float = 1.0,
        retention_s: float = RETENTION_S,
        replicas: int = 1,
    ) -> None:
        self._link = link
        self._replicas = replicas
        self._health = health
        self._region = region
        self._others = [r for r in federation if r != region]
        self._interval_s = interval_s
        self._retention_s = retention_s
        self._task: asyncio.Task[None] | None = None
        self._last_reapply = 0.0
        self.reachable: dict[str, bool] = dict.fromkeys(self._others, True)
        self.lag: dict[str, int] = {}
        self.restarts: dict[str, int] = dict.fromkeys(self._others, 0)
        self._reported: dict[str, bool] = {}

    def start(self) -> None:
        if self._others:
            self._task = asyncio.create_task(self._run(), name="federation-supervisor")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    @property
    def health_names(self) -> list[str]:
        return [health_name(other) for other in self._others]

    async def _run(self) -> None:
        js = await self._link.jetstream()
        while True:
            healed = []
            for other in self._others:
                answers = await self._domain_answers(other)
                if answers and not self.reachable[other]:
                    healed.append(other)
                self.reachable[other] = answers
            await self._report_health()
            idle = await self._read_sources(js)
            throttled = time.monotonic() - self._last_reapply < REAPPLY_EVERY_S
            if healed or (idle and not throttled):
                await self._reapply(js, healed or idle)
            await pause(self._interval_s)

    async def _report_health(self) -> None:
        if self._health is None:
            return
        for other, answers in self.reachable.items():
            if self._reported.get(other) != answers:
                status = health_pb2.HealthCheckResponse.SERVING
                if not answers:
                    status = health_pb2.HealthCheckResponse.NOT_SERVING
                await self._health.set(health_name(other), status)
                self._reported[other] = answers

    async def _domain_answers(self, other: str) -> bool:
        try:
            await self._link.request(f"$JS.{other}.API.INFO", wait_s=0.5)
            return True
        except (NatsError, TimeoutError, OSError):
            return False

    async def _reapply(self, js: JetStreamContext, regions: list[str]) -> None:
        everyone = [self._region, *self._others]
        without = [r for r in everyone if r not in regions]
        self._last_reapply = time.monotonic()
        try:
            for sources in (without, everyone):
                await js.update_stream(
                    all_stream_config(self._region, sources, self._retention_s, self._replicas)
                )
            for region in regions:
                self.restarts[region] += 1
            log.info(
                "restarted %s's sources from %s", all_stream_name(self._region), ", ".join(regions)
            )
        except Exception as exc:
            log.warning("restarting %s's sources failed: %s", all_stream_name(self._region), exc)

    async def _read_sources(self, js: JetStreamContext) -> list[str]:
        """Updates the per-source lag; returns the reachable regions whose source is idle."""
        try:
            info = await js.stream_info(all_stream_name(self._region))
        except Exception:
            return []
        idle = []
        for source in info.sources or []:
            region = (source.name or "").removeprefix("EVENTS_").lower()
            self.lag[region] = int(source.lag or 0)
            never_active = source.active is None or source.active < 0
            # a healthy source hears from its origin about once a second
            silent = not never_active and (source.active or 0) > SILENT_AFTER_NS
            if region != self._region and (never_active or silent or source.error):
                if self.reachable.get(region):
                    idle.append(region)
        return idle


class FederationServicer(federation_pb2_grpc.FederationServiceServicer):
    """Every service answers for its region's replication (FederationService)."""

    def __init__(self, region: str, supervisor: FederationSupervisor) -> None:
        self._region = region
        self._supervisor = supervisor

    async def GetReplicationStatus(
        self, request: federation_pb2.GetReplicationStatusRequest, context: object
    ) -> federation_pb2.ReplicationStatus:
        s = self._supervisor
        return federation_pb2.ReplicationStatus(
            region=self._region,
            sources=[
                federation_pb2.SourceStatus(
                    region=other,
                    lag=s.lag.get(other, 0),
                    reachable=s.reachable[other],
                    restarts=s.restarts[other],
                )
                for other in s.reachable
            ],
        )
