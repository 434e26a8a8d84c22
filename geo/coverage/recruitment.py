"""Where to recruit new foster carers: capacitated maximal covering by lazy greedy search.

Given ``N`` new households of one kind (places, categories), choose postcode sectors (candidate
sites: sector centroids of the authority's area) so that the most children who now have no
suitable place within 20 miles get one. A household's **gain** is exact: the increase of the
maximum assignment of children to places (:class:`geo.coverage.matching.Matching`) when the household is
added — capacitated (a household of 2 places helps at most 2 children) and matching-aware
(categories). The gain of a set of households is submodular (the rank function of a transversal
matroid), so the lazy greedy (Minoux) is valid and keeps the (1 − 1/e) guarantee; each
suggestion's marginal gain is reported. The same site may be suggested more than once.

Before the question of where: :func:`gap_by_need` says who the gap is (age band, disability,
siblings, parent and child), and :func:`suggest_kind` which approval closes most of it (the
same search for households approved for any age and each combination of the needs of the
children at risk).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from geo.coverage.inputs import suits
from geo.coverage.matching import Matching
from geo.coverage.model import CoverageModel
from geo.progress import Progress, report
from geo.spatial import Authority, district_name, sector_centroids
from geo.spatial.catchments import DEFAULT_METHOD, PairMethod, pairs_within
from geo.ssda903 import (
    AGE_BAND_LABELS,
    ALL_AGES_MASK,
    CATEGORY_BIT,
    NEED_MASK,
    Category,
    age_band_index,
    format_categories,
)

SUGGESTION_COLUMNS = [
    "rank",
    "sector",
    "district_code",
    "district_name",
    "marginal_gain",
    "cumulative_gain",
    "children_at_risk_within_20mi",
]


@dataclass(frozen=True)
class HouseholdKind:
    """What a new household offers: ``places`` and a category bit mask (default: all ages)."""

    places: int = 1
    categories: int = ALL_AGES_MASK

    def __post_init__(self) -> None:
        if self.places < 1:
            raise ValueError(f"a household needs at least one place, got {self.places}")

    @property
    def label(self) -> str:
        return f"{self.places} place(s), {format_categories(self.categories) or 'no category'}"


@dataclass(frozen=True, eq=False)
class Sites:
    """Candidate sites: ``site_id`` (postcode sector), location (EPSG:27700 m), district."""

    site_id: np.ndarray
    easting_m: np.ndarray
    northing_m: np.ndarray
    district_code: np.ndarray

    def __len__(self) -> int:
        return len(self.site_id)


def candidate_sites(authority: Authority) -> Sites:
    """The postcode-sector centroids of ``authority``'s districts (ONSPD), sorted by sector."""
    table = sector_centroids(authority.district_codes)
    return Sites(
        site_id=table["sector"].to_numpy(dtype=object),
        easting_m=table["easting_m"].to_numpy(dtype=float),
        northing_m=table["northing_m"].to_numpy(dtype=float),
        district_code=table["district_code"].to_numpy(dtype=object),
    )


@dataclass(frozen=True, eq=False)
class RecruitmentPlan:
    """Suggested sites in order, with each one's marginal and cumulative gain (children who get
    a suitable place within 20 miles), and the gap before and after.

    ``children_at_risk_within_20mi``: children at risk (see :mod:`geo.coverage.matching`) before any new
    household, whose home is within 20 miles of the site (and who suit the household). Where the shortage is one county-wide chain
    of children competing for places, many sites have the same gain (a new place anywhere in the
    chain frees one); this column then says where the new place is closest to the shortage.
    """

    suggestions: pd.DataFrame
    households: int
    kind: HouseholdKind
    gap_before: int
    gap_after: int

    @property
    def total_gain(self) -> int:
        return self.gap_before - self.gap_after


