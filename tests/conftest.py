"""Fixtures: a real nats-server per test session, a real membership service per test.

Every test gets a fresh region name (so its own JetStream stream), database and tokens; nothing
is shared between tests but the nats-server process and, for the tests of the services' APIs,
a PostgreSQL server, which the session stops by their PID groups. Those tests run twice: on
SQLite files and on PostgreSQL databases (the `engine` parameter).
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import grpc
import nats
import pytest
import pytest_asyncio
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from alliance.pairing.v1 import pairing_pb2_grpc as pairing_grpc
from alliance.sharing.v1 import sharing_pb2_grpc as sharing_grpc
from yrd_alliance.cli.certs import LOCAL_HOSTS, server_certificate
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.deployment.issuer import Issuer
from yrd_alliance.deployment.postgres_server import PostgresServer, postgres_bin
from yrd_alliance.deployment.procs import NatsServer, docker_engine_reachable
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.db import Database
from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.server import ServiceDefinition, ServiceHost
from yrd_alliance.kernel.settings import ServiceSettings
from yrd_alliance.kernel.streams import events_stream_name
from yrd_alliance.kernel.tokens import SigningKey, issue_token
from yrd_alliance.membership.app import DEFINITION, MembershipSettings

# The session's token issuer: its private key signs the tests' tokens, the services get only
# its JWKS.
ISSUER = Issuer.load_or_create(Path(tempfile.mkdtemp(prefix="alliance-issuer-")))
atexit.register(shutil.rmtree, ISSUER.folder, ignore_errors=True)
SIGNING_KEY = ISSUER.key()
JWKS = ISSUER.jwks_path
# The services' gRPC certificate (for 127.0.0.1), signed by the session's CA.
GRPC_TLS = server_certificate(ISSUER.folder / "tls", "grpc-test", LOCAL_HOSTS)


def tls_channel(address: str) -> grpc.aio.Channel:
    """A channel to a test service (host:port), verifying its certificate by the CA."""
    return GrpcTarget(address, GRPC_TLS.ca).aio_channel()


S = TypeVar("S")


def new_region() -> str:
    return "t" + secrets.token_hex(4)


class ContainerNats:
    """nats-server in a container, for hosts with a Docker engine; same face as NatsServer."""

    IMAGE = "nats:2.11-alpine"

    def __init__(self) -> None:
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        self._container = DockerContainer(self.IMAGE).with_command("-js -m 8222")
        self._container.with_exposed_ports(4222, 8222).start()
        wait_for_logs(self._container, "Server is ready", timeout=30)
        host = self._container.get_container_host_ip()
        self.url = f"nats://{host}:{self._container.get_exposed_port(4222)}"
        self.monitor_port = int(self._container.get_exposed_port(8222))

    def stop(self) -> None:
        self._container.stop()


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """The session's NATS: a container where a Docker engine answers, else the wheel's binary.
    Tests that stop and restart NATS start their own NatsServer process instead."""
    if docker_engine_reachable():
        container = ContainerNats()
        yield container  # type: ignore[misc]
        container.stop()
        return
    store = tmp_path_factory.mktemp("nats")
    server = NatsServer(store / "js", log_path=store / "nats.log")
    server.start()
    server.wait_ready()
    yield server
    server.kill()  # its store is thrown away: JetStream's orderly shutdown took 2-5 s


class ContainerPostgres:
    """PostgreSQL in a container, for hosts with a Docker engine; same face as PostgresServer."""

    IMAGE = "postgres:16.4"

    def __init__(self) -> None:
        from testcontainers.community.postgres import PostgresContainer

        self._container = PostgresContainer(self.IMAGE, driver=None)
        self._container.with_env("POSTGRES_INITDB_ARGS", "--locale=C --encoding=UTF8").start()

    def url(self, database: str = "test") -> str:
        return str(self._container.get_connection_url()).rsplit("/", 1)[0] + f"/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def stop(self) -> None:
        self._container.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL: a container where a Docker engine answers, else a server of
    Debian's binaries (which `make test` installs). Tests that kill PostgreSQL start their own."""
    if docker_engine_reachable():
        container = ContainerPostgres()
        yield container  # type: ignore[misc]
        container.stop()
        return
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed; `make test` installs it")
    server = PostgresServer()
    server.start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


