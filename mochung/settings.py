"""Every setting of mochung, read from ``MOCHUNG_*`` environment variables and ``.env``.

There is no module-level instance: entry points call :func:`load_settings` and pass the
result down. The run mode is derived from what is configured, never set by hand:
nothing configured means *embedded* (SQLite, in-process broker and bus, local files,
offline model); a Redis URL or a non-SQLite database means *distributed*.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

WEAK_SECRETS = frozenset(
    {"secret", "changeme", "change-me", "jwt-secret", "your-secret-key", "supersecret", "mochung", "test"}
)
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A configuration that cannot start; the message says what to change."""


class PlanSetting(BaseModel):
    id: str
    name: str
    amount: int = Field(gt=0)
    currency: str = "KRW"


DEFAULT_PLANS = [
    PlanSetting(id="basic", name="기본 (Basic)", amount=9900),
    PlanSetting(id="premium", name="프리미엄 (Premium)", amount=29900),
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOCHUNG_", env_file=".env", extra="ignore")

    # where embedded state lives: the SQLite file, the generated JWT secret, local files
    data_dir: Path = Path(".mochung")
    database_url: str | None = None
    redis_url: str | None = None
    # connections one web process keeps to Redis at most; a call finding them all busy
    # waits (up to 10 s) for one rather than failing
    redis_max_connections: int = Field(default=256, gt=0, le=10_000)

    host: str = "127.0.0.1"
    port: int = 3002
    public_url: str | None = None  # how clients reach this server; default http://{host}:{port}
    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:3001", "http://localhost:3000"]
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    jwt_secret: SecretStr | None = None
    jwt_expires_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    # argon2 hashes and checks run in this many threads, never on an event loop
    password_hash_threads: int = Field(default=2, gt=0, le=64)
    login_max_attempts: int = Field(default=10, gt=0)  # per email and IP, per window
    login_window_seconds: int = Field(default=300, gt=0)
    login_email_max_attempts: int = Field(default=100, gt=0)  # per email from anywhere, per email window
    login_email_window_seconds: int = Field(default=3600, gt=0)
    login_ip_max_attempts: int = Field(default=300, gt=0)  # per IP whatever the email (shared NATs), per window
    registrations_per_hour: int = Field(default=20, gt=0)  # per IP
    require_invitation: bool = False
    invitation_validate_per_minute: int = Field(default=30, gt=0)

    # guests (RSVP, guestbook, link previews)
    frontend_url: str = "http://localhost:3001"  # where the Next.js frontend serves pages
    frontend_page_path: str = Field(default="/{slug}", pattern=r"^/.*\{slug\}")  # a page's path there
    guest_writes_per_visitor: int = Field(default=10, gt=0)  # RSVP and guestbook writes per visitor…
    guest_writes_per_ip: int = Field(default=1000, gt=0)  # …and per IP (guests share a venue's Wi-Fi)
    guest_write_window_seconds: int = Field(default=600, gt=0)  # …in this window

    # files
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    s3_bucket: str | None = None
    s3_region: str = "ap-northeast-2"
    s3_endpoint_url: str | None = None
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_public_base_url: str | None = None  # unset: presigned GET URLs
    s3_presign_seconds: int = Field(default=3600, gt=0)

    # agents
    llm: str = "offline"
    llm_timeout_seconds: float = Field(default=60.0, gt=0)
    kakao_rest_api_key: SecretStr | None = None
    kakao_base_url: str = "https://dapi.kakao.com"
    map_timeout_seconds: float = Field(default=5.0, gt=0)

    # chat
    chat_max_chars: int = Field(default=4000, gt=0)
    chat_messages_per_minute: int = Field(default=20, gt=0)
    chat_sessions_per_hour: int = Field(default=60, gt=0)  # new chat sessions (rooms) per user
    chat_history_limit: int = Field(default=20, gt=0)
    chunk_retention_seconds: int = Field(default=300, gt=0)
    # turns one worker process (or the embedded worker) runs at once on its event loop; a
    # turn mostly waits on the model, so this is sized for I/O, not for CPU cores
    worker_concurrency: int = Field(default=256, gt=0, le=4096)
    # coalescing of streamed tokens: a chunk is published at most every chunk_interval_ms
    # (the first at once), or as soon as it holds chunk_max_chars characters
    chunk_interval_ms: int = Field(default=50, ge=0, le=1000)
    chunk_max_chars: int = Field(default=400, gt=0)
    broker_heartbeat_timeout_ms: int = Field(default=60_000, gt=0)
    # prefix of the broker's Redis keys and of the Socket.IO manager's channel (parallel test runs differ)
    broker_namespace: str = Field(default="dramatiq", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    # WebSocket permessage-deflate (and gzip of polling responses): off by default, because a
    # deflate context costs ~100 KiB per socket; chat frames are small and mostly Hangul
    socketio_compression: bool = False
    socketio_admin_user: str | None = None
    socketio_admin_password: SecretStr | None = None

    # metrics (Prometheus): GET /metrics on web processes and a port per worker process,
    # each answering only with "Authorization: Bearer <metrics_token>"; unset: not served
    metrics_token: SecretStr | None = None
    metrics_host: str = "127.0.0.1"  # where worker processes serve their metrics
    worker_metrics_port: int | None = Field(default=None, gt=0, lt=65536)  # worker i serves on this port + i

    # payments
    portone_api: Literal["v2", "v1"] = "v2"
    portone_base_url: str | None = None  # unset with no keys: the embedded sandbox
    portone_store_id: str | None = None
    portone_api_secret: SecretStr | None = None  # V2
    portone_imp_key: str | None = None  # V1
    portone_imp_secret: SecretStr | None = None  # V1
    portone_webhook_secret: SecretStr | None = None
    portone_timeout_seconds: float = Field(default=10.0, gt=0)
    plans: list[PlanSetting] = Field(default_factory=lambda: list(DEFAULT_PLANS))

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'mochung.sqlite3').as_posix()}"

    @property
    def database_label(self) -> str:
        """The database URL without credentials or query: safe for logs and terminals."""
        url = self.resolved_database_url.split("?", 1)[0]
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rsplit('@', 1)[-1]}"

    @property
    def uses_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def distributed(self) -> bool:
        return self.redis_url is not None or not self.uses_sqlite

    @property
    def mode(self) -> str:
        return "distributed" if self.distributed else "embedded"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "127.0.0.1") else self.host
        return f"http://{host}:{self.port}"

    def frontend_page_url(self, slug: str) -> str:
        """The frontend's address of a page (link previews send browsers there)."""
        return self.frontend_url.rstrip("/") + self.frontend_page_path.replace("{slug}", slug)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def uses_s3(self) -> bool:
        return self.s3_bucket is not None

    @property
    def payments_sandbox(self) -> bool:
        has_keys = self.portone_api_secret is not None or self.portone_imp_key is not None
        return not has_keys and self.portone_base_url is None

    def plan(self, plan_id: str) -> PlanSetting | None:
        return next((plan for plan in self.plans if plan.id == plan_id), None)

    def jwt_key(self) -> str:
        """The signing secret, checked for strength; generated once in embedded mode."""
        if self.jwt_secret is not None:
            value = self.jwt_secret.get_secret_value()
            if len(value) < MIN_SECRET_LENGTH or value.lower() in WEAK_SECRETS:
                raise SettingsError(
                    f"MOCHUNG_JWT_SECRET is too weak: use at least {MIN_SECRET_LENGTH} random characters "
                    '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
            return value
        if self.distributed:
            raise SettingsError(
                "MOCHUNG_JWT_SECRET is required in distributed mode: every web and worker process must "
                "share it. Set it to at least 32 random characters."
            )
        return _embedded_secret(self.data_dir / "jwt-secret")


def _embedded_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the data folder: only its owner
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


# Settings that were renamed: an operator who still sets the old one is told, not ignored.
RENAMED = {"MOCHUNG_WORKER_THREADS": "MOCHUNG_WORKER_CONCURRENCY"}


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, with explicit overrides (tests, CLI options);
    pydantic validates each override like the environment's value."""
    for old, new in RENAMED.items():
        if old in os.environ:
            raise SettingsError(f"{old} is no longer read: set {new} instead")
    return Settings(**overrides)
