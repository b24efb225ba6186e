"""Every membership method over a real gRPC channel, with a real NATS behind the service."""

from __future__ import annotations

import uuid

import grpc
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.tokens import issue_token

from tests.conftest import SIGNING_KEY, Membership, auth, sample_carrier
from tests.helpers import expect_error, expect_invalid

UNKNOWN_CARRIER_ID = "01J0000000000000000000000Z"


async def test_create_get_and_list_carrier(membership: Membership) -> None:
    created = await membership.create_carrier()
    assert created.name.startswith(f"regions/{membership.region}/carriers/")
    assert created.state == pb.CARRIER_STATE_ACTIVE
    assert created.etag and created.create_time.seconds > 0
    fetched = await membership.stub.GetCarrier(
        pb.GetCarrierRequest(name=created.name), metadata=membership.op
    )
    assert fetched == created
    listed = await membership.stub.ListCarriers(
        pb.ListCarriersRequest(parent=f"regions/{membership.region}"), metadata=membership.op
    )
    assert list(listed.carriers) == [created]
    assert listed.next_page_token == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"display_name": ""}, "carrier.display_name"),
        ({"display_name": "x" * 201}, "carrier.display_name"),
        ({"display_name": "bad\x00name"}, "carrier.display_name"),
        ({"level": pb.CARRIER_LEVEL_UNSPECIFIED}, "carrier.level"),
        ({"level": 99}, "carrier.level"),
        ({"kind": pb.CARRIER_KIND_UNSPECIFIED}, "carrier.kind"),
        ({"kind": 42}, "carrier.kind"),
        ({"industrial_chains": [2, 2]}, "carrier.industrial_chains"),
        ({"industrial_chains": [77]}, "carrier.industrial_chains[0]"),
        ({"city": ""}, "carrier.city"),
        ({"address": "a" * 301}, "carrier.address"),
        ({"contact": {"email": "not-an-email"}}, "carrier.contact.email"),
        ({"contact": {"phone": "call me"}}, "carrier.contact.phone"),
    ],
)
async def test_create_carrier_rejects_each_invalid_field(
    membership: Membership, change: dict[str, object], field: str
) -> None:
    request = pb.CreateCarrierRequest(
        parent=f"regions/{membership.region}", carrier=sample_carrier(**change)
    )
    await expect_invalid(membership.stub.CreateCarrier(request, metadata=membership.op), field)
    assert membership.row_counts() == {
        "carriers": 0,
        "startups": 0,
        "outbox": 0,
        "idempotency_keys": 0,
    }


async def test_create_carrier_rejects_bad_parent_and_request_id(membership: Membership) -> None:
    request = pb.CreateCarrierRequest(
        parent="region/sh", carrier=sample_carrier(), request_id="nope"
    )
    await expect_invalid(
        membership.stub.CreateCarrier(request, metadata=membership.op), "parent", "request_id"
    )


async def test_create_carrier_in_another_region_names_the_home_region(
    membership: Membership,
) -> None:
    request = pb.CreateCarrierRequest(parent="regions/hz", carrier=sample_carrier())
    error = await expect_error(
        membership.stub.CreateCarrier(request, metadata=membership.op),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "hz" in (error.details() or "")


async def test_repeated_request_id_returns_the_first_result_and_writes_once(
    membership: Membership,
) -> None:
    request = pb.CreateCarrierRequest(
        parent=f"regions/{membership.region}",
        carrier=sample_carrier(),
        request_id=str(uuid.uuid4()),
    )
    first = await membership.stub.CreateCarrier(request, metadata=membership.op)
    second = await membership.stub.CreateCarrier(request, metadata=membership.op)
    assert first == second
    assert membership.row_counts()["carriers"] == 1
    assert membership.row_counts()["outbox"] == 1


async def test_another_callers_request_id_is_another_request(membership: Membership) -> None:
    request = pb.CreateCarrierRequest(
        parent=f"regions/{membership.region}",
        carrier=sample_carrier(),
        request_id=str(uuid.uuid4()),
    )
    first = await membership.stub.CreateCarrier(request, metadata=membership.op)
    colleague = issue_token(
        SIGNING_KEY, subject="another-op", role=Role.OPERATOR, region=membership.region
    )
    theirs = await membership.stub.CreateCarrier(request, metadata=auth(colleague))
    assert theirs.name != first.name, "the first caller's result is not handed to another"
    assert membership.row_counts()["carriers"] == 2


async def test_a_suspended_carriers_token_cannot_write(membership: Membership) -> None:
    carrier = await membership.create_carrier()
    suspend = pb.SuspendCarrierRequest(name=carrier.name, reason="dues unpaid")
    await membership.stub.SuspendCarrier(suspend, metadata=membership.op)
    own = auth(issue_token(SIGNING_KEY, subject="c", role=Role.CARRIER, carrier=carrier.name))
    before = membership.row_counts()
    startup = pb.CreateStartupRequest(parent=carrier.name, startup=pb.Startup(display_name="A"))
    await expect_error(
        membership.stub.CreateStartup(startup, metadata=own), grpc.StatusCode.PERMISSION_DENIED
    )
    change = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=carrier.name, city="苏州"), update_mask=FieldMask(paths=["city"])
    )
    await expect_error(
        membership.stub.UpdateCarrier(change, metadata=own), grpc.StatusCode.PERMISSION_DENIED
    )
    assert membership.row_counts() == before, "nothing written"


