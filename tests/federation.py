"""A local federation for tests: one real nats-server per region, configured from a topology
(own JetStream domain, leaf links), and an in-process membership service per region (or, with
membership=False, none: the test starts the services it needs as processes, `process`)."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
import nats
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from alliance.pairing.v1 import pairing_pb2_grpc as pairing_grpc
from alliance.sharing.v1 import sharing_pb2_grpc as sharing_grpc
from nats.aio.client import Client
from yrd_alliance.cli.local import local_tls
from yrd_alliance.cli.partners import Partner, provision
from yrd_alliance.deployment.nats_auth import DEMO_PARTNER, SERVICE_USER, admin_user
from yrd_alliance.deployment.nats_secrets import NatsSecrets, TlsFiles
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import NatsServer, ServiceProcess, region_nats
from yrd_alliance.deployment.topology import (
    RegionNode,
    Topology,
    free_base_port,
    local_topology,
)
from yrd_alliance.kernel.nats_link import tls_context
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.kernel.settings import ServiceSettings
from yrd_alliance.kernel.streams import all_stream_name
from yrd_alliance.membership.app import DEFINITION, MembershipSettings

from tests.conftest import GRPC_TLS, JWKS, Tokens, auth, sample_carrier, tls_channel
from tests.tcp_proxy import TcpProxy


@dataclass
class Region:
    name: str
    nats: NatsServer  # its first server
    servers: list[NatsServer] = field(default_factory=list)  # all of them, in a cluster
    host: ServiceHost | None = None
    channel: grpc.aio.Channel | None = None
    # Further services started by start_pairing and the like: (host, channel).
    extra: list[tuple[ServiceHost, grpc.aio.Channel]] = field(default_factory=list)

    @property
    def stub(self) -> pb_grpc.MembershipServiceStub:
        assert self.channel is not None
        return pb_grpc.MembershipServiceStub(self.channel)


@dataclass
class Federation:
    topology: Topology
    folder: Path
    regions: dict[str, Region] = field(default_factory=dict)

    proxy: TcpProxy | None = None
    keys: NatsSecrets = field(default_factory=lambda: NatsSecrets({}))
    # Settings every service gets on top of the defaults, e.g. a short events retention.
    overrides: dict[str, Any] = field(default_factory=dict)
    tls_dir: Path | None = None  # the CA and every region's certificates

    def tls(self, region: str) -> TlsFiles | None:
        return local_tls(self.tls_dir, region) if self.tls_dir else None

    @property
    def ca_file(self) -> Path | None:
        return self.tls_dir / "ca.pem" if self.tls_dir else None

    @property
    def tls_context(self) -> ssl.SSLContext | None:
        return tls_context(self.ca_file)

    async def connect(self, region: str, user: str = SERVICE_USER, **options: Any) -> Client:
        """A NATS connection to the region as `user`, over TLS (see url)."""
        return await nats.connect(self.urls(region, user), tls=self.tls_context, **options)

    def url(self, region: str, user: str = SERVICE_USER) -> str:
        """The region's NATS URL with a user's credentials: the services', a partner's (its own
        account, read-only), or the alliance's admin user of a partner's account."""
        return self.urls(region, user)[0]

    def urls(self, region: str, user: str = SERVICE_USER) -> list[str]:
        """As `url`, for every server of the region's cluster."""
        own = self.keys.region(region)
        password = {SERVICE_USER: own.service_password, **own.partners}
        for partner in own.partners:
            password[admin_user(partner)] = own.admin_password
        login = f"nats://{user}:{password[user]}@"
        return [s.client_url.replace("nats://", login) for s in self.topology.servers(region)]

    async def provision_partners(self, region: str) -> None:
        """Each partner's copy and feed. A cluster that has just formed may take more than the
        API's 5 s to make them on a busy machine: asked again (it is idempotent) for 30 s."""
        deadline = time.monotonic() + 30
        for partner in self.keys.partners:
            while True:
                try:
                    await provision(
                        self.url(region),
                        self.url(region, admin_user(partner)),
                        region,
                        Partner(partner),
                        tls=self.tls_context,
                    )
                    break
                except nats.errors.TimeoutError:
                    if time.monotonic() > deadline:
                        raise

    @classmethod
    async def start(
        cls,
        names: list[str],
        folder: Path,
        *,
        proxy_link: tuple[str, str] | None = None,
        partners: tuple[str, ...] = (DEMO_PARTNER,),
        membership: bool = True,
        clusters: dict[str, int] | None = None,
        **overrides: Any,
    ) -> Federation:
        """proxy_link=(spoke, hub) sends that spoke's leaf connection through a TcpProxy;
        `partners` get accounts of their own; `overrides` are settings of every service;
        membership=False starts no in-process membership service; `clusters` runs a region's
        NATS as a cluster of that many servers."""
        topology = local_topology(names, base_port=free_base_port(len(names)))
        for name, size in (clusters or {}).items():
            first = replace(topology.region(name), cluster_port=free_port())
            more = [
                RegionNode(name, free_port(), free_port(), free_port(), cluster_port=free_port())
                for _ in range(size - 1)
            ]
            topology = topology.with_cluster(name, (first, *more))
        keys = NatsSecrets.generate(names, partners)
        federation = cls(topology, folder, keys=keys, overrides=overrides, tls_dir=folder / "tls")
        try:
            await federation._start(names, proxy_link, membership)
        except BaseException:
            await federation.stop()  # nothing it started outlives a failed start
            raise
        return federation

    async def _start(
        self, names: list[str], proxy_link: tuple[str, str] | None, membership: bool
    ) -> None:
        if proxy_link is not None:
            self.proxy = TcpProxy(self.topology.region(proxy_link[1]).leaf_port)
            await self.proxy.start()
        for name in names:
            servers = [self._nats(name, i) for i in range(len(self.topology.servers(name)))]
            server = servers[0]
            if self.proxy is not None and proxy_link is not None and name == proxy_link[0]:
                config = self.folder / "nats" / f"{name}.conf"
                hub = self.topology.region(proxy_link[1])
                direct = hub.leaf_url
                text = config.read_text()
                assert text.count(direct) == 1, f"{name}'s config has no single link to {hub}"
                config.write_text(text.replace(direct, f"nats-leaf://127.0.0.1:{self.proxy.port}"))
            for each in servers:
                each.start()
            self.regions[name] = Region(name, server, servers)
        for region in self.regions.values():
            for each in region.servers:
                await asyncio.to_thread(each.wait_ready)
            if len(region.servers) > 1:
                await asyncio.to_thread(self.wait_for_meta_leader, region.name)
        for name in names:
            if membership:
                await self.start_service(name)
        for name in names:
            await self.provision_partners(name)

    def _settings(
        self, name: str, settings_class: type[ServiceSettings], db: str, **overrides: Any
    ) -> Any:
        return settings_class(**self._values(name, db, **overrides))

    def process(
        self, name: str, service: str, environment: dict[str, str], **overrides: Any
    ) -> ServiceProcess:
        """The region's `service` as a process of its own (not started), its log beside the
        databases; `environment` holds variables beside its settings, `overrides` settings of
        its own (a replica's db_path, say)."""
        values = self._values(
            name, service, write_rate_per_s=100_000, write_burst=100_000, **overrides
        )
        label = Path(values["db_path"]).stem
        return ServiceProcess(
            label,
            service,
            port=free_port(),
            settings=values,
            ca_file=GRPC_TLS.ca,
            log_path=self.folder / f"{label}.log",
            environment=environment,
        )

    def _values(self, name: str, db: str, **overrides: Any) -> dict[str, Any]:
        values = {
            "region": name,
            "federation": ",".join(self.topology.names),
            "db_path": self.folder / f"{name}-{db}.db",
            "nats_url": self.topology.client_urls(name),
            "events_replicas": min(3, len(self.topology.servers(name))),
            "nats_user": SERVICE_USER,
            "nats_password": self.keys.region(name).service_password,
            "jwks_file": JWKS,
            "tls_cert_file": GRPC_TLS.cert,
            "tls_key_file": GRPC_TLS.key,
            "shutdown_grace_s": 1.0,
            "nats_ca_file": self.ca_file,
            "metrics_port": 0,
        }
        return {**values, **self.overrides, **overrides}

    async def start_service(self, name: str, **overrides: Any) -> None:
        """The region's membership service; `overrides` are settings of this start only."""
        region = self.regions[name]
        region.host = ServiceHost(
            DEFINITION, self._settings(name, MembershipSettings, "membership", **overrides)
        )
        port = await region.host.start()
        region.channel = tls_channel(f"127.0.0.1:{port}")

    async def _start_extra(
        self, name: str, definition: Any, settings_class: type[ServiceSettings]
    ) -> grpc.aio.Channel:
        host = ServiceHost(definition, self._settings(name, settings_class, definition.name))
        port = await host.start()
        channel = tls_channel(f"127.0.0.1:{port}")
        self.regions[name].extra.append((host, channel))
        return channel

    async def start_pairing(self, name: str) -> pairing_grpc.PairingServiceStub:
        from yrd_alliance.pairing.app import DEFINITION, PairingSettings

        channel = await self._start_extra(name, DEFINITION, PairingSettings)
        return pairing_grpc.PairingServiceStub(channel)

    async def start_sharing(self, name: str) -> sharing_grpc.SharingServiceStub:
        from yrd_alliance.sharing.app import DEFINITION, SharingSettings

        channel = await self._start_extra(name, DEFINITION, SharingSettings)
        return sharing_grpc.SharingServiceStub(channel)

    async def create_carriers(self, name: str, count: int) -> list[str]:
        md = auth(Tokens(name).operator())
        stub = self.regions[name].stub
        return [
            (
                await stub.CreateCarrier(
                    pb.CreateCarrierRequest(parent=f"regions/{name}", carrier=sample_carrier()),
                    metadata=md,
                )
            ).name
            for _ in range(count)
        ]

    def wait_for_meta_leader(self, name: str, within_s: float = 30.0) -> None:
        """Until every server of the region's cluster knows its JetStream meta leader: before
        that, JetStream API requests go unanswered."""
        deadline = time.monotonic() + within_s
        for node in self.topology.servers(name):
            while True:
                url = f"http://127.0.0.1:{node.monitor_port}/jsz"
                try:
                    with urllib.request.urlopen(url, timeout=1) as reply:
                        if json.load(reply).get("meta_cluster", {}).get("leader"):
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, f"{name}'s cluster elected no meta leader"
                time.sleep(0.1)

    def _nats(self, name: str, server: int = 0) -> NatsServer:
        """The region's NATS server (`server`: which of its cluster's), its config written."""
        log = self.folder / f"nats-{name}{'' if server == 0 else f'-{server + 1}'}.log"
        return region_nats(
            self.topology, name, self.folder / "nats", log,
            keys=self.keys, tls=self.tls(name), server=server,
        )  # fmt: skip

    def restart_nats(self, name: str) -> None:
        region = self.regions[name]
        region.nats = self._nats(name)
        assert region.nats.port == self.topology.region(name).client_port
        region.servers[0] = region.nats
        region.nats.start()
        region.nats.wait_ready()

    async def stop(self) -> None:
        """Stops everything it started, the NATS servers even when a service fails to stop."""
        try:
            for region in self.regions.values():
                for host, channel in region.extra:
                    await channel.close()
                    await host.stop()
                if region.channel is not None:
                    await region.channel.close()
                if region.host is not None:
                    await region.host.stop()
        finally:
            for region in self.regions.values():
                for server in region.servers or [region.nats]:
                    server.stop()
            if self.proxy is not None:
                await self.proxy.close()