class _SiteCatchments:
    """For each site, the children a household of ``kind`` there could take (sorted)."""

    def __init__(
        self, model: CoverageModel, sites: Sites, kind: HouseholdKind, method: PairMethod | str
    ) -> None:
        d = model.demand
        pairs = pairs_within(
            sites.easting_m,
            sites.northing_m,
            d.easting_m,
            d.northing_m,
            radius_miles=model.radius_miles,
            method=method,
        )
        keep = suits(d.needs[pairs.indices], kind.categories)
        self.indptr = np.zeros(pairs.n_rows + 1, dtype=np.int64)
        np.cumsum(
            np.bincount(pairs.row_of_edges()[keep], minlength=pairs.n_rows), out=self.indptr[1:]
        )
        self.children = pairs.indices[keep].astype(np.int64)
        # 1 at the site, falling to 0 at the radius: how near each child is
        self.nearness = 1.0 - pairs.miles[keep] / max(model.radius_miles, 1e-9)

    def of(self, site: int) -> np.ndarray:
        return self.children[self.indptr[site] : self.indptr[site + 1]]

    def near(self, at_risk: np.ndarray) -> np.ndarray:
        """For each site, the children at risk a household there could take, each counted by
        how near it is (1 at the site, 0 at the radius)."""
        n = len(self.indptr) - 1
        rows = np.repeat(np.arange(n), np.diff(self.indptr))
        weights = self.nearness * at_risk[self.children]
        return np.bincount(rows, weights=weights, minlength=n)


def _gain(state: Matching, kids: np.ndarray, places: int) -> tuple[int, Matching]:
    trial = state.copy()
    _, gained = trial.add_carer(kids, places)
    return gained, trial


def recommend_sites(
    model: CoverageModel,
    sites: Sites,
    *,
    households: int,
    kind: HouseholdKind = HouseholdKind(),
    method: PairMethod | str = DEFAULT_METHOD,
    progress: Progress | None = None,
) -> RecruitmentPlan:
    """Suggest sites for ``households`` new households of ``kind`` (lazy greedy, exact gains).

    The model is not changed. Stops early when no site brings any further child within reach
    (the plan then has fewer rows than ``households``). Raises ``ValueError`` if ``households``
    is negative. ``progress`` hears one report per household placed.
    """
    if households < 0:
        raise ValueError(f"households must be ≥ 0, got {households}")
    catch = _SiteCatchments(model, sites, kind, method)
    shortage = model.matching.shortage()  # cached on the model, carried by its copies
    state = model.matching.copy()
    gap_before = shortage.gap
    at_risk = shortage.at_risk
    # Heap of (-gain bound, -tie score, site). Equal gains are common (a shortage spread over
    # the county is one chain: a place anywhere in it frees one child), so ties go to the site
    # nearest the children at risk (each counted by nearness, 1 at the site to 0 at 20 miles)
    # per household already suggested there, which puts new places near the shortage and
    # spreads them; then to the first sector.
    placed = np.zeros(len(sites), dtype=np.int64)
    nearness = catch.near(at_risk)

    def score(_reach: int, site: int) -> float:
        return -float(nearness[site]) / (1 + placed[site])

    heap: list[tuple[int, float, int]] = []
    for i in range(len(sites)):
        reach = int(at_risk[catch.of(i)].sum())
        bound = min(kind.places, reach, gap_before)
        if bound > 0:
            heap.append((-bound, score(reach, i), i))
    heapq.heapify(heap)
    fresh: dict[int, tuple[int, int, Matching]] = {}  # site -> (round, gain, state after)
    rows: list[dict[str, object]] = []
    total = 0
    stage = f"choosing sites for {households:,} households among {len(sites):,} sectors"
    report(progress, stage, 0, households, "households")
    for round_ in range(households):
        if round_:
            report(progress, stage, round_, households, "households")
        chosen = None
        while heap:
            _, _, i = heapq.heappop(heap)
            hit = fresh.get(i)
            if hit is not None and hit[0] == round_:
                chosen = (i, hit[1], hit[2])
                break
            kids = catch.of(i)
            reach = int(at_risk[kids].sum())
            gained, trial = _gain(state, kids, kind.places)
            fresh[i] = (round_, gained, trial)
            if gained > 0:
                heapq.heappush(heap, (-gained, score(reach, i), i))
        if chosen is None:
            break
        i, gained, state = chosen
        reach = int(at_risk[catch.of(i)].sum())
        total += gained
        placed[i] += 1
        # Submodular: this site's next household gains at most what this one did.
        heapq.heappush(heap, (-gained, score(reach, i), i))
        code = str(sites.district_code[i])
        rows.append(
            {
                "rank": round_ + 1,
                "sector": str(sites.site_id[i]),
                "district_code": code,
                "district_name": model.authority.districts.get(code, district_name(code))
                if model.authority is not None
                else district_name(code),
                "marginal_gain": gained,
                "cumulative_gain": total,
                "children_at_risk_within_20mi": reach,
            }
        )
    table = (
        pd.DataFrame(rows, columns=SUGGESTION_COLUMNS)
        if rows
        else pd.DataFrame({c: pd.Series(dtype=object) for c in SUGGESTION_COLUMNS})
    )
    return RecruitmentPlan(
        suggestions=table,
        households=households,
        kind=kind,
        gap_before=gap_before,
        gap_after=gap_before - total,
    )


