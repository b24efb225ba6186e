"""The gRPC face of sharing: routes each RPC to its use case.

List and search methods return their response already serialized (kernel.paging.page_of).
"""

from __future__ import annotations

import grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc

from sharing.service import Sharing


class SharingServicer(pb_grpc.SharingServiceServicer):
    def __init__(self, sharing: Sharing) -> None:
        self._s = sharing

    async def CreateResource(
        self, request: pb.CreateResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.Resource:
        return await self._s.create_resource(request)

    async def GetResource(
        self, request: pb.GetResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.Resource:
        return self._s.get_resource(request)

    async def ListResources(
        self, request: pb.ListResourcesRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._s.list_resources(request)

    async def UpdateResource(
        self, request: pb.UpdateResourceRequest, context: grpc.aio.ServicerContext
    ) -> pb.Resource:
        return await self._s.update_resource(request)

    async def SearchResources(
        self, request: pb.SearchResourcesRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._s.search_resources(request)

    async def CreateRequest(
        self, request: pb.CreateRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Request:
        return await self._s.create_request(request)

    async def GetRequest(
        self, request: pb.GetRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Request:
        return self._s.get_request(request)

    async def ListRequests(
        self, request: pb.ListRequestsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._s.list_requests(request)

    async def CancelRequest(
        self, request: pb.CancelRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Request:
        return await self._s.cancel_request(request)

    async def ListIncomingRequests(
        self, request: pb.ListIncomingRequestsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._s.list_incoming(request)

    async def ApproveRequest(
        self, request: pb.ApproveRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Booking:
        return await self._s.approve(request)

    async def DeclineRequest(
        self, request: pb.DeclineRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Booking:
        return await self._s.decline(request)

    async def FulfillRequest(
        self, request: pb.FulfillRequestRequest, context: grpc.aio.ServicerContext
    ) -> pb.Booking:
        return await self._s.fulfil(request)

    async def GetSharingStats(
        self, request: pb.GetSharingStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SharingStats:
        return self._s.stats(request)
