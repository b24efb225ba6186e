"""No Docker engine runs here, so the compose file and Dockerfile are checked against the code:
every command, variable, file, port and healthcheck they name must be real."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from opentelemetry.sdk import environment_variables as otel_environment
from yrd_alliance.cli.certs import certificate_authority, region_tls
from yrd_alliance.deployment.nats_secrets import NatsKeySettings, NatsSecrets, TlsFiles
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.deployment.topology import (
    CONTAINERS,
    container_topology,
    render_container_config,
)
from yrd_alliance.membership.app import MembershipSettings
from yrd_alliance.pairing.app import PairingSettings
from yrd_alliance.portal.settings import PortalSettings
from yrd_alliance.sharing.app import SharingSettings

from tests.conftest import GRPC_TLS, Membership

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SETTINGS_BY_PREFIX = {
    "MEMBERSHIP_": MembershipSettings,
    "PAIRING_": PairingSettings,
    "SHARING_": SharingSettings,
    "PORTAL_": PortalSettings,
    "ALLIANCE_NATS_": NatsKeySettings,
}
SERVICES = ("membership", "pairing", "sharing")
OTEL_VARIABLES = {
    value for name, value in vars(otel_environment).items() if name.startswith("OTEL_")
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _scripts() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(project["project"]["scripts"]) | {"nats-server", "python"}


def observability(compose: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in compose["services"].items() if s["profiles"] == ["observability"]}


def region_services(compose: dict[str, Any]) -> dict[str, Any]:
    """The regions' containers of the `all` profile (one server and one process each)."""
    return {n: s for n, s in compose["services"].items() if "all" in s.get("profiles", [])}


def ours(compose: dict[str, Any]) -> dict[str, Any]:
    """Every container of the project's own image, in any profile."""
    return {n: s for n, s in compose["services"].items() if "build" in s}


def production(compose: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in compose["services"].items() if "production" in s.get("profiles", [])}


def region_of(name: str) -> str:
    """membership-sh → sh, sharing-sh-2 → sh."""
    found = re.fullmatch(r"[a-z]+-([a-z]+)(?:-\d+)?", name)
    assert found, name
    return found.group(1)


def test_every_command_is_a_real_program(compose: dict[str, Any]) -> None:
    scripts = _scripts()
    for name, service in ours(compose).items():
        assert service["command"][0] in scripts, f"{name}: unknown command {service['command']}"
        assert (BIN / service["command"][0]).exists() or service["command"][0] == "python"


def test_every_variable_is_a_real_setting_and_secrets_come_from_outside(
    compose: dict[str, Any],
) -> None:
    for name, service in ours(compose).items():
        for key, value in (service.get("environment") or {}).items():
            if key.startswith("OTEL_"):
                assert key in OTEL_VARIABLES, f"{name}: {key} is no OpenTelemetry variable"
                continue
            prefix = next((p for p in SETTINGS_BY_PREFIX if key.startswith(p)), None)
            assert prefix is not None, f"{name}: {key} is read by nothing"
            field = key.removeprefix(prefix).lower()
            assert field in SETTINGS_BY_PREFIX[prefix].model_fields, f"{name}: {key} is no setting"
            if re.search("SECRET|PASSWORD", key):
                assert str(value).startswith("${"), f"{name}: {key} must come from the environment"