def siting_gain(
    model: CoverageModel,
    sites: Sites,
    chosen: Sequence[int],
    *,
    kind: HouseholdKind = HouseholdKind(),
    method: PairMethod | str = DEFAULT_METHOD,
    catchments: _SiteCatchments | None = None,
) -> int:
    """Children brought within 20 miles of a suitable place by households at the ``chosen``
    site indices (one household per entry; exact, independent of the order)."""
    catch = catchments or _SiteCatchments(model, sites, kind, method)
    # Cached on the model after the first call; its copies carry the children at risk, which
    # lets households nobody at risk can reach skip a search.
    gap = model.matching.shortage().gap
    state = model.matching.copy()
    before = state.matched
    for i in chosen:
        if state.matched - before >= gap:
            break  # nobody is left to place: further households gain nothing
        state.add_carer(catch.of(int(i)), kind.places)
    return state.matched - before


@dataclass(frozen=True)
class BaselineComparison:
    """Total gain of the greedy plan against naive siting of the same households."""

    greedy: int
    random_mean: float
    random_draws: tuple[int, ...]
    biggest_district: int
    biggest_district_code: str


def compare_with_baselines(
    model: CoverageModel,
    sites: Sites,
    plan: RecruitmentPlan,
    *,
    draws: int = 20,
    seed: int = 0,
    method: PairMethod | str = DEFAULT_METHOD,
    progress: Progress | None = None,
) -> BaselineComparison:
    """The plan's gain vs. random sites (mean of ``draws`` uniform draws, with replacement) and
    vs. "biggest district" siting (households spread over that district's sectors with the most
    children, most first)."""
    kind, n = plan.kind, plan.households
    catch = _SiteCatchments(model, sites, kind, method)
    rng = np.random.default_rng(seed)
    stage = f"comparing with {draws} random sitings"
    gains = []
    for d in range(draws):
        report(progress, stage, d, draws, "sitings")
        chosen_at_random = rng.integers(0, len(sites), n).tolist()
        gains.append(siting_gain(model, sites, chosen_at_random, kind=kind, catchments=catch))
    random_gains = tuple(gains)
    code, chosen = biggest_district_sites(model, sites, households=n)
    return BaselineComparison(
        greedy=plan.total_gain,
        random_mean=float(np.mean(random_gains)) if random_gains else 0.0,
        random_draws=random_gains,
        biggest_district=siting_gain(model, sites, chosen, kind=kind, catchments=catch),
        biggest_district_code=code,
    )


def biggest_district_sites(
    model: CoverageModel, sites: Sites, *, households: int
) -> tuple[str, list[int]]:
    """The naive plan: the district most children come from, its sectors by number of children
    (most first), one household each in turn (round robin)."""
    d = model.demand
    codes = np.asarray(d.district_code, dtype=object)
    valid = set(str(c) for c in sites.district_code)
    values, counts = np.unique(codes[np.isin(codes, list(valid))], return_counts=True)
    if not len(values):
        return "", []
    code = str(values[np.argmax(counts)])
    in_district = np.flatnonzero(sites.district_code == code)
    sector_children = pd.Series(d.sector).value_counts()
    score = np.array([sector_children.get(sites.site_id[i], 0) for i in in_district])
    order = in_district[np.lexsort((in_district, -score))]
    return code, [int(order[k % len(order)]) for k in range(households)]


# -- who the gap is, and what kind of household closes most of it ------------------------------

