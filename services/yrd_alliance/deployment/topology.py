"""The federation as data: its regions, the hub, and each region's NATS ports. Everything else
— each region's NATS configuration, the local launcher, the compose file's NATS configs, the
streams a region sources — is derived from one Topology, so adding a region is one entry.

Shape (see DESIGN §5): every region runs its own NATS server with its own JetStream domain and
listens for leaf connections. The hub solicits nothing; every other region has one leaf remote
whose URL list is the hub first, then the spokes listed before it (not randomised). While the
hub is down the spokes reach each other through the first spoke, and no two regions ever
solicit each other: two spokes that did (each listing the other) were both refused by loop
detection, which then holds both off for 30 s, again and again. `no_advertise` keeps servers
from learning direct URLs around a proxy placed on a link.

A region may run as a cluster (`with_cluster`): several servers joined by routes, which log in
to each other with the region's route password, their streams kept in several copies (the
services' `EVENTS_REPLICAS`). Every server listens for leaf connections, and the other regions'
leaf remotes list every server of the region, so a link survives the loss of any one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from yrd_alliance.deployment.nats_auth import (
    ACCOUNT,
    SERVICE_USER,
    admin_user,
    feed_name,
    feed_subject,
    leaf_allow,
    leaf_subject,
    partner_account,
    partner_allow,
    partner_deny,
    service_allow,
)
from yrd_alliance.deployment.nats_secrets import RegionSecrets, TlsFiles, hashed
from yrd_alliance.deployment.ports import free_port_block


@dataclass(frozen=True)
class RegionNode:
    name: str
    client_port: int
    leaf_port: int
    monitor_port: int
    host: str = "127.0.0.1"  # where others reach this region's leaf listener
    cluster_port: int = 0  # where the other servers of its cluster reach it (a cluster only)

    @property
    def leaf_url(self) -> str:
        return f"nats-leaf://{self.host}:{self.leaf_port}"

    @property
    def client_url(self) -> str:
        return f"nats://{self.host}:{self.client_port}"


@dataclass(frozen=True)
class Topology:
    hub: str
    regions: tuple[RegionNode, ...]
    # The servers of each region run as a cluster, the first being its entry in `regions`.
    clusters: Mapping[str, tuple[RegionNode, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"region names repeat: {names}")
        if self.hub not in names:
            raise ValueError(f"the hub {self.hub!r} is not one of the regions {names}")

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.regions]

    def region(self, name: str) -> RegionNode:
        for node in self.regions:
            if node.name == name:
                return node
        raise KeyError(f"no region {name!r} in the topology ({', '.join(self.names)})")

    def servers(self, name: str) -> tuple[RegionNode, ...]:
        """The region's NATS servers: its cluster's, or its one."""
        return self.clusters.get(name) or (self.region(name),)

    def client_urls(self, name: str) -> str:
        """What the region's services connect to: every server, comma-separated."""
        return ",".join(node.client_url for node in self.servers(name))

    def with_cluster(self, name: str, servers: tuple[RegionNode, ...]) -> Topology:
        """The region run as a cluster of these servers (each with its own ports)."""
        if len(servers) < 3 or any(not s.cluster_port or s.name != name for s in servers):
            raise ValueError("a cluster is three or more servers of the region, with routes")
        regions = tuple(servers[0] if r.name == name else r for r in self.regions)
        return replace(self, regions=regions, clusters={**self.clusters, name: servers})

    def leaf_remotes(self, name: str) -> list[str]:
        """Where `name` connects as a leaf: nothing for the hub; for a spoke every server of the
        hub, then of the spokes before it."""
        if name == self.hub:
            return []
        spokes = [r for r in self.regions if r.name != self.hub]
        earlier = spokes[: [r.name for r in spokes].index(name)]
        return [s.leaf_url for r in (self.hub, *(e.name for e in earlier)) for s in self.servers(r)]

    def with_hosts(self, host_of: dict[str, str]) -> Topology:
        return replace(
            self, regions=tuple(replace(r, host=host_of.get(r.name, r.host)) for r in self.regions)
        )

    def nats_config(
        self,
        name: str,
        store_dir: Path | str,
        *,
        listen_host: str = "127.0.0.1",
        keys: RegionSecrets | None = None,
        tls: TlsFiles | None = None,
        server: int = 0,
    ) -> str:
        """With keys, the server requires the users of deployment.nats_auth, over TLS; without, it
        is open. With TLS files, every client and leaf connection is TLS (plaintext is refused),
        leaf remotes verify the servers they connect to against the CA, and with keys they log
        in by their region's leaf certificate. `server`: which of a cluster's servers."""
        if keys is not None and tls is None:
            raise ValueError("a server with users needs TLS: its leaf links log in by certificate")
        servers = self.servers(name)
        node = servers[server]
        remotes = self.leaf_remotes(name)
        peers = [r for r in self.names if r != name]
        clustered = len(servers) > 1
        lines = [
            f"# NATS of region {name}, derived from deployment.topology; do not edit by hand.",
            f"server_name: alliance-{name}" + (f"-{server + 1}" if clustered else ""),
            f"listen: {listen_host}:{node.client_port}",
            f"http: {listen_host}:{node.monitor_port}",
            "",
            *([tls.block(""), ""] if tls else []),
            *(_cluster_block(name, servers, server, listen_host, keys, tls) if clustered else []),
            "jetstream {",
            f'  store_dir: "{store_dir}"',
            f"  domain: {name}",
            "  # fsync every write before the publish is acked: an acked event survives power loss",
            "  sync_interval: always",
            "}",
            "",
            *(accounts_block(name, keys, peers) if keys else []),
            "leafnodes {",
            f"  listen: {listen_host}:{node.leaf_port}",
            "  no_advertise: true",
            *([tls.block("  ", verify_and_map=keys is not None)] if tls else []),
        ]
        if remotes:
            urls = ", ".join(f'"{url}"' for url in remotes)
            account = f" account: {ACCOUNT}," if keys else ""
            remote_tls = f", {tls.remote_block()}" if tls else ""
            lines += [
                f"  remotes = [ {{ urls: [{urls}],{account} dont_randomize: true{remote_tls} }} ]"
            ]
        lines += ["}", ""]
        return "\n".join(lines)


