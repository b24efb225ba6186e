"""The search index kept in step with the database: the sharing service SIGKILLed while its
index applies thousands of changed resources (and while it rebuilds a lost one), then every
search page equal to the database; pages that neither repeat nor skip while resources change;
the first region-only resource hidden from the next search on; a database from before the index
indexed whole; the service answering while it builds."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc
import pytest
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc
from yrd_alliance.deployment.procs import NatsServer, ServiceProcess, children
from yrd_alliance.kernel.db import Database
from yrd_alliance.kernel.errors import InvalidArgument
from yrd_alliance.kernel.schema import MIGRATIONS as KERNEL_MIGRATIONS
from yrd_alliance.kernel.sql_tables import SqlRows
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.search_index import SAMPLE_PARTS, SearchIndex
from yrd_alliance.sharing.search_process import SearchProcess
from yrd_alliance.sharing.search_reader import ESTIMATE_ABOVE
from yrd_alliance.sharing.store import MIGRATIONS, RESOURCES

from tests.conftest import Tokens, auth, new_region, tls_channel
from tests.helpers import search_catalogue
from tests.service_process import service_process

pytestmark = pytest.mark.slow

BATCH = 12_000


def _resource(region: str, n: int, batch: int) -> pb.Resource:
    resource = pb.Resource(
        name=f"regions/{region}/resources/{n:026d}",
        owner=f"regions/{region}/carriers/{n % 7:026d}",
        category=1 + n % 6,  # type: ignore[arg-type]
        title=f"第{batch}批检测实验室{n}",
        description=f"批次{batch} 路演 Lab {n}",
        visibility=pb.VISIBILITY_ALLIANCE,
        state=pb.RESOURCE_STATE_PUBLISHED,
    )
    resource.update_time.seconds = 1_780_000_000 + n
    return resource


async def _write(db_path: Path, resources: list[pb.Resource]) -> None:
    """Commits the rows in one transaction beside the running service, as a burst of applied
    events would."""
    db = Database(db_path, sync_full=False)
    try:
        async with db.write() as tx:
            rows = SqlRows(RESOURCES, tx)
            for resource in resources:
                rows.put(resource, int(time.time() * 1000))
    finally:
        db.close()


def _uncommitted_segments(index: Path) -> set[str]:
    """Segment files on disk that the index's last commit does not name: work under way."""
    meta = json.loads((index / "meta.json").read_text())
    committed = {s["segment_id"].replace("-", "") for s in meta["segments"]}
    stems = {p.name.split(".")[0] for p in index.iterdir() if "." in p.name}
    return {stem for stem in stems if len(stem) == 32} - committed


def _published(db_path: Path) -> list[pb.Resource]:
    """What a partner may find, newest first (ties by id), read from the database itself."""
    db = Database(db_path, sync_full=False)
    try:
        rows = db.reader.execute(
            "SELECT data FROM resources WHERE state = ? AND visibility = ? "
            "ORDER BY updated DESC, id DESC",
            (pb.RESOURCE_STATE_PUBLISHED, pb.VISIBILITY_ALLIANCE),
        )
        return [pb.Resource.FromString(row[0]) for row in rows]
    finally:
        db.close()


async def _every_page(target: str, region: str, query: str = "") -> tuple[list[str], int]:
    names: list[str] = []
    token = ""
    async with tls_channel(target) as channel:
        stub = pb_grpc.SharingServiceStub(channel)
        md = auth(Tokens(region).partner())
        while True:
            reply = await stub.SearchResources(
                pb.SearchResourcesRequest(
                    query=query, order=pb.SEARCH_ORDER_RECENT, page_size=100, page_token=token
                ),
                metadata=md,
            )
            names += [r.name for r in reply.resources]
            token = reply.next_page_token
            if not token:
                return names, reply.total_size