NEED_GROUP_COLUMNS = ["group", "kind", "children", "children_at_risk", "gap"]
_NEEDS = (Category.DISABILITY, Category.SIBLINGS, Category.PARENT_AND_CHILD)
AGE_NOT_KNOWN = "age not known"


def gap_by_need(model: CoverageModel) -> pd.DataFrame:
    """The children and the coverage gap by need, before any new household.

    One row per age band (``kind`` "age"; the bands and "age not known" partition the
    children), one per need a carer must be approved for (``kind`` "need": disability,
    siblings, parent and child; they overlap) and a last row "all" (``kind`` "total").
    ``children_at_risk``: children some best matching leaves without a suitable place within
    the radius. ``gap``: the group's share of the gap (each child at risk carries its
    component's shortfall over its size), whole children; the age rows add up to the total
    (largest remainder).
    """
    d = model.demand
    shortage = model.matching.shortage()
    share = shortage.share
    at_risk = shortage.at_risk
    band = age_band_index(d.age_years)
    groups: list[tuple[str, str, np.ndarray]] = [
        (label, "age", band == i) for i, label in enumerate(AGE_BAND_LABELS)
    ]
    groups.append((AGE_NOT_KNOWN, "age", band < 0))
    groups += [(c.value, "need", (d.needs & CATEGORY_BIT[c]) != 0) for c in _NEEDS]
    groups.append(("all", "total", np.ones(len(d), dtype=bool)))
    shares = np.array([share[mask].sum() for _, _, mask in groups])
    gap = np.rint(shares).astype(np.int64)
    ages = np.array([kind == "age" for _, kind, _ in groups])
    gap[ages] = _largest_remainder(shares[ages], shortage.gap)
    gap[-1] = shortage.gap
    return pd.DataFrame(
        {
            "group": [g for g, _, _ in groups],
            "kind": [k for _, k, _ in groups],
            "children": [int(m.sum()) for _, _, m in groups],
            "children_at_risk": [int((m & at_risk).sum()) for _, _, m in groups],
            "gap": gap,
        },
        columns=NEED_GROUP_COLUMNS,
    )


def _largest_remainder(values: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers adding up to ``total`` closest to ``values`` (which add up to it)."""
    base = np.floor(values + 1e-9).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        base[np.argsort(-(values - base), kind="stable")[:left]] += 1
    return base


@dataclass(frozen=True)
class KindAdvice:
    """The kinds of household compared (same number, same places, best sites for each), each
    with its plan; ``best`` is the suggested kind: it closes the most gap, and among those
    it asks for the fewest need approvals."""

    compared: tuple[RecruitmentPlan, ...]
    best: RecruitmentPlan


def candidate_kinds(needs: pd.DataFrame, *, places: int) -> list[HouseholdKind]:
    """Households approved for any age and each combination of the needs children at risk
    have (from :func:`gap_by_need`), fewest needs first."""
    present = [
        CATEGORY_BIT[Category(g)]
        for g, k, r in zip(needs["group"], needs["kind"], needs["children_at_risk"], strict=True)
        if k == "need" and r > 0
    ]
    out = []
    for size in range(len(present) + 1):
        for combo in combinations(present, size):
            out.append(HouseholdKind(places=places, categories=ALL_AGES_MASK | sum(combo)))
    return out


def suggest_kind(
    needs: pd.DataFrame,
    *,
    places: int,
    search: Callable[[HouseholdKind], RecruitmentPlan],
) -> KindAdvice:
    """Which approval closes the most gap: ``search(kind)`` (e.g. :func:`recommend_sites` for
    the same number of households) for households approved for any age and each combination
    of the needs the children at risk have (``needs``: :func:`gap_by_need`). The best closes
    the most; among equals, the one with the fewest need approvals (easier to recruit).

    Age bands are not narrowed: a household approved for fewer ages can close as much only by
    freeing places along a chain of moves, which is no advice to give a recruiter; the age
    profile of the gap (:func:`gap_by_need`) says which ages the children are.
    """
    compared = tuple(search(kind) for kind in candidate_kinds(needs, places=places))
    best = max(compared, key=lambda p: (p.total_gain, -_bits(p.kind.categories & NEED_MASK)))
    return KindAdvice(compared=compared, best=best)


def _bits(mask: int) -> int:
    return bin(mask).count("1")
