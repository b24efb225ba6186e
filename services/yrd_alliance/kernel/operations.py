"""What every service answers to its region's operators (OperationsService): where its event
pipeline stands, its dead letters, and snapshots for regions that catch up.

`PipelineWatch` also reports the pipeline on the gRPC health service, one name per concern, so
a standard probe can alert: `outbox` turns NOT_SERVING when the backlog has not moved for
`stuck_after_s` while NATS is connected, or when outbox events were set aside; `projection`
when consumed events were set aside. The service's own health stays SERVING: it still serves
reads and writes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from alliance.operations.v1 import operations_pb2 as pb
from alliance.operations.v1 import operations_pb2_grpc as pb_grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from yrd_alliance.kernel import dead_letters
from yrd_alliance.kernel.auth import Principal, current_principal
from yrd_alliance.kernel.consumer import EventConsumer
from yrd_alliance.kernel.db import Database
from yrd_alliance.kernel.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from yrd_alliance.kernel.metrics import PipelineFigures
from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.outbox import OutboxRelay
from yrd_alliance.kernel.paging import PageTokens, page_size
from yrd_alliance.kernel.tasks import cancel_and_wait, pause

log = logging.getLogger(__name__)

OUTBOX_HEALTH = "outbox"
PROJECTION_HEALTH = "projection"
_ORIGINS = {
    dead_letters.Origin.OUTBOX: pb.DEAD_LETTER_ORIGIN_OUTBOX,
    dead_letters.Origin.CONSUMER: pb.DEAD_LETTER_ORIGIN_CONSUMER,
}


@dataclass
class Pipeline:
    """A service's event pipeline, as operators see it."""

    region: str
    service: str
    db: Database
    link: NatsLink
    relay: OutboxRelay
    consumers: Sequence[EventConsumer]
    stuck_after_s: float
    # Whether this replica runs the relay (kernel.leadership); the leader judges the outbox.
    leads: Callable[[], bool] = lambda: True

    def outbox_stuck(self, backlog: int) -> bool:
        idle = time.monotonic() - self.relay.last_progress
        return backlog > 0 and self.leads() and self.link.is_connected and idle > self.stuck_after_s

    async def status(self) -> pb.PipelineStatus:
        backlog, oldest_age = self.relay.backlog()
        letters = dead_letters.counts(self.db.reader)
        status = pb.PipelineStatus(
            region=self.region,
            service=self.service,
            outbox=pb.OutboxStatus(
                backlog=backlog,
                oldest_unsent_age_seconds=round(oldest_age, 3),
                published=self.relay.published,
                dead_letters=letters[dead_letters.Origin.OUTBOX],
                stuck=self.outbox_stuck(backlog),
                nats_connected=self.link.is_connected,
            ),
        )
        for consumer in self.consumers:
            status.consumers.append(await self._consumer_status(consumer, letters))
        return status

    async def _consumer_status(
        self, consumer: EventConsumer, letters: dict[dead_letters.Origin, int]
    ) -> pb.ConsumerStatus:
        status = pb.ConsumerStatus(
            stream=consumer.stream,
            durable=consumer.durable,
            applied=consumer.applied,
            retried=consumer.retried,
            dead_letters=letters[dead_letters.Origin.CONSUMER],
        )
        if not self.link.is_connected:
            return status
        try:
            js = await asyncio.wait_for(self.link.jetstream(), timeout=1.0)
            info = await js.consumer_info(consumer.stream, consumer.durable, timeout=2.0)
        except Exception as exc:  # NATS slow or the consumer not made yet: say so, not fail
            log.debug("consumer info of %s: %s", consumer.durable, exc)
            return status
        status.pending = info.num_pending or 0
        status.ack_pending = info.num_ack_pending or 0
        status.redelivered = info.num_redelivered or 0
        status.reachable = True
        return status


class PipelineWatch:
    """Keeps the `outbox` and `projection` health names up to date, once a second."""

    def __init__(
        self,
        pipeline: Pipeline,
        health: HealthServicer,
        interval_s: float = 1.0,
        figures: PipelineFigures | None = None,
    ):
        self._pipeline = pipeline
        self._health = health
        self._figures = figures
        self._interval_s = interval_s
        self._reported: dict[str, bool] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def health_names(self) -> list[str]:
        names = [OUTBOX_HEALTH]
        return [*names, PROJECTION_HEALTH] if self._pipeline.consumers else names

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pipeline-watch")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def check(self) -> None:
        p = self._pipeline
        letters = dead_letters.counts(p.db.reader)
        backlog, oldest_age = p.relay.backlog()
        if self._figures is not None:
            self._figures.backlog, self._figures.oldest_unsent_age_s = backlog, oldest_age
            self._figures.dead_letters = {o.value: n for o, n in letters.items()}
        outbox_ok = not letters[dead_letters.Origin.OUTBOX] and not p.outbox_stuck(backlog)
        await self._report(OUTBOX_HEALTH, outbox_ok)
        if p.consumers:
            await self._report(PROJECTION_HEALTH, not letters[dead_letters.Origin.CONSUMER])

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # a failed check is tried again at the next tick
                log.exception("checking the event pipeline failed")
            await pause(self._interval_s)

    async def _report(self, name: str, ok: bool) -> None:
        if self._reported.get(name) != ok:
            serving = health_pb2.HealthCheckResponse
            await self._health.set(name, serving.SERVING if ok else serving.NOT_SERVING)
            self._reported[name] = ok


