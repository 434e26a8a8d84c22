"""The data every case runs on: the synthetic Kent and national demos, prepared once per run.

Both demos come from :func:`geo.demo.demo_dataset` (real ONSPD postcodes, no real person)
and go through the project's own readers (``read_placements``, ``analyse``, ``read_carers``), as
``placemap coverage`` does. In ``--quick`` mode there is no national demo (generating it takes
half a minute): the "national" cases then run on the Kent demo and say so in their size column.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.timing import seconds
from geo.coverage import Demand, Sites, Supply, demand_from_analysis, supply_from_register
from geo.demo import DemoData, demo_dataset, write_demo
from geo.measures.analysis import Analysis, analyse
from geo.spatial.authority import Authority
from geo.ssda903 import read_placements
from geo.ssda903.carers import CarersRegister, read_carers


@dataclass(frozen=True, eq=False)
class Points:
    """EPSG:27700 metres of a set of points (children's homes or carers)."""

    easting_m: np.ndarray
    northing_m: np.ndarray

    def __len__(self) -> int:
        return len(self.easting_m)

    def take(self, idx: np.ndarray) -> Points:
        return Points(self.easting_m[idx], self.northing_m[idx])


@dataclass(frozen=True, eq=False)
class Scale:
    """One demo, read and analysed: the inputs of the cases at Kent or national scale.

    ``children``: every child in the census with a home location in England; ``carers``: every
    located carer in the register (the "carers within 20 miles of every child" case).
    ``demand``/``supply``: the headline cohort and the supplying carers (the coverage model's
    inputs, as ``placemap coverage`` builds them). ``label`` names the data in tables.
    """

    name: str
    label: str
    folder: Path
    demo: DemoData
    as_at: date
    analysis: Analysis
    register: CarersRegister
    demand: Demand
    supply: Supply
    children: Points
    carers: Points
    prepare_s: dict[str, float] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, Path]:
        return {
            "episodes": self.folder / "episodes.csv",
            "header": self.folder / "header.csv",
            "uasc": self.folder / "uasc.csv",
            "carers": self.folder / "carers.csv",
        }


def prepare(
    name: str, folder: Path, authority: Authority, *, demo: DemoData | None = None
) -> Scale:
    """Generate (unless ``demo`` is given) and write the ``name`` demo into ``folder``, then read
    and analyse it with the project's readers."""
    timings: dict[str, float] = {}
    if demo is None:
        timings["generate"], demo = seconds(lambda: demo_dataset(scale=name))
    timings["write"], _ = seconds(lambda: write_demo(folder, demo))
    files = {k: folder / f"{k}.csv" for k in ("episodes", "header", "uasc", "carers")}
    timings["read_placements"], data = seconds(
        lambda: read_placements(files["episodes"], header=files["header"], uasc=files["uasc"])
    )
    timings["analyse"], analysis = seconds(lambda: analyse(data, authority, as_at=demo.as_at))
    timings["read_carers"], register = seconds(
        lambda: read_carers(files["carers"], as_at=analysis.as_at)
    )
    demand, _ = demand_from_analysis(analysis)
    supply = supply_from_register(register)
    p = analysis.placements
    home_e = p["home_easting_m"].to_numpy(dtype=float)
    home_n = p["home_northing_m"].to_numpy(dtype=float)
    english = p["home_district_code"].astype("string").str.startswith("E").fillna(False)
    ok = np.isfinite(home_e) & np.isfinite(home_n) & english.to_numpy(dtype=bool)
    c = register.carers
    located = c["located"].to_numpy(dtype=bool)
    return Scale(
        name=name,
        label=name,
        folder=folder,
        demo=demo,
        as_at=analysis.as_at,
        analysis=analysis,
        register=register,
        demand=demand,
        supply=supply,
        children=Points(home_e[ok], home_n[ok]),
        carers=Points(
            c["easting_m"].to_numpy(dtype=float)[located],
            c["northing_m"].to_numpy(dtype=float)[located],
        ),
        prepare_s=timings,
    )


