"""What the `alliance` commands share: the console, the options every command takes, the local
federation's state, and failing with a message."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from yrd_alliance.cli.local import LocalState, issuer_dir
from yrd_alliance.cli.operations import Operations
from yrd_alliance.deployment.issuer import Issuer
from yrd_alliance.kernel.tokens import SigningKey

console = Console()
err = Console(stderr=True)
# nats-py closing a TLS connection makes asyncio warn "returning true from eof_received() has
# no effect when using ssl" on stderr, once per connection: noise for a command's user.
logging.getLogger("asyncio").setLevel(logging.ERROR)

BaseDir = Annotated[
    Path, typer.Option("--base-dir", help="Where the local federation keeps its data")
]
Region = Annotated[str, typer.Option(help="Only this region's services (default: every region)")]
Service = Annotated[str, typer.Option(help="Only this service, e.g. sharing (default: all)")]
DEFAULT_BASE = Path("var/local")
DEFAULT_REGIONS = "sh,hz,zjg"


def fail(message: str) -> typer.Exit:
    """Prints the error; raise what it returns to exit with status 2."""
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(code=2)


def issuer(base_dir: Path) -> Issuer:
    """The token issuer: its keys in $ALLIANCE_ISSUER_DIR, else the local federation's."""
    folder = os.environ.get("ALLIANCE_ISSUER_DIR")
    return Issuer.load_or_create(Path(folder) if folder else issuer_dir(base_dir))


def signing_key(base_dir: Path) -> SigningKey:
    """The key tokens are signed with: the issuer's newest."""
    return issuer(base_dir).key()


def local_state(base_dir: Path) -> LocalState:
    path = base_dir / "state.json"
    if not path.exists():
        raise fail(f"no local federation is running ({path} is missing); run `make run`")
    return LocalState.load(path)


def operations(base_dir: Path) -> Operations:
    return Operations(local_state(base_dir), signing_key(base_dir))


def regions_of(text: str) -> list[str]:
    return [r.strip() for r in text.split(",") if r.strip()]
