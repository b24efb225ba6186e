"""Search against a brute-force reference: a generated catalogue of resources of three regions
(drafts, withdrawn and region-only ones among them) and a few hundred random queries — Chinese
words of two to five characters found inside longer words, English, mixed, filters only, free
units, both orders, page by page — and for each, the catalogue's total, facets and pages equal
what a plain scan of the resources says."""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alliance.sharing.v1 import sharing_pb2 as pb
from yrd_alliance.kernel.db import Database
from yrd_alliance.kernel.schema import MIGRATIONS as KERNEL_MIGRATIONS
from yrd_alliance.kernel.sql_tables import SqlRows
from yrd_alliance.sharing.catalogue import IndexedCatalogue
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.search_index import SearchIndex
from yrd_alliance.sharing.store import MIGRATIONS, RESOURCES

from tests.helpers import search_catalogue

REGIONS = ("sh", "hz", "zjg")
# Words of the catalogue: two-character words also inside longer ones (路演 in 路演厅, 检测 in
# 检测实验室), English of different case, and words that share characters.
WORDS = [
    "检测实验室", "检测", "实验", "路演厅", "路演", "专利", "专利代理", "融资", "股权融资",
    "孵化器", "加速器", "新能源", "电池", "集成电路", "芯片", "生物医药", "纺织", "面料",
    "工位", "会议室", "法律", "咨询", "知识产权", "创业导师", "导师", "人才", "培训", "政策",
    "申报", "厂房", "中试", "色牢度", "显微镜", "Lab", "roadshow", "Patent", "AI", "chip",
    "EV", "BioMed", "IPR", "孵化", "创新", "科技", "园区", "服务",
]  # fmt: skip
CHAINS = list(range(1, 9))
# Page sizes: small pages of broad queries let a recency page look among the newest documents
# first (sharing.search_reader's slices).
PAGES = (2, 7, 40)


def _resource(rng: random.Random, index: int) -> pb.Resource:
    region = rng.choice(REGIONS)
    title = "".join(rng.sample(WORDS, rng.randint(2, 4))) + f"（{index}）"
    description = "，".join(rng.sample(WORDS, rng.randint(4, 9))) + "。"
    resource = pb.Resource(
        name=f"regions/{region}/resources/{index:026d}",
        owner=f"regions/{region}/carriers/{rng.randint(1, 12):026d}",
        category=rng.randint(1, 6),  # type: ignore[arg-type]
        title=title,
        description=description,
        industrial_chains=rng.sample(CHAINS, rng.randint(0, 3)),  # type: ignore[arg-type]
        capacity=rng.choice([0, 1, 2, 5]),
        visibility=rng.choice([pb.VISIBILITY_ALLIANCE] * 4 + [pb.VISIBILITY_REGION]),
        state=rng.choice([pb.RESOURCE_STATE_PUBLISHED] * 8
                         + [pb.RESOURCE_STATE_DRAFT, pb.RESOURCE_STATE_WITHDRAWN]),
    )  # fmt: skip
    # ties in update time on purpose: pages must order them by id
    resource.update_time.seconds = 1_780_000_000 + rng.randint(0, 400)
    return resource


def _text(resource: pb.Resource) -> str:
    return f"{resource.title}\n{resource.description}"


def matches(resource: pb.Resource, q: Query) -> bool:
    """The reference: every word a substring of the title or description (letters in any
    case), every filter as the API documents it."""
    if resource.state != pb.RESOURCE_STATE_PUBLISHED:
        return False
    region = resource.name.split("/")[1]
    if resource.visibility != pb.VISIBILITY_ALLIANCE and region != q.here:
        return False
    text = _text(resource).lower()
    return (
        all(word.lower() in text for word in q.words)
        and (not q.category or resource.category == q.category)
        and (not q.region or region == q.region)
        and (not q.owner or resource.owner == q.owner)
        and (not q.chain or q.chain in resource.industrial_chains)
        and (not q.free_units or resource.capacity == 0 or resource.capacity >= q.free_units)
    )


def _fragment(rng: random.Random, resource: pb.Resource, shortest: int, longest: int) -> str:
    """A piece of a resource's text, of `shortest` to `longest` characters, without
    punctuation."""
    text = _text(resource)
    for _ in range(20):
        length = rng.randint(shortest, longest)
        start = rng.randrange(max(1, len(text) - length))
        piece = text[start : start + length]
        if all(c.isalnum() for c in piece):
            return piece
    return rng.choice(WORDS)


def _ascii_fragment(rng: random.Random, resource: pb.Resource) -> str:
    """A piece of six to twelve characters of a resource's runs of ASCII letters (which cross
    word boundaries: `LabPatent`), else an English word."""
    stretches = [s for s in re.findall(r"[A-Za-z]+", _text(resource)) if len(s) >= 6]
    if not stretches:
        return rng.choice([w for w in WORDS if w.isascii()])
    stretch = rng.choice(stretches)
    length = rng.randint(6, min(12, len(stretch)))
    start = rng.randrange(len(stretch) - length + 1)
    return stretch[start : start + length]


