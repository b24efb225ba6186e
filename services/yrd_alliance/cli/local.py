"""The whole alliance on this host as local processes: for each region a NATS server (its own
JetStream domain, joined to the others by leaf connections) and the region's services, on fixed
loopback ports derived from one topology, so printed commands stay valid between runs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from yrd_alliance.cli.certs import region_tls, service_certificate
from yrd_alliance.cli.partners import Partner, provision
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.deployment.issuer import Issuer
from yrd_alliance.deployment.nats_auth import DEMO_PARTNER, SERVICE_USER, admin_user
from yrd_alliance.deployment.nats_secrets import NatsSecrets, TlsFiles
from yrd_alliance.deployment.ports import LOOPBACK
from yrd_alliance.deployment.procs import ManagedProcess, PortalProcess, ServiceProcess, region_nats
from yrd_alliance.deployment.topology import Topology, local_topology
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.nats_link import tls_context
from yrd_alliance.kernel.tokens import issue_token

SERVICES = ("membership", "pairing", "sharing")
# gRPC ports: each service a block of 10 from the base port, one port per region in the block,
# so a service's port in a region stays the same when services are added.
PORTS_PER_SERVICE = 10
METRICS_OFFSET = 1000  # a service's metrics port: its gRPC port + 1000 (51051 …)
NATS_SECRETS = "nats.secrets"
PORTAL_TOKEN_DAYS = 30  # a partner token's longest lifetime; `alliance up` issues a new one


@dataclass
class Endpoint:
    region: str
    service: str
    target: str
    pid: int = 0  # the process serving it, now
    metrics: str = ""  # its Prometheus endpoint


@dataclass
class RegionNats:
    region: str
    url: str  # no credentials; see LocalState.partner_url
    monitor: str
    config: str = ""  # the rendered config file, rewritten when partners change
    pid: int = 0  # the server's, for a config reload (SIGHUP)


@dataclass
class LocalState:
    nats: list[RegionNats] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    hub: str = ""
    nats_base_port: int = 0
    tls_dir: str = ""  # the local CA and the servers' certificates (NATS and gRPC)
    portals: list[Endpoint] = field(default_factory=list)  # target: the portal's https URL

    def tls_files(self, region: str) -> TlsFiles:
        return local_tls(Path(self.tls_dir), region)

    @property
    def tls(self) -> ssl.SSLContext | None:
        """For every client of the local NATS servers: they verify the servers by the CA."""
        return tls_context(Path(self.tls_dir) / "ca.pem") if self.tls_dir else None

    def topology(self) -> Topology:
        return local_topology(
            [n.region for n in self.nats], hub=self.hub, base_port=self.nats_base_port
        )

    def reload_nats(self, keys: NatsSecrets) -> None:
        """Renders every region's NATS config again with these keys and has each server reload
        it: users and partner accounts change, no connection or service restarts. Twice: on
        nats-server 2.15 the first reload creates a new partner account but leaves ALLIANCE's
        exports to it unresolved (its copy never fills); the second resolves them."""
        topology = self.topology()
        for region in self.nats:
            config = Path(region.config)
            store = config.parent / f"{region.region}-js"
            region_keys = keys.region(region.region)
            config.write_text(
                topology.nats_config(
                    region.region, store, keys=region_keys, tls=self.tls_files(region.region)
                )
            )
            for _ in range(2):
                _reload(region)

    @property
    def ca_file(self) -> Path:
        """The local CA's certificate: every client verifies the servers by it."""
        return Path(self.tls_dir) / "ca.pem"

    def grpc(self, endpoint: Endpoint) -> GrpcTarget:
        return GrpcTarget(endpoint.target, self.ca_file)

    def targets(self, service: str) -> dict[str, GrpcTarget]:
        """region → that service of the region, over TLS."""
        return {e.region: self.grpc(e) for e in self.endpoints if e.service == service}

    def nats_of(self, region: str) -> RegionNats:
        return next(n for n in self.nats if n.region == region)

    def secrets(self, base_dir: Path) -> NatsSecrets:
        """Every region's NATS passwords, kept beside the local federation's data."""
        return NatsSecrets.load_or_create(base_dir / NATS_SECRETS, [n.region for n in self.nats])

    def partner_url(self, region: str, base_dir: Path, partner: str = DEMO_PARTNER) -> str:
        """The region's NATS URL with a partner's credentials (its own account, read-only)."""
        password = self.secrets(base_dir).region(region).partners[partner]
        return _with_user(self.nats_of(region).url, partner, password)

    def service_url(self, region: str, base_dir: Path) -> str:
        """The region's NATS URL with the services' credentials (for operators' tools)."""
        password = self.secrets(base_dir).region(region).service_password
        return _with_user(self.nats_of(region).url, SERVICE_USER, password)

    def admin_url(self, region: str, base_dir: Path, partner: str) -> str:
        """The region's NATS URL as the alliance's user in a partner's account."""
        password = self.secrets(base_dir).region(region).admin_password
        return _with_user(self.nats_of(region).url, admin_user(partner), password)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> LocalState:
        data = json.loads(path.read_text())
        return cls(
            [RegionNats(**n) for n in data["nats"]],
            [Endpoint(**e) for e in data["endpoints"]],
            data.get("hub", ""),
            data.get("nats_base_port", 0),
            data.get("tls_dir", ""),
            [Endpoint(**e) for e in data.get("portals", [])],
        )


