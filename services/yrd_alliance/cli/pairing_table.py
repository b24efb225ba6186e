"""`alliance pair`: a round's plan as a table a reviewer can read at a glance."""

from __future__ import annotations

import grpc
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.membership.v1 import membership_pb2_grpc as mpb_grpc
from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.pairing.v1 import pairing_pb2_grpc as pb_grpc
from rich.console import Console
from rich.table import Table

from yrd_alliance.cli.local import LocalState


def print_round(console: Console, state: LocalState, region: str, name: str, token: str) -> None:
    md = (("authorization", f"Bearer {token}"),)
    with state.targets("pairing")[region].channel() as channel:
        stub = pb_grpc.PairingServiceStub(channel)
        round_ = _round(stub, md, region, name)
        lawyers = {
            p.lawyer: stub.GetLawyer(pb.GetLawyerRequest(name=p.lawyer), metadata=md, timeout=10)
            for p in round_.plan.pairs
        }
    carriers = _carrier_names(state, region, {p.carrier for p in round_.plan.pairs}, md)
    mode = pb.PairingMode.Name(round_.mode).removeprefix("PAIRING_MODE_")
    status = pb.RoundState.Name(round_.state).removeprefix("ROUND_STATE_")
    table = Table(title=f"{round_.display_name} — {mode}, {status}", show_lines=False)
    for column in (
        "carrier",
        "slot",
        "lawyer",
        "firm",
        "score",
        "focus+breadth+region+lang",
        "why",
    ):
        table.add_column(column, overflow="fold")
    previous = ""
    for pair in round_.plan.pairs:
        lawyer = lawyers[pair.lawyer]
        b = pair.breakdown
        table.add_row(
            carriers.get(pair.carrier, pair.carrier) if pair.carrier != previous else "",
            str(pair.slot),
            lawyer.display_name,
            lawyer.firm,
            str(pair.score),
            f"{b.focus}+{b.breadth}+{b.region}+{b.language}",
            pair.explanation,
        )
        previous = pair.carrier
    console.print(table)
    plan = round_.plan
    console.print(
        f"{len(plan.pairs)} pairs, total score {plan.total_score}, "
        f"solved in {plan.solve_ms:.1f} ms; blocking pairs {plan.fairness.blocking_pair_count}; "
        f"mean rank lawyers {plan.fairness.lawyer_mean_rank:.2f}, "
        f"carriers {plan.fairness.carrier_mean_rank:.2f}"
    )
    for open_place in (*plan.unfilled_carriers, *plan.unmatched_lawyers):
        console.print(f"  open: {open_place.name} ×{open_place.count}: {open_place.reason}")
    console.print(f"round: {round_.name}")


def _round(
    stub: pb_grpc.PairingServiceStub, md: tuple[tuple[str, str], ...], region: str, name: str
) -> pb.Round:
    if name:
        return stub.GetRound(pb.GetRoundRequest(name=name), metadata=md, timeout=10)
    rounds, token = [], ""
    while True:
        page = stub.ListRounds(
            pb.ListRoundsRequest(parent=f"regions/{region}", page_size=100, page_token=token),
            metadata=md,
            timeout=10,
        )
        rounds += page.rounds
        token = page.next_page_token
        if not token:
            break
    if not rounds:
        raise LookupError(f"region {region} has no pairing round yet; `alliance seed` opens one")
    return rounds[-1]


def _carrier_names(
    state: LocalState, region: str, names: set[str], md: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    """Display names from that region's membership, which holds every region's carriers."""
    found = {}
    with state.targets("membership")[region].channel() as channel:
        stub = mpb_grpc.MembershipServiceStub(channel)
        for name in sorted(names):
            try:
                carrier = stub.GetCarrier(mpb.GetCarrierRequest(name=name), metadata=md, timeout=10)
            except grpc.RpcError:
                continue
            found[name] = carrier.display_name
    return found