async def held_by(federation: Federation, region: str) -> list[str]:
    """The resource names of every event in the region's ALL_<R>, in stream order."""
    return [headers.get("ce-subject", "") for _, headers in await all_events(federation, region)]


async def all_events(federation: Federation, region: str) -> list[tuple[str, dict[str, str]]]:
    """(subject, headers) of every event in the region's ALL_<R>, in stream order."""
    nc = await federation.connect(region)
    try:
        js = nc.jetstream()
        stream = all_stream_name(region)
        info = await js.stream_info(stream)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq, direct=True)
            found.append((msg.subject, dict(msg.headers or {})))
        return found
    finally:
        await nc.close()


async def wait_until_counted(
    federation: Federation, regions: list[str], count: int, within_s: float
) -> float:
    """Seconds until every region's ALL_<R> holds at least `count` events: a cheap poll (the
    stream's state, not every message) for timing convergence; held_by checks what they are."""
    started = time.monotonic()
    connections = {region: await federation.connect(region) for region in regions}
    try:
        waiting = set(regions)
        while waiting and time.monotonic() - started < within_s:
            for region in list(waiting):
                js = connections[region].jetstream()
                try:
                    info = await js.stream_info(all_stream_name(region))
                except Exception:
                    continue
                if info.state.messages >= count:
                    waiting.discard(region)
            if waiting:
                await asyncio.sleep(0.05)
        if waiting:
            raise AssertionError(
                f"{sorted(waiting)} hold fewer than {count} events after {within_s}s"
            )
        return time.monotonic() - started
    finally:
        for connection in connections.values():
            await connection.close()


async def wait_until_held(
    federation: Federation, region: str, expected: set[str], within_s: float
) -> float:
    """Seconds until the region holds every expected event; fails with what is missing."""
    started = time.monotonic()
    held: list[str] = []
    while time.monotonic() - started < within_s:
        try:
            held = await held_by(federation, region)
        except Exception:
            held = []
        if expected <= set(held):
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    missing = expected - set(held)
    raise AssertionError(
        f"{region} lacks {len(missing)} of {len(expected)} events after {within_s}s"
    )
