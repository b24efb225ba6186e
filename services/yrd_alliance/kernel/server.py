"""Service bootstrap: one place that wires a service's parts to the kernel and runs them.

A service provides a ServiceDefinition; `ServiceHost` builds the gRPC server (the guard,
health, reflection), the database with the kernel's and the service's migrations, the NATS
link, the outbox relay and the service's consumers, and stops them in reverse order:
supervisor and pipeline watch stopped, health NOT_SERVING → drain in-flight RPCs → flush the
outbox → stop consumers → close NATS → DB.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import grpc
from alliance.federation.v1 import federation_pb2, federation_pb2_grpc
from alliance.operations.v1 import operations_pb2, operations_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from nats.js import JetStreamContext

from yrd_alliance.kernel import logs
from yrd_alliance.kernel.auth import ANY_ROLE, MethodPolicy, Role
from yrd_alliance.kernel.consumer import EventConsumer
from yrd_alliance.kernel.db import Database
from yrd_alliance.kernel.federation import FederationServicer, FederationSupervisor
from yrd_alliance.kernel.guard import Guard, GuardedServer
from yrd_alliance.kernel.leadership import Leadership
from yrd_alliance.kernel.limits import WriteLimiter
from yrd_alliance.kernel.metrics import ServiceMetrics
from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.operations import OperationsServicer, Pipeline, PipelineWatch
from yrd_alliance.kernel.outbox import OutboxRelay
from yrd_alliance.kernel.paging import PageTokens
from yrd_alliance.kernel.projection import Projection
from yrd_alliance.kernel.read_cache import ReadCache
from yrd_alliance.kernel.revocations import SUBJECT as revocations_subject
from yrd_alliance.kernel.revocations import Revocations
from yrd_alliance.kernel.runtime import Parts, Runtime
from yrd_alliance.kernel.schema import MIGRATIONS as KERNEL_MIGRATIONS
from yrd_alliance.kernel.settings import ConfigError, ServiceSettings, load_settings
from yrd_alliance.kernel.snapshots import SnapshotSource, publish_snapshot
from yrd_alliance.kernel.streams import (
    all_stream_config,
    all_stream_name,
    ensure_stream,
    events_stream_config,
)
from yrd_alliance.kernel.tables import Migration
from yrd_alliance.kernel.tasks import cancel_and_wait
from yrd_alliance.kernel.tokens import KeySet, TokenVerifier
from yrd_alliance.kernel.tracing import Tracing

log = logging.getLogger(__name__)

OPERATOR = frozenset({Role.OPERATOR})
# Methods every service serves on behalf of the kernel. Operations methods also check that
# the operator runs this service's region.
KERNEL_POLICY = {
    "GetReplicationStatus": ANY_ROLE,
    "GetPipelineStatus": OPERATOR,
    "ListDeadLetters": OPERATOR,
    "GetDeadLetter": OPERATOR,
    "ReplayDeadLetter": OPERATOR,
    "DiscardDeadLetter": OPERATOR,
    "PublishSnapshot": OPERATOR,
    "RevokeToken": OPERATOR,
}


@dataclass(frozen=True)
class ServiceDefinition:
    name: str  # e.g. "membership": the event source and subject segment
    settings: type[ServiceSettings]
    migrations: Sequence[Migration]
    policy: MethodPolicy
    build: Callable[[Runtime], Parts]
    # The kinds of entity this service owns and other regions copy, for PublishSnapshot.
    snapshots: tuple[SnapshotSource, ...] = ()

    def main(self) -> None:
        """The body of the service's console script."""
        run_service(self)


def server_options(settings: ServiceSettings) -> list[tuple[str, int]]:
    return [
        ("grpc.so_reuseport", 0),
        ("grpc.max_receive_message_length", settings.max_request_kb * 1024),
        ("grpc.max_concurrent_streams", settings.max_streams_per_connection),
        # Keepalive enforcement: a client may ping at most every 30 s without calls in flight;
        # one that pings more often is disconnected (GOAWAY) after two strikes. The server
        # pings idle connections every 2 min and drops those that do not answer in 20 s.
        ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
        ("grpc.http2.max_ping_strikes", 2),
        ("grpc.keepalive_time_ms", 120_000),
        ("grpc.keepalive_timeout_ms", 20_000),
    ]


