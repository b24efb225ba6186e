"""The search index over the published resources this region knows: tantivy, fed from the
database and answering `SearchResources` without ranking or counting in SQL.

Words are matched as substrings in any case, Chinese and English alike, with no word
segmenter: the lowercased title and description are indexed as every run of two neighbouring
characters (`检测实验室` → `检测 测实 实验 验室`) and, with positions, of three (`检测实 测实验
实验室`), one token per position. A two- or three-character word is then one term, and a longer
one a phrase of trigrams that covers it (five characters: offsets 0 and 2). A run with
whitespace in it becomes a one-character separator token no query can name, which keeps the
positions and stops phrases across it. One-character words look up a field of the text's
distinct characters.

The database stays the truth. Every change to a resource row bumps its entry in
`search_changes` (triggers, in the writing transaction); the index applies the entries after
the last one it committed and records that number beside itself once the commit is durable, so
a crash at any point leaves a consistent index that `catch_up` completes. A search first
catches up, so it never answers from an index behind what `GetResource` reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import tantivy
from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel.errors import FieldViolation, InvalidArgument
from yrd_alliance.kernel.tables import tag_set
from yrd_alliance.sharing.search import Query

# Bump when the schema or the tokens change: the index is then rebuilt from the database.
VERSION = 1
SEPARATOR = "_"  # a single character: never a query's bigram
FEW_TIED = 8  # matches asked for first that share one update time (they are sorted by id)
# Snapshots kept for relevance pages that continue on the results their first page saw, the
# least recently used let go first (each holds its segments' files open).
PINNED = 64
Recent = tuple[int, str, bytes]  # (update time, id, resource) of a match on a recency page
_MUST, _SHOULD, _MUST_NOT = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot
_WHITESPACE = re.compile(r"\s")
_WITH_WHITESPACE = re.compile(r"\S*\0\S*")
STATE = "applied.json"  # beside the index: its version, its database, the last change applied


def grams(text: str, n: int) -> str:
    """The runs of `n` neighbouring characters of a lowercased text whose whitespace is
    `\0`, one token per position; a run with whitespace in it is SEPARATOR."""
    runs = " ".join(map("".join, zip(*(text[k:] for k in range(n)), strict=False)))
    return _WITH_WHITESPACE.sub(SEPARATOR, runs)


def tokens(text: str) -> tuple[str, str, str]:
    """The text's distinct characters, bigrams and trigrams, as the index's fields take them."""
    t = _WHITESPACE.sub("\0", text.lower())
    return " ".join(set(t) - {"\0"}), grams(t, 2), grams(t, 3)


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_bytes_field("data", stored=True)  # the resource as search returns it
    b.add_text_field("chars", tokenizer_name="whitespace", index_option="basic")
    b.add_text_field("pairs", tokenizer_name="whitespace", index_option="freq")
    b.add_text_field("triples", tokenizer_name="whitespace", index_option="position")
    b.add_text_field("region", fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("owner", tokenizer_name="raw", index_option="basic")
    for field in ("category", "capacity", "updated"):
        b.add_unsigned_field(field, indexed=True, fast=True)
    for field in ("chains", "private"):
        b.add_unsigned_field(field, indexed=True)
    return b.build()


class SearchIndex:
    """One service's index, in `path`; the only writer of it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, source: str) -> None:
        """`source` names the database (a value kept in it): an index made from another one,
        or from this one before it was restored to an earlier state, is started afresh."""
        self.path = path
        self._conn = conn  # this index's own connection to the database, read only
        self._source = source
        self.schema = _schema()
        self._lock = threading.Lock()
        self._index, self.applied = self._open()
        self._writer = self._index.writer(heap_size=48_000_000, num_threads=1)
        # (the last change applied, a searcher that sees exactly that), replaced as one
        self._latest_snapshot = (self.applied, self._index.searcher())
        self._pinned: OrderedDict[int, tantivy.Searcher] = OrderedDict()

    def _open(self) -> tuple[tantivy.Index, int]:
        """The index on disk and the last change it applied; or a new empty one, when it is
        missing, unreadable, of another version or another database, or ahead of this one
        (it is then filled from the database by catch_up)."""
        try:
            state = json.loads((self.path / STATE).read_text())
            if (
                state == {**state, "version": VERSION, "source": self._source}
                and state["applied"] <= self._latest()
                and tantivy.Index.exists(str(self.path))
            ):
                return tantivy.Index(self.schema, path=str(self.path)), int(state["applied"])
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        return tantivy.Index(self.schema, path=str(self.path), reuse=False), 0

    def _commit(self, applied: int) -> None:
        """Commits what the writer holds, then records `applied` beside it: a crash between
        the two leaves the record behind the index, and applying those changes again is
        harmless (each replaces its resource's document)."""
        self._writer.commit()
        state = {"version": VERSION, "source": self._source, "applied": applied}
        partial = self.path / f"{STATE}.partial"
        with partial.open("w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        partial.replace(self.path / STATE)
        self.applied = applied

    def _pinned_snapshot(self, generation: int) -> tantivy.Searcher:
        """The snapshot a relevance search began on, kept while it is used; the latest when it
        was let go (a later page may then repeat or skip a result)."""
        latest, searcher = self._latest_snapshot
        pinned = self._pinned.pop(generation, None)
        if pinned is None and generation != latest:
            return searcher
        self._pinned[generation] = pinned or searcher
        while len(self._pinned) > PINNED:
            self._pinned.popitem(last=False)
        return self._pinned[generation]

    def close(self) -> None:
        """Lets go of the index (its writer's lock) and of the connection."""
        with self._lock:
            self._writer.wait_merging_threads()
            self._conn.close()

    # --- keeping in step with the database ------------------------------------------------

    def _latest(self) -> int:
        return int(self._conn.execute("SELECT max(seq) FROM search_changes").fetchone()[0] or 0)

    def behind(self) -> bool:
        """Whether the database committed changes the index has not applied."""
        return self._latest() > self.applied

    def catch_up(self) -> int:
        """Applies every change the database committed after the last one applied, in one
        commit of the index; returns how many. Blocks: run it off the event loop."""
        with self._lock:
            rows = self._conn.execute(  # streamed: a rebuild reads every resource
                "SELECT c.seq AS seq, c.id AS changed, r.* FROM search_changes c "
                "LEFT JOIN resources r ON r.id = c.id WHERE c.seq > ? ORDER BY c.seq",
                (self.applied,),
            )
            applied, count = self.applied, 0
            for row in rows:
                self._writer.delete_documents_by_term("id", row["changed"])
                if row["state"] == pb.RESOURCE_STATE_PUBLISHED:
                    self._writer.add_document(self._document(row))
                applied, count = row["seq"], count + 1
            if count:
                self._commit(applied)
                self._index.reload()
                self._latest_snapshot = (applied, self._index.searcher())
            return count

    @staticmethod
    def _document(row: sqlite3.Row) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_text("id", row["id"])
        doc.add_bytes("data", bytes(row["data"]))
        for field, text in zip(("chars", "pairs", "triples"), tokens(row["text"]), strict=True):
            doc.add_text(field, text)
        doc.add_text("region", row["region"])
        doc.add_text("owner", row["owner"])
        doc.add_unsigned("category", row["category"])
        doc.add_unsigned("capacity", row["capacity"])
        doc.add_unsigned("updated", _micros(row["updated"]))
        if row["visibility"] != pb.VISIBILITY_ALLIANCE:
            doc.add_unsigned("private", 1)
        for chain in tag_set(row["chains"]):
            doc.add_unsigned("chains", chain)
        return doc

    # --- searching ---------------------------------------------------------------------------

    def search(
        self, q: Query, excluded: Sequence[str], after: str | None, limit: int
    ) -> tuple[list[tuple[str, bytes]], dict[int, int], dict[str, int]]:
        """(page as (token key, resource), matches per category, matches per region)."""
        generation, searcher = self._latest_snapshot
        query = self._query(q, excluded)
        if q.words and q.relevance:
            offset = 0
            if after:
                generation, offset = _offset(after)
            searcher = self._pinned_snapshot(generation)
            page = self._best(searcher, query, generation, offset, limit)
        else:
            page = self._newest(searcher, query, _position(after) if after else None, limit)
        categories, regions = self._facets(searcher, query)
        return page, categories, regions

    def _best(
        self, searcher: tantivy.Searcher, query: tantivy.Query, generation: int, offset: int,
        limit: int,
    ) -> list[tuple[str, bytes]]:  # fmt: skip
        """Highest bm25 first, paged by offset on the searcher the first page used, so later
        pages neither repeat nor skip while that searcher is pinned."""
        hits = searcher.search(query, limit=limit, offset=offset, count=False).hits
        return [
            (f"{generation} {offset + i + 1}", _stored(searcher, address)[1])
            for i, (_, address) in enumerate(hits)
        ]

    def _newest(
        self, searcher: tantivy.Searcher, query: tantivy.Query, after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[str, bytes]]:  # fmt: skip
        """Newest first, ties by id, after the (update time, id) of the last result shown.

        tantivy orders by update time alone, so the hits it cut off may share the last update
        time it kept. That group is fetched whole (and sorted by id) only when the page reaches
        it; one more hit than the page needs makes that rare."""

        def ordered(found: list[tuple[int, tantivy.DocAddress]]) -> list[Recent]:
            return sorted(((u, *_stored(searcher, address)) for u, address in found), reverse=True)

        page: list[Recent] = []
        if after is not None:  # the rest of the last result's group, then older ones
            page = [k for k in ordered(self._tied(searcher, query, after[0])) if k[:2] < after]
            if len(page) >= limit or after[0] == 0:
                return _keyed(page[:limit])
            query = _and(query, self._range("updated", upper=after[0] - 1))
        need = limit - len(page)
        hits = searcher.search(
            query, limit=need + 1, count=False, order_by_field="updated", order=tantivy.Order.Desc
        ).hits
        rest = ordered([(int(value), address) for value, address in hits])
        if len(hits) > need:
            edge = int(hits[-1][0])
            rest = [k for k in rest if k[0] > edge]
            if len(rest) < need:
                rest += ordered(self._tied(searcher, query, edge))
        return _keyed((page + rest)[:limit])

    def _tied(
        self, searcher: tantivy.Searcher, query: tantivy.Query, updated: int
    ) -> list[tuple[int, tantivy.DocAddress]]:
        """Every match updated at `updated`: almost always one, so asked for a few first."""
        at = _and(query, self._term("updated", updated))
        limit = FEW_TIED
        while len(hits := searcher.search(at, limit=limit, count=False).hits) == limit:
            limit *= 16
        return [(updated, address) for _, address in hits]

    def _facets(
        self, searcher: tantivy.Searcher, query: tantivy.Query
    ) -> tuple[dict[int, int], dict[str, int]]:
        found = searcher.aggregate(
            query,
            {
                "category": {"terms": {"field": "category", "size": 64}},
                "region": {"terms": {"field": "region", "size": 1000}},
            },
        )
        return (
            {int(b["key"]): b["doc_count"] for b in found["category"]["buckets"]},
            {str(b["key"]): b["doc_count"] for b in found["region"]["buckets"]},
        )

    def _query(self, q: Query, excluded: Sequence[str]) -> tantivy.Query:
        must = [self._word(w.lower()) for w in q.words]
        for field, value in (
            ("category", q.category),
            ("region", q.region),
            ("owner", q.owner),
            ("chains", q.chain),
        ):
            if value:
                must.append(self._term(field, value))
        # What a query leaves out is said as MUST_NOT over the few it excludes rather than MUST
        # over the many it keeps, which would cost every query a walk over most of the index:
        # region-only resources (but those of the caller's own region), resources too small
        # for the units asked (0 is unlimited), and those booked too full in the window.
        hidden = self._term("private", 1)
        if q.here:
            hidden = tantivy.Query.boolean_query(
                [(_MUST, hidden), (_MUST_NOT, self._term("region", q.here))]
            )
        clauses = [(_MUST, m) for m in must or [tantivy.Query.all_query()]]
        clauses.append((_MUST_NOT, hidden))
        if q.window and q.free_units > 1:
            clauses.append((_MUST_NOT, self._range("capacity", lower=1, upper=q.free_units - 1)))
        if excluded:
            clauses.append((_MUST_NOT, tantivy.Query.term_set_query(self.schema, "id", excluded)))
        return tantivy.Query.boolean_query(clauses)

    def _word(self, word: str) -> tantivy.Query:
        if len(word) == 1:
            return self._term("chars", word)
        if len(word) == 2:
            return self._term("pairs", word)
        if len(word) == 3:
            return self._term("triples", word)
        # a phrase over a sparse cover of the word's trigrams: every character is in one
        offsets = sorted({*range(0, len(word) - 2, 3), len(word) - 3})
        return tantivy.Query.phrase_query(
            self.schema, "triples", [(o, word[o : o + 3]) for o in offsets]
        )

    def _term(self, field: str, value: object) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value, index_option="basic")

    def _range(
        self, field: str, lower: int | None = None, upper: int | None = None
    ) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema, field, tantivy.FieldType.Unsigned, lower, upper, use_inverted_index=True
        )