Location = Path | str  # a SQLite file, or a PostgreSQL database's URL


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Location]:
    """Makes a service's database on this run's engine: `databases("sharing")`."""
    if request.param == "sqlite":
        return lambda name: tmp_path / f"{name}.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return lambda name: server.create_database(f"{name}_{uuid.uuid4().hex[:12]}")


def read_rows(database: Location, sql: str, parameters: Any = ()) -> list[Any]:
    """The rows a query finds in a service's database, read on a connection of its own."""
    db = Database(database)
    try:
        return db.reader.execute(sql, parameters).fetchall()
    finally:
        db.close()


@dataclass
class Tokens:
    region: str
    key: SigningKey = SIGNING_KEY

    def operator(self, region: str | None = None) -> str:
        return issue_token(self.key, subject="op", role=Role.OPERATOR, region=region or self.region)

    def carrier(self, name: str) -> str:
        return issue_token(self.key, subject="carrier", role=Role.CARRIER, carrier=name)

    def partner(self) -> str:
        return issue_token(self.key, subject="partner", role=Role.PARTNER)

    def lawyer(self, name: str = "regions/sh/lawyers/01JLAWYER0000000000000000000") -> str:
        return issue_token(self.key, subject="lawyer", role=Role.LAWYER, lawyer=name)