async def test_request_id_reused_for_another_method_is_rejected(membership: Membership) -> None:
    request_id = str(uuid.uuid4())
    carrier = await membership.stub.CreateCarrier(
        pb.CreateCarrierRequest(
            parent=f"regions/{membership.region}", carrier=sample_carrier(), request_id=request_id
        ),
        metadata=membership.op,
    )
    startup_request = pb.CreateStartupRequest(
        parent=carrier.name, startup=pb.Startup(display_name="A"), request_id=request_id
    )
    await expect_invalid(
        membership.stub.CreateStartup(startup_request, metadata=membership.op), "request_id"
    )


@pytest.mark.parametrize(
    "name", ["", "regions/sh", "carriers/x", "regions/sh/carriers/lowercase-id"]
)
async def test_get_carrier_rejects_malformed_names(membership: Membership, name: str) -> None:
    await expect_invalid(
        membership.stub.GetCarrier(pb.GetCarrierRequest(name=name), metadata=membership.op), "name"
    )


async def test_unknown_carrier_is_not_found(membership: Membership) -> None:
    name = f"regions/{membership.region}/carriers/{UNKNOWN_CARRIER_ID}"
    await expect_error(
        membership.stub.GetCarrier(pb.GetCarrierRequest(name=name), metadata=membership.op),
        grpc.StatusCode.NOT_FOUND,
    )
    update = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=name, city="杭州"), update_mask=FieldMask(paths=["city"])
    )
    await expect_error(
        membership.stub.UpdateCarrier(update, metadata=membership.op), grpc.StatusCode.NOT_FOUND
    )
    for call in (
        membership.stub.SuspendCarrier(
            pb.SuspendCarrierRequest(name=name, reason="r"), metadata=membership.op
        ),
        membership.stub.LeaveAlliance(
            pb.LeaveAllianceRequest(name=name, reason="r"), metadata=membership.op
        ),
        membership.stub.ListStartups(pb.ListStartupsRequest(parent=name), metadata=membership.op),
        membership.stub.CreateStartup(
            pb.CreateStartupRequest(parent=name, startup=pb.Startup(display_name="A")),
            metadata=membership.op,
        ),
        membership.stub.GetStartup(
            pb.GetStartupRequest(name=f"{name}/startups/{UNKNOWN_CARRIER_ID}"),
            metadata=membership.op,
        ),
    ):
        await expect_error(call, grpc.StatusCode.NOT_FOUND)


async def test_update_carrier_changes_only_masked_fields(membership: Membership) -> None:
    created = await membership.create_carrier()
    change = pb.Carrier(name=created.name, city="张家港", display_name="ignored", etag=created.etag)
    updated = await membership.stub.UpdateCarrier(
        pb.UpdateCarrierRequest(carrier=change, update_mask=FieldMask(paths=["city"])),
        metadata=membership.op,
    )
    assert updated.city == "张家港"
    assert updated.display_name == created.display_name
    assert updated.etag != created.etag
    assert updated.create_time == created.create_time


async def test_update_with_stale_etag_is_aborted_and_changes_nothing(
    membership: Membership,
) -> None:
    created = await membership.create_carrier()
    mask = FieldMask(paths=["city"])
    await membership.stub.UpdateCarrier(
        pb.UpdateCarrierRequest(
            carrier=pb.Carrier(name=created.name, city="杭州", etag=created.etag), update_mask=mask
        ),
        metadata=membership.op,
    )
    stale = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=created.name, city="苏州", etag=created.etag), update_mask=mask
    )
    await expect_error(
        membership.stub.UpdateCarrier(stale, metadata=membership.op), grpc.StatusCode.ABORTED
    )
    current = await membership.stub.GetCarrier(
        pb.GetCarrierRequest(name=created.name), metadata=membership.op
    )
    assert current.city == "杭州"