def local_tls(folder: Path, region: str) -> TlsFiles:
    """The local federation's CA, its NATS servers' certificate and the region's leaf
    certificate, made on first use."""
    return region_tls(folder, region, "nats", ["127.0.0.1", "localhost"])


def _reload(region: RegionNats) -> None:
    before = _config_load_time(region.monitor)
    os.kill(region.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while _config_load_time(region.monitor) == before:
        if time.monotonic() > deadline:
            raise RuntimeError(f"NATS of {region.region} did not reload its config")
        time.sleep(0.05)


def _config_load_time(monitor: str) -> str:
    with urllib.request.urlopen(f"{monitor}/varz", timeout=2) as response:
        return str(json.load(response).get("config_load_time", ""))


def _with_user(url: str, user: str, password: str) -> str:
    return url.replace("nats://", f"nats://{user}:{password}@")


def issuer_dir(base_dir: Path) -> Path:
    """Where the local federation's token signing keys and their JWKS are kept."""
    return base_dir / "issuer"


def _ensure_free(port: int, what: str) -> None:
    with socket.socket() as sock:
        # As the servers bind: a closed connection lingering in TIME_WAIT does not hold the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            raise SystemExit(
                f"port {port} for {what} is in use; stop what holds it or choose other ports"
            ) from None


class Watched:
    """A process `LocalFederation.watch` restarts, and its back-off."""

    RESET_AFTER_S = 60.0  # running this long, a process starts with no back-off again
    MAX_DELAY_S = 30.0

    def __init__(self, process: ManagedProcess) -> None:
        self.process = process
        self.failures = 0
        self.started = time.monotonic()
        self.due: float | None = None  # when to restart it, once it has exited

    def exited(self, now: float) -> str:
        if now - self.started >= self.RESET_AFTER_S:
            self.failures = 0
        delay = 0.0 if self.failures == 0 else min(self.MAX_DELAY_S, 2.0 ** (self.failures - 1))
        self.failures += 1
        self.due = now + delay
        assert self.process.proc is not None
        code = self.process.proc.returncode
        tail = ""
        if self.process.log_path and self.process.log_path.exists():
            lines = self.process.log_path.read_text(errors="replace").splitlines()[-5:]
            tail = "".join(f"\n    {line}" for line in lines)
        return (
            f"{self.process.name} exited ({'signal ' + str(-code) if code < 0 else code}) at "
            f"{time.strftime('%H:%M:%S')}; restarting in {delay:.0f} s; its last lines:{tail}"
        )

    def restarted(self, now: float) -> None:
        self.started, self.due = now, None


