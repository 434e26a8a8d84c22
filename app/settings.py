"""Runtime configuration from ``PLACEMAP_*`` environment variables (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from geo.spatial import DEFAULT_AUTHORITY
from geo.ssda903 import DEFAULT_MAX_MB


def _path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in {"1", "true", "yes", "on"}


def _positive(name: str, default: float) -> float:
    """A positive number; ``default`` when unset, not a number, or zero or less."""
    value = os.environ.get(name, "").strip()
    try:
        number = float(value) if value else default
    except ValueError:
        return default
    return number if number > 0 else default


# Sign-in options, read into ``Settings.extra`` (used by app.auth.sessions.AuthConfig).
AUTH_ENV = {
    "users_file": "PLACEMAP_USERS_FILE",
    "audit_log": "PLACEMAP_AUDIT_LOG",
    "idle_minutes": "PLACEMAP_IDLE_MINUTES",
    "trusted_user_header": "PLACEMAP_TRUSTED_USER_HEADER",
    "trusted_proxies": "PLACEMAP_TRUSTED_PROXIES",
    "cookie_secure": "PLACEMAP_COOKIE_SECURE",
    "allowed_hosts": "PLACEMAP_ALLOWED_HOSTS",
    "local_token": "PLACEMAP_LOCAL_TOKEN",
    "audit_key": "PLACEMAP_AUDIT_KEY",
    "audit_key_file": "PLACEMAP_AUDIT_KEY_FILE",
}


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start. ``from_env()`` reads the ``PLACEMAP_*`` variables."""

    authority: str = DEFAULT_AUTHORITY
    data_dir: Path | None = None  # SSDA903 files (+ carers.csv); None = the synthetic demo
    boundaries: Path | None = None  # user boundary file; None = ONS cache or offline derivation
    cache_dir: Path | None = None  # None = platformdirs user cache (demo, boundaries)
    ons_url: str | None = None  # ONS boundary FeatureServer (a mirror); None = the ONS service
    max_xml_mb: float = DEFAULT_MAX_MB  # largest XML return / unpacked workbook read, in MB
    upload_dir: Path | None = None
    basemap: str = "none"  # "none" (offline, blank style) or "carto" (OpenStreetMap/Carto tiles)
    secret_key: str | None = None
    production: bool = False
    max_upload_mb: int = 20
    max_upload_rows: int = 200_000  # rows per uploaded CSV (a workbook: 250 bytes per row)
    max_datasets: int = 4  # uploaded datasets kept in each worker's memory (LRU)
    host: str = "127.0.0.1"  # placemap serve
    port: int = 8050
    workers: int = 2  # gunicorn workers with --production
    threads: int = 4  # threads per worker
    extra: dict[str, str] = field(default_factory=dict)  # sign-in options (AUTH_ENV keys)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "authority": os.environ.get("PLACEMAP_AUTHORITY", DEFAULT_AUTHORITY),
            "data_dir": _path("PLACEMAP_DATA_DIR"),
            "boundaries": _path("PLACEMAP_BOUNDARIES"),
            "cache_dir": _path("PLACEMAP_CACHE_DIR"),
            "ons_url": os.environ.get("PLACEMAP_ONS_URL", "").strip() or None,
            "max_xml_mb": _positive("PLACEMAP_MAX_XML_MB", DEFAULT_MAX_MB),
            "upload_dir": _path("PLACEMAP_UPLOAD_DIR"),
            "basemap": os.environ.get("PLACEMAP_BASEMAP", "none").strip().lower() or "none",
            "secret_key": os.environ.get("PLACEMAP_SECRET_KEY") or None,
            "production": _flag("PLACEMAP_PRODUCTION"),
            "max_upload_mb": int(os.environ.get("PLACEMAP_MAX_UPLOAD_MB", "20")),
            "max_upload_rows": int(_positive("PLACEMAP_MAX_UPLOAD_ROWS", 200_000)),
            "max_datasets": int(_positive("PLACEMAP_MAX_DATASETS", 4)),
            "host": os.environ.get("PLACEMAP_HOST", "").strip() or "127.0.0.1",
            "port": int(os.environ.get("PLACEMAP_PORT", "").strip() or 8050),
            "workers": int(os.environ.get("PLACEMAP_WORKERS", "").strip() or 2),
            "threads": int(os.environ.get("PLACEMAP_THREADS", "").strip() or 4),
            "extra": {
                k: v for k, env in AUTH_ENV.items() if (v := os.environ.get(env, "").strip())
            },
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
