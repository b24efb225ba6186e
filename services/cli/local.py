"""The whole alliance on this host as local processes: one NATS server with JetStream and each
region's services, on fixed loopback ports so printed commands stay valid between runs."""

from __future__ import annotations

import json
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kernel.procs import LOOPBACK, ManagedProcess, NatsServer, ServiceProcess

SERVICES = ("membership",)


@dataclass
class Endpoint:
    region: str
    service: str
    target: str


@dataclass
class LocalState:
    nats_url: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> LocalState:
        data = json.loads(path.read_text())
        return cls(data["nats_url"], [Endpoint(**e) for e in data["endpoints"]])


def jwt_secret(base_dir: Path) -> str:
    """The local federation's signing key, made once and kept beside its data (mode 0600)."""
    path = base_dir / "jwt.secret"
    if not path.exists():
        base_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _ensure_free(port: int, what: str) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            raise SystemExit(
                f"port {port} for {what} is in use; stop what holds it or choose other ports"
            ) from None


class LocalFederation:
    def __init__(
        self, base_dir: Path, regions: list[str], *, nats_port: int, grpc_base_port: int
    ) -> None:
        self.base_dir = base_dir
        self.regions = regions
        self.nats_port = nats_port
        self.grpc_base_port = grpc_base_port
        self.processes: list[ManagedProcess] = []
        self.state: LocalState | None = None

    @property
    def state_path(self) -> Path:
        return self.base_dir / "state.json"

    def start(self) -> LocalState:
        logs = self.base_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        secret = jwt_secret(self.base_dir)
        _ensure_free(self.nats_port, "NATS")
        nats = NatsServer(
            self.base_dir / "nats",
            port=self.nats_port,
            name="alliance-nats",
            log_path=logs / "nats.log",
        )
        self._launch(nats)
        state = LocalState(nats.url)
        port = self.grpc_base_port
        for region in self.regions:
            for service in SERVICES:
                _ensure_free(port, f"{service} in {region}")
                prefix = service.upper()
                process = ServiceProcess(
                    f"{service}-{region}",
                    f"alliance-{service}",
                    port=port,
                    env={
                        f"{prefix}_REGION": region,
                        f"{prefix}_DB_PATH": str(self.base_dir / region / f"{service}.db"),
                        f"{prefix}_NATS_URL": nats.url,
                        f"{prefix}_JWT_SECRET": secret,
                    },
                    log_path=logs / f"{service}-{region}.log",
                )
                self._launch(process)
                state.endpoints.append(Endpoint(region, service, process.target))
                port += 1
        state.save(self.state_path)
        self.state = state
        return state

    def _launch(self, process: ManagedProcess) -> None:
        process.start()
        self.processes.append(process)
        try:
            process.wait_ready()
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        self.state_path.unlink(missing_ok=True)
