"""``Settings.from_env``: the one place the ``PLACEMAP_*`` variables are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings

BOUNDARY_ENV = ("PLACEMAP_BOUNDARIES", "PLACEMAP_CACHE_DIR", "PLACEMAP_ONS_URL")


def test_boundary_and_size_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("PLACEMAP_BOUNDARIES", str(tmp_path / "lads.geojson"))
    monkeypatch.setenv("PLACEMAP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PLACEMAP_ONS_URL", " http://mirror.example/FeatureServer ")
    monkeypatch.setenv("PLACEMAP_MAX_XML_MB", "0.5")
    s = Settings.from_env()
    assert s.boundaries == tmp_path / "lads.geojson"
    assert s.cache_dir == tmp_path / "cache"
    assert s.ons_url == "http://mirror.example/FeatureServer"
    assert s.max_xml_mb == 0.5
    # Command-line values win; None leaves the environment's.
    over = Settings.from_env(cache_dir=Path("elsewhere"), ons_url=None)
    assert over.cache_dir == Path("elsewhere") and over.ons_url == s.ons_url


def test_unset_boundary_settings_mean_the_library_defaults(monkeypatch):
    for name in (*BOUNDARY_ENV, "PLACEMAP_MAX_XML_MB"):
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert (s.boundaries, s.cache_dir, s.ons_url, s.max_xml_mb) == (None, None, None, 200.0)


@pytest.mark.parametrize("value", ["not a number", "0", "-5", ""])
def test_unusable_xml_limit_falls_back_to_200_mb(monkeypatch, value):
    monkeypatch.setenv("PLACEMAP_MAX_XML_MB", value)
    assert Settings.from_env().max_xml_mb == 200.0
