"""A certificate authority of one deployment and the NATS servers' certificates it signs: made
once by `make run` (under var/local/tls, never committed) and by the tests, with the
`cryptography` package; a deployment brings its own or makes them with `alliance certs`."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yrd_alliance.deployment.nats_auth import ORGANIZATION, leaf_user
from yrd_alliance.deployment.nats_secrets import TlsFiles

VALID_FOR = datetime.timedelta(days=825)
LOCAL_HOSTS = ["127.0.0.1", "localhost"]
_SERVER_AND_CLIENT = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.touch(mode=0o600)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        ]
    )


def certificate_authority(folder: Path) -> tuple[Path, Path]:
    """The CA's certificate and key in `folder`, made on first use."""
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "ca.pem", folder / "ca.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("alliance local CA"))
        .issuer_name(_name("alliance local CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_USAGE, critical=True)
        .sign(key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_certificate(folder: Path, name: str, hosts: list[str]) -> TlsFiles:
    """A certificate for `hosts` (names or IP addresses) signed by the folder's CA, made on
    first use; it serves both as a server's and as a leaf remote's certificate."""
    ca_path, ca_key_path = certificate_authority(folder)
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    files = TlsFiles(ca=ca_path, cert=cert_path, key=key_path)
    if cert_path.exists() and key_path.exists():
        return files
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(key_path, key)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def service_certificate(folder: Path, service: str, region: str) -> TlsFiles:
    """The gRPC certificate of one service of one region on this host (127.0.0.1, localhost)."""
    return server_certificate(folder, f"grpc-{service}-{region}", LOCAL_HOSTS)


def region_tls(folder: Path, region: str, server: str, hosts: list[str]) -> TlsFiles:
    """A region's server certificate (`server`, for `hosts`) and its leaf certificate, whose
    subject the other regions' listeners map to a user (deployment.nats_auth.leaf_subject)."""
    files = server_certificate(folder, server, hosts)
    leaf = server_certificate(folder, leaf_user(region), [leaf_user(region)])
    return TlsFiles(files.ca, files.cert, files.key, leaf.cert, leaf.key)


def deployment_certificates(
    out: Path, regions: list[str], services: tuple[str, ...] = ()
) -> list[Path]:
    """For docker-compose.yml: `out/<region>/` holds the CA certificate, that region's NATS
    certificate and key (for the host `nats-<region>`, and `nats-<region>-1` to `-3`, the
    servers of the region run as a cluster), its leaf certificate and key, and each
    service's gRPC certificate and key (`<service>.pem`, for the host `<service>-<region>`,
    its replicas `<service>-<region>-1` and `-2`, localhost and 127.0.0.1, so the healthcheck
    verifies it too); the CA's key stays in `out/` alone, so a region's folder lets nobody sign
    another's certificate."""
    folders = []
    for region in regions:
        hosts = [f"nats-{region}", *(f"nats-{region}-{i}" for i in (1, 2, 3)), "localhost"]
        files = region_tls(out, region, f"nats-{region}", hosts)
        folder = out / region
        folder.mkdir(parents=True, exist_ok=True)
        copies = {
            "ca.pem": files.ca,
            "nats.pem": files.cert,
            "nats.key": files.key,
            "leaf.pem": files.leaf_cert,
            "leaf.key": files.leaf_key,
        }
        for service in services:
            host = f"{service}-{region}"
            replicas = [f"{host}-1", f"{host}-2"]  # the production profile's replicas
            grpc_files = server_certificate(out, f"grpc-{host}", [host, *replicas, *LOCAL_HOSTS])
            copies[f"{service}.pem"] = grpc_files.cert
            copies[f"{service}.key"] = grpc_files.key
        for target, source in copies.items():
            assert source is not None
            (folder / target).write_bytes(source.read_bytes())
            if target.endswith(".key"):
                (folder / target).chmod(0o640)
        folders.append(folder)
    return folders
