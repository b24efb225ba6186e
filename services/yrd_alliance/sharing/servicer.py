"""The gRPC face of sharing: routes each RPC to its use case, with the caller the guard
authenticated.

List and search methods return their response already serialized (kernel.paging.page_of).
"""

from __future__ import annotations

import grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc

from yrd_alliance.kernel.auth import caller
from yrd_alliance.sharing.decisions import Decisions
from yrd_alliance.sharing.requests import Requests
from yrd_alliance.sharing.resources import Resources


class SharingServicer(pb_grpc.SharingServiceServicer):
    def __init__(self, resources: Resources, requests: Requests, decisions: Decisions) -> None:
        self._r = resources
        self._q = requests
        self._d = decisions

    async def CreateResource(
        self, request: pb.CreateResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.Resource:
        return await self._r.create_resource(request, caller())

    async def GetResource(
        self, request: pb.GetResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.Resource:
        return self._r.get_resource(request, caller())

    async def ListResources(
        self, request: pb.ListResourcesRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._r.list_resources(request, caller())

    async def UpdateResource(
        self, request: pb.UpdateResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.Resource:
        return await self._r.update_resource(request, caller())

    async def SearchResources(
        self, request: pb.SearchResourcesRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return await self._r.search_resources(request, caller())

    async def CreateRequest(
        self, request: pb.CreateRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Request:
        return await self._q.create_request(request, caller())

    async def GetRequest(
        self, request: pb.GetRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Request:
        return self._q.get_request(request, caller())

    async def ListRequests(
        self, request: pb.ListRequestsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._q.list_requests(request, caller())

    async def CancelRequest(
        self, request: pb.CancelRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Request:
        return await self._q.cancel_request(request, caller())

    async def ListIncomingRequests(
        self, request: pb.ListIncomingRequestsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._d.list_incoming(request, caller())

    async def ApproveRequest(
        self, request: pb.ApproveRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Booking:
        return await self._d.approve(request, caller())

    async def DeclineRequest(
        self, request: pb.DeclineRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Booking:
        return await self._d.decline(request, caller())

    async def FulfillRequest(
        self, request: pb.FulfillRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Booking:
        return await self._d.fulfil(request, caller())

    async def GetSharingStats(
        self, request: pb.GetSharingStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SharingStats:
        return self._r.stats(request, caller())
