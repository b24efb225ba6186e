"""Tokens only the issuer can sign: forged, confused, over-long and revoked tokens are refused,
and a key rotation works without restarting the services."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from alliance.operations.v1 import operations_pb2 as ops_pb
from alliance.operations.v1 import operations_pb2_grpc as ops_grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from yrd_alliance.deployment.issuer import Issuer
from yrd_alliance.kernel.auth import Principal, Role
from yrd_alliance.kernel.errors import Unauthenticated
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.kernel.tokens import (
    AUDIENCE,
    DEFAULT_MAX_HOURS,
    ISSUER,
    KeySet,
    SigningKey,
    TokenVerifier,
    issue_token,
)
from yrd_alliance.membership.app import DEFINITION

from tests.conftest import (
    Location,
    Membership,
    Tokens,
    auth,
    new_region,
    read_rows,
    sample_carrier,
    settings_for,
    tls_channel,
)
from tests.federation import Federation, held_by
from tests.helpers import eventually, expect_error, violated_fields

LIFETIMES = {role: hours * 3600 for role, hours in DEFAULT_MAX_HOURS.items()}


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer.load_or_create(tmp_path / "issuer")


def verifier(issuer: Issuer, revoked: set[str] | None = None) -> TokenVerifier:
    # recheck_s=0: every call looks at the JWKS file, as a service does once a second
    return TokenVerifier(
        KeySet(issuer.jwks_path, recheck_s=0),
        LIFETIMES,
        (set() if revoked is None else revoked).__contains__,
    )


def refused(check: TokenVerifier, token: str, why: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        check.verify(token)
    assert why in caught.value.message, caught.value.message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "role": "operator", "region": "sh"}
    return {**claims, "iat": now, "exp": now + 600, "jti": "j1", **extra}


def test_a_token_of_the_issuer_names_its_caller(issuer: Issuer) -> None:
    token = issuer.sign(subject="op", role=Role.OPERATOR, region="sh")
    assert verifier(issuer).verify(token) == Principal("op", Role.OPERATOR, region="sh")


def test_another_key_under_the_trusted_kid_is_refused(issuer: Issuer) -> None:
    forged = SigningKey(issuer.key().kid, Ed25519PrivateKey.generate())
    token = issue_token(forged, subject="op", role=Role.OPERATOR, region="sh")
    refused(verifier(issuer), token, "invalid")


def test_a_key_the_services_do_not_know_is_refused(issuer: Issuer) -> None:
    stranger = SigningKey("01STRANGER", Ed25519PrivateKey.generate())
    refused(verifier(issuer), issue_token(stranger, subject="op", role=Role.OPERATOR, region="sh"),
            "no trusted key")  # fmt: skip


def test_other_algorithms_are_refused_whatever_the_header_says(issuer: Issuer) -> None:
    check = verifier(issuer)
    kid = issuer.key().kid
    public = json.loads(issuer.jwks_path.read_text())["keys"][0]["x"].encode()
    # HS256 keyed with the public key, the classic algorithm confusion
    confused = jwt.encode(_claims(), public, algorithm="HS256", headers={"kid": kid})
    refused(check, confused, "must be signed with EdDSA")
    header = _b64(json.dumps({"alg": "none", "kid": kid, "typ": "JWT"}).encode())
    unsigned = f"{header}.{_b64(json.dumps(_claims()).encode())}."
    refused(check, unsigned, "must be signed with EdDSA")


def test_a_token_without_an_id_is_refused(issuer: Issuer) -> None:
    claims = _claims()
    del claims["jti"]
    key = issuer.key()
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    refused(verifier(issuer), token, "jti")


@pytest.mark.parametrize("role", list(Role))
def test_a_token_longer_lived_than_its_role_allows_is_refused(issuer: Issuer, role: Role) -> None:
    claims = {
        Role.OPERATOR: {"region": "sh"},
        Role.CARRIER: {"carrier": "regions/sh/carriers/x"},
        Role.LAWYER: {"lawyer": "regions/sh/lawyers/x"},
        Role.PARTNER: {},
    }[role]
    longest = LIFETIMES[role]
    check = verifier(issuer)
    assert check.verify(issuer.sign(subject="s", role=role, ttl_s=longest, **claims)).role is role
    refused(check, issuer.sign(subject="s", role=role, ttl_s=longest + 60, **claims), "at most")
    century = issuer.sign(subject="s", role=role, ttl_s=100 * 365 * 86400, **claims)
    refused(check, century, "at most")


def test_a_token_issued_in_the_future_is_refused(issuer: Issuer) -> None:
    key = issuer.key()
    later = issue_token(key, subject="s", role=Role.PARTNER, now=time.time() + 3600)
    refused(verifier(issuer), later, "not yet valid")


def test_a_revoked_token_is_refused_even_when_remembered(issuer: Issuer) -> None:
    revoked: set[str] = set()
    check = verifier(issuer, revoked)
    token = issuer.sign(subject="p", role=Role.PARTNER, jti="leaked-1")
    check.verify(token)  # now remembered
    revoked.add("leaked-1")
    refused(check, token, "revoked")


def test_rotation_keeps_both_keys_valid_then_retiring_refuses_the_old(issuer: Issuer) -> None:
    check = verifier(issuer)
    old_kid = issuer.key().kid
    old = issuer.sign(subject="p", role=Role.PARTNER)
    check.verify(old)
    new_kid = issuer.rotate()
    assert issuer.key().kid == new_kid != old_kid
    new = issuer.sign(subject="p", role=Role.PARTNER)
    assert jwt.get_unverified_header(new)["kid"] == new_kid
    check.verify(new)
    check.verify(old)
    issuer.retire(old_kid)
    refused(check, old, "no longer trusted")  # remembered, yet refused
    check.verify(new)
    with pytest.raises(ValueError):
        issuer.retire(new_kid)  # the only key left


async def test_a_running_service_follows_a_rotation_without_restart(
    nats_server: Any, tmp_path: Path, issuer: Issuer
) -> None:
    region = new_region()
    settings = settings_for(region, tmp_path / "m.db", nats_server.url).model_copy(
        update={"jwks_file": issuer.jwks_path}
    )
    host = ServiceHost(DEFINITION, settings)
    port = await host.start()
    try:
        async with tls_channel(f"127.0.0.1:{port}") as channel:
            from alliance.membership.v1 import membership_pb2_grpc as pb_grpc

            stub = pb_grpc.MembershipServiceStub(channel)
            listing = pb.ListCarriersRequest(parent=f"regions/{region}")
            old = auth(issuer.sign(subject="p", role=Role.PARTNER))
            await stub.ListCarriers(listing, metadata=old)
            old_kid = issuer.key().kid
            issuer.rotate()
            new = auth(issuer.sign(subject="p", role=Role.PARTNER))

            async def accepted(md: Any) -> bool:
                try:
                    await stub.ListCarriers(listing, metadata=md)
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
                    return False
                return True

            await eventually(lambda: accepted(new), bool, "the new key is trusted", within_s=5)
            assert await accepted(old)
            issuer.retire(old_kid)
            await eventually(lambda: accepted(old), lambda ok: not ok, "the old key is refused",
                             within_s=5)  # fmt: skip
            assert await accepted(new)
    finally:
        await host.stop()


async def unauthenticated(call: Callable[[], Awaitable[Any]]) -> bool:
    try:
        await call()
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error
        assert "revoked" in (error.details() or "")
        return True
    return False


def _revoked_rows(db: Location) -> list[str]:
    return [row[0] for row in read_rows(db, "SELECT token_id FROM revoked_tokens")]


async def test_only_an_operator_of_the_region_revokes_and_a_refusal_changes_nothing(
    membership: Membership,
) -> None:
    ops = ops_grpc.OperationsServiceStub(membership.channel)
    request = ops_pb.RevokeTokenRequest(
        parent=f"regions/{membership.region}", token_id="some-id", reason="test"
    )
    tokens = membership.tokens
    for caller in (
        tokens.partner(),
        tokens.carrier(f"regions/{membership.region}/carriers/x"),
        tokens.lawyer(),
        tokens.operator(region="zz"),
    ):
        await expect_error(
            ops.RevokeToken(request, metadata=auth(caller)), grpc.StatusCode.PERMISSION_DENIED
        )
    error = await expect_error(
        ops.RevokeToken(
            ops_pb.RevokeTokenRequest(parent="regions/zz", token_id=""), metadata=membership.op
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert violated_fields(error) == {"token_id", "parent"}
    assert _revoked_rows(membership.database) == []
    assert membership.row_counts()["outbox"] == 0


async def test_a_revocation_in_sh_is_refused_by_every_service_of_every_region(
    tmp_path: Path,
) -> None:
    federation = await Federation.start(["sh", "hz"], tmp_path)
    try:
        sharing_hz = await federation.start_sharing("hz")
        leaked = Tokens("hz").partner()
        jti = jwt.decode(leaked, options={"verify_signature": False})["jti"]
        leaked_operator = Tokens("hz").operator()  # a writer's token, leaked too
        operator_jti = jwt.decode(leaked_operator, options={"verify_signature": False})["jti"]
        others = Tokens("hz").partner()
        hz = federation.regions["hz"].stub
        listing = pb.ListCarriersRequest(parent="regions/-")
        await hz.ListCarriers(listing, metadata=auth(leaked))

        sh_channel = federation.regions["sh"].channel
        assert sh_channel is not None
        ops = ops_grpc.OperationsServiceStub(sh_channel)
        request = ops_pb.RevokeTokenRequest(parent="regions/sh", token_id=jti, reason="leaked")
        md = auth(Tokens("sh").operator())
        first = await ops.RevokeToken(request, metadata=md)
        again = await ops.RevokeToken(request, metadata=md)
        assert first == again and first.revoked_by == "sh/op"
        await ops.RevokeToken(
            ops_pb.RevokeTokenRequest(parent="regions/sh", token_id=operator_jti), metadata=md
        )

        from alliance.sharing.v1 import sharing_pb2

        search = sharing_pb2.SearchResourcesRequest(query="lab")
        calls = {
            "hz's membership": lambda: hz.ListCarriers(listing, metadata=auth(leaked)),
            "hz's sharing": lambda: sharing_hz.SearchResources(search, metadata=auth(leaked)),
        }
        for what, call in calls.items():
            await eventually(lambda c=call: unauthenticated(c), bool, f"{what} refuses the token")
        await sharing_hz.SearchResources(search, metadata=auth(others))  # others unaffected
        await hz.ListCarriers(listing, metadata=auth(others))
        create = pb.CreateCarrierRequest(parent="regions/hz", carrier=sample_carrier())
        await eventually(
            lambda: unauthenticated(
                lambda: hz.CreateCarrier(create, metadata=auth(leaked_operator))
            ),
            bool,
            "hz refuses the revoked operator's write",
        )
        with sqlite3.connect(tmp_path / "hz-membership.db") as conn:
            written = conn.execute("SELECT count(*) FROM carriers").fetchone()[0]
            unsent = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        assert (written, unsent) == (0, 0), "a refused write stored or published something"
        for db in ("hz-membership", "hz-sharing", "sh-membership"):
            assert sorted(_revoked_rows(tmp_path / f"{db}.db")) == sorted([jti, operator_jti]), db

        # A restart forgets nothing: the id comes back from the database.
        await federation.regions["hz"].host.stop()  # type: ignore[union-attr]
        await federation.start_service("hz")
        hz = federation.regions["hz"].stub
        await expect_error(
            hz.ListCarriers(listing, metadata=auth(leaked)), grpc.StatusCode.UNAUTHENTICATED
        )
        revocations = [n for n in await held_by(federation, "hz") if "/revokedTokens/" in n]
        assert sorted(revocations) == sorted(
            f"regions/sh/revokedTokens/{i}" for i in (jti, operator_jti)
        ), "one event per token, however often asked"
    finally:
        await federation.stop()
