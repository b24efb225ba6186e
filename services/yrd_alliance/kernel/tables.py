"""The one shape every service's table shares, declared once and stored by one toolkit.

A row is an entity as its protobuf bytes, a version, and the columns that filters and paging
need, each computed from the message. A service declares a `Table` (its name, message type and
columns); behind the `Rows` port, `SqlRows` (kernel.sql_tables) stores it in the
service's database and `MemoryRows` (kernel.memory) in a dict, for use-case tests:

    CARRIERS = Table("carriers", pb.Carrier, "carrier", {"region": region_of, "level": ...})
    uow.rows(CARRIERS).require(name)          # Stored(message, version) or NOT_FOUND
    uow.rows(CARRIERS).put(carrier, version)
    rows.apply_if_newer(carrier, event.version)   # a projection's idempotent apply
    rows.page(CARRIERS.where(region="sh", chains=Tag(3)), after, limit)   # keyset paging

Tables without bytes (`data=False`) keep just the columns, for directories of other services'
entities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import Any, Generic, Protocol, TypeVar

from google.protobuf.message import Message

from yrd_alliance.kernel.errors import NotFound

M = TypeVar("M", bound=Message)
Column = Callable[[Any], object]


@dataclass(frozen=True)
class Migration:
    component: str  # "kernel" or a service name; each numbers its own migrations from 1
    version: int
    sql: str  # both engines' (SQLite's types, which kernel.postgres translates)
    sqlite: str = ""  # then what only SQLite runs (e.g. its triggers)
    postgres: str = ""  # or what only PostgreSQL runs


@dataclass(frozen=True)
class Tag:
    """A filter on a tag column: rows whose set holds this value."""

    value: int


def tags(values: Iterable[int]) -> str:
    """A set of small integers as a tag column: ",1,5,", so one value matches as ",5,"."""
    return "," + ",".join(str(v) for v in values) + ","


def fields(*names: str) -> dict[str, Column]:
    """Columns holding the message's fields of the same names."""
    return {name: attrgetter(name) for name in names}


def tags_of(field: str) -> Column:
    """A tag column of a repeated enum field."""
    return lambda message: tags(getattr(message, field))


def region_of(entity: Any) -> str:
    """The home region in an entity's resource name, regions/<region>/…"""
    return str(entity.name).split("/")[1]


def parent_of(collection: str) -> Column:
    """The parent in the entity's name, e.g. parent_of("startups") for …/startups/<id>."""
    return lambda entity: entity.name.rsplit(f"/{collection}/", 1)[0]


def tag_set(text: str) -> frozenset[int]:
    return frozenset(int(x) for x in text.strip(",").split(",") if x)


def last_segment(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def whole_name(name: str) -> str:
    """For Table.key_of, when the key is the resource name itself."""
    return name


@dataclass(frozen=True)
class Stored(Generic[M]):
    message: M
    version: int
    columns: Mapping[str, Any] = field(default_factory=dict)  # the table's extras, as stored


@dataclass(frozen=True)
class Where:
    """A query on one table: column → value; falsy values filter nothing."""

    table: str
    filters: tuple[tuple[str, object], ...]

    def key(self) -> str:
        """Identifies the query, for page tokens and cached replies."""
        values = (str(v.value if isinstance(v, Tag) else v or "") for _, v in self.filters)
        return self.table + "|" + "|".join(values)

    def active(self) -> list[tuple[str, object]]:
        return [(column, value) for column, value in self.filters if value]


@dataclass(frozen=True)
class Table(Generic[M]):
    name: str
    message: type[M]
    noun: str  # how NOT_FOUND names one, e.g. "carrier"
    columns: Mapping[str, Column] = field(default_factory=dict)
    key: str = "id"  # the key column
    name_of: Callable[[M], str] = lambda m: str(m.name)  # type: ignore[attr-defined]
    key_of: Callable[[str], str] = last_segment  # resource name → key
    data: bool = True  # whether rows hold the message's bytes
    extras: tuple[str, ...] = ()  # columns the message does not hold, set by `put(**extra)`

    @cached_property
    def _filterable(self) -> frozenset[str]:
        return frozenset({self.key, *self.columns, *self.extras})

    @cached_property
    def sql_find(self) -> str:
        """Selects a row's bytes, version and extra columns by key."""
        selected = ", ".join(("data", "version", *self.extras))
        return f"SELECT {selected} FROM {self.name} WHERE {self.key} = ?"

    def where(self, **filters: object) -> Where:
        unknown = filters.keys() - self._filterable
        if unknown:
            raise ValueError(f"{self.name} has no column {', '.join(sorted(unknown))}")
        return Where(self.name, tuple(filters.items()))

    def values(self, message: M) -> dict[str, object]:
        return {column: compute(message) for column, compute in self.columns.items()}


class Rows(Protocol[M]):
    """One table seen from a unit of work (or a read)."""

    def find(self, name: str) -> Stored[M] | None:
        """The entity of that resource name, if stored."""
        ...

    def require(self, name: str) -> Stored[M]:
        """The entity, or NOT_FOUND."""
        ...

    def version(self, name: str) -> int | None: ...

    def put(self, message: M, version: int, **extra: object) -> None:
        """Stores the entity as this version; `extra` sets columns the message does not hold."""
        ...

    def apply_if_newer(self, message: M, version: int, **extra: object) -> bool:
        """Stores the entity unless the stored version is as new; whether it did."""
        ...

    def page(self, query: Where, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        """(key, bytes) rows after the key `after`, in key order."""
        ...

    def select(self, query: Where) -> list[Stored[M]]:
        """Every entity the query matches, in key order."""
        ...

    def columns(self, query: Where) -> list[dict[str, Any]]:
        """The columns (key and version included) of every row the query matches, in key
        order; for tables without bytes."""
        ...

    def count(self, query: Where) -> int: ...


class StoredRows(Generic[M]):
    """What every adapter of `Rows` does the same way: finding an entity by its name in the row
    under its key. An adapter supplies `_load(key)`: (bytes, version, other columns) or None."""

    def __init__(self, table: Table[M]) -> None:
        self.table = table

    def _load(self, key: str) -> tuple[bytes, int, dict[str, Any]] | None:
        raise NotImplementedError

    def find(self, name: str) -> Stored[M] | None:
        row = self._load(self.table.key_of(name))
        if row is None:
            return None
        message = self.table.message.FromString(row[0])
        if self.table.name_of(message) != name:  # the same id under another region's name
            return None
        return Stored(message, row[1], row[2])

    def require(self, name: str) -> Stored[M]:
        found = self.find(name)
        if found is None:
            raise not_found(self.table, name)
        return found


def check_extras(table: Table[Any], extra: Mapping[str, object]) -> None:
    unknown = set(extra) - set(table.extras)
    if unknown:
        raise ValueError(f"{table.name} declares no extra column {', '.join(sorted(unknown))}")


def not_found(table: Table[Any], name: str) -> NotFound:
    return NotFound(f"{table.noun} {name} does not exist")
