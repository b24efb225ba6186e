"""Keyset paging over a real service: nothing lost or repeated, tokens opaque and tamper-proof."""

from __future__ import annotations

import base64

import pytest
from alliance.membership.v1 import membership_pb2 as pb
from hypothesis import given
from hypothesis import strategies as st
from yrd_alliance.kernel.errors import InvalidArgument
from yrd_alliance.kernel.paging import PageTokens

from tests.conftest import Membership
from tests.helpers import expect_invalid


async def _all_pages(membership: Membership, page_size: int, **filters: int) -> list[list[str]]:
    pages, token = [], ""
    while True:
        reply = await membership.stub.ListCarriers(
            pb.ListCarriersRequest(
                parent=f"regions/{membership.region}",
                page_size=page_size,
                page_token=token,
                **filters,
            ),
            metadata=membership.op,
        )
        pages.append([c.name for c in reply.carriers])
        token = reply.next_page_token
        if not token:
            return pages


async def test_paging_loses_and_repeats_nothing_while_writes_happen(membership: Membership) -> None:
    created = [(await membership.create_carrier(display_name=f"载体{i}")).name for i in range(23)]
    seen: list[str] = []
    token = ""
    added_during = []
    while True:
        reply = await membership.stub.ListCarriers(
            pb.ListCarriersRequest(
                parent=f"regions/{membership.region}", page_size=5, page_token=token
            ),
            metadata=membership.op,
        )
        seen.extend(c.name for c in reply.carriers)
        if len(added_during) < 3:  # carriers created while paging come after every earlier one
            added_during.append((await membership.create_carrier(display_name="新载体")).name)
        token = reply.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)), "an item was repeated"
    assert seen[: len(created)] == created, "an item was lost or reordered"
    assert set(seen) == set(created) | set(added_during)


@pytest.mark.parametrize("page_size", [1, 7, 50])
async def test_page_sizes(membership: Membership, page_size: int) -> None:
    created = [(await membership.create_carrier()).name for _ in range(9)]
    pages = await _all_pages(membership, page_size)
    assert [n for page in pages for n in page] == created
    assert all(len(page) <= page_size for page in pages)


async def test_forged_and_foreign_tokens_are_rejected(membership: Membership) -> None:
    for _ in range(3):
        await membership.create_carrier()
    parent = f"regions/{membership.region}"
    first = await membership.stub.ListCarriers(
        pb.ListCarriersRequest(parent=parent, page_size=1), metadata=membership.op
    )
    token = first.next_page_token
    assert token and membership.region not in token, "the token must be opaque"
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in (forged, "garbage", token[:-2]):
        await expect_invalid(
            membership.stub.ListCarriers(
                pb.ListCarriersRequest(parent=parent, page_token=bad), metadata=membership.op
            ),
            "page_token",
        )
    other_filter = pb.ListCarriersRequest(
        parent=parent, page_token=token, level=pb.CARRIER_LEVEL_NATIONAL
    )
    await expect_invalid(
        membership.stub.ListCarriers(other_filter, metadata=membership.op), "page_token"
    )


@given(last_key=st.text(max_size=40), query=st.text(max_size=40), junk=st.binary(max_size=60))
def test_tokens_round_trip_and_junk_never_decodes(last_key: str, query: str, junk: bytes) -> None:
    tokens = PageTokens(b"k" * 32)
    assert tokens.decode(tokens.encode(last_key, query), query) == last_key
    assert tokens.decode("", query) is None
    junk_token = base64.urlsafe_b64encode(junk).decode().rstrip("=")
    if junk_token:
        with pytest.raises(InvalidArgument):
            tokens.decode(junk_token, query)