class LocalFederation:
    def __init__(
        self, base_dir: Path, topology: Topology, *, grpc_base_port: int, portal_base_port: int
    ) -> None:
        self.base_dir = base_dir
        self.topology = topology
        self.grpc_base_port = grpc_base_port
        self.portal_base_port = portal_base_port
        self.processes: list[ManagedProcess] = []
        self.state = LocalState()

    @property
    def state_path(self) -> Path:
        return self.base_dir / "state.json"

    def start(self) -> LocalState:
        """Starts everything, or, when any part fails, stops what it had started and raises."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> LocalState:
        logs = self.base_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        issuer = Issuer.load_or_create(issuer_dir(self.base_dir))
        jwks = issuer.jwks_path
        keys = NatsSecrets.load_or_create(self.base_dir / NATS_SECRETS, self.topology.names)
        state = LocalState(
            hub=self.topology.hub,
            nats_base_port=self.topology.regions[0].client_port,
            tls_dir=str(self.base_dir / "tls"),
        )
        for node in self.topology.regions:
            for port, what in (
                (node.client_port, "NATS"),
                (node.leaf_port, "NATS leaf"),
                (node.monitor_port, "NATS monitor"),
            ):
                _ensure_free(port, f"{what} of {node.name}")
            nats = region_nats(
                self.topology,
                node.name,
                self.base_dir / "nats",
                logs / f"nats-{node.name}.log",
                keys=keys,
                tls=state.tls_files(node.name),
            )
            self._launch(nats)
            monitor = f"http://{LOOPBACK}:{nats.monitor_port}"
            config = str(self.base_dir / "nats" / f"{node.name}.conf")
            state.nats.append(RegionNats(node.name, nats.url, monitor, config, nats.pid))
        federation = ",".join(self.topology.names)
        for node_index, node in enumerate(self.topology.regions):
            for service_index, service in enumerate(SERVICES):
                port = self.grpc_base_port + service_index * PORTS_PER_SERVICE + node_index
                _ensure_free(port, f"{service} in {node.name}")
                _ensure_free(port + METRICS_OFFSET, f"{service}'s metrics in {node.name}")
                certificate = service_certificate(Path(state.tls_dir), service, node.name)
                process = ServiceProcess(
                    f"{service}-{node.name}",
                    service,
                    port=port,
                    settings={
                        "region": node.name,
                        "federation": federation,
                        "db_path": self.base_dir / node.name / f"{service}.db",
                        "nats_url": state.nats_of(node.name).url,
                        "nats_user": SERVICE_USER,
                        "nats_password": keys.region(node.name).service_password,
                        "jwks_file": jwks,
                        "nats_ca_file": state.tls_files(node.name).ca,
                        "tls_cert_file": certificate.cert,
                        "tls_key_file": certificate.key,
                        "metrics_port": port + METRICS_OFFSET,
                    },
                    ca_file=certificate.ca,
                    log_path=logs / f"{service}-{node.name}.log",
                )
                self._launch(process)
                metrics = f"http://{LOOPBACK}:{port + METRICS_OFFSET}/metrics"
                state.endpoints.append(
                    Endpoint(node.name, service, process.target, process.pid, metrics)
                )
        for node in self.topology.regions:  # each partner's copy, once ALL_<R> exists
            for partner in keys.partners:
                asyncio.run(
                    provision(
                        state.service_url(node.name, self.base_dir),
                        state.admin_url(node.name, self.base_dir, partner),
                        node.name,
                        Partner(partner),
                        tls=state.tls,
                    )
                )
        for node_index, node in enumerate(self.topology.regions):
            port = self.portal_base_port + node_index
            portal = self._portal(state, node.name, port, issuer)
            self._launch(portal)
            metrics = f"http://{LOOPBACK}:{port + METRICS_OFFSET}/metrics"
            state.portals.append(Endpoint(node.name, "portal", portal.url, portal.pid, metrics))
        state.save(self.state_path)
        self.state = state
        return state

    def _portal(self, state: LocalState, region: str, port: int, issuer: Issuer) -> PortalProcess:
        """The region's portal: it reads and writes through the region's services, shows
        visitors what its own partner token may read, and follows the events as the demo
        partner does."""
        _ensure_free(port, f"the portal of {region}")
        _ensure_free(port + METRICS_OFFSET, f"the portal's metrics in {region}")
        folder = self.base_dir / "portal"
        folder.mkdir(exist_ok=True)
        token_file = folder / f"partner-{region}.token"
        token_file.touch(mode=0o600)
        token_file.write_text(
            issue_token(
                issuer.key(),
                subject=f"portal-{region}",
                role=Role.PARTNER,
                ttl_s=PORTAL_TOKEN_DAYS * 86400,
            )
        )
        certificate = service_certificate(Path(state.tls_dir), "portal", region)
        targets = {e.service: e.target for e in state.endpoints if e.region == region}
        keys = state.secrets(self.base_dir).region(region)
        return PortalProcess(
            f"portal-{region}",
            port=port,
            settings={
                "region": region,
                "tls_cert_file": certificate.cert,
                "tls_key_file": certificate.key,
                **{service: targets[service] for service in SERVICES},
                "grpc_ca_file": state.ca_file,
                "jwks_file": issuer.jwks_path,
                "partner_token_file": token_file,
                "nats_url": state.nats_of(region).url,
                "nats_user": DEMO_PARTNER,
                "nats_password": keys.partners[DEMO_PARTNER],
                "nats_ca_file": state.ca_file,
                "metrics_port": port + METRICS_OFFSET,
            },
            ca_file=certificate.ca,
            log_path=self.base_dir / "logs" / f"portal-{region}.log",
        )

    def watch(self, stop: threading.Event, report: Callable[[str], None]) -> None:
        """Until `stop` is set: a process that exits is reported (which, when, its last log
        lines) and started again, at once the first time and then after 1, 2, 4 … up to 30 s,
        as compose's `restart: unless-stopped` does."""
        watches = [Watched(p) for p in self.processes]
        while not stop.wait(0.2):
            for watched in watches:
                if watched.process.running() or stop.is_set():
                    continue
                now = time.monotonic()
                if watched.due is None:
                    report(watched.exited(now))
                if watched.due is not None and now >= watched.due:
                    self._restart(watched, report)

    def _restart(self, watched: Watched, report: Callable[[str], None]) -> None:
        process = watched.process
        process.start()
        try:
            process.wait_ready()
        except (RuntimeError, TimeoutError) as exc:
            report(f"{process.name} did not come back: {str(exc).splitlines()[0]}")
            watched.due = None  # reported again, with a longer back-off
            return
        watched.restarted(time.monotonic())
        self._record_pid(process)
        report(f"{process.name} restarted (pid {process.pid})")

    def _record_pid(self, process: ManagedProcess) -> None:
        state = self.state
        for endpoint in state.endpoints:
            if f"{endpoint.service}-{endpoint.region}" == process.name:
                endpoint.pid = process.pid
        for portal in state.portals:
            if f"portal-{portal.region}" == process.name:
                portal.pid = process.pid
        for server in state.nats:
            if f"alliance-{server.region}" == process.name:
                server.pid = process.pid
        state.save(self.state_path)

    def _launch(self, process: ManagedProcess) -> None:
        process.start()
        self.processes.append(process)
        process.wait_ready()

    def stop(self) -> None:
        # Services drain side by side (each takes a second or two), then NATS goes last.
        for process in self.processes:
            if isinstance(process, ServiceProcess) and process.running():
                process.signal_group(signal.SIGTERM)
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        self.state_path.unlink(missing_ok=True)
