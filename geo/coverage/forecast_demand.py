"""Coverage on forecast demand (issue 19): today's children scaled to the demand forecast for a
year end, run through the same coverage model, so the gap within 20 miles and the siting search
answer for the children who will need a place then.

**Scaling** (deterministic, no weights: the matching counts whole children). Each child of
today's demand (:attr:`CoverageModel.demand`, the headline cohort at home) falls in a cell
district × age band × placement kind (the forecast's states, :mod:`geo.measures.forecast`). A
cell's target is its children today × forecast / census (the forecast's expected children of
the cell at the year end over its children at the as-at census), so children whose home is not
located stay out in the same proportion; the targets are rounded to whole children by largest
remainder (ties: the first cell) so they add up to the rounded total. A cell keeps its children
in a fixed pseudo-random order (seed 0): a smaller target keeps the first ones, a larger one
repeats them in turn (each copy keeps its home, needs and age). A cell with a target but no
child today (e.g. a band the district's children age into) copies the district's children of
the same band in other kinds, else the district's children of any band, given the median age
of today's children of the band (so a carer must be approved for it). A district with no
located child today has no located child in the forecast either (both counted in
``not_located``). Children with no known age or placement kind are not in the forecast's
states: they are carried as they are (``carried``).

At horizon 0 (the as-at date) the targets are today's counts exactly, so the demand is today's
children in today's order and the gap is today's gap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo.coverage.inputs import Demand, Supply, age_band_bits, located_cohort
from geo.coverage.model import CoverageModel, PlacesBasis
from geo.coverage.recruitment import (
    SUGGESTION_COLUMNS,
    HouseholdKind,
    RecruitmentPlan,
    Sites,
    gap_by_need,
    recommend_sites,
    suggest_kind,
)
from geo.measures.forecast import KINDS, N_KINDS, N_STATES, Forecast
from geo.progress import Progress, report
from geo.spatial.authority import OUTSIDE, Authority
from geo.ssda903 import AGE_BAND_LABELS, ALL_AGES_MASK, age_band_index, format_categories

if TYPE_CHECKING:
    from geo.measures import Analysis

ORDER_SEED = 0  # the fixed order in which a cell's children are kept and repeated
ALL_KINDS = "all"
GAP_COLUMNS = [
    "years_ahead",
    "year_end",
    "district_code",
    "district_name",
    "placement_kind",
    "children",
    "gap",
]


@dataclass(frozen=True, eq=False)
class ForecastDemand:
    """Today's demand scaled to the forecast at ``year_end``.

    ``demand``: the children (copies of today's, see the module); ``kind``: each one's placement
    kind; ``source``: the index of today's child each one copies. ``carried``: children of today
    outside the forecast's states (age or kind not known), kept unchanged; ``not_located``:
    forecast children without a home location (expected value), as today's children without
    one are not in the demand.
    """

    years_ahead: int
    year_end: date
    demand: Demand
    kind: np.ndarray
    source: np.ndarray
    carried: int
    not_located: float


def demand_kinds(analysis: Analysis) -> np.ndarray:
    """Placement kind of each child of the analysis' coverage demand
    (:func:`geo.coverage.inputs.demand_from_analysis`), in its order."""
    return located_cohort(analysis)["placement_kind"].astype(str).to_numpy(dtype=object)


def scale_demand(
    demand: Demand, kind: np.ndarray, fc: Forecast, *, years_ahead: int
) -> ForecastDemand:
    """``demand`` (today's children, with ``kind`` their placement kinds) scaled to the
    forecast ``fc`` ``years_ahead`` years on (0 = the as-at census: today's children).

    Raises ``ValueError`` for a horizon beyond the forecast or ``kind`` of another length.
    """
    quarter = 4 * years_ahead
    if not 0 <= quarter < len(fc.projection.dates):
        raise ValueError(
            f"years_ahead {years_ahead} is outside the forecast's "
            f"{(len(fc.projection.dates) - 1) // 4} years"
        )
    kind = np.asarray(kind, dtype=object)
    if len(kind) != len(demand):
        raise ValueError(f"{len(kind)} placement kinds for {len(demand)} children")
    areas = fc.history.areas
    index = {a: i for i, a in enumerate(areas)}
    area = np.array([index.get(str(c), index[OUTSIDE]) for c in demand.district_code], np.int64)
    band = age_band_index(demand.age_years)
    k = pd.Index(KINDS).get_indexer(pd.Index(kind.astype(str)))
    modelled = (band >= 0) & (k >= 0)
    n_cells = len(areas) * N_STATES
    cell = np.where(modelled, area * N_STATES + band * N_KINDS + k, -1)
    now = np.bincount(cell[modelled], minlength=n_cells).astype(float)
    census = fc.projection.expected[0].ravel()
    later = fc.projection.expected[quarter].ravel()
    census_area = census.reshape(len(areas), N_STATES).sum(axis=1)
    now_area = now.reshape(len(areas), N_STATES).sum(axis=1)
    located = np.where(census_area > 0, now_area / np.where(census_area > 0, census_area, 1), 0)
    cell_area = np.arange(n_cells) // N_STATES
    target = np.where(
        census > 0,
        now * later / np.where(census > 0, census, 1),
        now + later * located[cell_area],
    )
    # Forecast children without a home location, in today's proportion per district (all of a
    # district with no located child today).
    not_located = max(float(later.sum() - target.sum()), 0.0)
    whole = _largest_remainder(target, int(np.floor(target.sum() + 0.5 + 1e-9)))

    order = np.random.default_rng(ORDER_SEED).permutation(len(demand))
    rank = np.empty(len(demand), np.int64)
    rank[order] = np.arange(len(demand))
    copies = np.where(modelled, 0, 1).astype(np.int64)  # children outside the states: carried
    extra_src: list[np.ndarray] = []
    extra_cell: list[np.ndarray] = []
    by_cell = _members(cell, rank, n_cells)
    for c in np.flatnonzero(whole > 0):
        members = by_cell[c]
        t = int(whole[c])
        if len(members):
            copies[members] += t // len(members)
            copies[members[: t % len(members)]] += 1
            continue
        donors = _donors(int(c), cell, rank, band, area)
        if len(donors):
            extra_src.append(donors[np.arange(t) % len(donors)])
            extra_cell.append(np.full(t, c, np.int64))
        else:
            not_located += t
    src = np.repeat(np.arange(len(demand)), copies)
    src_cell = cell[src]
    if extra_src:
        src = np.concatenate([src, *extra_src])
        src_cell = np.concatenate([src_cell, *extra_cell])
    out_kind = kind[src].copy()
    age = demand.age_years[src].copy()
    filled = len(src) - sum(len(x) for x in extra_src)
    if extra_src:
        # Copies filling an empty cell take the cell's kind and, when their band differs, the
        # band's median age now.
        fill = src_cell[filled:]
        fill_band = (fill % N_STATES) // N_KINDS
        out_kind[filled:] = np.array(KINDS, dtype=object)[fill % N_KINDS]
        moved = band[src[filled:]] != fill_band
        typical = _typical_ages(demand.age_years, band)
        age[filled:] = np.where(moved, typical[fill_band], age[filled:])
    needs = (demand.needs[src] & ~ALL_AGES_MASK) | age_band_bits(age)
    scaled = Demand(
        easting_m=demand.easting_m[src],
        northing_m=demand.northing_m[src],
        needs=needs.astype(np.int64),
        age_years=age,
        disabled=demand.disabled[src],
        siblings=demand.siblings[src],
        district_code=demand.district_code[src],
        sector=demand.sector[src],
    )
    return ForecastDemand(
        years_ahead=years_ahead,
        year_end=fc.projection.dates[quarter],
        demand=scaled,
        kind=out_kind,
        source=src,
        carried=int((~modelled).sum()),
        not_located=round(not_located, 1),
    )


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers adding up to ``total`` closest to ``values`` (ties: the first)."""
    base = np.floor(values + 1e-9).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        base[np.argsort(-(values - base), kind="stable")[:left]] += 1
    return base


def _members(cell: np.ndarray, rank: np.ndarray, n_cells: int) -> list[np.ndarray]:
    """Each cell's children in the fixed order."""
    ok = np.flatnonzero(cell >= 0)
    ok = ok[np.lexsort((rank[ok], cell[ok]))]
    bounds = np.searchsorted(cell[ok], np.arange(n_cells + 1))
    return [ok[bounds[i] : bounds[i + 1]] for i in range(n_cells)]


def _donors(
    c: int, cell: np.ndarray, rank: np.ndarray, band: np.ndarray, area: np.ndarray
) -> np.ndarray:
    """Children to copy into empty cell ``c``: the district's children of the cell's band (any
    kind), else the district's children of any band; in the fixed order."""
    a, b = c // N_STATES, (c % N_STATES) // N_KINDS
    mine = (cell >= 0) & (area == a)
    for pick in (mine & (band == b), mine):
        idx = np.flatnonzero(pick)
        if len(idx):
            return idx[np.argsort(rank[idx], kind="stable")]
    return np.zeros(0, np.int64)


def _typical_ages(age_years: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Median age now of each band's children (the middle of the band's years when none)."""
    out = np.zeros(len(AGE_BAND_LABELS))
    years = np.arange(0, 18) + 0.5
    for b in range(len(AGE_BAND_LABELS)):
        ages = age_years[band == b]
        out[b] = np.median(ages) if len(ages) else np.median(years[age_band_index(years) == b])
    return out


@dataclass(frozen=True, eq=False)
class YearCoverage:
    """The coverage model on the forecast demand of one year end.

    ``gap``: the model's gap (whole children); ``district_gap`` / ``district_children``:
    (areas,) its gap and children by the forecast's areas (the district table's);
    ``kind_gap``: (areas, kinds) the gap carried by the children of each placement kind (each
    child at risk carries its share, :attr:`Shortage.share`), so a district's kinds add up to
    its gap; ``kind_children``: (areas, kinds) children. ``model`` is ``None`` once dropped
    (:meth:`without_model`: at national scale each model holds tens of millions of pairs).
    """

    forecast_demand: ForecastDemand
    model: CoverageModel | None
    gap: int
    district_gap: np.ndarray
    district_children: np.ndarray
    kind_gap: np.ndarray
    kind_children: np.ndarray

    @property
    def years_ahead(self) -> int:
        return self.forecast_demand.years_ahead

    def without_model(self) -> YearCoverage:
        return replace(self, model=None)


@dataclass(frozen=True, eq=False)
class CoverageBasis:
    """What a coverage model is built from, without the model (its pairs and matching): today's
    demand, the carers and the model's settings, to rebuild it on forecast demand after the
    model itself is let go."""

    demand: Demand
    supply: Supply
    authority: Authority | None
    radius_miles: float
    grid_m: float
    places_basis: PlacesBasis

    @classmethod
    def of(cls, model: CoverageModel) -> CoverageBasis:
        return cls(
            demand=model.demand,
            supply=model.supply(),
            authority=model.authority,
            radius_miles=model.radius_miles,
            grid_m=model.grid_m,
            places_basis=model.places_basis,
        )


def forecast_coverage(
    coverage: CoverageModel | CoverageBasis,
    kind: np.ndarray,
    fc: Forecast,
    *,
    years: Sequence[int],
    progress: Progress | None = None,
) -> list[YearCoverage]:
    """The coverage model of ``coverage`` (today's children and carers) rebuilt on the forecast
    demand of each of ``years`` (0 = today), with the same carers, radius and grid.

    ``kind``: placement kind of each child of ``coverage.demand``
    (:func:`demand_kinds`). Year 0 reuses ``coverage`` itself when it is a model (its demand
    is today's, child for child); each other year, or every year from a :class:`CoverageBasis`,
    builds its own model.
    """
    areas = fc.history.areas
    index = {a: i for i, a in enumerate(areas)}
    basis = coverage if isinstance(coverage, CoverageBasis) else CoverageBasis.of(coverage)
    out = []
    for y in years:
        report(progress, f"coverage on the forecast demand {y} year(s) on", unit="children")
        scaled = scale_demand(basis.demand, kind, fc, years_ahead=y)
        # Year 0 is today's demand, child for child: today's model is that model.
        model = (
            coverage
            if y == 0 and isinstance(coverage, CoverageModel)
            else CoverageModel(
                scaled.demand,
                basis.supply,
                authority=basis.authority,
                radius_miles=basis.radius_miles,
                grid_m=basis.grid_m,
                places_basis=basis.places_basis,
            )
        )
        district = model.result().district.set_index("district_code")
        district_gap = district["gap"].reindex(list(areas)).fillna(0).to_numpy(np.int64)
        area = np.array(
            [index.get(str(c), index[OUTSIDE]) for c in scaled.demand.district_code], np.int64
        )
        k = pd.Index(KINDS).get_indexer(pd.Index(scaled.kind.astype(str)))
        ok = k >= 0
        flat = area[ok] * N_KINDS + k[ok]
        share = model.matching.shortage().share[ok]
        raw = np.bincount(flat, weights=share, minlength=len(areas) * N_KINDS)
        raw = raw.reshape(len(areas), N_KINDS)
        # Children of no known age carry a share too: the kinds share the district's gap.
        total = raw.sum(axis=1, keepdims=True)
        raw = np.where(total > 0, raw * district_gap[:, None] / np.where(total > 0, total, 1), 0)
        kind_gap = np.vstack(
            [_largest_remainder(raw[i], int(district_gap[i])) for i in range(len(areas))]
        )
        children = np.bincount(flat, minlength=len(areas) * N_KINDS).reshape(len(areas), -1)
        out.append(
            YearCoverage(
                forecast_demand=scaled,
                model=model,
                gap=model.gap,
                district_gap=district_gap,
                district_children=district["children"]
                .reindex(list(areas))
                .fillna(0)
                .to_numpy(np.int64),
                kind_gap=kind_gap,
                kind_children=children,
            )
        )
    return out


def gap_table(years: Sequence[YearCoverage], fc: Forecast) -> pd.DataFrame:
    """:data:`GAP_COLUMNS`: per year end, district (then the authority total) and placement
    kind (then ``all``), the forecast children in the coverage model and the gap within the
    radius (whole children; the ``all`` rows are the model's district gap)."""
    history = fc.history
    names = history.names()
    total_code = history.authority.code
    rows = []
    for yc in years:
        when = yc.forecast_demand.year_end.isoformat()
        for i, code in enumerate([*history.areas, total_code]):
            if code == total_code:
                kids, gaps = yc.kind_children.sum(axis=0), yc.kind_gap.sum(axis=0)
                kids_all, gap_all = len(yc.forecast_demand.demand), yc.gap
            else:
                kids, gaps = yc.kind_children[i], yc.kind_gap[i]
                kids_all, gap_all = yc.district_children[i], yc.district_gap[i]
            for j, label in enumerate([*KINDS, ALL_KINDS]):
                rows.append(
                    {
                        "years_ahead": yc.years_ahead,
                        "year_end": when,
                        "district_code": code,
                        "district_name": names.get(code, code),
                        "placement_kind": label,
                        "children": int(kids[j]) if j < N_KINDS else int(kids_all),
                        "gap": int(gaps[j]) if j < N_KINDS else int(gap_all),
                    }
                )
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


__all__ = [
    "GAP_COLUMNS",
    "SITE_COLUMNS",
    "CoverageBasis",
    "ForecastDemand",
    "YearCoverage",
    "forecast_coverage",
    "gap_table",
    "demand_kinds",
    "scale_demand",
    "sites_for_years",
]


SITE_COLUMNS = [
    "years_ahead",
    "year_end",
    "household_places",
    "household_categories",
    "gap_before",
    "gap_after",
]


def sites_for_years(
    years: Sequence[YearCoverage],
    sites: Sites,
    *,
    households: Mapping[int, int],
    places: int,
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[int, RecruitmentPlan]]:
    """Where to recruit for each year end: the siting search
    (:func:`geo.coverage.recruitment.recommend_sites`) on that year's forecast demand, for
    ``households[years_ahead]`` new households of ``places`` places, approved for any age and
    for the needs that close the most of that year's gap
    (:func:`geo.coverage.recruitment.suggest_kind` on :func:`~geo.coverage.recruitment.gap_by_need`,
    as the Recruitment page advises).

    Returns one table (:data:`SITE_COLUMNS` then
    :data:`geo.coverage.recruitment.SUGGESTION_COLUMNS`, one row per suggested household) and the
    plans by ``years_ahead``. A year whose search stops early (no further child to bring within
    reach) has fewer rows than households.
    """
    frames, plans = [], {}
    for yc in years:
        y = yc.years_ahead
        n = int(households.get(y, 0))
        if yc.model is None:
            raise ValueError(f"the coverage model of year {y} was dropped: keep it for siting")

        def search(
            kind: HouseholdKind, model: CoverageModel = yc.model, n: int = n
        ) -> RecruitmentPlan:
            return recommend_sites(model, sites, households=n, kind=kind, progress=progress)

        plan = suggest_kind(gap_by_need(yc.model), places=places, search=search).best
        plans[y] = plan
        table = plan.suggestions.copy()
        table.insert(0, "gap_after", plan.gap_after)
        table.insert(0, "gap_before", plan.gap_before)
        table.insert(0, "household_categories", format_categories(plan.kind.categories))
        table.insert(0, "household_places", plan.kind.places)
        table.insert(0, "year_end", yc.forecast_demand.year_end.isoformat())
        table.insert(0, "years_ahead", y)
        frames.append(table)
    columns = [*SITE_COLUMNS, *SUGGESTION_COLUMNS]
    if not any(len(f) for f in frames):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}), plans
    return pd.concat([f for f in frames if len(f)], ignore_index=True)[columns], plans
