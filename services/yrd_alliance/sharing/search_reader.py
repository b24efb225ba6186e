"""Reads the search index that sharing.search_index writes: the page, the totals and the
facets of a search. It runs in a process of its own (sharing.search_process), which opens the
index's files beside the service's writer and moves to a newer snapshot when a search asks
for one. Page tokens carry a key this module makes and `cursor` reads back.

Two things keep a search from costing in proportion to all its matches: the counts of a
search with very many are estimated from the index's sample (`_estimate`), and a recency page
looks first among the newest documents (`_newest_hits`).
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from pathlib import Path

import tantivy

from yrd_alliance.kernel.errors import FieldViolation, InvalidArgument
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.search_index import (
    ASCII,
    ASCII_LONGEST,
    GRAMS,
    LONGEST,
    PRINTABLE_ASCII,
    SAMPLE_PARTS,
    SAMPLED,
    filter_term,
)

FEW_TIED = 8  # matches asked for first that share one update time (they are sorted by id)
# Snapshots kept for relevance pages that continue on the results their first page saw, the
# least recently used let go first (each holds its segments' files open).
PINNED = 64
# What the index keeps of a match beside its terms: (id, the resource as a search returns it,
# the document, whose category and region are read only for facets)
Stored = tuple[str, bytes, tantivy.Document]
Recent = tuple[int, Stored]  # (update time, the match) on a recency page
# Where the next page begins: after (update time, id) on a recency page; at (snapshot,
# "offset") on a relevance page.
Cursor = tuple[int, str] | None
Facets = tuple[dict[int, int], dict[str, int]]  # matches per category, matches per region
# (page as (token key, resource), matches per category, matches per region)
Found = tuple[list[tuple[str, bytes]], dict[int, int], dict[str, int]]
_MUST, _MUST_NOT = tantivy.Occur.Must, tantivy.Occur.MustNot
# A recency page first looks among the newest 1/1024, 1/512 … of the index, the smallest slice
# that should hold SLICE_MARGIN times the matches it needs. The slices' bounds are measured
# again when the number of documents has moved by a tenth, or after FLOORS_MAX_AGE_S: a stale
# bound only makes a slice hold more or fewer, never a page wrong.
SLICES = (1024, 512, 256, 128, 64, 32, 16)
SLICE_MARGIN = 8
FLOORS_MAX_AGE_S = 60.0
# Matches above which `total_size` and the facet counts are estimated from the index's sample
# (within a few per cent: about 300 sampled matches at the threshold, more above it).
ESTIMATE_ABOVE = 20_000


def cursor(q: Query, key: str | None) -> Cursor:
    """The cursor a page token's key names for query `q`; INVALID_ARGUMENT for a key of
    another kind (a token made before the index was)."""
    if key is None:
        return None
    where = _position(key)
    if q.words and q.relevance and not where[1].isdigit():
        raise _stale_token()
    return where


class IndexReader:
    """Searches of the index in `path`, written by another process."""

    def __init__(self, path: Path) -> None:
        self._index = tantivy.Index.open(str(path))
        self._index.config_reader("Manual")
        self.schema = self._index.schema
        # (a change the searcher has applied, the searcher), replaced as one
        self._latest_snapshot = (0, self._index.searcher())
        self._pinned: OrderedDict[int, tantivy.Searcher] = OrderedDict()
        # (when measured, the number of documents then, the slices' bounds): see `_floor`
        self._floors: tuple[float, int, list[tuple[float, int]]] = (0.0, -1, [])

    def _snapshot(self, generation: int) -> tuple[int, tantivy.Searcher]:
        """The latest snapshot, first reloaded when it may not have applied `generation`."""
        if generation > self._latest_snapshot[0]:
            self._index.reload()
            self._latest_snapshot = (generation, self._index.searcher())
        return self._latest_snapshot

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

    def search(
        self, q: Query, excluded: Sequence[str], cursor: Cursor, limit: int, generation: int
    ) -> Found:
        """(page as (token key, resource), matches per category, matches per region) from a
        snapshot that has applied at least the change numbered `generation`; a relevance page
        after the first from the snapshot its first page used, while it is kept.

        When a first page should hold every match, its own pass counts them, and when they
        do all fit, their stored fields make the facets: no second pass over them. Nor is
        there one for a first relevance page that finds fewer matches than it could show, or
        for a recency page of a query its count found nothing for."""
        generation, searcher = self._snapshot(generation)
        facets, expected = self._estimate(searcher, q, excluded)
        one_pass = facets is None and cursor is None and expected <= limit
        total: int | None = None  # every match, when the page's pass counted them
        relevance, offset = bool(q.words and q.relevance), 0
        if relevance:
            if cursor is not None:
                generation, offset = cursor[0], int(cursor[1])
            searcher = self._pinned_snapshot(generation)  # the first page pins its snapshot
        query = self._query(searcher, q, excluded)  # for the snapshot it is asked of
        if relevance:
            found = searcher.search(query, limit=limit, offset=offset, count=one_pass)
            shown = [_stored(searcher, address) for _, address in found.hits]
            page = [(f"{generation} {offset + i}", s[1]) for i, s in enumerate(shown, 1)]
            total = _count(found)
            if total is None and offset == 0 and len(shown) < limit:
                total = len(shown)  # a first page short of its limit holds every match
        else:
            if facets is None and not one_pass:
                facets = self._counted(searcher, query)
            if facets is not None:
                matches = sum(facets[0].values())
                recent = self._newest(searcher, query, cursor, limit, matches) if matches else []
            else:
                first, total = _newest_counted(searcher, query, limit + 1)
                recent = self._newest(searcher, query, None, limit, total, first)
            shown = [stored for _, stored in recent]
            page = [(f"{updated} {id_}", data) for updated, (id_, data, _) in recent]
        if facets is None:
            every = total is not None and total <= len(shown)
            facets = _tallied(shown) if every else self._counted(searcher, query)
        return page, *facets

    def _newest(
        self, searcher: tantivy.Searcher, query: tantivy.Query, after: tuple[int, str] | None,
        limit: int, matches: int, first: list[tuple[int, tantivy.DocAddress]] | None = None,
    ) -> list[Recent]:  # fmt: skip
        """Newest first, ties by id, after the (update time, id) of the last result shown;
        `first`, when given, the query's limit + 1 newest matches, found already.

        tantivy orders by update time alone, so the hits it cut off may share the last update
        time it kept. That group is fetched whole (and sorted by id) only when the page reaches
        it; one more hit than the page needs makes that rare."""

        def ordered(found: list[tuple[int, tantivy.DocAddress]]) -> list[Recent]:
            return sorted(((u, _stored(searcher, address)) for u, address in found), reverse=True)

        page: list[Recent] = []
        if after is not None:  # the rest of the last result's group, then older ones
            page = [
                k for k in ordered(self._tied(searcher, query, after[0])) if (k[0], k[1][0]) < after
            ]
            if len(page) >= limit or after[0] == 0:
                return page[:limit]
            query = _and(query, self._range("updated", upper=after[0] - 1))
        need = limit - len(page)
        hits = first if first is not None else self._newest_hits(searcher, query, need + 1, matches)
        rest = ordered(hits)
        if len(hits) > need:
            edge = hits[-1][0]
            rest = [k for k in rest if k[0] > edge]
            if len(rest) < need:
                rest += ordered(self._tied(searcher, query, edge))
        return (page + rest)[:limit]

    def _newest_hits(
        self, searcher: tantivy.Searcher, query: tantivy.Query, count: int, matches: int
    ) -> list[tuple[int, tantivy.DocAddress]]:
        """The `count` newest of a query's `matches` (all of them when fewer), as (update time,
        address). tantivy reads the update time of every match to find them, so they are looked
        for first among the index's newest documents, in a slice that should hold several times
        `count` of the matches; when it holds `count`, they are the newest of all, since every
        match outside it is older."""
        floor = self._floor(searcher, count, matches)
        if floor is not None:
            hits = _newest_first(searcher, _and(query, self._range("updated", lower=floor)), count)
            if len(hits) == count:
                return hits
        return _newest_first(searcher, query, count)

    def _floor(self, searcher: tantivy.Searcher, count: int, matches: int) -> int | None:
        """The oldest update time of the smallest slice of newest documents that should hold
        SLICE_MARGIN × `count` of `matches`, if matches are spread evenly; None when that
        would be a large part of the index anyway."""
        if not matches:
            return None
        now = time.monotonic()
        measured_at, documents, floors = self._floors
        if now - measured_at > FLOORS_MAX_AGE_S or abs(searcher.num_docs - documents) > (
            documents // 10
        ):
            floors = _floors(searcher, self._term("sample", 1))
            self._floors = now, searcher.num_docs, floors
        wanted = SLICE_MARGIN * count / matches
        return next((floor for share, floor in floors if share >= wanted), None)

    def _tied(
        self, searcher: tantivy.Searcher, query: tantivy.Query, updated: int
    ) -> list[tuple[int, tantivy.DocAddress]]:
        """Every match updated at `updated`: almost always one, so asked for a few first."""
        at = _and(query, self._term("updated", updated))
        limit = FEW_TIED
        while len(hits := searcher.search(at, limit=limit, count=False).hits) == limit:
            limit *= 16
        return [(updated, address) for _, address in hits]

    def _estimate(
        self, searcher: tantivy.Searcher, q: Query, excluded: Sequence[str]
    ) -> tuple[Facets | None, int]:
        """Matches per category and per region estimated from the index's sample, when there
        are more than about ESTIMATE_ABOVE (counting every match costs in proportion to them,
        which a large catalogue cannot afford), else None: they are to be counted exactly.
        Beside it, how many matches there may be: as many as the query's rarest term has
        documents, or the sample says; the sample is not asked when that term says no more
        than ESTIMATE_ABOVE."""
        at_most = self._at_most(searcher, q)
        if at_most <= ESTIMATE_ABOVE:
            return None, at_most
        in_sample = self._query(searcher, q, excluded, sampled=True)
        categories, regions = self._counted(searcher, in_sample)
        sampled = sum(categories.values()) * SAMPLE_PARTS
        if sampled <= ESTIMATE_ABOVE:
            return None, sampled
        return (
            {key: n * SAMPLE_PARTS for key, n in categories.items()},
            {key: n * SAMPLE_PARTS for key, n in regions.items()},
        ), sampled

    @staticmethod
    def _counted(searcher: tantivy.Searcher, query: tantivy.Query) -> Facets:
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

    def _at_most(self, searcher: tantivy.Searcher, q: Query) -> int:
        """How many documents hold the rarest term a query requires: it matches no more."""
        words = [_word_runs(w.lower()) for w in q.words]
        required = [(field, t) for field, runs in words for _, t in runs] + _filters(q)
        return min(
            (searcher.doc_freq(field, value) for field, value in required),
            default=searcher.num_docs,
        )

    def _query(
        self, searcher: tantivy.Searcher, q: Query, excluded: Sequence[str], sampled: bool = False
    ) -> tantivy.Query:
        """The query as `searcher` is to answer it, or with `sampled` the same query over the
        index's sample alone."""
        prefix = SAMPLED if sampled else ""
        must = [self._word(w.lower(), prefix) for w in q.words]
        if sampled and not q.words:
            must.append(self._term("sample", 1))
        must += [self._term(field, value) for field, value in _filters(q)]
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
        if searcher.doc_freq("private", 1):  # (deleted documents counted too: never too few)
            clauses.append((_MUST_NOT, hidden))
        if q.window and q.free_units > 1:
            clauses.append((_MUST_NOT, self._range("capacity", lower=1, upper=q.free_units - 1)))
        if excluded:
            clauses.append((_MUST_NOT, tantivy.Query.term_set_query(self.schema, "id", excluded)))
        if len(clauses) == 1:  # tantivy skips blocks of a lone term's matches it cannot rank
            return clauses[0][1]  # high enough, but not within a boolean query
        return tantivy.Query.boolean_query(clauses)

    def _word(self, word: str, prefix: str = "") -> tantivy.Query:
        field, runs = _word_runs(word)
        if len(runs) == 1:
            return self._term(prefix + field, runs[0][1])
        return tantivy.Query.phrase_query(self.schema, prefix + field, [*runs])

    def _term(self, field: str, value: object) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, value, index_option="basic")

    def _range(
        self, field: str, lower: int | None = None, upper: int | None = None
    ) -> tantivy.Query:
        """From the field's column rather than its postings: cheaper wherever the range holds
        many documents (measured on a slice of update times, on every update time before a
        page's last, and on the small capacities a search of free units sets aside)."""
        return tantivy.Query.range_query(
            self.schema, field, tantivy.FieldType.Unsigned, lower, upper, use_inverted_index=False
        )