def _and(query: tantivy.Query, other: tantivy.Query | None) -> tantivy.Query:
    if other is None:
        return query
    return tantivy.Query.boolean_query([(_MUST, query), (_MUST, other)])


def _position(key: str) -> tuple[int, str]:
    """A recency page token's key: "<update time> <id>"."""
    first, _, second = key.partition(" ")
    if not first.isdigit() or not second:
        raise _stale_token()
    return int(first), second


def _offset(key: str) -> tuple[int, int]:
    """A relevance page token's key: "<searcher> <offset>"."""
    generation, offset = _position(key)
    if not offset.isdigit():
        raise _stale_token()
    return generation, int(offset)


def _stale_token() -> InvalidArgument:
    """For a key of another kind: a token made before the index was."""
    return InvalidArgument(
        [FieldViolation("page_token", "is from an earlier version of search; search again")]
    )


def _keyed(page: list[Recent]) -> list[tuple[str, bytes]]:
    """(page token key, resource) of each result on a recency page."""
    return [(f"{updated} {id_}", data) for updated, id_, data in page]


def _stored(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> tuple[str, bytes]:
    """(id, resource) of a match."""
    doc = searcher.doc(address)
    id_, data = doc.get_first("id"), doc.get_first("data")
    assert isinstance(id_, str) and isinstance(data, bytes), "every document has both"
    return id_, data


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)
