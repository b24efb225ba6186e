"""A membership service in its own process, as production runs it, for tests that kill it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kernel.procs import ServiceProcess, free_port

from tests.conftest import JWT_SECRET


def membership_process(
    region: str, db_path: Path, nats_url: str, log_path: Path, port: int | None = None
) -> ServiceProcess:
    return ServiceProcess(
        f"membership-{region}",
        "alliance-membership",
        port=port or free_port(),
        env={
            "MEMBERSHIP_REGION": region,
            "MEMBERSHIP_DB_PATH": str(db_path),
            "MEMBERSHIP_NATS_URL": nats_url,
            "MEMBERSHIP_JWT_SECRET": JWT_SECRET,
            "MEMBERSHIP_SHUTDOWN_GRACE_S": "2",
        },
        log_path=log_path,
    )


@contextmanager
def running(process: ServiceProcess) -> Iterator[ServiceProcess]:
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()
