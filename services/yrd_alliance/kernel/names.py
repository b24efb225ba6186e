"""Resource names ("regions/sh/carriers/01J…"), resource ids, and etags."""

from __future__ import annotations

import hashlib
import re

from ulid import ULID

from yrd_alliance.kernel.errors import Violations

_SEGMENT_PATTERNS = {
    "region": r"[a-z][a-z0-9]{1,9}",
    "id": r"[0-9A-HJKMNP-TV-Z]{26}",  # a ULID: time-ordered, so keyset paging follows creation
}


class NamePattern:
    """A pattern such as "regions/{region}/carriers/{carrier}".

    Every variable but region is a ULID.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        parts = []
        for segment in template.split("/"):
            if segment.startswith("{"):
                var = segment[1:-1]
                kind = "region" if var == "region" else "id"
                parts.append(f"(?P<{var}>{_SEGMENT_PATTERNS[kind]})")
            else:
                parts.append(re.escape(segment))
        self._regex = re.compile("^" + "/".join(parts) + "$")

    def parse(self, v: Violations, field: str, name: str) -> dict[str, str] | None:
        """The name's variables, or None after adding a violation for the field."""
        match = self._regex.match(name)
        if not match:
            v.add(field, f"must be a resource name like {self.template}, got {name[:300]!r}")
            return None
        return match.groupdict()

    def parse_if_given(self, v: Violations, field: str, name: str) -> None:
        """For an optional name, such as a list's filter: checked only when not empty."""
        if name:
            self.parse(v, field, name)

    def matches(self, name: str) -> bool:
        return self._regex.match(name) is not None

    def require(self, field: str, name: str) -> dict[str, str]:
        """The name's variables; INVALID_ARGUMENT naming the field if it does not match."""
        v = Violations()
        ids = self.parse(v, field, name)
        v.raise_if_any()
        assert ids is not None
        return ids

    def format(self, **values: str) -> str:
        return self.template.format(**values)


REGION = NamePattern("regions/{region}")


def new_id() -> str:
    return str(ULID())


def etag(name: str, version: int) -> str:
    return hashlib.sha256(f"{name}#{version}".encode()).hexdigest()[:20]
