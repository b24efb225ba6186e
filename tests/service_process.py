"""A service in its own process, as production runs it, for tests that kill it or fuzz it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import ServiceProcess

from tests.conftest import GRPC_TLS, JWKS


def service_process(
    service: str,
    region: str,
    db_path: Path,
    nats_url: str,
    log_path: Path,
    port: int | None = None,
    **settings: object,
) -> ServiceProcess:
    return ServiceProcess(
        f"{service}-{region}",
        service,
        port=port or free_port(),
        settings={
            "region": region,
            "db_path": db_path,
            "nats_url": nats_url,
            "jwks_file": JWKS,
            "tls_cert_file": GRPC_TLS.cert,
            "tls_key_file": GRPC_TLS.key,
            "shutdown_grace_s": 2,
            # the fault tests write flat out as one caller: limits are tested in test_limits
            "write_rate_per_s": 100_000,
            "write_burst": 100_000,
            **settings,
        },
        ca_file=GRPC_TLS.ca,
        log_path=log_path,
    )


def membership_process(
    region: str, db_path: Path, nats_url: str, log_path: Path, port: int | None = None
) -> ServiceProcess:
    return service_process("membership", region, db_path, nats_url, log_path, port)


@contextmanager
def running(process: ServiceProcess) -> Iterator[ServiceProcess]:
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()
