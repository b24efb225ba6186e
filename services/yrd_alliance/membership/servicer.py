"""The gRPC face of membership: routes each RPC to its use case, with the caller the guard
authenticated.

List methods return their response already serialized (kernel.paging.page_of).
"""

from __future__ import annotations

import grpc
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc

from yrd_alliance.kernel.auth import caller
from yrd_alliance.membership.service import Membership


class MembershipServicer(pb_grpc.MembershipServiceServicer):
    def __init__(self, membership: Membership) -> None:
        self._m = membership

    async def CreateCarrier(
        self, request: pb.CreateCarrierRequest, context: grpc.aio.ServicerContext
    ) -> pb.Carrier:
        return await self._m.create_carrier(request, caller())

    async def GetCarrier(
        self, request: pb.GetCarrierRequest, context: grpc.aio.ServicerContext
    ) -> pb.Carrier:
        return self._m.get_carrier(request, caller())

    async def ListCarriers(
        self, request: pb.ListCarriersRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._m.list_carriers(request, caller())

    async def UpdateCarrier(
        self, request: pb.UpdateCarrierRequest, context: grpc.aio.ServicerContext
    ) -> pb.Carrier:
        return await self._m.update_carrier(request, caller())

    async def SuspendCarrier(
        self, request: pb.SuspendCarrierRequest, context: grpc.aio.ServicerContext
    ) -> pb.Carrier:
        return await self._m.suspend_carrier(request, caller())

    async def LeaveAlliance(
        self, request: pb.LeaveAllianceRequest, context: grpc.aio.ServicerContext
    ) -> pb.Carrier:
        return await self._m.leave_alliance(request, caller())

    async def CreateStartup(
        self, request: pb.CreateStartupRequest, context: grpc.aio.ServicerContext
    ) -> pb.Startup:
        return await self._m.create_startup(request, caller())

    async def GetStartup(
        self, request: pb.GetStartupRequest, context: grpc.aio.ServicerContext
    ) -> pb.Startup:
        return self._m.get_startup(request, caller())

    async def ListStartups(
        self, request: pb.ListStartupsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._m.list_startups(request, caller())

    async def UpdateStartup(
        self, request: pb.UpdateStartupRequest, context: grpc.aio.ServicerContext
    ) -> pb.Startup:
        return await self._m.update_startup(request, caller())
