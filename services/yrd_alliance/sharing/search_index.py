"""The search index over the published resources this region knows: tantivy, fed from the
database, so that `SearchResources` neither ranks nor counts in SQL. This module writes it;
sharing.search_reader reads it, in a process of its own (sharing.search_process).

Words are matched as substrings in any case, Chinese and English alike, with no word
segmenter: the lowercased title and description are indexed as every run of two neighbouring
characters (`检测实验室` → `检测 测实 实验 验室`), of three (`检测实 测实验 实验室`), of four and,
with positions, of five, one token per position. A word of two to five characters is then one
term, and a longer one a phrase of five-character runs that covers it (`roadshow`: `roads` at
0 and `dshow` at 3). A run with whitespace in it becomes a one-character separator token no
query can name, which keeps the positions and stops phrases across it. One-character words
look up a field of the text's distinct characters. Runs of six to ten printable ASCII
characters are terms too, in a field of their own, so that most English words are one term
rather than a phrase, whose positions cost several times as much to rank (`roadshow`).

Filters are one term, whichever of category, industrial chain and region a search names
together (`c3:h4:rhz`): every resource is indexed under every combination of its own. Reading
the one short list of the resources that pass them all costs far less than intersecting a long
list per filter.

The database stays the truth. Every change to a resource row bumps its entry in
`search_changes` (triggers, in the writing transaction); the index applies the entries after
the last one it committed and records that number beside itself once the commit is durable, so
a crash at any point leaves a consistent index that `catch_up` completes. A search first
catches up, then asks for a snapshot at least that recent, so it never answers from an index
behind what `GetResource` reads.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import tantivy
from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel.db import Connection
from yrd_alliance.kernel.tables import tag_set

log = logging.getLogger(__name__)

# Bump when the schema or the tokens change: the index is then rebuilt from the database.
VERSION = 4
# A long catch-up (a rebuild) commits and logs its progress this often: a crash loses no more
# of it than that.
COMMIT_EVERY_S = 5.0
# The field of each run length; the longest has positions, for the phrases of longer words.
GRAMS = {2: "pairs", 3: "triples", 4: "quads", 5: "quints"}
LONGEST = max(GRAMS)
SEPARATOR = "_"  # a single character: never a query's bigram
# Stretches of printable ASCII (never whitespace): their runs of LONGEST + 1 to ASCII_LONGEST
# characters are terms of the field ASCII.
PRINTABLE_ASCII = re.compile(r"[!-~]+")
ASCII_LONGEST = 10
ASCII = "ascii"
_WHITESPACE = re.compile(r"\s")
_WITH_WHITESPACE = re.compile(r"\S*\0\S*")
STATE = "applied.json"  # beside the index: its version, its database, the last change applied
# One document in SAMPLE_PARTS, chosen by its id, is in the sample from which the counts of a
# search with very many matches are estimated (sharing.search_reader): it is marked `sample`,
# and its text is indexed a second time in fields of its own (SAMPLED + the field's name), so
# a search of the sample reads postings a SAMPLE_PARTS-th as long.
SAMPLE_PARTS = 64
SAMPLED = "sampled_"


def grams(text: str, n: int) -> str:
    """The runs of `n` neighbouring characters of a lowercased text whose whitespace is
    `\0`, one token per position; a run with whitespace in it is SEPARATOR."""
    runs = " ".join(map("".join, zip(*(text[k:] for k in range(n)), strict=False)))
    return _WITH_WHITESPACE.sub(SEPARATOR, runs)


def ascii_runs(text: str) -> str:
    """The runs of LONGEST + 1 to ASCII_LONGEST neighbouring characters of a lowercased text's
    stretches of printable ASCII."""
    runs = [
        stretch[k : k + n]
        for stretch in PRINTABLE_ASCII.findall(text)
        for n in range(LONGEST + 1, min(len(stretch), ASCII_LONGEST) + 1)
        for k in range(len(stretch) - n + 1)
    ]
    return " ".join(runs)


def tokens(text: str) -> dict[str, str]:
    """Each field's tokens of a text: its distinct characters, its runs of each length and its
    longer runs of ASCII."""
    t = _WHITESPACE.sub("\0", text.lower())
    return (
        {"chars": " ".join(set(t) - {"\0"})}
        | {f: grams(t, n) for n, f in GRAMS.items()}
        | {ASCII: ascii_runs(t)}
    )


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    b.add_bytes_field("data", stored=True)  # the resource as search returns it
    for prefix in ("", SAMPLED):
        b.add_text_field(f"{prefix}chars", tokenizer_name="whitespace", index_option="basic")
        for n, field in GRAMS.items():
            option = "position" if n == LONGEST else "freq"  # freq: relevance counts matches
            b.add_text_field(prefix + field, tokenizer_name="whitespace", index_option=option)
        b.add_text_field(prefix + ASCII, tokenizer_name="whitespace", index_option="freq")
    # category and region stored too: the facets of a search whose every match is on its page
    b.add_text_field("region", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("owner", tokenizer_name="raw", index_option="basic")
    b.add_text_field("filters", tokenizer_name="whitespace", index_option="basic")
    b.add_unsigned_field("category", stored=True, fast=True)  # counted for the facets
    b.add_unsigned_field("updated", indexed=True, fast=True)
    b.add_unsigned_field("capacity", fast=True)  # read as a column only
    for field in ("private", "sample"):
        b.add_unsigned_field(field, indexed=True)
    return b.build()


def filter_term(category: int = 0, chain: int = 0, region: str = "") -> str:
    """The term of the resources in `category`, on `chain` and in `region` (each left out when
    0 or empty): `c3:h4:rhz`."""
    named = ((category, f"c{category}"), (chain, f"h{chain}"), (region, f"r{region}"))
    return ":".join(term for value, term in named if value)


def _filter_terms(category: int, chains: frozenset[int], region: str) -> str:
    """Every combination of a resource's filters, as terms (chains: any one of its own)."""
    combinations = {
        filter_term(c, h, r) for c in (0, category) for h in (0, *chains) for r in ("", region)
    }
    return " ".join(sorted(combinations - {""}))


