"""Case 5: where should 10 new households go? Kent and national scale.

Project: :func:`geo.coverage.recruitment.recommend_sites` (lazy greedy with exact capacitated gains) on a
coverage model of the headline cohort and the supplying carers; households approved for any
child (all ages and every need), one place each, as the district report suggests them.
Candidate sites: the postcode-sector centroids of Kent (Kent) or of all of England (national).
Baseline: the plain greedy, which re-evaluates every site's exact gain in every round (same
gains, no laziness). At national scale it is stopped after a time budget and its full time
estimated from the evaluations per second it reached. The model build is timed too (it comes
before any search) and the plan's gain is compared with random and biggest-district siting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from benchmarks.inputs import Scale
from benchmarks.timing import CaseResult, Row, median, seconds
from geo.coverage import (
    CoverageModel,
    HouseholdKind,
    Sites,
    compare_with_baselines,
    recommend_sites,
    suits,
)
from geo.spatial.authority import Authority
from geo.spatial.catchments import pairs_within
from geo.ssda903.carers import ALL_AGES_MASK, NEED_MASK

KIND = HouseholdKind(places=1, categories=ALL_AGES_MASK | NEED_MASK)


@dataclass(frozen=True)
class PlainGreedy:
    gains: list[int]
    evaluations: int
    seconds: float
    complete: bool
    estimated_s: float
    planned: int  # evaluations of a complete run (households × sites with children in reach)


def plain_greedy(
    model: CoverageModel,
    sites: Sites,
    *,
    households: int,
    kind: HouseholdKind = KIND,
    budget_s: float | None = None,
) -> PlainGreedy:
    """Greedy without lazy evaluation: every round tries a household at every site.

    With ``budget_s``, the evaluations stop after that many seconds and the full time is
    estimated as set-up + (seconds per evaluation so far) × (households × sites); the sites are
    then tried in a random order, so the evaluations timed are a fair sample of them all.
    """
    start = time.perf_counter()
    d = model.demand
    pairs = pairs_within(
        sites.easting_m,
        sites.northing_m,
        d.easting_m,
        d.northing_m,
        radius_miles=model.radius_miles,
    )
    keep = suits(d.needs[pairs.indices], kind.categories)
    rows = pairs.row_of_edges()[keep]
    kids = pairs.indices[keep].astype(np.int64)
    bounds = np.searchsorted(rows, np.arange(len(sites) + 1))
    reachable = [i for i in range(len(sites)) if bounds[i + 1] > bounds[i]]
    if budget_s is not None:
        reachable = [reachable[j] for j in np.random.default_rng(5).permutation(len(reachable))]
    state = model.matching.copy()
    state.shortage()  # the structure every evaluation starts from
    setup = time.perf_counter() - start
    gains: list[int] = []
    evaluations = 0
    for _ in range(households):
        best, best_state = 0, None
        for i in reachable:
            trial = state.copy()
            _, gained = trial.add_carer(kids[bounds[i] : bounds[i + 1]], kind.places)
            evaluations += 1
            if gained > best:
                best, best_state = gained, trial
            spent = time.perf_counter() - start - setup
            if budget_s is not None and spent > budget_s:
                estimate = setup + spent / evaluations * households * len(reachable)
                return PlainGreedy(
                    gains, evaluations, setup + spent, False, estimate, households * len(reachable)
                )
        if best_state is None:
            break
        state = best_state
        gains.append(best)
    elapsed = time.perf_counter() - start
    return PlainGreedy(gains, evaluations, elapsed, True, elapsed, evaluations)


def _one_scale(
    res: CaseResult,
    scale: Scale,
    authority: Authority,
    sites: Sites,
    *,
    households: int,
    runs: int,
    baseline_budget_s: float | None,
    quality: bool,
) -> None:
    build_s, model = seconds(lambda: CoverageModel(scale.demand, scale.supply, authority=authority))
    label = scale.label
    size = f"{len(scale.demand):,} children × {len(scale.supply):,} carers ({label})"
    res.rows.append(
        Row(
            case="5",
            name=f"coverage model build, {scale.name}",
            size=f"{size}, {model.adjacency.nnz:,} suitable pairs",
            project_s=build_s,
            project_runs=[build_s],
            note=f"gap {model.gap:,} children; needed before any what-if or search",
        )
    )
    plans = []
    times = []
    for _ in range(max(1, runs)):
        t, plan = seconds(lambda: recommend_sites(model, sites, households=households, kind=KIND))
        times.append(t)
        plans.append(plan)
    plan = plans[-1]
    base = plain_greedy(model, sites, households=households, budget_s=baseline_budget_s)
    if base.complete:
        res.check(
            f"{scale.name}: lazy greedy gains the same as the plain greedy",
            plan.total_gain == sum(base.gains),
            f"lazy {plan.total_gain}, plain {sum(base.gains)} children",
        )
    note = f"gain {plan.total_gain} of gap {plan.gap_before}"
    if quality:
        q = compare_with_baselines(model, sites, plan, draws=10)
        note += f" (random sites {q.random_mean:.1f}, biggest district {q.biggest_district})"
    if not base.complete:
        note += (
            f"; plain greedy stopped after {base.evaluations:,} of {base.planned:,} "
            "site evaluations, time extrapolated"
        )
    res.rows.append(
        Row(
            case="5",
            name=f"recruitment search, {households} households, {scale.name}",
            size=f"{size}, {len(sites):,} candidate sectors",
            project_s=median(times),
            project_runs=times,
            baseline="plain greedy (no lazy evaluation)" + ("" if base.complete else ", estimated"),
            baseline_s=base.estimated_s,
            baseline_runs=[base.seconds],
            note=note,
            extra={
                "suggested": plan.suggestions["sector"].tolist(),
                "plain_greedy_gains": base.gains,
                "plain_greedy_evaluations": base.evaluations,
                "plain_greedy_complete": base.complete,
            },
        )
    )


def run(
    kent: Scale,
    national: Scale,
    authority: Authority,
    *,
    kent_sites: Sites,
    national_sites: Sites,
    households: int,
    kent_runs: int,
    national_runs: int,
    baseline_budget_s: float,
) -> CaseResult:
    res = CaseResult("5", f"Recruitment search: {households} new households")
    _one_scale(
        res,
        kent,
        authority,
        kent_sites,
        households=households,
        runs=kent_runs,
        baseline_budget_s=None,
        quality=True,
    )
    _one_scale(
        res,
        national,
        authority,
        national_sites,
        households=households,
        runs=national_runs,
        baseline_budget_s=baseline_budget_s,
        quality=False,
    )
    return res
