"""The gRPC face of pairing: routes each RPC to its use case, with the caller the guard
authenticated.

List methods return their response already serialized (kernel.paging.page_of).
"""

from __future__ import annotations

import grpc
from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.pairing.v1 import pairing_pb2_grpc as pb_grpc

from yrd_alliance.kernel.auth import caller
from yrd_alliance.pairing.checkups import Checkups
from yrd_alliance.pairing.lawyers import Lawyers
from yrd_alliance.pairing.rounds import Rounds


class PairingServicer(pb_grpc.PairingServiceServicer):
    def __init__(self, lawyers: Lawyers, rounds: Rounds, checkups: Checkups) -> None:
        self._l = lawyers
        self._r = rounds
        self._c = checkups

    async def CreateLawyer(
        self, request: pb.CreateLawyerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Lawyer:
        return await self._l.create_lawyer(request, caller())

    async def GetLawyer(
        self, request: pb.GetLawyerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Lawyer:
        return self._l.get_lawyer(request, caller())

    async def ListLawyers(
        self, request: pb.ListLawyersRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._l.list_lawyers(request, caller())

    async def UpdateLawyer(
        self, request: pb.UpdateLawyerRequest, context: grpc.aio.ServicerContext
    ) -> pb.Lawyer:
        return await self._l.update_lawyer(request, caller())

    async def CreateRound(
        self, request: pb.CreateRoundRequest, context: grpc.aio.ServicerContext
    ) -> pb.Round:
        return await self._r.create_round(request, caller())

    async def GetRound(
        self, request: pb.GetRoundRequest, context: grpc.aio.ServicerContext
    ) -> pb.Round:
        return self._r.get_round(request, caller())

    async def ListRounds(
        self, request: pb.ListRoundsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._r.list_rounds(request, caller())

    async def PublishRound(
        self, request: pb.PublishRoundRequest, context: grpc.aio.ServicerContext
    ) -> pb.Round:
        return await self._r.publish_round(request, caller())

    async def ReplanRound(
        self, request: pb.ReplanRoundRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReplanRoundResponse:
        return await self._r.replan_round(request, caller())

    async def ListAssignments(
        self, request: pb.ListAssignmentsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._r.list_assignments(request, caller())

    async def BookCheckup(
        self, request: pb.BookCheckupRequest, context: grpc.aio.ServicerContext
    ) -> pb.Checkup:
        return await self._c.book_checkup(request, caller())

    async def RecordCheckupOutcome(
        self, request: pb.RecordCheckupOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> pb.Checkup:
        return await self._c.record_outcome(request, caller())

    async def GetCheckup(
        self, request: pb.GetCheckupRequest, context: grpc.aio.ServicerContext
    ) -> pb.Checkup:
        return self._c.get_checkup(request, caller())

    async def ListCheckups(
        self, request: pb.ListCheckupsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return self._c.list_checkups(request, caller())

    async def GetPairingStats(
        self, request: pb.GetPairingStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.PairingStats:
        return self._c.stats(request, caller())
