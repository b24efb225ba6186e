"""Opaque, tamper-proof page tokens for keyset pagination.

A token carries the last key of the page and a digest of the query it belongs to, signed with
HMAC. A forged or altered token, or one reused with different filters, is INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence

from google.protobuf.message import Message

from yrd_alliance.kernel.errors import FieldViolation, InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def page_size(value: int) -> int:
    if value < 0:
        raise InvalidArgument([FieldViolation("page_size", "must not be negative")])
    return min(value or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"page-token:" + secret).digest()

    def encode(self, last_key: str, query: str) -> str:
        body = json.dumps({"k": last_key, "q": _digest(query)}, separators=(",", ":")).encode()
        mac = hmac.digest(self._key, body, "sha256")[:16]
        return base64.urlsafe_b64encode(mac + body).decode().rstrip("=")

    def after(self, rows: Sequence[tuple[str, bytes]], size: int, query: str) -> str:
        """The token for the page after `rows` (fetched as size + 1 to know), or "" at the end."""
        if len(rows) <= size:
            return ""
        return self.encode(rows[size - 1][0], query)

    def page(
        self,
        response_type: type[Message],
        field: str,
        query: str,
        requested_size: int,
        page_token: str,
        fetch: Callable[[str | None, int], Sequence[tuple[str, bytes]]],
    ) -> bytes:
        """A whole list response: checks the page size and token, fetches one row more than
        the page (`fetch(after_key, limit)` → (key, bytes) rows) and serializes the page."""
        size = page_size(requested_size)
        rows = fetch(self.decode(page_token, query), size + 1)
        return page_of(
            response_type, field, [b for _, b in rows[:size]], self.after(rows, size, query)
        )

    def decode(self, token: str, query: str) -> str | None:
        """The last key of the previous page, or None for the first page."""
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            mac, body = raw[:16], raw[16:]
            valid = hmac.compare_digest(mac, hmac.digest(self._key, body, "sha256")[:16])
            data = json.loads(body) if valid else None
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("k"), str):
            raise InvalidArgument([FieldViolation("page_token", "is not a token this API issued")])
        if data.get("q") != _digest(query):
            raise InvalidArgument(
                [FieldViolation("page_token", "belongs to a request with other filters or parent")]
            )
        return str(data["k"])


def _digest(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def page_of(
    response_type: type[Message], field: str, blobs: Sequence[bytes], next_page_token: str
) -> bytes:
    """A list response, already serialized, built from the stored bytes of its items: the wire
    form of a repeated message field is each element's bytes behind its tag and length, so the
    page is never parsed and serialized again. The guard sends bytes as they are."""
    fields = response_type.DESCRIPTOR.fields_by_name
    tag = varint(fields[field].number << 3 | 2)
    parts = [tag + varint(len(blob)) + blob for blob in blobs]
    if next_page_token:
        token = next_page_token.encode()
        parts.append(varint(fields["next_page_token"].number << 3 | 2) + varint(len(token)) + token)
    return b"".join(parts)


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
