"""The portal refuses to start on a bad configuration, naming each bad variable, and serves
plain HTTP only when told to out loud."""

from __future__ import annotations

from pathlib import Path

import pytest
from yrd_alliance.kernel.settings import ConfigError, load_settings
from yrd_alliance.portal.settings import PortalSettings

REQUIRED = {
    "PORTAL_REGION": "hz",
    "PORTAL_MEMBERSHIP": "127.0.0.1:1",
    "PORTAL_SHARING": "127.0.0.1:2",
    "PORTAL_PAIRING": "127.0.0.1:3",
    "PORTAL_JWKS_FILE": "/etc/alliance/jwks.json",
    "PORTAL_PARTNER_TOKEN_FILE": "/etc/alliance/partner.token",
}


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> PortalSettings:
    for key, value in {**REQUIRED, **env}.items():
        monkeypatch.setenv(key, value)
    return load_settings(PortalSettings)


def test_tls_unless_plaintext_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="TLS_CERT_FILE and TLS_KEY_FILE"):
        _load(monkeypatch)
    assert not _load(monkeypatch, PORTAL_PLAINTEXT="true").https
    monkeypatch.delenv("PORTAL_PLAINTEXT")
    served = _load(monkeypatch, PORTAL_TLS_CERT_FILE="/c.pem", PORTAL_TLS_KEY_FILE="/c.key")
    assert served.https and served.tls_cert_file == Path("/c.pem")


def test_each_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(
            monkeypatch,
            PORTAL_PLAINTEXT="true",
            PORTAL_REGION="Shanghai!",
            PORTAL_SECRET="short",
            PORTAL_HTTP_PORT="99999",
        )
    message = str(refused.value)
    for variable in ("PORTAL_REGION", "PORTAL_SECRET", "PORTAL_HTTP_PORT"):
        assert variable in message, message
    monkeypatch.delenv("PORTAL_SHARING")
    with pytest.raises(ConfigError, match="PORTAL_SHARING"):
        load_settings(PortalSettings)