def random_queries(rng: random.Random, resources: list[pb.Resource], n: int) -> Iterator[Query]:
    owners = sorted({r.owner for r in resources})
    for _ in range(n):
        kind = rng.choice(
            ["word", "word", "fragment", "long", "two", "english", "ascii", "filters", "absent"]
        )
        words: tuple[str, ...] = ()
        if kind == "word":
            words = (rng.choice(WORDS),)
        elif kind == "fragment":
            words = (_fragment(rng, rng.choice(resources), 2, 5),)
        elif kind == "long":  # a phrase of the index's longest runs
            words = (_fragment(rng, rng.choice(resources), 6, 13),)
        elif kind == "two":
            words = tuple(dict.fromkeys(rng.sample(WORDS, 2)))
        elif kind == "ascii":  # one term of the index's ASCII runs, or a phrase past them
            words = (_ascii_fragment(rng, rng.choice(resources)),)
        elif kind == "english":
            word = rng.choice([w for w in WORDS if w.isascii()])
            words = (rng.choice([word, word.lower(), word.upper()]),)
        elif kind == "absent":
            words = ("".join(rng.sample(string.ascii_lowercase, 6)),)
        filters = rng.random() < 0.4 or kind == "filters"
        yield Query(
            here=rng.choice([*REGIONS, ""]),
            words=words,
            category=rng.choice([0, 0, rng.randint(1, 6)]) if filters else 0,
            region=rng.choice(["", "", rng.choice(REGIONS)]) if filters else "",
            chain=rng.choice([0, 0, rng.choice(CHAINS)]) if filters else 0,
            owner=rng.choice(["", "", "", rng.choice(owners)]) if filters else "",
            window=(2_000_000_000, 2_000_003_600) if filters and rng.random() < 0.3 else None,
            free_units=0,
            relevance=bool(words) and rng.random() < 0.5,
        )


def _with_free_units(q: Query) -> Query:
    if q.window is None:
        return q
    return Query(**{**q.__dict__, "free_units": 2})


@pytest.fixture
async def catalogue(tmp_path: Path) -> AsyncIterator[tuple[IndexedCatalogue, list]]:
    """The catalogue as the service has it: the index written here, read by its process."""
    rng = random.Random(20261202)
    resources = [_resource(rng, i) for i in range(1, 1501)]
    db = Database(tmp_path / "sharing.db", sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    async with db.write() as tx:
        rows = SqlRows(RESOURCES, tx)
        for resource in resources:
            rows.put(resource, 1)
    index = SearchIndex(tmp_path / "sharing.search", db.connect_reader(), source="test")
    assert index.catch_up() == len(resources)
    async with search_catalogue(db, tmp_path, index=index) as catalogue:
        yield catalogue, resources
    db.close()


async def _every_page(
    catalogue: IndexedCatalogue, q: Query, page: int
) -> tuple[list[str], int, dict, dict]:
    names: list[str] = []
    after = None
    total, categories, regions = -1, {}, {}
    while True:
        rows, total, category_facets, region_facets = await catalogue.search(q, after, page + 1)
        if after is None:
            categories = {f.key: f.count for f in category_facets}
            regions = {f.key: f.count for f in region_facets}
            assert [f.count for f in category_facets] == sorted(
                (f.count for f in category_facets), reverse=True
            )
        shown = rows[:page]
        names += [pb.Resource.FromString(data).name for _, data in shown]
        if len(rows) <= page:
            return names, total, categories, regions
        after = shown[-1][0]


async def test_three_hundred_random_queries_equal_the_reference(
    catalogue: tuple[IndexedCatalogue, list[pb.Resource]],
) -> None:
    index, resources = catalogue
    rng = random.Random(7)
    seen_kinds = Counter()
    for q in (_with_free_units(q) for q in random_queries(rng, resources, 300)):
        expected = [r for r in resources if matches(r, q)]
        names, total, categories, regions = await _every_page(index, q, rng.choice(PAGES))
        context = f"for {q}"
        assert total == len(expected), context
        assert len(names) == len(set(names)) == total, f"a page repeated or skipped {context}"
        if q.relevance:
            assert set(names) == {r.name for r in expected}, context
        else:
            newest_first = sorted(  # ties by the resource's id
                expected, key=lambda r: (r.update_time.seconds, r.name.rsplit("/", 1)[1]),
                reverse=True,
            )  # fmt: skip
            assert names == [r.name for r in newest_first], context
        assert categories == dict(
            Counter(pb.Category.Name(r.category) for r in expected)
        ), context  # fmt: skip
        assert regions == dict(Counter(r.name.split("/")[1] for r in expected)), context
        seen_kinds[("words" if q.words else "filters only", bool(expected))] += 1
        if any(len(w) == 2 and not w.isascii() for w in q.words) and expected:
            seen_kinds["two characters, found"] += 1
        if any(len(w) > 5 for w in q.words) and expected:
            seen_kinds["longer than five, found"] += 1
        if any(len(w) > 5 and w.isascii() for w in q.words) and expected:
            seen_kinds["ASCII, longer than five, found"] += 1
    # the random queries covered what they are meant to
    assert seen_kinds["two characters, found"] >= 20, seen_kinds
    assert seen_kinds["longer than five, found"] >= 20, seen_kinds
    assert seen_kinds["ASCII, longer than five, found"] >= 15, seen_kinds
    assert seen_kinds[("words", False)] >= 10 and seen_kinds[("filters only", True)] >= 10
