"""Sharing rules, free of I/O: what a valid resource, request and search are."""

from __future__ import annotations

from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.type.v1 import types_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Audience, Principal
from yrd_alliance.kernel.errors import Violations
from yrd_alliance.kernel.members import CARRIER
from yrd_alliance.kernel.names import NamePattern

SERVICE = "sharing"  # the event source and subject segment

RESOURCE = NamePattern("regions/{region}/resources/{resource}")
REQUEST = NamePattern("regions/{region}/requests/{request}")

CHAIN = types_pb2.IndustrialChain.DESCRIPTOR
RESOURCE_UPDATABLE = (
    "category",
    "title",
    "description",
    "industrial_chains",
    "capacity",
    "availability",
    "visibility",
    "terms",
    "state",
)
MAX_CAPACITY = 100_000
MAX_UNITS = 100_000
MAX_WINDOW_S = 366 * 24 * 3600
MAX_AVAILABILITY = 50
MAX_SEARCH_PAGE = 100
DEFAULT_SEARCH_PAGE = 20


def seconds(ts: Timestamp) -> int:
    return int(ts.seconds)


def check_window(v: Violations, field: str, window: pb.TimeWindow, *, required: bool) -> None:
    if not window.HasField("start_time") and not window.HasField("end_time"):
        if required:
            v.add(field, "is required: give start_time and end_time")
        return
    start, end = seconds(window.start_time), seconds(window.end_time)
    if not window.HasField("start_time") or not window.HasField("end_time"):
        v.add(field, "needs both start_time and end_time")
    elif end <= start:
        v.add(f"{field}.end_time", "must be after start_time")
    elif end - start > MAX_WINDOW_S:
        v.add(field, "must be at most a year long")


def check_resource(v: Violations, resource: pb.Resource, prefix: str = "resource") -> None:
    CARRIER.parse(v, f"{prefix}.owner", resource.owner)
    check.enum(v, f"{prefix}.category", resource.category, pb.Category.DESCRIPTOR, required=True)
    check.text(v, f"{prefix}.title", resource.title, required=True)
    check.text(v, f"{prefix}.description", resource.description, max_len=4000)
    check.enum_list(
        v, f"{prefix}.industrial_chains", resource.industrial_chains, CHAIN, max_items=8
    )
    if not 0 <= resource.capacity <= MAX_CAPACITY:
        v.add(f"{prefix}.capacity", f"must be between 0 (unlimited) and {MAX_CAPACITY}")
    if len(resource.availability) > MAX_AVAILABILITY:
        v.add(f"{prefix}.availability", f"must list at most {MAX_AVAILABILITY} windows")
    for i, window in enumerate(resource.availability):
        check_window(v, f"{prefix}.availability[{i}]", window, required=True)
    check.enum(
        v, f"{prefix}.visibility", resource.visibility, pb.Visibility.DESCRIPTOR, required=True
    )
    if resource.terms.price_fen < 0:
        v.add(f"{prefix}.terms.price_fen", "must not be negative")
    if resource.terms.free and resource.terms.price_fen:
        v.add(f"{prefix}.terms.price_fen", "must be 0 when the terms are free")
    check.text(v, f"{prefix}.terms.note", resource.terms.note, max_len=500)
    check.enum(v, f"{prefix}.state", resource.state, pb.ResourceState.DESCRIPTOR, required=True)


def check_request(v: Violations, request: pb.Request, prefix: str = "request") -> None:
    RESOURCE.parse(v, f"{prefix}.resource", request.resource)
    CARRIER.parse(v, f"{prefix}.requester", request.requester)
    if not 1 <= request.units <= MAX_UNITS:
        v.add(f"{prefix}.units", f"must be between 1 and {MAX_UNITS}")
    check_window(v, f"{prefix}.window", request.window, required=True)
    check.text(v, f"{prefix}.purpose", request.purpose, required=True, max_len=1000)


def within_availability(resource: pb.Resource, start: int, end: int) -> bool:
    if not resource.availability:
        return True
    return any(
        seconds(w.start_time) <= start and end <= seconds(w.end_time) for w in resource.availability
    )


def is_public(resource: pb.Resource) -> bool:
    """Published to the whole alliance: every caller reads it, every event carries it."""
    return (
        resource.state == pb.RESOURCE_STATE_PUBLISHED
        and resource.visibility == pb.VISIBILITY_ALLIANCE
    )


def resource_readers(resource: pb.Resource) -> Audience:
    """Who reads a resource that is not public: its owner and the operators of its region; a
    published REGION-only one, also every carrier of that region."""
    return Audience(
        regions=frozenset({resource.name.split("/")[1]}),
        carriers=frozenset({resource.owner}),
        region_members=resource.state == pb.RESOURCE_STATE_PUBLISHED,
    )


def may_read_resource(resource: pb.Resource, who: Principal) -> bool:
    return is_public(resource) or resource_readers(resource).admits(who)


def resource_in_events(resource: pb.Resource) -> pb.Resource:
    """The resource as its events carry it (every region and every partner reads them): whole
    when public; otherwise only its name, owner, state, visibility and times, so other regions
    learn that it is not (or no longer) on offer, and nothing else."""
    if is_public(resource):
        return resource
    return pb.Resource(
        name=resource.name,
        owner=resource.owner,
        state=resource.state,
        visibility=resource.visibility,
        create_time=resource.create_time,
        update_time=resource.update_time,
        etag=resource.etag,
    )


def request_readers(request: pb.Request, owner: str) -> Audience:
    """Who reads a request (its purpose among the rest): its requester, the resource's owner,
    and the operators of their two regions."""
    return Audience(
        regions=frozenset({request.requester.split("/")[1], request.resource.split("/")[1]}),
        carriers=frozenset({request.requester, owner} - {""}),
    )
