"""The region's services as the portal calls them: one TLS channel to each, every call made
with the bearer token of whoever the page is for, and gRPC errors turned into what a page can
show (a message, and the fields a form got wrong)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
from alliance.membership.v1 import membership_pb2_grpc
from alliance.pairing.v1 import pairing_pb2_grpc
from alliance.sharing.v1 import sharing_pb2_grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

CALL_TIMEOUT_S = 5.0
T = TypeVar("T")


@dataclass
class Problem(Exception):
    """A call the services refused, as a page shows it."""

    code: grpc.StatusCode
    message: str
    fields: dict[str, str] = field(default_factory=dict)  # field → what is wrong with it

    def __str__(self) -> str:
        return self.message

    @property
    def http_status(self) -> int:
        return {
            grpc.StatusCode.INVALID_ARGUMENT: 400,
            grpc.StatusCode.FAILED_PRECONDITION: 409,
            grpc.StatusCode.ABORTED: 409,
            grpc.StatusCode.ALREADY_EXISTS: 409,
            grpc.StatusCode.UNAUTHENTICATED: 401,
            grpc.StatusCode.PERMISSION_DENIED: 403,
            grpc.StatusCode.NOT_FOUND: 404,
            grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
        }.get(self.code, 503)

    @classmethod
    def invalid(cls, message: str) -> Problem:
        return cls(grpc.StatusCode.INVALID_ARGUMENT, message)

    @classmethod
    def of(cls, error: grpc.aio.AioRpcError) -> Problem:
        fields: dict[str, str] = {}
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        for detail in status.details if status else []:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                fields.update({v.field: v.description for v in bad.field_violations})
        return cls(error.code(), error.details() or error.code().name, fields)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class Services:
    """Stubs of the region's three services over channels opened once."""

    def __init__(self, membership: str, sharing: str, pairing: str, ca_file: Path | None) -> None:
        credentials = (
            grpc.ssl_channel_credentials(root_certificates=ca_file.read_bytes())
            if ca_file
            else None
        )

        def channel(target: str) -> grpc.aio.Channel:
            if credentials is None:
                return grpc.aio.insecure_channel(target)
            return grpc.aio.secure_channel(target, credentials)

        self._channels = [channel(t) for t in (membership, sharing, pairing)]
        self.membership = membership_pb2_grpc.MembershipServiceStub(self._channels[0])
        self.sharing = sharing_pb2_grpc.SharingServiceStub(self._channels[1])
        self.pairing = pairing_pb2_grpc.PairingServiceStub(self._channels[2])

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()


async def ask(call: Awaitable[T]) -> T:
    """The call's reply, or the Problem the services answered with."""
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        raise Problem.of(error) from None
