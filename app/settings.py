"""Runtime configuration from ``PLACEMAP_*`` environment variables (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from geo.spatial.authority import DEFAULT_AUTHORITY


def _path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start. ``from_env()`` reads the ``PLACEMAP_*`` variables."""

    authority: str = DEFAULT_AUTHORITY
    data_dir: Path | None = None  # SSDA903 files (+ carers.csv); None = the synthetic demo
    boundaries: Path | None = None  # user boundary file; None = ONS cache or offline derivation
    cache_dir: Path | None = None
    upload_dir: Path | None = None
    basemap: str = "none"  # "none" (offline, blank style) or "carto" (OpenStreetMap/Carto tiles)
    secret_key: str | None = None
    production: bool = False
    max_upload_mb: int = 20
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "authority": os.environ.get("PLACEMAP_AUTHORITY", DEFAULT_AUTHORITY),
            "data_dir": _path("PLACEMAP_DATA_DIR"),
            "boundaries": _path("PLACEMAP_BOUNDARIES"),
            "cache_dir": _path("PLACEMAP_CACHE_DIR"),
            "upload_dir": _path("PLACEMAP_UPLOAD_DIR"),
            "basemap": os.environ.get("PLACEMAP_BASEMAP", "none").strip().lower() or "none",
            "secret_key": os.environ.get("PLACEMAP_SECRET_KEY") or None,
            "production": _flag("PLACEMAP_PRODUCTION"),
            "max_upload_mb": int(os.environ.get("PLACEMAP_MAX_UPLOAD_MB", "20")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
