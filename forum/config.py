"""Settings, read once from the environment (``KORYU_*``)."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

__all__ = [
    "PASSWORD_HASHERS",
    "ConfigError",
    "Settings",
    "broker_url_with_channel",
    "database_channel",
    "redacted",
]

log = logging.getLogger("koryu.config")

DEFAULT_DATABASE_URL = "sqlite://var/koryu.sqlite3"
DEFAULT_UPLOADS_URL = "file://var/uploads"
# "argon2": argon2id at production cost. "fast": argon2id at the least cost argon2 allows,
# so a test suite that makes hundreds of accounts does not spend its time hashing.
PASSWORD_HASHERS = ("argon2", "fast")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, not {value}")
    return value


def _origin(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"{name}: not an http(s) origin: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def redacted(url: str) -> str:
    """A URL as it may appear in a message or a log: any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


def _database_url(env: Mapping[str, str]) -> str:
    """``KORYU_DATABASE_URL``, refused here when it cannot work, rather than deep in the ORM."""
    url = env.get("KORYU_DATABASE_URL", "") or DEFAULT_DATABASE_URL
    forms = "sqlite://PATH or postgres://USER@HOST:PORT/DATABASE"
    scheme = urlsplit(url).scheme.lower()
    if "://" not in url:
        raise ConfigError(f"KORYU_DATABASE_URL must be a URL ({forms}), not {redacted(url)!r}")
    if scheme == "sqlite":
        if not url.removeprefix("sqlite://").partition("?")[0]:
            raise ConfigError(f"KORYU_DATABASE_URL names no file: use {forms}")
        return url
    # asyncpg is the PostgreSQL driver koryu installs; psycopg is not among its dependencies.
    if scheme not in {"postgres", "postgresql", "asyncpg"}:
        raise ConfigError(
            f"KORYU_DATABASE_URL has an unsupported scheme {scheme + '://'!r}: use {forms}"
        )
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ConfigError(f"KORYU_DATABASE_URL has a bad port: {redacted(url)!r}") from None
    if not parts.hostname or not parts.path.strip("/"):
        raise ConfigError(
            f"KORYU_DATABASE_URL must name a host and a database ({forms}), not {redacted(url)!r}"
        )
    return url


def _uploads_url(env: Mapping[str, str]) -> str:
    url = env.get("KORYU_UPLOADS_URL", "") or DEFAULT_UPLOADS_URL
    parts = urlsplit(url)
    if parts.scheme == "file" and url.removeprefix("file://"):
        return url
    if parts.scheme == "s3" and parts.netloc:
        return url
    raise ConfigError(
        "KORYU_UPLOADS_URL must be file://DIRECTORY or s3://BUCKET[/PREFIX]"
        f"[?endpoint=URL&region=NAME], not {redacted(url)!r}"
    )


