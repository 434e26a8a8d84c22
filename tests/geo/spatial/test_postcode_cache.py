"""The compact postcode cache: memory-mapped arrays in the cache folder, built once from the
postcode package, giving the very lookups the package's own files give."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.spatial import distance as dist
from geo.spatial import postcodes as pc
from geo.spatial.array_cache import load_arrays, save_arrays
from tests.conftest import REPO, shared_path


@pytest.fixture
def cache_dir(tmp_path: Path) -> Iterator[Path]:
    pc.set_cache_dir(tmp_path / "cache")
    yield tmp_path / "cache"
    pc.set_cache_dir(None)


def _package_path() -> None:
    pc.set_cache_dir(None, enabled=False)


def _frames_equal(a: pc.PostcodeFrame, b: pc.PostcodeFrame) -> None:
    pd.testing.assert_series_equal(a.postcode, b.postcode)
    np.testing.assert_array_equal(a.easting_m, b.easting_m)
    np.testing.assert_array_equal(a.northing_m, b.northing_m)
    pd.testing.assert_series_equal(a.district_code, b.district_code)
    pd.testing.assert_series_equal(a.status, b.status)


@pytest.mark.parametrize("letter", ["Z", "Y", "E"])
def test_every_postcode_of_a_letter_looks_up_the_same_from_the_cache(cache_dir, letter):
    built = pc._letter_arrays(letter)  # builds the cache
    assert isinstance(built.keys, np.memmap)
    pc.set_cache_dir(None)
    pc.set_cache_dir(cache_dir)
    mapped = pc._letter_arrays(letter)  # read back from disk
    assert isinstance(mapped.keys, np.memmap)
    compact = mapped.keys.astype(str)
    # every postcode of the letter, spelt as ONSPD does, compact and lower case
    spelt = pd.Series(
        [f"{k[:-3]} {k[-3:]}" for k in compact] + [k.lower() for k in compact[::7]],
        dtype="string",
    )
    from_cache = pc.lookup(spelt)
    table_from_cache = pc.reference_table([letter])
    _package_path()
    from_package = pc.lookup(spelt)
    _frames_equal(from_cache, from_package)
    pd.testing.assert_frame_equal(table_from_cache, pc.reference_table([letter]))
    assert (from_cache.status == "ok").mean() > 0.5


def test_validator_pairs_stay_exact_through_the_cache(cache_dir):
    f = pd.read_csv(shared_path("fixtures", "dfe_distance_pairs.csv"))
    for _ in range(2):  # building the cache, then reading it
        pc.set_cache_dir(None)
        pc.set_cache_dir(cache_dir)
        d = dist.pair_distances(f["HOME_POST"], f["PL_POST"])
        assert (d.miles == f["miles"]).all()
        assert (d.within_20 == f["within_20"]).all()
    assert len(list((cache_dir / "postcodes").iterdir())) == 1


def test_a_new_package_version_builds_a_new_cache(cache_dir, monkeypatch):
    pc._letter_arrays("Z")
    first = pc.cache_folder()
    monkeypatch.setattr(pc, "_package_version", lambda: "2099.1.1")
    pc.set_cache_dir(None)
    pc.set_cache_dir(cache_dir)
    pc._letter_arrays("Z")
    second = pc.cache_folder()
    assert first != second and "2099.1.1" in second.name
    assert (first / "Z" / "keys.npy").is_file() and (second / "Z" / "keys.npy").is_file()


def test_an_unwritable_cache_falls_back_to_the_package(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    pc.set_cache_dir(blocker)
    try:
        arrays = pc._letter_arrays("Z")
        assert len(arrays) and not isinstance(arrays.keys, np.memmap)
        assert pc.lookup(pd.Series(["ZE1 0AA"])).status.iloc[0] in {"ok", "unknown_postcode"}
    finally:
        pc.set_cache_dir(None)


def test_a_half_written_folder_is_never_read_and_is_replaced(tmp_path):
    folder = tmp_path / "Z"
    folder.mkdir()
    np.save(folder / "keys.npy", np.array([b"ZE10AA"], dtype="S8"))  # no 'complete' marker
    assert load_arrays(folder, ("keys",)) is None
    assert save_arrays(folder, {"keys": np.array([b"ZE10AB"], dtype="S8")})
    got = load_arrays(folder, ("keys",))
    assert got is not None and got["keys"].tolist() == [b"ZE10AB"]
    # a whole folder already there (another process's) is kept, and still counts as written
    assert save_arrays(folder, {"keys": np.array([b"ZE10AC"], dtype="S8")})
    assert [p.name for p in tmp_path.iterdir()] == ["Z"]  # no temporary folder left


_BUILD = """
import sys
from geo.spatial import postcodes as pc
pc.set_cache_dir(sys.argv[1])
print(int(pc.lookup(__import__("pandas").Series(["ZE1 0AA", "ZE2 9AU"])).easting_m[1] > 0))
"""


def test_two_processes_building_at_once_both_get_whole_arrays(tmp_path):
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _BUILD, str(cache)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    [version] = list((cache / "postcodes").iterdir())
    assert [p.name for p in version.iterdir()] == ["Z"]  # one whole folder, no leftovers
    assert load_arrays(version / "Z", pc._FIELDS) is not None
