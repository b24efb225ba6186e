"""A search over every region's published resources, as the use case states it; the
`Catalogue` adapter (sharing.catalogue) answers it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Query:
    # The region whose REGION-only resources the caller may see: this region for its operators
    # and carriers, "" for anyone else (only resources published to the whole alliance).
    here: str
    words: tuple[str, ...] = ()
    category: int = 0
    region: str = ""
    chain: int = 0
    owner: str = ""
    window: tuple[int, int] | None = None
    free_units: int = 0
    relevance: bool = False

    def fields(self) -> tuple[Any, ...]:
        """Every field, in order: `Query(*q.fields())` equals `q`."""
        return (
            self.here,
            self.words,
            self.category,
            self.region,
            self.chain,
            self.owner,
            self.window,
            self.free_units,
            self.relevance,
        )

    def key(self) -> str:
        return "search|" + json.dumps(self.fields(), ensure_ascii=False)


def words_of(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in text.split() if w))
