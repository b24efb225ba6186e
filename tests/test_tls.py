"""gRPC over TLS on every port: a plaintext client or one that trusts another CA gets nowhere
(and changes nothing), health and reflection answer over TLS, and plaintext is only ever the
explicit development flag."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from yrd_alliance.cli.certs import LOCAL_HOSTS, server_certificate
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.kernel.settings import ConfigError, load_settings
from yrd_alliance.membership.app import DEFINITION, MembershipSettings

from tests.conftest import Membership, new_region, sample_carrier, settings_for
from tests.helpers import expect_error


async def test_a_plaintext_client_is_refused_and_writes_nothing(membership: Membership) -> None:
    address = f"127.0.0.1:{membership.host.port}"
    async with grpc.aio.insecure_channel(address) as plain:
        stub = pb_grpc.MembershipServiceStub(plain)
        request = pb.CreateCarrierRequest(
            parent=f"regions/{membership.region}", carrier=sample_carrier()
        )
        await expect_error(
            stub.CreateCarrier(request, metadata=membership.op, timeout=3),
            grpc.StatusCode.UNAVAILABLE,
        )
        health = health_pb2_grpc.HealthStub(plain)
        await expect_error(
            health.Check(health_pb2.HealthCheckRequest(), timeout=3), grpc.StatusCode.UNAVAILABLE
        )
    assert membership.row_counts() == {
        "carriers": 0,
        "startups": 0,
        "outbox": 0,
        "idempotency_keys": 0,
    }


async def test_a_client_trusting_another_ca_does_not_connect(
    membership: Membership, tmp_path: Path
) -> None:
    stranger = server_certificate(tmp_path / "other-ca", "elsewhere", LOCAL_HOSTS)
    target = GrpcTarget(f"127.0.0.1:{membership.host.port}", stranger.ca)
    async with target.aio_channel() as channel:
        await expect_error(
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3),
            grpc.StatusCode.UNAVAILABLE,
        )


async def test_health_and_reflection_answer_over_tls(membership: Membership) -> None:
    health = health_pb2_grpc.HealthStub(membership.channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=""))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(membership.channel)
    listed: set[str] = set()
    async for answer in reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    ):
        listed |= {s.name for s in answer.list_services_response.service}
    assert "alliance.membership.v1.MembershipService" in listed
    assert "grpc.health.v1.Health" in listed


def test_without_a_certificate_the_service_does_not_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MEMBERSHIP_REGION", "sh")
    monkeypatch.setenv("MEMBERSHIP_DB_PATH", str(tmp_path / "m.db"))
    monkeypatch.setenv("MEMBERSHIP_JWKS_FILE", str(tmp_path / "jwks.json"))
    with pytest.raises(ConfigError) as caught:
        load_settings(MembershipSettings)
    assert "TLS_CERT_FILE" in str(caught.value.code) and "PLAINTEXT" in str(caught.value.code)
    monkeypatch.setenv("MEMBERSHIP_PLAINTEXT", "true")
    assert load_settings(MembershipSettings).plaintext is True


async def test_plaintext_only_behind_the_development_flag(
    nats_server: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(new_region(), tmp_path / "m.db", nats_server.url)  # type: ignore[attr-defined]
    development = settings.model_copy(
        update={"plaintext": True, "tls_cert_file": None, "tls_key_file": None}
    )
    host = ServiceHost(DEFINITION, development)
    port = await host.start()
    try:
        assert "WITHOUT TLS" in caplog.text
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as plain:
            reply = await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest())
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await host.stop()