def _cluster_block(
    name: str,
    servers: tuple[RegionNode, ...],
    index: int,
    listen_host: str,
    keys: RegionSecrets | None,
    tls: TlsFiles | None,
) -> list[str]:
    """Routes to the cluster's other servers. With keys, a route logs in with the region's route
    password (so no other region's credentials open one); with TLS, routes are TLS too."""
    if keys is not None and not keys.route_password:
        raise ValueError(f"region {name} runs as a cluster: its keys need a route password")
    login = f"{ROUTE_USER}:{keys.route_password}@" if keys else ""
    routes = [
        f"nats-route://{login}{s.host}:{s.cluster_port}"
        for i, s in enumerate(servers)
        if i != index
    ]
    return [
        "cluster {",
        f"  name: {name}",
        f"  listen: {listen_host}:{servers[index].cluster_port}",
        *([tls.block("  ")] if tls else []),
        *(
            [f'  authorization {{ user: {ROUTE_USER}, password: "{hashed(keys.route_password)}" }}']
            if keys
            else []
        ),
        f"  routes: {_list(routes)}",
        "}",
        "",
    ]


def local_topology(names: list[str], *, hub: str | None = None, base_port: int = 4222) -> Topology:
    """Every region on this host: client ports from base_port, leaf ports +3200, monitor +4000."""
    return Topology(
        hub=hub or names[0],
        regions=tuple(
            RegionNode(name, base_port + i, base_port + 3200 + i, base_port + 4000 + i)
            for i, name in enumerate(names)
        ),
    )


def free_base_port(regions: int, *, start: int = 20000, stop: int = 28000) -> int:
    """A base port whose derived client, leaf and monitor ports are all free on loopback."""
    offsets = [offset + i for offset in (0, 3200, 4000) for i in range(regions)]
    return free_port_block(offsets, start=start, stop=stop)


def container_topology(
    names: list[str], *, hub: str | None = None, clusters: Mapping[str, int] | None = None
) -> Topology:
    """One host per region (`nats-<region>`, as in docker-compose.yml), standard NATS ports; a
    region in `clusters` runs that many servers instead, `nats-<region>-1`, `-2`, …"""
    topology = Topology(
        hub=hub or names[0],
        regions=tuple(RegionNode(name, 4222, 7422, 8222, host=f"nats-{name}") for name in names),
    )
    for name, size in (clusters or {}).items():
        servers = tuple(
            RegionNode(name, 4222, 7422, 8222, host=f"nats-{name}-{i}", cluster_port=6222)
            for i in range(1, size + 1)
        )
        topology = topology.with_cluster(name, servers)
    return topology