@pytest.mark.parametrize(
    ("paths", "change", "field"),
    [
        ([], {}, "update_mask"),
        (["name"], {}, "update_mask"),
        (["state"], {}, "update_mask"),
        (["city"], {"city": ""}, "carrier.city"),
        (["level"], {"level": 17}, "carrier.level"),
        (["contact"], {"contact": {"email": "x@"}}, "carrier.contact.email"),
    ],
)
async def test_update_carrier_rejects_invalid_masks_and_values(
    membership: Membership, paths: list[str], change: dict[str, object], field: str
) -> None:
    created = await membership.create_carrier()
    carrier = pb.Carrier(name=created.name, **change)  # type: ignore[arg-type]
    request = pb.UpdateCarrierRequest(carrier=carrier, update_mask=FieldMask(paths=paths))
    await expect_invalid(membership.stub.UpdateCarrier(request, metadata=membership.op), field)
    after = await membership.stub.GetCarrier(
        pb.GetCarrierRequest(name=created.name), metadata=membership.op
    )
    assert after == created


async def test_update_without_changes_keeps_etag_and_emits_nothing(membership: Membership) -> None:
    created = await membership.create_carrier()
    request = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=created.name, city=created.city),
        update_mask=FieldMask(paths=["city"]),
    )
    same = await membership.stub.UpdateCarrier(request, metadata=membership.op)
    assert same.etag == created.etag
    assert membership.row_counts()["outbox"] == 1


