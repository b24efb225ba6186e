"""Field checks shared by every service; each adds to a Violations list instead of raising."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from google.protobuf.descriptor import EnumDescriptor

from yrd_alliance.kernel.errors import Violations

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,24}$")


def text(
    v: Violations, field: str, value: str, *, required: bool = False, max_len: int = 200
) -> None:
    if not value.strip():
        if required:
            v.add(field, "is required")
        elif value:
            v.add(field, "must not be only whitespace")
        return
    if len(value) > max_len:
        v.add(field, f"must be at most {max_len} characters, got {len(value)}")
    if _CONTROL.search(value):
        v.add(field, "must not contain control characters")


def enum(
    v: Violations, field: str, value: int, descriptor: EnumDescriptor, *, required: bool
) -> None:
    if value == 0:
        if required:
            v.add(field, f"is required: one of {_names(descriptor)}")
        return
    if value not in descriptor.values_by_number:
        v.add(field, f"unknown value {value}: one of {_names(descriptor)}")


def enum_list(
    v: Violations, field: str, values: Iterable[int], descriptor: EnumDescriptor, *, max_items: int
) -> None:
    items = list(values)
    if len(items) > max_items:
        v.add(field, f"must have at most {max_items} items")
    if len(set(items)) != len(items):
        v.add(field, "must not repeat a value")
    for index, value in enumerate(items):
        if value == 0 or value not in descriptor.values_by_number:
            v.add(f"{field}[{index}]", f"unknown value {value}: one of {_names(descriptor)}")


def email(v: Violations, field: str, value: str) -> None:
    if value and (len(value) > 254 or not _EMAIL.match(value)):
        v.add(field, "must be an e-mail address like name@example.cn")


def phone(v: Violations, field: str, value: str) -> None:
    if value and not _PHONE.match(value):
        v.add(field, "must be a phone number of digits, spaces, '-', '(', ')' with an optional '+'")


def request_id(v: Violations, value: str) -> None:
    if not value:
        return
    try:
        uuid.UUID(value)
    except ValueError:
        v.add("request_id", "must be a UUID, e.g. 0b7e5a7e-3f4c-4e0a-9a49-6f1d2b8c9e10")


def _names(descriptor: EnumDescriptor) -> str:
    return ", ".join(value.name for value in descriptor.values if value.number != 0)
