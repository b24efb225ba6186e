"""The project's contracts: protos lint clean, generated code is fresh, services stay independent,
and configuration errors name the variable to fix."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

import pytest
from yrd_alliance.kernel.settings import ConfigError, load_settings
from yrd_alliance.membership.app import MembershipSettings
from yrd_alliance.sharing.app import SharingSettings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_buf_lint_is_clean() -> None:
    result = subprocess.run(
        [str(BIN / "buf"), "lint"], cwd=ROOT / "protos", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "protos" / "generate.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    fresh = sorted(
        p.relative_to(tmp_path) for p in (tmp_path / "alliance").rglob("*") if p.is_file()
    )
    committed = sorted(
        p.relative_to(ROOT / "services")
        for p in (ROOT / "services" / "alliance").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert fresh == committed, "run `make protos`: the set of generated files changed"
    stale = [
        str(p) for p in fresh if not filecmp.cmp(tmp_path / p, ROOT / "services" / p, shallow=False)
    ]
    assert not stale, f"run `make protos`: stale generated files {stale}"


def test_services_never_import_each_other() -> None:
    result = subprocess.run([str(BIN / "lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_config_error_names_each_bad_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBERSHIP_REGION", "Shanghai!")
    monkeypatch.setenv("MEMBERSHIP_GRPC_PORT", "not-a-port")
    monkeypatch.setenv("MEMBERSHIP_TOKEN_MAX_HOURS", '{"partner": -1}')
    monkeypatch.setenv("MEMBERSHIP_DATABASE_URL", "mysql://alliance@db/membership")
    monkeypatch.setenv("MEMBERSHIP_EVENTS_REPLICAS", "7")
    monkeypatch.delenv("MEMBERSHIP_DB_PATH", raising=False)
    with pytest.raises(ConfigError) as caught:
        load_settings(MembershipSettings)
    message = str(caught.value.code)
    for variable in (
        "MEMBERSHIP_REGION",
        "MEMBERSHIP_GRPC_PORT",
        "MEMBERSHIP_TOKEN_MAX_HOURS",
        "MEMBERSHIP_DATABASE_URL",
        "MEMBERSHIP_EVENTS_REPLICAS",
        "MEMBERSHIP_DB_PATH",
    ):
        assert variable in message, message


@pytest.mark.parametrize("processes", ["0", "17", "two"])
def test_search_processes_outside_one_to_sixteen_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, processes: str
) -> None:
    monkeypatch.setenv("SHARING_REGION", "sh")
    monkeypatch.setenv("SHARING_DB_PATH", str(tmp_path / "sharing.db"))
    monkeypatch.setenv("SHARING_JWKS_FILE", str(tmp_path / "jwks.json"))
    monkeypatch.setenv("SHARING_PLAINTEXT", "true")
    for accepted in ("1", "16"):
        monkeypatch.setenv("SHARING_SEARCH_PROCESSES", accepted)
        assert load_settings(SharingSettings).search_processes == int(accepted)
    monkeypatch.setenv("SHARING_SEARCH_PROCESSES", processes)
    with pytest.raises(ConfigError) as caught:
        load_settings(SharingSettings)
    assert "SHARING_SEARCH_PROCESSES" in str(caught.value.code)


def test_service_refuses_to_start_without_configuration(tmp_path: Path) -> None:
    env = {"PATH": str(BIN), "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(BIN / "alliance-membership")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "MEMBERSHIP_REGION" in result.stderr and "Traceback" not in result.stderr