def clusters_of(text: str) -> dict[str, int]:
    """ "sh=3,hz=3" → {"sh": 3, "hz": 3}: the regions that run as clusters, and their sizes."""
    found = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        name, _, size = entry.partition("=")
        if not size.isdigit() or int(size) < 3:
            raise ValueError(f"{entry!r}: a cluster is region=size, with three servers or more")
        found[name.strip()] = int(size)
    return found


ROUTE_USER = "route"
REGIONS = ["sh", "hz", "zjg"]
ALLIANCE = local_topology(REGIONS)
CONTAINERS = container_topology(REGIONS)
CONTAINER_STORE = "/var/lib/nats"


def render_container_config(
    region: str,
    keys: RegionSecrets,
    out_dir: Path,
    tls: TlsFiles | None = None,
    *,
    clusters: Mapping[str, int] | None = None,
    server: int = 0,
) -> Path:
    """A region's NATS config for docker-compose.yml, rendered when its container starts;
    `server` is which of a clustered region's servers (from 0)."""
    topology = container_topology(REGIONS, clusters=clusters) if clusters else CONTAINERS
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (
        f"{region}-{server + 1}.conf" if region in (clusters or {}) else f"{region}.conf"
    )
    path.touch(mode=0o600)
    path.write_text(
        topology.nats_config(
            region, CONTAINER_STORE, listen_host="0.0.0.0", keys=keys, tls=tls, server=server
        )
    )
    return path


def _list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def accounts_block(region: str, keys: RegionSecrets, peers: list[str]) -> list[str]:
    """`peers`: the other regions, whose servers may log in to this one's leaf listener."""
    leaf_list = _list(leaf_allow(sorted([region, *peers])))
    lines = [
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users = [",
        f'      {{ user: {SERVICE_USER}, password: "{hashed(keys.service_password)}",',
        '        allowed_connection_types: ["STANDARD"], permissions: {',
        f"          publish: {{ allow: {_list(service_allow(region))} }},",
        '          subscribe: { allow: ["_INBOX.>"] } } }',
        *(
            line
            for peer in sorted(peers)
            for line in (
                f'      {{ user: "{leaf_subject(peer)}",',
                '        allowed_connection_types: ["LEAFNODE"], permissions: {',
                f"          publish: {{ allow: {leaf_list} }},",
                f"          subscribe: {{ allow: {leaf_list} }} }} }}",
            )
        ),
        "    ]",
    ]
    if keys.partners:
        lines.append("    exports = [")
        for name in sorted(keys.partners):
            feed, to = f"ALL_{region.upper()}.{feed_name(name)}", partner_account(name)
            lines += [
                f'      {{ service: "$JS.API.CONSUMER.RESET.{feed}", accounts: [{to}] }}',
                f'      {{ service: "$JS.FC.{feed}.>", accounts: [{to}] }}',
                f'      {{ stream: "{feed_subject(region, name)}", accounts: [{to}] }}',
            ]
        lines.append("    ]")
    lines.append("  }")
    for name, password in sorted(keys.partners.items()):
        lines += _partner_account(region, name, hashed(password), hashed(keys.admin_password))
    return [*lines, "}", ""]


def _partner_account(region: str, name: str, password: str, admin_password: str) -> list[str]:
    """`password` and `admin_password` as the config holds them (hashed)."""
    feed = f"ALL_{region.upper()}.{feed_name(name)}"
    return [
        f"  {partner_account(name)} {{",
        "    jetstream: { max_mem: 0, max_file: 2G, max_streams: 1, max_consumers: 100 }",
        "    users = [",
        f'      {{ user: {name}, password: "{password}", permissions: {{',
        f"          publish: {{ allow: {_list(partner_allow(region))},",
        f"                     deny: {_list(partner_deny(region, name))} }},",
        '          subscribe: { allow: ["_INBOX.>"] } } }',
        f'      {{ user: {admin_user(name)}, password: "{admin_password}", permissions: {{',
        '          publish: { allow: ["$JS.API.>"] }, subscribe: { allow: ["_INBOX.>"] } } }',
        "    ]",
        "    imports = [",
        f'      {{ service: {{ account: {ACCOUNT}, subject: "$JS.API.CONSUMER.RESET.{feed}" }},',
        f'        to: "ALLIANCE.API.CONSUMER.RESET.{feed}" }}',
        f'      {{ service: {{ account: {ACCOUNT}, subject: "$JS.FC.{feed}.>" }} }}',
        f'      {{ stream: {{ account: {ACCOUNT}, subject: "{feed_subject(region, name)}" }} }}',
        "    ]",
        "  }",
    ]