def standing_in(kent: Scale) -> Scale:
    """The Kent demo standing in for the national one (``--quick``), labelled as such."""
    return replace(kent, name="national", label="national (quick: Kent demo)")


def english_sites() -> Sites:
    """Candidate recruitment sites for the whole of England: every English postcode sector
    centroid (ONSPD), as :func:`geo.coverage.recruitment.candidate_sites` gives them for one authority."""
    from geo.spatial import postcodes as pc
    from geo.spatial.areas import sector_centroids

    codes = pc.all_postcodes()["district_code"].dropna().astype(str).unique()
    english = sorted(c for c in codes if c.startswith("E"))
    table = sector_centroids(english)
    return Sites(
        site_id=table["sector"].to_numpy(dtype=object),
        easting_m=table["easting_m"].to_numpy(dtype=float),
        northing_m=table["northing_m"].to_numpy(dtype=float),
        district_code=table["district_code"].to_numpy(dtype=object),
    )


def demo_sites(scale: Scale) -> Sites:
    """Postcode sectors where the demo's children live, at the mean of their homes: a cheap
    stand-in for :func:`geo.coverage.recruitment.candidate_sites` in ``--quick`` runs (which reads every
    ONSPD letter file first)."""
    d = scale.demand
    frame = pd.DataFrame(
        {"sector": d.sector, "e": d.easting_m, "n": d.northing_m, "district": d.district_code}
    )
    g = frame[frame["sector"] != ""].groupby("sector", sort=True)
    return Sites(
        site_id=np.asarray(list(g.groups), dtype=object),
        easting_m=g["e"].mean().to_numpy(dtype=float),
        northing_m=g["n"].mean().to_numpy(dtype=float),
        district_code=g["district"].first().to_numpy(dtype=object),
    )


def episodes_subset(demo: DemoData, *, episodes: int, seed: int = 0) -> DemoData:
    """Whole children of ``demo`` (all their episodes, header and UASC rows) drawn at random
    until about ``episodes`` episodes are taken: a smaller, still consistent SSDA903 return."""
    ep = demo.episodes
    counts = ep.groupby("CHILD", sort=False).size()
    order = np.random.default_rng(seed).permutation(len(counts))
    cum = np.cumsum(counts.to_numpy()[order])
    k = int(np.searchsorted(cum, episodes)) + 1
    keep = set(counts.index[order[:k]])
    return DemoData(
        scale=demo.scale,
        seed=demo.seed,
        as_at=demo.as_at,
        messy=False,
        episodes=ep[ep["CHILD"].isin(keep)].reset_index(drop=True),
        header=demo.header[demo.header["CHILD"].isin(keep)].reset_index(drop=True),
        uasc=demo.uasc[demo.uasc["CHILD"].isin(keep)].reset_index(drop=True),
        carers=demo.carers,
        faults=demo.faults,
        readme=demo.readme,
    )


def postcode_pairs(demo: DemoData, *, n: int, seed: int = 0) -> tuple[pd.Series, pd.Series]:
    """``n`` home → placement postcode pairs drawn (with replacement) from ``demo``'s episodes,
    about 5 % of them respelt (lower case, no space, extra spaces) as real extracts are."""
    rng = np.random.default_rng(seed)
    ep = demo.episodes
    idx = rng.integers(0, len(ep), n)
    home = ep["HOME_POST"].to_numpy(dtype=object)[idx]
    placement = ep["PL_POST"].to_numpy(dtype=object)[idx]
    for col in (home, placement):
        pick = np.flatnonzero(rng.random(n) < 0.05)
        for i, style in zip(pick, rng.integers(0, 3, len(pick)), strict=True):
            v = col[i]
            if isinstance(v, str):
                col[i] = (v.lower(), v.replace(" ", ""), f"  {v} ")[style]
    return pd.Series(home, dtype="str"), pd.Series(placement, dtype="str")