def test_each_region_profile_has_its_nats_and_services_as_the_topology_says(
    compose: dict[str, Any],
) -> None:
    for region in CONTAINERS.names:
        names = {n for n, s in compose["services"].items() if region in s.get("profiles", [])}
        assert names == {f"nats-{region}", f"portal-{region}", *(f"{s}-{region}" for s in SERVICES)}
        portal = compose["services"][f"portal-{region}"]["environment"]
        assert portal["PORTAL_REGION"] == region and "PORTAL_PLAINTEXT" not in portal
        for service in SERVICES:  # the portal reads its own region's services, over TLS
            assert portal[f"PORTAL_{service.upper()}"] == f"{service}-{region}:50051"
        assert portal["PORTAL_TLS_CERT_FILE"] == "/etc/alliance/tls/portal.pem"
        nats = compose["services"][f"nats-{region}"]
        assert nats["command"] == ["alliance", "nats", "--region", region]
        for service in SERVICES:
            definition = compose["services"][f"{service}-{region}"]
            assert definition["command"] == [f"alliance-{service}"]
            env, prefix = definition["environment"], service.upper()
            assert env[f"{prefix}_REGION"] == region
            assert (
                env[f"{prefix}_NATS_URL"]
                == f"nats://nats-{region}:{CONTAINERS.region(region).client_port}"
            )
            assert env[f"{prefix}_FEDERATION"].split(",") == CONTAINERS.names
            assert env[f"{prefix}_DB_PATH"].endswith(f"/{service}.db")
            # gRPC over TLS with the certificate `alliance certs` makes; never plaintext
            assert env[f"{prefix}_TLS_CERT_FILE"] == f"/etc/alliance/tls/{service}.pem"
            assert env[f"{prefix}_TLS_KEY_FILE"] == f"/etc/alliance/tls/{service}.key"
            assert f"{prefix}_PLAINTEXT" not in env
            mounts = [v.rsplit("}", 1)[-1].split(":")[1] for v in definition["volumes"]]
            assert "/etc/alliance/tls" in mounts and "/etc/alliance/issuer/jwks.json" in mounts
            probe = definition["healthcheck"]["test"]
            assert probe[-2:] == ["--cacert", "/etc/alliance/tls/ca.pem"], probe
    # the rest of the project's containers are the production profile's
    others = set(ours(compose)) - set(region_services(compose))
    assert all(compose["services"][n]["profiles"] == ["production"] for n in others), others


def test_host_ports_do_not_collide(compose: dict[str, Any]) -> None:
    host_ports = [p.split(":")[0] for s in compose["services"].values() for p in s.get("ports", [])]
    assert len(host_ports) == len(set(host_ports)), host_ports


