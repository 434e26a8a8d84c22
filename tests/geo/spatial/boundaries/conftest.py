"""The Kent boundaries every test module here shares, built once: the official polygons from
the UK reference file and the offline derivation (cold, into a throwaway cache)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from geo.spatial import boundaries as dist
from tests.geo.spatial.boundaries.reference import TIMINGS, uk_file


@pytest.fixture(scope="package")
def official() -> dist.Boundaries:
    return dist.read_boundaries_file(uk_file(), authority="E10000016")


@pytest.fixture(scope="package")
def derived_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("placemap-cache")


@pytest.fixture(scope="package")
def derived(derived_cache) -> dist.Boundaries:
    """Kent derived once (cold: nothing cached yet), with its time recorded."""
    started = time.perf_counter()
    b = dist.load_boundaries(authority="E10000016", source="derived", cache_dir=derived_cache)
    TIMINGS["derived cold"] = time.perf_counter() - started
    return b