def auth(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@dataclass
class Membership:
    """A running membership service and what a test needs to talk to it."""

    host: ServiceHost
    stub: pb_grpc.MembershipServiceStub
    channel: grpc.aio.Channel
    tokens: Tokens
    region: str
    database: Location
    nats_url: str
    folder: Path  # where its local files go

    @property
    def op(self) -> tuple[tuple[str, str], ...]:
        return auth(self.tokens.operator())

    async def create_carrier(self, **fields: object) -> pb.Carrier:
        carrier = sample_carrier(**fields)
        return await self.stub.CreateCarrier(
            pb.CreateCarrierRequest(
                parent=f"regions/{self.region}", carrier=carrier, request_id=str(uuid.uuid4())
            ),
            metadata=self.op,
        )

    async def create_startup(self, parent: str, **fields: object) -> pb.Startup:
        startup = pb.Startup(
            display_name=fields.pop("display_name", "苏州微纳科技有限公司"),  # type: ignore[arg-type]
            legal_needs=[2, 4],
            **fields,
        )  # type: ignore[arg-type]
        return await self.stub.CreateStartup(
            pb.CreateStartupRequest(parent=parent, startup=startup), metadata=self.op
        )

    def row_counts(self) -> dict[str, int]:
        tables = ("carriers", "startups", "outbox", "idempotency_keys")
        counts = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
        return {table: int(n) for table, n in read_rows(self.database, counts)}


def sample_carrier(**fields: object) -> pb.Carrier:
    values: dict[str, object] = {
        "display_name": "上海市科技创业中心",
        "level": pb.CARRIER_LEVEL_NATIONAL,
        "kind": pb.CARRIER_KIND_INCUBATOR,
        "industrial_chains": [2, 6],
        "city": "上海",
        "address": "上海市杨浦区国定东路200号",
        "contact": {
            "person": "王敏",
            "phone": "+86 21 6565 0000",
            "email": "service@stec.example.cn",
        },
        "lead_member": True,
    }
    values.update(fields)
    return pb.Carrier(**values)  # type: ignore[arg-type]


def settings_for(
    region: str,
    database: Location,
    nats_url: str,
    port: int = 0,
    settings_class: type[ServiceSettings] = MembershipSettings,
    folder: Path | None = None,
) -> Any:
    """A service's settings; `database` is its SQLite file, or a PostgreSQL URL (its local files
    then go in `folder`)."""
    on_postgres = isinstance(database, str)
    return settings_class(
        region=region,
        db_path=(folder or Path(tempfile.gettempdir())) / "local.db" if on_postgres else database,
        database_url=database if on_postgres else None,
        nats_url=nats_url,
        jwks_file=JWKS,
        tls_cert_file=GRPC_TLS.cert,
        tls_key_file=GRPC_TLS.key,
        grpc_port=port,
        shutdown_grace_s=1.0,
    )


@pytest_asyncio.fixture
async def membership(
    nats_server: NatsServer, tmp_path: Path, databases: Callable[[str], Location]
) -> AsyncIterator[Membership]:
    region = new_region()
    database = databases("membership")
    host = ServiceHost(DEFINITION, settings_for(region, database, nats_server.url, folder=tmp_path))
    port = await host.start()
    channel = tls_channel(f"127.0.0.1:{port}")
    try:
        yield Membership(
            host,
            pb_grpc.MembershipServiceStub(channel),
            channel,
            Tokens(region),
            region,
            database,
            nats_server.url,
            tmp_path,
        )
    finally:
        await channel.close()
        await host.stop()


@dataclass
class RegionWith(Generic[S]):
    """A region running membership and one more service, which learns of membership's
    carriers and startups from its events."""

    members: Membership
    stub: S
    database: Location
    channel: grpc.aio.Channel

    @property
    def region(self) -> str:
        return self.members.region

    @property
    def tokens(self) -> Tokens:
        return self.members.tokens

    @property
    def op(self) -> tuple[tuple[str, str], ...]:
        return self.members.op


PairingRegion = RegionWith[pairing_grpc.PairingServiceStub]
SharingRegion = RegionWith[sharing_grpc.SharingServiceStub]


@asynccontextmanager
async def beside(
    membership: Membership,
    database: Location,
    definition: ServiceDefinition,
    settings_class: type[ServiceSettings],
    stub_class: Callable[[grpc.aio.Channel], S],
    **settings: Any,
) -> AsyncIterator[RegionWith[S]]:
    """Runs another service in membership's region, on the same NATS and the same engine."""
    folder = membership.folder / definition.name
    folder.mkdir(exist_ok=True)
    base = settings_for(
        membership.region, database, membership.nats_url, settings_class=settings_class,
        folder=folder,
    )  # fmt: skip
    host = ServiceHost(definition, base.model_copy(update=settings))
    port = await host.start()
    channel = tls_channel(f"127.0.0.1:{port}")
    try:
        yield RegionWith(membership, stub_class(channel), database, channel)
    finally:
        await channel.close()
        await host.stop()


@pytest_asyncio.fixture
async def pairing(
    membership: Membership, databases: Callable[[str], Location]
) -> AsyncIterator[PairingRegion]:
    from yrd_alliance.pairing.app import DEFINITION, PairingSettings

    stub = pairing_grpc.PairingServiceStub
    async with beside(membership, databases("pairing"), DEFINITION, PairingSettings, stub) as r:
        yield r


@pytest_asyncio.fixture
async def sharing(
    membership: Membership, databases: Callable[[str], Location]
) -> AsyncIterator[SharingRegion]:
    from yrd_alliance.sharing.app import DEFINITION, SharingSettings

    stub = sharing_grpc.SharingServiceStub
    async with beside(membership, databases("sharing"), DEFINITION, SharingSettings, stub) as r:
        yield r


@pytest_asyncio.fixture
async def federation(tmp_path: Path) -> AsyncIterator[Any]:
    """sh, hz and zjg, each with its own nats-server (NATS users on) and membership service."""
    from tests.federation import Federation

    running = await Federation.start(["sh", "hz", "zjg"], tmp_path)
    try:
        yield running
    finally:
        await running.stop()


async def read_events(
    nats_url: str, region: str, expected: int, wait_s: float = 10.0
) -> list[Event]:
    """Every event in the region's stream, in stream order, once `expected` have arrived."""
    import asyncio
    import time

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        stream = events_stream_name(region)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                info = await js.stream_info(stream)
                if info.state.messages >= expected or time.monotonic() > deadline:
                    break
            except nats.js.errors.NotFoundError:
                if time.monotonic() > deadline:
                    return []
            await asyncio.sleep(0.05)
        events = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            events.append(Event.from_nats(msg.subject, msg.headers, msg.data or b""))
        return events
    finally:
        await nc.close()
