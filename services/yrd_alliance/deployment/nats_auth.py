"""Who may do what on a region's NATS server.

- Account ALLIANCE, with JetStream: the `service` user (the region's services: they publish
  events only under their region's subjects and use JetStream only for their region's two
  streams and the consumers on its ALL_<R>; client connections only) and one user per other
  region, named by the subject of that region's leaf certificate (TLS verify_and_map), only as
  a leaf connection and carrying only what stream sourcing needs.
- One account per partner organisation, `PARTNER_<NAME>`, with JetStream limits: the partner's
  user reads its own copy of the region's events (a stream named ALL_<R> in its account, fed by
  a consumer the alliance owns; see cli.partners) and manages its own consumers on it; the
  alliance's `admin-<name>` user provisions that copy. ALLIANCE exports to each partner only
  its feed's delivery subject, the feed's flow control and its reset: no service consumer,
  inbox or stream of ALLIANCE is reachable from a partner account, and no partner reaches
  another's account.

Passwords (deployment.nats_secrets) are generated per region and never committed; rendered
configs (deployment.topology) hold only their bcrypt hashes. Leaf links log in by certificate, so
no config holds a password in clear.
"""

from __future__ import annotations

import re

ACCOUNT = "ALLIANCE"
SERVICE_USER = "service"
DEMO_PARTNER = "demo"
PORTAL_PARTNER = "portal"  # the portals of a deployment follow the events as this partner
PARTNER_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
RESERVED_NAMES = frozenset({SERVICE_USER, "leaf", "alliance", "admin", "system"})


def check_partner_name(name: str) -> str:
    if not PARTNER_NAME.match(name) or name in RESERVED_NAMES:
        raise ValueError(
            f"partner name {name!r} must be 2-31 lowercase letters or digits, starting with a "
            f"letter, and none of {', '.join(sorted(RESERVED_NAMES))}"
        )
    return name


def partner_account(name: str) -> str:
    return f"PARTNER_{name.upper()}"


def admin_user(name: str) -> str:
    """The alliance's own user in a partner's account, which provisions the partner's copy."""
    return f"admin-{name}"


def feed_name(name: str) -> str:
    """The consumer on ALLIANCE's ALL_<R> that feeds the partner's copy."""
    return f"partner-feed-{name}"


def feed_subject(region: str, name: str) -> str:
    return f"partner.deliver.{region}.{name}"


def partner_allow(region: str) -> list[str]:
    """Reading the partner's own ALL_<R> (NATS wildcards match whole tokens, so it is named)."""
    stream = f"ALL_{region.upper()}"
    return [
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",
        "$JS.API.STREAM.LIST",
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.>",
        f"$JS.API.CONSUMER.NAMES.{stream}",
        f"$JS.API.CONSUMER.LIST.{stream}",
        f"$JS.API.CONSUMER.DELETE.{stream}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.ACK.{stream}.>",
        "$JS.FC.>",
    ]


def partner_deny(region: str, name: str) -> list[str]:
    return [
        "alliance.>",
        "ALLIANCE.API.>",
        "partner.deliver.>",
        f"$JS.FC.ALL_{region.upper()}.{feed_name(name)}.>",
        "$JS.API.STREAM.CREATE.>",
        "$JS.API.STREAM.UPDATE.>",
        "$JS.API.STREAM.DELETE.>",
        "$JS.API.STREAM.PURGE.>",
        "$JS.API.STREAM.MSG.DELETE.>",
    ]


def service_allow(region: str) -> list[str]:
    """The region's own events, its own two streams and the consumers on ALL_<R>, and asking
    other regions' domains whether they answer: nothing of another region, no stream deleted
    or purged. (Sourcing is done by the server itself, so the services need nothing more.)"""
    own = [f"EVENTS_{region.upper()}", f"ALL_{region.upper()}"]
    stream = own[1]
    return [
        f"alliance.{region}.>",
        "$JS.API.INFO",
        *(f"$JS.API.STREAM.{verb}.{name}" for name in own for verb in ("INFO", "CREATE", "UPDATE")),
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.*",
        f"$JS.API.CONSUMER.INFO.{stream}.*",
        f"$JS.API.CONSUMER.DELETE.{stream}.*",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
        f"$JS.ACK.{stream}.>",
        f"$JS.ACK.*.*.{stream}.>",
        "$JS.*.API.INFO",
    ]


ORGANIZATION = "Yangtze River Delta incubator alliance"  # the O of every certificate


def leaf_user(region: str) -> str:
    """The name in the certificate a region's server shows the other regions' leaf listeners."""
    return f"leaf-{region}"


def leaf_subject(region: str) -> str:
    """That certificate's subject, as the listeners map it to a user (verify_and_map)."""
    return f"CN={leaf_user(region)},O={ORGANIZATION}"


def leaf_allow(regions: list[str]) -> list[str]:
    """What may cross a leaf link, either way: what stream sourcing needs (the sourcing
    consumers on each region's EVENTS_<X>, their deliveries and flow control, replies) and the
    supervisor's INFO of each domain. No stream API, no consumer of ALL_<R>, no event subject:
    a server whose users were all compromised still reaches nothing else of another region."""
    sourcing = [
        f"$JS.{r}.API.{call}.EVENTS_{r.upper()}{tail}"
        for r in regions
        for call, tail in (
            ("CONSUMER.CREATE", ""),  # the name in the body, as sources send it
            ("CONSUMER.CREATE", ".>"),
            ("CONSUMER.DELETE", ".>"),
            ("CONSUMER.INFO", ".>"),
            ("STREAM.INFO", ""),
        )
    ]
    return ["$JS.*.API.INFO", *sourcing, "$JSC.>", "$JS.FC.>", "$JS.S.>", "_INBOX.>", "$LDS.>"]
