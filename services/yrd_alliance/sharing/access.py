"""Who may act for a carrier in sharing, and whether the carrier may act at all."""

from __future__ import annotations

from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import FailedPrecondition, PermissionDenied
from yrd_alliance.kernel.members import ensure_may_act
from yrd_alliance.kernel.ports import Reader
from yrd_alliance.sharing.store import CARRIERS


def authorize_for(who: Principal, region: str, carrier: str) -> None:
    """The carrier itself or an operator of this region."""
    if not (who.is_operator_of(region) or who.acts_for(carrier)):
        raise PermissionDenied(f"only {carrier} itself or an operator of {region} may do this")


def authorize_write(who: Principal, region: str, carrier: str, reader: Reader) -> None:
    """The carrier itself, while it is an active member here, or an operator of this region."""
    authorize_for(who, region, carrier)
    known = reader.rows(CARRIERS).columns(CARRIERS.where(name=carrier))
    ensure_may_act(who, carrier, bool(known[0]["active"]) if known else None)


def authorize_home_carrier(
    who: Principal, region: str, carrier: str, instead: str, reader: Reader
) -> None:
    """authorize_write for a carrier of this region; for one of another region, `instead` says
    where to go."""
    if carrier.split("/")[1] != region:
        raise FailedPrecondition(f"{carrier} belongs to another region; {instead}")
    authorize_write(who, region, carrier, reader)


def ensure_active_carrier(reader: Reader, carrier: str) -> None:
    known = reader.rows(CARRIERS).columns(CARRIERS.where(name=carrier))
    if not known:
        raise FailedPrecondition(
            f"{carrier} is not in this region's carrier directory yet; register it with "
            "membership and retry once its event has arrived"
        )
    if not known[0]["active"]:
        raise FailedPrecondition(f"{carrier} is not an active member")


def listing_filters(who: Principal, region: str, owner: str, state: int) -> tuple[int, int]:
    """The (state, visibility) filters a listing of the region's resources gets for this
    caller: the owner's own and the region's operators see every state; carriers of the
    region, the published ones; anyone else, those published to the whole alliance."""
    if who.is_operator_of(region) or (owner and who.acts_for(owner)):
        return state, 0
    if state and state != pb.RESOURCE_STATE_PUBLISHED:
        raise PermissionDenied(
            f"only a resource's owner and {region}'s operators see unpublished resources"
        )
    visibility = 0 if who.is_member_of(region) else pb.VISIBILITY_ALLIANCE
    return pb.RESOURCE_STATE_PUBLISHED, visibility
