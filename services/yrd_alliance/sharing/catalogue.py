"""Federated search over every region's published resources, and the counts behind the sharing
stats, from this region's database: the SQLite adapter of the `Catalogue` port.

Words of three or more characters go to the trigram full-text index (so 检测实验室 matches
inside a Chinese title without a word segmenter); shorter words — most two-character Chinese
words — are matched as substrings. Results come in relevance (bm25) or recency order with
keyset paging on (order key, id), so a page never repeats or skips a result; facets count every
match per category and per region.
"""

from __future__ import annotations

import json
import sqlite3

from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.sharing.ledger import OCCUPYING, Ledger
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.store import booking_of


class SqliteCatalogue:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def _where(self, q: Query) -> tuple[str, list[object], bool]:
        """The FROM/WHERE clause, its parameters, and whether bm25 is available."""
        clauses = ["r.state = ?", "(r.visibility = ? OR r.region = ?)"]
        params: list[object] = [pb.RESOURCE_STATE_PUBLISHED, pb.VISIBILITY_ALLIANCE, q.here]
        long_words = [w for w in q.words if len(w) >= 3]
        for word in (w for w in q.words if len(w) < 3):
            # letters in any case, as FTS5 matches them; lower() only where a letter has case
            cased = word.lower() != word.upper()
            clauses.append(f"instr({'lower(r.text)' if cased else 'r.text'}, ?) > 0")
            params.append(word.lower())
        for column, value in (("category", q.category), ("region", q.region), ("owner", q.owner)):
            if value:
                clauses.append(f"r.{column} = ?")
                params.append(value)
        if q.chain:
            clauses.append("instr(r.chains, ?) > 0")
            params.append(f",{q.chain},")
        if q.window and q.free_units:
            clauses.append("(r.capacity = 0 OR r.capacity >= ?)")
            params.append(q.free_units)
            short = self._short_of_units(q.window[0], q.window[1], q.free_units)
            if short:
                ids = [name.rsplit("/", 1)[-1] for name in short]
                clauses.append(f"r.id NOT IN ({','.join('?' * len(ids))})")
                params.extend(ids)
        source = "resources r"
        if long_words:
            source += " JOIN resources_fts f ON f.rowid = r.rowid"
            clauses.append("resources_fts MATCH ?")
            params.append(" AND ".join(_phrase(w) for w in long_words))
        return f"FROM {source} WHERE {' AND '.join(clauses)}", params, bool(long_words)

    def search(
        self, q: Query, after: str | None, limit: int
    ) -> tuple[list[tuple[str, bytes]], int, list[pb.Facet], list[pb.Facet]]:
        """(page rows as (token key, data), total, category facets, region facets)."""
        where, params, ranked = self._where(q)
        page_params = list(params)
        if ranked and q.relevance:  # bm25: lower is better; only usable in the select list
            sql = f"SELECT id, k FROM (SELECT r.id AS id, bm25(resources_fts) AS k {where})"
            if after:
                last_key, last_id = json.loads(after)
                sql += " WHERE k > ? OR (k = ? AND id > ?)"
                page_params += [last_key, last_key, last_id]
            sql += " ORDER BY k, id LIMIT ?"
        else:  # newest first, walking the (state, updated, id) index
            sql = f"SELECT r.id AS id, r.updated AS k {where}"
            if after:
                last_key, last_id = json.loads(after)
                sql += " AND (r.updated < ? OR (r.updated = ? AND r.id < ?))"
                page_params += [last_key, last_key, last_id]
            sql += " ORDER BY r.updated DESC, r.id DESC LIMIT ?"
        page = self._conn.execute(sql, (*page_params, limit)).fetchall()
        data = self._data([row["id"] for row in page])
        facets = self._conn.execute(
            f"SELECT r.category AS category, r.region AS region, count(*) AS n {where} "
            "GROUP BY r.category, r.region",
            params,
        ).fetchall()
        categories: dict[str, int] = {}
        regions: dict[str, int] = {}
        for row in facets:
            category = pb.Category.Name(row["category"])
            categories[category] = categories.get(category, 0) + row["n"]
            regions[row["region"]] = regions.get(row["region"], 0) + row["n"]
        return (
            [(json.dumps([row["k"], row["id"]]), data[row["id"]]) for row in page],
            sum(categories.values()),
            _facets(categories),
            _facets(regions),
        )

    def _data(self, ids: list[str]) -> dict[str, bytes]:
        if not ids:
            return {}
        rows = self._conn.execute(
            f"SELECT id, data FROM resources WHERE id IN ({','.join('?' * len(ids))})", ids
        )
        return {row["id"]: row["data"] for row in rows}

    def _short_of_units(self, start: int, end: int, units: int) -> list[str]:
        """Resources (names) whose bookings leave fewer than `units` free somewhere in the
        window."""
        occupying = tuple(s.value for s in OCCUPYING)
        rows = self._conn.execute(
            "SELECT DISTINCT b.resource, r.capacity FROM bookings b JOIN resources r "
            "ON r.id = substr(b.resource, length(b.resource) - 25) WHERE r.capacity > 0 "
            f"AND b.state IN ({','.join('?' * len(occupying))}) AND b.start < ? AND b.end > ?",
            (*occupying, end, start),
        ).fetchall()
        short = []
        for row in rows:
            bookings = self._conn.execute(
                "SELECT * FROM bookings WHERE resource = ?", (row["resource"],)
            ).fetchall()
            ledger = Ledger(row["capacity"], [booking_of(b) for b in bookings])
            if not ledger.fits(units, start, end):
                short.append(row["resource"])
        return short

    def published_by_owner(self) -> list[tuple[str, int]]:
        """(owner, published resources) for every owner that shares any."""
        rows = self._conn.execute(
            "SELECT owner, count(*) FROM resources WHERE state = ? GROUP BY owner",
            (pb.RESOURCE_STATE_PUBLISHED,),
        )
        return [(row[0], int(row[1])) for row in rows]

    def bookings_by_pair(self) -> list[tuple[str, str, str, int]]:
        """(owner, requester, ledger state, bookings) over every booking this region knows."""
        rows = self._conn.execute(
            "SELECT owner, requester, state, count(*) FROM bookings "
            "GROUP BY owner, requester, state"
        )
        return [(row[0], row[1], row[2], int(row[3])) for row in rows]


def _facets(counts: dict[str, int]) -> list[pb.Facet]:
    return [
        pb.Facet(key=k, count=n) for k, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    ]


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'
