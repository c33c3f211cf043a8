"""Settings: the run mode follows what is configured; secrets are checked before start."""

from __future__ import annotations

from pathlib import Path

import pytest

from mochung.settings import Settings, SettingsError, load_settings


def build(tmp_path: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **values)  # type: ignore[call-arg]


def test_nothing_configured_is_embedded_on_sqlite(tmp_path: Path) -> None:
    settings = build(tmp_path)
    assert settings.mode == "embedded"
    assert settings.resolved_database_url == f"sqlite://{tmp_path}/mochung.sqlite3"
    assert settings.port == 3002
    assert settings.payments_sandbox and not settings.uses_s3 and settings.llm == "offline"


def test_embedded_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = build(tmp_path).jwt_key()
    assert len(first) >= 32
    assert build(tmp_path).jwt_key() == first
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "values",
    [{"redis_url": "redis://localhost:6379/0"}, {"database_url": "postgres://postgres@localhost/db"}],
)
def test_distributed_mode_requires_a_secret(tmp_path: Path, values: dict) -> None:
    settings = build(tmp_path, **values)
    assert settings.mode == "distributed"
    with pytest.raises(SettingsError, match="MOCHUNG_JWT_SECRET is required"):
        settings.jwt_key()


@pytest.mark.parametrize("secret", ["secret", "changeme", "short-but-not-weak-list", "x" * 31])
def test_weak_secrets_are_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(SettingsError, match="too weak"):
        build(tmp_path, redis_url="redis://x", jwt_secret=secret).jwt_key()


def test_environment_variables_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCHUNG_PORT", "4000")
    monkeypatch.setenv("MOCHUNG_CORS_ORIGINS", "https://mochung.kr, https://www.mochung.kr")
    settings = build(tmp_path)
    assert settings.port == 4000
    assert settings.cors_origins == ["https://mochung.kr", "https://www.mochung.kr"]


def test_database_label_hides_credentials(tmp_path: Path) -> None:
    settings = build(tmp_path, database_url="postgres://mochung:s3cret@db.internal:5432/mochung?ssl=true")
    assert settings.database_label == "postgres://db.internal:5432/mochung"


def test_a_renamed_setting_is_refused_with_its_new_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCHUNG_WORKER_THREADS", "8")
    with pytest.raises(SettingsError, match="set MOCHUNG_WORKER_CONCURRENCY instead"):
        load_settings()
