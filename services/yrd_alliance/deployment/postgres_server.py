"""A PostgreSQL server of its own, for tests and benchmarks: Debian's `postgresql` binaries (the
make target installs the package when missing), a data directory made for it, a free loopback
port, and its process group stopped by the fixture that started it.

The server trusts loopback connections (there is nothing in it but test data) and runs with
fsync off: a process killed by a test loses nothing either way (the kernel keeps what was
written), and only a machine crash, which no test makes, would need it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from yrd_alliance.deployment.ports import LOOPBACK, free_port
from yrd_alliance.deployment.procs import ManagedProcess

SUPERUSER = "alliance"


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries (the newest installed), if any."""
    found = shutil.which("pg_config")
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), reverse=True)
    if candidates:
        return candidates[0].parent
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        folder = Path(out.stdout.strip())
        if (folder / "postgres").exists():
            return folder
    return None


class PostgresServer(ManagedProcess):
    """`postgres` on a free loopback port, over a data directory it removes when stopped."""

    # PostgreSQL's immediate shutdown: no checkpoint, since the data is removed right after
    # (the fast shutdown's checkpoint took 3-6 s at the end of the suite)
    stop_signal = signal.SIGQUIT

    def __init__(self, *, port: int | None = None) -> None:
        folder = postgres_bin()
        if folder is None:
            raise FileNotFoundError("PostgreSQL is not installed; `make test` installs it")
        self.bin = folder
        self.port = port or free_port()
        # Not under pytest's folders: those are private to root, and the server runs as a user
        # of its own (PostgreSQL refuses to run as root).
        self.root = Path(tempfile.mkdtemp(prefix="alliance-pg-"))
        self.data = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        argv = [
            str(folder / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-h", LOOPBACK, "-k", str(self.root),
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=300",
        ]  # fmt: skip
        super().__init__("postgres", argv, log_path=self.root / "postgres.log")

    def start(self) -> None:
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        initdb = [
            str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        ]  # fmt: skip
        subprocess.run(initdb, check=True, capture_output=True, user=self.user, group=self._group())
        super().start()

    def _group(self) -> int | None:
        return None if self.user is None else pwd.getpwnam(self.user).pw_gid

    def popen_options(self) -> dict[str, object]:
        return {} if self.user is None else {"user": self.user, "group": self._group()}

    def resume(self) -> None:
        """Starts the server again over its data, e.g. after a test killed it."""
        super().start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            self.fail_if_exited()
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        shutil.rmtree(self.root, ignore_errors=True)