def _floors(searcher: tantivy.Searcher, sample: tantivy.Query) -> list[tuple[float, int]]:
    """(share of the index, oldest update time among about that share of its newest
    documents), for the shares a recency page looks in first: read from the index's sample,
    which is a SAMPLE_PARTS-th the size (sorting every update time stalled searches for
    milliseconds)."""
    documents = searcher.num_docs
    newest = _newest_first(searcher, sample, max(1, documents // SLICES[-1] // SAMPLE_PARTS))
    floors = []
    for parts in SLICES:
        rank = documents // parts // SAMPLE_PARTS
        if 1 <= rank <= len(newest):
            floors.append((1 / parts, newest[rank - 1][0]))
    return floors


def _newest_first(
    searcher: tantivy.Searcher, query: tantivy.Query, limit: int
) -> list[tuple[int, tantivy.DocAddress]]:
    """(update time, address) of a query's `limit` most recently updated matches."""
    hits = searcher.search(
        query, limit=limit, count=False, order_by_field="updated", order=tantivy.Order.Desc
    ).hits
    return [(int(value), address) for value, address in hits]


def _word_runs(word: str) -> tuple[str, list[tuple[int, str]]]:
    """The field a word is looked up in and its (position, term)s there: the word itself up to
    LONGEST characters (ASCII_LONGEST when it is all printable ASCII), else a phrase over a
    sparse cover of its LONGEST-character runs (every character in one)."""
    n = len(word)
    if n <= LONGEST:
        return ("chars" if n == 1 else GRAMS[n]), [(0, word)]
    if n <= ASCII_LONGEST and PRINTABLE_ASCII.fullmatch(word):
        return ASCII, [(0, word)]
    offsets = sorted({*range(0, n - LONGEST + 1, LONGEST), n - LONGEST})
    return GRAMS[LONGEST], [(o, word[o : o + LONGEST]) for o in offsets]


def _filters(q: Query) -> list[tuple[str, object]]:
    """The (field, value) terms a query's filters require."""
    filters = (("filters", filter_term(q.category, q.chain, q.region)), ("owner", q.owner))
    return [(field, value) for field, value in filters if value]


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


def _stale_token() -> InvalidArgument:
    """For a key of another kind: a token made before the index was."""
    return InvalidArgument(
        [FieldViolation("page_token", "is from an earlier version of search; search again")]
    )


def _newest_counted(
    searcher: tantivy.Searcher, query: tantivy.Query, limit: int
) -> tuple[list[tuple[int, tantivy.DocAddress]], int]:
    """`_newest_first`, and how many match, from one pass over the matches."""
    found = searcher.search(
        query, limit=limit, count=True, order_by_field="updated", order=tantivy.Order.Desc
    )
    count = _count(found)
    assert count is not None, "counted"
    return [(int(value), address) for value, address in found.hits], count


def _count(found: tantivy.SearchResult) -> int | None:
    """The matches a search counted (None unless asked to): missing from tantivy's stubs."""
    count: int | None = getattr(found, "count")  # noqa: B009
    return count


def _tallied(matches: list[Stored]) -> Facets:
    """The facets of these matches, when they are every match."""
    categories: Counter[int] = Counter()
    regions: Counter[str] = Counter()
    for _, _, doc in matches:
        category, region = doc.get_first("category"), doc.get_first("region")
        assert isinstance(category, int) and isinstance(region, str), "every document has both"
        categories[category] += 1
        regions[region] += 1
    return dict(categories), dict(regions)


def _stored(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> Stored:
    doc = searcher.doc(address)
    id_, data = doc.get_first("id"), doc.get_first("data")
    assert isinstance(id_, str) and isinstance(data, bytes), "every document has both"
    return id_, data, doc