class OperationsServicer(pb_grpc.OperationsServiceServicer):
    def __init__(
        self,
        pipeline: Pipeline,
        page_tokens: PageTokens,
        publish_snapshot: Callable[[], Awaitable[dict[str, int]]],
        revoke_token: Callable[[pb.RevokeTokenRequest, Principal], Awaitable[pb.RevokedToken]],
    ) -> None:
        self._p = pipeline
        self._tokens = page_tokens
        self._publish_snapshot = publish_snapshot
        self._revoke_token = revoke_token
        self._parent = f"regions/{pipeline.region}/services/{pipeline.service}"
        self._name = re.compile("^" + re.escape(self._parent) + r"/deadLetters/(\d{1,18})$")

    def _operator(self) -> Principal:
        principal = current_principal.get()
        if not principal.is_operator_of(self._p.region):
            raise PermissionDenied(f"only operators of region {self._p.region} may do this")
        return principal

    async def GetPipelineStatus(
        self, request: pb.GetPipelineStatusRequest, context: object
    ) -> pb.PipelineStatus:
        self._operator()
        return await self._p.status()

    async def ListDeadLetters(
        self, request: pb.ListDeadLettersRequest, context: object
    ) -> pb.ListDeadLettersResponse:
        self._operator()
        if request.parent != self._parent:
            raise InvalidArgument([FieldViolation("parent", f"must be {self._parent}")])
        size = page_size(request.page_size)
        after = self._tokens.decode(request.page_token, self._parent)
        letters = dead_letters.page(self._p.db.reader, after_id=int(after or 0), limit=size + 1)
        response = pb.ListDeadLettersResponse(dead_letters=[self._view(x) for x in letters[:size]])
        if len(letters) > size:
            response.next_page_token = self._tokens.encode(str(letters[size - 1].id), self._parent)
        return response

    async def GetDeadLetter(
        self, request: pb.GetDeadLetterRequest, context: object
    ) -> pb.DeadLetter:
        self._operator()
        return self._view(self._find(request.name))

    async def ReplayDeadLetter(
        self, request: pb.ReplayDeadLetterRequest, context: object
    ) -> pb.ReplayDeadLetterResponse:
        self._operator()
        letter = self._find(request.name)
        if letter.origin is dead_letters.Origin.OUTBOX:
            await self._p.relay.replay(letter)
            return pb.ReplayDeadLetterResponse(outcome="queued for publishing")
        if not self._p.consumers:
            raise FailedPrecondition("this service consumes no events now; discard the letter")
        await self._p.consumers[0].replay(letter)  # a service has at most one consumer
        return pb.ReplayDeadLetterResponse(outcome="applied")

    async def DiscardDeadLetter(
        self, request: pb.DiscardDeadLetterRequest, context: object
    ) -> pb.DiscardDeadLetterResponse:
        principal = self._operator()
        letter = self._find(request.name)
        async with self._p.db.write() as tx:
            dead_letters.remove(tx, letter.id)
        log.warning("dead letter %s (%s) discarded by %s", request.name, letter.subject,
                    principal.subject)  # fmt: skip
        return pb.DiscardDeadLetterResponse()

    async def PublishSnapshot(
        self, request: pb.PublishSnapshotRequest, context: object
    ) -> pb.PublishSnapshotResponse:
        self._operator()
        if request.parent != f"regions/{self._p.region}":
            raise InvalidArgument(
                [FieldViolation("parent", f"must be regions/{self._p.region}, this region")]
            )
        return pb.PublishSnapshotResponse(events=await self._publish_snapshot())

    async def RevokeToken(self, request: pb.RevokeTokenRequest, context: object) -> pb.RevokedToken:
        principal = self._operator()
        revoked = await self._revoke_token(request, principal)
        log.warning("token %s revoked by %s: %s", request.token_id, principal.subject,
                    request.reason)  # fmt: skip
        return revoked

    def _find(self, name: str) -> dead_letters.DeadLetter:
        match = self._name.match(name)
        if match is None:
            raise InvalidArgument(
                [FieldViolation("name", f"must be a name like {self._parent}/deadLetters/1")]
            )
        letter = dead_letters.get(self._p.db.reader, int(match.group(1)))
        if letter is None:
            raise NotFound(f"{name} does not exist (replayed or discarded already?)")
        return letter

    def _view(self, letter: dead_letters.DeadLetter) -> pb.DeadLetter:
        created = Timestamp()
        created.FromNanoseconds(int(letter.created_at * 1e9))
        return pb.DeadLetter(
            name=f"{self._parent}/deadLetters/{letter.id}",
            origin=_ORIGINS[letter.origin],
            event_id=letter.event_id,
            subject=letter.subject,
            type=letter.headers.get("ce-type", ""),
            resource=letter.headers.get("ce-subject", ""),
            headers={str(k): str(v) for k, v in letter.headers.items()},
            payload=letter.payload,
            error=letter.error,
            deliveries=letter.deliveries,
            create_time=created,
        )