def _broker_url(env: Mapping[str, str]) -> str:
    url = env.get("KORYU_BROKER_URL", "") or "memory://"
    scheme = urlsplit(url).scheme.lower()
    if "://" not in url or scheme not in {"memory", "redis", "rediss"}:
        raise ConfigError(
            "KORYU_BROKER_URL must be memory:// or redis://HOST:PORT/DB (rediss:// for TLS), "
            f"not {redacted(url)!r}"
        )
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = "memory://"
    secret_key: str = field(default="", repr=False)
    site_url: str = "http://127.0.0.1:8000"
    allowed_origins: frozenset[str] = frozenset()
    production: bool = False
    registration_open: bool = True
    data_dir: Path = Path("var")
    max_body_bytes: int = 1_000_000
    session_days: int = 30
    token_days: int = 90
    login_attempts_per_minute: int = 10
    # Sign-ups from one address in an hour. A venue where everyone registers through one
    # NAT'd address needs more; each step up lets a spammer make that many accounts too.
    registrations_per_hour_per_ip: int = 10
    join_registrations_per_hour: int = 500
    posts_per_minute: int = 10
    event_retention_days: int = 30
    secure_cookies: bool = False
    ws_connections_per_ip: int = 50
    # Mail is off unless set: smtp://host:port?from=koryu@example.jp (forum.mail).
    smtp_url: str = field(default="", repr=False)
    password_hasher: str = "argon2"  # noqa: S105 (a hasher's name, not a password)
    # Attachments (uploads/): where they are kept, and how much one person may send.
    uploads_url: str = DEFAULT_UPLOADS_URL
    upload_max_bytes: int = 20_000_000
    uploads_per_post: int = 10
    uploads_per_day: int = 100
    upload_bytes_per_day: int = 200_000_000
    # A rejected or deleted post's files are kept this long (an appeal may bring it back);
    # a file uploaded and never posted, this many hours.
    upload_retention_days: int = 30
    upload_orphan_hours: int = 24

    def __post_init__(self) -> None:
        if self.password_hasher not in PASSWORD_HASHERS:
            raise ConfigError(
                f"KORYU_PASSWORD_HASHER must be one of {', '.join(PASSWORD_HASHERS)}, "
                f"not {self.password_hasher!r}"
            )
        if self.production and self.password_hasher == "fast":  # noqa: S105
            raise ConfigError(
                "KORYU_PASSWORD_HASHER=fast is for test suites only and is refused "
                "when KORYU_ENV=production"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        production = env.get("KORYU_ENV", "development").strip().lower() == "production"
        data_dir = Path(env.get("KORYU_DATA_DIR", "var"))
        site_url = _origin("KORYU_SITE_URL", env.get("KORYU_SITE_URL", "http://127.0.0.1:8000"))
        origins = {site_url}
        for item in env.get("KORYU_ALLOWED_ORIGINS", "").split(","):
            if item.strip():
                origins.add(_origin("KORYU_ALLOWED_ORIGINS", item.strip()))
        database_url = _database_url(env)
        broker_url = _broker_url(env)
        secret = env.get("KORYU_SECRET_KEY", "")
        if not secret:
            if production:
                raise ConfigError("KORYU_SECRET_KEY must be set when KORYU_ENV=production")
            secret = _local_secret(data_dir)
        return cls(
            database_url=database_url,
            broker_url=broker_url,
            secret_key=secret,
            site_url=site_url,
            allowed_origins=frozenset(origins),
            production=production,
            registration_open=_bool(env, "KORYU_REGISTRATION_OPEN", True),
            data_dir=data_dir,
            max_body_bytes=_int(env, "KORYU_MAX_BODY_BYTES", 1_000_000),
            session_days=_int(env, "KORYU_SESSION_DAYS", 30),
            token_days=_positive(env, "KORYU_TOKEN_DAYS", 90),
            login_attempts_per_minute=_int(env, "KORYU_LOGIN_ATTEMPTS_PER_MINUTE", 10),
            registrations_per_hour_per_ip=_positive(env, "KORYU_REGISTRATIONS_PER_HOUR_PER_IP", 10),
            join_registrations_per_hour=_positive(env, "KORYU_JOIN_REGISTRATIONS_PER_HOUR", 500),
            posts_per_minute=_int(env, "KORYU_POSTS_PER_MINUTE", 10),
            event_retention_days=_int(env, "KORYU_EVENT_RETENTION_DAYS", 30),
            secure_cookies=_bool(env, "KORYU_SECURE_COOKIES", site_url.startswith("https:")),
            ws_connections_per_ip=_positive(env, "KORYU_WS_CONNECTIONS_PER_IP", 50),
            smtp_url=env.get("KORYU_SMTP_URL", "").strip(),
            password_hasher=env.get("KORYU_PASSWORD_HASHER", "argon2").strip().lower() or "argon2",
            uploads_url=_uploads_url(env),
            upload_max_bytes=_positive(env, "KORYU_UPLOAD_MAX_BYTES", 20_000_000),
            uploads_per_post=_positive(env, "KORYU_UPLOADS_PER_POST", 10),
            uploads_per_day=_positive(env, "KORYU_UPLOADS_PER_DAY", 100),
            upload_bytes_per_day=_positive(env, "KORYU_UPLOAD_BYTES_PER_DAY", 200_000_000),
            upload_retention_days=_positive(env, "KORYU_UPLOAD_RETENTION_DAYS", 30),
            upload_orphan_hours=_positive(env, "KORYU_UPLOAD_ORPHAN_HOURS", 24),
        )

    def tortoise_config(self) -> dict[str, object]:
        return tortoise_config(self.database_url)

    @property
    def realtime_broker_url(self) -> str:
        """``broker_url``, for a Redis broker with its pub/sub channel always named.

        Without ``?channel=`` the channel is ``database_channel(database_url)``: the
        processes of one site share its database and so agree on the channel, and sites
        (or test runs) with different databases never receive each other's events.
        """
        return broker_url_with_channel(self.broker_url, self.database_url)


_POSTGRES_SCHEMES = {"postgres", "postgresql", "asyncpg", "psycopg"}


def _database_identity(database_url: str) -> str:
    """The database a URL points at, spelled one way: no password, no driver options."""
    parts = urlsplit(database_url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = database_url.removeprefix("sqlite://").partition("?")[0]
        if path != ":memory:":
            path = str(Path(path).resolve())
        return f"sqlite:{path}"
    if scheme in _POSTGRES_SCHEMES:
        scheme = "postgres"
    host = (parts.hostname or "").lower()
    port = parts.port or (5432 if scheme == "postgres" else None)
    user = unquote_plus(parts.username or "")
    return f"{scheme}://{user}@{host}:{port or ''}{parts.path}"


def database_channel(database_url: str) -> str:
    """The default Redis pub/sub channel: ``koryu:`` and a short hash of the database."""
    digest = hashlib.sha256(_database_identity(database_url).encode()).hexdigest()
    return f"koryu:{digest[:16]}"


def broker_url_with_channel(broker_url: str, database_url: str) -> str:
    """A ``redis://`` or ``rediss://`` URL gets ``channel=`` unless it names one already."""
    parts = urlsplit(broker_url)
    if parts.scheme not in {"redis", "rediss"}:
        return broker_url
    keys = {unquote_plus(item.partition("=")[0]) for item in parts.query.split("&") if item}
    if "channel" in keys:
        return broker_url
    added = "channel=" + quote(database_channel(database_url), safe=":")
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


def tortoise_config(database_url: str) -> dict[str, object]:
    if database_url.startswith("sqlite://") and not database_url.startswith("sqlite://:memory:"):
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": ["forum.models", "moderation.models", "live.models", "uploads.models"],
                "migrations": "forum.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _local_secret(data_dir: Path) -> str:
    """Development convenience: make a key once and keep it, so sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    log.warning("KORYU_SECRET_KEY is not set: generated one and kept it in %s", path)
    return key
