"""The search index over the published resources this region knows: tantivy, fed from the
database and answering `SearchResources` without ranking or counting in SQL.

Words are matched as substrings in any case, Chinese and English alike, with no word
segmenter: the lowercased title and description are indexed as the run of every two
neighbouring characters (`检测实验室` → `检测 测实 实验 验室`), one token per position, so a
two-character word is one term and a longer one a phrase of its bigrams. A pair that straddles
whitespace becomes a one-character separator token no query can name, which keeps the
positions and stops phrases across it. One-character words look up a field of the text's
distinct characters.

The database stays the truth. Every change to a resource row bumps its entry in
`search_changes` (triggers, in the writing transaction); the index applies the entries after
the last one it committed and stores that number inside its own commit, so a crash at any point
leaves a consistent index that `catch_up` completes. A search first catches up, so it never
answers from an index behind what `GetResource` reads.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tantivy
from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.sharing.search import Query

# Bump when the schema or the tokens change: the index is then rebuilt from the database.
VERSION = 1
SEPARATOR = "_"  # a single character: never a query's bigram
MAX_TIED = 100_000  # resources sharing one update time that a recency page sorts by id
PINNED = 16  # searchers kept for relevance pages that continue on the results they began on
_MUST, _SHOULD, _MUST_NOT = tantivy.Occur.Must, tantivy.Occur.Should, tantivy.Occur.MustNot
_META = "~applied"  # the id of the document that holds the last change applied


def bigrams(text: str) -> str:
    t = text.lower()
    return " ".join(
        SEPARATOR if t[i].isspace() or t[i + 1].isspace() else t[i : i + 2]
        for i in range(len(t) - 1)
    )


def characters(text: str) -> str:
    return " ".join({c for c in text.lower() if not c.isspace()})


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("text", tokenizer_name="whitespace", index_option="position")
    b.add_text_field("chars", tokenizer_name="whitespace", index_option="basic")
    b.add_text_field("region", fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("owner", tokenizer_name="raw", index_option="basic")
    for field in ("category", "capacity", "updated"):
        b.add_unsigned_field(field, indexed=True, fast=True)
    for field in ("chains", "visibility"):
        b.add_unsigned_field(field, indexed=True)
    b.add_unsigned_field("applied", stored=True)
    b.add_text_field("source", stored=True, tokenizer_name="raw", index_option="basic")
    return b.build()


class SearchIndex:
    """One service's index, in `path`; the only writer of it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, source: str) -> None:
        """`source` names the database (a value kept in it): an index made from another one,
        or from this one before it was restored to an earlier state, is started afresh."""
        self.path = path
        self._conn = conn  # this index's own connection to the database, read only
        self.schema = _schema()
        self._lock = threading.Lock()
        self._index = self._open()
        self._writer = self._index.writer(heap_size=48_000_000, num_threads=1)
        self._source = source
        self.applied, made_from = self._read_meta()
        if made_from != source or self.applied > self._latest():
            self._writer.delete_all_documents()
            self._commit(0)
        self._pinned: OrderedDict[int, tantivy.Searcher] = OrderedDict()
        self._pin()

    def _open(self) -> tantivy.Index:
        """The index on disk, or a new empty one when it is missing, unreadable or of another
        version (it is then filled from the database by catch_up)."""
        marker = self.path / "version"
        try:
            if marker.read_text() == str(VERSION) and tantivy.Index.exists(str(self.path)):
                return tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        index = tantivy.Index(self.schema, path=str(self.path), reuse=False)
        marker.write_text(str(VERSION))
        return index

    def _read_meta(self) -> tuple[int, str]:
        """(the last change applied, the source) as the last commit stored them."""
        searcher = self._index.searcher()
        hits = searcher.search(self._term("id", _META), limit=1, count=False).hits
        if not hits:
            return 0, ""
        meta = searcher.doc(hits[0][1])
        return int(meta["applied"][0]), str(meta["source"][0])

    def _commit(self, applied: int) -> None:
        """Commits what the writer holds with `applied` beside it, atomically."""
        self._writer.delete_documents_by_term("id", _META)
        self._writer.add_document(tantivy.Document(id=_META, applied=applied, source=self._source))
        self._writer.commit()
        self.applied = applied

    def _pin(self) -> None:
        self._index.reload()
        self._pinned[self.applied] = self._index.searcher()
        while len(self._pinned) > PINNED:
            self._pinned.popitem(last=False)

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
            rows = self._conn.execute(
                "SELECT c.seq AS seq, c.id AS changed, r.* FROM search_changes c "
                "LEFT JOIN resources r ON r.id = c.id WHERE c.seq > ? ORDER BY c.seq",
                (self.applied,),
            ).fetchall()
            if not rows:
                return 0
            for row in rows:
                self._writer.delete_documents_by_term("id", row["changed"])
                if row["state"] == pb.RESOURCE_STATE_PUBLISHED:
                    self._writer.add_document(self._document(row))
            self._commit(rows[-1]["seq"])
            self._pin()
            return len(rows)

    @staticmethod
    def _document(row: sqlite3.Row) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_text("id", row["id"])
        doc.add_text("text", bigrams(row["text"]))
        doc.add_text("chars", characters(row["text"]))
        doc.add_text("region", row["region"])
        doc.add_text("owner", row["owner"])
        doc.add_unsigned("category", row["category"])
        doc.add_unsigned("capacity", row["capacity"])
        doc.add_unsigned("updated", _micros(row["updated"]))
        doc.add_unsigned("visibility", row["visibility"])
        for chain in row["chains"].strip(",").split(","):
            if chain:
                doc.add_unsigned("chains", int(chain))
        return doc

    # --- searching ---------------------------------------------------------------------------

    def search(
        self, q: Query, excluded: Sequence[str], after: str | None, limit: int
    ) -> tuple[list[tuple[str, str]], dict[int, int], dict[str, int]]:
        """(page as (token key, id), matches per category, matches per region)."""
        searcher = self._pinned[self.applied]
        query = self._query(q, excluded)
        if q.words and q.relevance:
            generation, offset = json.loads(after) if after else (self.applied, 0)
            searcher = self._pinned.get(generation, searcher)
            page = self._best(searcher, query, generation, offset, limit)
        else:
            page = self._newest(searcher, query, tuple(json.loads(after)) if after else None, limit)
        categories, regions = self._facets(searcher, query)
        return page, categories, regions

    def _best(
        self, searcher: tantivy.Searcher, query: tantivy.Query, generation: int, offset: int,
        limit: int,
    ) -> list[tuple[str, str]]:  # fmt: skip
        """Highest bm25 first, paged by offset on the searcher the first page used, so later
        pages neither repeat nor skip while that searcher is pinned."""
        hits = searcher.search(query, limit=limit, offset=offset, count=False).hits
        return [
            (json.dumps([generation, offset + i + 1]), _id(searcher, address))
            for i, (_, address) in enumerate(hits)
        ]

    def _newest(
        self, searcher: tantivy.Searcher, query: tantivy.Query, after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[str, str]]:  # fmt: skip
        """Newest first, ties by id, after the (update time, id) of the last result shown."""
        found: list[tuple[int, str]] = []
        if after is not None:
            updated, last = after
            found = [x for x in self._tied(searcher, query, updated) if x[1] < last]
            query = _and(query, self._range("updated", upper=updated - 1) if updated else None)
        if len(found) < limit and (after is None or after[0] > 0):
            hits = searcher.search(
                query, limit=limit, count=False, order_by_field="updated", order=tantivy.Order.Desc
            ).hits
            if len(hits) == limit:  # the last update time may continue past the cut: take it all
                edge = hits[-1][0]
                hits = [h for h in hits if h[0] != edge]
                found += self._tied(searcher, query, edge)
            found += [(int(value), _id(searcher, address)) for value, address in hits]
        found.sort(reverse=True)
        return [(json.dumps([u, i]), i) for u, i in found[:limit]]

    def _tied(
        self, searcher: tantivy.Searcher, query: tantivy.Query, updated: int
    ) -> list[tuple[int, str]]:
        hits = searcher.search(
            _and(query, self._term("updated", updated)), limit=MAX_TIED, count=False
        ).hits
        return [(updated, _id(searcher, address)) for _, address in hits]

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
        alliance = self._term("visibility", pb.VISIBILITY_ALLIANCE)
        visible = (
            tantivy.Query.boolean_query(
                [(_SHOULD, alliance), (_SHOULD, self._term("region", q.here))]
            )
            if q.here
            else alliance
        )
        clauses: list[tuple[Any, tantivy.Query]] = [(_MUST, visible)]
        clauses += [(_MUST, self._word(w.lower())) for w in q.words]
        for field, value in (
            ("category", q.category),
            ("region", q.region),
            ("owner", q.owner),
            ("chains", q.chain),
        ):
            if value:
                clauses.append((_MUST, self._term(field, value)))
        if q.window and q.free_units:
            unlimited = self._term("capacity", 0)
            enough = self._range("capacity", lower=q.free_units)
            clauses.append(
                (_MUST, tantivy.Query.boolean_query([(_SHOULD, unlimited), (_SHOULD, enough)]))
            )
        if excluded:
            clauses.append((_MUST_NOT, tantivy.Query.term_set_query(self.schema, "id", excluded)))
        return tantivy.Query.boolean_query(clauses)

    def _word(self, word: str) -> tantivy.Query:
        if len(word) == 1:
            return self._term("chars", word)
        if len(word) == 2:
            return self._term("text", word)
        # a sparse cover of the word's bigrams: every character is in one of them
        offsets = sorted({*range(0, len(word) - 1, 2), len(word) - 2})
        return tantivy.Query.phrase_query(
            self.schema, "text", [(o, word[o : o + 2]) for o in offsets]
        )

    def _term(self, field: str, value: object) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value, index_option="basic")

    def _range(
        self, field: str, lower: int | None = None, upper: int | None = None
    ) -> tantivy.Query:
        return tantivy.Query.range_query(
            self.schema, field, tantivy.FieldType.Unsigned, lower, upper
        )


def _and(query: tantivy.Query, other: tantivy.Query | None) -> tantivy.Query:
    if other is None:
        return query
    return tantivy.Query.boolean_query([(_MUST, query), (_MUST, other)])


def _id(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> str:
    return str(searcher.doc(address)["id"][0])


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)
