"""``placemap coverage`` and ``placemap recruit``: carer coverage, the gap, and where to recruit.

Both read the placements (as ``analyse`` does) and a carers register, and write aggregate tables
only: no child's or carer's location is ever written.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import pandas as pd

from app.cli.analyse_cmd import add_input_arguments, placement_paths, read_input
from app.cli.arguments import positive_float, positive_int
from geo.coverage import (
    E2SFCA_BANDS,
    CoverageModel,
    DemandCounts,
    HouseholdKind,
    PlacesBasis,
    build_coverage,
    candidate_sites,
    compare_with_baselines,
    recommend_sites,
)
from geo.disclosure import (
    NO_SUPPRESSION_NOTE,
    PERTURBATION_NOTE,
    SUPPRESSED,
    protect_count,
    protect_coverage,
)
from geo.errors import InputError
from geo.measures import analyse
from geo.measures.cell_keys import dataset_secret
from geo.progress import report
from geo.spatial import Authority, load_authority
from geo.spatial import postcodes as pc
from geo.ssda903 import CarersRegister, parse_categories, read_carers
from geo.writing import csv_bytes, json_bytes, write_outputs

DEFINITIONS = {
    "can_take": "a carer can take a child when the DfE distance from the child's home "
    "postcode rounds to <= 20.0 miles and the carer is approved for the child's age band "
    "(0-4, 5-10, 11-15, 16+; any band when the age is not known) and every need "
    "(disability; siblings where derived: children sharing home and placement postcodes)",
    "gap": "children left without a suitable place within 20 miles when each place takes one "
    "child (exact maximum assignment, max-flow); areas get whole-child shares of it by largest "
    "remainder, so areas add up to the total",
    "children_at_risk": "children that some optimal assignment leaves without a place: they "
    "compete for too few places",
    "suitable_places_20mi": "places of carers within 20 miles of, and suitable for, at least "
    "one child of the area (a place can count for several areas)",
    "places_per_child_2sfca": "two-step floating catchment: each carer's places divided by the "
    "children it can take, summed over the carers a child can reach, averaged over the area's "
    "children (no place counted twice)",
    "places_per_child_e2sfca": "as 2SFCA with distance-band weights "
    + ", ".join(f"<= {u:g} miles: {w:g}" for u, w in E2SFCA_BANDS),
    "vacant_suitable_places_per_child": "new entrants: vacant places of carers within 20 miles "
    "and suitable, per child (average over the area's children)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "coverage",
        help="carer coverage, the gap and shortage areas (districts, sectors, grid)",
        description="Match the headline cohort's children (at their home postcode) to suitable "
        "approved foster places within 20 DfE miles and write district_coverage.csv, "
        "area_coverage.csv (postcode sectors and a square grid), shortage_areas.csv, "
        "carers_rejected.csv and coverage_summary.json. Aggregates only.",
    )
    _common(p)
    p.add_argument(
        "--grid-km",
        type=positive_float,
        default=5.0,
        metavar="KM",
        help="side of the square grid cells in km (default 5)",
    )
    p.add_argument(
        "--suppress",
        action="store_true",
        help="disclosure control for sharing the tables (the cell-key method, as the app's "
        "pages: c = 0 to 6 children not shown, other counts within 2; per-child ratios over "
        "the shown count of children)",
    )
    p.set_defaults(func=run_coverage)

    r = sub.add_parser(
        "recruit",
        help="where N new foster households would bring the most children within 20 miles",
        description="Suggest postcode sectors of the authority for N new households of one kind "
        "(places, categories): each suggestion brings the most further children a suitable "
        "place within 20 miles (exact capacitated gain, lazy greedy). Writes "
        "recruitment_suggestions.csv and recruitment_summary.json (with random and "
        "biggest-district siting for comparison).",
    )
    _common(r)
    r.add_argument(
        "--households",
        type=positive_int,
        required=True,
        metavar="N",
        help="number of new households",
    )
    r.add_argument(
        "--places", type=positive_int, default=1, metavar="P", help="places per household"
    )
    r.add_argument(
        "--categories",
        default="0-4;5-10;11-15;16+",
        metavar="LIST",
        help="';'-separated categories the households are approved for (default all ages), "
        "e.g. '11-15;16+;disability'",
    )
    r.set_defaults(func=run_recruit)


def _common(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
    p.add_argument("--carers", required=True, metavar="FILE", help="carers register CSV")
    p.add_argument(
        "--places-basis",
        choices=[b.value for b in PlacesBasis],
        default=PlacesBasis.APPROVED.value,
        help="approved: structural gap over every approved place (default); vacant: only the "
        "places free now (children entering care)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")


@dataclass(frozen=True, eq=False)
class _Inputs:
    authority: Authority
    as_at: Any
    register: CarersRegister
    counts: DemandCounts
    model: CoverageModel
    secret: bytes = b""  # the dataset's secret for the cell-key method (as the app derives it)


def _load(args: argparse.Namespace, *, grid_km: float = 5.0) -> _Inputs:
    authority = load_authority(args.authority)
    data = read_input(args, authority)
    analysis = analyse(data, authority, as_at=args.as_at, progress=args.progress)
    report(args.progress, "reading the carers register")
    register = read_carers(args.carers, as_at=analysis.as_at)
    coverage = build_coverage(
        analysis,
        register,
        grid_m=grid_km * 1000.0,
        places_basis=args.places_basis,
        progress=args.progress,
    )
    counts = coverage.counts
    if counts.located == 0:
        raise InputError(
            f"No child of the headline cohort at {analysis.as_at:%d/%m/%Y} has a known home "
            f"location in '{', '.join(placement_paths(args))}' ({counts.cohort} children in the "
            "cohort). Coverage needs children's home postcodes (HOME_POST): check the as-at date "
            "and the postcodes."
        )
    return _Inputs(
        authority,
        analysis.as_at,
        register,
        counts,
        coverage.model,
        secret=dataset_secret(data.episodes["CHILD"]),
    )


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    floats = out.select_dtypes("float").columns
    out[floats] = out[floats].round(3)
    return out


def _base_summary(inputs: _Inputs, args: argparse.Namespace) -> dict[str, Any]:
    c = inputs.counts
    return {
        "as_at": inputs.as_at.isoformat(),
        "authority": {"code": inputs.authority.code, "name": inputs.authority.name},
        "files": {"placements": placement_paths(args), "carers": str(args.carers)},
        "children": {
            "headline_cohort": c.cohort,
            "with_home_location": c.located,
            "without_home_location": c.not_located,
            "age_not_known": c.age_unknown,
            "siblings_derived": c.siblings,
        },
        "carers": inputs.register.summary,
        "radius_miles": inputs.model.radius_miles,
        "places_basis": inputs.model.places_basis.value,
        "e2sfca_bands": [{"up_to_miles": u, "weight": w} for u, w in E2SFCA_BANDS],
        "postcode_data_version": pc.data_version(),
    }


def run_coverage(args: argparse.Namespace) -> int:
    inputs = _load(args, grid_km=args.grid_km)
    model = inputs.model
    report(args.progress, "area tables and shortage areas")
    result = model.result()
    summary = {
        **_base_summary(inputs, args),
        "gap": result.gap,
        "gap_greedy_by_scarcity": model.greedy_gap(),
        "children_at_risk": result.children_at_risk,
        "grid_km": args.grid_km,
        "definitions": DEFINITIONS,
    }
    district, areas, shortage = (
        _rounded(result.district),
        _rounded(result.areas),
        _rounded(result.shortage),
    )
    if args.suppress:  # the cell-key method, the same cells as the app's pages
        hidden = protect_coverage(district, areas, shortage, secret=inputs.secret)
        district, areas, shortage = hidden.district, hidden.areas, hidden.shortage
        _suppress_summary(summary, secret=inputs.secret, code=inputs.authority.code)
        summary["disclosure_control"] = {
            "note": PERTURBATION_NOTE,
            "hidden_cells": hidden.hidden_cells,
        }
    else:
        summary["disclosure_control"] = {"note": NO_SUPPRESSION_NOTE, "hidden_cells": 0}
    report(args.progress, "writing 5 files")
    write_outputs(
        args.out,
        {
            "district_coverage.csv": csv_bytes(district),
            "area_coverage.csv": csv_bytes(areas),
            "shortage_areas.csv": csv_bytes(shortage),
            "carers_rejected.csv": csv_bytes(inputs.register.report()),
            "coverage_summary.json": json_bytes(summary),
        },
    )
    total = result.district.iloc[-1]
    rejected = inputs.register.summary["rejected_rows"]
    print(
        f"{inputs.authority.name}, as at {inputs.as_at:%d/%m/%Y}: {summary['children']['with_home_location']} children, "
        f"{result.carers} carers with {int(total['approved_places'])} approved places; "
        f"{summary['gap']} children cannot be matched to a suitable place within 20 miles "
        f"({summary['children_at_risk']} at risk); {rejected} carers rows rejected"
        f"{'; disclosure control on' if args.suppress else ''}. "
        f"Written to {args.out}"
    )
    return 0


def _suppress_summary(summary: dict[str, Any], *, secret: bytes, code: str) -> None:
    """Counts of children in the summary by the cell-key method, under the cells the tables and
    the app use (the gap as on the comparison page, children at risk as on Recruitment)."""
    cells = {
        "gap": ("coverage-gap", code, "gap"),
        "children_at_risk": ("at-risk", code),
        "gap_greedy_by_scarcity": ("coverage-greedy-gap", code),
    }

    def c(value: Any, cell: tuple[object, ...]) -> Any:
        if not isinstance(value, int):
            return value
        shown = protect_count(value, secret=secret, cell=cell)
        return SUPPRESSED if shown != shown else int(shown)

    for key, cell in cells.items():
        summary[key] = c(summary[key], cell)
    summary["children"] = {
        k: c(v, ("coverage-children", code) if k == "with_home_location" else ("summary", k))
        for k, v in summary["children"].items()
    }


def run_recruit(args: argparse.Namespace) -> int:
    mask, unknown = parse_categories(args.categories)
    if unknown or mask == 0:
        raise InputError(
            f"--categories {args.categories!r} is not a list of carer categories"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            + ". Expected ';'-separated values from 0-4, 5-10, 11-15, 16+, siblings, "
            "disability, parent_and_child, short_break, emergency, respite, e.g. '11-15;16+'."
        )
    kind = HouseholdKind(places=args.places, categories=mask)
    inputs = _load(args)
    sites = candidate_sites(inputs.authority)
    if len(sites) == 0:
        raise InputError(
            f"No postcode sector of {inputs.authority.name} was found in the postcode "
            "reference data, so there is nowhere to suggest. Check --authority."
        )
    plan = recommend_sites(
        inputs.model, sites, households=args.households, kind=kind, progress=args.progress
    )
    baselines = compare_with_baselines(inputs.model, sites, plan, progress=args.progress)
    summary = {
        **_base_summary(inputs, args),
        "households": args.households,
        "household": {"places": kind.places, "categories": args.categories},
        "candidate_sites": len(sites),
        "gap_before": plan.gap_before,
        "gap_after": plan.gap_after,
        "children_brought_within_20_miles": plan.total_gain,
        "suggested": int(len(plan.suggestions)),
        "comparison": {
            "greedy": baselines.greedy,
            "random_sites_mean": round(baselines.random_mean, 2),
            "random_draws": len(baselines.random_draws),
            "biggest_district": baselines.biggest_district,
            "biggest_district_code": baselines.biggest_district_code,
        },
    }
    write_outputs(
        args.out,
        {
            "recruitment_suggestions.csv": csv_bytes(plan.suggestions),
            "recruitment_summary.json": json_bytes(summary),
        },
    )
    short = (
        f" (only {len(plan.suggestions)} help: no further child can be reached)"
        if len(plan.suggestions) < args.households
        else ""
    )
    print(
        f"{args.households} household(s) of {kind.label}: {plan.total_gain} more children "
        f"within 20 miles of a suitable place (gap {plan.gap_before} -> {plan.gap_after}){short}; "
        f"random sites {baselines.random_mean:.1f}, biggest district "
        f"{baselines.biggest_district}. Written to {args.out}"
    )
    return 0
