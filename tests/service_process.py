"""A service in its own process, as production runs it, for tests that kill it or fuzz it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kernel.procs import ServiceProcess, free_port

from tests.conftest import JWT_SECRET


def service_process(
    service: str,
    region: str,
    db_path: Path,
    nats_url: str,
    log_path: Path,
    port: int | None = None,
) -> ServiceProcess:
    prefix = service.upper()
    return ServiceProcess(
        f"{service}-{region}",
        f"alliance-{service}",
        port=port or free_port(),
        env={
            f"{prefix}_REGION": region,
            f"{prefix}_DB_PATH": str(db_path),
            f"{prefix}_NATS_URL": nats_url,
            f"{prefix}_JWT_SECRET": JWT_SECRET,
            f"{prefix}_SHUTDOWN_GRACE_S": "2",
        },
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