def listen(server: grpc.aio.Server, settings: ServiceSettings) -> int:
    """Binds the gRPC port: TLS with the service's certificate, plaintext only when the
    development flag says so."""
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    if settings.plaintext:
        log.warning("gRPC on %s WITHOUT TLS (plaintext=true): for development only", address)
        return server.add_insecure_port(address)
    assert settings.tls_cert_file and settings.tls_key_file  # the settings check this
    try:
        pair = (settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the TLS certificate or key: {exc}") from None
    return server.add_secure_port(address, grpc.ssl_server_credentials([pair]))


def with_revocations(projection: Projection | None, revocations: Revocations) -> Projection:
    """The service's projection, plus the revoked tokens every service keeps."""
    own = projection or Projection(subjects=[], handlers={})
    return replace(
        own,
        handlers={**own.handlers, **revocations.handlers()},
        subjects_of_every_region=[*own.subjects_of_every_region, revocations_subject],
    )


class ServiceHost:
    def __init__(self, definition: ServiceDefinition, settings: ServiceSettings) -> None:
        self.definition = definition
        self.settings = settings
        self.port = 0
        self.runtime: Runtime | None = None
        self._server: grpc.aio.Server | None = None
        self._health = HealthServicer()
        self._consumers: list[EventConsumer] = []
        self._service_names: list[str] = []
        self._background: asyncio.Task[None] | None = None
        self._stopping = False
        self._metrics_server: Any = None
        self.metrics_port = 0
        self._tracing = Tracing.from_environment(definition.name, settings.region)

    async def start(self) -> int:
        settings = self.settings
        db = Database(
            settings.database_url.get_secret_value() if settings.database_url else settings.db_path,
            sync_full=settings.sync_full,
        )
        db.migrate([*KERNEL_MIGRATIONS, *self.definition.migrations])

        async def ensure_region_streams(js: JetStreamContext) -> None:
            retention_s = settings.events_retention_hours * 3600
            replicas = settings.events_replicas
            await ensure_stream(js, events_stream_config(settings.region, retention_s, replicas))
            await ensure_stream(
                js,
                all_stream_config(
                    settings.region, settings.federation_regions, retention_s, replicas
                ),
            )

        link = NatsLink(
            settings.nats_url,
            name=f"{self.definition.name}-{settings.region}",
            user=settings.nats_user,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
            ca_file=settings.nats_ca_file,
            on_connect=[ensure_region_streams],
        )
        relay = OutboxRelay(
            db,
            link,
            batch=settings.outbox_batch,
            retention_s=settings.outbox_retention_hours * 3600,
            tracing=self._tracing,
        )
        page_key = (
            settings.page_token_secret.get_secret_value().encode()
            if settings.page_token_secret
            else db.service_key("page_tokens")
        )
        self.runtime = Runtime(
            self.definition.name,
            settings,
            db,
            link,
            relay,
            PageTokens(page_key),
            ReadCache(db.data_version, int(settings.read_cache_mb * 1024 * 1024)),
        )
        storage = self.runtime.ports.storage
        revocations = Revocations(storage)

        self.supervisor = FederationSupervisor(
            link,
            settings.region,
            settings.federation_regions,
            health=self._health,
            retention_s=settings.events_retention_hours * 3600,
            replicas=settings.events_replicas,
        )
        parts = self.definition.build(self.runtime)
        projection = with_revocations(parts.projection, revocations)
        filters = projection.filter_subjects(settings.region, settings.federation_regions)
        self._consumers = [
            EventConsumer(
                db,
                link,
                stream=all_stream_name(settings.region),
                durable=f"{self.definition.name}-projection",
                handlers=projection.handlers,
                filter_subjects=filters,
                max_deliver=settings.consumer_max_deliver,
                retry_base_s=settings.consumer_retry_s,
                on_emitted=relay.wake,
                tracing=self._tracing,
            )
        ]
        self._background_job = parts.background
        self.leadership = Leadership(
            db.engine.lease(f"{self.definition.name}-workers"),
            self._start_workers,
            self._stop_workers,
            name=f"{self.definition.name}-{settings.region}",
            poll_s=settings.leader_poll_s,
        )
        pipeline = Pipeline(
            settings.region,
            self.definition.name,
            db,
            link,
            relay,
            self._consumers,
            settings.stuck_after_s,
            leads=lambda: self.leadership.leading,
        )
        self.metrics = ServiceMetrics(settings.region, self.definition.name)
        self.metrics.watch(relay, self._consumers, self.runtime.read_cache)
        measured = settings.metrics_port is not None  # without an endpoint, nothing is counted
        if measured:
            db.on_commit, relay.on_published = self.metrics.committed, self.metrics.published
            for consumer in self._consumers:
                consumer.on_applied = self.metrics.applied
        self.metrics.watch_federation(self.supervisor)
        self._watch = PipelineWatch(pipeline, self._health, figures=self.metrics.pipeline)
        server = grpc.aio.server(options=server_options(settings))
        policy = MethodPolicy({**KERNEL_POLICY, **self.definition.policy.roles_by_method})
        verifier = TokenVerifier(
            KeySet(settings.jwks_file), settings.token_max_lifetime_s, revocations.__contains__
        )
        writes = WriteLimiter(settings.write_rate_per_s, settings.write_burst)
        guarded = GuardedServer(
            server,
            Guard(verifier, policy, writes, self.metrics if measured else None, self._tracing),
        )
        self._service_names = [s.add(guarded) for s in parts.servicers]  # type: ignore[arg-type]
        federation_pb2_grpc.add_FederationServiceServicer_to_server(
            FederationServicer(settings.region, self.supervisor),
            guarded,  # type: ignore[arg-type]
        )
        runtime = self.runtime
        operations_pb2_grpc.add_OperationsServiceServicer_to_server(
            OperationsServicer(
                pipeline,
                runtime.page_tokens,
                lambda: publish_snapshot(runtime, self.definition.snapshots),
                lambda request, who: revocations.revoke(storage, settings.region, request, who),
            ),
            guarded,  # type: ignore[arg-type]
        )
        self._service_names += [
            federation_pb2.DESCRIPTOR.services_by_name["FederationService"].full_name,
            operations_pb2.DESCRIPTOR.services_by_name["OperationsService"].full_name,
        ]
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            [
                *self._service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            server,
        )
        self.port = listen(server, settings)
        if self.port == 0:
            raise ConfigError(f"cannot listen on {settings.grpc_host}:{settings.grpc_port}")
        self._server = server
        if settings.metrics_port is not None:
            self._metrics_server, self.metrics_port = self.metrics.serve(
                settings.grpc_host, settings.metrics_port
            )

        link.start()
        self.supervisor.start()
        await self.leadership.start()
        self._watch.start()
        await server.start()
        await self._set_health(health_pb2.HealthCheckResponse.SERVING, ["", *self._service_names])
        log.info(
            "%s (%s) serving on %s:%d",
            self.definition.name,
            settings.region,
            settings.grpc_host,
            self.port,
        )
        return self.port

    async def _start_workers(self) -> None:
        """What one replica at a time runs (kernel.leadership): publishing the outbox, applying
        events, housekeeping."""
        assert self.runtime is not None
        self.runtime.relay.start()
        if self._background_job is not None:
            self._background = asyncio.create_task(
                self._background_job(), name=f"{self.definition.name}-background"
            )
        for consumer in self._consumers:
            consumer.start()

    async def _stop_workers(self) -> None:
        """On shutdown the relay first publishes what waits (for the grace period); when the
        lease was lost, the new leader will."""
        assert self.runtime is not None
        flush_s = self.settings.shutdown_grace_s if self._stopping else 0.0
        await self.runtime.relay.stop(flush_timeout_s=flush_s)
        if self._background is not None:
            await cancel_and_wait(self._background)
            self._background = None
        await asyncio.gather(*(consumer.stop() for consumer in self._consumers))

    async def _set_health(self, status: int, names: list[str]) -> None:
        for name in names:
            await self._health.set(name, status)

    async def stop(self) -> None:
        if self._server is None or self.runtime is None:
            return
        await self.supervisor.stop()  # first, so it reports no region as SERVING again
        await self._watch.stop()
        await self._set_health(
            health_pb2.HealthCheckResponse.NOT_SERVING,
            ["", *self._service_names, *self.supervisor.health_names, *self._watch.health_names],
        )
        await self._server.stop(self.settings.shutdown_grace_s)
        self._stopping = True
        await self.leadership.stop()
        await self.runtime.link.close()
        self.runtime.db.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server = None
        if self._tracing is not None:
            self._tracing.shutdown()
        self._server = None
        log.info("%s (%s) stopped", self.definition.name, self.settings.region)


async def serve(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    host = ServiceHost(definition, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await host.start()
    # What start made lives as long as the process: left out of every later collection, a
    # full one no longer walks it while calls wait (it paused the loop for up to 17 ms).
    gc.freeze()
    await stop.wait()
    await host.stop()


def run_service(definition: ServiceDefinition) -> None:
    try:
        settings = load_settings(definition.settings)
    except ConfigError as exc:
        raise SystemExit(f"{definition.name}: {exc.code}") from None
    logs.configure(definition.name, settings.region, settings.log_level, settings.log_format)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; only missing on exotic hosts
        asyncio.run(serve(definition, settings))
    else:
        uvloop.run(serve(definition, settings))