def test_builds_and_mounts_refer_to_real_files(compose: dict[str, Any]) -> None:
    for name, service in ours(compose).items():
        build = service["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("${"):
                required = volume[: volume.index("}") + 1]
                assert ":?" in required, f"{name}: {required} must be required from the environment"
            elif source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} is missing"
            else:
                assert source in compose["volumes"], f"{name}: volume {source} is not declared"


def test_dockerfile_is_multi_stage_non_root_and_copies_real_files() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _target = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
    assert re.search(r'^CMD \["alliance-membership"\]', text, re.M)


def test_nats_server_accepts_every_region_config(tmp_path: Path) -> None:
    """What `alliance nats --region R` renders in each container, checked by nats-server -t."""
    keys = NatsSecrets.generate(CONTAINERS.names, ("acme",))
    for region in CONTAINERS.names:
        tls = region_tls(tmp_path / "tls", region, f"nats-{region}", [f"nats-{region}"])
        config = render_container_config(region, keys.region(region), tmp_path, tls)
        result = subprocess.run(
            [str(BIN / "nats-server"), "-t", "-c", str(config)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        text = config.read_text()
        assert "sync_interval: always" in text and f"domain: {region}" in text
        assert text.count(f'cert_file: "{tls.cert}"') == 2, "TLS on the client and leaf ports"
        everyone = [s for s in keys.regions.values()]
        plaintext = [p for s in everyone for p in (s.service_password, s.admin_password)]
        plaintext += [p for s in everyone for p in s.partners.values()]
        assert not [p for p in plaintext if p in text], "a password in clear in the config"
        if CONTAINERS.leaf_remotes(region):
            assert f'cert_file: "{tls.leaf_cert}"' in text, "the remote logs in by certificate"
        leaf_only = r'user: "CN=(leaf-\w+),O=[^"]+",\s+allowed_connection_types: \["LEAFNODE"'
        leaf_users = re.findall(leaf_only, text)
        assert sorted(leaf_users) == sorted(f"leaf-{r}" for r in keys.regions if r != region)


def test_no_secret_variable_is_shared_by_two_regions(compose: dict[str, Any]) -> None:
    """A region's leaked environment holds nothing of another region: the values every region
    shares are the token issuer's public JWKS, which signs nothing, and the address of the trace
    collector, which takes no credential."""
    used_by: dict[str, set[str]] = {}
    for name, service in [
        *ours(compose).items(),
        ("postgres-sh", compose["services"]["postgres-sh"]),
    ]:
        region = region_of(name)
        values = [*(service.get("environment") or {}).values(), *service.get("volumes", [])]
        for value in values:
            for variable in re.findall(r"\$\{(\w+)", str(value)):
                used_by.setdefault(variable, set()).add(region)
    public = {"ALLIANCE_JWKS_FILE", "ALLIANCE_OTLP_ENDPOINT", "ALLIANCE_NATS_CLUSTERS"}
    shared = {v: r for v, r in used_by.items() if len(r) > 1 and v not in public}
    assert not shared, shared


def test_nats_secrets_prints_what_compose_needs(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "alliance"), "nats-secrets", "--partners", "acme"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    exported = dict(re.findall(r"^export (\w+)=(.*)$", result.stdout, re.M))
    compose_text = (ROOT / "docker-compose.yml").read_text()
    kinds = r"NATS_\w+?|PORTAL_NATS_PASSWORD|PORTAL_SECRET|POSTGRES_PASSWORD"
    secrets = rf"\$\{{(ALLIANCE_[A-Z]+_(?:{kinds}))[:}}]"
    needed = set(re.findall(secrets, compose_text))
    assert needed and needed <= set(exported), needed - set(exported)
    for region in CONTAINERS.names:  # the portal's NATS user is the partner `portal`
        partners = dict(
            p.split("=", 1) for p in exported[f"ALLIANCE_{region.upper()}_NATS_PARTNERS"].split(",")
        )
        assert partners["portal"] == exported[f"ALLIANCE_{region.upper()}_PORTAL_NATS_PASSWORD"]
        assert "acme" in partners


def test_alliance_nats_refuses_to_start_without_passwords(tmp_path: Path) -> None:
    env = {"PATH": str(BIN), "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(BIN / "alliance"), "nats", "--region", "sh", "--config-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ALLIANCE_NATS_SERVICE_PASSWORD" in result.stdout + result.stderr


async def test_service_healthcheck_command_works(
    membership: Membership, compose: dict[str, Any], tmp_path: Path
) -> None:
    test = compose["services"]["membership-sh"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "alliance", "probe"]
    for name, service in ours(compose).items():
        if name.startswith("portal-"):  # HTTPS: its own /healthz, the server verified
            probe = service["healthcheck"]["test"][-1]
            assert "https://127.0.0.1:8443/healthz" in probe and "/etc/alliance/tls/ca.pem" in probe
        elif not name.startswith("nats-"):
            assert service["healthcheck"]["test"] == test, f"{name} probes something else"

    # the service runs on this test's event loop: the probe must not block it
    async def probe(*args: str) -> int:
        process = await asyncio.create_subprocess_exec(str(BIN / "alliance"), "probe", *args)
        return await process.wait()

    target = f"127.0.0.1:{membership.host.port}"
    assert await probe(target, "--cacert", str(GRPC_TLS.ca)) == 0
    assert await probe("127.0.0.1:1", "--cacert", str(GRPC_TLS.ca), "--timeout", "0.5") != 0
    # the server is verified: a probe trusting another CA, or speaking plaintext, fails
    other_ca = certificate_authority(tmp_path / "other")[0]
    assert await probe(target, "--cacert", str(other_ca), "--timeout", "1") != 0
    assert await probe(target, "--plaintext", "--timeout", "1") != 0
    assert await probe(target) != 0, "neither --cacert nor --plaintext: refused"


def test_nats_healthcheck_command_works(nats_server: NatsServer, compose: dict[str, Any]) -> None:
    test = compose["services"]["nats-sh"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]
    command = [
        sys.executable,
        *[arg.replace("8222", str(nats_server.monitor_port)) for arg in test[2:]],
    ]
    assert subprocess.run(command, capture_output=True).returncode == 0
    wrong = [sys.executable, *[arg.replace("8222", "1") for arg in test[2:]]]
    assert subprocess.run(wrong, capture_output=True).returncode != 0


def test_alliance_certs_makes_what_each_region_mounts(tmp_path: Path) -> None:
    """Each region's folder: the CA, and a certificate for its host `nats-<region>` that its
    rendered config uses on the client and leaf ports; no region gets the CA's key."""
    from cryptography import x509

    result = subprocess.run(
        [str(BIN / "alliance"), "certs", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    keys = NatsSecrets.generate(CONTAINERS.names)
    for region in CONTAINERS.names:
        folder = tmp_path / region
        servers = (*SERVICES, "portal")  # the services' gRPC and the portal's HTTPS
        grpc_files = [f"{service}.{kind}" for service in servers for kind in ("key", "pem")]
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["ca.pem", "leaf.key", "leaf.pem", "nats.key", "nats.pem", *grpc_files]
        )
        for service in servers:
            grpc_cert = x509.load_pem_x509_certificate((folder / f"{service}.pem").read_bytes())
            san = grpc_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            assert f"{service}-{region}" in san.get_values_for_type(x509.DNSName)
        assert f"ALLIANCE_{region.upper()}_TLS_DIR={folder}" in result.stdout
        cert = x509.load_pem_x509_certificate((folder / "nats.pem").read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert f"nats-{region}" in names.get_values_for_type(x509.DNSName)
        tls = TlsFiles(
            folder / "ca.pem", folder / "nats.pem", folder / "nats.key",
            folder / "leaf.pem", folder / "leaf.key",
        )  # fmt: skip
        config = render_container_config(region, keys.region(region), tmp_path / "conf", tls)
        checked = subprocess.run(
            [str(BIN / "nats-server"), "-t", "-c", str(config)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alliance_nats_refuses_to_start_without_its_certificates(tmp_path: Path) -> None:
    env = {
        "PATH": str(BIN), "HOME": str(tmp_path),
        "ALLIANCE_NATS_SERVICE_PASSWORD": "s", "ALLIANCE_NATS_ADMIN_PASSWORD": "a",
    }  # fmt: skip
    result = subprocess.run(
        [str(BIN / "alliance"), "nats", "--region", "sh", "--config-dir", str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "_LEAF_CERT_FILE" in result.stdout + result.stderr
    assert not (tmp_path / "sh.conf").exists()


def test_observability_profile_mounts_real_files_and_scrapes_every_service(
    compose: dict[str, Any],
) -> None:
    services = observability(compose)
    assert {"prometheus", "grafana"} <= services.keys()
    for name, service in services.items():
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", service["image"]), "pin the image"
        for volume in service.get("volumes", []):
            assert (ROOT / volume.split(":")[0]).exists(), f"{name}: {volume} is missing"
    config = yaml.safe_load((ROOT / "deploy/observability/prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]}  # fmt: skip
    expected = {
        f"{name}:{s['environment'][name.split('-')[0].upper() + '_METRICS_PORT']}"
        for name, s in region_services(compose).items()
        if not name.startswith("nats-")
    }
    # every region's NATS through an exporter that reads that server's monitoring port
    for region in CONTAINERS.names:
        exporter = services[f"nats-exporter-{region}"]
        monitor = CONTAINERS.region(region).monitor_port
        assert exporter["command"][-1] == f"http://nats-{region}:{monitor}"
        expected.add(f"nats-exporter-{region}:7777")
    assert targets == expected


def test_services_export_traces_to_jaeger_only_when_asked(compose: dict[str, Any]) -> None:
    jaeger = observability(compose)["jaeger"]
    assert "16686:16686" in jaeger["ports"]  # its UI; OTLP/gRPC (4317) stays inside the network
    for name, service in region_services(compose).items():
        if name.startswith(("nats-", "portal-")):  # the portal makes no spans of its own yet
            continue
        # empty unless the operator sets it (README: ALLIANCE_OTLP_ENDPOINT=http://jaeger:4317)
        assert (
            service["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${ALLIANCE_OTLP_ENDPOINT:-}"
        )
    readme = (ROOT / "README.md").read_text()
    assert "ALLIANCE_OTLP_ENDPOINT=http://jaeger:4317" in readme


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is missing (make test installs Debian's prometheus package)")
    return found


def test_promtool_accepts_the_prometheus_config_and_alert_rules() -> None:
    folder = ROOT / "deploy/observability"
    for args in (["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"]):
        result = subprocess.run(
            [_promtool(), *args], cwd=folder, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


async def test_every_metric_the_dashboard_and_rules_use_is_exported(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """The names the rules and the dashboard query must be among a running service's."""
    from tests.test_metrics import start

    folder = ROOT / "deploy/observability"
    used = set()
    for text in (
        (folder / "alerts.yml").read_text(),
        (folder / "grafana/dashboards/alliance.json").read_text(),
    ):
        used |= set(re.findall(r"\b((?:alliance|grpc_server)_[a-z_]+)", text))
    host, _ = await start(tmp_path, nats_server.url)
    try:
        exported = _families(host.metrics_port)
    finally:
        await host.stop()
    suffixes = ("_total", "_bucket", "_count", "_sum")
    missing = {u for u in used if u not in exported and not any(
        u.endswith(x) and u.removesuffix(x) in exported for x in suffixes)}  # fmt: skip
    assert used and not missing, f"used but not exported: {sorted(missing)}"


def _families(port: int) -> set[str]:
    """The metric families a service exports, those with no sample yet included."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return {f.name for f in text_string_to_metric_families(response.read().decode())}


def test_production_profile_runs_sh_as_a_cluster_on_postgresql(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    services = compose["services"]
    sh = {n for n in production(compose) if region_of(n) == "sh"}
    replicas = {f"{s}-sh-1" for s in SERVICES} | {"sharing-sh-2", "portal-sh-1"}
    assert sh == {"nats-sh-1", "nats-sh-2", "nats-sh-3", "postgres-sh", *replicas}
    for region in ("hz", "zjg"):  # as in the other profiles, leaf-linked to sh's cluster
        assert {n for n in production(compose) if region_of(n) == region} == {
            n for n, s in services.items() if region in s.get("profiles", [])
        }
        assert services[f"nats-{region}"]["environment"]["ALLIANCE_NATS_CLUSTERS"].startswith("${")
    cluster = container_topology(CONTAINERS.names, clusters={"sh": 3})
    for i in (1, 2, 3):
        nats = services[f"nats-sh-{i}"]
        assert nats["command"] == ["alliance", "nats", "--region", "sh", "--server", str(i)]
        assert nats["environment"]["ALLIANCE_NATS_CLUSTERS"] == "sh=3"
        assert nats["environment"]["ALLIANCE_NATS_ROUTE_PASSWORD"].startswith("${")
    databases = re.findall(
        r"CREATE DATABASE (\w+);", (ROOT / "deploy/postgres/databases.sql").read_text()
    )
    for name in replicas - {"portal-sh-1"}:
        service = name.split("-")[0]
        env, prefix = services[name]["environment"], service.upper()
        assert env[f"{prefix}_NATS_URL"] == cluster.client_urls("sh")
        assert env[f"{prefix}_EVENTS_REPLICAS"] == "3"
        url = env[f"{prefix}_DATABASE_URL"]
        assert re.fullmatch(
            rf"postgresql://alliance:\$\{{ALLIANCE_SH_POSTGRES_PASSWORD:\?[^}}]+\}}@postgres-sh:5432/{service}",
            url,
        ), url
        assert service in databases
        assert services[name]["depends_on"]["postgres-sh"]["condition"] == "service_healthy"
    assert services["sharing-sh-1"]["environment"] == services["sharing-sh-2"]["environment"]
    assert services["sharing-sh-1"]["volumes"][0] != services["sharing-sh-2"]["volumes"][0]
    portal = services["portal-sh-1"]["environment"]
    assert portal["PORTAL_NATS_URL"] == cluster.client_urls("sh")
    postgres = services["postgres-sh"]
    assert re.fullmatch(r"postgres:\d+\.\d+", postgres["image"]), "pin the image"
    assert "--locale=C" in postgres["environment"]["POSTGRES_INITDB_ARGS"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    for volume in postgres["volumes"]:
        source = volume.split(":")[0]
        assert source in compose["volumes"] or (ROOT / source).exists(), volume

    # What `alliance nats` renders in each: nats-server accepts it; sh's servers route to each
    # other with the route password, hz's leaf link lists all three.
    keys = NatsSecrets.generate(CONTAINERS.names, ("acme",))
    route = keys.region("sh").route_password
    for region, server in [("sh", 0), ("sh", 1), ("sh", 2), ("hz", 0), ("zjg", 0)]:
        hosts = [f"nats-{region}", *(f"nats-{region}-{i}" for i in (1, 2, 3))]
        tls = region_tls(tmp_path / "tls", region, f"nats-{region}", hosts)
        config = render_container_config(
            region, keys.region(region), tmp_path / region, tls, clusters={"sh": 3}, server=server
        )
        result = subprocess.run(
            [str(BIN / "nats-server"), "-t", "-c", str(config)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        text = config.read_text()
        if region == "sh":
            others = [f"nats-sh-{i}" for i in (1, 2, 3) if i != server + 1]
            assert all(f"route:{route}@{host}:6222" in text for host in others), text
            assert f"server_name: alliance-sh-{server + 1}" in text
        else:
            assert route not in text, "sh's route password outside sh"
        if region == "hz":
            assert all(f"nats-leaf://nats-sh-{i}:7422" in text for i in (1, 2, 3))


def test_alliance_nats_names_a_server_only_of_a_cluster(tmp_path: Path) -> None:
    env = {
        "PATH": str(BIN), "HOME": str(tmp_path),
        "ALLIANCE_NATS_SERVICE_PASSWORD": "s" * 24, "ALLIANCE_NATS_ADMIN_PASSWORD": "a" * 24,
    }  # fmt: skip
    tls = region_tls(tmp_path / "tls", "sh", "nats-sh", ["nats-sh"])
    env |= {
        "ALLIANCE_NATS_CA_FILE": str(tls.ca), "ALLIANCE_NATS_CERT_FILE": str(tls.cert),
        "ALLIANCE_NATS_KEY_FILE": str(tls.key), "ALLIANCE_NATS_LEAF_CERT_FILE": str(tls.leaf_cert),
        "ALLIANCE_NATS_LEAF_KEY_FILE": str(tls.leaf_key),
    }  # fmt: skip
    for extra, server in [({}, "1"), ({"ALLIANCE_NATS_CLUSTERS": "sh=3"}, "4"),
                          ({"ALLIANCE_NATS_CLUSTERS": "sh=3"}, "0")]:  # fmt: skip
        result = subprocess.run(
            [str(BIN / "alliance"), "nats", "--region", "sh", "--server", server,
             "--config-dir", str(tmp_path / "out")],
            env={**env, **extra}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode != 0, (extra, server)
        assert "ALLIANCE_NATS_CLUSTERS" in result.stdout + result.stderr
        assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
