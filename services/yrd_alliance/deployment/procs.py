"""A small process manager for `alliance up` and the tests: real nats-server and service
processes on free loopback ports, each in its own process group, stopped by that group only."""

from __future__ import annotations

import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.deployment.nats_secrets import NatsSecrets, TlsFiles
from yrd_alliance.deployment.ports import LOOPBACK, free_port
from yrd_alliance.deployment.topology import Topology
from yrd_alliance.kernel.settings import ServiceSettings


def children(pid: int) -> list[int]:
    """The processes a process has started and that still run (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return sorted(found)


def venv_script(name: str) -> str:
    """A console script installed beside this interpreter (nats-server comes from its wheel)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run `make install`")
    return found


class ManagedProcess:
    stop_signal = signal.SIGTERM  # asks the process to stop cleanly

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env or {})
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.argv,
            env={**os.environ, **self.env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **self.popen_options(),  # type: ignore[call-overload]
        )
        if self.log_path:
            out.close()  # type: ignore[union-attr]

    def popen_options(self) -> dict[str, object]:
        """More of subprocess.Popen's options, for a kind of process that needs them."""
        return {}

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.running():
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as in a crash."""
        self.signal_group(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self, timeout: float = 10.0) -> None:
        if not self.running():
            return
        self.signal_group(self.stop_signal)
        assert self.proc is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Blocks until the process serves; each kind of process knows how to tell."""
        raise NotImplementedError

    def fail_if_exited(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = ""
            if self.log_path and self.log_path.exists():
                tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}\n{tail}")


class NatsServer(ManagedProcess):
    """nats-server with JetStream; the store directory survives restarts."""

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int | None = None,
        monitor_port: int | None = None,
        config: Path | None = None,
        name: str = "nats",
        log_path: Path | None = None,
    ) -> None:
        """Without a config, flags choose free ports and the store. With one, the config says
        everything and the ports given here must be the ones it names."""
        self.port = port or free_port()
        self.monitor_port = monitor_port or free_port()
        self.store_dir = store_dir
        if config is not None:
            argv = [venv_script("nats-server"), "-c", str(config)]
        else:
            argv = [
                venv_script("nats-server"),
                "-a",
                LOOPBACK,
                "-p",
                str(self.port),
                "-m",
                str(self.monitor_port),
                "-js",
                "-sd",
                str(store_dir),
                "-n",
                name,
            ]
        super().__init__(name, argv, log_path=log_path)

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    def wait_ready(self, timeout: float = 15.0, *, current: bool = False) -> None:
        """Until JetStream is on; with `current`, until this server of a cluster has also
        caught up with its streams (stopping another one before then can leave a stream
        without a majority, as in any rolling restart)."""
        deadline = time.monotonic() + timeout
        check = "" if current else "?js-enabled-only=true"
        url = f"http://{LOOPBACK}:{self.monitor_port}/healthz{check}"
        while time.monotonic() < deadline:
            self.fail_if_exited()
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready on port {self.port} after {timeout}s")


def service_environment(service: str, **settings: object) -> dict[str, str]:
    """The environment a service reads its settings from (kernel.settings.ServiceSettings):
    each setting under the service's prefix, e.g. region="sh" → MEMBERSHIP_REGION=sh. A name
    that is no setting fails here rather than as a variable the service ignores."""
    unknown = set(settings) - set(ServiceSettings.model_fields)
    if unknown:
        raise ValueError(f"no service setting is called {', '.join(sorted(unknown))}")
    prefix = service.upper() + "_"
    return {prefix + name.upper(): _env_value(value) for name, value in settings.items()}


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


class ServiceProcess(ManagedProcess):
    """A service's console script (`alliance-<service>`), configured by its settings; ready when
    its gRPC health check says SERVING."""

    def __init__(
        self,
        name: str,
        service: str,
        *,
        port: int,
        settings: Mapping[str, object],
        ca_file: Path | None,
        log_path: Path | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """`ca_file` verifies the service's certificate; None only with plaintext=True.
        `environment` holds variables beside its settings, e.g. OpenTelemetry's OTEL_*."""
        self.port = port
        self.grpc = GrpcTarget(f"{LOOPBACK}:{port}", ca_file)
        env = {
            **(environment or {}),
            **service_environment(service, grpc_port=port, grpc_host=LOOPBACK, **settings),
        }
        super().__init__(name, [venv_script(f"alliance-{service}")], env=env, log_path=log_path)

    @property
    def target(self) -> str:
        return self.grpc.address

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self.grpc.channel() as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                self.fail_if_exited()
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.05)
        raise TimeoutError(f"{self.name} not healthy on {self.target} after {timeout}s")


def docker_engine_reachable() -> bool:
    """True when a Docker engine answers; then tests may use testcontainers instead."""
    if os.environ.get("ALLIANCE_NO_CONTAINERS"):
        return False
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def region_nats(
    topology: Topology,
    region: str,
    base_dir: Path,
    log_path: Path | None = None,
    *,
    keys: NatsSecrets | None = None,
    tls: TlsFiles | None = None,
    server: int = 0,
) -> NatsServer:
    """A NATS server of one region (`server`: which of its cluster's), its configuration written
    from the topology (mode 0600: with keys it holds passwords)."""
    node = topology.servers(region)[server]
    label = region if len(topology.servers(region)) == 1 else f"{region}-{server + 1}"
    base_dir.mkdir(parents=True, exist_ok=True)
    store = base_dir / f"{label}-js"
    config = base_dir / f"{label}.conf"
    config.touch(mode=0o600)
    region_keys = keys.region(region) if keys else None
    config.write_text(topology.nats_config(region, store, keys=region_keys, tls=tls, server=server))
    return NatsServer(
        store,
        port=node.client_port,
        monitor_port=node.monitor_port,
        config=config,
        name=f"alliance-{label}",
        log_path=log_path,
    )


class PortalProcess(ManagedProcess):
    """A region's portal (`alliance-portal`), configured by PORTAL_* settings; ready when it
    answers /healthz over HTTPS, verified by the deployment's CA."""

    def __init__(
        self,
        name: str,
        *,
        port: int,
        settings: Mapping[str, object],
        ca_file: Path,
        log_path: Path | None = None,
    ) -> None:
        self.port = port
        self.ca_file = ca_file
        env = {
            f"PORTAL_{key.upper()}": _env_value(value)
            for key, value in {**settings, "http_host": LOOPBACK, "http_port": port}.items()
        }
        super().__init__(name, [venv_script("alliance-portal")], env=env, log_path=log_path)

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    def wait_ready(self, timeout: float = 20.0) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.fail_if_exited()
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1, context=context):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"{self.name} not answering on {self.url} after {timeout}s")
