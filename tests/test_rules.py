"""Pure rules, no I/O: validation, update masks, names, events."""

from __future__ import annotations

import pytest
from alliance.membership.v1 import membership_pb2 as pb
from hypothesis import given
from hypothesis import strategies as st
from yrd_alliance.kernel.errors import InvalidArgument, Violations
from yrd_alliance.kernel.names import NamePattern, etag, new_id
from yrd_alliance.kernel.updates import mask_paths, merge_update
from yrd_alliance.membership import rules

from tests.conftest import sample_carrier

CARRIERS = st.builds(
    sample_carrier,
    display_name=st.text(alphabet="创业中心ABC ", min_size=1, max_size=20).filter(str.strip),
    city=st.sampled_from(["上海", "杭州", "张家港"]),
    lead_member=st.booleans(),
    level=st.sampled_from([1, 2, 3, 4]),
    industrial_chains=st.lists(st.integers(1, 8), unique=True, max_size=3),
)


@given(
    current=CARRIERS,
    change=CARRIERS,
    paths=st.lists(st.sampled_from(rules.CARRIER_UPDATABLE), unique=True),
)
def test_update_changes_exactly_the_masked_fields(
    current: pb.Carrier, change: pb.Carrier, paths: list[str]
) -> None:
    before = pb.Carrier()
    before.CopyFrom(current)
    updated, changed = merge_update(current, change, paths, rules.check_carrier)
    for field in rules.CARRIER_UPDATABLE:
        expected = getattr(change if field in paths else current, field)
        assert getattr(updated, field) == expected, field
    assert set(changed) == {f for f in paths if getattr(current, f) != getattr(change, f)}
    assert current == before, "the stored carrier must not be modified in place"
    assert updated.name == current.name and updated.state == current.state


def test_update_that_would_make_an_invalid_carrier_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        merge_update(sample_carrier(), pb.Carrier(city=""), ["city"], rules.check_carrier)
    assert [v.field for v in caught.value.violations] == ["carrier.city"]


def test_mask_paths() -> None:
    v = Violations()
    assert mask_paths(v, ["*"], rules.CARRIER_UPDATABLE) == list(rules.CARRIER_UPDATABLE)
    assert mask_paths(v, ["city", "level", "city"], rules.CARRIER_UPDATABLE) == [
        "level",
        "city",
    ]
    assert not v
    mask_paths(v, ["state"], rules.CARRIER_UPDATABLE)
    assert v


def test_every_violation_is_reported_at_once() -> None:
    v = Violations()
    rules.check_carrier(v, pb.Carrier(level=9, contact={"email": "x"}))
    with pytest.raises(InvalidArgument) as caught:
        v.raise_if_any()
    fields = {x.field for x in caught.value.violations}
    assert fields == {
        "carrier.display_name",
        "carrier.level",
        "carrier.kind",
        "carrier.city",
        "carrier.contact.email",
    }


@given(region=st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True))
def test_names_round_trip(region: str) -> None:
    pattern = NamePattern("regions/{region}/carriers/{carrier}")
    carrier = new_id()
    name = pattern.format(region=region, carrier=carrier)
    assert pattern.parse(Violations(), "name", name) == {"region": region, "carrier": carrier}
    v = Violations()
    assert pattern.parse(v, "name", name.lower()) is None and v


def test_etag_changes_with_every_version() -> None:
    tags = {etag("regions/sh/carriers/X", version) for version in range(1, 1000)}
    assert len(tags) == 999
