"""What every resource-oriented service does the same way: stamping times and etags, and
refusing writes to entities whose home is another region."""

from __future__ import annotations

from typing import Any

from yrd_alliance.kernel.clock import to_timestamp, utcnow
from yrd_alliance.kernel.errors import FailedPrecondition
from yrd_alliance.kernel.names import etag


def stamp(resource: Any, version: int, *, created: bool = False) -> None:
    """Sets update_time (and create_time when created) and the etag of the given version."""
    now = to_timestamp(utcnow())
    if created:
        resource.create_time.CopyFrom(now)
    resource.update_time.CopyFrom(now)
    resource.etag = etag(resource.name, version)


def ensure_home(service: str, this_region: str, home_region: str) -> None:
    """Invariant 1: only the home region changes an entity."""
    if home_region != this_region:
        raise FailedPrecondition(
            f"region {home_region} is the home of this resource; send the call to "
            f"{home_region}'s {service} service (this one serves {this_region})"
        )
