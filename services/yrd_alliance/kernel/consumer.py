"""Idempotent event consumer: a durable pull consumer whose effects commit exactly once, and in
which one bad event stops only itself.

Each fetched batch commits in one database transaction, every event inside its own savepoint:
the handler's effects, the events it emits (through a unit of work, as use cases do) and the
event's id in `applied_events`. Messages are acked only after that commit, so a redelivered
event finds its id and is skipped.

An event whose handler fails rolls back alone and is redelivered after a growing delay; after
`max_deliver` deliveries it is set aside as a dead letter (with its error and payload) and
terminated. A message that is not a CloudEvent, or an event about an entity whose home is not
the region that published it (forged or misrouted), is set aside at once and never applied.
The events behind flow on. An operator replays a dead letter once its cause is fixed
(`replay`).

At start the durable consumer is reconciled with the service's settings: a changed filter (a
region added to the federation) re-creates it from the start of the stream, where the events
already applied are skipped; other changes update it in place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from enum import Enum

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from yrd_alliance.kernel import dead_letters
from yrd_alliance.kernel.db import Connection, Database
from yrd_alliance.kernel.errors import FailedPrecondition
from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.projection import Handler
from yrd_alliance.kernel.pull import PullInbox
from yrd_alliance.kernel.tasks import cancel_and_wait, pause
from yrd_alliance.kernel.tracing import Tracing
from yrd_alliance.kernel.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

_SETTLE_WITHIN_S = 5.0  # at stop, for the events in hand to be applied and acked


class OriginRefused(Exception):
    """An event about an entity whose home is not the region that published it."""


class _Outcome(Enum):
    ACK = "ack"
    RETRY = "retry"
    SET_ASIDE = "set aside"


class EventConsumer:
    def __init__(
        self,
        db: Database,
        link: NatsLink,
        *,
        stream: str,
        durable: str,
        handlers: Mapping[str, Handler],
        filter_subjects: Sequence[str] = (),
        batch: int = 256,
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
        retry_base_s: float = 1.0,
        on_emitted: Callable[[], None] = lambda: None,
        tracing: Tracing | None = None,
    ) -> None:
        self._db = db
        self._link = link
        self._stream = stream
        self._durable = durable
        self._handlers = dict(handlers)
        self._filter_subjects = sorted(filter_subjects)
        self._batch = batch
        self._ack_wait_s = ack_wait_s
        self._max_deliver = max_deliver
        self._retry_base_s = retry_base_s
        self._on_emitted = on_emitted  # wakes the outbox relay: handlers may emit events
        self._tracing = tracing
        self._task: asyncio.Task[None] | None = None
        self._inbox: PullInbox | None = None
        self._stopping = False
        self.applied = 0
        self.skipped = 0
        self.retried = 0
        self.dead_lettered = 0
        # Told of each event applied: how long its handler and bookkeeping took.
        self.on_applied: Callable[[float], None] = lambda seconds: None

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def durable(self) -> str:
        return self._durable

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self._durable}")

    async def stop(self) -> None:
        """Lets the open pull request end, and the events it brought be applied and acked,
        before the task goes (see kernel.pull). Elsewhere (connecting, backing off) nothing is
        in hand, and the task is cancelled at once. (A cancel can be lost, see kernel.tasks, so
        the task also ends its loop itself.)"""
        self._stopping = True
        inbox, self._inbox = self._inbox, None
        if inbox is not None and self._task is not None:
            inbox.close()
            await asyncio.wait({self._task}, timeout=_SETTLE_WITHIN_S)
        await cancel_and_wait(self._task)
        if inbox is not None:
            await inbox.discard()

    def config(self) -> ConsumerConfig:
        """The durable consumer as the settings want it."""
        return ConsumerConfig(
            durable_name=self._durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait_s,
            max_ack_pending=self._batch * 4,
            max_deliver=-1,  # counted here, so the last delivery is set aside, not dropped
            filter_subjects=self._filter_subjects or None,
        )

    async def reconcile(self, js: JetStreamContext) -> None:
        wanted = self.config()
        try:
            have = (await js.consumer_info(self._stream, self._durable)).config
        except NotFoundError:
            await js.add_consumer(self._stream, wanted)
            return
        filters = sorted(
            have.filter_subjects or ([have.filter_subject] if have.filter_subject else [])
        )
        if filters != self._filter_subjects:
            log.info(
                "consumer %s: filter changed (%s → %s); reading %s again from its start",
                self._durable, filters, self._filter_subjects, self._stream,
            )  # fmt: skip
            await js.delete_consumer(self._stream, self._durable)
            await js.add_consumer(self._stream, wanted)
        elif (have.ack_wait, have.max_ack_pending, have.max_deliver) != (
            wanted.ack_wait,
            wanted.max_ack_pending,
            wanted.max_deliver,
        ):
            await js.add_consumer(self._stream, wanted)

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            inbox: PullInbox | None = None
            in_hand: list[Msg] = []
            try:
                await self.reconcile(await self._link.jetstream())
                inbox = PullInbox(
                    await self._link.client(),
                    stream=self._stream,
                    durable=self._durable,
                    batch=self._batch,
                )
                await inbox.open()
                self._inbox = inbox
                while not inbox.closed:
                    if self._stopping:  # a stop whose cancel was lost (see stop)
                        inbox.close()
                    in_hand = await inbox.next_batch()
                    if in_hand:
                        await self._settle(in_hand, await self._apply_batch(in_hand))
                        in_hand = []
                        backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    return
                log.warning("consumer %s: %s; retrying in %.1fs", self._durable, exc, backoff)
                if inbox is not None:
                    self._inbox = None
                    await self._give_back(inbox, in_hand)
                await pause(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _give_back(self, inbox: PullInbox, in_hand: list[Msg]) -> None:
        """After a failure (the database gone, say), the events in hand and those the inbox
        still receives go back to the server at once, rather than after the ack wait."""
        inbox.close()
        left = list(in_hand)
        while not inbox.closed:
            left += await inbox.next_batch()
        for message in left:
            with suppress(Exception):  # unacked, it comes back after the ack wait
                await message.nak()

    async def _apply_batch(self, messages: list[Msg]) -> list[_Outcome]:
        emitted = False
        async with self._db.write() as tx:
            outcomes = []
            for message in messages:
                outcome, emitted_one = self._apply_message(tx, message)
                outcomes.append(outcome)
                emitted |= emitted_one
        if emitted:
            self._on_emitted()
        return outcomes

    async def _settle(self, messages: list[Msg], outcomes: list[_Outcome]) -> None:
        """Acks, redelivers later, or terminates each message, after the commit."""
        for message, outcome in zip(messages, outcomes, strict=True):
            if outcome is _Outcome.ACK:
                await message.ack()
            elif outcome is _Outcome.SET_ASIDE:
                await message.term()
            else:
                delivered = message.metadata.num_delivered or 1
                await message.nak(delay=min(self._retry_base_s * 2 ** (delivered - 1), 60.0))

    def _apply_message(self, tx: Connection, message: Msg) -> tuple[_Outcome, bool]:
        deliveries = message.metadata.num_delivered or 1
        try:
            event = Event.from_nats(message.subject, message.headers, message.data)
        except ValueError as exc:  # not a CloudEvent: no retry can mend it
            self._set_aside(tx, message, str(exc), deliveries)
            return _Outcome.SET_ASIDE, False
        try:
            emitted = self.apply(tx, event)
        except OriginRefused as exc:  # forged or misrouted: never applied, never retried
            self._set_aside(tx, message, f"OriginRefused: {exc}", deliveries)
            return _Outcome.SET_ASIDE, False
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if deliveries < self._max_deliver:
                self.retried += 1
                log.warning(
                    "consumer %s: %s (%s) failed on delivery %d of %d: %s",
                    self._durable, event.type, event.id, deliveries, self._max_deliver, error,
                )  # fmt: skip
                return _Outcome.RETRY, False
            self._set_aside(tx, message, error, deliveries)
            return _Outcome.SET_ASIDE, False
        return _Outcome.ACK, emitted

    def apply(self, tx: Connection, event: Event) -> bool:
        """Applies one event in its own savepoint, once: an event already applied is skipped.
        Raises what the handler raised, with nothing of it kept. Returns whether it emitted.

        The event is claimed first: a replica applying it at the same moment holds the claim's
        row until it commits, and this insert then finds it and skips."""
        handler = self._handlers.get(event.type)
        if handler is not None:
            problem = event.origin_problem()
            if problem is not None:
                raise OriginRefused(problem)
        began = time.perf_counter()
        tx.execute("SAVEPOINT event")
        try:
            claimed = tx.execute(
                "INSERT INTO applied_events (consumer, event_id, applied_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (self._durable, event.id, time.time()),
            ).rowcount
            uow = UnitOfWork(tx, self._db.engine.for_update)
            if claimed:
                with self._traced(event):
                    if handler is not None:
                        handler(uow, event)
                    uow.write_events()
        except BaseException:
            tx.execute("ROLLBACK TO event")
            tx.execute("RELEASE event")
            raise
        tx.execute("RELEASE event")
        if not claimed:
            self.skipped += 1
            return False
        self.applied += 1
        self.on_applied(time.perf_counter() - began)
        return bool(uow.events)

    def _traced(self, event: Event) -> AbstractContextManager[None]:
        """The span of applying a traced event, so the events its handler emits continue it."""
        if self._tracing is None or not event.trace:
            return nullcontext()
        return self._tracing.applying(event.type, dict(event.trace), self._durable)

    async def replay(self, letter: dead_letters.DeadLetter) -> None:
        """Applies a dead letter again (once); it leaves the dead letters only if it applied.
        Raises FailedPrecondition with the handler's error when it fails again."""
        failure: str | None = None
        emitted = False
        async with self._db.write() as tx:
            try:
                event = Event.from_nats(letter.subject, letter.headers, letter.payload)
                emitted = self.apply(tx, event)
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
                dead_letters.failed_again(tx, letter.id, failure)
            else:
                dead_letters.remove(tx, letter.id)
        if emitted:
            self._on_emitted()
        if failure is not None:
            raise FailedPrecondition(f"the event failed again and stays a dead letter: {failure}")

    def _set_aside(self, tx: Connection, message: Msg, error: str, deliveries: int) -> None:
        headers = dict(message.headers or {})
        dead_letters.record(
            tx,
            origin=dead_letters.Origin.CONSUMER,
            event_id=headers.get("ce-id") or f"{self._stream}:{message.metadata.sequence.stream}",
            subject=message.subject,
            headers=headers,
            payload=message.data,
            error=error,
            deliveries=deliveries,
        )
        self.dead_lettered += 1
        log.error(
            "consumer %s: %s set aside as a dead letter: %s", self._durable, message.subject, error
        )
