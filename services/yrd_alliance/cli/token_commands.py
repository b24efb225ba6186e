"""`alliance token`: bearer tokens for the alliance's APIs, their revocation, and the issuer's
signing keys (issue, revoke, keys list|rotate|retire)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import grpc
import jwt
import typer
from alliance.operations.v1 import operations_pb2 as ops_pb
from rich.table import Table

from yrd_alliance.cli.common import DEFAULT_BASE, BaseDir, console, fail, issuer, operations
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.tokens import DEFAULT_MAX_HOURS

tokens = typer.Typer(
    no_args_is_help=True,
    help="Bearer tokens for the alliance's APIs: issue, revoke, and the issuer's signing keys.",
)
keys = typer.Typer(no_args_is_help=True, help="The issuer's signing keys: list, rotate, retire.")
tokens.add_typer(keys, name="keys")


class RoleName(StrEnum):
    operator = "operator"
    carrier = "carrier"
    lawyer = "lawyer"
    partner = "partner"


@tokens.command("issue")
def token_issue(
    role: Annotated[RoleName, typer.Option(help="The caller's role")],
    region: Annotated[str, typer.Option(help="Operators: the region they run")] = "",
    carrier: Annotated[
        str, typer.Option(help="Carriers: their resource name, regions/{r}/carriers/{id}")
    ] = "",
    lawyer: Annotated[
        str, typer.Option(help="Lawyers: their resource name, regions/{r}/lawyers/{id}")
    ] = "",
    subject: Annotated[str, typer.Option(help="Who the token is for")] = "cli-user",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
    show_id: Annotated[
        bool, typer.Option(help="Print the token's id (to revoke it) on stderr")
    ] = False,
    base_dir: BaseDir = DEFAULT_BASE,
) -> None:
    """Print a bearer token signed with the issuer's newest key ($ALLIANCE_ISSUER_DIR or the
    local federation's)."""
    if role is RoleName.operator and not region:
        raise fail("an operator token needs --region")
    if role is RoleName.carrier and not carrier:
        raise fail("a carrier token needs --carrier regions/{region}/carriers/{id}")
    if role is RoleName.lawyer and not lawyer:
        raise fail("a lawyer token needs --lawyer regions/{region}/lawyers/{id}")
    longest_s = DEFAULT_MAX_HOURS[Role(role.value)] * 3600
    if not 0 < ttl <= longest_s:
        raise fail(
            f"--ttl must be 1-{longest_s:.0f} s: the services refuse {role.value} tokens that "
            "live longer"
        )
    token = issuer(base_dir).sign(
        subject=subject,
        role=Role(role.value),
        region=region,
        carrier=carrier,
        lawyer=lawyer,
        ttl_s=ttl,
    )
    typer.echo(token)
    if show_id:
        jti = jwt.decode(token, options={"verify_signature": False})["jti"]
        typer.echo(f"token id: {jti}", err=True)


@tokens.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (its jti claim)")],
    reason: Annotated[str, typer.Option(help="Why, for the record")] = "",
    region: Annotated[str, typer.Option(help="The region whose operator revokes it")] = "",
    base_dir: BaseDir = DEFAULT_BASE,
) -> None:
    """Refuse a token from now on in every service of every region (the revocation travels as
    an event, so a region cut off refuses it once it is back)."""
    ops = operations(base_dir)
    endpoints = ops.endpoints(region, "membership")
    if not endpoints:
        raise fail(f"no membership service of region {region or 'any'} is running locally")
    endpoint = endpoints[0]
    with ops.stub(endpoint) as (stub, md):
        try:
            revoked = stub.RevokeToken(
                ops_pb.RevokeTokenRequest(
                    parent=f"regions/{endpoint.region}", token_id=token_id, reason=reason
                ),
                metadata=md,
                timeout=10,
            )
        except grpc.RpcError as error:
            raise fail(f"{error.code().name}: {error.details()}") from None  # type: ignore[attr-defined]
    console.print(f"revoked {revoked.token_id} (by {revoked.revoked_by})")


@keys.command("list")
def keys_list(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """The issuer's keys, oldest first; the newest signs, all of them verify."""
    found = issuer(base_dir)
    table = Table(title=f"signing keys ({found.jwks_path})")
    table.add_column("kid")
    table.add_column("signs")
    kids = found.kids()
    for kid in kids:
        table.add_row(kid, "yes" if kid == kids[-1] else "")
    console.print(table)


@keys.command("rotate")
def keys_rotate(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Add a new signing key: it signs from now on, and every key still verifies (the services
    reread the JWKS within a second). Retire the old key once its tokens have expired."""
    kid = issuer(base_dir).rotate()
    console.print(f"new signing key {kid}")


@keys.command("retire")
def keys_retire(
    kid: Annotated[str, typer.Argument(help="The key's id")], base_dir: BaseDir = DEFAULT_BASE
) -> None:
    """Remove a key: the tokens it signed are refused from then on."""
    try:
        issuer(base_dir).retire(kid)
    except (KeyError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"retired {kid}")
