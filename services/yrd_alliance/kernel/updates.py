"""Standard update mechanics shared by every service: update masks, merging a partial change
into a stored message (re-validated as a whole) and etag checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from google.protobuf.message import Message

from yrd_alliance.kernel.errors import EtagMismatch, Violations


def mask_paths(v: Violations, paths: Sequence[str], updatable: Sequence[str]) -> list[str]:
    """The fields an update_mask names; "*" means every updatable field."""
    if not paths:
        v.add("update_mask", f"is required: name the fields to change among {', '.join(updatable)}")
        return []
    if list(paths) == ["*"]:
        return list(updatable)
    for path in paths:
        if path not in updatable:
            v.add("update_mask", f"{path!r} cannot be updated; updatable: {', '.join(updatable)}")
    return sorted(set(paths), key=list(updatable).index) if not v else []


M = TypeVar("M", bound=Message)


def merge_update(
    current: M, change: M, paths: Sequence[str], check: Callable[[Violations, M], None]
) -> tuple[M, list[str]]:
    """The resource after the update and the fields whose value changed; an invalid result is
    INVALID_ARGUMENT, so an update can never store what a create would refuse."""
    updated = type(current)()
    updated.CopyFrom(current)
    changed = apply_mask(updated, change, paths)
    violations = Violations()
    check(violations, updated)
    violations.raise_if_any()
    return updated, changed


def apply_mask(target: Message, source: Message, paths: Sequence[str]) -> list[str]:
    """Copies the named top-level fields; returns those whose value actually changed."""
    changed = []
    for path in paths:
        before = getattr(target, path)
        after = getattr(source, path)
        if before == after:
            continue
        changed.append(path)
        target.ClearField(path)
        if isinstance(after, (str, int, bool)):
            setattr(target, path, after)
        elif hasattr(after, "CopyFrom"):
            getattr(target, path).CopyFrom(after)
        else:
            getattr(target, path).extend(after)
    return changed


def check_etag(given: str, current: str, field: str) -> None:
    """An empty etag means "whatever is there"; a stale one is ABORTED."""
    if given and given != current:
        raise EtagMismatch(
            f"{field} is stale: the resource changed since you read it; read it again and retry"
        )