class SearchIndex:
    """One service's index, in `path`; the only writer of it."""

    def __init__(self, path: Path, conn: Connection, source: str) -> None:
        """`source` names the database (a value kept in it): an index made from another one,
        or from this one before it was restored to an earlier state, is started afresh."""
        self.path = path
        self._conn = conn  # this index's own connection to the database, read only
        self._source = source
        self.schema = _schema()
        self._lock = threading.Lock()
        self._index, self.applied = self._open()
        self._writer = self._index.writer(heap_size=48_000_000, num_threads=1)

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

    def catch_up(self, commit_every_s: float = COMMIT_EVERY_S) -> int:
        """Applies every change the database committed after the last one applied; returns how
        many. A short catch-up is one commit of the index; a long one (a rebuild) commits every
        `commit_every_s` and logs how far it got, and after a crash goes on from its last
        commit. Blocks: run it off the event loop."""
        with self._lock:
            latest = self._latest()
            rows = self._conn.execute(  # streamed: a rebuild reads every resource
                "SELECT c.seq AS seq, c.id AS changed, r.* FROM search_changes c "
                "LEFT JOIN resources r ON r.id = c.id WHERE c.seq > ? ORDER BY c.seq",
                (self.applied,),
            )
            began = committed_at = time.monotonic()
            applied, count = self.applied, 0
            for row in rows:
                self._writer.delete_documents_by_term("id", row["changed"])
                if row["state"] == pb.RESOURCE_STATE_PUBLISHED:
                    self._writer.add_document(self._document(row))
                applied, count = row["seq"], count + 1
                if count % 1000 == 0 and time.monotonic() - committed_at >= commit_every_s:
                    self._commit(applied)
                    committed_at = time.monotonic()
                    log.info(
                        "search index: changes up to no. %s of %s applied (%s in %.0f s)",
                        f"{applied:,}", f"{latest:,}", f"{count:,}", committed_at - began,
                    )  # fmt: skip
            if applied > self.applied:
                self._commit(applied)
            return count

    @staticmethod
    def _document(row: Any) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_text("id", row["id"])
        doc.add_bytes("data", bytes(row["data"]))
        sampled = zlib.crc32(row["id"].encode()) % SAMPLE_PARTS == 0
        for field, text in tokens(row["text"]).items():
            doc.add_text(field, text)
            if sampled:
                doc.add_text(SAMPLED + field, text)
        doc.add_text("region", row["region"])
        doc.add_text("owner", row["owner"])
        doc.add_text(
            "filters", _filter_terms(row["category"], tag_set(row["chains"]), row["region"])
        )
        doc.add_unsigned("category", row["category"])
        doc.add_unsigned("capacity", row["capacity"])
        doc.add_unsigned("updated", _micros(row["updated"]))
        if sampled:
            doc.add_unsigned("sample", 1)
        if row["visibility"] != pb.VISIBILITY_ALLIANCE:
            doc.add_unsigned("private", 1)
        return doc


def _micros(seconds: float) -> int:
    return round(seconds * 1_000_000)