async def test_the_index_survives_sigkill_mid_update_and_matches_the_database(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    region = new_region()
    db_path = tmp_path / "sharing.db"
    index = tmp_path / "sharing.search"
    process: ServiceProcess = service_process(
        "sharing", region, db_path, nats_server.url, tmp_path / "sharing.log"
    )
    rng = random.Random(5)
    written: list[pb.Resource] = []
    killed_mid_update = 0
    try:
        for batch in range(3):
            process.start()
            process.wait_ready(timeout=60)
            fresh = [_resource(region, len(written) + i, batch) for i in range(BATCH)]
            changed = []
            for old in rng.sample(written, min(len(written), 3000)):  # withdrawn, or reworded
                update = pb.Resource()
                update.CopyFrom(old)
                if rng.random() < 0.5:
                    update.state = pb.RESOURCE_STATE_WITHDRAWN
                else:
                    update.title = f"第{batch}批改写{old.title}"
                update.update_time.seconds += 1
                changed.append(update)
            await _write(db_path, fresh + changed)
            written += fresh
            await asyncio.sleep(rng.uniform(0.2, 0.6))  # the service is applying them now
            process.kill()
            killed_mid_update += bool(_uncommitted_segments(index))
        assert killed_mid_update, "no kill landed while the index was being written"

        shutil.rmtree(index)  # a lost index is rebuilt at start: killed while it is rebuilt
        process.start()
        await asyncio.sleep(1.0)
        process.kill()
        process.start()
        process.wait_ready(timeout=60)
        names, total = await _every_page(process.target, region)
        published = _published(db_path)
        assert names == [r.name for r in published] and _counted(total, len(published))
        for batch in range(3):  # words: the reworded titles moved between batches
            words, total = await _every_page(process.target, region, f"第{batch}批")
            assert len(words) == sum(f"第{batch}批" in r.title for r in published)
            assert _counted(total, len(words))
    finally:
        process.stop()


def _counted(total: int, matches: int) -> bool:
    """`total_size` as the API promises it: exact up to ESTIMATE_ABOVE matches, within a few
    per cent above."""
    if matches <= ESTIMATE_ABOVE * 0.8:
        return total == matches
    return abs(total - matches) <= matches * 0.1


def _gone(pid: int, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (OSError, IndexError):
        return "zombie"


async def test_searches_sent_to_a_search_process_that_dies_are_answered_by_its_successor(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "sharing.db", sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    resources = [_resource("sh", n, n % 5) for n in range(2000)]
    await _write(tmp_path / "sharing.db", resources)
    reader = SearchProcess(tmp_path / "sharing.search", processes=2)
    async with search_catalogue(db, tmp_path, reader=reader) as catalogue:
        await catalogue.current()
        words = [f"实验室{n}" for n in range(40)]
        queries = [Query(here="sh", words=(word,)) for word in words]
        first = await catalogue.search(queries[0], None, 10)
        killed = set(reader.pids)
        assert len(killed) == 2 and first[1] > 0
        abandoned = asyncio.ensure_future(catalogue.search(queries[1], None, 10))
        await asyncio.sleep(0)  # sent: its answer comes after its caller gave up
        abandoned.cancel()
        assert await catalogue.search(queries[0], None, 10) == first
        assert set(reader.pids) == killed, "an abandoned search cost a process its life"
        searches = [asyncio.ensure_future(catalogue.search(q, None, 10)) for q in queries]
        await asyncio.sleep(0)  # sent, not yet answered: each child holds some
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        answers = await asyncio.gather(*searches)
        assert len(reader.pids) == 2 and not killed & set(reader.pids)
        assert all(_gone(pid) for pid in killed)
        for word, (page, total, _, _) in zip(words, answers, strict=True):
            found = [r for r in reversed(resources) if word in r.title]  # newest first
            names = [pb.Resource.FromString(data).name for _, data in page]
            assert (total, names) == (len(found), [r.name for r in found[:10]]), word
    db.close()


async def test_a_page_token_from_before_the_index_is_refused_not_an_internal_error(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "sharing.db", sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    try:
        async with search_catalogue(db, tmp_path) as catalogue:
            for query in (Query(here="sh"), Query(here="sh", words=("路演",), relevance=True)):
                with pytest.raises(InvalidArgument) as refused:
                    await catalogue.search(query, '[1780000000.0, "01JOLDTOKEN"]', 20)
                assert refused.value.violations[0].field == "page_token"
    finally:
        db.close()


@pytest.mark.parametrize("relevance", [False, True], ids=["recency", "relevance"])
async def test_pages_never_repeat_or_skip_a_result_while_resources_change(
    tmp_path: Path, relevance: bool
) -> None:
    """Between every two pages 40 resources are reworded (some lose the word, some gain it),
    withdrawn or added. No result is shown twice, and every resource that matched throughout
    is shown exactly once."""
    db = Database(tmp_path / "sharing.db", sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    rng = random.Random(3)
    resources = [_resource("sh", n, 0) for n in range(600)]
    for resource in resources:
        resource.description = "路演" * rng.randint(1, 4) if rng.random() < 0.7 else "培训"
    changed: set[str] = set()

    async def put(batch: list[pb.Resource]) -> None:
        async with db.write() as tx:
            rows = SqlRows(RESOURCES, tx)
            for resource in batch:
                rows.put(resource, 1)
        await catalogue.current()

    async with search_catalogue(db, tmp_path) as catalogue:
        await put(resources)
        matched_at_start = {r.name for r in resources if "路演" in r.description}
        query = Query(here="sh", words=("路演",), relevance=relevance)
        shown: list[str] = []
        after = None
        while True:
            page, _, _, _ = await catalogue.search(query, after, 26)
            shown += [pb.Resource.FromString(data).name for _, data in page[:25]]
            if len(page) <= 25:
                break
            after = page[24][0]
            batch = []
            for resource in rng.sample(resources, 40):
                resource.update_time.seconds += rng.randint(0, 2000)
                resource.description = rng.choice(["路演", "路演路演路演", "培训"])
                if rng.random() < 0.2:
                    resource.state = pb.RESOURCE_STATE_WITHDRAWN
                changed.add(resource.name)
                batch.append(resource)
            fresh = _resource("sh", len(resources), 1)
            resources.append(fresh)
            await put([*batch, fresh])
        assert len(shown) == len(set(shown)), "a result was shown twice"
        throughout = {n for n in matched_at_start if n not in changed}
        assert len(throughout) > 100
        assert throughout <= set(shown), f"{len(throughout - set(shown))} skipped"
    db.close()


@pytest.mark.parametrize("relevance", [False, True], ids=["recency", "relevance"])
async def test_the_first_region_only_resource_is_hidden_from_the_next_search_on(
    tmp_path: Path, relevance: bool
) -> None:
    """A catalogue with no region-only resource is searched without the clause that hides
    them; once one is in, every search but its own region's leaves it out again, a lone
    word (asked bare before) as well as a word with a filter."""
    db = Database(tmp_path / "sharing.db", sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    shared = [_resource("sh", n, 0) for n in range(30)]
    hidden = _resource("sh", 30, 0)
    hidden.visibility, hidden.category = pb.VISIBILITY_REGION, pb.CATEGORY_LAB_EQUIPMENT
    searches = {  # (caller's region, with a filter) -> the query
        (here, filtered): Query(here=here, words=("路演",), relevance=relevance,
                                category=pb.CATEGORY_LAB_EQUIPMENT if filtered else 0)
        for here in ("", "hz", "sh") for filtered in (False, True)
    }  # fmt: skip

    async def found() -> dict[tuple[str, bool], set[str]]:
        await catalogue.current()
        names = {}
        for key, query in searches.items():
            page, total, _, _ = await catalogue.search(query, None, 100)
            names[key] = {pb.Resource.FromString(data).name for _, data in page}
            assert total == len(names[key]), key
        return names

    async with search_catalogue(db, tmp_path) as catalogue:
        await _write(tmp_path / "sharing.db", shared)
        before = await found()
        assert before[("", False)] == {r.name for r in shared}
        await _write(tmp_path / "sharing.db", [hidden])
        after = await found()
        for (here, filtered), names in after.items():  # only sh's own members see it
            assert names == before[here, filtered] | ({hidden.name} if here == "sh" else set())
    db.close()


async def test_a_database_from_before_the_index_is_indexed_whole(tmp_path: Path) -> None:
    """Resources written under the full-text schema (migrations 1–3) are found after the
    upgrade: the migration numbers every existing row, and the new index applies them all."""
    db = Database(tmp_path / "sharing.db", sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS[:3]])
    old = [_resource("sh", n, 7) for n in range(50)]
    async with db.write() as tx:
        rows = SqlRows(RESOURCES, tx)
        for resource in old:
            rows.put(resource, 1)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    async with search_catalogue(db, tmp_path) as catalogue:
        await catalogue.current()
        page, total, _, _ = await catalogue.search(Query(here="sh", words=("第7批",)), None, 100)
        assert total == 50
        assert {pb.Resource.FromString(data).name for _, data in page} == {r.name for r in old}
    db.close()


_REBUILD = """
import logging, sys
from pathlib import Path
from yrd_alliance.kernel.db import Database
from yrd_alliance.sharing.search_index import SearchIndex
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
db = Database(Path(sys.argv[1]), sync_full=False)
SearchIndex(Path(sys.argv[2]), db.connect_reader(), source="test").catch_up(commit_every_s=0.2)
"""


async def test_a_rebuild_killed_midway_goes_on_from_its_last_commit(tmp_path: Path) -> None:
    """A rebuild commits and logs its progress as it goes: SIGKILLed after some of its
    commits, it is taken up where the last one ended, not from the start, and then finds
    every resource."""
    db_path, index = tmp_path / "sharing.db", tmp_path / "sharing.search"
    db = Database(db_path, sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    resources = [_resource("sh", n, n % 3) for n in range(30_000)]
    await _write(db_path, resources)
    latest = db.reader.execute("SELECT max(seq) FROM search_changes").fetchone()[0]
    rebuild = subprocess.Popen(  # noqa: ASYNC220 - nothing else runs on the loop meanwhile
        [sys.executable, "-c", _REBUILD, str(db_path), str(index)],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert rebuild.stdout is not None
        progress = [rebuild.stdout.readline() for _ in range(2)]  # logged after each commit
        os.killpg(rebuild.pid, signal.SIGKILL)
    finally:
        rebuild.kill()
        rebuild.wait()
    assert all(line.startswith("search index: changes up to no. ") for line in progress)
    assert f" of {latest:,} applied" in progress[-1], progress
    resumed = SearchIndex(index, db.connect_reader(), source="test")
    left = latest - resumed.applied
    assert 0 < left < latest, "taken up from the last commit before the kill"
    assert resumed.catch_up() == left
    async with search_catalogue(db, tmp_path, index=resumed) as catalogue:
        _, total, _, _ = await catalogue.search(Query(here="sh", words=("第1批",)), None, 10)
        assert total == 10_000
        _, total, _, _ = await catalogue.search(Query(here="sh", category=2), None, 10)
        assert total == 5_000
    db.close()


async def test_counts_are_exact_up_to_the_cap_and_estimated_above_it(tmp_path: Path) -> None:
    """40,000 resources carry 路演; a quarter of them also 第1批, and another quarter is
    region-only. The first count is an estimate from the index's sample, the second exact;
    a partner's estimate leaves the region-only ones out as its page does; every page is
    exact."""
    db = Database(tmp_path / "sharing.db", sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *MIGRATIONS])
    resources = [_resource("sh", n, n % 4) for n in range(40_000)]
    for resource in resources[3::4]:
        resource.visibility = pb.VISIBILITY_REGION
    await _write(tmp_path / "sharing.db", resources)
    async with search_catalogue(db, tmp_path) as catalogue:
        await catalogue.current()
        page, total, categories, regions = await catalogue.search(
            Query(here="sh", words=("路演",)), None, 10
        )
        assert total > ESTIMATE_ABOVE and abs(total - 40_000) < 40_000 * 0.1, total
        assert sum(f.count for f in categories) == total == sum(f.count for f in regions)
        assert all(f.count % SAMPLE_PARTS == 0 for f in categories), "counted, not estimated"
        newest = [r.name for r in reversed(resources[-10:])]
        assert [pb.Resource.FromString(data).name for _, data in page] == newest
        page, total, categories, _ = await catalogue.search(
            Query(here="", words=("路演",)), None, 10
        )
        assert abs(total - 30_000) < 30_000 * 0.1, total
        assert all(f.count % SAMPLE_PARTS == 0 for f in categories), "counted, not estimated"
        shared = [r for r in reversed(resources) if r.visibility == pb.VISIBILITY_ALLIANCE]
        assert [pb.Resource.FromString(d).name for _, d in page] == [r.name for r in shared[:10]]
        page, total, categories, _ = await catalogue.search(
            Query(here="sh", words=("第1批",)), None, 10
        )
        assert total == 10_000 and {f.key: f.count for f in categories} == dict(
            Counter(pb.Category.Name(r.category) for r in resources[1::4])
        )
    db.close()


async def test_the_service_answers_while_it_builds_its_index_and_a_search_waits_for_it(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    region = new_region()
    db_path = tmp_path / "sharing.db"
    process = service_process("sharing", region, db_path, nats_server.url, tmp_path / "s.log")
    resources = [_resource(region, n, 0) for n in range(60_000)]
    process.start()  # migrates the database, then stops: the rows come before the index
    process.wait_ready(timeout=60)
    process.stop()
    await _write(db_path, resources)
    shutil.rmtree(tmp_path / "sharing.search")
    process.start()
    try:
        process.wait_ready(timeout=60)
        async with tls_channel(process.target) as channel:
            stub = pb_grpc.SharingServiceStub(channel)
            md = auth(Tokens(region).partner())
            got = await stub.GetResource(pb.GetResourceRequest(name=resources[7].name), metadata=md)
            assert got == resources[7]
            assert not (tmp_path / "sharing.search" / "applied.json").exists(), "built already"
            found = await stub.SearchResources(
                pb.SearchResourcesRequest(query="路演"), metadata=md, timeout=120
            )
            assert _counted(found.total_size, len(resources))
        searchers = children(process.pid)
        assert searchers, "the service searches in processes of its own"
        os.kill(process.pid, signal.SIGKILL)  # the service alone, as the OOM killer would
        assert all(map(_gone, searchers)), "a search process outlived the service"
    finally:
        process.stop()


async def test_a_search_process_started_while_grpc_is_busy_answers(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """The service starts its search process on a search, while gRPC serves other calls.
    Started with fork() (asyncio's subprocesses under uvloop), gRPC's fork handlers aborted
    the child before it ran, and that search failed with INTERNAL."""
    region = new_region()
    db_path = tmp_path / "sharing.db"
    process = service_process("sharing", region, db_path, nats_server.url, tmp_path / "s.log")
    process.start()
    process.wait_ready(timeout=60)
    resources = [_resource(region, n, 0) for n in range(200)]
    await _write(db_path, resources)
    try:
        md = auth(Tokens(region).partner())
        async with (
            tls_channel(process.target) as busy_channel,
            tls_channel(process.target) as search_channel,
        ):  # the searches on a connection of their own: the busy one refuses a stream at times
            busy_stub = pb_grpc.SharingServiceStub(busy_channel)
            busy = True

            async def caller() -> None:
                while busy:
                    try:
                        await busy_stub.GetResource(
                            pb.GetResourceRequest(name=resources[3].name), metadata=md
                        )
                    except grpc.aio.AioRpcError as error:  # a refused stream, now and then
                        if error.code() != grpc.StatusCode.UNAVAILABLE:
                            raise

            callers = [asyncio.ensure_future(caller()) for _ in range(48)]
            stub = pb_grpc.SharingServiceStub(search_channel)
            totals = []
            for _ in range(50):  # each search after the last child was killed: a new one
                for child in children(process.pid):
                    os.kill(child, signal.SIGKILL)
                found = await stub.SearchResources(
                    pb.SearchResourcesRequest(query="路演"), metadata=md, timeout=30
                )
                totals.append(found.total_size)
            busy = False
            await asyncio.gather(*callers)
        assert totals == [200] * 50
    finally:
        process.stop()
