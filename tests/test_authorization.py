"""The authorisation matrix: every method × every kind of caller → the expected status code."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.tokens import SigningKey, issue_token

from tests.conftest import SIGNING_KEY, Membership, auth, sample_carrier

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTH = grpc.StatusCode.UNAUTHENTICATED

CALLERS = [
    "none",
    "bad_signature",
    "expired",
    "operator",
    "operator_other_region",
    "carrier_self",
    "carrier_other",
    "partner",
    "lawyer",
]

# method → expected code per caller, in CALLERS order (the three token failures are always UNAUTH)
MATRIX: dict[str, tuple[grpc.StatusCode, ...]] = {
    #                  operator  op-other  self     other    partner  lawyer
    "CreateCarrier": (OK, DENIED, DENIED, DENIED, DENIED, DENIED),
    "GetCarrier": (OK, OK, OK, OK, OK, OK),
    "ListCarriers": (OK, OK, OK, OK, OK, OK),
    "UpdateCarrier": (OK, DENIED, OK, DENIED, DENIED, DENIED),
    "SuspendCarrier": (OK, DENIED, DENIED, DENIED, DENIED, DENIED),
    "LeaveAlliance": (OK, DENIED, OK, DENIED, DENIED, DENIED),
    "CreateStartup": (OK, DENIED, OK, DENIED, DENIED, DENIED),
    "GetStartup": (OK, OK, OK, OK, OK, OK),
    "ListStartups": (OK, OK, OK, OK, OK, OK),
    "UpdateStartup": (OK, DENIED, OK, DENIED, DENIED, DENIED),
}


def _metadata(caller: str, region: str, carrier: str) -> tuple[tuple[str, str], ...]:
    if caller == "none":
        return ()
    tokens = {
        "bad_signature": lambda: issue_token(
            SigningKey(SIGNING_KEY.kid, Ed25519PrivateKey.generate()),
            subject="op",
            role=Role.OPERATOR,
            region=region,
        ),
        "expired": lambda: issue_token(
            SIGNING_KEY,
            subject="op",
            role=Role.OPERATOR,
            region=region,
            ttl_s=60,
            now=time.time() - 3600,
        ),
        "operator": lambda: issue_token(
            SIGNING_KEY, subject="op", role=Role.OPERATOR, region=region
        ),
        "operator_other_region": lambda: issue_token(
            SIGNING_KEY, subject="op2", role=Role.OPERATOR, region="zz"
        ),
        "carrier_self": lambda: issue_token(
            SIGNING_KEY, subject="c", role=Role.CARRIER, carrier=carrier
        ),
        "carrier_other": lambda: issue_token(
            SIGNING_KEY,
            subject="c2",
            role=Role.CARRIER,
            carrier=f"regions/{region}/carriers/01J0000000000000000000000Z",
        ),
        "partner": lambda: issue_token(SIGNING_KEY, subject="p", role=Role.PARTNER),
        "lawyer": lambda: issue_token(
            SIGNING_KEY, subject="l", role=Role.LAWYER, lawyer="regions/sh/lawyers/x"
        ),
    }
    return auth(tokens[caller]())


def _requests(
    m: Membership, carrier: pb.Carrier, startup: pb.Startup
) -> dict[str, Callable[..., Any]]:
    s = m.stub
    mask = FieldMask(paths=["address"])
    return {
        "CreateCarrier": lambda md: s.CreateCarrier(
            pb.CreateCarrierRequest(parent=f"regions/{m.region}", carrier=sample_carrier()),
            metadata=md,
        ),
        "GetCarrier": lambda md: s.GetCarrier(pb.GetCarrierRequest(name=carrier.name), metadata=md),
        "ListCarriers": lambda md: s.ListCarriers(
            pb.ListCarriersRequest(parent=f"regions/{m.region}"), metadata=md
        ),
        "UpdateCarrier": lambda md: s.UpdateCarrier(
            pb.UpdateCarrierRequest(
                carrier=pb.Carrier(name=carrier.name, address="新地址"), update_mask=mask
            ),
            metadata=md,
        ),
        "SuspendCarrier": lambda md: s.SuspendCarrier(
            pb.SuspendCarrierRequest(name=carrier.name, reason="r"), metadata=md
        ),
        "LeaveAlliance": lambda md: s.LeaveAlliance(
            pb.LeaveAllianceRequest(name=carrier.name, reason="r"), metadata=md
        ),
        "CreateStartup": lambda md: s.CreateStartup(
            pb.CreateStartupRequest(parent=carrier.name, startup=pb.Startup(display_name="新企业")),
            metadata=md,
        ),
        "GetStartup": lambda md: s.GetStartup(pb.GetStartupRequest(name=startup.name), metadata=md),
        "ListStartups": lambda md: s.ListStartups(
            pb.ListStartupsRequest(parent=carrier.name), metadata=md
        ),
        "UpdateStartup": lambda md: s.UpdateStartup(
            pb.UpdateStartupRequest(
                startup=pb.Startup(name=startup.name, headcount=7),
                update_mask=FieldMask(paths=["headcount"]),
            ),
            metadata=md,
        ),
    }


async def _code(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return OK


@pytest.mark.parametrize("method", sorted(MATRIX))
async def test_authorisation_matrix(membership: Membership, method: str) -> None:
    expected = dict(zip(CALLERS, (UNAUTH, UNAUTH, UNAUTH, *MATRIX[method]), strict=True))
    observed = {}
    for caller in CALLERS:  # a fresh carrier per caller: a successful Leave must not hide the next
        carrier = await membership.create_carrier()
        startup = await membership.create_startup(carrier.name)
        call = _requests(membership, carrier, startup)[method]
        before = membership.row_counts()
        observed[caller] = await _code(call(_metadata(caller, membership.region, carrier.name)))
        if observed[caller] is not OK:
            assert membership.row_counts() == before, f"{method} by {caller} was refused but wrote"
    assert observed == expected


async def test_carrier_may_not_change_its_own_level_or_lead_role(membership: Membership) -> None:
    carrier = await membership.create_carrier(lead_member=False, level=pb.CARRIER_LEVEL_MUNICIPAL)
    md = auth(membership.tokens.carrier(carrier.name))
    for path, change in (
        ("level", {"level": pb.CARRIER_LEVEL_NATIONAL}),
        ("lead_member", {"lead_member": True}),
    ):
        request = pb.UpdateCarrierRequest(
            carrier=pb.Carrier(name=carrier.name, **change), update_mask=FieldMask(paths=[path])
        )
        assert await _code(membership.stub.UpdateCarrier(request, metadata=md)) == DENIED


async def test_malformed_authorization_metadata_is_unauthenticated(membership: Membership) -> None:
    request = pb.ListCarriersRequest(parent=f"regions/{membership.region}")
    for value in ("Basic abc", "Bearer", "Bearer not.a.jwt", "token"):
        code = await _code(
            membership.stub.ListCarriers(request, metadata=(("authorization", value),))
        )
        assert code == UNAUTH, value


async def test_health_and_reflection_need_no_token(membership: Membership) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    health = health_pb2_grpc.HealthStub(membership.channel)
    reply = await health.Check(
        health_pb2.HealthCheckRequest(service="alliance.membership.v1.MembershipService")
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(membership.channel)
    responses = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    async for response in responses:
        names = {s.name for s in response.list_services_response.service}
        assert "alliance.membership.v1.MembershipService" in names
        break