async def test_suspend_then_leave(membership: Membership) -> None:
    created = await membership.create_carrier()
    await expect_invalid(
        membership.stub.SuspendCarrier(
            pb.SuspendCarrierRequest(name=created.name), metadata=membership.op
        ),
        "reason",
    )
    await expect_error(
        membership.stub.SuspendCarrier(
            pb.SuspendCarrierRequest(name=created.name, reason="audit", etag="stale"),
            metadata=membership.op,
        ),
        grpc.StatusCode.ABORTED,
    )
    suspended = await membership.stub.SuspendCarrier(
        pb.SuspendCarrierRequest(name=created.name, reason="annual audit", etag=created.etag),
        metadata=membership.op,
    )
    assert suspended.state == pb.CARRIER_STATE_SUSPENDED
    await expect_error(
        membership.stub.SuspendCarrier(
            pb.SuspendCarrierRequest(name=created.name, reason="again"), metadata=membership.op
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await expect_error(
        membership.stub.CreateStartup(
            pb.CreateStartupRequest(parent=created.name, startup=pb.Startup(display_name="A")),
            metadata=membership.op,
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    left = await membership.stub.LeaveAlliance(
        pb.LeaveAllianceRequest(name=created.name, reason="merged into another park"),
        metadata=membership.op,
    )
    assert left.state == pb.CARRIER_STATE_LEFT
    update = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=created.name, city="苏州"), update_mask=FieldMask(paths=["city"])
    )
    await expect_error(
        membership.stub.UpdateCarrier(update, metadata=membership.op),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await expect_error(
        membership.stub.LeaveAlliance(
            pb.LeaveAllianceRequest(name=created.name, reason="again"), metadata=membership.op
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


async def test_startup_lifecycle(membership: Membership) -> None:
    carrier = await membership.create_carrier()
    startup = await membership.create_startup(
        carrier.name, display_name="张家港华芯半导体有限公司", headcount=12
    )
    assert startup.name.startswith(carrier.name + "/startups/")
    fetched = await membership.stub.GetStartup(
        pb.GetStartupRequest(name=startup.name), metadata=membership.op
    )
    assert fetched == startup
    change = pb.Startup(name=startup.name, legal_needs=[1, 3, 8], etag=startup.etag)
    updated = await membership.stub.UpdateStartup(
        pb.UpdateStartupRequest(startup=change, update_mask=FieldMask(paths=["legal_needs"])),
        metadata=membership.op,
    )
    assert list(updated.legal_needs) == [1, 3, 8]
    assert updated.headcount == 12
    stale = pb.UpdateStartupRequest(
        startup=pb.Startup(name=startup.name, headcount=3, etag=startup.etag),
        update_mask=FieldMask(paths=["headcount"]),
    )
    await expect_error(
        membership.stub.UpdateStartup(stale, metadata=membership.op), grpc.StatusCode.ABORTED
    )


@pytest.mark.parametrize(
    ("startup", "field"),
    [
        (pb.Startup(display_name=""), "startup.display_name"),
        (pb.Startup(display_name="A", legal_needs=[0]), "startup.legal_needs[0]"),
        (pb.Startup(display_name="A", legal_needs=[50]), "startup.legal_needs[0]"),
        (pb.Startup(display_name="A", industrial_chains=[3, 3]), "startup.industrial_chains"),
        (pb.Startup(display_name="A", headcount=-1), "startup.headcount"),
    ],
)
async def test_create_startup_rejects_each_invalid_field(
    membership: Membership, startup: pb.Startup, field: str
) -> None:
    carrier = await membership.create_carrier()
    before = membership.row_counts()
    request = pb.CreateStartupRequest(parent=carrier.name, startup=startup)
    await expect_invalid(membership.stub.CreateStartup(request, metadata=membership.op), field)
    assert membership.row_counts() == before


async def test_startup_name_must_match_its_carrier(membership: Membership) -> None:
    one = await membership.create_carrier()
    other = await membership.create_carrier(display_name="杭州高新区科技创业服务中心")
    startup = await membership.create_startup(one.name)
    wrong = f"{other.name}/startups/{startup.name.rsplit('/', 1)[-1]}"
    await expect_error(
        membership.stub.GetStartup(pb.GetStartupRequest(name=wrong), metadata=membership.op),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_list_filters(membership: Membership) -> None:
    national = await membership.create_carrier(
        level=pb.CARRIER_LEVEL_NATIONAL, industrial_chains=[1]
    )
    provincial = await membership.create_carrier(
        level=pb.CARRIER_LEVEL_PROVINCIAL, kind=pb.CARRIER_KIND_MAKERSPACE, industrial_chains=[2, 3]
    )
    parent = f"regions/{membership.region}"

    async def names(**filters: int) -> list[str]:
        reply = await membership.stub.ListCarriers(
            pb.ListCarriersRequest(parent=parent, **filters), metadata=membership.op
        )
        return [c.name for c in reply.carriers]

    assert await names(level=pb.CARRIER_LEVEL_PROVINCIAL) == [provincial.name]
    assert await names(kind=pb.CARRIER_KIND_INCUBATOR) == [national.name]
    assert await names(industrial_chain=3) == [provincial.name]
    assert await names(industrial_chain=1) == [national.name]
    assert await names(industrial_chain=4) == []
    assert await names(state=pb.CARRIER_STATE_ACTIVE) == [national.name, provincial.name]
    await expect_invalid(
        membership.stub.ListCarriers(
            pb.ListCarriersRequest(parent=parent, level=9, kind=9), metadata=membership.op
        ),
        "level",
        "kind",
    )
    await expect_invalid(
        membership.stub.ListCarriers(
            pb.ListCarriersRequest(parent=parent, page_size=-1), metadata=membership.op
        ),
        "page_size",
    )
    everywhere = await membership.stub.ListCarriers(
        pb.ListCarriersRequest(parent="regions/-"), metadata=membership.op
    )
    assert {c.name for c in everywhere.carriers} == {national.name, provincial.name}


async def test_startups_filter_by_legal_need(membership: Membership) -> None:
    carrier = await membership.create_carrier()
    ip = await membership.create_startup(carrier.name)  # needs IP and financing
    await membership.stub.CreateStartup(
        pb.CreateStartupRequest(
            parent=carrier.name, startup=pb.Startup(display_name="B", legal_needs=[3])
        ),
        metadata=membership.op,
    )
    reply = await membership.stub.ListStartups(
        pb.ListStartupsRequest(parent=carrier.name, legal_need=2), metadata=membership.op
    )
    assert [s.name for s in reply.startups] == [ip.name]


async def test_repeated_list_pages_show_every_change(membership: Membership) -> None:
    """List pages are served from the read cache; no page may outlive a write."""
    parent = f"regions/{membership.region}"

    async def carriers() -> list[tuple[str, str]]:
        reply = await membership.stub.ListCarriers(
            pb.ListCarriersRequest(parent=parent, page_size=5), metadata=membership.op
        )
        return [(c.name, c.display_name) for c in reply.carriers]

    async def startups(carrier: str) -> list[int]:
        reply = await membership.stub.ListStartups(
            pb.ListStartupsRequest(parent=carrier), metadata=membership.op
        )
        return [s.headcount for s in reply.startups]

    first = await membership.create_carrier()
    assert await carriers() == await carriers() == [(first.name, first.display_name)]
    second = await membership.create_carrier()
    assert len(await carriers()) == 2
    renamed = await membership.stub.UpdateCarrier(
        pb.UpdateCarrierRequest(
            carrier=pb.Carrier(name=second.name, display_name="苏州独墅湖创业中心"),
            update_mask=FieldMask(paths=["display_name"]),
        ),
        metadata=membership.op,
    )
    assert (second.name, renamed.display_name) in await carriers()
    startup = await membership.create_startup(first.name, headcount=5)
    assert await startups(first.name) == await startups(first.name) == [5]
    await membership.stub.UpdateStartup(
        pb.UpdateStartupRequest(
            startup=pb.Startup(name=startup.name, headcount=9),
            update_mask=FieldMask(paths=["headcount"]),
        ),
        metadata=membership.op,
    )
    assert await startups(first.name) == [9]
